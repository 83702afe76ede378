/* search: SEARCH and UID SEARCH (RFC 3501 6.4.4) with ESEARCH's RETURN
 * options (RFC 4731). The criteria are walked once per message with a cursor,
 * evaluating as they are read; a first walk with no message checks the
 * syntax. Text keys use lib/mime's decoded, case-insensitive matching. */
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "mime.h"
#include "imapd.h"


/* Header keys need only the header section: at most this much is read for
 * them (the rest of a longer header section is not searched). */
#define SEARCH_HEADER_MAX (256 * 1024)
#define SEARCH_READ_CHUNK 8192

typedef struct ctx_s ctx;
struct ctx_s {
  session *s;
  msg *m;              /* 0: syntax check only */
  size_t seq;
  int uidmode;
  stralloc raw;
  mime_message *mime;
  int loaded;          /* 0 nothing, 1 the header section, 2 the whole message */
  int failed;
  stralloc arg, arg2;
  int modseq_used;     /* a MODSEQ key: the answer says the highest (RFC 7162 3.1.5) */
};

/* Reads the header section (up to its blank line) into raw. */
static int read_head(mailbox *b, msg *m, stralloc *raw)
{
  int fd = msg_open(b, m);
  raw->len = 0;
  if (fd < 0) return -1;
  while (raw->len < SEARCH_HEADER_MAX)
  {
    ssize_t r;
    size_t from = raw->len > 3 ? raw->len - 3 : 0;
    if (!stralloc_readyplus(raw, SEARCH_READ_CHUNK)) die_nomem();
    r = read(fd, raw->s + raw->len, SEARCH_READ_CHUNK);
    if (r < 0) { fd_close(fd); return -1; }
    if (!r) break;
    raw->len += (size_t)r;
    if (memmem(raw->s + from, raw->len - from, "\n\n", 2) || memmem(raw->s + from, raw->len - from, "\n\r\n", 3)) break;
  }
  fd_close(fd);
  return 0;
}

/* The message parsed: the header section only (whole == 0) or all of it. */
static mime_message *need_mime(ctx *x, int whole)
{
  int want = whole ? 2 : 1;
  if (x->failed) return 0;
  if (x->loaded >= want) return x->mime;
  if (x->mime) { mime_free(x->mime); x->mime = 0; }
  x->loaded = want;
  if ((whole ? msg_read(&x->s->mbox, x->m, &x->raw) : read_head(&x->s->mbox, x->m, &x->raw)) < 0) { x->failed = 1; return 0; }
  if (!(x->mime = mime_parse(x->raw.s ? x->raw.s : "", x->raw.len))) die_nomem();
  return x->mime;
}

static int64_t day_of(int64_t t) { return t >= 0 ? t / 86400 : -((-t + 86399) / 86400); }

static int string_arg(imap_cursor *c, stralloc *sa)
{
  sa->len = 0;
  return imap_sp(c) && imap_astring(c, sa) && stralloc_0(sa);
}

static int crit(imap_cursor *c, ctx *x, unsigned depth);

/* A list of criteria, all of which must match (AND), until ')' or the end. */
static int crit_all(imap_cursor *c, ctx *x, unsigned depth, int in_parens)
{
  int result = 1;
  for (unsigned n = 0; ; n++)
  {
    int r;
    if (in_parens ? imap_peek(c) == ')' : imap_at_end(c)) return n ? result : -1;
    if (n && !imap_sp(c)) return -1;
    r = crit(c, x, depth + 1);
    if (r < 0) return -1;
    result = result && r;
  }
}

static int text_key(ctx *x, char const *field, int kind)
{
  mime_message *mm;
  int r;
  if (!x->m) return 0;
  if (!(mm = need_mime(x, kind != 0))) return 0;
  r = kind == 0 ? mime_header_contains(mm, field, x->arg.s)
    : kind == 1 ? mime_body_contains(mm, x->arg.s) : mime_text_contains(mm, x->arg.s);
  if (r < 0) die_nomem();
  return r;
}

