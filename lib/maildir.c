/* maildir.c: Maildir creation and crash-safe delivery. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>

#include "dirsync.h"
#include "maildir.h"

#define MAILDIR_COPY_BUF   65536
#define MAILDIR_NAME_TRIES 8       /* fresh names tried when one is taken */
#define MAILDIR_CLEAN_MAX  10000   /* tmp/ entries looked at per clean */

static unsigned int counter;

/* fsync of the directory holding path (everything before its last '/'). */
static int fsync_parent(char *path)
{
  char *slash = strrchr(path, '/');
  int r;
  if (slash == path) return 0;   /* the root itself: nothing to do */
  if (!slash) return dir_fsync(".");   /* a relative name */
  *slash = 0;
  r = dir_fsync(path);
  *slash = '/';
  return r;
}

/* mkdir 0700; a directory created here is made durable in its parent, so
 * that a message fsynced into it cannot vanish with the directory. */
static int mkdir_one(char *path)
{
  int r = dir_make(path);
  return r > 0 ? fsync_parent(path) : r;
}

static int mkdir_parents(stralloc *p)
{
  /* p is NUL-terminated; create each prefix ending before a '/' */
  for (size_t i = 1; i < p->len; i++)
  {
    if (p->s[i] != '/') continue;
    p->s[i] = 0;
    if (mkdir_one(p->s) < 0) { p->s[i] = '/'; return -1; }
    p->s[i] = '/';
  }
  return mkdir_one(p->s);
}

int maildir_make(char const *dir)
{
  static char const *const sub[] = { "/tmp", "/new", "/cur" };
  stralloc p = STRALLOC_ZERO;
  int r = 0, e = 0, made = 0;
  if (!stralloc_copys(&p, dir) || !stralloc_0(&p)) return -1;
  if (mkdir_parents(&p) < 0) { r = -1; e = errno; }
  for (unsigned int i = 0; !r && i < 3; i++)
  {
    int m;
    p.len = 0;
    if (!stralloc_cats(&p, dir) || !stralloc_cats(&p, sub[i]) || !stralloc_0(&p)) { r = -1; e = ENOMEM; }
    else if ((m = dir_make(p.s)) < 0) { r = -1; e = errno; }
    else made |= m;
  }
  /* the three share a parent: one fsync of it covers them */
  if (!r && made && fsync_parent(p.s) < 0) { r = -1; e = errno; }
  stralloc_free(&p);
  errno = e;
  return r;
}

/* The host part of a unique name, with '/' and ':' encoded as the spec asks. */
static int cat_host(stralloc *sa)
{
  char host[256];
  if (gethostname(host, sizeof host - 1) < 0) strcpy(host, "localhost");
  host[sizeof host - 1] = 0;
  for (char *h = host; *h; h++)
  {
    if (*h == '/') { if (!stralloc_cats(sa, "\\057")) return 0; }
    else if (*h == ':') { if (!stralloc_cats(sa, "\\072")) return 0; }
    else if (!stralloc_catb(sa, h, 1)) return 0;
  }
  return 1;
}

/* Adds to *bare the LFs of s[0..n) without a CR before them (*prev: the byte before s). */
static void count_bare_lf(char const *s, size_t n, char *prev, size_t *bare)
{
  char const *p = s, *end = s + n, *nl;
  if (!n) return;
  /* each turn moves past one LF */
  while ((nl = memchr(p, '\n', (size_t)(end - p))))
  {
    if ((nl > s ? nl[-1] : *prev) != '\r') ++*bare;
    p = nl + 1;
  }
  *prev = end[-1];
}

/* *total: bytes stored; *crlf: the same with every bare LF counted as CRLF
 * (Dovecot's ",W=", what POP3 and IMAP send). */
static int copy_all(int out, char const *head, size_t headlen, int in, size_t *total, size_t *crlf)
{
  char buf[MAILDIR_COPY_BUF];
  off_t off = 0;
  char prev = 0;
  size_t bare = 0;
  if (headlen && allwrite(out, head, headlen) < headlen) return -1;
  count_bare_lf(head, headlen, &prev, &bare);
  *total = headlen;
  while (in >= 0)
  {
    ssize_t r = pread(in, buf, sizeof buf, off);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (!r) break;
    if (allwrite(out, buf, r) < (size_t)r) return -1;
    count_bare_lf(buf, (size_t)r, &prev, &bare);
    off += r;
    *total += r;
  }
  *crlf = *total + bare;
  return 0;
}

/* A fresh unique base name: SECONDS.MUSECSPPIDQCOUNTER.HOST. The counter
 * makes names unique within this process, the pid between processes running
 * at the same time, the microseconds against a pid reused within a second. */
static int make_unique(stralloc *uniq)
{
  struct timeval tv;
  char num[96];
  gettimeofday(&tv, 0);
  snprintf(num, sizeof num, "%lld.M%ldP%ldQ%u.", (long long)tv.tv_sec, (long)tv.tv_usec,
           (long)getpid(), ++counter);
  uniq->len = 0;
  return stralloc_cats(uniq, num) && cat_host(uniq);
}

