/* fetch: FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2; BINARY, RFC 3516).
 * The message file is read only when an item needs its content, and parsed
 * (lib/mime) only when an item needs its structure. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "mime.h"
#include "imapd.h"

#define FETCH_ITEMS_MAX 100

enum { F_UID, F_FLAGS, F_MODSEQ, F_INTERNALDATE, F_SIZE, F_ENVELOPE, F_BODY, F_BODYSTRUCTURE,
       F_SECTION, F_RFC822, F_RFC822_HEADER, F_RFC822_TEXT, F_BINARY, F_BINARY_SIZE };

typedef struct item_s item;
struct item_s {
  int kind;
  int peek;
  size_t section;      /* offset into sections (NUL-terminated) */
  int partial;
  uint64_t off, len;
};

static int unknown_cte;   /* a BINARY item met a Content-Transfer-Encoding it cannot undo */

int parse_set(imap_cursor *c, stralloc *ranges, int uid)
{
  size_t count = saved_uids.len / sizeof(uint32_t), n = box_count();
  if (!imap_char(c, '$')) return imap_seqset(c, ranges);
  for (size_t i = 0; i < count; i++)
  {
    uint32_t v, r[2];
    memcpy(&v, saved_uids.s + i * sizeof v, sizeof v);
    if (!uid)
    {
      /* the message's current sequence number, if it is still here */
      size_t lo = 0, hi = n;
      while (lo < hi) { size_t mid = lo + (hi - lo) / 2; if (box_msg(mid)->uid < v) lo = mid + 1; else hi = mid; }
      if (lo >= n || box_msg(lo)->uid != v) continue;
      v = (uint32_t)(lo + 1);
    }
    r[0] = r[1] = v;
    if (!stralloc_catb(ranges, (char const *)r, sizeof r)) die_nomem();
  }
  return 1;
}

int select_set(stralloc const *ranges, int uid, genalloc *indexes)
{
  size_t n = box_count(), count = ranges->len / (2 * sizeof(uint32_t));
  uint32_t star = uid ? (n ? box_msg(n - 1)->uid : 0) : (uint32_t)n;
  genalloc_setlen(size_t, indexes, 0);
  if (!uid)
    for (size_t i = 0; i < count; i++)
    {
      uint32_t r[2];
      memcpy(r, ranges->s + i * sizeof r, sizeof r);
      if ((r[0] != IMAP_SEQ_STAR && r[0] > n) || (r[1] != IMAP_SEQ_STAR && r[1] > n)) return -1;
    }
  if (uid && !n) return 0;
  for (size_t i = 0; i < n; i++)
    if (imap_seqset_has(ranges, uid ? box_msg(i)->uid : (uint32_t)(i + 1), star))
      if (!genalloc_append(size_t, indexes, &i)) die_nomem();
  return 0;
}

static int add(genalloc *items, int kind)
{
  item it;
  memset(&it, 0, sizeof it);
  it.kind = kind;
  return genalloc_append(item, items, &it);
}

/* The section text between [ and ], quotes respected; appended NUL-terminated. */
static int section_text(imap_cursor *c, stralloc *sections)
{
  int quoted = 0;
  if (!imap_char(c, '[')) return 0;
  while (c->pos < c->len)
  {
    char ch = c->s[c->pos++];
    if (ch == '\r' || ch == '\n') return 0;
    if (ch == '"') quoted = !quoted;
    else if (ch == '\\' && quoted && c->pos < c->len) { if (!stralloc_catb(sections, &ch, 1)) die_nomem(); ch = c->s[c->pos++]; }
    else if (ch == ']' && !quoted) return stralloc_0(sections);
    if (!stralloc_catb(sections, &ch, 1)) die_nomem();
  }
  return 0;
}

static int partial(imap_cursor *c, item *it)
{
  if (!imap_char(c, '<')) return 1;
  if (!imap_number(c, &it->off) || !imap_char(c, '.') || !imap_number(c, &it->len) || !it->len || !imap_char(c, '>')) return 0;
  it->partial = 1;
  return 1;
}

