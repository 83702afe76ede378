/* dovecot_uidlist.c: parsing Dovecot's dovecot-uidlist (versions 1 and 3). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>
#include <skalibs/types.h>

#include "dovecot_uidlist.h"

/* A decimal uint32 at s[0..len): its length, 0 if none or it overflows. */
static size_t scan_u32(char const *s, size_t len, uint32_t *u)
{
  uint64_t v = 0;
  size_t i = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9')
  {
    v = v * 10 + (uint64_t)(s[i] - '0');
    if (v > UINT32_MAX) return 0;
    i++;
  }
  if (i) *u = (uint32_t)v;
  return i;
}

/* Header of version 3: space-separated <key><value> fields after "3". */
static int parse_header_v3(char const *s, size_t len, dovecot_uidlist *out)
{
  size_t i = 0;
  int have_v = 0, have_n = 0;
  while (i < len)
  {
    size_t end = i;
    while (end < len && s[end] != ' ') end++;
    if (end > i + 1 && (s[i] == 'V' || s[i] == 'N'))
    {
      uint32_t u = 0;
      if (scan_u32(s + i + 1, end - i - 1, &u) != end - i - 1) return 0;
      if (s[i] == 'V') { out->uidvalidity = u; have_v = 1; }
      else { out->nextuid = u; have_n = 1; }
    }
    i = end + 1;
  }
  return have_v && have_n;
}

/* Header of version 1: "<uidvalidity> <nextuid>". */
static int parse_header_v1(char const *s, size_t len, dovecot_uidlist *out)
{
  size_t n = scan_u32(s, len, &out->uidvalidity);
  if (!n || n >= len || s[n] != ' ') return 0;
  s += n + 1; len -= n + 1;
  return scan_u32(s, len, &out->nextuid) == len;
}

/* pop3_uidl: P's value (pop3_uidllen bytes), or 0 without P. */
static int add_entry(dovecot_uidlist *out, uint32_t uid, char const *name, size_t len,
                     char const *pop3_uidl, size_t pop3_uidllen)
{
  size_t base = 0;
  while (base < len && name[base] != ':') base++;
  if (!base || base > DOVECOT_UIDLIST_BASE_MAX) return 0;
  if (memchr(name, 0, base) || memchr(name, '/', base)) return 0;
  if (!pop3_uidl) pop3_uidl = "";
  else if (!pop3_uidllen) { pop3_uidl = name; pop3_uidllen = base; }
  else if (memchr(pop3_uidl, 0, pop3_uidllen)) pop3_uidllen = 0;   /* unusable: as if absent */
  if (!stralloc_catb(&out->names, name, base) || !stralloc_0(&out->names)) return -1;
  if (!stralloc_catb(&out->uids, (char const *)&uid, sizeof uid)) return -1;
  if (!stralloc_catb(&out->pop3_uidls, pop3_uidl, pop3_uidllen) || !stralloc_0(&out->pop3_uidls)) return -1;
  return 1;
}

/* One entry line; *last is the previous UID (UIDs ascend). 1, 0 malformed, -1 no memory. */
static int parse_entry(int version, char const *s, size_t len, uint32_t *last, dovecot_uidlist *out)
{
  uint32_t uid;
  char const *pop3_uidl = 0;
  size_t pop3_uidllen = 0;
  size_t n = scan_u32(s, len, &uid);
  if (!n || !uid || uid <= *last || n >= len || s[n] != ' ') return 0;
  *last = uid;
  s += n + 1; len -= n + 1;
  if (version == 3)
  {
    /* extension fields ("W1234 ", "Pxyz ") until the one that starts with ':' */
    size_t i = 0;
    while (i < len && s[i] != ':')
    {
      size_t start = i;
      while (i < len && s[i] != ' ') i++;
      if (s[start] == 'P') { pop3_uidl = s + start + 1; pop3_uidllen = i - start - 1; }
      while (i < len && s[i] == ' ') i++;
    }
    if (i >= len) return 0;
    s += i + 1; len -= i + 1;
  }
  return add_entry(out, uid, s, len, pop3_uidl, pop3_uidllen);
}

int dovecot_uidlist_parse(char const *text, size_t len, dovecot_uidlist *out)
{
  size_t pos = 0;
  uint32_t last = 0;
  int version, r;
  out->uidvalidity = out->nextuid = 0;
  out->names.len = out->uids.len = out->pop3_uidls.len = 0;
  if (len < 2 || text[1] != ' ' || (text[0] != '1' && text[0] != '3')) goto bad;
  version = text[0] - '0';
  /* every loop below advances pos by at least one byte per turn */
  while (pos < len)
  {
    char const *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - text) : len;
    if (!pos)
    {
      r = version == 3 ? parse_header_v3(text + 2, end - 2, out) : parse_header_v1(text + 2, end - 2, out);
      if (!r) goto bad;
    }
    else if (end > pos)
    {
      r = parse_entry(version, text + pos, end - pos, &last, out);
      if (r < 0) return 0;
      if (!r) goto bad;
    }
    pos = end + 1;
  }
  return 1;
 bad:
  errno = EPROTO;
  return 0;
}