static int crit(imap_cursor *c, ctx *x, unsigned depth)
{
  char key[24];
  size_t n = 0;
  msg *m = x->m;
  uint64_t num;
  int64_t date;
  if (depth > IMAPD_SEARCH_DEPTH_MAX) return -1;
  if (imap_char(c, '('))
  {
    int r = crit_all(c, x, depth, 1);
    if (r < 0 || !imap_char(c, ')')) return -1;
    return r;
  }
  if ((imap_peek(c) >= '0' && imap_peek(c) <= '9') || imap_peek(c) == '*' || imap_peek(c) == '$')
  {
    stralloc ranges = STRALLOC_ZERO;
    int r = parse_set(c, &ranges, 0);
    if (r && m) r = imap_seqset_has(&ranges, (uint32_t)x->seq, (uint32_t)box_count()) ? 1 : 0;
    else r = r ? 0 : -1;
    stralloc_free(&ranges);
    return r;
  }
  while (c->pos < c->len && n < sizeof key - 1 && ((c->s[c->pos] >= 'A' && c->s[c->pos] <= 'Z') || (c->s[c->pos] >= 'a' && c->s[c->pos] <= 'z')))
    key[n++] = c->s[c->pos++];
  key[n] = 0;
#define K(s) (!strcasecmp(key, s))
#define FLAG(s, bit, want) if (K(s)) return m ? (((m->flags & (bit)) != 0) == (want)) : 0
  if (K("ALL")) return m != 0;
  FLAG("ANSWERED", FL_ANSWERED, 1); FLAG("UNANSWERED", FL_ANSWERED, 0);
  FLAG("DELETED", FL_DELETED, 1);   FLAG("UNDELETED", FL_DELETED, 0);
  FLAG("DRAFT", FL_DRAFT, 1);       FLAG("UNDRAFT", FL_DRAFT, 0);
  FLAG("FLAGGED", FL_FLAGGED, 1);   FLAG("UNFLAGGED", FL_FLAGGED, 0);
  FLAG("SEEN", FL_SEEN, 1);         FLAG("UNSEEN", FL_SEEN, 0);
  FLAG("RECENT", FL_RECENT, 1);     FLAG("OLD", FL_RECENT, 0);
  if (K("NEW")) return m ? (m->flags & FL_RECENT) && !(m->flags & FL_SEEN) : 0;
  if (K("NOT"))
  {
    int r;
    if (!imap_sp(c) || (r = crit(c, x, depth + 1)) < 0) return -1;
    return m ? !r : 0;
  }
  if (K("OR"))
  {
    int a, b;
    if (!imap_sp(c) || (a = crit(c, x, depth + 1)) < 0) return -1;
    if (!imap_sp(c) || (b = crit(c, x, depth + 1)) < 0) return -1;
    return a || b;
  }
  if (K("KEYWORD") || K("UNKEYWORD"))
  {
    int k, has;
    x->arg.len = 0;
    if (!imap_sp(c) || !imap_atom(c, &x->arg) || !stralloc_0(&x->arg)) return -1;
    if (!m) return 0;
    k = keyword_index(&x->s->mbox.keywords, &x->s->mbox.keyword_count, x->arg.s, 0);
    has = k >= 0 && (m->keywords & (1u << k));
    return K("KEYWORD") ? has : !has;
  }
  if (K("LARGER") || K("SMALLER"))
  {
    if (!imap_sp(c) || !imap_number(c, &num)) return -1;
    if (!m || msg_size(&x->s->mbox, m) < 0) return 0;
    return K("LARGER") ? m->size > num : m->size < num;
  }
  if (K("MODSEQ"))
  {
    /* MODSEQ ["/flags/name" priv|shared|all] modseq: per message here */
    uint64_t since;
    if (!imap_sp(c)) return -1;
    if (imap_peek(c) == '"')
    {
      x->arg.len = 0;
      if (!imap_string(c, &x->arg) || !imap_sp(c) || !(x->arg2.len = 0, imap_atom(c, &x->arg2)) || !imap_sp(c)) return -1;
    }
    if (!parse_modseq(c, &since)) return -1;
    x->modseq_used = 1;
    x->s->cond = 1;
    return m ? m->modseq >= since : 0;
  }
  if (K("UID"))
  {
    stralloc ranges = STRALLOC_ZERO;
    int r = imap_sp(c) && parse_set(c, &ranges, 1);
    size_t count = box_count();
    if (r && m) r = imap_seqset_has(&ranges, m->uid, count ? box_msg(count - 1)->uid : 0) ? 1 : 0;
    else r = r ? 0 : -1;
    stralloc_free(&ranges);
    return r;
  }
  if (K("BEFORE") || K("ON") || K("SINCE") || K("SENTBEFORE") || K("SENTON") || K("SENTSINCE"))
  {
    int64_t d, t;
    if (!imap_sp(c) || !imap_date(c, &date)) return -1;
    if (!m) return 0;
    /* SENT*: the Date: field's own date, as its sender wrote it; the
       others: INTERNALDATE's date in the zone FETCH gives it (+0000) */
    t = 0;
    if ((key[0] == 'S' || key[0] == 's') && (key[1] == 'E' || key[1] == 'e'))
    {
      long zone = 0;
      if (!need_mime(x, 0)) return 0;
      if ((t = mime_date_zone(x->mime, &zone))) t += zone;
    }
    if (!t) { if (msg_date(&x->s->mbox, m) < 0) return 0; t = m->internaldate; }
    d = day_of(t);
    date = day_of(date);
    if (K("BEFORE") || K("SENTBEFORE")) return d < date;
    if (K("ON") || K("SENTON")) return d == date;
    return d >= date;
  }
  if (K("BCC") || K("CC") || K("FROM") || K("SUBJECT") || K("TO"))
  {
    if (!string_arg(c, &x->arg)) return -1;
    return text_key(x, key, 0);
  }
  if (K("HEADER"))
  {
    x->arg2.len = 0;
    if (!imap_sp(c) || !imap_astring(c, &x->arg2) || !stralloc_0(&x->arg2) || !string_arg(c, &x->arg)) return -1;
    return text_key(x, x->arg2.s, 0);
  }
  if (K("BODY")) { if (!string_arg(c, &x->arg)) return -1; return text_key(x, "", 1); }
  if (K("TEXT")) { if (!string_arg(c, &x->arg)) return -1; return text_key(x, "", 2); }
#undef FLAG
#undef K
  return -1;
}

