/* mime_decode.c: transfer encodings (RFC 2045 6.7, 6.8), encoded words
 * (RFC 2047), charsets to UTF-8 and case folding for SEARCH. */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include "mime_part.h"

static int hexval(unsigned char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static int b64val(unsigned char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Base64, skipping anything outside the alphabet (RFC 2045 6.8). */
static int b64_decode(char const *s, size_t len, stralloc *out)
{
  unsigned long acc = 0;
  int bits = 0;
  if (!stralloc_readyplus(out, len / 4 * 3 + 3)) return 0;
  for (size_t i = 0; i < len; i++)
  {
    int v = b64val(s[i]);
    if (s[i] == '=') break;
    if (v < 0) continue;
    acc = (acc << 6) | (unsigned long)v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out->s[out->len++] = (char)((acc >> bits) & 0xff); }
  }
  return 1;
}

/* Quoted-printable; soft breaks removed, hard breaks become CRLF, trailing
 * white space of a line dropped (RFC 2045 6.7 rules 3, 5). underscore: the
 * RFC 2047 Q form, where '_' is a space. */
static int qp_decode(char const *s, size_t len, int underscore, stralloc *out)
{
  if (!stralloc_readyplus(out, len + len / 2 + 2)) return 0;
  for (size_t i = 0; i < len; i++)
  {
    unsigned char c = s[i];
    if (c == '=')
    {
      int h, l;
      size_t j = i + 1;
      while (j < len && (s[j] == ' ' || s[j] == '\t')) j++;
      if (j < len && (s[j] == '\r' || s[j] == '\n'))   /* soft line break */
      {
        if (s[j] == '\r' && j + 1 < len && s[j+1] == '\n') j++;
        i = j;
        continue;
      }
      if (j >= len) { i = j; continue; }
      if (i + 2 < len && (h = hexval(s[i+1])) >= 0 && (l = hexval(s[i+2])) >= 0)
      {
        out->s[out->len++] = (char)(h << 4 | l);
        i += 2;
        continue;
      }
      out->s[out->len++] = '=';                           /* broken: keep as is */
      continue;
    }
    if (c == '\n' || c == '\r')
    {
      while (out->len && (out->s[out->len-1] == ' ' || out->s[out->len-1] == '\t')) out->len--;
      if (c == '\r' && i + 1 < len && s[i+1] == '\n') i++;
      out->s[out->len++] = '\r';
      out->s[out->len++] = '\n';
      if (!stralloc_readyplus(out, len - i + 2)) return 0;
      continue;
    }
    out->s[out->len++] = underscore && c == '_' ? ' ' : (char)c;
  }
  return 1;
}

int mime_cte_decode(char const *enc, char const *s, size_t len, stralloc *out)
{
  if (!enc || !*enc || !strcasecmp(enc, "7bit") || !strcasecmp(enc, "8bit") || !strcasecmp(enc, "binary"))
    return mime_crlf_cat(out, s, 0, len) ? 1 : 0;
  if (!strcasecmp(enc, "base64")) return b64_decode(s, len, out);
  if (!strcasecmp(enc, "quoted-printable")) return qp_decode(s, len, 0, out);
  return -2;
}

static int put_utf8(stralloc *out, unsigned long cp)
{
  char b[4];
  size_t n;
  if (cp < 0x80) { b[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { b[0] = (char)(0xc0 | cp >> 6); b[1] = (char)(0x80 | (cp & 63)); n = 2; }
  else if (cp < 0x10000) { b[0] = (char)(0xe0 | cp >> 12); b[1] = (char)(0x80 | (cp >> 6 & 63)); b[2] = (char)(0x80 | (cp & 63)); n = 3; }
  else { b[0] = (char)(0xf0 | cp >> 18); b[1] = (char)(0x80 | (cp >> 12 & 63)); b[2] = (char)(0x80 | (cp >> 6 & 63)); b[3] = (char)(0x80 | (cp & 63)); n = 4; }
  return stralloc_catb(out, b, n);
}

static unsigned short const cp1252[32] =
{
  0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
  0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178
};

/* ISO-8859-15 differs from Latin-1 in eight places. */
static unsigned long latin9(unsigned char c)
{
  switch (c)
  {
    case 0xa4: return 0x20ac; case 0xa6: return 0x160; case 0xa8: return 0x161; case 0xb4: return 0x17d;
    case 0xb8: return 0x17e; case 0xbc: return 0x152; case 0xbd: return 0x153; case 0xbe: return 0x178;
    default: return c;
  }
}

#define MIME_CHARSET_NAME_MAX 64   /* RFC 2978 names are at most 40 characters */

/* Any other charset through iconv(3); the last converter is kept, since one
 * message (or one SEARCH over a folder) mostly uses one charset. 0 when iconv
 * does not know the charset. */
static int iconv_to_utf8(char const *charset, char const *s, size_t len, stralloc *out)
{
  static iconv_t cd = (iconv_t)-1;
  static char cached[MIME_CHARSET_NAME_MAX];
  char *in = (char *)s;
  size_t inleft = len;
  if (strlen(charset) >= sizeof cached) return 0;
  if (cd == (iconv_t)-1 || strcasecmp(cached, charset))
  {
    if (cd != (iconv_t)-1) iconv_close(cd);
    cached[0] = 0;
    cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1) return 0;
    strcpy(cached, charset);
  }
  else iconv(cd, 0, 0, 0, 0);                      /* back to the initial shift state */
  for (unsigned rounds = 0; inleft && rounds < 1000000; rounds++)
  {
    size_t room = inleft * 4 + 16, before;
    char *o;
    if (!stralloc_readyplus(out, room)) return -1;
    o = out->s + out->len;
    before = room;
    if (iconv(cd, &in, &inleft, &o, &room) == (size_t)-1 && errno != E2BIG)
    {
      out->len += before - room;
      /* an invalid or truncated sequence: keep the byte as U+FFFD and go on */
      if (!stralloc_catb(out, "\xef\xbf\xbd", 3)) return -1;
      in++; inleft--;
      iconv(cd, 0, 0, 0, 0);
      continue;
    }
    out->len += before - room;
  }
  return 1;
}

int mime_charset_to_utf8(char const *charset, char const *s, size_t len, stralloc *out)
{
  int which = 0;     /* 0 pass through, 1 latin-1, 2 cp1252, 3 latin-9 */
  if (charset && *charset && strcasecmp(charset, "utf-8") && strcasecmp(charset, "utf8")
      && strcasecmp(charset, "us-ascii") && strcasecmp(charset, "ascii"))
  {
    if (!strcasecmp(charset, "iso-8859-1") || !strcasecmp(charset, "latin1") || !strcasecmp(charset, "iso_8859-1")
        || !strcasecmp(charset, "l1") || !strcasecmp(charset, "iso8859-1")) which = 1;
    else if (!strcasecmp(charset, "windows-1252") || !strcasecmp(charset, "cp1252")) which = 2;
    else if (!strcasecmp(charset, "iso-8859-15") || !strcasecmp(charset, "latin9")) which = 3;
    else
    {
      size_t before = out->len;
      int r = iconv_to_utf8(charset, s, len, out);
      if (r < 0) return 0;
      if (r) return 1;
      out->len = before;         /* unknown charset: the bytes as they are */
    }
  }
  if (!which) return stralloc_catb(out, s, len);
  for (size_t i = 0; i < len; i++)
  {
    unsigned char c = s[i];
    unsigned long cp = c;
    if (c >= 0x80)
    {
      if (which == 2 && c < 0xa0) cp = cp1252[c - 0x80];
      else if (which == 3) cp = latin9(c);
    }
    if (!put_utf8(out, cp)) return 0;
  }
  return 1;
}

/* One encoded word at s[i..] "=?charset?B|Q?text?="; returns its length or 0. */
static size_t encoded_word(char const *s, size_t i, size_t len, stralloc *out)
{
  size_t cs = i + 2, q, e, t;
  char charset[64];
  stralloc raw = STRALLOC_ZERO;
  int ok;
  if (i + 8 > len || s[i] != '=' || s[i+1] != '?') return 0;
  for (q = cs; q < len && s[q] != '?' && q - cs < 63; q++) if (s[q] == ' ' || s[q] == '\t') return 0;
  if (q >= len || s[q] != '?' || q == cs || q + 2 >= len || s[q+2] != '?') return 0;
  t = q + 3;
  for (e = t; e + 1 < len && !(s[e] == '?' && s[e+1] == '='); e++) if (s[e] == ' ' || s[e] == '\t') return 0;
  if (e + 1 >= len) return 0;
  memcpy(charset, s + cs, q - cs);
  charset[q - cs] = 0;
  { char *star = strchr(charset, '*'); if (star) *star = 0; }   /* RFC 2231 language suffix */
  if (s[q+1] == 'B' || s[q+1] == 'b') ok = b64_decode(s + t, e - t, &raw);
  else if (s[q+1] == 'Q' || s[q+1] == 'q') ok = qp_decode(s + t, e - t, 1, &raw);
  else return 0;
  if (!ok || !mime_charset_to_utf8(charset, raw.s, raw.len, out)) { stralloc_free(&raw); return (size_t)-1; }
  stralloc_free(&raw);
  return e + 2 - i;
}

int mime_header_decode(char const *s, size_t len, stralloc *out)
{
  stralloc word = STRALLOC_ZERO;
  size_t i = 0, ws_start = 0, ws_len = 0;
  int last_encoded = 0;
  while (i < len)
  {
    size_t n;
    if (s[i] == ' ' || s[i] == '\t')
    {
      ws_start = i;
      while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
      ws_len = i - ws_start;
      continue;
    }
    word.len = 0;
    n = s[i] == '=' ? encoded_word(s, i, len, &word) : 0;
    if (n == (size_t)-1) goto nomem;
    /* white space between two encoded words is dropped (RFC 2047 6.2) */
    if (ws_len && !(n && last_encoded) && !stralloc_catb(out, s + ws_start, ws_len)) goto nomem;
    ws_len = 0;
    if (n)
    {
      if (!stralloc_catb(out, word.s, word.len)) goto nomem;
      last_encoded = 1;
      i += n;
      continue;
    }
    last_encoded = 0;
    {
      size_t a = i++;
      while (i < len && s[i] != ' ' && s[i] != '\t' && !(s[i] == '=' && i + 1 < len && s[i+1] == '?')) i++;
      if (!stralloc_catb(out, s + a, i - a)) goto nomem;
    }
  }
  stralloc_free(&word);
  return 1;
nomem:
  stralloc_free(&word);
  return 0;
}

/* Decodes one UTF-8 sequence at s[*i]; invalid bytes are read as Latin-1. */
static unsigned long utf8_next(unsigned char const *s, size_t len, size_t *i)
{
  unsigned char c = s[*i];
  unsigned long cp;
  size_t n;
  if (c < 0x80) { (*i)++; return c; }
  if ((c & 0xe0) == 0xc0) { cp = c & 0x1f; n = 1; }
  else if ((c & 0xf0) == 0xe0) { cp = c & 0x0f; n = 2; }
  else if ((c & 0xf8) == 0xf0) { cp = c & 0x07; n = 3; }
  else { (*i)++; return c; }
  for (size_t k = 1; k <= n; k++)
    if (*i + k >= len || (s[*i + k] & 0xc0) != 0x80) { (*i)++; return c; }
  for (size_t k = 1; k <= n; k++) cp = cp << 6 | (s[*i + k] & 0x3f);
  *i += n + 1;
  return cp;
}

static unsigned long fold(unsigned long c)
{
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xc0) return c;
  if (c <= 0xde && c != 0xd7) return c + 32;                      /* Latin-1 */
  if (c >= 0x100 && c <= 0x17f)                                   /* Latin Extended-A pairs */
  {
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return c & 1 ? c + 1 : c;
    if (c == 0x178) return 0xff;
    if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17f) return c;
    return c & 1 ? c : c + 1;
  }
  if (c >= 0x391 && c <= 0x3ab && c != 0x3a2) return c + 32;      /* Greek */
  if (c >= 0x410 && c <= 0x42f) return c + 32;                    /* Cyrillic */
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  return c;
}

int mime_casefold(char const *s, size_t len, stralloc *out)
{
  size_t i = 0;
  /* folding keeps a UTF-8 sequence's length; a stray byte read as Latin-1
   * grows to two: twice the input is always room enough */
  if (!stralloc_readyplus(out, len * 2)) return 0;
  while (i < len)
  {
    unsigned char c = s[i];
    if (c < 0x80) { out->s[out->len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); i++; continue; }
    {
      unsigned long cp = fold(utf8_next((unsigned char const *)s, len, &i));
      char *o = out->s + out->len;
      if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); out->len += 2; }
      else if (cp < 0x10000) { o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 63)); o[2] = (char)(0x80 | (cp & 63)); out->len += 3; }
      else { o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 63)); o[2] = (char)(0x80 | (cp >> 6 & 63)); o[3] = (char)(0x80 | (cp & 63)); out->len += 4; }
    }
  }
  return 1;
}