static int parse_item(session *s, imap_cursor *c, genalloc *items, stralloc *sections)
{
  char name[32];
  size_t n = 0;
  item it;
  while (c->pos < c->len && n < sizeof name - 1)
  {
    char ch = c->s[c->pos];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.')) break;
    name[n++] = ch; c->pos++;
  }
  name[n] = 0;
  memset(&it, 0, sizeof it);
  if (!strcasecmp(name, "ALL")) return add(items, F_FLAGS) && add(items, F_INTERNALDATE) && add(items, F_SIZE) && add(items, F_ENVELOPE);
  if (!strcasecmp(name, "FAST")) return add(items, F_FLAGS) && add(items, F_INTERNALDATE) && add(items, F_SIZE);
  if (!strcasecmp(name, "FULL")) return add(items, F_FLAGS) && add(items, F_INTERNALDATE) && add(items, F_SIZE) && add(items, F_ENVELOPE) && add(items, F_BODY);
  if (!strcasecmp(name, "UID")) return add(items, F_UID);
  if (!strcasecmp(name, "FLAGS")) return add(items, F_FLAGS);
  if (!strcasecmp(name, "INTERNALDATE")) return add(items, F_INTERNALDATE);
  if (!strcasecmp(name, "RFC822.SIZE")) return add(items, F_SIZE);
  if (!strcasecmp(name, "ENVELOPE")) return add(items, F_ENVELOPE);
  if (!strcasecmp(name, "BODYSTRUCTURE")) return add(items, F_BODYSTRUCTURE);
  if (!strcasecmp(name, "RFC822")) return add(items, F_RFC822);
  if (!strcasecmp(name, "RFC822.HEADER")) return add(items, F_RFC822_HEADER);
  if (!strcasecmp(name, "RFC822.TEXT")) return add(items, F_RFC822_TEXT);
  if (!strcasecmp(name, "MODSEQ")) { s->cond = 1; return add(items, F_MODSEQ); }
  if (!strcasecmp(name, "BODY") && imap_peek(c) != '[') return add(items, F_BODY);
  if (!strcasecmp(name, "BODY") || !strcasecmp(name, "BODY.PEEK")) { it.kind = F_SECTION; it.peek = name[4] == '.'; }
  else if (!strcasecmp(name, "BINARY") || !strcasecmp(name, "BINARY.PEEK")) { it.kind = F_BINARY; it.peek = name[6] == '.'; }
  else if (!strcasecmp(name, "BINARY.SIZE")) it.kind = F_BINARY_SIZE;
  else return 0;
  it.section = sections->len;
  if (!section_text(c, sections)) return 0;
  if (it.kind != F_BINARY_SIZE && !partial(c, &it)) return 0;
  return genalloc_append(item, items, &it);
}

static void out_literal(session *sess, char const *s, size_t n, int binary)
{
  int has_nul = binary && memchr(s, 0, n) != 0;
  out(has_nul ? "~{" : "{"); outu(n); out("}\r\n"); outb(s, n);
  sess->fetched += n;
}

static void out_slice(session *sess, item const *it, char const *s, size_t n, int binary)
{
  if (it->partial)
  {
    size_t off = it->off < n ? (size_t)it->off : n;
    size_t len = n - off < it->len ? n - off : (size_t)it->len;
    out_literal(sess, s + off, len, binary);
  }
  else out_literal(sess, s, n, binary);
}

/* Sends the octets [off, off + len) of s[n] in its CRLF form (bare LFs
 * made CRLF), straight from the mapped file: no copy of the message. */
static void out_crlf_slice(char const *s, size_t n, uint64_t off, uint64_t len)
{
  uint64_t pos = 0;
  size_t i = 0;
#define EMIT(p, k) do { \
    size_t k_ = (k); \
    if (pos + k_ > off && len) { \
      uint64_t skip_ = off > pos ? off - pos : 0, take_ = k_ - skip_; \
      if (take_ > len) take_ = len; \
      outb((p) + skip_, (size_t)take_); len -= take_; \
    } \
    pos += k_; \
  } while (0)
  while (i < n && len)
  {
    char const *nl = memchr(s + i, '\n', n - i);
    size_t end = nl ? (size_t)(nl - s) : n;
    if (end > i && s[end - 1] == '\r' && nl) EMIT(s + i, end + 1 - i);   /* CRLF already */
    else
    {
      EMIT(s + i, end - i);
      if (nl) EMIT("\r\n", 2);
    }
    i = nl ? end + 1 : n;
  }
#undef EMIT
}