static void ctx_done(ctx *x)
{
  if (x->mime) mime_free(x->mime);
  x->mime = 0; x->loaded = 0; x->failed = 0; x->raw.len = 0;
}

int search_select(session *s, imap_cursor *c, genalloc *indexes, int *modseq_used)
{
  ctx x;
  size_t n = box_count();
  int ok = 0;
  memset(&x, 0, sizeof x);
  x.s = s;
  genalloc_setlen(size_t, indexes, 0);
  keywords_refresh(&s->mbox);   /* KEYWORD may name one another session defined */
  {
    imap_cursor check = *c;
    if (crit_all(&check, &x, 0, 0) < 0) goto end;
  }
  for (size_t i = 0; i < n; i++)
  {
    imap_cursor walk = *c;
    int r;
    x.m = box_msg(i); x.seq = i + 1;
    r = crit_all(&walk, &x, 0, 0);
    ctx_done(&x);
    if (r > 0 && !genalloc_append(size_t, indexes, &i)) die_nomem();
  }
  ok = 1;
 end:
  *modseq_used = x.modseq_used;
  ctx_done(&x);
  stralloc_free(&x.raw); stralloc_free(&x.arg); stralloc_free(&x.arg2);
  return ok;
}

/* PARTIAL's range (RFC 5267 4.4): n:m of positive numbers, either order */
static int partial_range(imap_cursor *c, uint32_t partial[2])
{
  stralloc w = STRALLOC_ZERO;
  char const *colon;
  uint32_t a, b;
  size_t k;
  int ok = imap_atom(c, &w) && stralloc_0(&w) && (colon = strchr(w.s, ':'))
           && (k = uint32_scan(w.s, &a)) && w.s + k == colon && a
           && (k = uint32_scan(colon + 1, &b)) && !colon[1 + k] && b;
  stralloc_free(&w);
  if (!ok) return 0;
  partial[0] = a < b ? a : b; partial[1] = a < b ? b : a;
  return 1;
}