int dovecot_uidlist_read(char const *dir, dovecot_uidlist *out)
{
  stralloc path = STRALLOC_ZERO, text = STRALLOC_ZERO;
  struct stat st;
  int fd, r = -1, e;
  if (!stralloc_cats(&path, dir) || !stralloc_cats(&path, "/" DOVECOT_UIDLIST_NAME) || !stralloc_0(&path))
  { stralloc_free(&path); return -1; }
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&path);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  if (fstat(fd, &st) < 0) goto end;
  if ((unsigned long)st.st_size > DOVECOT_UIDLIST_FILE_MAX) { errno = EFBIG; goto end; }
  if (!stralloc_ready(&text, (size_t)st.st_size + 1)) goto end;
  {
    /* the file may grow while we read: read at most the bound, then judge */
    size_t want = (size_t)st.st_size + 1, n = 0;
    while (n < want)
    {
      ssize_t got = read(fd, text.s + n, want - n);
      if (got < 0) { if (errno == EINTR) continue; goto end; }
      if (!got) break;
      n += (size_t)got;
    }
    if (n == want) { errno = EAGAIN; goto end; }  /* grew while read: being rewritten, retry later */
    text.len = n;
  }
  r = dovecot_uidlist_parse(text.s, text.len, out) ? 1 : -1;
 end:
  e = errno;
  close(fd);
  stralloc_free(&text);
  errno = e;
  return r;
}

uint32_t dovecot_uidlist_find(dovecot_uidlist const *l, char const *base, size_t len)
{
  size_t pos = 0, i = 0, count = l->uids.len / sizeof(uint32_t);
  uint32_t found = 0;
  /* to the end: a name listed twice has its later UID, as Dovecot reads it */
  for (; i < count && pos < l->names.len; i++)
  {
    char const *name = l->names.s + pos;
    size_t nlen = strlen(name);
    if (nlen == len && !memcmp(name, base, len))
      memcpy(&found, l->uids.s + i * sizeof found, sizeof found);
    pos += nlen + 1;
  }
  return found;
}

void dovecot_uidlist_free(dovecot_uidlist *l)
{
  stralloc_free(&l->names);
  stralloc_free(&l->uids);
  stralloc_free(&l->pop3_uidls);
  l->uidvalidity = l->nextuid = 0;
}

int dovecot_uidlist_format(dovecot_uidlist const *l, char const *guid, stralloc *out)
{
  char num[UINT32_FMT];
  size_t pos = 0, upos = 0, count = l->uids.len / sizeof(uint32_t);
  if (!stralloc_cats(out, "3 V") || !stralloc_catb(out, num, uint32_fmt(num, l->uidvalidity))
      || !stralloc_cats(out, " N") || !stralloc_catb(out, num, uint32_fmt(num, l->nextuid))) return 0;
  if (guid && (!stralloc_cats(out, " G") || !stralloc_cats(out, guid))) return 0;
  if (!stralloc_append(out, '\n')) return 0;
  for (size_t k = 0; k < count && pos < l->names.len; k++)
  {
    uint32_t uid;
    char const *name = l->names.s + pos;
    char const *uidl = upos < l->pop3_uidls.len ? l->pop3_uidls.s + upos : "";
    memcpy(&uid, l->uids.s + k * sizeof uid, sizeof uid);
    if (!stralloc_catb(out, num, uint32_fmt(num, uid)) || !stralloc_append(out, ' ')) return 0;
    if (*uidl && (!stralloc_append(out, 'P') || !stralloc_cats(out, uidl) || !stralloc_append(out, ' '))) return 0;
    if (!stralloc_append(out, ':') || !stralloc_cats(out, name) || !stralloc_append(out, '\n')) return 0;
    pos += strlen(name) + 1;
    if (upos < l->pop3_uidls.len) upos += strlen(uidl) + 1;
  }
  return 1;
}

int dovecot_uidlist_write(char const *dir, dovecot_uidlist const *l, char const *guid)
{
  stralloc text = STRALLOC_ZERO, lock = STRALLOC_ZERO, path = STRALLOC_ZERO;
  struct stat st;
  int fd = -1, e;
  size_t done = 0;
  if (stat(dir, &st) < 0) return -1;
  if (!dovecot_uidlist_format(l, guid, &text)
      || !stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" DOVECOT_UIDLIST_NAME)
      || !stralloc_copy(&lock, &path) || !stralloc_cats(&lock, ".lock")
      || !stralloc_0(&path) || !stralloc_0(&lock)) goto fail;
  fd = open(lock.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) goto fail;
  if (fchown(fd, st.st_uid, st.st_gid) < 0 && geteuid() == 0) goto unlink;
  while (done < text.len)
  {
    ssize_t w = write(fd, text.s + done, text.len - done);
    if (w < 0) { if (errno == EINTR) continue; goto unlink; }
    done += w;
  }
  if (fsync(fd) < 0) goto unlink;
  if (close(fd) < 0) { fd = -1; goto unlink; }
  fd = -1;
  if (rename(lock.s, path.s) < 0) goto unlink;
  stralloc_free(&text); stralloc_free(&lock); stralloc_free(&path);
  return 1;
unlink:
  e = errno; unlink(lock.s); errno = e;
fail:
  e = errno;
  if (fd >= 0) close(fd);
  stralloc_free(&text); stralloc_free(&lock); stralloc_free(&path);
  errno = e;
  return -1;
}
