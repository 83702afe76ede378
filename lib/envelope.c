/* envelope.c: the qmail-queue envelope format. */
#include <string.h>

#include "envelope.h"

/* One "X<addr>\0" field at s[pos]; returns its end or 0 if it is unfinished. */
static int field(char const *s, size_t len, size_t *pos, size_t *addrlen)
{
  char const *nul = memchr(s + *pos, 0, len - *pos);
  if (!nul) return 0;
  *addrlen = (size_t)(nul - s) - *pos - 1;
  *pos = (size_t)(nul - s) + 1;
  return 1;
}

int envelope_parse(char const *s, size_t len, struct envelope *e)
{
  size_t pos = 0, n;
  e->sender = e->rcpt = 0;
  e->nrcpt = 0;
  e->len = 0;
  if (!len) return ENVELOPE_SHORT;
  if (s[0] != 'F') return ENVELOPE_FORMAT;
  if (!field(s, len, &pos, &n)) return n = len - 1, n > ENVELOPE_ADDR_MAX ? ENVELOPE_TOOLONG : ENVELOPE_SHORT;
  if (n > ENVELOPE_ADDR_MAX) return ENVELOPE_TOOLONG;
  e->sender = s + 1;
  for (;;)   /* bounded: each turn consumes at least one byte of s */
  {
    if (pos >= len) return ENVELOPE_SHORT;
    if (!s[pos]) break;
    if (s[pos] != 'T') return ENVELOPE_FORMAT;
    {
      size_t start = pos;
      if (!field(s, len, &pos, &n)) return len - start - 1 > ENVELOPE_ADDR_MAX ? ENVELOPE_TOOLONG : ENVELOPE_SHORT;
      if (n > ENVELOPE_ADDR_MAX) return ENVELOPE_TOOLONG;
      if (!n) return ENVELOPE_FORMAT;
      if (++e->nrcpt > ENVELOPE_RCPT_MAX) return ENVELOPE_TOOLONG;
      if (!e->rcpt) e->rcpt = s + start + 1;
    }
  }
  if (!e->nrcpt) return ENVELOPE_FORMAT;
  e->len = pos + 1;   /* the caller may drop bytes after it and parse again */
  if (e->len != len) return ENVELOPE_FORMAT;
  return ENVELOPE_OK;
}

char const *envelope_next(char const *r)
{
  return r + strlen(r) + 2;   /* past the NUL and the next 'T' */
}
