/* imap_cache: see imap_cache.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "imap_cache.h"

/* Scans a decimal number ending with sep at s[*pos]. */
static int number(char const *s, size_t len, size_t *pos, char sep, uint64_t *v)
{
  size_t start = *pos;
  uint64_t x = 0;
  while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9' && *pos - start < 19)
    x = x * 10 + (uint64_t)(s[(*pos)++] - '0');
  if (*pos == start || *pos >= len || s[*pos] != sep) return 0;
  (*pos)++;
  *v = x;
  return 1;
}

static int by_uid(void const *a, void const *b)
{
  imap_cache_entry const *x = a, *y = b;
  if (x->uid != y->uid) return x->uid < y->uid ? -1 : 1;
  return x->env < y->env ? -1 : x->env > y->env;   /* the earlier record first */
}

int imap_cache_parse(imap_cache *c, uint32_t uidvalidity, char const *data, size_t len)
{
  size_t pos = 0, n, kept = 0;
  uint64_t v;
  imap_cache_entry *e;
  c->data.len = 0;
  genalloc_setlen(imap_cache_entry, &c->entries, 0);
  c->uidvalidity = uidvalidity;
  if (len < 3 || memcmp(data, "V1 ", 3)) return 1;
  pos = 3;
  if (!number(data, len, &pos, '\n', &v) || v != uidvalidity) return 1;
  if (!stralloc_copyb(&c->data, data, len)) return -1;
  data = c->data.s;
  while (pos < len)
  {
    imap_cache_entry r;
    uint64_t uid, size, date, el, bl, sl;
    size_t p = pos;
    if (len - p < 2 || data[p] != 'C' || data[p + 1] != ' ') break;
    p += 2;
    if (!number(data, len, &p, ' ', &uid) || !number(data, len, &p, ' ', &size) || !number(data, len, &p, ' ', &date)
        || !number(data, len, &p, ' ', &el) || !number(data, len, &p, ' ', &bl) || !number(data, len, &p, '\n', &sl)) break;
    if (!uid || uid > UINT32_MAX || el > IMAP_CACHE_FIELD_MAX || bl > IMAP_CACHE_FIELD_MAX || sl > IMAP_CACHE_FIELD_MAX) break;
    if (len - p < el + bl + sl + 1 || data[p + el + bl + sl] != '\n') break;
    r.uid = (uint32_t)uid; r.size = size; r.date = (int64_t)date;
    r.env = p; r.envlen = el; r.body = p + el; r.bodylen = bl; r.bs = p + el + bl; r.bslen = sl;
    if (!genalloc_append(imap_cache_entry, &c->entries, &r)) return -1;
    pos = p + el + bl + sl + 1;
  }
  n = genalloc_len(imap_cache_entry, &c->entries);
  e = genalloc_s(imap_cache_entry, &c->entries);
  if (n) qsort(e, n, sizeof *e, &by_uid);
  for (size_t i = 0; i < n; i++)
    if (!kept || e[kept - 1].uid != e[i].uid) e[kept++] = e[i];
  genalloc_setlen(imap_cache_entry, &c->entries, kept);
  return 1;
}

static int cache_path(char const *dir, stralloc *p)
{
  return stralloc_copys(p, dir) && stralloc_cats(p, "/" IMAP_CACHE_NAME) && stralloc_0(p);
}

int imap_cache_load(imap_cache *c, char const *dir, uint32_t uidvalidity)
{
  stralloc p = STRALLOC_ZERO, text = STRALLOC_ZERO;
  struct stat st;
  int fd, r;
  if (!cache_path(dir, &p)) return -1;
  fd = open(p.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&p);
  if (fd < 0) return errno == ENOENT ? imap_cache_parse(c, uidvalidity, "", 0) : -1;
  if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > IMAP_CACHE_FILE_MAX) { fd_close(fd); return imap_cache_parse(c, uidvalidity, "", 0); }
  if (!stralloc_ready(&text, (size_t)st.st_size + 1)) { fd_close(fd); return -1; }
  text.len = allread(fd, text.s, (size_t)st.st_size);
  fd_close(fd);
  r = imap_cache_parse(c, uidvalidity, text.s, text.len);
  stralloc_free(&text);
  return r;
}

imap_cache_entry const *imap_cache_find(imap_cache const *c, uint32_t uid)
{
  imap_cache_entry const *e = genalloc_s(imap_cache_entry, &c->entries);
  size_t lo = 0, hi = genalloc_len(imap_cache_entry, &c->entries);
  while (lo < hi)
  {
    size_t mid = lo + (hi - lo) / 2;
    if (e[mid].uid == uid) return e + mid;
    if (e[mid].uid < uid) lo = mid + 1; else hi = mid;
  }
  return 0;
}

