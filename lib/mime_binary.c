/* mime_binary.c: binary content (RFC 3516) made storable as text: every
 * leaf part whose Content-Transfer-Encoding is "binary", or that holds a
 * NUL byte and is not base64 or quoted-printable already, is re-encoded
 * as base64 (RFC 2045 6.8), its header field rewritten or added. */
#include <string.h>
#include <strings.h>
#include "mime.h"
#include "mime_part.h"

#define B64_LINE 76   /* RFC 2045 6.8: encoded lines of at most 76 characters */

static int b64_append(stralloc *out, unsigned char const *s, size_t len)
{
  static char const digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t col = 0;
  if (!stralloc_readyplus(out, len / 3 * 4 + len / 57 * 2 + 8)) return 0;
  for (size_t i = 0; i < len; i += 3)
  {
    unsigned long v = (unsigned long)s[i] << 16;
    char q[4];
    if (i + 1 < len) v |= (unsigned long)s[i + 1] << 8;
    if (i + 2 < len) v |= s[i + 2];
    q[0] = digits[(v >> 18) & 63]; q[1] = digits[(v >> 12) & 63];
    q[2] = i + 1 < len ? digits[(v >> 6) & 63] : '=';
    q[3] = i + 2 < len ? digits[v & 63] : '=';
    if (col == B64_LINE) { if (!stralloc_catb(out, "\r\n", 2)) return 0; col = 0; }
    if (!stralloc_catb(out, q, 4)) return 0;
    col += 4;
  }
  return 1;
}

/* The part's encoding as it is to be stored: 1 re-encode (cte_at/cte_len
 * the field's value to replace, or cte_len 0 and the field is to be
 * added), 0 keep. */
static int needs_base64(mime_message const *m, mime_part const *p, size_t *cte_at, size_t *cte_len)
{
  mime_field f;
  stralloc v = STRALLOC_ZERO;
  int has = mime_field_find(m->msg, p->hstart, p->bstart, "content-transfer-encoding", &f), r = 0;
  *cte_len = 0;
  if (has)
  {
    size_t a = 0;
    if (!mime_unfold(f.value, f.valuelen, &v)) return -1;
    while (a < v.len && (v.s[a] == ' ' || v.s[a] == '\t')) a++;
    if (v.len - a >= 6 && !strncasecmp(v.s + a, "binary", 6)) r = 1;
    else if (v.len - a >= 6 && (!strncasecmp(v.s + a, "base64", 6) || !strncasecmp(v.s + a, "quoted", 6))) { stralloc_free(&v); return 0; }
    *cte_at = (size_t)(f.value - m->msg);
    *cte_len = f.valuelen;
    while (*cte_len && (f.value[*cte_len - 1] == '\n' || f.value[*cte_len - 1] == '\r')) (*cte_len)--;
  }
  stralloc_free(&v);
  if (!r && memchr(m->msg + p->bstart, 0, p->end - p->bstart)) r = 1;
  return r;
}

int mime_binary_encode(char const *msg, size_t len, stralloc *out)
{
  mime_message *m = mime_parse(msg, len);
  size_t done = 0, nparts;
  int changed = 0, r = -1;
  if (!m) return -1;
  nparts = m->parts.len / sizeof(mime_part);
  for (size_t i = 0; i < nparts; i++)
  {
    mime_part const *p = MIME_PART(m, i);
    size_t cte_at = 0, cte_len;
    int need;
    if (p->kind != MIME_LEAF || p->bstart < done) continue;
    need = needs_base64(m, p, &cte_at, &cte_len);
    if (need < 0) goto end;
    if (!need) continue;
    if (!changed) out->len = 0;
    changed = 1;
    if (cte_len)
    {
      if (!stralloc_catb(out, msg + done, cte_at - done) || !stralloc_cats(out, " base64")
          || !stralloc_catb(out, msg + cte_at + cte_len, p->bstart - (cte_at + cte_len))) goto end;
    }
    else if (!stralloc_catb(out, msg + done, p->hstart - done) || !stralloc_cats(out, "Content-Transfer-Encoding: base64\r\n")
             || !stralloc_catb(out, msg + p->hstart, p->bstart - p->hstart)) goto end;
    if (!b64_append(out, (unsigned char const *)msg + p->bstart, p->end - p->bstart)) goto end;
    /* the line end that closed the body (none before a boundary's CRLF) */
    if (p->end > p->bstart && msg[p->end - 1] == '\n' && !stralloc_catb(out, "\r\n", 2)) goto end;
    done = p->end;
  }
  r = changed;
  if (changed && !stralloc_catb(out, msg + done, len - done)) r = -1;
 end:
  mime_free(m);
  return r;
}
