/* CATENATE (RFC 4469): APPEND's message made of parts, each a literal
 * (TEXT) or an IMAP URL (RFC 5092) naming a message, or a section of one,
 * in a folder of this user: "/folder[;UIDVALIDITY=n]/;UID=n[/;SECTION=s]
 * [/;PARTIAL=off[.len]]", or the same after "imap://authority". The parts
 * are joined in memory in the form FETCH gives them (CRLF line ends), then
 * stored as one APPEND literal is. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/types.h>
#include "imap_io.h"
#include "mime.h"
#include "imapd.h"

/* Percent-decodes s[len] into out (NUL-terminated); 0 on a bad escape or a
 * NUL byte. */
static int pct_decode(char const *s, size_t len, stralloc *out)
{
  out->len = 0;
  for (size_t i = 0; i < len; i++)
  {
    char ch = s[i];
    if (ch == '%')
    {
      unsigned v = 0;
      for (int k = 1; k <= 2; k++)
      {
        char h = i + k < len ? s[i + k] : 0;
        int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if (d < 0) return 0;
        v = v * 16 + (unsigned)d;
      }
      ch = (char)v; i += 2;
    }
    if (!ch) return 0;
    if (!stralloc_catb(out, &ch, 1)) die_nomem();
  }
  if (!stralloc_0(out)) die_nomem();
  out->len--;
  return 1;
}

/* "/;NAME=value" at *p (case-insensitive NAME); the value's bounds. */
static int url_param(char const **p, char const *end, char const *name, char const **v, size_t *vlen)
{
  size_t n = strlen(name);
  char const *s = *p, *e;
  if ((size_t)(end - s) < n + 3 || s[0] != '/' || s[1] != ';' || strncasecmp(s + 2, name, n) || s[2 + n] != '=') return 0;
  s += n + 3;
  for (e = s; e < end && *e != '/'; e++) ;
  *v = s; *vlen = (size_t)(e - s); *p = e;
  return 1;
}

static int url_number(char const *s, size_t len, uint64_t *n)
{
  size_t k = uint64_scan(s, n);
  return len && k == len;
}

/* The URL's content appended to data; 1 ok, 0 the URL names nothing we
 * can give (BADURL). */
static int url_resolve(char const *url, size_t len, stralloc *data)
{
  char const *p = url, *end = url + len, *v, *semi;
  size_t vlen;
  uint64_t uidvalidity = 0, uid, off = 0, plen = UINT64_MAX;
  stralloc name = STRALLOC_ZERO, section = STRALLOC_ZERO, text = STRALLOC_ZERO, part = STRALLOC_ZERO;
  mailbox b;
  mime_message *mm = 0;
  int ok = 0;
  memset(&b, 0, sizeof b);
  if (len >= 7 && !strncasecmp(p, "imap://", 7))
  {
    p += 7;
    while (p < end && *p != '/') p++;
  }
  if (p >= end || *p != '/') goto end;
  p++;
  /* the folder name runs to ";UIDVALIDITY=" or "/;UID=" */
  for (v = p; v < end && *v != '/' && *v != ';'; v++) ;
  if (!pct_decode(p, (size_t)(v - p), &name) || !name.len) goto end;
  p = v;
  if (p < end && *p == ';')
  {
    if ((size_t)(end - p) < 13 || strncasecmp(p, ";UIDVALIDITY=", 13)) goto end;
    p += 13;
    for (semi = p; semi < end && *semi != '/'; semi++) ;
    if (!url_number(p, (size_t)(semi - p), &uidvalidity) || !uidvalidity) goto end;
    p = semi;
  }
  if (!url_param(&p, end, "UID", &v, &vlen) || !url_number(v, vlen, &uid) || !uid || uid > UINT32_MAX) goto end;
  if (url_param(&p, end, "SECTION", &v, &vlen) && !pct_decode(v, vlen, &section)) goto end;
  if (url_param(&p, end, "PARTIAL", &v, &vlen))
  {
    char const *dot = memchr(v, '.', vlen);
    if (!url_number(v, dot ? (size_t)(dot - v) : vlen, &off)) goto end;
    if (dot && (!url_number(dot + 1, vlen - (size_t)(dot + 1 - v), &plen) || !plen)) goto end;
  }
  if (p != end) goto end;
  if (!name_from_wire(&name) || !stralloc_0(&name)) goto end;
  if (mailbox_open(&b, name.s, 1) <= 0) goto end;
  if (uidvalidity && uidvalidity != b.uidvalidity) goto end;
  for (size_t i = 0, n = genalloc_len(msg, &b.msgs); i < n; i++)
  {
    msg *m = genalloc_s(msg, &b.msgs) + i;
    if (m->uid != uid) continue;
    if (msg_read(&b, m, &text) < 0) goto end;
    if (!(mm = mime_parse(text.s, text.len))) die_nomem();
    if (!stralloc_0(&section)) die_nomem();
    switch (mime_section(mm, section.s, &part)) { case 1: break; case 0: die_nomem(); default: goto end; }
    if (off < part.len)
    {
      size_t n2 = part.len - (size_t)off;
      if (plen < n2) n2 = (size_t)plen;
      if (!stralloc_catb(data, part.s + off, n2)) die_nomem();
    }
    ok = 1;
    break;
  }
 end:
  if (mm) mime_free(mm);
  mailbox_free_msgs(&b);
  genalloc_free(msg, &b.msgs);
  imap_cache_free(&b.cache);
  modseq_free(&b.modlog);
  stralloc_free(&b.name); stralloc_free(&b.dir); stralloc_free(&b.keywords);
  stralloc_free(&name); stralloc_free(&section); stralloc_free(&text); stralloc_free(&part);
  return ok;
}

