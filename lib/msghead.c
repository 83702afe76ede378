/* msghead.c: header fields and address lists of an injected message. */
#include <string.h>
#include <strings.h>

#include "msghead.h"

static size_t line_end(char const *s, size_t len, size_t pos)
{
  char const *nl = memchr(s + pos, '\n', len - pos);
  return nl ? (size_t)(nl - s) + 1 : len;
}

int msghead_next(char const *s, size_t len, size_t *pos, struct msghead_field *f, int *blank)
{
  size_t p = *pos, e, n = 0;
  *blank = 0;
  if (p >= len) return 0;
  if (s[p] == '\n' || (s[p] == '\r' && p + 1 < len && s[p+1] == '\n')) { *blank = 1; return 0; }
  /* field-name = 1*ftext (printable ASCII but ':') */
  while (p + n < len && n <= MSGHEAD_FIELD_NAME_MAX && s[p+n] > 32 && s[p+n] < 127 && s[p+n] != ':') n++;
  if (!n || n > MSGHEAD_FIELD_NAME_MAX || p + n >= len || s[p+n] != ':') return 0;
  f->start = p;
  f->name = s + p;
  f->namelen = n;
  f->value = s + p + n + 1;
  e = line_end(s, len, p);
  while (e < len && (s[e] == ' ' || s[e] == '\t')) e = line_end(s, len, e);   /* bounded by len */
  f->end = e;
  {
    size_t v = e;
    if (v > p + n + 1 && s[v-1] == '\n') v--;
    if (v > p + n + 1 && s[v-1] == '\r') v--;
    f->valuelen = v - (p + n + 1);
  }
  *pos = e;
  return 1;
}

int msghead_is(struct msghead_field const *f, char const *name)
{
  return strlen(name) == f->namelen && !strncasecmp(f->name, name, f->namelen);
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Adds one element's address: the bracketed one if any, else the bare text. */
static int finish(stralloc *elem, stralloc *angle, int had_angle, stralloc *out, int *count)
{
  stralloc *a = had_angle ? angle : elem;
  size_t from = 0, to = a->len;
  int r = 0;
  if (had_angle && a->len && a->s[0] == '@')
  {
    /* obs-route "@a,@b:" before the address */
    char const *colon = memchr(a->s, ':', a->len);
    from = colon ? (size_t)(colon - a->s) + 1 : a->len;
  }
  while (from < to && is_space(a->s[from])) from++;
  while (to > from && is_space(a->s[to-1])) to--;
  if (to > from)
  {
    if (to - from > MSGHEAD_ADDR_MAX || *count >= MSGHEAD_ADDRS_MAX || memchr(a->s + from, 0, to - from)) r = -1;
    else if (!stralloc_catb(out, a->s + from, to - from) || !stralloc_0(out)) r = -1;
    else ++*count;
  }
  elem->len = 0;
  angle->len = 0;
  return r;
}

int msghead_addresses(char const *value, size_t len, stralloc *out)
{
  stralloc elem = STRALLOC_ZERO, angle = STRALLOC_ZERO;
  int count = 0, quoted = 0, in_angle = 0, had_angle = 0, r = 0;
  unsigned int comment = 0;
  for (size_t i = 0; i < len && r == 0; i++)   /* one pass over the value */
  {
    char c = value[i];
    stralloc *to = in_angle ? &angle : &elem;
    if (comment)
    {
      if (c == '\\') i++;
      else if (c == '(') { if (comment < MSGHEAD_COMMENT_DEPTH) comment++; }
      else if (c == ')') comment--;
      continue;
    }
    if (quoted)
    {
      if (c == '\\' && i + 1 < len) { if (!stralloc_catb(to, value + i, 2)) r = -1; i++; continue; }
      if (c == '"') quoted = 0;
      if (!stralloc_catb(to, &c, 1)) r = -1;
      continue;
    }
    switch (c)
    {
      case '(': comment = 1; break;
      case '"': quoted = 1; if (!stralloc_catb(to, &c, 1)) r = -1; break;
      case '<': in_angle = 1; had_angle = 1; angle.len = 0; break;
      case '>': in_angle = 0; break;
      case ':':
        if (in_angle) { if (!stralloc_catb(to, &c, 1)) r = -1; }
        else elem.len = 0;   /* a group's display name */
        break;
      case ',':
        if (in_angle) { if (!stralloc_catb(to, &c, 1)) r = -1; break; }
        /* fall through */
      case ';':
        if (in_angle && c == ';') break;
        r = finish(&elem, &angle, had_angle, out, &count);
        had_angle = 0;
        break;
      default:
        /* unquoted whitespace inside an addr-spec is folding: drop it */
        if (is_space(c) && !in_angle && !had_angle) { if (elem.len && !stralloc_catb(&elem, " ", 1)) r = -1; }
        else if (!is_space(c) && !stralloc_catb(to, &c, 1)) r = -1;
    }
  }
  if (!r) r = finish(&elem, &angle, had_angle, out, &count);
  stralloc_free(&elem); stralloc_free(&angle);
  return r < 0 ? -1 : count;
}