int return_options(imap_cursor *c, int search, unsigned *ret, uint32_t partial[2])
{
  stralloc word = STRALLOC_ZERO;
  int ok = imap_char(c, '(');
  *ret = 0;
  while (ok && !imap_char(c, ')'))
  {
    word.len = 0;
    if (!imap_atom(c, &word) || !stralloc_0(&word)) ok = 0;
    else if (!strcasecmp(word.s, "MIN")) *ret |= RET_MIN;
    else if (!strcasecmp(word.s, "MAX")) *ret |= RET_MAX;
    else if (!strcasecmp(word.s, "COUNT")) *ret |= RET_COUNT;
    else if (!strcasecmp(word.s, "ALL")) *ret |= RET_ALL;
    else if (search && !strcasecmp(word.s, "SAVE")) *ret |= RET_SAVE;
    else if (search && !strcasecmp(word.s, "UPDATE")) *ret |= RET_UPDATE;
    else if (search && !strcasecmp(word.s, "PARTIAL") && imap_sp(c) && partial_range(c, partial)) *ret |= RET_PARTIAL;
    else ok = 0;
    imap_sp(c);
  }
  /* nothing asked for is ALL; UPDATE alone answers no result now */
  if (!*ret) *ret = RET_ALL;
  /* RFC 5267 4.4: ALL and PARTIAL exclude each other */
  if ((*ret & RET_ALL) && (*ret & RET_PARTIAL)) ok = 0;
  stralloc_free(&word);
  return ok;
}

void esearch_out(char const *tag, int uid, unsigned ret, uint32_t const *h, size_t count)
{
  out("* ESEARCH (TAG "); outstring(tag, strlen(tag)); out(")");
  if (uid) out(" UID");
  if (count && (ret & RET_MIN)) { out(" MIN "); outu(h[0]); }
  if (count && (ret & RET_MAX)) { out(" MAX "); outu(h[count - 1]); }
  if (ret & RET_COUNT) { out(" COUNT "); outu(count); }
  if (count && (ret & RET_ALL)) { out(" ALL "); search_out_set(h, count); }
}

void search_out_set(uint32_t const *h, size_t count)
{
  char num[UINT32_FMT];
  for (size_t i = 0; i < count; )
  {
    size_t j = i;
    while (j + 1 < count && h[j + 1] == h[j] + 1) j++;
    if (i) out(",");
    outb(num, uint32_fmt(num, h[i]));
    if (j > i) { out(":"); outb(num, uint32_fmt(num, h[j])); }
    i = j + 1;
  }
}

