/* tls_client: STARTTLS's client side over libtls (see tls_client.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tls.h>

#include "tls_client.h"

#define TLS_CA_MAX (4 * 1024 * 1024)   /* bytes of CA certificates we load */

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tls_client_wait(int fd, int want, int ms)
{
  struct pollfd p = { .fd = fd, .events = want == TLS_WANT_POLLOUT ? POLLOUT : POLLIN };
  int r;
  if (ms < 0) ms = 0;
  do r = poll(&p, 1, ms); while (r < 0 && errno == EINTR);
  return r;
}

/* The system's CAs and VMAIL_TLS_CA's, one buffer; 0 ok, -1 (err). */
static int load_cas(struct tls_config *cfg, char *err, size_t errlen)
{
  char const *files[2] = { tls_default_ca_cert_file(), getenv("VMAIL_TLS_CA") };
  uint8_t *all = 0;
  size_t len = 0;
  int r;
  for (int i = 0; i < 2; i++)
  {
    size_t l;
    uint8_t *b, *n;
    if (!files[i] || !*files[i]) continue;
    b = tls_load_file(files[i], &l, 0);
    if (!b) { if (i == 0) continue; snprintf(err, errlen, "unable to read %s", files[i]); free(all); return -1; }
    n = len + l + 1 <= TLS_CA_MAX ? realloc(all, len + l + 1) : 0;
    if (!n) { tls_unload_file(b, l); snprintf(err, errlen, "too many CA certificates"); free(all); return -1; }
    all = n;
    memcpy(all + len, b, l);
    len += l;
    all[len++] = '\n';
    tls_unload_file(b, l);
  }
  if (!all) { snprintf(err, errlen, "no CA certificates to verify with"); return -1; }
  r = tls_config_set_ca_mem(cfg, all, len);
  free(all);
  if (r < 0) { snprintf(err, errlen, "CA certificates: %s", tls_config_error(cfg)); return -1; }
  return 0;
}

struct tls *tls_client_start(int fd, char const *servername, int verify, int deadline_ms,
                             char *err, size_t errlen)
{
  struct tls_config *cfg;
  struct tls *t;
  long long end = now_ms() + deadline_ms;
  if (tls_init() < 0 || !(cfg = tls_config_new())) { snprintf(err, errlen, "unable to set up TLS"); return 0; }
  /* TLS 1.2 and 1.3 (RFC 8996 retires older ones), the library's ciphers */
  tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3);
  if (verify) { if (load_cas(cfg, err, errlen) < 0) { tls_config_free(cfg); return 0; } }
  else { tls_config_insecure_noverifycert(cfg); tls_config_insecure_noverifyname(cfg); }
  t = tls_client();
  if (!t) { tls_config_free(cfg); snprintf(err, errlen, "unable to set up TLS"); return 0; }
  if (tls_configure(t, cfg) < 0 || tls_connect_socket(t, fd, servername) < 0)
  {
    snprintf(err, errlen, "TLS: %s", tls_error(t) ? tls_error(t) : "unable to configure");
    tls_free(t); tls_config_free(cfg);
    return 0;
  }
  tls_config_free(cfg);
  for (;;)   /* bounded by the deadline */
  {
    int r = tls_handshake(t);
    if (r == 0) return t;
    if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT)
    {
      snprintf(err, errlen, "TLS handshake failed: %s", tls_error(t) ? tls_error(t) : "unknown error");
      break;
    }
    if (tls_client_wait(fd, r, (int)(end - now_ms())) <= 0)
    {
      snprintf(err, errlen, "TLS handshake timed out");
      break;
    }
  }
  tls_free(t);
  return 0;
}

char const *tls_client_describe(struct tls *t, char *buf, size_t len)
{
  char const *v = tls_conn_version(t), *c = tls_conn_cipher(t);
  snprintf(buf, len, "%s:%s", v ? v : "TLS", c ? c : "?");
  return buf;
}

void tls_client_close(struct tls *t)
{
  /* one try at close_notify: a peer that does not read it loses nothing */
  tls_close(t);
  tls_free(t);
}
