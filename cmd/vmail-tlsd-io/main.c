/* vmail-tlsd-io: vmail-tlsd's TLS engine once TLS is wanted. vmail-tlsd
 * reads the certificate and key pairs as root, drops to VMAIL_TLS_UID and
 * execs this with them in a descriptor: it builds the libtls server, does
 * the handshake on fd 0/1, reports the details (UCSPI-TLS) and relays
 * between the client and prog. Not for running by hand; see
 * vmail-tlsd-io(8). */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <tls.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "tlsio.h"

#define USAGE "vmail-tlsd-io handshake-seconds idle-seconds keysfd appr appw [ detailsfd ]"
#define TLSIO_KEYS_MAX 67108864   /* bytes of pairs read: vmail-tlsd sends at most 257 of 1 MB each */

static unsigned number(char const *s)
{
  unsigned u;
  if (!*s || s[uint_scan(s, &u)]) strerr_dieusage(100, USAGE);
  return u;
}

/* keys: "certfile\0cert\0key\0" per pair, the default first. */
static struct tls *server_context(stralloc *keys)
{
  struct tls_config *cfg = tls_config_new();
  struct tls *server;
  char const *first = 0;
  size_t pos = 0;
  if (!cfg) strerr_diefu1sys(111, "allocate a TLS configuration");
  /* TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1); the library's
     "secure" cipher list, our order; libtls allows no renegotiation */
  if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) < 0
      || tls_config_set_ciphers(cfg, "secure") < 0)
    strerr_diefu2x(111, "configure TLS: ", tls_config_error(cfg));
  tls_config_prefer_ciphers_server(cfg);
  while (pos < keys->len)
  {
    char const *file = keys->s + pos, *cert, *key;
    size_t clen, klen;
    cert = file + strlen(file) + 1;
    if (cert >= keys->s + keys->len) strerr_dief1x(100, "malformed pairs from vmail-tlsd");
    clen = strlen(cert);
    key = cert + clen + 1;
    if (key >= keys->s + keys->len) strerr_dief1x(100, "malformed pairs from vmail-tlsd");
    klen = strlen(key);
    pos = (size_t)(key - keys->s) + klen + 1;
    if ((first ? tls_config_add_keypair_mem(cfg, (uint8_t const *)cert, clen, (uint8_t const *)key, klen)
               : tls_config_set_keypair_mem(cfg, (uint8_t const *)cert, clen, (uint8_t const *)key, klen)) < 0)
      strerr_warnw4x("unable to use certificate ", file, ": ", tls_config_error(cfg));
    if (!first) first = file;
  }
  if (!first) strerr_dief1x(100, "no pairs from vmail-tlsd");
  server = tls_server();
  if (!server) strerr_diefu1sys(111, "allocate a TLS context");
  if (tls_configure(server, cfg) < 0)
  {
    strerr_warnw4x("unable to use certificate ", first, ": ", tls_error(server));
    _exit(111);
  }
  tls_config_clear_keys(cfg);
  tls_config_free(cfg);
  return server;
}

int main(int argc, char const *const *argv)
{
  stralloc keys = STRALLOC_ZERO, details = STRALLOC_ZERO;
  unsigned handshake, idle;
  int keysfd, appr, appw, detailsfd = -1;
  struct tls *server, *conn;
  PROG = "vmail-tlsd-io";
  if (argc < 6 || argc > 7) strerr_dieusage(100, USAGE);
  handshake = number(argv[1]);
  idle = number(argv[2]);
  keysfd = (int)number(argv[3]);
  appr = (int)number(argv[4]);
  appw = (int)number(argv[5]);
  if (argc == 7) detailsfd = (int)number(argv[6]);
  /* it reads the network: never as root (vmail-tlsd starts it as VMAIL_TLS_UID) */
  if (geteuid() == 0) strerr_dief1x(100, "refusing to run as root: vmail-tlsd starts it as VMAIL_TLS_UID");
  prctl(PR_SET_DUMPABLE, 0);   /* no core file, no ptrace by its own uid: it holds the key */
  signal(SIGPIPE, SIG_IGN);    /* a peer gone is a write error, not a silent death */
  if (tls_init() < 0) strerr_diefu1x(111, "initialize libtls");
  if (!slurp(&keys, keysfd) || keys.len > TLSIO_KEYS_MAX) strerr_diefu1sys(111, "read the pairs from vmail-tlsd");
  close(keysfd);
  server = server_context(&keys);
  explicit_bzero(keys.s, keys.a);
  stralloc_free(&keys);
  if (!engine_handshake(server, &conn, handshake)) _exit(0);
  if (detailsfd >= 0)
  {
    if (!engine_details(conn, &details) || allwrite(detailsfd, details.s, details.len) != details.len) _exit(111);
    close(detailsfd);
  }
  engine_relay(conn, appr, appw, idle);
}
