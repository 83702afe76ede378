/* imap_parse: see imap_parse.h. */
#include <string.h>
#include <time.h>
#include "imap_parse.h"

static char const MONTHS[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

int imap_literal_tail(char const *line, size_t len, uint64_t *n, int *nonsync)
{
  size_t i, digits = 0;
  uint64_t v = 0;
  *nonsync = 0;
  if (!len || line[len - 1] != '}') return 0;
  i = len - 1;
  if (i && (line[i - 1] == '+' || line[i - 1] == '-')) { *nonsync = 1; i--; }
  while (i && line[i - 1] >= '0' && line[i - 1] <= '9') { i--; digits++; }
  if (!i || line[i - 1] != '{') return 0;
  if (!digits || digits > 10) return -1;
  for (size_t k = i; k < i + digits; k++) v = v * 10 + (uint64_t)(line[k] - '0');
  if (v > IMAP_LITERAL_MAX) return -1;
  *n = v;
  return 1;
}

void imap_cursor_init(imap_cursor *c, char const *s, size_t len)
{
  c->s = s; c->len = len; c->pos = 0;
}

int imap_at_end(imap_cursor const *c)
{
  size_t left = c->len - c->pos;
  return !left || (left == 2 && c->s[c->pos] == '\r' && c->s[c->pos + 1] == '\n')
    || (left == 1 && c->s[c->pos] == '\n');
}

int imap_peek(imap_cursor const *c)
{
  return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

int imap_char(imap_cursor *c, char ch)
{
  if (c->pos >= c->len || c->s[c->pos] != ch) return 0;
  c->pos++;
  return 1;
}

int imap_sp(imap_cursor *c) { return imap_char(c, ' '); }

static int is_atom_char(unsigned char ch)
{
  if (ch <= 0x20 || ch >= 0x7f) return 0;
  return !strchr("(){%*\"\\]", ch);
}

/* Appends the longest run of bytes accepted by ok(); 0 if empty. */
static int run(imap_cursor *c, stralloc *out, int (*ok)(unsigned char))
{
  size_t start = c->pos;
  while (c->pos < c->len && ok((unsigned char)c->s[c->pos])) c->pos++;
  if (c->pos == start) return 0;
  return stralloc_catb(out, c->s + start, c->pos - start);
}

static int is_tag_char(unsigned char ch) { return ch != '+' && (is_atom_char(ch) || ch == ']'); }
static int is_astring_char(unsigned char ch) { return is_atom_char(ch) || ch == ']'; }
static int is_list_char(unsigned char ch) { return is_atom_char(ch) || ch == '%' || ch == '*' || ch == ']'; }

int imap_tag(imap_cursor *c, stralloc *out) { return run(c, out, &is_tag_char); }
int imap_atom(imap_cursor *c, stralloc *out) { return run(c, out, &is_atom_char); }

int imap_flag(imap_cursor *c, stralloc *out)
{
  if (imap_char(c, '\\'))
  {
    if (!stralloc_catb(out, "\\", 1)) return 0;
    if (imap_char(c, '*')) return stralloc_catb(out, "*", 1);
  }
  return imap_atom(c, out);
}

static int quoted(imap_cursor *c, stralloc *out)
{
  if (!imap_char(c, '"')) return 0;
  while (c->pos < c->len)
  {
    char ch = c->s[c->pos++];
    if (ch == '"') return 1;
    if (ch == '\r' || ch == '\n') return 0;
    if (ch == '\\')
    {
      if (c->pos >= c->len) return 0;
      ch = c->s[c->pos++];
      if (ch != '"' && ch != '\\') return 0;
    }
    if (!stralloc_catb(out, &ch, 1)) return 0;
  }
  return 0;
}

static int literal(imap_cursor *c, stralloc *out)
{
  uint64_t n = 0;
  size_t digits = 0;
  imap_char(c, '~');
  if (!imap_char(c, '{')) return 0;
  while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9' && digits < 20)
  {
    n = n * 10 + (uint64_t)(c->s[c->pos++] - '0');
    digits++;
  }
  if (!digits || digits > 10) return 0;
  if (!imap_char(c, '+')) imap_char(c, '-');
  if (!imap_char(c, '}') || !imap_char(c, '\r') || !imap_char(c, '\n')) return 0;
  if (n > c->len - c->pos) return 0;
  if (!stralloc_catb(out, c->s + c->pos, (size_t)n)) return 0;
  c->pos += (size_t)n;
  return 1;
}

int imap_string(imap_cursor *c, stralloc *out)
{
  int ch = imap_peek(c);
  if (ch == '"') return quoted(c, out);
  if (ch == '{' || ch == '~') return literal(c, out);
  return 0;
}

int imap_astring(imap_cursor *c, stralloc *out)
{
  int ch = imap_peek(c);
  if (ch == '"' || ch == '{') return imap_string(c, out);
  return run(c, out, &is_astring_char);
}

int imap_nstring(imap_cursor *c, stralloc *out, int *is_nil)
{
  *is_nil = 0;
  if (c->len - c->pos >= 3 && !strncasecmp(c->s + c->pos, "NIL", 3)
      && (c->len - c->pos == 3 || !is_atom_char((unsigned char)c->s[c->pos + 3])))
  {
    c->pos += 3; *is_nil = 1;
    return 1;
  }
  return imap_string(c, out);
}

int imap_list_mailbox(imap_cursor *c, stralloc *out)
{
  int ch = imap_peek(c);
  if (ch == '"' || ch == '{') return imap_string(c, out);
  return run(c, out, &is_list_char);
}

int imap_number(imap_cursor *c, uint64_t *n)
{
  uint64_t v = 0;
  size_t digits = 0;
  while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9')
  {
    if (++digits > 19) return 0;
    v = v * 10 + (uint64_t)(c->s[c->pos++] - '0');
  }
  if (!digits) return 0;
  *n = v;
  return 1;
}

static int seq_number(imap_cursor *c, uint32_t *n)
{
  uint64_t v;
  if (imap_char(c, '*')) { *n = IMAP_SEQ_STAR; return 1; }
  if (!imap_number(c, &v) || !v || v > 0xffffffffu) return 0;
  *n = (uint32_t)v;
  return 1;
}

int imap_seqset(imap_cursor *c, stralloc *ranges)
{
  for (;;)
  {
    uint32_t r[2];
    if (!seq_number(c, &r[0])) return 0;
    r[1] = r[0];
    if (imap_char(c, ':') && !seq_number(c, &r[1])) return 0;
    if (!stralloc_catb(ranges, (char const *)r, sizeof r)) return 0;
    if (!imap_char(c, ',')) return 1;
  }
}

int imap_seqset_has(stralloc const *ranges, uint32_t n, uint32_t star)
{
  size_t count = ranges->len / (2 * sizeof(uint32_t));
  for (size_t i = 0; i < count; i++)
  {
    uint32_t r[2];
    memcpy(r, ranges->s + i * sizeof r, sizeof r);
    if (r[0] == IMAP_SEQ_STAR) r[0] = star;
    if (r[1] == IMAP_SEQ_STAR) r[1] = star;
    if (r[0] > r[1]) { uint32_t t = r[0]; r[0] = r[1]; r[1] = t; }
    if (n >= r[0] && n <= r[1]) return 1;
  }
  return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static int digits(imap_cursor *c, unsigned min, unsigned max, unsigned *v)
{
  unsigned k = 0;
  *v = 0;
  while (k < max && c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9')
  {
    *v = *v * 10 + (unsigned)(c->s[c->pos++] - '0');
    k++;
  }
  return k >= min;
}

static int date_body(imap_cursor *c, int64_t *t)
{
  unsigned d, m, y;
  char const *p;
  if (c->pos < c->len && c->s[c->pos] == ' ') c->pos++;   /* date-day-fixed */
  if (!digits(c, 1, 2, &d) || !imap_char(c, '-') || c->len - c->pos < 3) return 0;
  for (p = MONTHS, m = 1; *p; p += 3, m++)
    if (!strncasecmp(p, c->s + c->pos, 3)) break;
  if (!*p) return 0;
  c->pos += 3;
  if (!imap_char(c, '-') || !digits(c, 4, 4, &y)) return 0;
  if (!d || d > 31) return 0;
  *t = days_from_civil(y, m, d) * 86400;
  return 1;
}

int imap_date(imap_cursor *c, int64_t *t)
{
  if (imap_char(c, '"')) return date_body(c, t) && imap_char(c, '"');
  return date_body(c, t);
}

int imap_date_time(imap_cursor *c, int64_t *t)
{
  unsigned hh, mm, ss, zone;
  int sign;
  if (!imap_char(c, '"') || !date_body(c, t) || !imap_sp(c)) return 0;
  if (!digits(c, 2, 2, &hh) || !imap_char(c, ':') || !digits(c, 2, 2, &mm)
      || !imap_char(c, ':') || !digits(c, 2, 2, &ss) || !imap_sp(c)) return 0;
  if (imap_char(c, '+')) sign = 1;
  else if (imap_char(c, '-')) sign = -1;
  else return 0;
  if (!digits(c, 4, 4, &zone) || !imap_char(c, '"')) return 0;
  if (hh > 23 || mm > 59 || ss > 60) return 0;
  *t += hh * 3600 + mm * 60 + ss;
  *t -= sign * (int64_t)((zone / 100) * 3600 + (zone % 100) * 60);
  return 1;
}

int imap_date_time_fmt(int64_t t, stralloc *out)
{
  char buf[40];
  struct tm tm;
  time_t tt = (time_t)t;
  size_t n;
  if (!gmtime_r(&tt, &tm)) return 0;
  n = strftime(buf, sizeof buf, "\"%d-", &tm);
  memcpy(buf + n, MONTHS + 3 * tm.tm_mon, 3);
  n += 3;
  n += strftime(buf + n, sizeof buf - n, "-%Y %H:%M:%S +0000\"", &tm);
  return stralloc_catb(out, buf, n);
}
