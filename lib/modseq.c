/* modseq: see modseq.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "modseq.h"

#define READ_CHUNK 65536
#define COMPACT_SLACK 10000   /* lines beyond four per message before a compaction */

static char const SYSTEM[] = "SRFTD";   /* mask bits 0..4 */

uint32_t modseq_mask(char const *letters, size_t len)
{
  uint32_t mask = 0;
  for (size_t i = 0; i < len; i++)
  {
    char const *p = letters[i] ? strchr(SYSTEM, letters[i]) : 0;
    if (p) mask |= 1u << (p - SYSTEM);
    else if (letters[i] >= 'a' && letters[i] <= 'z') mask |= 1u << (5 + letters[i] - 'a');
  }
  return mask;
}

void modseq_letters(uint32_t mask, char out[32])
{
  static char const order[] = "DFRST";   /* Maildir's order */
  size_t n = 0;
  for (unsigned i = 0; i < 5; i++)
    if (mask & (1u << (strchr(SYSTEM, order[i]) - SYSTEM))) out[n++] = order[i];
  for (unsigned i = 0; i < 26; i++)
    if (mask & (1u << (5 + i))) out[n++] = (char)('a' + i);
  out[n] = 0;
}

/* Index of uid in live, or where it would go (*found says which). */
static size_t find(modseq_log const *l, uint32_t uid, int *found)
{
  modseq_entry const *e = genalloc_s(modseq_entry, &l->live);
  size_t lo = 0, hi = genalloc_len(modseq_entry, &l->live);
  while (lo < hi)
  {
    size_t mid = lo + (hi - lo) / 2;
    if (e[mid].uid < uid) lo = mid + 1; else hi = mid;
  }
  *found = lo < genalloc_len(modseq_entry, &l->live) && e[lo].uid == uid;
  return lo;
}

static int put(modseq_log *l, uint32_t uid, uint32_t mask, uint64_t modseq)
{
  int found;
  size_t i = find(l, uid, &found), n = genalloc_len(modseq_entry, &l->live);
  modseq_entry *e;
  if (!found)
  {
    if (!genalloc_readyplus(modseq_entry, &l->live, 1)) return -1;
    e = genalloc_s(modseq_entry, &l->live);
    memmove(e + i + 1, e + i, (n - i) * sizeof *e);
    genalloc_setlen(modseq_entry, &l->live, n + 1);
  }
  e = genalloc_s(modseq_entry, &l->live) + i;
  e->uid = uid; e->mask = mask; e->modseq = modseq;
  return 1;
}

static int drop(modseq_log *l, uint32_t uid, uint64_t modseq)
{
  int found;
  size_t i = find(l, uid, &found), n = genalloc_len(modseq_entry, &l->live);
  modseq_gone g;
  if (found)
  {
    modseq_entry *e = genalloc_s(modseq_entry, &l->live);
    memmove(e + i, e + i + 1, (n - i - 1) * sizeof *e);
    genalloc_setlen(modseq_entry, &l->live, n - 1);
  }
  if (modseq <= l->floor) return 1;
  g.uid = uid; g.modseq = modseq;
  return genalloc_append(modseq_gone, &l->gone, &g) ? 1 : -1;
}

/* A decimal number ending at a space or the end of the line. */
static size_t number(char const *s, size_t len, uint64_t *v)
{
  size_t i = 0;
  uint64_t x = 0;
  while (i < len && i < 19 && s[i] >= '0' && s[i] <= '9') x = x * 10 + (uint64_t)(s[i++] - '0');
  if (!i || (i < len && s[i] != ' ')) return 0;
  *v = x;
  return i;
}

/* Where a new log starts: above any mod-sequence a folder could have had
 * before (Dovecot's, for a folder migrated with its UIDs, or an earlier log
 * of ours that was removed), so that no client's mod-sequence looks
 * current: the time, shifted past any count of changes a second could see. */
