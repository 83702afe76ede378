/* privilege: becoming an unprivileged user named by the environment.
 *
 * A pair of variables names the user by number, e.g. VMAIL_UID and
 * VMAIL_GID (the mail user) or VMAIL_LOGIN_UID and VMAIL_LOGIN_GID (the
 * user a login program speaks to the network as before anyone has logged
 * in). Uid 0 is never accepted: the point is to stop being root.
 * Functions return 1 done, 0 nothing to do, -1 error with errno set
 * (EINVAL: the variables are malformed, one without the other, or uid 0). */
#ifndef VMAIL_PRIVILEGE_H
#define VMAIL_PRIVILEGE_H

#include <sys/types.h>

/* Reads the pair: 1 both set and valid, 0 neither set, -1 EINVAL. */
int privilege_ids(char const *uidvar, char const *gidvar, uid_t *uid, gid_t *gid);

/* Becomes uid/gid with no supplementary groups (these only when root). */
int privilege_become(uid_t uid, gid_t gid);

/* privilege_ids then privilege_become, when the pair is set. */
int privilege_drop(char const *uidvar, char const *gidvar);

#endif
