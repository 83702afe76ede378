/* mime_section.c: BODY[section] and BINARY[section] (RFC 3501 6.4.5,
 * RFC 9051 6.4.5, RFC 3516 4.1) over the part tree of mime.c. */
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include "mime.h"
#include "mime_part.h"

#define MIME_FIELD_NAMES_MAX 1000   /* names in one HEADER.FIELDS list */

static int kw(char const *s, size_t len, char const *word)
{
  size_t n = strlen(word);
  return len == n && !strncasecmp(s, word, n);
}

/* Parses "(NAME NAME ...)" into a NUL-separated list; -1 bad syntax. */
static int field_list(char const *s, stralloc *names)
{
  size_t i = 0;
  unsigned n = 0;
  while (s[i] == ' ') i++;
  if (s[i++] != '(') return -1;
  for (unsigned count = 0; count < MIME_FIELD_NAMES_MAX; count++)
  {
    while (s[i] == ' ') i++;
    if (s[i] == ')') { i++; break; }
    if (!s[i]) return -1;
    if (s[i] == '"')
    {
      for (i++; s[i] && s[i] != '"'; i++)
      {
        if (s[i] == '\\' && s[i+1]) i++;
        if (!stralloc_catb(names, s + i, 1)) return 0;
      }
      if (s[i++] != '"') return -1;
    }
    else
    {
      size_t a = i;
      while (s[i] && s[i] != ' ' && s[i] != ')' && (unsigned char)s[i] > 32 && s[i] != ':' && s[i] != '(') i++;
      if (i == a) return -1;
      if (!stralloc_catb(names, s + a, i - a)) return 0;
    }
    if (!stralloc_0(names)) return 0;
    n++;
  }
  if (s[i] || !n) return -1;
  return 1;
}

static int name_listed(stralloc const *names, char const *name, size_t len)
{
  for (size_t p = 0; p < names->len; p += strlen(names->s + p) + 1)
    if (strlen(names->s + p) == len && !strncasecmp(names->s + p, name, len)) return 1;
  return 0;
}

/* Header fields of [hstart, bstart) whose names are (not) listed, then the blank line. */
static int header_fields(mime_message const *m, size_t hstart, size_t bstart, char const *list, int not, stralloc *out)
{
  stralloc names = STRALLOC_ZERO;
  mime_field f;
  size_t pos = hstart;
  int r = field_list(list, &names);
  if (r != 1) { stralloc_free(&names); return r; }
  for (unsigned count = 0; ; count++)
  {
    size_t start = pos;
    if (!mime_field_next(m->msg, &pos, bstart, &f)) break;
    if (!f.namelen) continue;
    if (name_listed(&names, f.name, f.namelen) != not)
    {
      if (!mime_crlf_cat(out, m->msg, start, pos)) { stralloc_free(&names); return 0; }
      if (m->msg[pos-1] != '\n' && !stralloc_catb(out, "\r\n", 2)) { stralloc_free(&names); return 0; }
    }
  }
  stralloc_free(&names);
  return stralloc_catb(out, "\r\n", 2) ? 1 : 0;
}

/* Splits the section text into part number and the rest ("HEADER..."). */
static int section_resolve(mime_message const *m, char const *section, int *part, char const **spec, int *entity)
{
  size_t i = 0;
  /* section-part = nz-number *("." nz-number) (RFC 3501 9) */
  if (section[0] >= '0' && section[0] <= '9')
    for (unsigned count = 0; ; count++)
    {
      if (section[i] < '1' || section[i] > '9' || count > MIME_DEPTH_MAX * 2) return -1;
      while (section[i] >= '0' && section[i] <= '9') i++;
      if (section[i] == '.' && section[i+1] >= '0' && section[i+1] <= '9') { i++; continue; }
      break;
    }
  *spec = section + i;
  *entity = 0;
  *part = 0;
  if (!i) { *entity = 0; return 1; }
  if (section[i] == '.') { *spec = section + i + 1; if (!**spec) return -1; }
  else if (section[i]) return -1;
  *part = mime_part_lookup(m, section, i);
  *entity = 1;
  return 1;
}

/* Where a section lies: 1 the range [*a, *b) of the stored message (empty for
 * an absent part), 2 the header fields of entity *entity named (or, with
 * *not, not named) in the list *list, -1 bad syntax, 0 no memory. */
