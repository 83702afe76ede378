/* mime.c: the part tree (RFC 2045, RFC 2046 5.1) and header fields. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include "mime.h"
#include "mime_part.h"

#define MIME_LINE_MAX 998       /* RFC 5322 2.1.1: boundaries are looked for within a line */
#define MIME_PARAMS_MAX 100     /* parameters (and RFC 2231 sections) kept per header field */

/* End of the line starting at p (just past its LF, or end). */
static size_t line_end(char const *s, size_t p, size_t end)
{
  char const *nl = memchr(s + p, '\n', end - p);
  return nl ? (size_t)(nl - s) + 1 : end;
}

/* Is the line at p blank (LF or CRLF only)? */
static int line_blank(char const *s, size_t p, size_t end)
{
  if (p < end && s[p] == '\n') return 1;
  return p + 1 < end && s[p] == '\r' && s[p+1] == '\n';
}

int mime_field_next(char const *s, size_t *pos, size_t end, mime_field *f)
{
  size_t p = *pos, e, colon;
  if (p >= end || line_blank(s, p, end)) return 0;
  e = line_end(s, p, end);
  /* continuation lines: those starting with WSP (RFC 5322 2.2.3) */
  while (e < end && (s[e] == ' ' || s[e] == '\t')) e = line_end(s, e, end);
  for (colon = p; colon < e && s[colon] != ':' && s[colon] != '\n'; colon++) ;
  f->name = s + p;
  if (colon < e && s[colon] == ':')
  {
    size_t n = colon - p;
    while (n && (s[p+n-1] == ' ' || s[p+n-1] == '\t')) n--;   /* obs-optional "Name :" */
    f->namelen = n;
    f->value = s + colon + 1;
    f->valuelen = e - colon - 1;
  }
  else { f->namelen = 0; f->value = s + e; f->valuelen = 0; }   /* not a field: skipped by name */
  *pos = e;
  return 1;
}

int mime_field_find(char const *s, size_t hstart, size_t hend, char const *name, mime_field *f)
{
  size_t pos = hstart, n = strlen(name);
  while (mime_field_next(s, &pos, hend, f))
    if (f->namelen == n && !strncasecmp(f->name, name, n)) return 1;
  return 0;
}

int mime_unfold(char const *v, size_t len, stralloc *out)
{
  size_t a = 0, b = len;
  while (a < b && (v[a] == ' ' || v[a] == '\t' || v[a] == '\r' || v[a] == '\n')) a++;
  while (b > a && (v[b-1] == ' ' || v[b-1] == '\t' || v[b-1] == '\r' || v[b-1] == '\n')) b--;
  if (!stralloc_readyplus(out, b - a + 1)) return 0;
  for (size_t i = a; i < b; i++)
    if (v[i] != '\r' && v[i] != '\n' && v[i]) out->s[out->len++] = v[i];
  return 1;
}

