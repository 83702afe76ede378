/* privsep: a network parser that is not root, beside a root partner that
 * does nothing but check passwords.
 *
 * A login program (or vmail-smtpd) calls privsep_start() before it reads a
 * byte from the client. Started as root, it forks. The child becomes the
 * user named by uidvar/gidvar (privilege.h), or when they are unset the
 * account named fallback (e.g. "nobody"), and returns, to speak the
 * protocol. The parent keeps root and serves the child: for each request
 * it calls check(user, password, tag) and sends back the answer, and it
 * exits when the child does, with the child's exit code; it never reads
 * the client. Started as another user, or as root with uidvar unset and
 * no fallback, privsep_start() does nothing and privsep_check() calls
 * check in place.
 *
 * A check function returns a checkpassword code: 0 the login happened (for
 * a login program: the server ran the session, so the child must exit at
 * once, saying nothing more), 1 bad login, CHECKPW_BLOCKED (checkpw.h: the
 * client's address failed too often), 111 temporary failure, -1 the
 * checker could not be started. Only these travel back to the child.
 * The child's request is not trusted: user and password only reach the
 * checkpassword program on fd 3; tag (an IMAP tag the server answers, or
 * empty) is refused unless it is short printable ASCII. */
#ifndef VMAIL_PRIVSEP_H
#define VMAIL_PRIVSEP_H

#define PRIVSEP_TAG_MAX 256

typedef int privsep_check_fn(char const *user, char const *password, char const *tag);

/* Returns 0 in the child, or when there is nothing to separate; -1 with
 * errno if it could not fork or become the user (EINVAL: malformed
 * variables, see privilege.h; ENOENT: no fallback account). The root
 * parent never returns. */
int privsep_start(privsep_check_fn *check, char const *uidvar, char const *gidvar, char const *fallback);

/* Asks for one login: check's code, or 111 if the partner is gone. */
int privsep_check(char const *user, char const *password, char const *tag);

#endif
