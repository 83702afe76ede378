/* imap_mutf7: see imap_mutf7.h. */
#include <stdint.h>
#include "imap_mutf7.h"

static char const B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

static int put_utf8(stralloc *out, uint32_t cp)
{
  char b[4];
  size_t n;
  if (cp < 0x80) { b[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { b[0] = (char)(0xc0 | cp >> 6); b[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
  else if (cp < 0x10000)
  {
    b[0] = (char)(0xe0 | cp >> 12); b[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); b[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
  }
  else
  {
    b[0] = (char)(0xf0 | cp >> 18); b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); b[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
  }
  return stralloc_catb(out, b, n) ? 1 : -1;
}

int imap_mutf7_to_utf8(char const *s, size_t len, stralloc *out)
{
  size_t i = 0, run_end = SIZE_MAX;
  while (i < len)
  {
    unsigned char c = (unsigned char)s[i++];
    uint32_t bits = 0, high = 0;
    unsigned nbits = 0;
    size_t start;
    if (c < 0x20 || c > 0x7e) return 0;
    if (c != '&') { if (!stralloc_catb(out, (char *)&c, 1)) return -1; continue; }
    if (i < len && s[i] == '-') { if (!stralloc_catb(out, "&", 1)) return -1; i++; continue; }
    if (i - 1 == run_end) return 0;   /* two runs in a row: one was due */
    for (start = i; i < len && s[i] != '-'; i++)
    {
      int v = b64_value((unsigned char)s[i]);
      if (v < 0) return 0;
      bits = (bits << 6 | (uint32_t)v) & 0x3fffff;
      nbits += 6;
      if (nbits >= 16)
      {
        uint32_t unit = bits >> (nbits - 16) & 0xffff;
        nbits -= 16;
        if (high)
        {
          if (unit < 0xdc00 || unit > 0xdfff) return 0;
          if (put_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00)) < 0) return -1;
          high = 0;
        }
        else if (unit >= 0xd800 && unit <= 0xdbff) high = unit;
        else if ((unit >= 0xdc00 && unit <= 0xdfff) || unit <= 0x9f) return 0;   /* ASCII or a control */
        else if (put_utf8(out, unit) < 0) return -1;
      }
    }
    /* a run ends with '-', holds at least one character, pads with zero bits */
    if (i >= len || i == start || high || nbits >= 6 || (bits & ((1u << nbits) - 1))) return 0;
    run_end = ++i;
  }
  return 1;
}

/* The code point of the UTF-8 sequence at s[*i], advancing *i; -1 if
 * ill-formed. */
static int32_t get_utf8(char const *s, size_t len, size_t *i)
{
  unsigned char c = (unsigned char)s[*i];
  uint32_t cp, min;
  unsigned more;
  if (c < 0x80) { (*i)++; return c; }
  if (c >= 0xc2 && c <= 0xdf) { cp = c & 0x1f; more = 1; min = 0x80; }
  else if (c >= 0xe0 && c <= 0xef) { cp = c & 0x0f; more = 2; min = 0x800; }
  else if (c >= 0xf0 && c <= 0xf4) { cp = c & 0x07; more = 3; min = 0x10000; }
  else return -1;
  if (len - *i <= more) return -1;
  for (unsigned k = 1; k <= more; k++)
  {
    unsigned char d = (unsigned char)s[*i + k];
    if ((d & 0xc0) != 0x80) return -1;
    cp = cp << 6 | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  *i += more + 1;
  return (int32_t)cp;
}

int imap_utf8_to_mutf7(char const *s, size_t len, stralloc *out)
{
  size_t i = 0;
  while (i < len)
  {
    unsigned char c = (unsigned char)s[i];
    uint32_t bits = 0;
    unsigned nbits = 0;
    if (c >= 0x20 && c <= 0x7e)
    {
      if (!(c == '&' ? stralloc_catb(out, "&-", 2) : stralloc_catb(out, (char *)&c, 1))) return -1;
      i++;
      continue;
    }
    if (!stralloc_catb(out, "&", 1)) return -1;
    while (i < len && ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e))
    {
      int32_t cp = get_utf8(s, len, &i);
      uint32_t units[2];
      unsigned n = 1;
      /* control characters (C0, DEL, C1) have no place in a name */
      if (cp < 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return 0;
      if (cp >= 0x10000)
      {
        units[0] = 0xd800 + (((uint32_t)cp - 0x10000) >> 10);
        units[1] = 0xdc00 + (((uint32_t)cp - 0x10000) & 0x3ff);
        n = 2;
      }
      else units[0] = (uint32_t)cp;
      for (unsigned k = 0; k < n; k++)
      {
        bits = (bits << 16 | units[k]) & 0x3fffff;
        nbits += 16;
        while (nbits >= 6)
        {
          nbits -= 6;
          if (!stralloc_catb(out, &B64[bits >> nbits & 63], 1)) return -1;
        }
      }
    }
    if (nbits && !stralloc_catb(out, &B64[bits << (6 - nbits) & 63], 1)) return -1;
    if (!stralloc_catb(out, "-", 1)) return -1;
  }
  return 1;
}
