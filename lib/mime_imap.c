/* mime_imap.c: ENVELOPE and BODY/BODYSTRUCTURE (RFC 3501 7.4.2, RFC 9051
 * 7.5.2), with RFC 5322 address lists parsed the forgiving way. */
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/types.h>
#include "mime.h"
#include "mime_part.h"

#define MIME_QUOTED_MAX 1000      /* longer strings go as literals (RFC 3501 4.3) */
#define MIME_ADDRESSES_MAX 10000  /* addresses per header field */

int mime_imap_string(char const *s, size_t len, stralloc *out)
{
  int literal = len > MIME_QUOTED_MAX;
  size_t nul = 0;
  if (!s) return stralloc_cats(out, "NIL");
  for (size_t i = 0; i < len; i++)
  {
    unsigned char c = s[i];
    if (!c) nul++;
    if (c >= 0x80 || c == '\r' || c == '\n' || !c) literal = 1;
  }
  if (literal)
  {
    char fmt[SIZE_FMT];
    /* a literal may not hold NUL (RFC 3501 4.3): those bytes are dropped */
    if (!stralloc_catb(out, "{", 1) || !stralloc_catb(out, fmt, size_fmt(fmt, len - nul))
        || !stralloc_catb(out, "}\r\n", 3) || !stralloc_readyplus(out, len)) return 0;
    for (size_t i = 0; i < len; i++) if (s[i]) out->s[out->len++] = s[i];
    return 1;
  }
  if (!stralloc_readyplus(out, len * 2 + 2)) return 0;
  out->s[out->len++] = '"';
  for (size_t i = 0; i < len; i++)
  {
    if (s[i] == '"' || s[i] == '\\') out->s[out->len++] = '\\';
    out->s[out->len++] = s[i];
  }
  out->s[out->len++] = '"';
  return 1;
}

static int cat_str(stralloc *out, char const *s) { return mime_imap_string(s, s ? strlen(s) : 0, out); }

/* The unfolded value of a field as an nstring; NIL when f is 0 (absent). */
static int nstring_of(mime_field const *f, stralloc *out)
{
  stralloc v = STRALLOC_ZERO;
  int r;
  if (!f) return stralloc_cats(out, "NIL");
  r = mime_unfold(f->value, f->valuelen, &v) && mime_imap_string(v.s ? v.s : "", v.len, out);
  stralloc_free(&v);
  return r;
}

/* The unfolded value of field in [hstart, bstart), as an nstring; NIL if absent. */
static int field_nstring(mime_message const *m, size_t hstart, size_t bstart, char const *name, stralloc *out)
{
  mime_field f;
  return nstring_of(mime_field_find(m->msg, hstart, bstart, name, &f) ? &f : 0, out);
}

/* Address tokens (RFC 5322 3.2, 3.4). */
enum { T_ATOM, T_QSTR, T_COMMENT, T_SPECIAL, T_DLIT };
typedef struct { unsigned char type; unsigned char space_before; size_t a, b; } token;

static int tokenize(char const *s, size_t len, genalloc *toks)
{
  size_t i = 0;
  int space = 0;
  while (i < len)
  {
    token t;
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { space = 1; i++; continue; }
    t.space_before = space; space = 0;
    t.a = i;
    if (c == '"' || c == '(' || c == '[')
    {
      unsigned depth = 0;
      char close = c == '"' ? '"' : c == '(' ? ')' : ']';
      t.type = c == '"' ? T_QSTR : c == '(' ? T_COMMENT : T_DLIT;
      for (i++; i < len; i++)
      {
        if (s[i] == '\\' && i + 1 < len) { i++; continue; }
        if (c == '(' && s[i] == '(') depth++;
        else if (s[i] == close) { if (!depth) break; depth--; }
      }
      if (i < len) i++;
      t.b = i;
      if (t.type == T_COMMENT) space = 1;
    }
    else if (strchr("<>@,;:.", c)) { t.type = T_SPECIAL; t.b = ++i; }
    else
    {
      t.type = T_ATOM;
      while (i < len && !strchr(" \t\r\n\"()[]<>@,;:.", s[i])) i++;
      if (i == t.a) i++;                 /* a stray ')' or ']': a word of its own */
      t.b = i;
    }
    if (!genalloc_append(token, toks, &t)) return 0;
  }
  return 1;
}

static int special(char const *s, token const *t, char c) { return t->type == T_SPECIAL && s[t->a] == c; }

