/* dirsync.c: fsync and creation of directories. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/djbunix.h>

#include "dirsync.h"

int dir_fsync(char const *path)
{
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r, e;
  if (fd < 0) return -1;
  r = fsync(fd);
  e = errno;
  fd_close(fd);
  errno = e;
  return r;
}

int dir_make(char const *path)
{
  if (mkdir(path, 0700) == 0) return 1;
  return errno == EEXIST ? 0 : -1;
}
