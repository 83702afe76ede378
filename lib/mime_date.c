/* mime_date.c: RFC 5322 3.3 date-time, obsolete forms (4.3) included. */
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include "mime.h"
#include "mime_part.h"

static size_t skip_cfws(char const *s, size_t i, size_t len)
{
  unsigned depth = 0;
  for (unsigned count = 0; i < len && count < 10000; count++, i++)
  {
    if (depth) { if (s[i] == '(') depth++; else if (s[i] == ')') depth--; else if (s[i] == '\\') i++; }
    else if (s[i] == '(') depth = 1;
    else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n' && s[i] != ',') break;
  }
  return i;
}

static size_t number(char const *s, size_t i, size_t len, long *n, size_t *digits)
{
  *n = 0; *digits = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9' && *digits < 9) { *n = *n * 10 + (s[i++] - '0'); (*digits)++; }
  return i;
}

static size_t word(char const *s, size_t i, size_t len, char *w, size_t max)
{
  size_t n = 0;
  while (i < len && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
  {
    if (n + 1 < max) w[n++] = s[i];
    i++;
  }
  w[n] = 0;
  return i;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned mo, unsigned d)
{
  y -= mo <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

int64_t mime_parse_date(char const *s, size_t len) { return mime_parse_date_zone(s, len, 0); }

int64_t mime_parse_date_zone(char const *s, size_t len, long *zoneout)
{
  static char const months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
  char w[16];
  long day, year, hh, mm, ss = 0, zone = 0;
  size_t i = skip_cfws(s, 0, len), dg;
  int mon = -1;
  /* optional day-of-week */
  if (i < len && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
    i = skip_cfws(s, word(s, i, len, w, sizeof w), len);
  i = skip_cfws(s, number(s, i, len, &day, &dg), len);
  if (!dg || dg > 2 || day < 1 || day > 31) return 0;
  i = word(s, i, len, w, sizeof w);
  if (strlen(w) >= 3)
    for (int k = 0; k < 12; k++) if (!strncasecmp(w, months + 3 * k, 3)) mon = k;
  if (mon < 0) return 0;
  i = skip_cfws(s, i, len);
  i = skip_cfws(s, number(s, i, len, &year, &dg), len);
  if (dg < 2) return 0;
  if (dg == 2) year += year < 50 ? 2000 : 1900;     /* RFC 5322 4.3 */
  else if (dg == 3) year += 1900;
  i = number(s, i, len, &hh, &dg);
  if (!dg || i >= len || s[i] != ':') return 0;
  i = number(s, i + 1, len, &mm, &dg);
  if (!dg) return 0;
  if (i < len && s[i] == ':') { i = number(s, i + 1, len, &ss, &dg); if (!dg) return 0; }
  if (hh > 23 || mm > 59 || ss > 60) return 0;
  i = skip_cfws(s, i, len);
  if (i < len && (s[i] == '+' || s[i] == '-'))
  {
    long z;
    size_t e = number(s, i + 1, len, &z, &dg);
    if (dg == 4) zone = (s[i] == '-' ? -1 : 1) * ((z / 100) * 3600 + (z % 100) * 60);
    i = e;
  }
  else if (i < len)
  {
    static struct { char const *name; int hours; } const zones[] =
    {
      { "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 }, { "EST", -5 }, { "EDT", -4 }, { "CST", -6 },
      { "CDT", -5 }, { "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 }
    };
    word(s, i, len, w, sizeof w);
    for (size_t k = 0; k < sizeof zones / sizeof *zones; k++)
      if (!strcasecmp(w, zones[k].name)) zone = zones[k].hours * 3600;
    /* other (military) zones mean -0000: no information (RFC 5322 4.3) */
  }
  {
    int64_t t = days_from_civil(year, (unsigned)mon + 1, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss - zone;
    if (zoneout) *zoneout = zone;
    return t;
  }
}

int64_t mime_date(mime_message const *m) { return mime_date_zone(m, 0); }

int64_t mime_date_zone(mime_message const *m, long *zone)
{
  mime_field f;
  if (!mime_field_find(m->msg, MIME_PART(m, 0)->hstart, MIME_PART(m, 0)->bstart, "date", &f)) return 0;
  return mime_parse_date_zone(f.value, f.valuelen, zone);
}
