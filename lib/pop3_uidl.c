/* pop3_uidl.c: Dovecot-style pop3_uidl_format expansion (pop3_uidl.h). */
#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>

#include "md5.h"
#include "pop3_uidl.h"

#define MODIFIERS_MAX 10   /* as many as Dovecot applies to one variable */

typedef struct spec_s {
  int offset, width, zero;
  char mods[MODIFIERS_MAX];
  unsigned int nmods;
  char var;                /* v u f m %, or 0 when unknown */
} spec;

static char long_var(char const *s, size_t len)
{
  static struct { char const *name; char var; } const names[] = {
    { "uidvalidity", 'v' }, { "uid", 'u' }, { "filename", 'f' }, { "guid", 'g' }, { "md5", 'm' } };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strlen(names[i].name) == len && !memcmp(names[i].name, s, len)) return names[i].var;
  return 0;
}

static int number(char const **p, int *n)
{
  int v = 0, digits = 0;
  while (**p >= '0' && **p <= '9')
  {
    if (v > POP3_UIDL_VALUE_MAX) return 0;
    v = v * 10 + (*(*p)++ - '0'); digits++;
  }
  *n = v;
  return digits;
}

/* Parses one expansion after its '%'; advances *p past it. 1 ok, 0 bad. */
static int parse(char const **p, spec *s, char const **why)
{
  int sign = 1, n = 0;
  memset(s, 0, sizeof *s);
  if (**p == '-') { sign = -1; (*p)++; }
  if (**p == '0') { s->zero = 1; (*p)++; }
  number(p, &n);
  s->width = n;
  if (**p == '.')
  {
    (*p)++;
    s->offset = sign * s->width; s->width = 0; sign = 1; s->zero = 0;
    if (**p == '0') { s->zero = 1; (*p)++; }
    if (**p == '-') { sign = -1; (*p)++; }
    number(p, &n);
    s->width = sign * n;
  }
  else if (sign < 0) { *why = "a '-' only goes before an offset"; return 0; }
  while (**p && strchr("XLURMT", **p))
  {
    if (s->nmods == MODIFIERS_MAX) { *why = "more than 10 modifiers"; return 0; }
    s->mods[s->nmods++] = *(*p)++;
  }
  if (!**p) { *why = "a % ends the format"; return 0; }
  if (**p == '{')
  {
    char const *end = strchr(*p, '}');
    if (!end) { *why = "unterminated %{"; return 0; }
    s->var = long_var(*p + 1, end - *p - 1);
    *p = end + 1;
  }
  else
  {
    s->var = strchr("vufgm%", **p) ? **p : 0;
    (*p)++;
  }
  if (!s->var) { *why = "unknown variable (v u f g m or %)"; return 0; }
  return 1;
}

int pop3_uidl_fit(char const *s, size_t len)
{
  if (!len || len > POP3_UIDL_MAX) return 0;
  for (size_t i = 0; i < len; i++) if (s[i] < 0x21 || s[i] > 0x7e) return 0;
  return 1;
}

int pop3_uidl_check(char const *fmt, char const **why)
{
  spec s;
  if (strlen(fmt) > POP3_UIDL_FORMAT_MAX) { *why = "longer than 256 characters"; return 0; }
  if (!*fmt) { *why = "empty"; return 0; }
  while (*fmt)
    if (*fmt++ == '%' && !parse(&fmt, &s, why)) return 0;
  return 1;
}

int pop3_uidl_needs_md5(char const *fmt)
{
  spec s;
  char const *why;
  while (*fmt)
    if (*fmt++ == '%')
    {
      if (!parse(&fmt, &s, &why)) return 0;
      if (s.var == 'm') return 1;
    }
  return 0;
}

static void hex(unsigned char const *b, size_t n, char *out)
{
  static char const digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) { out[2*i] = digits[b[i] >> 4]; out[2*i+1] = digits[b[i] & 15]; }
}

/* One modifier over v (NUL-terminated, at most POP3_UIDL_VALUE_MAX). */
static void modify(char m, char *v)
{
  size_t len = strlen(v);
  switch (m)
  {
    case 'X':
    {
      uint64_t n = 0;
      /* Dovecot: a value that is not a number becomes 0 */
      if (!len || uint64_scan(v, &n) != len) n = 0;
      v[uint64_xfmt(v, n)] = 0;
      for (char *c = v; *c; c++) if (*c >= 'A' && *c <= 'F') *c += 'a' - 'A';
      break;
    }
    case 'L': for (char *c = v; *c; c++) if (*c >= 'A' && *c <= 'Z') *c += 'a' - 'A'; break;
    case 'U': for (char *c = v; *c; c++) if (*c >= 'a' && *c <= 'z') *c -= 'a' - 'A'; break;
    case 'R': for (size_t i = 0; i < len / 2; i++) { char t = v[i]; v[i] = v[len-1-i]; v[len-1-i] = t; } break;
    case 'T': while (len && (v[len-1] == ' ' || v[len-1] == '\t' || v[len-1] == '\n' || v[len-1] == '\r')) v[--len] = 0; break;
    case 'M':
    {
      md5 c;
      unsigned char d[MD5_DIGEST_SIZE];
      md5_init(&c); md5_update(&c, v, len); md5_final(&c, d);
      hex(d, sizeof d, v); v[2 * sizeof d] = 0;
      break;
    }
  }
}

int pop3_uidl_expand(char const *fmt, pop3_uidl_vars const *vars, stralloc *out)
{
  char v[POP3_UIDL_VALUE_MAX + 1];
  while (*fmt)
  {
    spec s;
    char const *why, *p;
    size_t len;
    if (*fmt != '%') { if (!stralloc_append(out, *fmt++)) return 0; continue; }
    fmt++;
    if (!parse(&fmt, &s, &why)) { errno = EINVAL; return 0; }
    switch (s.var)
    {
      case 'v': v[uint32_fmt(v, vars->uidvalidity)] = 0; break;
      case 'u': v[uint32_fmt(v, vars->uid)] = 0; break;
      case 'f': case 'g':
        len = vars->baselen < POP3_UIDL_VALUE_MAX ? vars->baselen : POP3_UIDL_VALUE_MAX;
        memcpy(v, vars->base, len); v[len] = 0; break;
      case 'm':
      {
        unsigned char d[MD5_DIGEST_SIZE];
        if (!vars->header_md5 || !vars->header_md5(vars->ctx, d)) return 0;
        hex(d, sizeof d, v); v[2 * sizeof d] = 0;
        break;
      }
      default: v[0] = '%'; v[1] = 0; break;
    }
    for (unsigned int i = 0; i < s.nmods; i++) modify(s.mods[i], v);
    p = v; len = strlen(v);
    if (s.offset < 0) { if (len > (size_t)-s.offset) { p += len + s.offset; len = -s.offset; } }
    else { size_t skip = (size_t)s.offset < len ? (size_t)s.offset : len; p += skip; len -= skip; }
    if (!s.width) { if (!stralloc_catb(out, p, len)) return 0; }
    else if (!s.zero)
    {
      size_t keep = s.width > 0 ? (size_t)s.width : (len > (size_t)-s.width ? len + s.width : 0);
      if (!stralloc_catb(out, p, keep < len ? keep : len)) return 0;
    }
    else
    {
      for (size_t n = len; n < (size_t)s.width; n++) if (!stralloc_append(out, '0')) return 0;
      if (!stralloc_catb(out, p, len)) return 0;
    }
  }
  return 1;
}