static void start_fresh(modseq_log *l)
{
  uint64_t base = (uint64_t)time(0) << MODSEQ_TIME_SHIFT;
  if (l->highest < base) l->highest = base;
  l->floor = l->highest;   /* earlier expunges are unknown */
}

/* Forgets the table to read a log from its start. The highest
 * mod-sequence stays a lower bound (never go back); when the log itself is
 * gone (forget), so is the memory of earlier expunges. */
static void reset(modseq_log *l, int forget)
{
  l->floor = forget ? l->highest : 0;
  genalloc_setlen(modseq_entry, &l->live, 0);
  genalloc_setlen(modseq_gone, &l->gone, 0);
  l->pos = 0; l->lines = 0;
}

int modseq_parse(modseq_log *l, char const *text, size_t len, size_t *used)
{
  size_t p = 0;
  *used = 0;
  while (p < len)
  {
    char const *line = text + p, *nl = memchr(line, '\n', len - p);
    size_t n, k;
    uint64_t a, b;
    if (!nl) break;
    n = (size_t)(nl - line);
    if (!l->pos && !p)
    {
      /* the header: this log's UIDVALIDITY */
      if (n < 4 || memcmp(line, "V1 ", 3) || number(line + 3, n - 3, &a) != n - 3 || a != l->uidvalidity) return 0;
    }
    else if (n > 2 && line[1] == ' ' && (k = number(line + 2, n - 2, &a)))
    {
      char const *rest = line + 2 + k;
      size_t left = n - 2 - k;
      if (a > l->highest && (line[0] == 'M' || line[0] == 'X' || line[0] == 'H')) l->highest = a;
      if (line[0] == 'F' && !left && a > l->floor) l->floor = a;
      else if ((line[0] == 'M' || line[0] == 'X') && left > 1 && (k = number(rest + 1, left - 1, &b)) && b && b <= UINT32_MAX)
      {
        rest += 1 + k; left -= 1 + k;
        if (line[0] == 'M' && put(l, (uint32_t)b, modseq_mask(rest, left), a) < 0) return -1;
        if (line[0] == 'X' && !left && drop(l, (uint32_t)b, a) < 0) return -1;
      }
      /* anything else: a line of a later version, or damage; skipped */
    }
    l->lines++;
    p += n + 1;
  }
  *used = p;
  return 1;
}

static int path_of(char const *dir, char const *suffix, stralloc *p)
{
  p->len = 0;
  return stralloc_copys(p, dir) && stralloc_cats(p, "/" MODSEQ_NAME) && stralloc_cats(p, suffix) && stralloc_0(p);
}

int modseq_read(modseq_log *l, char const *dir, uint32_t uidvalidity)
{
  stralloc p = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  struct stat st;
  int fd, r = -1;
  if (uidvalidity != l->uidvalidity) { l->uidvalidity = uidvalidity; l->highest = 0; reset(l, 0); l->dev = 0; l->ino = 0; }
  if (!path_of(dir, "", &p)) return -1;
  fd = open(p.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&p);
  if (fd < 0)
  {
    if (errno != ENOENT) return -1;
    if (l->pos || l->ino) { reset(l, 1); l->dev = 0; l->ino = 0; }
    start_fresh(l);
    return 1;
  }
  if (fstat(fd, &st) < 0) goto end;
  if (st.st_dev != l->dev || st.st_ino != l->ino || (uint64_t)st.st_size < l->pos)
  {
    reset(l, 0);   /* rewritten (compacted) by another session: read it again */
    l->dev = st.st_dev; l->ino = st.st_ino;
  }
  if (lseek(fd, (off_t)l->pos, SEEK_SET) < 0) goto end;
  for (;;)
  {
    size_t used;
    ssize_t got;
    if (!stralloc_readyplus(&buf, READ_CHUNK)) goto end;
    got = read(fd, buf.s + buf.len, READ_CHUNK);
    if (got < 0) { if (errno == EINTR) continue; goto end; }
    if (!got) break;
    buf.len += (size_t)got;
    r = modseq_parse(l, buf.s, buf.len, &used);
    if (r < 0) goto end;
    if (!r)
    {
      /* another UIDVALIDITY's log: as if there were none (rewritten next) */
      reset(l, 1);
      start_fresh(l);
      l->lines = UINT64_MAX;
      break;
    }
    l->pos += used;
    memmove(buf.s, buf.s + used, buf.len - used);
    buf.len -= used;
  }
  r = 1;
 end:
  fd_close(fd);
  stralloc_free(&buf);
  return r;
}