/* Per message: the file mapped and parsed, on first need. */
typedef struct content_s content;
struct content_s { session *s; char const *map; size_t len; mime_message *mime; int loaded; int failed; };

static mime_message *need_mime(msg *m, content *ct)
{
  if (!ct->loaded)
  {
    struct stat st;
    int fd = msg_open(&ct->s->mbox, m);
    ct->loaded = 1;
    if (fd < 0 || fstat(fd, &st) < 0) { if (fd >= 0) fd_close(fd); ct->failed = 1; return 0; }
    if (!m->internaldate) m->internaldate = st.st_mtime;
    ct->len = (size_t)st.st_size;
    ct->map = "";
    if (ct->len)
    {
      void *p = mmap(0, ct->len, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) { fd_close(fd); ct->failed = 1; ct->len = 0; return 0; }
      ct->map = p;
    }
    fd_close(fd);
  }
  if (ct->failed) return 0;
  if (!ct->mime && !(ct->mime = mime_parse(ct->map, ct->len))) die_nomem();
  return ct->mime;
}

static void content_done(content *ct)
{
  if (ct->mime) mime_free(ct->mime);
  if (ct->len) munmap((void *)ct->map, ct->len);
  ct->mime = 0; ct->loaded = 0; ct->failed = 0; ct->map = 0; ct->len = 0;
}

/* BODY[section] (or RFC822*) from the mapped file when it is one range;
 * 0 if it is not (the caller builds it with mime_section). */
static int out_section_range(content const *ct, char const *sec, item const *it)
{
  size_t start, end, total;
  uint64_t off = 0, len;
  if (mime_section_range(ct->mime, sec, &start, &end) != 1) return 0;
  total = mime_crlf_length(ct->map + start, end - start);
  len = total;
  if (it && it->partial)
  {
    off = it->off < total ? it->off : total;
    len = total - off < it->len ? total - off : it->len;
  }
  out("{"); outu(len); out("}\r\n");
  out_crlf_slice(ct->map + start, end - start, off, len);
  ct->s->fetched += len;
  return 1;
}

/* What the cache holds for one message: from the cache file, or computed
 * now (and queued in pending for the file). */
typedef struct summary_s summary;
struct summary_s { char const *env, *body, *bs; size_t envlen, bodylen, bslen; stralloc made; };

static int summarize(msg *m, content *ct, summary *sum, stralloc *pending)
{
  imap_cache_entry const *e;
  size_t envlen, bodylen;
  mailbox *b = &ct->s->mbox;
  e = imap_cache_find(mailbox_cache(b), m->uid);
  if (e)
  {
    sum->env = b->cache.data.s + e->env; sum->envlen = e->envlen;
    sum->body = b->cache.data.s + e->body; sum->bodylen = e->bodylen;
    sum->bs = b->cache.data.s + e->bs; sum->bslen = e->bslen;
    m->size = e->size;
    if (e->date) m->internaldate = e->date;
    return 1;
  }
  if (!need_mime(m, ct)) return 0;
  sum->made.len = 0;
  if (!mime_envelope(ct->mime, &sum->made)) die_nomem();
  envlen = sum->made.len;
  if (!mime_bodystructure(ct->mime, 0, &sum->made)) die_nomem();
  bodylen = sum->made.len - envlen;
  if (!mime_bodystructure(ct->mime, 1, &sum->made)) die_nomem();
  m->size = mime_size_crlf(ct->mime);
  sum->env = sum->made.s; sum->envlen = envlen;
  sum->body = sum->made.s + envlen; sum->bodylen = bodylen;
  sum->bs = sum->made.s + envlen + bodylen; sum->bslen = sum->made.len - envlen - bodylen;
  if (!imap_cache_record(pending, m->uid, m->size, m->internaldate, sum->env, sum->envlen,
                         sum->body, sum->bodylen, sum->bs, sum->bslen)) die_nomem();
  return 1;
}

