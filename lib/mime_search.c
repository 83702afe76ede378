/* mime_search.c: SEARCH HEADER, BODY and TEXT on decoded, case-folded text
 * (RFC 3501 6.4.4, RFC 9051 6.4.4). */
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include "mime.h"
#include "mime_part.h"

/* Does the folded text hold the folded needle? */
static int holds(stralloc const *hay, stralloc const *needle)
{
  if (!needle->len) return 1;
  return hay->len >= needle->len && memmem(hay->s, hay->len, needle->s, needle->len) != 0;
}

static int fold_needle(char const *needle, stralloc *out)
{
  return mime_casefold(needle, strlen(needle), out);
}

static int is_address_field(char const *name)
{
  static char const *const names[] = { "from", "to", "cc", "bcc", "sender", "reply-to", 0 };
  for (char const *const *p = names; *p; p++) if (!strcasecmp(name, *p)) return 1;
  return 0;
}

/* 1 if a field of [hstart, bstart) named field ("" any, name included) holds needle. */
static int header_holds(mime_message const *m, size_t hstart, size_t bstart, char const *field, stralloc const *fneedle)
{
  stralloc v = STRALLOC_ZERO, dec = STRALLOC_ZERO, folded = STRALLOC_ZERO;
  size_t pos = hstart, flen = strlen(field);
  mime_field f;
  int r = 0;
  while (mime_field_next(m->msg, &pos, bstart, &f))
  {
    if (!f.namelen) continue;
    if (flen && (f.namelen != flen || strncasecmp(f.name, field, flen))) continue;
    v.len = dec.len = folded.len = 0;
    if (!flen && (!stralloc_catb(&dec, f.name, f.namelen) || !stralloc_catb(&dec, ": ", 2))) { r = -1; break; }
    if (!mime_unfold(f.value, f.valuelen, &v) || !mime_header_decode(v.s ? v.s : "", v.len, &dec)
        || !mime_casefold(dec.s ? dec.s : "", dec.len, &folded)) { r = -1; break; }
    if (holds(&folded, fneedle)) { r = 1; break; }
    if (flen && is_address_field(field))
    {
      /* also the addresses as "name <local@host>", so that
         "user@domain" matches "<user (comment)@ domain>" too */
      dec.len = folded.len = 0;
      if (!mime_address_text(v.s ? v.s : "", v.len, &folded) || !mime_header_decode(folded.s ? folded.s : "", folded.len, &dec)
          || (folded.len = 0, !mime_casefold(dec.s ? dec.s : "", dec.len, &folded))) { r = -1; break; }
      if (holds(&folded, fneedle)) { r = 1; break; }
    }
  }
  stralloc_free(&v); stralloc_free(&dec); stralloc_free(&folded);
  return r;
}

int mime_header_contains(mime_message const *m, char const *field, char const *needle)
{
  stralloc fn = STRALLOC_ZERO;
  int r = -1;
  if (fold_needle(needle, &fn))
    r = header_holds(m, MIME_PART(m, 0)->hstart, MIME_PART(m, 0)->bstart, field, &fn);
  stralloc_free(&fn);
  return r;
}

/* Decoded UTF-8 text of leaf part i (text types only), folded into out; 0 if not text. */
static int part_text(mime_message const *m, int i, stralloc *out)
{
  mime_part const *p = MIME_PART(m, i);
  mime_ctype ct = MIME_CTYPE_ZERO;
  stralloc enc = STRALLOC_ZERO, raw = STRALLOC_ZERO, utf8 = STRALLOC_ZERO;
  mime_field f;
  int r = -1, d;
  if (!mime_part_ctype(m, i, &ct)) goto end;
  if (strcasecmp(ct.sa.s + ct.type, "text")) { r = 0; goto end; }
  if (mime_field_find(m->msg, p->hstart, p->bstart, "content-transfer-encoding", &f)
      && !mime_unfold(f.value, f.valuelen, &enc)) goto end;
  if (!stralloc_0(&enc)) goto end;
  d = mime_cte_decode(enc.s, m->msg + p->bstart, p->end - p->bstart, &raw);
  if (!d) goto end;
  if (d < 0 && !stralloc_catb(&raw, m->msg + p->bstart, p->end - p->bstart)) goto end;   /* unknown: raw */
  if (!mime_charset_to_utf8(mime_ctype_param(&ct, "charset"), raw.s ? raw.s : "", raw.len, &utf8)) goto end;
  if (!mime_casefold(utf8.s ? utf8.s : "", utf8.len, out)) goto end;
  r = 1;
end:
  stralloc_free(&ct.sa); stralloc_free(&enc); stralloc_free(&raw); stralloc_free(&utf8);
  return r;
}

/* Searches the body of entity i: its text leaves, and the headers and
 * bodies of encapsulated messages. */
static int body_holds(mime_message const *m, int i, stralloc const *fn, stralloc *scratch)
{
  mime_part const *p = MIME_PART(m, i);
  if (p->kind == MIME_MULTIPART)
  {
    for (int c = p->first_child; c >= 0; c = MIME_PART(m, c)->next_sibling)
    {
      int r = body_holds(m, c, fn, scratch);
      if (r) return r;
    }
    return 0;
  }
  if (p->kind == MIME_MESSAGE)
  {
    int c = p->first_child, r;
    if (c < 0) return 0;
    r = header_holds(m, MIME_PART(m, c)->hstart, MIME_PART(m, c)->bstart, "", fn);
    return r ? r : body_holds(m, c, fn, scratch);
  }
  scratch->len = 0;
  {
    int r = part_text(m, i, scratch);
    if (r <= 0) return r;
  }
  return holds(scratch, fn);
}

int mime_body_contains(mime_message const *m, char const *needle)
{
  stralloc fn = STRALLOC_ZERO, scratch = STRALLOC_ZERO;
  int r = -1;
  if (fold_needle(needle, &fn)) r = fn.len ? body_holds(m, 0, &fn, &scratch) : 1;
  stralloc_free(&fn); stralloc_free(&scratch);
  return r;
}

int mime_text_contains(mime_message const *m, char const *needle)
{
  int r = mime_header_contains(m, "", needle);
  return r ? r : mime_body_contains(m, needle);
}

int mime_header_value(mime_message const *m, char const *field, stralloc *out)
{
  stralloc v = STRALLOC_ZERO;
  mime_field f;
  int r;
  if (!mime_field_find(m->msg, MIME_PART(m, 0)->hstart, MIME_PART(m, 0)->bstart, field, &f)) return -1;
  r = mime_unfold(f.value, f.valuelen, &v) && mime_header_decode(v.s ? v.s : "", v.len, out);
  stralloc_free(&v);
  return r;
}