/* Appends the content of a quoted string or comment, unescaped. */
static int cat_inner(stralloc *sa, char const *s, token const *t)
{
  size_t a = t->a + 1, b = t->b;
  if (b > a && (s[b-1] == '"' || s[b-1] == ')')) b--;
  for (size_t i = a; i < b; i++)
  {
    if (s[i] == '\\' && i + 1 < b) i++;
    if (!stralloc_catb(sa, s + i, 1)) return 0;
  }
  return 1;
}

/* A phrase: words joined by single spaces, quotes removed. */
static int cat_phrase(stralloc *sa, char const *s, token const *t, size_t n)
{
  for (size_t i = 0; i < n; i++)
  {
    if (t[i].type == T_COMMENT) continue;
    if (sa->len && t[i].space_before && !stralloc_catb(sa, " ", 1)) return 0;
    if (t[i].type == T_QSTR) { if (!cat_inner(sa, s, t + i)) return 0; }
    else if (!stralloc_catb(sa, s + t[i].a, t[i].b - t[i].a)) return 0;
  }
  return 1;
}

/* Raw text of tokens (comments skipped), no white space: local parts, domains. */
static int cat_raw(stralloc *sa, char const *s, token const *t, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (t[i].type != T_COMMENT && !stralloc_catb(sa, s + t[i].a, t[i].b - t[i].a)) return 0;
  return 1;
}

static int cat_nstr(stralloc *out, stralloc const *sa, int present)
{
  if (!present) return stralloc_cats(out, "NIL");
  return mime_imap_string(sa->s ? sa->s : "", sa->len, out);
}

/* Writes one "(name adl mailbox host)" for an addr-spec in t[0..n) with an
 * optional display name. */
static int emit_mailbox(stralloc *out, char const *s, token const *t, size_t n, stralloc const *name, int has_name, int text)
{
  stralloc local = STRALLOC_ZERO, host = STRALLOC_ZERO, adl = STRALLOC_ZERO;
  size_t at = n, start = 0;
  int r = 0;
  /* obs-route: "@a,@b:" before the addr-spec */
  for (size_t i = 0; i < n; i++)
    if (special(s, t + i, ':')) { if (!cat_raw(&adl, s, t, i)) goto end; start = i + 1; break; }
  for (size_t i = n; i > start; i--) if (special(s, t + i - 1, '@')) { at = i - 1; break; }
  if (!cat_raw(&local, s, t + start, (at < n ? at : n) - start)) goto end;
  if (at < n && !cat_raw(&host, s, t + at + 1, n - at - 1)) goto end;
  if (text)
  {
    /* "name <local@host>, " */
    r = (!has_name || (stralloc_catb(out, name->s, name->len) && stralloc_catb(out, " ", 1)))
      && stralloc_catb(out, "<", 1) && stralloc_catb(out, local.s, local.len) && stralloc_catb(out, "@", 1)
      && stralloc_catb(out, host.s, host.len) && stralloc_catb(out, ">, ", 3);
    goto end;
  }
  if (!stralloc_catb(out, "(", 1) || !cat_nstr(out, name, has_name) || !stralloc_catb(out, " ", 1)
      || !cat_nstr(out, &adl, adl.len > 0) || !stralloc_catb(out, " ", 1)) goto end;
  if (local.len ? !mime_imap_string(local.s, local.len, out) : !stralloc_cats(out, "\"MISSING_MAILBOX\"")) goto end;
  if (!stralloc_catb(out, " ", 1)) goto end;
  if (host.len ? !mime_imap_string(host.s, host.len, out) : !stralloc_cats(out, "\"MISSING_DOMAIN\"")) goto end;
  r = stralloc_catb(out, ")", 1);
end:
  stralloc_free(&local); stralloc_free(&host); stralloc_free(&adl);
  return r;
}

/* Appends an address list "((...)(...))" or NIL when it holds nothing;
 * with text, "name <local@host>, " for each address (groups left out; with
 * text 2 a group's start as "<name@>, "). */
