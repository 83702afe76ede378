/* privilege: becoming an unprivileged user named by the environment.
 *
 * A pair of variables names the user by number, e.g. VMAIL_UID and
 * VMAIL_GID (the mail user), VMAIL_SMTPD_UID and VMAIL_SMTPD_GID (the user
 * an SMTP session parses as) or VMAIL_LOGIN_UID and VMAIL_LOGIN_GID (the
 * user a login program speaks to the network as before anyone has logged
 * in). Uid 0 is never accepted: the point is to stop being root.
 * A privilege drop never fails open: started as root, a program that needs
 * a pair and finds it unset gets an error, never "nothing to do"; started
 * as another user, there is nothing to drop and everything runs as that
 * user. Functions return 1 done, 0 nothing to do (not root), -1 error with
 * errno set (ENOENT: the pair is unset, or the fallback account does not
 * exist; EINVAL: malformed, one without the other, or uid 0), and then
 * privilege_error() says which variables and why. */
#ifndef VMAIL_PRIVILEGE_H
#define VMAIL_PRIVILEGE_H

#include <sys/types.h>

/* Reads the pair: 1 both set and valid, 0 neither set, -1 EINVAL. */
int privilege_ids(char const *uidvar, char const *gidvar, uid_t *uid, gid_t *gid);

/* As root: the pair's ids (1), or when it is unset those of the account
 * named fallback (0: none, and the unset pair is an error). Not root: 0. */
int privilege_need(char const *uidvar, char const *gidvar, char const *fallback, uid_t *uid, gid_t *gid);

/* Becomes uid/gid with no supplementary groups (these only when root). */
int privilege_become(uid_t uid, gid_t gid);

/* As root: privilege_need without fallback, then privilege_become. Not
 * root: 0, nothing to do. */
int privilege_drop(char const *uidvar, char const *gidvar);

/* After a -1: a sentence naming the variables, for a fatal message. */
char const *privilege_error(void);

/* Records "unable to WHAT: strerror(e)" as the error (for modules that
 * fail on the way to a drop, like privsep) and returns -1 with errno e. */
int privilege_fail(char const *what, int e);

/* After a -1: the exit code to die with, 100 when the pair was unset (the
 * program refuses to start), 111 otherwise. */
int privilege_exitcode(void);

#endif
