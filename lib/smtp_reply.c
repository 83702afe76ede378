/* smtp_reply: SMTP replies and EHLO extensions (see smtp_reply.h). */
#include <string.h>

#include "smtp_reply.h"

void smtp_reply_init(struct smtp_reply *r)
{
  r->code = 0;
  r->lines = 0;
  r->len = 0;
}

static void keep(struct smtp_reply *r, char const *s, size_t len)
{
  size_t room = sizeof r->text - r->len;
  if (!room) return;
  if (len >= room) len = room - 1;   /* room for the '\n' */
  memcpy(r->text + r->len, s, len);
  r->len += len;
  r->text[r->len++] = '\n';
}

int smtp_reply_line(struct smtp_reply *r, char const *line, size_t len)
{
  unsigned int code;
  if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9'
      || line[2] < '0' || line[2] > '9') return -1;
  if (len > 3 && line[3] != ' ' && line[3] != '-') return -1;
  code = (unsigned int)(line[0] - '0') * 100 + (unsigned int)(line[1] - '0') * 10 + (unsigned int)(line[2] - '0');
  if (r->lines && code != r->code) return -1;
  if (r->lines >= SMTP_REPLY_LINES_MAX) return -1;
  r->code = code;
  r->lines++;
  if (len > SMTP_REPLY_LINE_MAX) len = SMTP_REPLY_LINE_MAX;
  keep(r, len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
  return len > 3 && line[3] == '-' ? 0 : 1;
}

void smtp_reply_oneline(struct smtp_reply const *r, char *out, size_t outlen)
{
  size_t o = 0;
  if (!outlen) return;
  if (outlen > 4 && r->code >= 100 && r->code <= 599)
  {
    out[0] = (char)('0' + r->code / 100);
    out[1] = (char)('0' + r->code / 10 % 10);
    out[2] = (char)('0' + r->code % 10);
    o = 3;
  }
  for (size_t i = 0; i < r->len && o + 1 < outlen; i++)
  {
    unsigned char c = (unsigned char)r->text[i];
    if (i + 1 == r->len && c == '\n') break;
    if (c < ' ' || c == 127) c = ' ';
    if (c == ' ' && o && out[o-1] == ' ') continue;
    if (o == 3 && c != ' ' && o + 2 < outlen) out[o++] = ' ';
    out[o++] = (char)c;
  }
  while (o && out[o-1] == ' ') o--;
  out[o] = 0;
}

/* Does the line [s, s+len) start with keyword kw followed by a space or its end? */
static int keyword(char const *s, size_t len, char const *kw, char const **arg, size_t *arglen)
{
  size_t k = strlen(kw);
  if (len < k || (len > k && s[k] != ' ' && s[k] != '=')) return 0;
  for (size_t i = 0; i < k; i++)
  {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c -= 32;
    if (c != kw[i]) return 0;
  }
  *arg = s + k;
  *arglen = len - k;
  while (*arglen && (**arg == ' ' || **arg == '=')) { (*arg)++; (*arglen)--; }
  return 1;
}

static int has_word(char const *s, size_t len, char const *w)
{
  size_t k = strlen(w), i = 0;
  while (i < len)   /* bounded by len */
  {
    size_t j = i;
    while (j < len && s[j] != ' ') j++;
    if (j - i == k)
    {
      size_t m = 0;
      while (m < k && (s[i + m] == w[m] || s[i + m] == w[m] + 32)) m++;
      if (m == k) return 1;
    }
    i = j + 1;
  }
  return 0;
}

void smtp_reply_ehlo(struct smtp_reply const *r, struct smtp_ext *ext)
{
  size_t i = 0;
  int first = 1;
  ext->flags = 0;
  ext->size = 0;
  while (i < r->len)   /* bounded by r->len */
  {
    char const *s = r->text + i, *arg;
    size_t len = 0, arglen;
    while (i + len < r->len && s[len] != '\n') len++;
    i += len + 1;
    if (first) { first = 0; continue; }   /* the server's name and greeting */
    if (keyword(s, len, "PIPELINING", &arg, &arglen)) ext->flags |= SMTP_EXT_PIPELINING;
    else if (keyword(s, len, "8BITMIME", &arg, &arglen)) ext->flags |= SMTP_EXT_8BITMIME;
    else if (keyword(s, len, "SMTPUTF8", &arg, &arglen)) ext->flags |= SMTP_EXT_SMTPUTF8;
    else if (keyword(s, len, "ENHANCEDSTATUSCODES", &arg, &arglen)) ext->flags |= SMTP_EXT_ENHANCED;
    else if (keyword(s, len, "STARTTLS", &arg, &arglen)) ext->flags |= SMTP_EXT_STARTTLS;
    else if (keyword(s, len, "AUTH", &arg, &arglen))
    {
      if (has_word(arg, arglen, "PLAIN")) ext->flags |= SMTP_EXT_AUTH_PLAIN;
    }
    else if (keyword(s, len, "SIZE", &arg, &arglen))
    {
      uint64_t v = 0;
      size_t k = 0;
      ext->flags |= SMTP_EXT_SIZE;
      /* RFC 1870 4: digits; a value that overflows is as good as none */
      while (k < arglen && arg[k] >= '0' && arg[k] <= '9' && v < UINT64_MAX / 10 - 9)
        v = v * 10 + (uint64_t)(arg[k++] - '0');
      ext->size = k < arglen && arg[k] >= '0' && arg[k] <= '9' ? 0 : v;
    }
  }
}