static int address_list(char const *s, size_t len, stralloc *out, int text)
{
  genalloc toks = GENALLOC_ZERO;
  stralloc name = STRALLOC_ZERO;
  size_t outstart = out->len, i = 0, n;
  token const *t;
  int in_group = 0, count = 0, r = 0;
  if (!tokenize(s, len, &toks)) goto end;
  t = genalloc_s(token, &toks);
  n = genalloc_len(token, &toks);
  if (!text && !stralloc_catb(out, "(", 1)) goto end;
  while (i < n && count < MIME_ADDRESSES_MAX)
  {
    size_t a = i, angle = n;
    int inside = 0;
    /* an item runs to the next ',' or ';' outside <>, or to a group's ':' */
    for (; i < n; i++)
    {
      if (special(s, t + i, '<') && !inside) { if (angle == n) angle = i; inside = 1; continue; }
      if (special(s, t + i, '>')) { inside = 0; continue; }
      if (inside) continue;
      if (special(s, t + i, ',') || special(s, t + i, ';')) break;
      if (special(s, t + i, ':') && angle == n && !in_group) break;
    }
    if (i < n && special(s, t + i, ':'))
    {
      /* group start: (NIL NIL "name" NIL) */
      name.len = 0;
      if (!cat_phrase(&name, s, t + a, i - a)) goto end;
      if (!text && (!stralloc_cats(out, "(NIL NIL ") || !mime_imap_string(name.s ? name.s : "", name.len, out)
          || !stralloc_cats(out, " NIL)"))) goto end;
      /* SORT's keys take a group's name as ENVELOPE's first mailbox */
      if (text == 2 && (!stralloc_catb(out, "<", 1) || !stralloc_catb(out, name.s ? name.s : "", name.len)
          || !stralloc_cats(out, "@>, "))) goto end;
      in_group = 1; count++;
      i++;
      continue;
    }
    if (angle < i)
    {
      size_t close = angle + 1;
      while (close < i && !special(s, t + close, '>')) close++;
      name.len = 0;
      if (!cat_phrase(&name, s, t + a, angle - a)) goto end;
      if (!emit_mailbox(out, s, t + angle + 1, close - angle - 1, &name, name.len > 0, text)) goto end;
      count++;
    }
    else if (i > a)
    {
      int words = 0;
      size_t last_comment = n;
      for (size_t k = a; k < i; k++) { if (t[k].type == T_COMMENT) last_comment = k; else words++; }
      if (words)
      {
        name.len = 0;
        if (last_comment < n && !cat_inner(&name, s, t + last_comment)) goto end;
        if (!emit_mailbox(out, s, t + a, i - a, &name, name.len > 0, text)) goto end;
        count++;
      }
    }
    if (i < n && special(s, t + i, ';') && in_group)
    {
      if (!text && !stralloc_cats(out, "(NIL NIL NIL NIL)")) goto end;
      in_group = 0;
    }
    if (i < n) i++;
  }
  if (text) { r = 1; goto end; }
  if (in_group && !stralloc_cats(out, "(NIL NIL NIL NIL)")) goto end;
  if (!count) { out->len = outstart; r = stralloc_cats(out, "NIL"); goto end; }
  r = stralloc_catb(out, ")", 1);
end:
  genalloc_free(token, &toks);
  stralloc_free(&name);
  return r;
}

/* An address field as a list; when it is absent or holds no address, the
 * fallback field's (RFC 3501 7.4.2: Sender and Reply-To default to From). */
static int addresses_of(mime_field const *f, mime_field const *fallback, stralloc *out)
{
  stralloc v = STRALLOC_ZERO;
  size_t before = out->len;
  int r;
  if (!f) return fallback ? addresses_of(fallback, 0, out) : stralloc_cats(out, "NIL");
  r = mime_unfold(f->value, f->valuelen, &v) && address_list(v.s ? v.s : "", v.len, out, 0);
  stralloc_free(&v);
  if (r && fallback && out->len == before + 3 && !memcmp(out->s + before, "NIL", 3))
  {
    out->len = before;
    return addresses_of(fallback, 0, out);
  }
  return r;
}

int mime_address_text(char const *s, size_t len, stralloc *out) { return address_list(s, len, out, 1); }
int mime_address_text_groups(char const *s, size_t len, stralloc *out) { return address_list(s, len, out, 2); }

enum { E_DATE, E_SUBJECT, E_FROM, E_SENDER, E_REPLY_TO, E_TO, E_CC, E_BCC, E_IN_REPLY_TO, E_MESSAGE_ID, E_FIELDS };
static char const *const envelope_names[E_FIELDS] =
  { "date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc", "in-reply-to", "message-id" };