/* Opens dir/tmp/UNIQUE exclusively, trying fresh names while one is taken. */
static int open_tmp(char const *dir, stralloc *uniq, stralloc *tmp)
{
  for (unsigned int i = 0; i < MAILDIR_NAME_TRIES; i++)
  {
    int fd;
    tmp->len = 0;
    if (!make_unique(uniq) || !stralloc_cats(tmp, dir) || !stralloc_cats(tmp, "/tmp/")
        || !stralloc_catb(tmp, uniq->s, uniq->len) || !stralloc_0(tmp)) { errno = ENOMEM; return -1; }
    fd = open(tmp->s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;   /* errno EEXIST */
}

/* Links tmp to dir/SUB/UNIQUE,S=size,W=crlf[:2,flags]; sub gets "SUB/...", dst the
 * full path. On a taken name, retries with a new unique part (tmp keeps its
 * own name: it is ours alone). */
static int link_final(char const *dir, char const *tmp, stralloc *uniq, size_t size, size_t crlf,
                      char const *flags, stralloc *sub, stralloc *dst)
{
  char num[64];
  snprintf(num, sizeof num, ",S=%zu,W=%zu", size, crlf);
  for (unsigned int i = 0; i < MAILDIR_NAME_TRIES; i++)
  {
    if (i && !make_unique(uniq)) { errno = ENOMEM; return -1; }
    sub->len = 0; dst->len = 0;
    if (!stralloc_cats(sub, flags ? "cur/" : "new/") || !stralloc_catb(sub, uniq->s, uniq->len)
        || !stralloc_cats(sub, num)
        || (flags && (!stralloc_cats(sub, ":2,") || !stralloc_cats(sub, flags)))
        || !stralloc_0(sub)
        || !stralloc_cats(dst, dir) || !stralloc_catb(dst, "/", 1) || !stralloc_cats(dst, sub->s)
        || !stralloc_0(dst)) { errno = ENOMEM; return -1; }
    if (link(tmp, dst->s) == 0) return 0;
    if (errno != EEXIST) return -1;
  }
  return -1;
}

static int store(char const *dir, char const *head, size_t headlen, int fd,
                 char const *flags, stralloc *name, int dirsync)
{
  stralloc uniq = STRALLOC_ZERO, tmp = STRALLOC_ZERO, dst = STRALLOC_ZERO, sub = STRALLOC_ZERO;
  size_t size = 0, crlf = 0;
  int out, e = 0;

  out = open_tmp(dir, &uniq, &tmp);
  if (out < 0) { e = errno; goto fail; }
  if (copy_all(out, head, headlen, fd, &size, &crlf) < 0 || fsync(out) < 0) { e = errno; fd_close(out); goto fail_unlink; }
  if (close(out) < 0) { e = errno; goto fail_unlink; }
  if (link_final(dir, tmp.s, &uniq, size, crlf, flags, &sub, &dst) < 0) { e = errno; goto fail_unlink; }
  /* the new name is durable only once its directory is */
  if (dirsync && fsync_parent(dst.s) < 0)
  {
    /* not known to be on disk: take it back, the caller will retry */
    e = errno;
    unlink(dst.s);
    goto fail_unlink;
  }
  unlink(tmp.s);
  if (name) { name->len = 0; if (!stralloc_catb(name, sub.s, sub.len)) { e = ENOMEM; goto fail; } }
  stralloc_free(&uniq); stralloc_free(&tmp); stralloc_free(&dst); stralloc_free(&sub);
  return 0;

 fail_unlink:
  unlink(tmp.s);
 fail:
  stralloc_free(&uniq); stralloc_free(&tmp); stralloc_free(&dst); stralloc_free(&sub);
  errno = e;
  return -1;
}

int maildir_store(char const *dir, char const *head, size_t headlen, int fd,
                  char const *flags, stralloc *name)
{
  return store(dir, head, headlen, fd, flags, name, 1);
}

int maildir_store_nodirsync(char const *dir, char const *head, size_t headlen, int fd,
                            char const *flags, stralloc *name)
{
  return store(dir, head, headlen, fd, flags, name, 0);
}

void maildir_clean_tmp(char const *dir)
{
  stralloc p = STRALLOC_ZERO;
  DIR *d;
  struct dirent *de;
  time_t now = time(0);
  size_t base;
  unsigned int seen = 0;
  if (!stralloc_cats(&p, dir) || !stralloc_cats(&p, "/tmp") || !stralloc_0(&p)) goto end;
  d = opendir(p.s);
  if (!d) goto end;
  p.s[p.len - 1] = '/';
  base = p.len;
  while (seen++ < MAILDIR_CLEAN_MAX && (de = readdir(d)))
  {
    struct stat st;
    if (de->d_name[0] == '.') continue;
    p.len = base;
    if (!stralloc_cats(&p, de->d_name) || !stralloc_0(&p)) break;
    /* both times: a file still being written has a fresh mtime */
    if (lstat(p.s, &st) == 0 && S_ISREG(st.st_mode) && st.st_atime + MAILDIR_TMP_STALE < now
        && st.st_mtime + MAILDIR_TMP_STALE < now)
      unlink(p.s);
  }
  closedir(d);
 end:
  stralloc_free(&p);
}

int maildir_error_is_temporary(int e)
{
  return e != ENAMETOOLONG && e != ENOTDIR && e != ELOOP;
}