uint64_t modseq_set(modseq_log *l, uint32_t uid, uint32_t mask)
{
  int found;
  size_t i = find(l, uid, &found);
  char num[UINT64_FMT], letters[32];
  if (found && genalloc_s(modseq_entry, &l->live)[i].mask == mask) return genalloc_s(modseq_entry, &l->live)[i].modseq;
  l->highest = l->highest ? l->highest + 1 : 2;   /* HIGHESTMODSEQ is at least 1 */
  modseq_letters(mask, letters);
  if (put(l, uid, mask, l->highest) < 0
      || !stralloc_cats(&l->pending, "M ") || !stralloc_catb(&l->pending, num, uint64_fmt(num, l->highest))
      || !stralloc_cats(&l->pending, " ") || !stralloc_catb(&l->pending, num, uint32_fmt(num, uid))
      || !stralloc_cats(&l->pending, " ") || !stralloc_cats(&l->pending, letters) || !stralloc_cats(&l->pending, "\n"))
    return 0;
  return l->highest;
}

void modseq_expunge(modseq_log *l, uint32_t uid)
{
  int found;
  char num[UINT64_FMT];
  find(l, uid, &found);
  if (!found) return;
  l->highest = l->highest ? l->highest + 1 : 2;
  if (drop(l, uid, l->highest) < 0
      || !stralloc_cats(&l->pending, "X ") || !stralloc_catb(&l->pending, num, uint64_fmt(num, l->highest))
      || !stralloc_cats(&l->pending, " ") || !stralloc_catb(&l->pending, num, uint32_fmt(num, uid))
      || !stralloc_cats(&l->pending, "\n")) return;
}

uint64_t modseq_of(modseq_log const *l, uint32_t uid)
{
  int found;
  size_t i = find(l, uid, &found);
  return found ? genalloc_s(modseq_entry, &l->live)[i].modseq : 0;
}

static int header(modseq_log const *l, stralloc *out)
{
  char num[UINT64_FMT];
  return stralloc_cats(out, "V1 ") && stralloc_catb(out, num, uint32_fmt(num, l->uidvalidity)) && stralloc_cats(out, "\n");
}

