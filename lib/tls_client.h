/* tls_client: the client side of TLS for an SMTP session after STARTTLS
 * (RFC 3207), over libtls.
 *
 * Opportunistic by default, as RFC 7435 describes for SMTP between MTAs: the
 * session is encrypted but the server's certificate is not checked, since
 * without DANE or MTA-STS nothing says which name it should carry. With
 * verify set, the certificate must chain to a trusted CA (the system's, plus
 * the file VMAIL_TLS_CA names if set) and carry servername. The handshake
 * runs on a non-blocking socket, bounded by a deadline. Nothing exits;
 * errors are described in err. */
#ifndef VMAIL_TLS_CLIENT_H
#define VMAIL_TLS_CLIENT_H

#include <stddef.h>

struct tls;

/* Runs the handshake on the connected, non-blocking socket fd. Returns the
 * session (for tls_read / tls_write / tls_client_close), or 0 with the reason
 * in err (errlen bytes, NUL-terminated). deadline_ms: milliseconds from now. */
struct tls *tls_client_start(int fd, char const *servername, int verify, int deadline_ms,
                             char *err, size_t errlen);

/* Waits (poll) until fd is ready for what a TLS_WANT_POLLIN/POLLOUT return
 * asks, at most ms milliseconds: 1 ready, 0 timed out, -1 error. */
int tls_client_wait(int fd, int want, int ms);

/* "TLSv1.3:CIPHER" of an established session, for the log. */
char const *tls_client_describe(struct tls *t, char *buf, size_t len);

/* Ends the session (close_notify, bounded) and frees it; fd stays open. */
void tls_client_close(struct tls *t);

#endif
