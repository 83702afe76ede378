/* addr.c: mail address syntax. */
#include <string.h>
#include <skalibs/stralloc.h>
#include "addr.h"

/* RFC 5322 atext, plus every byte >= 0x80 (RFC 6531 UTF-8 local parts). */
static int atext(unsigned char c)
{
  if (c >= 0x80) return 1;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != 0;
}

void addr_lower(char *s)
{
  for (; *s; s++) if (*s >= 'A' && *s <= 'Z') *s += 'a' - 'A';
}

int addr_domain_ok(char const *d, size_t len)
{
  size_t label = 0;
  if (!len || len > ADDR_DOMAIN_MAX) return 0;
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
  if (!len || len > ADDR_MAX || memchr(s, 0, len)) return 0;
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