/* One message's response. 1 ok, 0 the message is gone (nothing sent). */
static int fetch_one(size_t index, genalloc const *items, stralloc const *sections, int uid, content *ct,
                     stralloc *buf, summary *sum, stralloc *pending)
{
  msg *m = box_msg(index);
  item const *its = genalloc_s(item, items);
  size_t nitems = genalloc_len(item, items);
  int sets_seen = 0, has_flags = 0, has_modseq = 0, first = 1, needs_content = 0, needs_summary = 0;
  for (size_t i = 0; i < nitems; i++)
  {
    if (its[i].kind == F_FLAGS) has_flags = 1;
    if (its[i].kind == F_MODSEQ) has_modseq = 1;
    if ((its[i].kind == F_SECTION || its[i].kind == F_BINARY || its[i].kind == F_RFC822 || its[i].kind == F_RFC822_TEXT) && !its[i].peek) sets_seen = 1;
    if (its[i].kind >= F_SECTION) needs_content = 1;
    else if (its[i].kind != F_UID && its[i].kind != F_FLAGS && its[i].kind != F_MODSEQ) needs_summary = 1;
  }
  /* the content first: a message expunged meanwhile gets no response */
  if (needs_content && !need_mime(m, ct)) return 0;
  if (needs_summary && !summarize(m, ct, sum, pending)) return 0;
  if (sets_seen && !ct->s->mbox.readonly && !(m->flags & FL_SEEN))
  {
    msg_set_flags(&ct->s->mbox, m, m->flags | FL_SEEN, m->keywords);
    if (!has_flags) has_flags = -1;
  }
  out("* "); outu(index + 1); out(" FETCH (");
#define SEP() do { if (!first) out(" "); first = 0; } while (0)
  if (uid) { SEP(); out("UID "); outu(m->uid); }
  for (size_t i = 0; i < nitems; i++)
  {
    item const *it = its + i;
    char const *sec = sections->s ? sections->s + it->section : "";
    int r;
    switch (it->kind)
    {
      case F_UID: if (!uid) { SEP(); out("UID "); outu(m->uid); } break;
      case F_FLAGS: SEP(); out("FLAGS "); out_flags(&ct->s->mbox, m); break;
      case F_MODSEQ: SEP(); out("MODSEQ ("); outu(m->modseq); out(")"); break;
      case F_INTERNALDATE:
        buf->len = 0;
        if (!imap_date_time_fmt(m->internaldate, buf)) die_nomem();
        SEP(); out("INTERNALDATE "); outsa(buf); break;
      case F_SIZE: SEP(); out("RFC822.SIZE "); outu(m->size); break;
      case F_ENVELOPE: SEP(); out("ENVELOPE "); outb(sum->env, sum->envlen); break;
      case F_BODY: SEP(); out("BODY "); outb(sum->body, sum->bodylen); break;
      case F_BODYSTRUCTURE: SEP(); out("BODYSTRUCTURE "); outb(sum->bs, sum->bslen); break;
      case F_RFC822: case F_RFC822_HEADER: case F_RFC822_TEXT:
      {
        char const *whole = it->kind == F_RFC822 ? "" : it->kind == F_RFC822_HEADER ? "HEADER" : "TEXT";
        SEP(); out(it->kind == F_RFC822 ? "RFC822 " : it->kind == F_RFC822_HEADER ? "RFC822.HEADER " : "RFC822.TEXT ");
        if (out_section_range(ct, whole, 0)) break;
        buf->len = 0;
        if (!mime_section(ct->mime, whole, buf)) die_nomem();
        out_literal(ct->s, buf->s, buf->len, 0);
        break;
      }
      case F_SECTION:
        SEP(); out("BODY["); out(sec); out("]");
        if (it->partial) { out("<"); outu(it->off); out(">"); }
        out(" ");
        if (out_section_range(ct, sec, it)) break;
        buf->len = 0;
        r = mime_section(ct->mime, sec, buf);
        if (!r) die_nomem();
        if (r < 0) out("NIL"); else out_slice(ct->s, it, buf->s, buf->len, 0);
        break;
      case F_BINARY: case F_BINARY_SIZE:
        buf->len = 0;
        r = mime_section_binary(ct->mime, sec, buf);
        if (!r) die_nomem();
        SEP();
        out(it->kind == F_BINARY ? "BINARY[" : "BINARY.SIZE["); out(sec); out("]");
        if (it->partial) { out("<"); outu(it->off); out(">"); }
        out(" ");
        if (r == -2) unknown_cte = 1;   /* RFC 3516 4.2: the FETCH fails with UNKNOWN-CTE */
        if (r < 0) out("NIL");
        else if (it->kind == F_BINARY_SIZE) outu(buf->len);
        else out_slice(ct->s, it, buf->s, buf->len, 1);
        break;
    }
  }
  if (has_flags < 0) { SEP(); out("FLAGS "); out_flags(&ct->s->mbox, m); }
  /* CONDSTORE: flags go with their mod-sequence (RFC 7162 3.1) */
  if (has_flags && ct->s->cond && !has_modseq) { SEP(); out("MODSEQ ("); outu(m->modseq); out(")"); }
#undef SEP
  out(")\r\n");
  return 1;
}

