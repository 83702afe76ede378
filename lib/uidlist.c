/* uidlist: see uidlist.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "dovecot_uidlist.h"
#include "uidlist.h"

size_t uidlist_count(uidlist const *u) { return u->uids.len / sizeof(uint32_t); }

static size_t scan_u32(char const *s, size_t len, uint32_t *v)
{
  uint64_t x = 0;
  size_t i = 0;
  while (i < len && i < 10 && s[i] >= '0' && s[i] <= '9') x = x * 10 + (uint64_t)(s[i++] - '0');
  if (!i || x > UINT32_MAX) return 0;
  *v = (uint32_t)x;
  return i;
}

static int good_base(char const *s, size_t len)
{
  return len && len <= UIDLIST_BASE_MAX && !memchr(s, 0, len) && !memchr(s, '/', len)
    && !memchr(s, ':', len) && !memchr(s, '\n', len) && !memchr(s, ' ', len);
}

static int add_entry(uidlist *u, uint32_t uid, char const *base, size_t len)
{
  if (!stralloc_catb(&u->names, base, len) || !stralloc_0(&u->names)) return -1;
  if (!stralloc_catb(&u->uids, (char const *)&uid, sizeof uid)) return -1;
  return 1;
}

int uidlist_parse(char const *text, size_t len, uidlist *u)
{
  char const *nl = memchr(text, '\n', len);
  size_t pos, n, hlen;
  uint32_t last = 0;
  u->names.len = u->uids.len = 0;
  if (!nl) return 0;
  hlen = (size_t)(nl - text);
  if (hlen < 3 || memcmp(text, "V1 ", 3)) return 0;
  pos = 3;
  if (!(n = scan_u32(text + pos, hlen - pos, &u->uidvalidity))) return 0;
  pos += n;
  if (pos >= hlen || text[pos++] != ' ') return 0;
  if (!(n = scan_u32(text + pos, hlen - pos, &u->nextuid)) || pos + n != hlen) return 0;
  if (!u->uidvalidity || !u->nextuid) return 0;
  pos = hlen + 1;
  while (pos < len)
  {
    char const *end = memchr(text + pos, '\n', len - pos);
    size_t llen = end ? (size_t)(end - (text + pos)) : len - pos;
    char const *line = text + pos;
    uint32_t uid;
    int r;
    if (!(n = scan_u32(line, llen, &uid)) || n >= llen || line[n] != ' ') return 0;
    if (!uid || uid <= last || uid >= u->nextuid) return 0;
    if (!good_base(line + n + 1, llen - n - 1)) return 0;
    if ((r = add_entry(u, uid, line + n + 1, llen - n - 1)) <= 0) return r;
    last = uid;
    pos += llen + 1;
  }
  return 1;
}

static uint32_t fresh_uidvalidity(char const *dir);

static int import_dovecot(char const *dir, uidlist *u)
{
  dovecot_uidlist d = DOVECOT_UIDLIST_ZERO;
  size_t pos = 0, count;
  int r = dovecot_uidlist_read(dir, &d);
  /* a damaged dovecot-uidlist is no list: the folder starts over */
  if (r < 0 && errno == EPROTO) r = 0;
  if (r <= 0) { dovecot_uidlist_free(&d); return r; }
  count = d.uids.len / sizeof(uint32_t);
  u->uidvalidity = d.uidvalidity ? d.uidvalidity : fresh_uidvalidity(dir);
  u->nextuid = d.nextuid ? d.nextuid : 1;
  for (size_t i = 0; i < count; i++)
  {
    uint32_t uid;
    char const *name = d.names.s + pos;
    size_t len = strlen(name);
    memcpy(&uid, d.uids.s + i * sizeof uid, sizeof uid);
    pos += len + 1;
    if (!good_base(name, len)) continue;
    if (uid >= u->nextuid) u->nextuid = uid + 1;
    if (add_entry(u, uid, name, len) < 0) { dovecot_uidlist_free(&d); return -1; }
  }
  dovecot_uidlist_free(&d);
  return 1;
}

/* A fresh UIDVALIDITY for a folder of dir's Maildir: the time, but above
 * every one given before in that Maildir (RFC 3501 2.3.1.1: a folder
 * deleted and created again, even within the second, must not get its old
 * value). The last one given is kept in the Maildir's UIDLIST_VALIDITY_NAME,
 * beside the folders (a Maildir++ folder has a maildirfolder file). */
