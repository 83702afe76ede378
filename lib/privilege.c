/* privilege: see privilege.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/types.h>
#include "privilege.h"

#define ERROR_MAX 256

static char error[ERROR_MAX];
static int unset;   /* the last error was an unset pair */

/* Fills error for the pair and returns -1 with errno e. */
static int failed(char const *uidvar, char const *gidvar, char const *fallback, int e)
{
  unset = e == ENOENT;
  if (!unset)
    snprintf(error, sizeof error, "unable to become %s/%s (numbers, both, not 0): %s", uidvar, gidvar, strerror(e));
  else if (fallback)
    snprintf(error, sizeof error, "%s and %s are unset and there is no account %s: refusing to run as root",
             uidvar, gidvar, fallback);
  else
    snprintf(error, sizeof error, "%s and %s are unset: refusing to run as root", uidvar, gidvar);
  errno = e;
  return -1;
}

int privilege_fail(char const *what, int e)
{
  unset = 0;
  snprintf(error, sizeof error, "unable to %s: %s", what, strerror(e));
  errno = e;
  return -1;
}

char const *privilege_error(void) { return error; }

int privilege_exitcode(void) { return unset ? 100 : 111; }

int privilege_ids(char const *uidvar, char const *gidvar, uid_t *uid, gid_t *gid)
{
  char const *u = getenv(uidvar), *g = getenv(gidvar);
  int hasu = u && *u, hasg = g && *g;
  if (!hasu && !hasg) return 0;
  if (!hasu || !hasg || uid0_scan(u, uid) != strlen(u) || gid0_scan(g, gid) != strlen(g) || !*uid)
    return failed(uidvar, gidvar, 0, EINVAL);
  return 1;
}

int privilege_need(char const *uidvar, char const *gidvar, char const *fallback, uid_t *uid, gid_t *gid)
{
  struct passwd *pw;
  int r;
  if (geteuid()) return 0;
  r = privilege_ids(uidvar, gidvar, uid, gid);
  if (r) return r;
  if (!fallback) return failed(uidvar, gidvar, 0, ENOENT);
  errno = 0;
  pw = getpwnam(fallback);
  if (!pw) return failed(uidvar, gidvar, fallback, errno ? errno : ENOENT);
  if (!pw->pw_uid) return failed(uidvar, gidvar, 0, EINVAL);
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
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
  int r = privilege_need(uidvar, gidvar, 0, &uid, &gid);
  if (r <= 0) return r;
  if (privilege_become(uid, gid) < 0) return failed(uidvar, gidvar, 0, errno == ENOENT ? EPERM : errno);
  return 1;
}
