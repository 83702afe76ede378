/* ucspitls: the UCSPI-TLS control protocol (ucspi-tls(2); what
 * s6-networking's s6-ucspitlsd, ucspi-ssl's sslserver -n and vmail-tlsd
 * speak), for both halves.
 *
 * A server run under such a program finds three descriptors named in its
 * environment: SSLCTLFD (control), SSLREADFD and SSLWRITEFD. Until it starts
 * TLS it talks to the client in the clear on fd 0 / fd 1. To start, it
 * writes one command byte on the control descriptor: 'y' (start) or 'Y'
 * (start, then report). The TLS program does the handshake, and for 'Y'
 * answers on the control descriptor with the connection's details, in the
 * form of environment strings "NAME=value\0" ending with one more "\0"
 * ("\0\0" when there are none). From then on the server reads SSLREADFD
 * and writes SSLWRITEFD. End of file on the control descriptor instead of
 * an answer: the handshake failed, the session is over.
 *
 * The details come from a less trusted process (the TLS engine reads the
 * network): only names SSL_[A-Z0-9_]+ with printable values are accepted,
 * so they can never set PATH or LD_PRELOAD in the server's environment.
 * vmail-tlsd sends SSL_PROTOCOL (e.g. TLSv1.3), SSL_CIPHER and, when the
 * client sent one, SSL_TLS_SNI; with -i it puts the same in the server's
 * environment. Functions return 1 ok, 0 error with errno set. */
#ifndef VMAIL_UCSPITLS_H
#define VMAIL_UCSPITLS_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#define UCSPITLS_INFO_MAX 2048   /* bytes of details read, end included */
#define UCSPITLS_VALUE_MAX 255   /* bytes of one value */

typedef struct ucspitls_s { int ctl, rfd, wfd; } ucspitls;

/* Server side. 1 if the environment offers TLS (the three variables hold
 * descriptor numbers; stored in t), 0 if not. */
int ucspitls_offered(ucspitls *t);

/* Sends 'Y' and waits up to timeout seconds for the details, which are put
 * in the environment (setenv) so that programs run later see them too.
 * 0: EPIPE (the engine is gone: the handshake failed), ETIMEDOUT, EPROTO. */
int ucspitls_start(ucspitls const *t, unsigned timeout);

/* After ucspitls_start, for a program that hands fd 0/1 to the server it
 * execs (the login programs): makes the TLS pipes fd 0 and fd 1, closes
 * the three descriptors and removes their variables, so that nothing run
 * later talks in the clear or starts TLS again. Also right in a process
 * that shares the descriptors but did not start TLS itself (a privsep.h
 * partner told so by its child). */
int ucspitls_use(ucspitls const *t);

/* Reads details from fd (blocking, or until the deadline when timeout is
 * not 0) and puts them in the environment: what ucspitls_start does after
 * its command byte. */
int ucspitls_read_details(int fd, unsigned timeout);

/* Checks s[0..len): 1 if it begins with complete, well-formed details (the
 * final "\0" included), their length in *used; 0 with errno EAGAIN when
 * more bytes may complete them, EPROTO when they cannot. */
int ucspitls_details_check(char const *s, size_t len, size_t *used);

/* TLS side: what a command byte asks. 2 start and report ('Y'), 1 start
 * ('y'), 0 not a command. */
int ucspitls_command(char c);

/* Appends "name=value\0" to sa for the details (value cut to
 * UCSPITLS_VALUE_MAX, unprintable bytes made '?'); ucspitls_details_end
 * appends the final "\0". */
int ucspitls_details_add(stralloc *sa, char const *name, char const *value);
int ucspitls_details_end(stralloc *sa);

#endif
