/* vmail-tlsd-io: what the program's files share.
 *   main.c    the pairs from vmail-tlsd, the server context, the sequence
 *   engine.c  the handshake, and the relay between the client and prog
 * Only this program links libtls: vmail-tlsd, which every connection of a
 * STARTTLS port starts, does not load a TLS library at all unless the
 * client asks for TLS; no protocol server holds a TLS library, a private
 * key, or the TLS state of its connection. */
#ifndef VMAIL_TLSIO_H
#define VMAIL_TLSIO_H

#include <skalibs/stralloc.h>

struct tls;

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