void cmd_search(session *s, imap_cursor *c, char const *tag, int uid)
{
  stralloc word = STRALLOC_ZERO, saved = STRALLOC_ZERO;
  genalloc hits = GENALLOC_ZERO, hitmods = GENALLOC_ZERO, indexes = GENALLOC_ZERO;
  uint64_t topmodseq = 0;
  uint32_t partial[2] = { 0, 0 };
  unsigned ret = 0;
  int esearch = 0, modseq_used = 0;
  size_t start;
  if (!imap_sp(c)) goto bad;
  start = c->pos;
  word.len = 0;
  if (!imap_atom(c, &word)) word.len = 0;
  if (!stralloc_0(&word)) die_nomem();
  if (!strcasecmp(word.s, "RETURN"))
  {
    esearch = 1;
    if (!imap_sp(c) || !return_options(c, 1, &ret, partial) || !imap_sp(c)) goto bad;
    start = c->pos;
    word.len = 0;
    if (!imap_atom(c, &word) || !stralloc_0(&word)) { word.len = 0; if (!stralloc_0(&word)) die_nomem(); }
  }
  if (!strcasecmp(word.s, "CHARSET"))
  {
    word.len = 0;
    if (!imap_sp(c) || !imap_astring(c, &word) || !stralloc_0(&word) || !imap_sp(c)) goto bad;
    if (strcasecmp(word.s, "UTF-8") && strcasecmp(word.s, "US-ASCII"))
    { reply_no(tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset"); goto end; }
    start = c->pos;
  }
  c->pos = start;
  if (!search_select(s, c, &indexes, &modseq_used)) goto bad;
  if ((ret & RET_UPDATE) && (ret & RET_SAVE)) goto bad;
  if ((ret & RET_UPDATE) && !search_update_add(tag, uid, c->s + start, c->len - start, &indexes))
  { reply_no(tag, "[LIMIT] Too many updating searches"); goto end; }
  for (size_t k = 0; k < genalloc_len(size_t, &indexes); k++)
  {
    size_t i = genalloc_s(size_t, &indexes)[k];
    {
      uint32_t v = uid ? box_msg(i)->uid : (uint32_t)(i + 1);
      if (!genalloc_append(uint32_t, &hits, &v) || !genalloc_append(uint64_t, &hitmods, &box_msg(i)->modseq)) die_nomem();
      if (box_msg(i)->modseq > topmodseq) topmodseq = box_msg(i)->modseq;
      if ((ret & RET_SAVE) && !stralloc_catb(&saved, (char const *)&box_msg(i)->uid, sizeof(uint32_t))) die_nomem();
    }
  }
  if (ret & RET_SAVE)
  {
    /* RFC 5182: kept for "$"; SAVE alone asks for no ESEARCH answer */
    if (!stralloc_copyb(&s->saved, saved.s ? saved.s : "", saved.len)) die_nomem();
    ret &= ~RET_SAVE;
    if (!ret) esearch = -1;
  }
  {
    uint32_t const *h = genalloc_s(uint32_t, &hits);
    size_t count = genalloc_len(uint32_t, &hits);
    if (s->rev2 && !esearch) { esearch = 1; ret = RET_ALL; }   /* RFC 9051 7.3.4 */
    if (esearch < 0) ;
    else if (!esearch)
    {
      out("* SEARCH");
      for (size_t i = 0; i < count; i++) { out(" "); outu(h[i]); }
      if (modseq_used && count) { out(" (MODSEQ "); outu(topmodseq); out(")"); }
      out("\r\n");
    }
    else
    {
      esearch_out(tag, uid, ret, h, count);
      if (ret & RET_PARTIAL)
      {
        /* the results at those positions (RFC 5267 4.4) */
        out(" PARTIAL ("); outu(partial[0]); out(":"); outu(partial[1]); out(" ");
        if (partial[0] <= count)
          search_out_set(h + partial[0] - 1, (partial[1] < count ? partial[1] : count) - partial[0] + 1);
        else out("NIL");
        out(")");
      }
      if (modseq_used && count)
      {
        /* RFC 7162 3.1.5: the highest of the messages returned: with MIN
           and/or MAX alone, only those */
        uint64_t const *mods = genalloc_s(uint64_t, &hitmods);
        if (!(ret & (RET_ALL | RET_COUNT)))
        {
          topmodseq = 0;
          if ((ret & RET_MIN) && mods[0] > topmodseq) topmodseq = mods[0];
          if ((ret & RET_MAX) && mods[count - 1] > topmodseq) topmodseq = mods[count - 1];
        }
        out(" MODSEQ "); outu(topmodseq);
      }
      out("\r\n");
    }
  }
  reply_ok(tag, uid ? "UID SEARCH completed" : "SEARCH completed");
  goto end;
 bad:
  reply_bad(tag, "Syntax: SEARCH criteria");
 end:
  stralloc_free(&word); stralloc_free(&saved);
  genalloc_free(uint32_t, &hits); genalloc_free(uint64_t, &hitmods); genalloc_free(size_t, &indexes);
}
