/* keys.c: certificates and keys into a libtls server context; see tlsd.h.
 * Files are read for every connection (tcpserver starts one vmail-tlsd per
 * connection), so a renewed certificate is served from the next connection
 * on with no reload. Validity dates are checked here, with libcrypto, so
 * an expired certificate gives a clear log line instead of a handshake
 * that every client refuses. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tls.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "tlsd.h"

#define TLSD_SNI_MAX  256   /* names read from VMAIL_TLS_DIR */
#define TLSD_NAME_MAX 253   /* RFC 1035 2.3.4: a domain name */

/* Why the first certificate of pem cannot be served now, or 0. */
static char const *cert_problem(uint8_t const *pem, size_t len)
{
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  X509 *x = b ? PEM_read_bio_X509(b, 0, 0, 0) : 0;
  char const *why = 0;
  if (!x) why = "no PEM certificate in it";
  else if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) why = "the certificate has expired";
  else if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) why = "the certificate is not valid yet";
  X509_free(x);
  BIO_free(b);
  return why;
}

/* Reads one pair into cfg (the default when first): 1 ok, 0 logged. */
static int pair_load(struct tls_config *cfg, char const *certfile, char const *keyfile, int first)
{
  size_t clen = 0, klen = 0;
  uint8_t *cert = tls_load_file(certfile, &clen, 0);
  uint8_t *key = cert ? tls_load_file(keyfile, &klen, 0) : 0;
  char const *why = 0;
  int ok;
  if (!cert) { strerr_warnwu2sys("read certificate ", certfile); return 0; }
  if (!key) { strerr_warnwu2sys("read key ", keyfile); tls_unload_file(cert, clen); return 0; }
  why = cert_problem(cert, clen);
  if (why) ok = 0;
  else ok = (first ? tls_config_set_keypair_mem(cfg, cert, clen, key, klen)
                   : tls_config_add_keypair_mem(cfg, cert, clen, key, klen)) == 0;
  if (!ok && !why) why = tls_config_error(cfg);
  if (why) strerr_warnw4x("unable to use certificate ", certfile, ": ", why);
  tls_unload_file(key, klen);   /* wipes it */
  tls_unload_file(cert, clen);
  return ok;
}

static int name_ok(char const *s)
{
  size_t n = strlen(s);
  if (!n || n > TLSD_NAME_MAX || s[0] == '.' || s[0] == '-') return 0;
  for (size_t i = 0; i < n; i++)
  {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
      return 0;
  }
  return 1;
}

/* The SNI pairs: libtls serves the one whose certificate names the server
 * name the client asked for, and the default pair otherwise. */
static void sni_load(struct tls_config *cfg, char const *dir)
{
  stralloc c = STRALLOC_ZERO, k = STRALLOC_ZERO;
  DIR *d = opendir(dir);
  struct dirent *e;
  unsigned n = 0;
  if (!d) { strerr_warnwu2sys("open VMAIL_TLS_DIR ", dir); return; }
  while ((e = readdir(d)) && n < TLSD_SNI_MAX)
  {
    if (!name_ok(e->d_name)) continue;
    c.len = k.len = 0;
    if (!stralloc_cats(&c, dir) || !stralloc_cats(&c, "/") || !stralloc_cats(&c, e->d_name)
        || !stralloc_copy(&k, &c) || !stralloc_cats(&c, "/cert") || !stralloc_0(&c)
        || !stralloc_cats(&k, "/key") || !stralloc_0(&k))
      strerr_diefu1sys(111, "allocate");
    n++;
    pair_load(cfg, c.s, k.s, 0);
  }
  closedir(d);
  stralloc_free(&c);
  stralloc_free(&k);
}

struct tls *keys_server(void)
{
  char const *cert = getenv("VMAIL_TLS_CERT"), *key = getenv("VMAIL_TLS_KEY"), *dir = getenv("VMAIL_TLS_DIR");
  struct tls_config *cfg;
  struct tls *server = 0;
  if (!cert || !*cert) strerr_dief1x(100, "VMAIL_TLS_CERT is unset: no certificate to serve");
  if (!key || !*key) strerr_dief1x(100, "VMAIL_TLS_KEY is unset: no key for the certificate");
  cfg = tls_config_new();
  if (!cfg) strerr_diefu1sys(111, "allocate a TLS configuration");
  /* TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1); the library's
     "secure" cipher list, our order */
  if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) < 0
      || tls_config_set_ciphers(cfg, "secure") < 0)
    strerr_diefu2x(111, "configure TLS: ", tls_config_error(cfg));
  tls_config_prefer_ciphers_server(cfg);
  if (pair_load(cfg, cert, key, 1))
  {
    if (dir && *dir) sni_load(cfg, dir);
    server = tls_server();
    if (!server) strerr_diefu1sys(111, "allocate a TLS context");
    if (tls_configure(server, cfg) < 0)
    {
      strerr_warnw4x("unable to use certificate ", cert, ": ", tls_error(server));
      tls_free(server);
      server = 0;
    }
  }
  tls_config_clear_keys(cfg);
  tls_config_free(cfg);
  return server;
}