/* One pass over the header: the first occurrence of each envelope field. */
static int envelope_of(mime_message const *m, int i, stralloc *out)
{
  mime_field found[E_FIELDS], f, *at[E_FIELDS] = { 0 };
  size_t pos = MIME_PART(m, i)->hstart, end = MIME_PART(m, i)->bstart;
  while (mime_field_next(m->msg, &pos, end, &f))
    for (unsigned k = 0; k < E_FIELDS; k++)
      if (!at[k] && f.namelen == strlen(envelope_names[k]) && !strncasecmp(f.name, envelope_names[k], f.namelen))
      {
        found[k] = f; at[k] = found + k;
        break;
      }
  return stralloc_catb(out, "(", 1)
    && nstring_of(at[E_DATE], out) && stralloc_catb(out, " ", 1)
    && nstring_of(at[E_SUBJECT], out) && stralloc_catb(out, " ", 1)
    && addresses_of(at[E_FROM], 0, out) && stralloc_catb(out, " ", 1)
    && addresses_of(at[E_SENDER], at[E_FROM], out) && stralloc_catb(out, " ", 1)
    && addresses_of(at[E_REPLY_TO], at[E_FROM], out) && stralloc_catb(out, " ", 1)
    && addresses_of(at[E_TO], 0, out) && stralloc_catb(out, " ", 1)
    && addresses_of(at[E_CC], 0, out) && stralloc_catb(out, " ", 1)
    && addresses_of(at[E_BCC], 0, out) && stralloc_catb(out, " ", 1)
    && nstring_of(at[E_IN_REPLY_TO], out) && stralloc_catb(out, " ", 1)
    && nstring_of(at[E_MESSAGE_ID], out) && stralloc_catb(out, ")", 1);
}

int mime_envelope(mime_message const *m, stralloc *out)
{
  return envelope_of(m, 0, out);
}

/* ("attr" "value" ...) or NIL; text types get the RFC 2045 5.2 default
 * charset when they name none. */
