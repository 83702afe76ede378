/* smtp_auth.c: base64 and the PLAIN message. */
#include <string.h>
#include "smtp_auth.h"

static int b64value(unsigned char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int smtp_base64_decode(char const *in, size_t len, stralloc *out)
{
  if (len % 4) return 0;
  for (size_t i = 0; i < len; i += 4)
  {
    int v[4], pad = 0;
    char bytes[3];
    for (int k = 0; k < 4; k++)
    {
      unsigned char c = in[i + k];
      if (c == '=' && i + 4 == len && k >= 2) { v[k] = 0; pad++; continue; }
      if (pad) return 0;               /* data after padding */
      v[k] = b64value(c);
      if (v[k] < 0) return 0;
    }
    bytes[0] = (char)(v[0] << 2 | v[1] >> 4);
    bytes[1] = (char)((v[1] & 15) << 4 | v[2] >> 2);
    bytes[2] = (char)((v[2] & 3) << 6 | v[3]);
    if (!stralloc_catb(out, bytes, 3 - pad)) return 0;
  }
  return 1;
}

int smtp_auth_plain(char const *in, size_t len, stralloc *buf,
                    char const **user, char const **password)
{
  char const *nul1, *nul2;
  size_t zlen, ulen, plen;
  if (!len) return 0;                  /* an empty response: in may be null */
  nul1 = memchr(in, 0, len);
  if (!nul1) return 0;
  zlen = (size_t)(nul1 - in);
  nul2 = memchr(nul1 + 1, 0, len - zlen - 1);
  if (!nul2) return 0;
  ulen = (size_t)(nul2 - nul1 - 1);
  plen = len - zlen - ulen - 2;
  if (!ulen || ulen > SMTP_AUTH_FIELD_MAX || plen > SMTP_AUTH_FIELD_MAX || zlen > SMTP_AUTH_FIELD_MAX) return 0;
  if (memchr(nul2 + 1, 0, plen)) return 0;     /* a NUL inside the password */
  if (zlen && (zlen != ulen || memcmp(in, nul1 + 1, ulen))) return 0;
  buf->len = 0;
  if (!stralloc_catb(buf, nul1 + 1, ulen + 1 + plen) || !stralloc_0(buf)) return 0;
  *user = buf->s;
  *password = buf->s + ulen + 1;
  return 1;
}

int smtp_auth_cancelled(char const *s, size_t len)
{
  return len == 1 && s[0] == '*';
}
