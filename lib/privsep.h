/* privsep: a network parser that is not root, beside a root partner that
 * does nothing but check passwords and start the queue's writer.
 *
 * A login program (or vmail-smtpd) calls privsep_start() before it reads a
 * byte from the client. Started as root, it forks. The child becomes the
 * user named by uidvar/gidvar (privilege.h), or when they are unset the
 * account named fallback (e.g. "nobody"), and returns, to speak the
 * protocol. With neither, privsep_start() fails (ENOENT): a parser never
 * stays root. The parent keeps root and serves the child: for each
 * request it calls check(user, password, tag) and sends back the answer,
 * and it exits when the child does, with the child's exit code; it never
 * reads the client. Started as another user, privsep_start() does nothing,
 * privsep_check() calls check in place and privsep_spawn() forks here.
 *
 * A check function returns a checkpassword code: 0 the login happened (for
 * a login program: the server ran the session, so the child must exit at
 * once, saying nothing more), 1 bad login, CHECKPW_BLOCKED (checkpw.h: the
 * client's address failed too often), 111 temporary failure, -1 the
 * checker could not be started. Only these travel back to the child.
 * The child's request is not trusted: user and password only reach the
 * checkpassword program on fd 3; tag (an IMAP tag the server answers, or
 * empty) is refused unless it is short printable ASCII.
 *
 * The partner's second service (vmail-smtpd's queue, README design notes):
 * privsep_spawn() has it fork a child that runs the function given to
 * privsep_spawner(), with fd 0 and fd 1 the read ends of two new pipes
 * whose write ends come back to the caller (SCM_RIGHTS). As root the
 * function runs as root and must drop privileges itself: so the parser
 * feeds the program that writes the queue without being able to open the
 * queue. privsep_reap() has the partner wait for that child and kill its
 * process group if it outlives a timeout. One spawned child at a time; the
 * partner kills it if the parser exits first. A partner with a spawner
 * keeps serving after a successful check (SMTP AUTH, then mail). */
#ifndef VMAIL_PRIVSEP_H
#define VMAIL_PRIVSEP_H

#include <sys/types.h>

#define PRIVSEP_TAG_MAX 256
#define PRIVSEP_REAP_KILLED (-2)   /* privsep_reap: killed after the timeout */

typedef int privsep_check_fn(char const *user, char const *password, char const *tag);
/* runs in the spawned child; returns its exit code */
typedef int privsep_spawn_fn(void);

/* Returns 0 in the child, or when there is nothing to separate; -1 with
 * errno if it could not fork or become the user (ENOENT: the variables are
 * unset and there is no fallback account, EINVAL: malformed variables);
 * then privilege_error() and privilege_exitcode() say what and how to die. The root parent
 * never returns. check may be 0 if nothing is ever checked. */
int privsep_start(privsep_check_fn *check, char const *uidvar, char const *gidvar, char const *fallback);

/* A login program's privsep_start: as root, VMAIL_UID/VMAIL_GID must be
 * set (vmail-checkpw becomes them after a login, so without them every
 * login would fail: better refuse to start), and the parser runs as
 * VMAIL_LOGIN_UID/VMAIL_LOGIN_GID, else the account PRIVSEP_LOGIN_USER. */
#define PRIVSEP_LOGIN_USER "nobody"
int privsep_login(privsep_check_fn *check);

/* Asks for one login: check's code, or 111 if the partner is gone. */
int privsep_check(char const *user, char const *password, char const *tag);

/* Before privsep_start: what a spawned child runs. */
void privsep_spawner(privsep_spawn_fn *spawn);

/* Starts the child: 1 and w[0] (its fd 0), w[1] (its fd 1), both
 * close-on-exec, and its pid; 0 if it could not be started. */
int privsep_spawn(int w[2], pid_t *pid);

/* Waits for the child (killed first if kill_first, else after timeout
 * seconds): its exit code, PRIVSEP_REAP_KILLED, or -1 (it died of a signal,
 * or there was none, or the partner is gone). */
int privsep_reap(unsigned int timeout, int kill_first);

#endif
