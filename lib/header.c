/* header.c: Delivered-To lookup and line-ending detection on a header prefix. */
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "header.h"

#define DELIVERED_TO "delivered-to"
#define DELIVERED_TO_LEN (sizeof DELIVERED_TO - 1)
#define FIELD_VALUE_MAX (ADDR_MAX + 2)   /* an address, maybe <>-bracketed */

static int is_wsp(char c) { return c == ' ' || c == '\t'; }

/* Length of the line starting at s (up to n bytes), without its LF or CR LF;
 * *next is set past the line ending (or to n if the line is cut). */
static size_t line_at(char const *s, size_t n, size_t *next)
{
  char const *nl = memchr(s, '\n', n);
  size_t len = nl ? (size_t)(nl - s) : n;
  *next = nl ? len + 1 : n;
  if (len && s[len-1] == '\r') len--;
  return len;
}

/* Compares the collected value, trimmed and unbracketed, with addr. */
static int value_is(char const *v, size_t n, char const *addr)
{
  size_t alen = strlen(addr);
  while (n && is_wsp(*v)) { v++; n--; }
  while (n && is_wsp(v[n-1])) n--;
  if (n >= 2 && v[0] == '<' && v[n-1] == '>') { v++; n -= 2; }
  return n == alen && !strncasecmp(v, addr, n);
}

int header_has_delivered_to(char const *msg, size_t len, char const *addr)
{
  char value[FIELD_VALUE_MAX + 1];
  size_t vlen = 0, pos = 0;
  int collecting = 0, overflow = 0, cut = len >= HEADER_SCAN_MAX, complete = 1;
  if (len > HEADER_SCAN_MAX) len = HEADER_SCAN_MAX;
  while (pos < len)
  {
    size_t next, n = line_at(msg + pos, len - pos, &next);
    char const *line = msg + pos;
    complete = line[next - 1] == '\n';
    pos += next;
    if (n && is_wsp(line[0]))
    {
      /* a continuation line belongs to the field being collected */
      if (collecting)
      {
        if (vlen + n > FIELD_VALUE_MAX) overflow = 1;
        else { memcpy(value + vlen, line, n); vlen += n; }
      }
      continue;
    }
    if (collecting && !overflow && value_is(value, vlen, addr)) return 1;
    collecting = 0;
    if (!n) break;   /* the empty line ends the header section */
    if (n > DELIVERED_TO_LEN && !strncasecmp(line, DELIVERED_TO, DELIVERED_TO_LEN))
    {
      size_t i = DELIVERED_TO_LEN;
      while (i < n && is_wsp(line[i])) i++;
      if (i < n && line[i] == ':')
      {
        i++;
        collecting = 1; overflow = 0; vlen = 0;
        if (n - i > FIELD_VALUE_MAX) overflow = 1;
        else { memcpy(value, line + i, n - i); vlen = n - i; }
      }
    }
  }
  /* a field cut by the scan bound is not known to end where it seems to */
  if (cut && !complete) return 0;
  return collecting && !overflow && value_is(value, vlen, addr);
}

char const *header_eol(char const *msg, size_t len)
{
  char const *nl = len ? memchr(msg, '\n', len) : 0;
  return nl && nl > msg && nl[-1] == '\r' ? "\r\n" : "\n";
}