void cmd_fetch(session *s, imap_cursor *c, char const *tag, int uid)
{
  stralloc ranges = STRALLOC_ZERO, sections = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  genalloc items = GENALLOC_ZERO, indexes = GENALLOC_ZERO;
  content ct = { s, 0, 0, 0, 0, 0 };
  summary sum = { 0, 0, 0, 0, 0, 0, STRALLOC_ZERO };
  stralloc pending = STRALLOC_ZERO;
  size_t n;
  uint64_t changedsince = 0;
  int vanished = 0;
  unknown_cte = 0;
  if (!imap_sp(c) || !parse_set(c, &ranges, uid) || !imap_sp(c)) goto bad;
  if (imap_char(c, '('))
  {
    do { if (!parse_item(s, c, &items, &sections) || genalloc_len(item, &items) > FETCH_ITEMS_MAX) goto bad; }
    while (imap_sp(c));
    if (!imap_char(c, ')')) goto bad;
  }
  else if (!parse_item(s, c, &items, &sections)) goto bad;
  if (imap_sp(c))
  {
    /* fetch-modifiers (RFC 7162 3.1.4.1, 3.2.6): (CHANGEDSINCE modseq [VANISHED]) */
    stralloc word = STRALLOC_ZERO;
    int ok = imap_char(c, '(');
    while (ok && !imap_char(c, ')'))
    {
      word.len = 0;
      if (!imap_atom(c, &word) || !stralloc_0(&word)) ok = 0;
      else if (!strcasecmp(word.s, "CHANGEDSINCE") && !changedsince) ok = imap_sp(c) && parse_modseq(c, &changedsince) && changedsince;
      else if (!strcasecmp(word.s, "VANISHED") && uid && s->qres) vanished = 1;
      else ok = 0;
      if (ok && imap_peek(c) != ')') ok = imap_sp(c);
    }
    stralloc_free(&word);
    if (!ok || (vanished && !changedsince)) goto bad;
    s->cond = 1;
    {
      /* CHANGEDSINCE implies MODSEQ */
      int has = 0;
      for (size_t i = 0; i < genalloc_len(item, &items); i++) has |= genalloc_s(item, &items)[i].kind == F_MODSEQ;
      if (!has && !add(&items, F_MODSEQ)) die_nomem();
    }
  }
  if (!imap_at_end(c)) goto bad;
  if (select_set(&ranges, uid, &indexes) < 0) { reply_bad(tag, "Invalid message sequence number"); goto end; }
  if (vanished) vanished_since(s, changedsince, &ranges);
  n = genalloc_len(size_t, &indexes);
  for (size_t i = 0; i < n; i++)
  {
    size_t idx = genalloc_s(size_t, &indexes)[i];
    if (changedsince && box_msg(idx)->modseq <= changedsince) continue;
    fetch_one(idx, &items, &sections, uid, &ct, &buf, &sum, &pending);
    content_done(&ct);
  }
  if (pending.len && imap_cache_write(s->mbox.dir.s, s->mbox.uidvalidity, pending.s, pending.len) == 0)
    s->mbox.cache_loaded = 0;   /* reread, with what we added, when next needed */
  if (unknown_cte) reply_no(tag, "[UNKNOWN-CTE] Cannot decode a part's Content-Transfer-Encoding");
  else reply_ok(tag, uid ? "UID FETCH completed" : "FETCH completed");
  goto end;
 bad:
  reply_bad(tag, "Syntax: FETCH set items");
 end:
  stralloc_free(&ranges); stralloc_free(&sections); stralloc_free(&buf);
  stralloc_free(&sum.made); stralloc_free(&pending);
  genalloc_free(item, &items); genalloc_free(size_t, &indexes);
}
