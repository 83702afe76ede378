/* privilege: see privilege.h. */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/types.h>
#include "privilege.h"

int privilege_ids(char const *uidvar, char const *gidvar, uid_t *uid, gid_t *gid)
{
  char const *u = getenv(uidvar), *g = getenv(gidvar);
  int hasu = u && *u, hasg = g && *g;
  if (!hasu && !hasg) return 0;
  if (!hasu || !hasg || uid0_scan(u, uid) != strlen(u) || gid0_scan(g, gid) != strlen(g) || !*uid) { errno = EINVAL; return -1; }
  return 1;
}

int privilege_become(uid_t uid, gid_t gid)
{
  if (geteuid() == 0 && setgroups(1, &gid) < 0) return -1;
  if (setgid(gid) < 0 || setuid(uid) < 0) return -1;
  /* setuid from root to a user cannot be undone: check that it was not */
  if (uid && (setuid(0) == 0 || geteuid() == 0)) { errno = EPERM; return -1; }
  return 1;
}

int privilege_drop(char const *uidvar, char const *gidvar)
{
  uid_t uid; gid_t gid;
  int r = privilege_ids(uidvar, gidvar, &uid, &gid);
  return r <= 0 ? r : privilege_become(uid, gid);
}