static uint32_t fresh_uidvalidity(char const *dir)
{
  stralloc path = STRALLOC_ZERO;
  char buf[UINT32_FMT + 1];
  uint32_t now = (uint32_t)time(0), last = 0;
  struct stat st;
  ssize_t n;
  int fd;
  size_t dirlen = strlen(dir);
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/maildirfolder") || !stralloc_0(&path)) return now;
  path.len = dirlen;
  if ((stat(path.s, &st) == 0 && !stralloc_cats(&path, "/.."))
      || !stralloc_cats(&path, "/" UIDLIST_VALIDITY_NAME) || !stralloc_0(&path)) { stralloc_free(&path); return now; }
  fd = open(path.s, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  stralloc_free(&path);
  if (fd < 0) return now;
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) { fd_close(fd); return now; }
  n = pread(fd, buf, sizeof buf - 1, 0);
  buf[n > 0 ? n : 0] = 0;
  if (n > 0 && scan_u32(buf, (size_t)n, &last) && last >= now && last < UINT32_MAX) now = last + 1;
  n = (ssize_t)uint32_fmt(buf, now);
  buf[n++] = '\n';
  if (pwrite(fd, buf, (size_t)n, 0) == n && ftruncate(fd, n) == 0) fsync(fd);
  fd_close(fd);
  return now;
}

int uidlist_load(char const *dir, uidlist *u)
{
  stralloc path = STRALLOC_ZERO, text = STRALLOC_ZERO;
  struct stat st;
  int fd, r;
  u->names.len = u->uids.len = 0;
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" UIDLIST_NAME) || !stralloc_0(&path))
    return -1;
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&path);
  if (fd < 0 && errno != ENOENT) return -1;
  if (fd >= 0)
  {
    if (fstat(fd, &st) < 0 || (size_t)st.st_size > UIDLIST_FILE_MAX) { if (!errno) errno = EFBIG; fd_close(fd); return -1; }
    if (!stralloc_ready(&text, (size_t)st.st_size + 1)) { fd_close(fd); return -1; }
    text.len = allread(fd, text.s, (size_t)st.st_size);
    fd_close(fd);
    r = uidlist_parse(text.s, text.len, u);
    stralloc_free(&text);
    if (r) return r;
    /* damaged (by hand?): its UIDs are lost, so it starts over below with a
       new UIDVALIDITY, which tells clients to forget what they cached */
    u->names.len = u->uids.len = 0;
  }
  r = fd < 0 ? import_dovecot(dir, u) : 0;
  if (r < 0) return -1;
  if (!r)
  {
    u->names.len = u->uids.len = 0;
    u->uidvalidity = fresh_uidvalidity(dir);
    u->nextuid = 1;
  }
  return 2;
}

uint32_t uidlist_add(uidlist *u, char const *base, size_t len)
{
  uint32_t uid = u->nextuid;
  if (!good_base(base, len) || uid == UINT32_MAX) { errno = EINVAL; return 0; }
  if (add_entry(u, uid, base, len) < 0) return 0;
  u->nextuid++;
  return uid;
}

int uidlist_write(char const *dir, uidlist const *u)
{
  stralloc path = STRALLOC_ZERO, tmp = STRALLOC_ZERO, text = STRALLOC_ZERO;
  char num[UINT32_FMT];
  size_t pos = 0, count = uidlist_count(u);
  int fd = -1, ok = 0;
  if (!stralloc_cats(&text, "V1 ")
      || !stralloc_catb(&text, num, uint32_fmt(num, u->uidvalidity)) || !stralloc_catb(&text, " ", 1)
      || !stralloc_catb(&text, num, uint32_fmt(num, u->nextuid)) || !stralloc_catb(&text, "\n", 1)) goto end;
  for (size_t i = 0; i < count; i++)
  {
    uint32_t uid;
    char const *name = u->names.s + pos;
    size_t len = strlen(name);
    memcpy(&uid, u->uids.s + i * sizeof uid, sizeof uid);
    pos += len + 1;
    if (!stralloc_catb(&text, num, uint32_fmt(num, uid)) || !stralloc_catb(&text, " ", 1)
        || !stralloc_catb(&text, name, len) || !stralloc_catb(&text, "\n", 1)) goto end;
  }
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" UIDLIST_NAME) || !stralloc_0(&path)) goto end;
  if (!stralloc_copyb(&tmp, path.s, path.len - 1) || !stralloc_cats(&tmp, ".tmp") || !stralloc_0(&tmp)) goto end;
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) goto end;
  if (allwrite(fd, text.s, text.len) < text.len || fsync(fd) < 0) goto end;
  if (close(fd) < 0) { fd = -1; unlink(tmp.s); goto end; }
  fd = -1;
  if (rename(tmp.s, path.s) < 0) goto end;
  ok = 1;
 end:
  if (fd >= 0) { fd_close(fd); unlink(tmp.s); }
  stralloc_free(&path); stralloc_free(&tmp); stralloc_free(&text);
  return ok ? 1 : -1;
}

int uidlist_lock(char const *dir)
{
  stralloc path = STRALLOC_ZERO;
  int fd;
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" UIDLIST_LOCK_NAME) || !stralloc_0(&path)) return -1;
  fd = open(path.s, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  stralloc_free(&path);
  if (fd < 0) return -1;
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) { fd_close(fd); return -1; }
  return fd;
}

void uidlist_free(uidlist *u)
{
  stralloc_free(&u->names);
  stralloc_free(&u->uids);
}