static int section_locate(mime_message const *m, char const *section, size_t *a, size_t *b,
                          int *entity, char const **list, int *not)
{
  char const *spec;
  int part, numbered, r = section_resolve(m, section, &part, &spec, &numbered);
  size_t sl;
  if (r != 1) return r;
  *a = *b = 0;
  sl = strcspn(spec, " ");
  if (numbered && (!*spec || kw(spec, sl, "MIME")))
  {
    mime_part const *p;
    if (*spec && spec[sl]) return -1;
    if (part < 0) return 1;              /* absent part: empty (RFC 3501 6.4.5) */
    p = MIME_PART(m, part);
    if (*spec) { *a = p->hstart; *b = p->bstart; }
    else { *a = p->bstart; *b = p->end; }
    return 1;
  }
  if (!*spec) { *b = m->len; return 1; }
  /* HEADER, TEXT, HEADER.FIELDS[.NOT] of the message or an encapsulated one */
  if (kw(spec, sl, "HEADER") || kw(spec, sl, "TEXT")) { if (spec[sl]) return -1; }
  else if (kw(spec, sl, "HEADER.FIELDS") || kw(spec, sl, "HEADER.FIELDS.NOT"))
  {
    stralloc names = STRALLOC_ZERO;
    if (spec[sl] != ' ') return -1;
    r = field_list(spec + sl + 1, &names);
    stralloc_free(&names);
    if (r != 1) return r;
  }
  else return -1;
  *entity = 0;
  if (numbered)
  {
    if (part < 0 || MIME_PART(m, part)->kind != MIME_MESSAGE || MIME_PART(m, part)->first_child < 0)
      return 1;                          /* not an attached message: empty */
    *entity = MIME_PART(m, part)->first_child;
  }
  if (kw(spec, sl, "TEXT")) { *a = MIME_PART(m, *entity)->bstart; *b = MIME_PART(m, *entity)->end; return 1; }
  if (kw(spec, sl, "HEADER")) { *a = MIME_PART(m, *entity)->hstart; *b = MIME_PART(m, *entity)->bstart; return 1; }
  *list = spec + sl + 1;
  *not = kw(spec, sl, "HEADER.FIELDS.NOT");
  return 2;
}

int mime_section_range(mime_message const *m, char const *section, size_t *start, size_t *end)
{
  char const *list;
  int entity, not, r = section_locate(m, section, start, end, &entity, &list, &not);
  return r == 2 ? 0 : r == 1 ? 1 : r == 0 ? -2 : -1;
}

int mime_section(mime_message const *m, char const *section, stralloc *out)
{
  char const *list;
  size_t a, b;
  int entity, not, r = section_locate(m, section, &a, &b, &entity, &list, &not);
  if (r == 1) return mime_crlf_cat(out, m->msg, a, b) ? 1 : 0;
  if (r != 2) return r;
  return header_fields(m, MIME_PART(m, entity)->hstart, MIME_PART(m, entity)->bstart, list, not, out);
}

size_t mime_crlf_length(char const *s, size_t len)
{
  return mime_crlf_size(s, 0, len);
}

int mime_crlf_append(stralloc *out, char const *s, size_t len)
{
  return mime_crlf_cat(out, s, 0, len);
}

int mime_section_binary(mime_message const *m, char const *section, stralloc *out)
{
  mime_field f;
  stralloc enc = STRALLOC_ZERO;
  mime_part const *p;
  char const *spec;
  int part, numbered, r;
  if (!*section) return mime_crlf_cat(out, m->msg, 0, m->len) ? 1 : 0;
  r = section_resolve(m, section, &part, &spec, &numbered);
  if (r != 1) return r;
  if (*spec || !numbered) return -1;    /* section-binary = "[" [section-part] "]" (RFC 3516 4.1) */
  if (part < 0) return 1;
  p = MIME_PART(m, part);
  if (p->kind != MIME_LEAF || !mime_field_find(m->msg, p->hstart, p->bstart, "content-transfer-encoding", &f))
    return mime_crlf_cat(out, m->msg, p->bstart, p->end) ? 1 : 0;
  if (!mime_unfold(f.value, f.valuelen, &enc) || !stralloc_0(&enc)) { stralloc_free(&enc); return 0; }
  r = mime_cte_decode(enc.s, m->msg + p->bstart, p->end - p->bstart, out);
  stralloc_free(&enc);
  return r;
}
