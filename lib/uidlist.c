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
#include "dirsync.h"
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

static int pending_number(stralloc *sa, uint32_t v)
{
  char num[UINT32_FMT];
  return stralloc_catb(sa, num, uint32_fmt(num, v));
}

/* Applies the complete lines of text[len] to u, the first being the header
 * when first is set; *used gets the bytes applied. 1 ok, 0 malformed, -1
 * no memory. */
static int parse_lines(uidlist *u, char const *text, size_t len, int first, size_t *used)
{
  size_t pos = 0, n;
  uint32_t last = 0;
  if (uidlist_count(u)) memcpy(&last, u->uids.s + u->uids.len - sizeof last, sizeof last);
  *used = 0;
  while (pos < len)
  {
    char const *line = text + pos, *end = memchr(line, '\n', len - pos);
    size_t llen;
    uint32_t uid;
    int r;
    if (!end) break;   /* torn: a write a crash cut short */
    llen = (size_t)(end - line);
    if (first)
    {
      size_t k = 3;
      if (llen < 3 || memcmp(line, "V1 ", 3)) return 0;
      if (!(n = scan_u32(line + k, llen - k, &u->uidvalidity))) return 0;
      k += n;
      if (k >= llen || line[k++] != ' ') return 0;
      if (!(n = scan_u32(line + k, llen - k, &u->nextuid)) || k + n != llen) return 0;
      if (!u->uidvalidity || !u->nextuid) return 0;
      u->firstrecent = u->head_next = u->nextuid;
      first = 0;
    }
    else if (llen > 2 && line[0] == 'R' && line[1] == ' ')
    {
      if (scan_u32(line + 2, llen - 2, &uid) != llen - 2 || !uid) return 0;
      u->firstrecent = uid;
    }
    else
    {
      if (!(n = scan_u32(line, llen, &uid)) || n >= llen || line[n] != ' ') return 0;
      if (!uid || uid <= last || uid == UINT32_MAX) return 0;
      if (!good_base(line + n + 1, llen - n - 1)) return 0;
      if ((r = add_entry(u, uid, line + n + 1, llen - n - 1)) <= 0) return r;
      if (uid >= u->nextuid) u->nextuid = uid + 1;
      last = uid;
    }
    pos += llen + 1;
    *used = pos;
  }
  return first ? 0 : 1;
}

int uidlist_parse(char const *text, size_t len, uidlist *u)
{
  size_t used;
  u->names.len = u->uids.len = 0;
  return parse_lines(u, text, len, 1, &used);
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

/* u from nothing: imported from a dovecot-uidlist, else fresh. */
static int start_over(char const *dir, uidlist *u)
{
  int r;
  u->names.len = u->uids.len = 0;
  r = import_dovecot(dir, u);
  if (r < 0) return -1;
  if (r) u->firstrecent = u->nextuid;   /* Dovecot's messages are old news */
  else
  {
    u->names.len = u->uids.len = 0;
    u->uidvalidity = fresh_uidvalidity(dir);
    u->nextuid = 1;
    u->firstrecent = 1;
  }
  u->rewrite = 1;
  u->pos = 0; u->dev = 0; u->ino = 0;
  return 1;
}

/* Is fd's first line the header u read (and not a rewritten list that
 * got the old one's inode number)? */
static int same_header(int fd, uidlist const *u)
{
  char buf[3 + 2 * UINT32_FMT + 2], want[sizeof buf];
  size_t n = 0;
  ssize_t got;
  memcpy(want, "V1 ", 3); n = 3;
  n += uint32_fmt(want + n, u->uidvalidity); want[n++] = ' ';
  n += uint32_fmt(want + n, u->head_next); want[n++] = '\n';
  got = pread(fd, buf, n, 0);
  return got == (ssize_t)n && !memcmp(buf, want, n);
}

int uidlist_read(char const *dir, uidlist *u)
{
  stralloc path = STRALLOC_ZERO, text = STRALLOC_ZERO;
  struct stat st;
  size_t used;
  int fd, r = -1;
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" UIDLIST_NAME) || !stralloc_0(&path)) return -1;
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&path);
  /* what a failed write left pending is not on disk: read it all again */
  if (u->pending.len) { u->pending.len = 0; u->dev = 0; u->ino = 0; }
  u->fresh = 0; u->fresh_pos = 0;
  if (fd < 0)
  {
    if (errno != ENOENT) return -1;
    if (u->rewrite && !u->ino) return 1;   /* started over, not yet written */
    return start_over(dir, u);
  }
  if (fstat(fd, &st) < 0) goto end;
  if ((size_t)st.st_size > UIDLIST_FILE_MAX) { errno = EFBIG; goto end; }
  if (st.st_dev != u->dev || st.st_ino != u->ino || (uint64_t)st.st_size < u->pos || !u->pos || !same_header(fd, u))
  {
    /* first read, or rewritten by another session */
    u->names.len = u->uids.len = 0;
    u->pos = 0; u->rewrite = 0;
    u->dev = st.st_dev; u->ino = st.st_ino;
  }
  u->fresh = uidlist_count(u);
  u->fresh_pos = u->names.len;
  if ((uint64_t)st.st_size > u->pos)
  {
    size_t want = (size_t)((uint64_t)st.st_size - u->pos);
    ssize_t got;
    if (!stralloc_ready(&text, want)) goto end;
    got = pread(fd, text.s, want, (off_t)u->pos);
    if (got < 0) goto end;
    r = parse_lines(u, text.s, (size_t)got, u->pos == 0, &used);
    if (r < 0) goto end;
    if (!r)
    {
      /* damaged (by hand?): its UIDs are lost, so it starts over with a new
         UIDVALIDITY, which tells clients to forget what they cached */
      r = start_over(dir, u) > 0 ? 1 : -1;
      u->fresh = 0; u->fresh_pos = 0;
      goto end;
    }
    u->pos += used;
  }
  else if (!u->pos && start_over(dir, u) < 0) goto end;   /* empty file */
  r = 1;
 end:
  fd_close(fd);
  stralloc_free(&text);
  return r;
}

