/* envdir.c: vmailctl reads the services' envdir by itself, so that a bare
 * `vmailctl user add` on an installed server uses the same database
 * accounts as the services. The environment wins over the envdir: a
 * variable set on the command line or by a test is kept. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "vmailctl.h"

#define ENVDIR_VALUE_MAX 4096   /* bytes of one file read (its first line) */

static void set_from(char const *dir, char const *name)
{
  stralloc path = STRALLOC_ZERO, v = STRALLOC_ZERO;
  char buf[ENVDIR_VALUE_MAX];
  size_t n, len = 0;
  int fd;
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/") || !stralloc_cats(&path, name)
      || !stralloc_0(&path)) strerr_diefu1sys(CTL_TEMP, "allocate");
  fd = open_readb(path.s);
  if (fd < 0)
  {
    if (errno == EISDIR) { stralloc_free(&path); return; }
    strerr_diefu2sys(CTL_TEMP, "read ", path.s);
  }
  errno = 0;
  n = allread(fd, buf, sizeof buf);
  if (!n && errno == EISDIR) { fd_close(fd); stralloc_free(&path); return; }   /* not a variable */
  if (n < sizeof buf && errno && errno != EPIPE) strerr_diefu2sys(CTL_TEMP, "read ", path.s);
  fd_close(fd);
  while (len < n && buf[len] != '\n') len++;
  while (len && (buf[len-1] == ' ' || buf[len-1] == '\t')) len--;
  for (size_t i = 0; i < len; i++) if (!buf[i]) buf[i] = '\n';
  if (len)
  {
    if (!stralloc_catb(&v, buf, len) || !stralloc_0(&v)) strerr_diefu1sys(CTL_TEMP, "allocate");
    if (setenv(name, v.s, 0) < 0) strerr_diefu1sys(CTL_TEMP, "set the environment");
  }
  stralloc_free(&v);
  stralloc_free(&path);
}

void ctl_envdir(void)
{
  char const *dir = getenv("VMAIL_ENVDIR");
  int named = dir != 0;
  DIR *d;
  if (named && !*dir) return;
  if (!named) dir = CTL_ENVDIR_DEFAULT;
  d = opendir(dir);
  if (!d)
  {
    if (!named && errno == ENOENT) return;
    strerr_diefu2sys(CTL_TEMP, "open the envdir ", dir);
  }
  for (;;)
  {
    struct dirent *e;
    errno = 0;
    e = readdir(d);
    if (!e) { if (errno) strerr_diefu2sys(CTL_TEMP, "read ", dir); break; }
    if (e->d_name[0] == '.' || strchr(e->d_name, '=')) continue;
    if (getenv(e->d_name)) continue;
    set_from(dir, e->d_name);
  }
  closedir(d);
}