/* A spooled TEXT literal's bytes, appended to data; 0 ok, else an errno. */
static int spool_read(int fd, stralloc *data)
{
  char buf[8192];
  off_t at = 0;
  for (;;)
  {
    ssize_t r = pread(fd, buf, sizeof buf, at);
    if (r < 0) { if (errno == EINTR) continue; return errno; }
    if (!r) return 0;
    if (data->len + (size_t)r > IMAP_LITERAL_MAX) return EFBIG;
    if (!stralloc_catb(data, buf, (size_t)r)) die_nomem();
    at += r;
  }
}

int catenate_parts(imap_cursor *c, stralloc *data, stralloc *badurl)
{
  stralloc word = STRALLOC_ZERO, part = STRALLOC_ZERO;
  unsigned n = 0;
  int r = 0;
  data->len = 0;
  if (!imap_char(c, '(')) goto end;
  for (;;)
  {
    if (++n > CATENATE_PARTS_MAX) goto end;
    word.len = 0;
    if (!imap_atom(c, &word) || !stralloc_0(&word) || !imap_sp(c)) goto end;
    part.len = 0;
    if (!strcasecmp(word.s, "TEXT"))
    {
      int fd, err;
      size_t at = c->pos;
      if (imap_peek(c) != '{' || !imap_string(c, &part)) goto end;
      if (imap_spooled_at(at, &fd, &err))
      {
        if (!err) err = spool_read(fd, &part);
        if (err) { r = -2; errno = err; goto end; }
      }
    }
    else if (!strcasecmp(word.s, "URL"))
    {
      if (!imap_astring(c, &part)) goto end;
      /* parse all parts first: a syntax error is BAD whatever the URLs */
      if (!r && !url_resolve(part.s, part.len, data))
      {
        if (!stralloc_copy(badurl, &part)) die_nomem();
        r = -1;
      }
      part.len = 0;
    }
    else goto end;
    if (data->len + part.len > IMAP_LITERAL_MAX) { r = -2; errno = EFBIG; goto end; }
    if (!stralloc_cat(data, &part)) die_nomem();
    if (imap_char(c, ')')) break;
    if (!imap_sp(c)) goto end;
  }
  if (!r) r = 1;
  stralloc_free(&word); stralloc_free(&part);
  return r;
 end:
  stralloc_free(&word); stralloc_free(&part);
  return r == -2 ? -2 : 0;
}