uint32_t uidlist_add(uidlist *u, char const *base, size_t len)
{
  uint32_t uid = u->nextuid;
  if (!good_base(base, len) || uid == UINT32_MAX) { errno = EINVAL; return 0; }
  if (add_entry(u, uid, base, len) < 0) return 0;
  if (!pending_number(&u->pending, uid) || !stralloc_catb(&u->pending, " ", 1)
      || !stralloc_catb(&u->pending, base, len) || !stralloc_catb(&u->pending, "\n", 1)) return 0;
  u->nextuid++;
  return uid;
}

int uidlist_claim_recent(uidlist *u, uint32_t upto)
{
  if (upto <= u->firstrecent) return 1;
  u->firstrecent = upto;
  return stralloc_cats(&u->pending, "R ") && pending_number(&u->pending, upto) && stralloc_catb(&u->pending, "\n", 1) ? 1 : -1;
}

void uidlist_restart(uidlist *u, uidlist const *from)
{
  u->uidvalidity = from->uidvalidity;
  u->nextuid = from->nextuid;
  u->firstrecent = from->firstrecent;
  u->names.len = u->uids.len = u->pending.len = 0;
  u->fresh = 0; u->fresh_pos = 0;
  u->rewrite = 1;
  u->pos = from->pos; u->dev = from->dev; u->ino = from->ino;
}

int uidlist_keep(uidlist *u, uint32_t uid, char const *base, size_t len)
{
  if (uid >= u->nextuid) u->nextuid = uid + 1;
  return add_entry(u, uid, base, len);
}

/* The whole list, atomically: temporary file, fsync, rename, and the
 * directory fsynced (a rename lost in a power cut would bring back a list
 * without UIDs already given). */
static int write_whole(char const *dir, uidlist *u)
{
  stralloc path = STRALLOC_ZERO, tmp = STRALLOC_ZERO, text = STRALLOC_ZERO;
  size_t pos = 0, count = uidlist_count(u);
  struct stat st;
  int fd = -1, ok = 0;
  if (!stralloc_cats(&text, "V1 ") || !pending_number(&text, u->uidvalidity) || !stralloc_catb(&text, " ", 1)
      || !pending_number(&text, u->nextuid) || !stralloc_cats(&text, "\nR ")
      || !pending_number(&text, u->firstrecent ? u->firstrecent : u->nextuid) || !stralloc_catb(&text, "\n", 1)) goto end;
  for (size_t i = 0; i < count; i++)
  {
    uint32_t uid;
    char const *name = u->names.s + pos;
    size_t len = strlen(name);
    memcpy(&uid, u->uids.s + i * sizeof uid, sizeof uid);
    pos += len + 1;
    if (!pending_number(&text, uid) || !stralloc_catb(&text, " ", 1)
        || !stralloc_catb(&text, name, len) || !stralloc_catb(&text, "\n", 1)) goto end;
  }
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" UIDLIST_NAME) || !stralloc_0(&path)) goto end;
  if (!stralloc_copyb(&tmp, path.s, path.len - 1) || !stralloc_cats(&tmp, ".tmp") || !stralloc_0(&tmp)) goto end;
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) goto end;
  if (allwrite(fd, text.s, text.len) < text.len || fsync(fd) < 0 || fstat(fd, &st) < 0) goto end;
  if (close(fd) < 0) { fd = -1; unlink(tmp.s); goto end; }
  fd = -1;
  if (rename(tmp.s, path.s) < 0 || dir_fsync(dir) < 0) goto end;
  u->dev = st.st_dev; u->ino = st.st_ino; u->pos = text.len;
  u->head_next = u->nextuid;
  u->rewrite = 0;
  u->pending.len = 0;
  ok = 1;
 end:
  if (fd >= 0) { fd_close(fd); unlink(tmp.s); }
  stralloc_free(&path); stralloc_free(&tmp); stralloc_free(&text);
  return ok ? 1 : -1;
}

int uidlist_write(char const *dir, uidlist *u)
{
  stralloc path = STRALLOC_ZERO;
  struct stat st;
  int fd, ok = 0;
  if (u->rewrite) return write_whole(dir, u);
  if (!u->pending.len) return 1;
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" UIDLIST_NAME) || !stralloc_0(&path)) return -1;
  fd = open(path.s, O_WRONLY | O_CLOEXEC);
  stralloc_free(&path);
  if (fd < 0) goto fail;
  if (fstat(fd, &st) < 0 || st.st_dev != u->dev || st.st_ino != u->ino) goto end;
  /* a torn last line (a crash mid-write) is cut off, not appended to */
  if ((uint64_t)st.st_size != u->pos && ftruncate(fd, (off_t)u->pos) < 0) goto end;
  if (pwrite(fd, u->pending.s, u->pending.len, (off_t)u->pos) != (ssize_t)u->pending.len || fsync(fd) < 0) goto end;
  u->pos += u->pending.len;
  u->pending.len = 0;
  ok = 1;
 end:
  fd_close(fd);
 fail:
  if (!ok) { u->dev = 0; u->ino = 0; }   /* not known on disk: read it all again */
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
  stralloc_free(&u->pending);
  *u = (uidlist)UIDLIST_ZERO;
}
