/* vmail-tlsd: what the program's files share.
 *   main.c    settings, privileges, and the fork: the program the
 *             connection is for on one side, the TLS engine on the other
 *   keys.c    the certificate and key files into a libtls server context
 *   engine.c  the handshake, and the relay between the client and prog
 * Only this program links libtls: no protocol server holds a TLS library,
 * a private key, or the TLS state of its connection. */
#ifndef VMAIL_TLSD_H
#define VMAIL_TLSD_H

#include <skalibs/stralloc.h>

struct tls;

/* keys.c: a server context with VMAIL_TLS_CERT / VMAIL_TLS_KEY as the
 * default pair and one pair per VMAIL_TLS_DIR/<name>/{cert,key} for SNI,
 * read now, as the user we started as. 0 when the default pair cannot be
 * used (missing, unreadable, expired, key not matching): the reason is
 * logged. A broken SNI pair is logged and left out. Dies 100 when
 * VMAIL_TLS_CERT or VMAIL_TLS_KEY is unset, 111 when out of memory. */
struct tls *keys_server(void);

/* engine.c. Logs name the client by TCPREMOTEIP. */
/* The server's handshake with the client on fd 0 / fd 1, at most timeout
 * seconds: 1 done, 0 failed (logged, one line). */
int engine_handshake(struct tls *server, struct tls **conn, unsigned timeout);
/* The connection's details in the UCSPI-TLS form (ucspitls.h). */
int engine_details(struct tls *conn, stralloc *sa);
/* Relays: what the client sends, decrypted, to appw; what appr brings,
 * encrypted, to the client; until either side ends or nothing has passed
 * for idle seconds. Exits 0. */
void engine_relay(struct tls *conn, int appr, int appw, unsigned idle) __attribute__((noreturn));

#endif