/* Rewrites the log from l: its state in one line per message. */
static int compact(modseq_log *l, char const *dir)
{
  stralloc text = STRALLOC_ZERO, p = STRALLOC_ZERO, tmp = STRALLOC_ZERO;
  modseq_entry const *e = genalloc_s(modseq_entry, &l->live);
  modseq_gone const *g = genalloc_s(modseq_gone, &l->gone);
  size_t n = genalloc_len(modseq_entry, &l->live), ng = genalloc_len(modseq_gone, &l->gone), first = 0;
  char num[UINT64_FMT], letters[32];
  struct stat st;
  int fd = -1, ok = 0;
  if (ng > MODSEQ_GONE_KEEP)
  {
    first = ng - MODSEQ_GONE_KEEP;
    l->floor = g[first - 1].modseq;
  }
  if (!header(l, &text)
      || !stralloc_cats(&text, "H ") || !stralloc_catb(&text, num, uint64_fmt(num, l->highest)) || !stralloc_cats(&text, "\n")
      || !stralloc_cats(&text, "F ") || !stralloc_catb(&text, num, uint64_fmt(num, l->floor)) || !stralloc_cats(&text, "\n")) goto end;
  for (size_t i = first; i < ng; i++)
    if (!stralloc_cats(&text, "X ") || !stralloc_catb(&text, num, uint64_fmt(num, g[i].modseq))
        || !stralloc_cats(&text, " ") || !stralloc_catb(&text, num, uint32_fmt(num, g[i].uid)) || !stralloc_cats(&text, "\n")) goto end;
  for (size_t i = 0; i < n; i++)
  {
    modseq_letters(e[i].mask, letters);
    if (!stralloc_cats(&text, "M ") || !stralloc_catb(&text, num, uint64_fmt(num, e[i].modseq))
        || !stralloc_cats(&text, " ") || !stralloc_catb(&text, num, uint32_fmt(num, e[i].uid))
        || !stralloc_cats(&text, " ") || !stralloc_cats(&text, letters) || !stralloc_cats(&text, "\n")) goto end;
  }
  if (!path_of(dir, "", &p) || !path_of(dir, ".tmp", &tmp)) goto end;
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) goto end;
  if (allwrite(fd, text.s, text.len) < text.len || fsync(fd) < 0 || fstat(fd, &st) < 0 || rename(tmp.s, p.s) < 0)
  {
    unlink(tmp.s);
    goto end;
  }
  if (first)
  {
    modseq_gone *w = genalloc_s(modseq_gone, &l->gone);
    memmove(w, w + first, (ng - first) * sizeof *w);
    genalloc_setlen(modseq_gone, &l->gone, ng - first);
  }
  l->dev = st.st_dev; l->ino = st.st_ino; l->pos = (uint64_t)st.st_size;
  l->lines = 3 + (ng - first) + n;
  l->pending.len = 0;
  ok = 1;
 end:
  if (fd >= 0) fd_close(fd);
  stralloc_free(&text); stralloc_free(&p); stralloc_free(&tmp);
  return ok ? 1 : -1;
}

int modseq_write(modseq_log *l, char const *dir)
{
  stralloc p = STRALLOC_ZERO, head = STRALLOC_ZERO;
  struct stat st;
  int fd, ok = 0;
  uint64_t n = genalloc_len(modseq_entry, &l->live) + genalloc_len(modseq_gone, &l->gone);
  if (l->lines == UINT64_MAX || (l->pending.len && l->lines > 4 * n + COMPACT_SLACK)) return compact(l, dir);
  if (!l->pending.len) return 1;
  if (!path_of(dir, "", &p)) return -1;
  fd = open(p.s, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  stralloc_free(&p);
  if (fd < 0) return -1;
  if (fstat(fd, &st) < 0) goto end;
  /* a last line a crash cut short (read, not applied) is cut off, never
     glued to the next record */
  if (st.st_dev == l->dev && st.st_ino == l->ino && l->pos && (uint64_t)st.st_size > l->pos
      && ftruncate(fd, (off_t)l->pos) < 0) goto end;
  if (!st.st_size)
  {
    /* a new log: what l knows is all there is (l->pos is 0), and what it
       does not, the expunges before it, is said forgotten */
    char num[UINT64_FMT];
    if (!header(l, &head) || !stralloc_cats(&head, "F ") || !stralloc_catb(&head, num, uint64_fmt(num, l->floor))
        || !stralloc_cats(&head, "\n") || allwrite(fd, head.s, head.len) < head.len) goto end;
    l->lines = 2;
    l->dev = st.st_dev; l->ino = st.st_ino;
  }
  if (allwrite(fd, l->pending.s, l->pending.len) < l->pending.len || fsync(fd) < 0 || fstat(fd, &st) < 0) goto end;
  for (size_t i = 0; i < l->pending.len; i++) if (l->pending.s[i] == '\n') l->lines++;
  l->pos = (uint64_t)st.st_size;
  l->pending.len = 0;
  ok = 1;
 end:
  fd_close(fd);
  stralloc_free(&head);
  return ok ? 1 : -1;
}

void modseq_free(modseq_log *l)
{
  genalloc_free(modseq_entry, &l->live);
  genalloc_free(modseq_gone, &l->gone);
  stralloc_free(&l->pending);
}