int imap_cache_record(stralloc *out, uint32_t uid, uint64_t size, int64_t date,
                      char const *env, size_t envlen, char const *body, size_t bodylen,
                      char const *bs, size_t bslen)
{
  char num[UINT64_FMT];
  if (envlen > IMAP_CACHE_FIELD_MAX || bodylen > IMAP_CACHE_FIELD_MAX || bslen > IMAP_CACHE_FIELD_MAX) return 1;
  return stralloc_cats(out, "C ")
    && stralloc_catb(out, num, uint32_fmt(num, uid)) && stralloc_cats(out, " ")
    && stralloc_catb(out, num, uint64_fmt(num, size)) && stralloc_cats(out, " ")
    && stralloc_catb(out, num, uint64_fmt(num, date > 0 ? (uint64_t)date : 0)) && stralloc_cats(out, " ")
    && stralloc_catb(out, num, uint64_fmt(num, envlen)) && stralloc_cats(out, " ")
    && stralloc_catb(out, num, uint64_fmt(num, bodylen)) && stralloc_cats(out, " ")
    && stralloc_catb(out, num, uint64_fmt(num, bslen)) && stralloc_cats(out, "\n")
    && stralloc_catb(out, env, envlen) && stralloc_catb(out, body, bodylen)
    && stralloc_catb(out, bs, bslen) && stralloc_cats(out, "\n");
}

int imap_cache_write(char const *dir, uint32_t uidvalidity, char const *records, size_t len)
{
  stralloc p = STRALLOC_ZERO;
  char head[3 + UINT32_FMT + 1];
  size_t hl;
  struct stat st;
  int fd, ok;
  if (!len) return 0;
  if (!cache_path(dir, &p)) return -1;
  memcpy(head, "V1 ", 3);
  hl = 3 + uint32_fmt(head + 3, uidvalidity);
  head[hl++] = '\n';
  fd = open(p.s, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) { stralloc_free(&p); return -1; }
  ok = fstat(fd, &st) == 0;
  /* a file too big to be read is no use: start over */
  if (ok && (uint64_t)st.st_size > IMAP_CACHE_FILE_MAX) { ok = ftruncate(fd, 0) == 0; st.st_size = 0; }
  if (ok && st.st_size > 0)
  {
    /* another UIDVALIDITY's cache is useless: start over */
    char old[3 + UINT32_FMT + 1];
    int rfd = open(p.s, O_RDONLY | O_CLOEXEC);
    size_t n = rfd >= 0 ? allread(rfd, old, hl) : 0;
    if (rfd >= 0) fd_close(rfd);
    if (n != hl || memcmp(old, head, hl)) { ok = ftruncate(fd, 0) == 0; st.st_size = 0; }
  }
  if (ok && !st.st_size) ok = allwrite(fd, head, hl) == hl;
  ok = ok && allwrite(fd, records, len) == len;
  fd_close(fd);
  stralloc_free(&p);
  return ok ? 0 : -1;
}

int imap_cache_compact(imap_cache const *c, char const *dir, uint32_t const *keep, size_t n)
{
  stralloc text = STRALLOC_ZERO, p = STRALLOC_ZERO, tmp = STRALLOC_ZERO;
  imap_cache_entry const *e = genalloc_s(imap_cache_entry, &c->entries);
  size_t count = genalloc_len(imap_cache_entry, &c->entries), k = 0;
  uint32_t above = n ? keep[n - 1] : 0;
  char num[UINT64_FMT];
  int fd = -1, ok = 0;
  if (!stralloc_cats(&text, "V1 ") || !stralloc_catb(&text, num, uint32_fmt(num, c->uidvalidity))
      || !stralloc_cats(&text, "\n")) goto end;
  for (size_t i = 0; i < count; i++)
  {
    while (k < n && keep[k] < e[i].uid) k++;
    /* a record above the caller's view is another session's newcomer: kept */
    if (e[i].uid <= above && (k == n || keep[k] != e[i].uid)) continue;
    if (!imap_cache_record(&text, e[i].uid, e[i].size, e[i].date, c->data.s + e[i].env, e[i].envlen,
                           c->data.s + e[i].body, e[i].bodylen, c->data.s + e[i].bs, e[i].bslen)) goto end;
  }
  if (!cache_path(dir, &p) || !stralloc_copyb(&tmp, p.s, p.len - 1) || !stralloc_cats(&tmp, ".")
      || !stralloc_catb(&tmp, num, uint64_fmt(num, (uint64_t)getpid())) || !stralloc_0(&tmp)) goto end;
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) goto end;
  ok = allwrite(fd, text.s, text.len) == text.len;
  fd_close(fd);
  ok = ok && rename(tmp.s, p.s) == 0;
  if (!ok) unlink(tmp.s);
 end:
  stralloc_free(&text); stralloc_free(&p); stralloc_free(&tmp);
  return ok ? 0 : -1;
}

void imap_cache_free(imap_cache *c)
{
  stralloc_free(&c->data);
  genalloc_free(imap_cache_entry, &c->entries);
}