/* RFC 2045 5.1 token characters (tspecials and CTLs excluded). */
static int tokenchar(unsigned char c)
{
  return c > 32 && c != 127 && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* Skips white space and (nested) comments. */
static size_t skip_cfws(char const *v, size_t i, size_t len)
{
  unsigned depth = 0;
  for (; i < len; i++)
  {
    char c = v[i];
    if (depth)
    {
      if (c == '\\' && i + 1 < len) i++;
      else if (c == '(') depth++;
      else if (c == ')') depth--;
    }
    else if (c == '(') depth = 1;
    else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
  }
  return i;
}

/* Reads a token (or, if quoted_ok, a quoted-string) into sa, NUL-terminated. */
static size_t read_word(char const *v, size_t i, size_t len, int quoted_ok, char const *stop, stralloc *sa, int *ok)
{
  *ok = 0;
  if (quoted_ok && i < len && v[i] == '"')
  {
    for (i++; i < len && v[i] != '"'; i++)
    {
      if (v[i] == '\\' && i + 1 < len) i++;
      if (v[i] == '\r' || v[i] == '\n') continue;
      if (!stralloc_catb(sa, v + i, 1)) return len + 1;
    }
    if (i < len) i++;
    *ok = 1;
  }
  else
  {
    size_t a = i;
    /* forgiving: unquoted values may hold '/', '@', '?' ... (broken mailers) */
    while (i < len && (tokenchar(v[i]) || (stop && (unsigned char)v[i] > 32 && !strchr(stop, v[i])))) i++;
    if (!stralloc_catb(sa, v + a, i - a)) return len + 1;
    *ok = i > a;
  }
  if (!stralloc_0(sa)) return len + 1;
  return i;
}

/* One parsed parameter before RFC 2231 joining. */
typedef struct { size_t attr, value; int section; int extended; } rawparam;

/* Joins RFC 2231 continuations name*0*, name*1 ... into single parameters
 * (name*, when any piece is extended, keeping the charset'lang' prefix). */
static int params_join(stralloc *raw, genalloc *rp, mime_ctype *ct)
{
  rawparam *p = genalloc_s(rawparam, rp);
  unsigned int n = genalloc_len(rawparam, rp);
  unsigned char *done = calloc(n ? n : 1, 1);
  if (!done) return 0;
  for (unsigned int i = 0; i < n; i++)
  {
    if (done[i]) continue;
    done[i] = 1;
    if (p[i].section < 0)
    {
      if (!stralloc_cats(&ct->sa, raw->s + p[i].attr) || !stralloc_0(&ct->sa)
          || !stralloc_cats(&ct->sa, raw->s + p[i].value) || !stralloc_0(&ct->sa)) goto nomem;
      ct->nparams++;
      continue;
    }
    /* a continuation set: collect sections 0, 1, 2 ... of the same name */
    int extended = 0;
    for (unsigned int j = i; j < n; j++)
      if (p[j].section >= 0 && !strcasecmp(raw->s + p[j].attr, raw->s + p[i].attr) && p[j].extended) extended = 1;
    if (!stralloc_cats(&ct->sa, raw->s + p[i].attr) || (extended && !stralloc_catb(&ct->sa, "*", 1))
        || !stralloc_0(&ct->sa)) goto nomem;
    for (int want = 0; want < MIME_PARAMS_MAX; want++)
    {
      unsigned int j;
      for (j = i; j < n; j++)
        if (p[j].section == want && !strcasecmp(raw->s + p[j].attr, raw->s + p[i].attr)) break;
      if (j == n) break;
      done[j] = 1;
      if (extended && !p[j].extended && want > 0)
      {
        /* a plain piece inside an extended value: percent-encode what must be */
        for (char const *c = raw->s + p[j].value; *c; c++)
        {
          if (tokenchar(*c) && *c != '%' && *c != '*' && *c != '\'') { if (!stralloc_catb(&ct->sa, c, 1)) goto nomem; }
          else
          {
            char hex[3] = { '%', "0123456789ABCDEF"[(unsigned char)*c >> 4], "0123456789ABCDEF"[*c & 15] };
            if (!stralloc_catb(&ct->sa, hex, 3)) goto nomem;
          }
        }
      }
      else if (!stralloc_cats(&ct->sa, raw->s + p[j].value)) goto nomem;
    }
    if (!stralloc_0(&ct->sa)) goto nomem;
    ct->nparams++;
    for (unsigned int j = i; j < n; j++)   /* stray pieces of the set (gaps) are dropped */
      if (p[j].section >= 0 && !strcasecmp(raw->s + p[j].attr, raw->s + p[i].attr)) done[j] = 1;
  }
  free(done);
  return 1;
nomem:
  free(done);
  return 0;
}

int mime_ctype_parse(char const *v, size_t len, int with_subtype, mime_ctype *ct)
{
  stralloc raw = STRALLOC_ZERO;
  genalloc rp = GENALLOC_ZERO;
  size_t i;
  int ok, r = 0;
  ct->sa.len = 0; ct->nparams = 0;
  i = skip_cfws(v, 0, len);
  ct->type = 0;
  i = read_word(v, i, len, 0, 0, &ct->sa, &ok);
  if (i > len) goto end;
  if (!ok) { r = -1; goto end; }
  i = skip_cfws(v, i, len);
  ct->subtype = ct->sa.len;
  if (with_subtype)
  {
    if (i >= len || v[i] != '/') { r = -1; goto end; }
    i = skip_cfws(v, i + 1, len);
    i = read_word(v, i, len, 0, 0, &ct->sa, &ok);
    if (i > len) goto end;
    if (!ok) { r = -1; goto end; }
  }
  else if (!stralloc_0(&ct->sa)) goto end;
  ct->params = ct->sa.len;
  /* parameters: ; attr = value, forgiving about missing semicolons */
  for (unsigned int count = 0; count < MIME_PARAMS_MAX; count++)
  {
    rawparam p;
    size_t a;
    i = skip_cfws(v, i, len);
    while (i < len && v[i] == ';') i = skip_cfws(v, i + 1, len);
    if (i >= len) break;
    a = raw.len;
    i = read_word(v, i, len, 0, 0, &raw, &ok);
    if (i > len) goto end;
    if (!ok) { i++; continue; }
    i = skip_cfws(v, i, len);
    if (i >= len || v[i] != '=') continue;
    i = skip_cfws(v, i + 1, len);
    p.attr = a;
    p.value = raw.len;
    i = read_word(v, i, len, 1, ";", &raw, &ok);
    if (i > len) goto end;
    /* RFC 2231 3-4: name*N or name*N* (sections), name* (extended alone) */
    p.section = -1; p.extended = 0;
    {
      char *attr = raw.s + p.attr;
      char *star = strchr(attr, '*');
      if (star && star[1] >= '0' && star[1] <= '9')
      {
        char *e;
        long sec = strtol(star + 1, &e, 10);
        if ((*e == 0 || (*e == '*' && e[1] == 0)) && sec < MIME_PARAMS_MAX)
        {
          p.section = (int)sec;
          p.extended = *e == '*';
          *star = 0;
        }
      }
    }
    if (!genalloc_append(rawparam, &rp, &p)) goto end;
  }
  r = params_join(&raw, &rp, ct) ? 1 : 0;
end:
  if (r != 1) { ct->sa.len = 0; ct->nparams = 0; ct->type = ct->subtype = ct->params = 0; }
  stralloc_free(&raw);
  genalloc_free(rawparam, &rp);
  return r;
}

char const *mime_ctype_param(mime_ctype const *ct, char const *attr)
{
  size_t p = ct->params;
  for (unsigned int i = 0; i < ct->nparams && p < ct->sa.len; i++)
  {
    char const *a = ct->sa.s + p, *v = a + strlen(a) + 1;
    if (!strcasecmp(a, attr)) return v;
    p = (size_t)(v - ct->sa.s) + strlen(v) + 1;
  }
  return 0;
}

/* Content-Type of the entity at hstart..bstart, or the default. */
static int ctype_of(char const *s, size_t hstart, size_t hend, int in_digest, mime_ctype *ct, int *valid)
{
  mime_field f;
  int r;
  *valid = 0;
  if (mime_field_find(s, hstart, hend, "content-type", &f))
  {
    r = mime_ctype_parse(f.value, f.valuelen, 1, ct);
    if (!r) return 0;
    if (r == 1) { *valid = 1; return 1; }
  }
  /* RFC 2045 5.2 / RFC 2046 5.1.5 defaults */
  ct->sa.len = 0; ct->nparams = 0; ct->type = 0;
  if (in_digest)
  {
    if (!stralloc_catb(&ct->sa, "message\0rfc822\0", 15)) return 0;
    ct->subtype = 8; ct->params = 15;
  }
  else
  {
    if (!stralloc_catb(&ct->sa, "text\0plain\0charset\0us-ascii\0", 28)) return 0;
    ct->subtype = 5; ct->params = 11; ct->nparams = 1;
  }
  return 1;
}

int mime_part_ctype(mime_message const *m, int i, mime_ctype *ct)
{
  mime_part const *p = MIME_PART(m, i);
  int valid;
  if (!p->ct_valid)
    return ctype_of(m->msg, p->hstart, p->hstart, p->in_digest, ct, &valid);
  return ctype_of(m->msg, p->hstart, p->bstart, p->in_digest, ct, &valid);
}

size_t mime_crlf_size(char const *s, size_t a, size_t b)
{
  size_t n = b - a;
  char const *p = s + a, *e = s + b;
  while (p < e && (p = memchr(p, '\n', e - p)))
  {
    if (p == s + a ? (a == 0 || s[a-1] != '\r') : p[-1] != '\r') n++;
    p++;
  }
  return n;
}

size_t mime_line_count(char const *s, size_t a, size_t b)
{
  size_t n = 0;
  char const *p = s + a, *e = s + b;
  while (p < e && (p = memchr(p, '\n', e - p))) { n++; p++; }
  return n;
}

int mime_crlf_cat(stralloc *out, char const *s, size_t a, size_t b)
{
  if (!stralloc_readyplus(out, mime_crlf_size(s, a, b))) return 0;
  while (a < b)
  {
    char const *nl = memchr(s + a, '\n', b - a);
    size_t n = nl ? (size_t)(nl - s) - a : b - a;
    memcpy(out->s + out->len, s + a, n);
    out->len += n;
    a += n;
    if (!nl) break;
    if (!(n ? s[a-1] == '\r' : (a > 0 && s[a-1] == '\r'))) out->s[out->len++] = '\r';
    out->s[out->len++] = '\n';
    a++;
  }
  return 1;
}

/* Header end: the offset just after the blank line (or end). */
static size_t header_end(char const *s, size_t p, size_t end)
{
  while (p < end)
  {
    if (line_blank(s, p, end)) return line_end(s, p, end);
    p = line_end(s, p, end);
  }
  return end;
}

/* Does the line at p start with "--" boundary, as a delimiter (1) or the
 * close delimiter (2)? RFC 2046 5.1.1: only linear white space may follow. */
static int boundary_line(char const *s, size_t p, size_t end, char const *b, size_t blen)
{
  size_t i;
  if (end - p < blen + 2 || s[p] != '-' || s[p+1] != '-' || memcmp(s + p + 2, b, blen)) return 0;
  i = p + 2 + blen;
  int close = 0;
  if (i + 1 < end && s[i] == '-' && s[i+1] == '-') { close = 1; i += 2; }
  while (i < end && (s[i] == ' ' || s[i] == '\t')) i++;
  if (i < end && s[i] != '\r' && s[i] != '\n') return close ? 2 : 0;   /* "--b--junk" still closes */
  if (i < end && s[i] == '\r' && !(i + 1 < end && s[i+1] == '\n') && !close) return 0;
  return close ? 2 : 1;
}

/* End of the content before the delimiter line at p: its preceding line end
 * belongs to the delimiter (RFC 2046 5.1.1). */
static size_t before_delim(char const *s, size_t p, size_t floor)
{
  if (p > floor && s[p-1] == '\n') { p--; if (p > floor && s[p-1] == '\r') p--; }
  return p;
}

static int add_part(mime_message *m, size_t hstart, size_t end, int parent, unsigned depth, int in_digest);

static void link_child(mime_message *m, int parent, int child)
{
  mime_part *pp = MIME_PART(m, parent);
  if (pp->first_child < 0) pp->first_child = child;
  else MIME_PART(m, pp->last_child)->next_sibling = child;
  pp->last_child = child;
  pp->nchildren++;
}

static int split_multipart(mime_message *m, int idx, char const *boundary, unsigned depth, int digest)
{
  char const *s = m->msg;
  size_t blen = strlen(boundary);
  size_t p = MIME_PART(m, idx)->bstart, end = MIME_PART(m, idx)->end;
  size_t part_start = 0;
  int open = 0;
  while (p < end)
  {
    size_t next = line_end(s, p, end);
    int kind = boundary_line(s, p, end, boundary, blen);
    if (kind)
    {
      if (open)
      {
        size_t pend = before_delim(s, p, part_start);
        if (pend < part_start) pend = part_start;
        int c = add_part(m, part_start, pend, idx, depth + 1, digest);
        if (c < 0) return 0;
      }
      if (kind == 2) { open = 0; break; }
      open = 1;
      part_start = next;
      if (genalloc_len(mime_part, &m->parts) >= MIME_PARTS_MAX) { open = 0; break; }
    }
    p = next;
  }
  if (open)   /* no close delimiter: the last part runs to the end */
    if (add_part(m, part_start, end, idx, depth + 1, digest) < 0) return 0;
  return 1;
}

/* Adds the entity s[hstart..end) as a child of parent (-1 for the message)
 * and parses its insides. Returns its index, or -1 on no memory. */
static int add_part(mime_message *m, size_t hstart, size_t end, int parent, unsigned depth, int in_digest)
{
  mime_part p;
  mime_ctype ct = MIME_CTYPE_ZERO;
  int idx, valid;
  p.hstart = hstart;
  p.bstart = header_end(m->msg, hstart, end);
  p.end = end;
  p.parent = parent; p.first_child = -1; p.last_child = -1; p.next_sibling = -1; p.nchildren = 0;
  p.kind = MIME_LEAF; p.in_digest = in_digest; p.ct_valid = 0;
  if (!ctype_of(m->msg, p.hstart, p.bstart, in_digest, &ct, &valid)) goto nomem;
  p.ct_valid = valid;
  idx = genalloc_len(mime_part, &m->parts);
  if (!genalloc_append(mime_part, &m->parts, &p)) goto nomem;
  if (parent >= 0) link_child(m, parent, idx);
  if (depth < MIME_DEPTH_MAX && genalloc_len(mime_part, &m->parts) < MIME_PARTS_MAX)
  {
    char const *type = ct.sa.s + ct.type, *sub = ct.sa.s + ct.subtype;
    if (!strcasecmp(type, "multipart"))
    {
      char const *b = mime_ctype_param(&ct, "boundary");
      if (b && *b && strlen(b) <= MIME_LINE_MAX)
      {
        MIME_PART(m, idx)->kind = MIME_MULTIPART;
        if (!split_multipart(m, idx, b, depth, !strcasecmp(sub, "digest"))) goto nomem;
      }
      else MIME_PART(m, idx)->ct_valid = 0;   /* no boundary: text/plain (RFC 2045 5.2) */
    }
    else if (!strcasecmp(type, "message") && (!strcasecmp(sub, "rfc822") || !strcasecmp(sub, "global")))
    {
      MIME_PART(m, idx)->kind = MIME_MESSAGE;
      if (add_part(m, MIME_PART(m, idx)->bstart, end, idx, depth + 1, 0) < 0) goto nomem;
    }
  }
  stralloc_free(&ct.sa);
  return idx;
nomem:
  stralloc_free(&ct.sa);
  return -1;
}

mime_message *mime_parse(char const *msg, size_t len)
{
  mime_message *m = malloc(sizeof *m);
  if (!m) return 0;
  m->msg = msg; m->len = len;
  m->parts = (stralloc)STRALLOC_ZERO;
  if (add_part(m, 0, len, -1, 0, 0) < 0) { mime_free(m); errno = ENOMEM; return 0; }
  return m;
}

void mime_free(mime_message *m)
{
  if (!m) return;
  genalloc_free(mime_part, &m->parts);
  free(m);
}

size_t mime_size_crlf(mime_message const *m)
{
  return mime_crlf_size(m->msg, 0, m->len);
}

/* Child number n (1-based) of part i, or -1. */
static int child(mime_message const *m, int i, unsigned long n)
{
  int c = MIME_PART(m, i)->first_child;
  while (c >= 0 && --n) c = MIME_PART(m, c)->next_sibling;
  return c;
}

int mime_part_lookup(mime_message const *m, char const *num, size_t len)
{
  int cur = 0;       /* the entity whose parts the next number counts */
  int part = -1;
  size_t i = 0;
  while (i < len)
  {
    unsigned long n = 0;
    size_t a = i;
    if (num[i] == '0') return -1;
    while (i < len && num[i] >= '0' && num[i] <= '9' && i - a < 9) n = n * 10 + (num[i++] - '0');
    if (i == a || (i < len && num[i] != '.')) return -1;
    if (i < len) { i++; if (i == len) return -1; }
    if (cur < 0) return -1;
    int self = MIME_PART(m, cur)->kind != MIME_MULTIPART;
    if (!self) part = child(m, cur, n);
    else part = n == 1 ? cur : -1;      /* a non-multipart entity has only part 1: itself */
    if (part < 0) return -1;
    /* the next number counts inside an encapsulated message, or the multipart
     * itself; a leaf answers once more for its own part 1, as Dovecot does */
    if (MIME_PART(m, part)->kind == MIME_MESSAGE) cur = MIME_PART(m, part)->first_child;
    else if (MIME_PART(m, part)->kind == MIME_MULTIPART) cur = part;
    else cur = self ? -1 : part;
  }
  return part;
}
