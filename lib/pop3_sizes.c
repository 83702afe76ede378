/* pop3_sizes.c: the POP3 size cache file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/types.h>

#include "pop3_sizes.h"

#define POP3_SIZES_DIGITS 18   /* below 2^63: no overflow check needed */

static size_t scan_u64(char const *s, size_t len, uint64_t *u)
{
  uint64_t v = 0;
  size_t i = 0;
  while (i < len && i < POP3_SIZES_DIGITS && s[i] >= '0' && s[i] <= '9')
  { v = v * 10 + (uint64_t)(s[i] - '0'); i++; }
  *u = v;
  return i;
}

static int base_cmp(char const *a, size_t al, char const *b, size_t bl)
{
  int c = memcmp(a, b, al < bl ? al : bl);
  return c ? c : al < bl ? -1 : al > bl;
}

int pop3_sizes_parse(char const *text, size_t len, pop3_sizes *c)
{
  size_t pos = 0;
  c->names.len = 0;
  genalloc_setlen(pop3_size_entry, &c->entries, 0);
  /* each turn consumes one line */
  while (pos < len)
  {
    char const *line = text + pos, *nl = memchr(line, '\n', len - pos);
    size_t n, i, k;
    pop3_size_entry e;
    if (!nl) return 0;   /* a cut-off last line: the file was not written whole */
    n = (size_t)(nl - line);
    pos += n + 1;
    for (i = 0; i < n && line[i] != ' '; i++)
      if (line[i] == ':' || line[i] == '/' || !line[i]) return 0;
    if (!i || i > POP3_SIZES_BASE_MAX || i == n) return 0;
    e.base = c->names.len;
    e.baselen = i;
    i++;
    k = scan_u64(line + i, n - i, &e.stored);
    if (!k || i + k >= n || line[i + k] != ' ') return 0;
    i += k + 1;
    k = scan_u64(line + i, n - i, &e.sent);
    if (!k || i + k != n) return 0;
    {
      size_t count = genalloc_len(pop3_size_entry, &c->entries);
      if (count)
      {
        pop3_size_entry const *last = genalloc_s(pop3_size_entry, &c->entries) + count - 1;
        if (base_cmp(c->names.s + last->base, last->baselen, line, e.baselen) >= 0) return 0;
      }
    }
    if (!stralloc_catb(&c->names, line, e.baselen) || !stralloc_0(&c->names)
        || !genalloc_append(pop3_size_entry, &c->entries, &e)) return 0;
  }
  return 1;
}

int pop3_sizes_read(char const *dir, pop3_sizes *c)
{
  stralloc path = STRALLOC_ZERO, text = STRALLOC_ZERO;
  struct stat st;
  int fd, r = -1, e;
  size_t n = 0, want;
  if (!stralloc_cats(&path, dir) || !stralloc_cats(&path, "/" POP3_SIZES_NAME) || !stralloc_0(&path))
  { stralloc_free(&path); return -1; }
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&path);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  if (fstat(fd, &st) < 0) goto end;
  if ((unsigned long)st.st_size > POP3_SIZES_FILE_MAX) { errno = EFBIG; goto end; }
  want = (size_t)st.st_size;
  if (!stralloc_ready(&text, want + 1)) goto end;
  while (n < want)
  {
    ssize_t got = read(fd, text.s + n, want - n);
    if (got < 0) { if (errno == EINTR) continue; goto end; }
    if (!got) break;
    n += (size_t)got;
  }
  r = pop3_sizes_parse(text.s, n, c) ? 1 : -1;
  if (r < 0) errno = EPROTO;
 end:
  e = errno;
  close(fd);
  stralloc_free(&text);
  errno = e;
  return r;
}

int pop3_sizes_find(pop3_sizes const *c, char const *base, size_t len, uint64_t stored, uint64_t *sent)
{
  pop3_size_entry const *e = genalloc_s(pop3_size_entry, &c->entries);
  size_t lo = 0, hi = genalloc_len(pop3_size_entry, &c->entries);
  while (lo < hi)
  {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = base_cmp(c->names.s + e[mid].base, e[mid].baselen, base, len);
    if (!cmp)
    {
      if (e[mid].stored != stored) return 0;
      *sent = e[mid].sent;
      return 1;
    }
    if (cmp < 0) lo = mid + 1; else hi = mid;
  }
  return 0;
}

int pop3_sizes_line(stralloc *text, char const *base, size_t len, uint64_t stored, uint64_t sent)
{
  char num[UINT64_FMT];
  if (!stralloc_catb(text, base, len) || !stralloc_catb(text, " ", 1)) return 0;
  if (!stralloc_catb(text, num, uint64_fmt(num, stored)) || !stralloc_catb(text, " ", 1)) return 0;
  return stralloc_catb(text, num, uint64_fmt(num, sent)) && stralloc_catb(text, "\n", 1);
}

int pop3_sizes_write(char const *dir, char const *text, size_t len)
{
  stralloc tmp = STRALLOC_ZERO, path = STRALLOC_ZERO;
  char pid[UINT64_FMT];
  int fd, r = -1, e;
  size_t w = 0;
  pid[uint64_fmt(pid, (uint64_t)getpid())] = 0;
  if (!stralloc_cats(&path, dir) || !stralloc_cats(&path, "/" POP3_SIZES_NAME) || !stralloc_0(&path)
      || !stralloc_catb(&tmp, path.s, path.len - 1) || !stralloc_cats(&tmp, ".tmp.")
      || !stralloc_cats(&tmp, pid) || !stralloc_0(&tmp)) goto end;
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) goto end;
  while (w < len)
  {
    ssize_t n = write(fd, text + w, len - w);
    if (n < 0) { if (errno == EINTR) continue; break; }
    w += (size_t)n;
  }
  /* no fsync: a cache lost in a crash is rebuilt; a cut one fails to parse */
  if (close(fd) < 0 || w < len || rename(tmp.s, path.s) < 0) { e = errno; unlink(tmp.s); errno = e; goto end; }
  r = 1;
 end:
  e = errno;
  stralloc_free(&tmp);
  stralloc_free(&path);
  errno = e;
  return r;
}

void pop3_sizes_free(pop3_sizes *c)
{
  stralloc_free(&c->names);
  genalloc_free(pop3_size_entry, &c->entries);
}
