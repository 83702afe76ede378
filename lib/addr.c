/* addr.c: mail address syntax. */
#include <string.h>
#include <skalibs/stralloc.h>
#include "addr.h"

/* RFC 5322 atext, plus every byte >= 0x80 (RFC 6531 UTF-8 local parts;
 * utf8_ok checks that those bytes form UTF-8). */
static int atext(unsigned char c)
{
  if (c >= 0x80) return 1;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != 0;
}

/* Is s[0..len) well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF)? ASCII is. */
static int utf8_ok(char const *s, size_t len)
{
  for (size_t i = 0; i < len; )
  {
    unsigned char c = s[i];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) { n = 2; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
    else return 0;
    if (len - i - 1 < n) return 0;
    if ((unsigned char)s[i+1] < lo || (unsigned char)s[i+1] > hi) return 0;
    for (size_t k = 2; k <= n; k++) if (((unsigned char)s[i+k] & 0xc0) != 0x80) return 0;
    i += n + 1;
  }
  return 1;
}

void addr_lower(char *s)
{
  for (; *s; s++) if (*s >= 'A' && *s <= 'Z') *s += 'a' - 'A';
}

int addr_domain_ok(char const *d, size_t len)
{
  size_t label = 0;
  if (!len || len > ADDR_DOMAIN_MAX || !utf8_ok(d, len)) return 0;
  for (size_t i = 0; i < len; i++)
  {
    unsigned char c = d[i];
    if (c == '.')
    {
      if (!label || d[i-1] == '-') return 0;
      label = 0;
      continue;
    }
    if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || (c == '-' && label))) return 0;
    if (++label > 63) return 0;
  }
  return label && d[len-1] != '-';
}

int addr_parse(char const *s, size_t len, stralloc *out)
{
  size_t at, i;
  if (!len || len > ADDR_MAX || memchr(s, 0, len) || !utf8_ok(s, len)) return 0;
  for (at = len; at > 0; at--) if (s[at-1] == '@') break;
  if (!at) return 0;
  at--;
  if (!at || at > ADDR_LOCAL_MAX) return 0;
  for (i = 0; i < at; i++)
  {
    if (s[i] == '.') { if (!i || i + 1 == at || s[i+1] == '.') return 0; continue; }
    if (!atext(s[i])) return 0;
  }
  if (!addr_domain_ok(s + at + 1, len - at - 1)) return 0;
  out->len = 0;
  if (!stralloc_catb(out, s, len) || !stralloc_0(out)) return 0;
  addr_lower(out->s + at + 1);
  return 1;
}

size_t addr_at(char const *addr)
{
  char const *p = strrchr(addr, '@');
  return p ? (size_t)(p - addr) : strlen(addr);
}

int addr_strip_extension(char const *addr, char const *delims, stralloc *out)
{
  size_t at = addr_at(addr), cut = strcspn(addr, delims);
  out->len = 0;
  if (!delims || !*delims || cut >= at || cut == 0)
    return stralloc_copys(out, addr) && stralloc_0(out) ? 0 : 0;
  if (!stralloc_catb(out, addr, cut) || !stralloc_cats(out, addr + at) || !stralloc_0(out)) return 0;
  return 1;
}
