/* connlimit: see connlimit.h. */
#include <errno.h>
#include <fcntl.h>
#include "addrkey.h"
#include "connlimit.h"

int connlimit_take(int fd, char const *ip, unsigned max)
{
  unsigned char key[ADDRKEY_LEN];
  off_t base;
  if (!max || max > CONNLIMIT_MAX || !addrkey_parse(ip, key)) { errno = EINVAL; return -1; }
  base = (off_t)addrkey_index(key) * CONNLIMIT_MAX;
  for (unsigned i = 0; i < max; i++)
  {
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = base + i, .l_len = 1 };
    int r;
    do r = fcntl(fd, F_SETLK, &fl); while (r < 0 && errno == EINTR);
    if (!r) return 1;
    if (errno != EAGAIN && errno != EACCES) return -1;
  }
  return 0;
}