static int params_list(mime_ctype const *ct, int text, stralloc *out)
{
  size_t p = ct->params;
  int charset = text && !mime_ctype_param(ct, "charset");
  if (!ct->nparams && !charset) return stralloc_cats(out, "NIL");
  if (!stralloc_catb(out, "(", 1)) return 0;
  if (charset && !stralloc_cats(out, ct->nparams ? "\"charset\" \"us-ascii\" " : "\"charset\" \"us-ascii\"")) return 0;
  for (unsigned int i = 0; i < ct->nparams; i++)
  {
    char const *a = ct->sa.s + p, *v = a + strlen(a) + 1;
    if ((i && !stralloc_catb(out, " ", 1)) || !cat_str(out, a) || !stralloc_catb(out, " ", 1) || !cat_str(out, v)) return 0;
    p = (size_t)(v - ct->sa.s) + strlen(v) + 1;
  }
  return stralloc_catb(out, ")", 1);
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc (RFC 3501 9). */
static int ext_common(mime_message const *m, mime_part const *p, stralloc *out)
{
  mime_field f;
  mime_ctype d = MIME_CTYPE_ZERO;
  stralloc v = STRALLOC_ZERO;
  int r = 0;
  if (mime_field_find(m->msg, p->hstart, p->bstart, "content-disposition", &f))
  {
    r = mime_ctype_parse(f.value, f.valuelen, 0, &d);
    if (!r) goto end;
  }
  if (r == 1)
  {
    if (!stralloc_catb(out, "(", 1) || !cat_str(out, d.sa.s + d.type) || !stralloc_catb(out, " ", 1)
        || !params_list(&d, 0, out) || !stralloc_catb(out, ")", 1)) goto end;
  }
  else if (!stralloc_cats(out, "NIL")) goto end;
  r = 0;
  if (!stralloc_catb(out, " ", 1)) goto end;
  /* Content-Language: a list of tags (RFC 3282) */
  if (mime_field_find(m->msg, p->hstart, p->bstart, "content-language", &f))
  {
    size_t start = out->len, i = 0;
    unsigned n = 0;
    if (!mime_unfold(f.value, f.valuelen, &v)) goto end;
    if (!stralloc_catb(out, "(", 1)) goto end;
    while (i < v.len && n < 100)
    {
      size_t a;
      while (i < v.len && (v.s[i] == ',' || v.s[i] == ' ' || v.s[i] == '\t')) i++;
      a = i;
      while (i < v.len && v.s[i] != ',' && v.s[i] != ' ' && v.s[i] != '\t' && v.s[i] != '(') i++;
      if (i > a)
      {
        if ((n && !stralloc_catb(out, " ", 1)) || !mime_imap_string(v.s + a, i - a, out)) goto end;
        n++;
      }
      if (i < v.len && v.s[i] == '(') { while (i < v.len && v.s[i] != ')') i++; }
    }
    if (!n) { out->len = start; if (!stralloc_cats(out, "NIL")) goto end; }
    else if (n == 1)
    {
      memmove(out->s + start, out->s + start + 1, out->len - start - 1);
      out->len--;
    }
    else if (!stralloc_catb(out, ")", 1)) goto end;
  }
  else if (!stralloc_cats(out, "NIL")) goto end;
  if (!stralloc_catb(out, " ", 1) || !field_nstring(m, p->hstart, p->bstart, "content-location", out)) goto end;
  r = 1;
end:
  stralloc_free(&d.sa);
  stralloc_free(&v);
  return r;
}

static int body_of(mime_message const *m, int i, int extended, stralloc *out);

static int body_multipart(mime_message const *m, int i, int extended, mime_ctype const *ct, stralloc *out)
{
  mime_part const *p = MIME_PART(m, i);
  if (!stralloc_catb(out, "(", 1)) return 0;
  if (p->first_child < 0)
  {
    /* a multipart must hold a part (RFC 3501 9 body-type-mpart): an empty text/plain */
    if (!stralloc_cats(out, extended ? "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"
                                     : "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)")) return 0;
  }
  for (int c = p->first_child; c >= 0; c = MIME_PART(m, c)->next_sibling)
    if (!body_of(m, c, extended, out)) return 0;
  if (!stralloc_catb(out, " ", 1) || !cat_str(out, ct->sa.s + ct->subtype)) return 0;
  if (extended)
    if (!stralloc_catb(out, " ", 1) || !params_list(ct, 0, out) || !stralloc_catb(out, " ", 1) || !ext_common(m, p, out)) return 0;
  return stralloc_catb(out, ")", 1);
}

static int body_of(mime_message const *m, int i, int extended, stralloc *out)
{
  mime_part const *p = MIME_PART(m, i);
  mime_ctype ct = MIME_CTYPE_ZERO;
  char fmt[SIZE_FMT];
  char const *type, *sub;
  int r = 0;
  if (!mime_part_ctype(m, i, &ct)) goto end;
  type = ct.sa.s + ct.type; sub = ct.sa.s + ct.subtype;
  if (p->kind == MIME_MULTIPART) { r = body_multipart(m, i, extended, &ct, out); goto end; }
  if (p->kind == MIME_LEAF && (!strcasecmp(type, "multipart") || !strcasecmp(type, "message")) && p->ct_valid
      && (!strcasecmp(type, "multipart") || !strcasecmp(sub, "rfc822") || !strcasecmp(sub, "global")))
  { type = "application"; sub = "octet-stream"; ct.nparams = 0; }   /* nested too deep: opaque */
  if (!stralloc_catb(out, "(", 1) || !cat_str(out, type) || !stralloc_catb(out, " ", 1) || !cat_str(out, sub)
      || !stralloc_catb(out, " ", 1) || !params_list(&ct, !strcasecmp(type, "text"), out) || !stralloc_catb(out, " ", 1)
      || !field_nstring(m, p->hstart, p->bstart, "content-id", out) || !stralloc_catb(out, " ", 1)
      || !field_nstring(m, p->hstart, p->bstart, "content-description", out) || !stralloc_catb(out, " ", 1)) goto end;
  {
    mime_field f;
    stralloc enc = STRALLOC_ZERO;
    int ok;
    if (mime_field_find(m->msg, p->hstart, p->bstart, "content-transfer-encoding", &f))
      ok = mime_unfold(f.value, f.valuelen, &enc);
    else ok = 1;
    if (ok && !enc.len) ok = stralloc_cats(&enc, "7bit");
    ok = ok && mime_imap_string(enc.s, enc.len, out);
    stralloc_free(&enc);
    if (!ok) goto end;
  }
  if (!stralloc_catb(out, " ", 1) || !stralloc_catb(out, fmt, size_fmt(fmt, mime_crlf_size(m->msg, p->bstart, p->end)))) goto end;
  if (p->kind == MIME_MESSAGE)
  {
    if (!stralloc_catb(out, " ", 1) || !envelope_of(m, p->first_child, out) || !stralloc_catb(out, " ", 1)
        || !body_of(m, p->first_child, extended, out) || !stralloc_catb(out, " ", 1)
        || !stralloc_catb(out, fmt, size_fmt(fmt, mime_line_count(m->msg, p->bstart, p->end)))) goto end;
  }
  else if (!strcasecmp(type, "text"))
    if (!stralloc_catb(out, " ", 1) || !stralloc_catb(out, fmt, size_fmt(fmt, mime_line_count(m->msg, p->bstart, p->end)))) goto end;
  if (extended)
    if (!stralloc_catb(out, " ", 1) || !field_nstring(m, p->hstart, p->bstart, "content-md5", out)
        || !stralloc_catb(out, " ", 1) || !ext_common(m, p, out)) goto end;
  r = stralloc_catb(out, ")", 1);
end:
  stralloc_free(&ct.sa);
  return r;
}

int mime_bodystructure(mime_message const *m, int extended, stralloc *out)
{
  return body_of(m, 0, extended, out);
}
