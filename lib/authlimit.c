/* authlimit: see authlimit.h. The file: AUTHLIMIT_SLOTS struct slot from
 * offset 0 (host byte order: it never leaves the host); past them, one byte
 * per address index (addrkey_index) that is never written, only locked:
 * the address's lock. A file shorter than the table reads as empty slots. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "authlimit.h"

struct slot
{
  unsigned char key[ADDRKEY_LEN];
  uint64_t tat;   /* ms since the epoch when the address's debt is paid; 0 free */
};

#define TABLE_BYTES ((off_t)(AUTHLIMIT_SLOTS * sizeof(struct slot)))

static uint64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int lock(int fd, short type, off_t start, off_t len)
{
  struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
  while (fcntl(fd, F_SETLKW, &fl) < 0) if (errno != EINTR) return 0;
  return 1;
}

/* The first of the address's AUTHLIMIT_PROBE slots. */
static off_t first_slot(struct authlimit const *a)
{
  uint64_t h = addrkey_index(a->key) * 0x9e3779b97f4a7c15u;   /* spread neighbours */
  return (off_t)((h >> 20) % (AUTHLIMIT_SLOTS - AUTHLIMIT_PROBE + 1)) * (off_t)sizeof(struct slot);
}

/* Reads the address's slots into w, locked (type) until unlock_slots. */
static int read_slots(struct authlimit *a, short type, struct slot w[AUTHLIMIT_PROBE])
{
  ssize_t r;
  if (!lock(a->fd, type, first_slot(a), sizeof(struct slot) * AUTHLIMIT_PROBE)) return 0;
  memset(w, 0, sizeof(struct slot) * AUTHLIMIT_PROBE);
  do r = pread(a->fd, w, sizeof(struct slot) * AUTHLIMIT_PROBE, first_slot(a));
  while (r < 0 && errno == EINTR);
  if (r < 0) { int e = errno; lock(a->fd, F_UNLCK, first_slot(a), sizeof(struct slot) * AUTHLIMIT_PROBE); errno = e; return 0; }
  return 1;
}

static void unlock_slots(struct authlimit *a)
{
  lock(a->fd, F_UNLCK, first_slot(a), sizeof(struct slot) * AUTHLIMIT_PROBE);
}

/* The address's slot in w, or -1. */
static int find(struct authlimit const *a, struct slot const w[AUTHLIMIT_PROBE])
{
  for (int i = 0; i < AUTHLIMIT_PROBE; i++)
    if (w[i].tat && !memcmp(w[i].key, a->key, ADDRKEY_LEN)) return i;
  return -1;
}

/* The time the address's debt is paid, as of now (a clock that went back
 * forgets debts from its future). */
static uint64_t due(struct authlimit const *a, struct slot const *s, uint64_t now)
{
  return s->tat > now + a->window ? now : s->tat;
}

int authlimit_start(struct authlimit *a, char const *dir, char const *ip, unsigned failures, unsigned window_seconds)
{
  stralloc path = STRALLOC_ZERO;
  a->fd = -1;
  if (!failures || !window_seconds || !ip || !addrkey_parse(ip, a->key)) return 1;
  a->window = (uint64_t)window_seconds * 1000;
  a->interval = a->window / failures;
  if (!a->interval) a->interval = 1;
  if (mkdir(dir, 0700) < 0 && errno != EEXIST) return 0;
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" AUTHLIMIT_FILE) || !stralloc_0(&path)) return 0;
  a->fd = open(path.s, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  stralloc_free(&path);
  if (a->fd < 0) return 0;
  if (!lock(a->fd, F_WRLCK, TABLE_BYTES + (off_t)addrkey_index(a->key), 1))
  {
    int e = errno;
    close(a->fd);
    a->fd = -1;
    errno = e;
    return 0;
  }
  return 1;
}

int authlimit_blocked(struct authlimit *a)
{
  struct slot w[AUTHLIMIT_PROBE];
  uint64_t now = now_ms();
  int i;
  if (a->fd < 0) return 0;
  if (!read_slots(a, F_RDLCK, w)) return -1;
  unlock_slots(a);
  i = find(a, w);
  /* one more failure would put the debt past the window */
  return i >= 0 && due(a, &w[i], now) + a->interval > now + a->window;
}

int authlimit_fail(struct authlimit *a)
{
  struct slot w[AUTHLIMIT_PROBE];
  uint64_t now = now_ms(), tat;
  int i;
  ssize_t r;
  if (a->fd < 0) return 1;
  if (!read_slots(a, F_WRLCK, w)) return 0;
  i = find(a, w);
  if (i < 0)
  {
    i = 0;   /* a free slot, else the one with the least debt */
    for (int k = 1; k < AUTHLIMIT_PROBE; k++) if (w[k].tat < w[i].tat) i = k;
    memcpy(w[i].key, a->key, ADDRKEY_LEN);
    w[i].tat = 0;
  }
  tat = due(a, &w[i], now);
  if (tat < now) tat = now;
  tat += a->interval;
  if (tat > now + a->window) tat = now + a->window;
  w[i].tat = tat;
  do r = pwrite(a->fd, &w[i], sizeof w[i], first_slot(a) + i * (off_t)sizeof(struct slot));
  while (r < 0 && errno == EINTR);
  unlock_slots(a);
  if (r >= 0 && (size_t)r < sizeof w[i]) errno = EIO;
  return r == (ssize_t)sizeof w[i];
}

void authlimit_end(struct authlimit *a)
{
  if (a->fd < 0) return;
  close(a->fd);   /* and with it every lock this process held */
  a->fd = -1;
}
