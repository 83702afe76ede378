/* mime_sort.c: the keys SORT compares (RFC 5256 2.1 base subject, 3 the
 * address keys; RFC 5957 the display keys), case-folded for i;unicode-casemap. */
#include <string.h>
#include <strings.h>
#include "mime.h"
#include "mime_part.h"

static int wsp(char c) { return c == ' ' || c == '\t'; }

/* subj-blob: "[" *BLOBCHAR "]" *WSP; the index after it, or 0. */
static size_t blob(char const *s, size_t i, size_t n)
{
  if (i >= n || s[i] != '[') return 0;
  for (i++; i < n && s[i] != '[' && s[i] != ']'; i++) ;
  if (i >= n || s[i] != ']') return 0;
  for (i++; i < n && wsp(s[i]); i++) ;
  return i;
}

/* subj-refwd: ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; the index after it, or 0. */
static size_t refwd(char const *s, size_t i, size_t n)
{
  size_t k;
  if (n - i >= 2 && !strncasecmp(s + i, "re", 2)) i += 2;
  else if (n - i >= 2 && !strncasecmp(s + i, "fw", 2)) { i += 2; if (i < n && (s[i] == 'd' || s[i] == 'D')) i++; }
  else return 0;
  while (i < n && wsp(s[i])) i++;
  if ((k = blob(s, i, n))) i = k;
  return i < n && s[i] == ':' ? i + 1 : 0;
}

/* subj-leader: (*subj-blob subj-refwd) / WSP; the index after it, or 0. */
static size_t leader(char const *s, size_t i, size_t n)
{
  size_t k, j = i;
  if (i < n && wsp(s[i])) return i + 1;
  while ((k = blob(s, j, n))) j = k;
  return refwd(s, j, n);
}

/* i;unicode-casemap (RFC 5051) orders by titlecase: "a" sorts before
 * "[" and "_", as in Dovecot; folded, then ASCII letters upper case. */
static int sort_fold(stralloc const *in, stralloc *out)
{
  if (!mime_casefold(in->s ? in->s : "", in->len, out)) return 0;
  for (size_t i = 0; i < out->len; i++) if (out->s[i] >= 'a' && out->s[i] <= 'z') out->s[i] -= 32;
  return 1;
}

static int base_subject(stralloc *sa, int *reply)
{
  char *s = sa->s;
  size_t a = 0, n = sa->len, w = 0;
  if (!n) return 1;
  /* (1) white space runs become one space */
  for (size_t i = 0; i < n; i++)
  {
    char c = s[i] == '\t' || s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
    if (c == ' ' && (!w || s[w - 1] == ' ')) continue;
    s[w++] = c;
  }
  n = w;
  for (;;)
  {
    int changed;
    /* (2) trailing "(fwd)" and white space */
    do
    {
      changed = 0;
      while (n > a && s[n - 1] == ' ') { n--; changed = 1; }
      if (n - a >= 5 && !strncasecmp(s + n - 5, "(fwd)", 5)) { n -= 5; changed = 1; *reply = 1; }
    } while (changed);
    /* (3) leaders, (4) a leading blob unless nothing would be left */
    do
    {
      size_t k;
      changed = 0;
      while ((k = leader(s, a, n))) { if (!wsp(s[a])) *reply = 1; a = k; changed = 1; }
      if ((k = blob(s, a, n)) && k < n) { a = k; changed = 1; }
    } while (changed);
    /* (5), (6) "[fwd:" ... "]" */
    if (n - a >= 6 && !strncasecmp(s + a, "[fwd:", 5) && s[n - 1] == ']') { a += 5; n--; *reply = 1; continue; }
    break;
  }
  memmove(s, s + a, n - a);
  sa->len = n - a;
  return 1;
}

int mime_sort_subject(mime_message const *m, stralloc *out) { int reply; return mime_sort_subject_reply(m, out, &reply); }

int mime_sort_subject_reply(mime_message const *m, stralloc *out, int *reply)
{
  stralloc v = STRALLOC_ZERO;
  int r;
  out->len = 0;
  *reply = 0;
  r = mime_header_value(m, "subject", &v);
  if (r < 0) { stralloc_free(&v); return 1; }
  r = r && base_subject(&v, reply) && sort_fold(&v, out);
  stralloc_free(&v);
  return r;
}

int mime_sort_address(mime_message const *m, char const *field, int display, stralloc *out)
{
  stralloc v = STRALLOC_ZERO, text = STRALLOC_ZERO, dec = STRALLOC_ZERO;
  mime_field f;
  char const *t, *lt, *end;
  int r = 0;
  out->len = 0;
  if (!mime_field_find(m->msg, MIME_PART(m, 0)->hstart, MIME_PART(m, 0)->bstart, field, &f)) return 1;
  if (!mime_unfold(f.value, f.valuelen, &v) || !mime_address_text_groups(v.s ? v.s : "", v.len, &text)) goto end;
  r = 1;
  if (!text.len) goto end;
  /* the first "name <local@host>, " */
  t = text.s;
  end = memmem(t, text.len, ">, ", 3);
  if (!end) goto end;
  for (lt = end; lt > t && *lt != '<'; lt--) ;
  if (*lt != '<') goto end;   /* a name with ">, " in it: no key */
  if (display && lt > t + 1)
    r = mime_header_decode(t, (size_t)(lt - 1 - t), &dec);   /* the display name (RFC 5957) */
  else if (display)
  {
    /* else the addr-spec ("local" alone when there is no host) */
    size_t len = (size_t)(end - lt - 1);
    if (len && lt[len] == '@') len--;
    r = stralloc_catb(&dec, lt + 1, len);
  }
  else
  {
    /* addr-mailbox: the local part (RFC 5256 3) */
    char const *at = end;
    while (at > lt && *at != '@') at--;
    r = stralloc_catb(&dec, lt + 1, (size_t)((at > lt ? at : end) - lt - 1));
  }
  r = r && sort_fold(&dec, out);
 end:
  stralloc_free(&v); stralloc_free(&text); stralloc_free(&dec);
  return r;
}

unsigned mime_message_ids(mime_message const *m, char const *field, unsigned max, stralloc *out)
{
  stralloc v = STRALLOC_ZERO;
  mime_field f;
  unsigned n = 0;
  if (!mime_field_find(m->msg, MIME_PART(m, 0)->hstart, MIME_PART(m, 0)->bstart, field, &f)) return 0;
  if (!mime_unfold(f.value, f.valuelen, &v)) return 0;
  for (size_t i = 0; i < v.len && n < max; )
  {
    char const *lt = memchr(v.s + i, '<', v.len - i), *gt;
    if (!lt) break;
    gt = memchr(lt, '>', v.len - (size_t)(lt - v.s));
    if (!gt) break;
    /* an id holds no white space or second "<" */
    if (gt > lt + 1 && !memchr(lt + 1, '<', (size_t)(gt - lt - 1)) && !memchr(lt + 1, ' ', (size_t)(gt - lt - 1)))
    {
      if (!stralloc_catb(out, lt, (size_t)(gt - lt + 1)) || !stralloc_0(out)) break;
      n++;
      i = (size_t)(gt - v.s) + 1;
    }
    else i = (size_t)(lt - v.s) + 1;
  }
  stralloc_free(&v);
  return n;
}
