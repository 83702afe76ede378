/* x509_dates: see x509_dates.h. */
#include <string.h>
#include <skalibs/stralloc.h>

#include "smtp_auth.h"
#include "x509_dates.h"

#define DER_SEQUENCE 0x30
#define DER_INTEGER  0x02
#define DER_EXPLICIT0 0xa0
#define DER_UTCTIME  0x17
#define DER_GENTIME  0x18

/* One DER element at *p (before end): its tag and contents; *p moves past it. */
static int der_next(unsigned char const **p, unsigned char const *end, unsigned *tag,
                    unsigned char const **body, size_t *len)
{
  unsigned char const *s = *p;
  size_t n;
  if (end - s < 2) return 0;
  *tag = *s++;
  n = *s++;
  if (n & 0x80)
  {
    unsigned k = n & 0x7f;
    if (!k || k > 4 || (size_t)(end - s) < k) return 0;
    for (n = 0; k--; ) n = (n << 8) | *s++;
  }
  if ((size_t)(end - s) < n) return 0;
  *body = s;
  *len = n;
  *p = s + n;
  return 1;
}

static int digits(unsigned char const *s, size_t n, int *v)
{
  *v = 0;
  for (size_t i = 0; i < n; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0;
    *v = *v * 10 + (s[i] - '0');
  }
  return 1;
}

/* RFC 5280 4.1.2.5.1 / 4.1.2.5.2: YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ, UTC. */
static int der_time(unsigned tag, unsigned char const *s, size_t n, time_t *t)
{
  static int const mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  int y, mo, d, h, mi, sec;
  size_t yl = tag == DER_UTCTIME ? 2 : 4;
  long long days;
  if ((tag != DER_UTCTIME && tag != DER_GENTIME) || n != yl + 11 || s[n - 1] != 'Z') return 0;
  if (!digits(s, yl, &y) || !digits(s + yl, 2, &mo) || !digits(s + yl + 2, 2, &d)
      || !digits(s + yl + 4, 2, &h) || !digits(s + yl + 6, 2, &mi) || !digits(s + yl + 8, 2, &sec))
    return 0;
  if (tag == DER_UTCTIME) y += y < 50 ? 2000 : 1900;
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60) return 0;
  /* days from 1970-01-01 to y-mo-d (the civil-from-days inverse, proleptic Gregorian) */
  {
    int yy = y - (mo <= 2);
    long long era = (yy >= 0 ? yy : yy - 399) / 400;
    long long yoe = yy - era * 400;
    long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;
  }
  *t = (time_t)(days * 86400 + h * 3600 + mi * 60 + sec);
  return 1;
}

static int der_validity(unsigned char const *der, size_t len, time_t *nb, time_t *na)
{
  unsigned char const *p = der, *end, *body;
  unsigned tag;
  size_t n;
  if (!len) return 0;
  end = der + len;
  if (!der_next(&p, end, &tag, &body, &n) || tag != DER_SEQUENCE) return 0;   /* Certificate */
  p = body; end = body + n;
  if (!der_next(&p, end, &tag, &body, &n) || tag != DER_SEQUENCE) return 0;   /* tbsCertificate */
  p = body; end = body + n;
  if (!der_next(&p, end, &tag, &body, &n)) return 0;
  if (tag == DER_EXPLICIT0 && !der_next(&p, end, &tag, &body, &n)) return 0;   /* version */
  if (tag != DER_INTEGER) return 0;                                            /* serialNumber */
  if (!der_next(&p, end, &tag, &body, &n) || tag != DER_SEQUENCE) return 0;   /* signature */
  if (!der_next(&p, end, &tag, &body, &n) || tag != DER_SEQUENCE) return 0;   /* issuer */
  if (!der_next(&p, end, &tag, &body, &n) || tag != DER_SEQUENCE) return 0;   /* validity */
  p = body; end = body + n;
  if (!der_next(&p, end, &tag, &body, &n) || !der_time(tag, body, n, nb)) return 0;
  if (!der_next(&p, end, &tag, &body, &n) || !der_time(tag, body, n, na)) return 0;
  return 1;
}

int x509_pem_validity(char const *pem, size_t len, time_t *notbefore, time_t *notafter)
{
  static char const begin[] = "-----BEGIN CERTIFICATE-----", stop[] = "-----END CERTIFICATE-----";
  stralloc b64 = STRALLOC_ZERO, der = STRALLOC_ZERO;
  char const *s = len > X509_PEM_MAX ? 0 : memmem(pem, len, begin, sizeof begin - 1), *e;
  int ok = 0;
  if (!s) return 0;
  s += sizeof begin - 1;
  e = memmem(s, len - (size_t)(s - pem), stop, sizeof stop - 1);
  if (!e) return 0;
  for (; s < e; s++)
    if (*s != '\n' && *s != '\r' && *s != ' ' && *s != '\t' && !stralloc_catb(&b64, s, 1)) goto end;
  if (smtp_base64_decode(b64.s ? b64.s : "", b64.len, &der))
    ok = der_validity((unsigned char const *)der.s, der.len, notbefore, notafter);
 end:
  stralloc_free(&b64);
  stralloc_free(&der);
  return ok;
}
