/* sort: SORT and UID SORT (RFC 5256), the DISPLAYFROM and DISPLAYTO keys
 * (SORT=DISPLAY, RFC 5957) and RETURN options (ESORT, RFC 5267); THREAD
 * with ORDEREDSUBJECT (RFC 5256 4). The criteria are SEARCH's; each
 * selected message's keys are computed once, then the messages are
 * ordered by them, ties by sequence number. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include "mime.h"
#include "imapd.h"

#define SORT_KEYS_MAX 16
#define SORT_HEADER_MAX (256 * 1024)   /* the keys come from the header section */

enum { K_ARRIVAL, K_CC, K_DATE, K_FROM, K_SIZE, K_SUBJECT, K_TO, K_DISPLAYFROM, K_DISPLAYTO };
static char const *const KEY_NAMES[] = { "ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO" };

typedef struct { int key; int reverse; } sortkey;

/* One message to order: its number and its keys (strings in one buffer). */
typedef struct {
  size_t index;
  uint64_t num[SORT_KEYS_MAX];
  size_t off[SORT_KEYS_MAX], len[SORT_KEYS_MAX];
} entry;

static sortkey const *cmp_keys;
static unsigned cmp_nkeys;
static char const *cmp_strings;

static int cmp(void const *pa, void const *pb)
{
  entry const *a = pa, *b = pb;
  for (unsigned k = 0; k < cmp_nkeys; k++)
  {
    int r;
    int key = cmp_keys[k].key;
    if (key == K_ARRIVAL || key == K_DATE || key == K_SIZE)
      r = a->num[k] < b->num[k] ? -1 : a->num[k] > b->num[k];
    else
    {
      size_t n = a->len[k] < b->len[k] ? a->len[k] : b->len[k];
      r = memcmp(cmp_strings + a->off[k], cmp_strings + b->off[k], n);
      if (!r) r = a->len[k] < b->len[k] ? -1 : a->len[k] > b->len[k];
    }
    if (r) return cmp_keys[k].reverse ? -r : r;
  }
  return a->index < b->index ? -1 : a->index > b->index;
}

/* The header section of m, parsed (0 if the message is gone). */
static mime_message *head_of(mailbox *b, msg *m, stralloc *raw)
{
  int fd = msg_open(b, m);
  raw->len = 0;
  if (fd < 0) return 0;
  while (raw->len < SORT_HEADER_MAX)
  {
    ssize_t r;
    if (!stralloc_readyplus(raw, 8192)) die_nomem();
    r = read(fd, raw->s + raw->len, 8192);
    if (r <= 0) break;
    raw->len += (size_t)r;
    if (memmem(raw->s, raw->len, "\n\n", 2) || memmem(raw->s, raw->len, "\n\r\n", 3)) break;
  }
  fd_close(fd);
  {
    mime_message *mm = mime_parse(raw->s ? raw->s : "", raw->len);
    if (!mm) die_nomem();
    return mm;
  }
}

static void keys_of(mailbox *b, entry *e, sortkey const *keys, unsigned nkeys, stralloc *strings, stralloc *raw, stralloc *tmp)
{
  msg *m = box_msg(e->index);
  mime_message *mm = 0;
  for (unsigned k = 0; k < nkeys; k++)
  {
    int key = keys[k].key;
    e->num[k] = 0; e->off[k] = strings->len; e->len[k] = 0;
    if (key == K_ARRIVAL) { if (msg_date(b, m) >= 0) e->num[k] = (uint64_t)m->internaldate; continue; }
    if (key == K_SIZE) { if (msg_size(b, m) >= 0) e->num[k] = m->size; continue; }
    if (!mm && !(mm = head_of(b, m, raw))) return;
    if (key == K_DATE)
    {
      /* the sent date in UTC, else the arrival (RFC 5256 3) */
      int64_t t = mime_date(mm);
      if (!t && msg_date(b, m) >= 0) t = m->internaldate;
      e->num[k] = (uint64_t)t;
      continue;
    }
    if (key == K_SUBJECT ? !mime_sort_subject(mm, tmp)
        : !mime_sort_address(mm, key == K_CC ? "cc" : key == K_FROM || key == K_DISPLAYFROM ? "from" : "to",
                             key == K_DISPLAYFROM || key == K_DISPLAYTO, tmp)) die_nomem();
    if (!stralloc_catb(strings, tmp->s ? tmp->s : "", tmp->len)) die_nomem();
    e->len[k] = tmp->len;
  }
  if (mm) mime_free(mm);
}

/* The selected messages with their keys, ordered; *n gets their count. */
static entry *sorted(session *s, genalloc const *indexes, sortkey const *keys, unsigned nkeys, stralloc *strings, size_t *n)
{
  stralloc raw = STRALLOC_ZERO, tmp = STRALLOC_ZERO;
  entry *entries;
  *n = genalloc_len(size_t, indexes);
  entries = *n ? calloc(*n, sizeof *entries) : 0;
  if (*n && !entries) die_nomem();
  for (size_t i = 0; i < *n; i++)
  {
    entries[i].index = genalloc_s(size_t, indexes)[i];
    keys_of(&s->mbox, entries + i, keys, nkeys, strings, &raw, &tmp);
  }
  cmp_keys = keys; cmp_nkeys = nkeys; cmp_strings = strings->s;
  if (*n) qsort(entries, *n, sizeof *entries, cmp);
  stralloc_free(&raw); stralloc_free(&tmp);
  return entries;
}

/* ORDEREDSUBJECT: by base subject, then sent date; each run of one subject
 * a thread, its first message the parent of the others; threads in the
 * order of their first messages' dates. */
static entry const *thread_entries;
static int by_thread_date(void const *pa, void const *pb)
{
  entry const *a = thread_entries + *(size_t const *)pa, *b = thread_entries + *(size_t const *)pb;
  if (a->num[1] != b->num[1]) return a->num[1] < b->num[1] ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

/* REFERENCES (RFC 5256 4): messages linked by Message-ID, References and
 * In-Reply-To, empty containers pruned, roots of one base subject merged,
 * siblings by sent date. Nodes are numbered from 1; 0 is none. */
#define THREAD_REFS_MAX 100   /* References ids taken per message */

typedef struct { size_t msg, parent, child, next, id; } tnode;   /* msg: entry + 1 */
typedef struct { size_t *slot, *val; size_t size, used; } thash;   /* key: offset + 1 into strs */

typedef struct {
  tnode *n;
  size_t count, cap;
  stralloc strs;        /* ids and subjects, NUL-terminated */
  entry const *e;       /* the messages: num[0] their sent date */
  size_t const *subj;   /* per message: offset of its base subject in strs */
  unsigned char const *reply;
} threading;

static size_t hash_of(char const *s) { size_t h = 5381; while (*s) h = h * 33 + (unsigned char)*s++; return h; }

/* The slot of key in h (empty or holding it). */
static size_t *hslot(thash *h, stralloc const *strs, char const *key)
{
  size_t i = hash_of(key) & (h->size - 1);
  while (h->slot[i] && strcmp(strs->s + h->slot[i] - 1, key)) i = (i + 1) & (h->size - 1);
  return h->slot + i;
}

static void hgrow(thash *h, stralloc const *strs)
{
  thash g = { 0, 0, h->size ? 2 * h->size : 64, h->used };
  g.slot = calloc(g.size, sizeof *g.slot); g.val = calloc(g.size, sizeof *g.val);
  if (!g.slot || !g.val) die_nomem();
  for (size_t i = 0; i < h->size; i++)
    if (h->slot[i])
    {
      size_t *p = hslot(&g, strs, strs->s + h->slot[i] - 1);
      *p = h->slot[i]; g.val[p - g.slot] = h->val[i];
    }
  free(h->slot); free(h->val);
  *h = g;
}

/* key's slot in h, added (with value 0) if it was not there. */
static size_t *hput(thash *h, stralloc *strs, char const *key)
{
  size_t *p;
  if (2 * (h->used + 1) > h->size) hgrow(h, strs);
  p = hslot(h, strs, key);
  if (!*p)
  {
    size_t off = strs->len, len = strlen(key), koff = (size_t)(key - strs->s);
    int inside = strs->s && key >= strs->s && key < strs->s + strs->len;
    if (!stralloc_readyplus(strs, len + 1)) die_nomem();
    if (inside) key = strs->s + koff;   /* the key may live in strs itself */
    if (!stralloc_catb(strs, key, len) || !stralloc_0(strs)) die_nomem();
    p = hslot(h, strs, strs->s + off);   /* strs may have moved; the slot has not */
    *p = off + 1;
    h->used++;
  }
  return p;
}

static size_t new_node(threading *t, size_t id)
{
  tnode *x;
  if (t->count == t->cap)
  {
    tnode *m = realloc(t->n, (t->cap = t->cap ? 2 * t->cap : 64) * sizeof *m);
    if (!m) die_nomem();
    t->n = m;
  }
  x = t->n + t->count++;
  x->msg = x->parent = x->child = x->next = 0; x->id = id;
  return t->count;
}
#define N(t, i) ((t)->n[(i) - 1])

static void unlink_node(threading *t, size_t x)
{
  size_t p = N(t, x).parent, *pp;
  if (!p) return;
  for (pp = &N(t, p).child; *pp != x; pp = &N(t, *pp).next) ;
  *pp = N(t, x).next;
  N(t, x).parent = N(t, x).next = 0;
}

static void link_node(threading *t, size_t parent, size_t x)
{
  size_t *pp;
  for (pp = &N(t, parent).child; *pp; pp = &N(t, *pp).next) ;
  *pp = x;
  N(t, x).parent = parent; N(t, x).next = 0;
}

/* Is x below (or) y? */
static int under(threading const *t, size_t x, size_t y)
{
  for (; x; x = N(t, x).parent) if (x == y) return 1;
  return 0;
}

/* A node's sort date and tie: its message's, else its first child's. */
static void node_key(threading const *t, size_t x, uint64_t *date, size_t *seq)
{
  while (x && !N(t, x).msg) x = N(t, x).child;
  *date = x ? t->e[N(t, x).msg - 1].num[0] : 0;
  *seq = x ? t->e[N(t, x).msg - 1].index : 0;
}

static threading const *sort_t;
static int by_node_date(void const *pa, void const *pb)
{
  uint64_t da, db;
  size_t sa, sb;
  node_key(sort_t, *(size_t const *)pa, &da, &sa);
  node_key(sort_t, *(size_t const *)pb, &db, &sb);
  if (da != db) return da < db ? -1 : 1;
  return sa < sb ? -1 : sa > sb;
}

/* Sorts x's children by date (children's lists first: post-order). */
static void sort_children(threading *t, size_t top, genalloc *stack, genalloc *tmp)
{
  genalloc_setlen(size_t, stack, 0);
  if (!genalloc_append(size_t, stack, &top)) die_nomem();
  /* a pre-order, then walked backwards: each node after its children */
  for (size_t i = 0; i < genalloc_len(size_t, stack); i++)
    for (size_t ch = N(t, genalloc_s(size_t, stack)[i]).child; ch; ch = N(t, ch).next)
      if (!genalloc_append(size_t, stack, &ch)) die_nomem();
  for (size_t i = genalloc_len(size_t, stack); i-- > 0; )
  {
    size_t x = genalloc_s(size_t, stack)[i], k = 0, *c;
    genalloc_setlen(size_t, tmp, 0);
    for (size_t ch = N(t, x).child; ch; ch = N(t, ch).next) if (!genalloc_append(size_t, tmp, &ch)) die_nomem();
    if (genalloc_len(size_t, tmp) < 2) continue;
    c = genalloc_s(size_t, tmp);
    sort_t = t;
    qsort(c, genalloc_len(size_t, tmp), sizeof(size_t), by_node_date);
    N(t, x).child = c[0];
    for (k = 0; k + 1 < genalloc_len(size_t, tmp); k++) N(t, c[k]).next = c[k + 1];
    N(t, c[k]).next = 0;
  }
}

static void out_thread(threading const *t, size_t x, int uid)
{
  int first = 1;
  for (;;)
  {
    if (N(t, x).msg)
    {
      size_t idx = t->e[N(t, x).msg - 1].index;
      if (!first) out(" ");
      outu(uid ? box_msg(idx)->uid : (uint32_t)(idx + 1));
      first = 0;
    }
    if (!N(t, x).child) return;
    if (N(t, x).msg && !N(t, N(t, x).child).next) { x = N(t, x).child; continue; }
    if (!first) out(" ");
    for (size_t ch = N(t, x).child; ch; ch = N(t, ch).next) { out("("); out_thread(t, ch, uid); out(")"); }
    return;
  }
}

static void thread_references(session *s, entry const *e, size_t n, int uid)
{
  threading t;
  thash ids, subjects;
  stralloc raw = STRALLOC_ZERO, refs = STRALLOC_ZERO, own = STRALLOC_ZERO, subj = STRALLOC_ZERO;
  genalloc roots = GENALLOC_ZERO, stack = GENALLOC_ZERO, tmp = GENALLOC_ZERO;
  size_t *subjoff = n ? calloc(n, sizeof *subjoff) : 0;
  unsigned char *reply = n ? calloc(n, 1) : 0;
  memset(&t, 0, sizeof t);
  t.e = e; t.subj = subjoff; t.reply = reply;
  memset(&ids, 0, sizeof ids); memset(&subjects, 0, sizeof subjects);
  if (n && (!subjoff || !reply)) die_nomem();
  if (!stralloc_catb(&t.strs, "", 1)) die_nomem();   /* offset 0: the empty subject */
  for (size_t i = 0; i < n; i++)
  {
    msg *m = box_msg(e[i].index);
    mime_message *mm = head_of(&s->mbox, m, &raw);
    size_t prev = 0, x = 0, *slot;
    unsigned nrefs;
    int r;
    refs.len = own.len = 0;
    if (!mm) continue;
    nrefs = mime_message_ids(mm, "references", THREAD_REFS_MAX, &refs);
    if (!nrefs) nrefs = mime_message_ids(mm, "in-reply-to", 1, &refs);
    mime_message_ids(mm, "message-id", 1, &own);
    if (!mime_sort_subject_reply(mm, &subj, &r) || !stralloc_0(&subj)) die_nomem();
    reply[i] = (unsigned char)r;
    if (subj.len > 1) { subjoff[i] = t.strs.len; if (!stralloc_catb(&t.strs, subj.s, subj.len)) die_nomem(); }
    mime_free(mm);
    /* (1A) the references, each the parent of the next, unless linked or a loop */
    for (size_t pos = 0; nrefs && pos < refs.len; pos += strlen(refs.s + pos) + 1)
    {
      size_t cur;
      slot = hput(&ids, &t.strs, refs.s + pos);
      if (!ids.val[slot - ids.slot]) ids.val[slot - ids.slot] = new_node(&t, *slot);
      cur = ids.val[slot - ids.slot];
      if (prev && cur != prev && !N(&t, cur).parent && !under(&t, prev, cur)) link_node(&t, prev, cur);
      prev = cur;
    }
    /* (1B) the message's own container: its id's if that is still empty */
    if (own.len)
    {
      slot = hput(&ids, &t.strs, own.s);
      if (!ids.val[slot - ids.slot]) ids.val[slot - ids.slot] = new_node(&t, *slot);
      x = ids.val[slot - ids.slot];
      if (N(&t, x).msg) x = 0;   /* a duplicate id: a container of its own */
    }
    if (!x) x = new_node(&t, 0);
    N(&t, x).msg = i + 1;
    unlink_node(&t, x);
    if (prev && !under(&t, prev, x)) link_node(&t, prev, x);
  }
  /* (2) the roots, (4) empty containers pruned, children after parents */
  for (size_t k = 1; k <= t.count; k++)
    if (!N(&t, k).parent && !genalloc_append(size_t, &stack, &k)) die_nomem();
  for (size_t i = 0; i < genalloc_len(size_t, &stack); i++)
    for (size_t ch = N(&t, genalloc_s(size_t, &stack)[i]).child; ch; ch = N(&t, ch).next)
      if (!genalloc_append(size_t, &stack, &ch)) die_nomem();
  for (size_t i = genalloc_len(size_t, &stack); i-- > 0; )
  {
    size_t x = genalloc_s(size_t, &stack)[i], p = N(&t, x).parent;
    if (N(&t, x).msg || !p) continue;
    /* an empty container inside a thread: its children take its place */
    while (N(&t, x).child) { size_t ch = N(&t, x).child; unlink_node(&t, ch); link_node(&t, p, ch); }
    unlink_node(&t, x);
  }
  genalloc_setlen(size_t, &tmp, 0);
  for (size_t k = 1; k <= t.count; k++)
    if (!N(&t, k).parent && !genalloc_append(size_t, &tmp, &k)) die_nomem();
  for (size_t i = 0; i < genalloc_len(size_t, &tmp); i++)
  {
    size_t k = genalloc_s(size_t, &tmp)[i], x = k;
    if (!N(&t, k).msg)
    {
      if (!N(&t, k).child) continue;                   /* empty: gone */
      if (!N(&t, N(&t, k).child).next) { x = N(&t, k).child; unlink_node(&t, x); }   /* one child: promoted */
    }
    if (!genalloc_append(size_t, &roots, &x)) die_nomem();
  }
  /* (5) roots by date, (6) roots of one base subject merged */
  sort_t = &t;
  if (genalloc_len(size_t, &roots)) qsort(genalloc_s(size_t, &roots), genalloc_len(size_t, &roots), sizeof(size_t), by_node_date);
  {
    size_t *r = genalloc_s(size_t, &roots), nr = genalloc_len(size_t, &roots);
#define SUBJ_OF(x) (N(&t, (x)).msg ? subjoff[N(&t, (x)).msg - 1] : N(&t, (x)).child && N(&t, N(&t, (x)).child).msg ? subjoff[N(&t, N(&t, (x)).child).msg - 1] : 0)
#define REPLY_OF(x) (N(&t, (x)).msg && reply[N(&t, (x)).msg - 1])
    /* the subject table: for each base subject, the root others join */
    {
      size_t *best = subjects.val;
      for (size_t i = 0; i < nr; i++)
      {
        size_t so = SUBJ_OF(r[i]), *slot, b;
        if (!so) continue;
        slot = hput(&subjects, &t.strs, t.strs.s + so);
        best = subjects.val;
        if (!best[slot - subjects.slot]) { best[slot - subjects.slot] = r[i]; continue; }
        b = best[slot - subjects.slot];
        if ((!N(&t, r[i]).msg && N(&t, b).msg) || (REPLY_OF(b) && !REPLY_OF(r[i]) && N(&t, r[i]).msg))
          best[slot - subjects.slot] = r[i];
      }
      for (size_t i = 0; i < nr; i++)
      {
        size_t so = SUBJ_OF(r[i]), *slot, b, x = r[i];
        if (!so || !x) continue;
        slot = hslot(&subjects, &t.strs, t.strs.s + so);
        b = best[slot - subjects.slot];
        if (b == x) continue;
        if (!N(&t, b).msg && !N(&t, x).msg)
          while (N(&t, x).child) { size_t ch = N(&t, x).child; unlink_node(&t, ch); link_node(&t, b, ch); }
        else if (!N(&t, b).msg || (REPLY_OF(x) && !REPLY_OF(b))) link_node(&t, b, x);
        else
        {
          /* neither under the other: both under a new empty container */
          size_t d = new_node(&t, 0);
          for (size_t k = 0; k < nr; k++) if (r[k] == b) r[k] = d;
          link_node(&t, d, b); link_node(&t, d, x);
          best[slot - subjects.slot] = d;
        }
        r[i] = 0;
      }
    }
#undef SUBJ_OF
#undef REPLY_OF
    /* (7) siblings by date, the roots again */
    for (size_t i = 0; i < nr; i++) if (r[i]) sort_children(&t, r[i], &stack, &tmp);
    {
      size_t kept = 0;
      for (size_t i = 0; i < nr; i++) if (r[i]) r[kept++] = r[i];
      nr = kept;
      sort_t = &t;
      if (nr) qsort(r, nr, sizeof *r, by_node_date);
    }
    out("* THREAD");
    for (size_t i = 0; i < nr; i++) { out(i ? "(" : " ("); out_thread(&t, r[i], uid); out(")"); }
    out("\r\n");
  }
  free(t.n); free(ids.slot); free(ids.val); free(subjects.slot); free(subjects.val); free(subjoff); free(reply);
  stralloc_free(&t.strs); stralloc_free(&raw); stralloc_free(&refs); stralloc_free(&own); stralloc_free(&subj);
  genalloc_free(size_t, &roots); genalloc_free(size_t, &stack); genalloc_free(size_t, &tmp);
}

static int by_index(void const *pa, void const *pb)
{
  entry const *a = pa, *b = pb;
  return a->index < b->index ? -1 : a->index > b->index;
}

void cmd_thread(session *s, imap_cursor *c, char const *tag, int uid)
{
  static sortkey const keys[] = { { K_SUBJECT, 0 }, { K_DATE, 0 } };
  stralloc word = STRALLOC_ZERO, strings = STRALLOC_ZERO;
  genalloc indexes = GENALLOC_ZERO, starts = GENALLOC_ZERO;
  entry *e = 0;
  size_t n;
  int modseq_used, references = 0;
  if (!imap_sp(c) || !imap_atom(c, &word) || !stralloc_0(&word)) goto bad;
  if (!strcasecmp(word.s, "REFERENCES")) references = 1;
  else if (strcasecmp(word.s, "ORDEREDSUBJECT")) { reply_no(tag, "Unsupported threading algorithm"); goto end; }
  word.len = 0;
  if (!imap_sp(c) || !imap_astring(c, &word) || !stralloc_0(&word) || !imap_sp(c)) goto bad;
  if (strcasecmp(word.s, "UTF-8") && strcasecmp(word.s, "US-ASCII"))
  { reply_no(tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset"); goto end; }
  if (!search_select(s, c, &indexes, &modseq_used)) goto bad;
  if (references)
  {
    /* the messages in sequence order, num[0] their sent date */
    e = sorted(s, &indexes, keys + 1, 1, &strings, &n);
    thread_entries = e;
    qsort(e, n, sizeof *e, by_index);
    thread_references(s, e, n, uid);
    reply_ok(tag, uid ? "UID THREAD completed" : "THREAD completed");
    goto end;
  }
  e = sorted(s, &indexes, keys, 2, &strings, &n);
  for (size_t i = 0; i < n; i++)
    if (!i || e[i].len[0] != e[i - 1].len[0] || memcmp(strings.s + e[i].off[0], strings.s + e[i - 1].off[0], e[i].len[0]))
      if (!genalloc_append(size_t, &starts, &i)) die_nomem();
  thread_entries = e;
  if (genalloc_len(size_t, &starts)) qsort(genalloc_s(size_t, &starts), genalloc_len(size_t, &starts), sizeof(size_t), by_thread_date);
  out("* THREAD");
  for (size_t t = 0; t < genalloc_len(size_t, &starts); t++)
  {
    size_t i = genalloc_s(size_t, &starts)[t], j = i + 1;
    uint32_t v = uid ? box_msg(e[i].index)->uid : (uint32_t)(e[i].index + 1);
    while (j < n && e[j].len[0] == e[i].len[0] && !memcmp(strings.s + e[j].off[0], strings.s + e[i].off[0], e[i].len[0])) j++;
    out(t ? "(" : " ("); outu(v);   /* thread-data: "THREAD" [SP 1*thread-list] */
    for (size_t k = i + 1; k < j; k++)
    {
      v = uid ? box_msg(e[k].index)->uid : (uint32_t)(e[k].index + 1);
      /* one child: "(p c)"; more: "(p (c1)(c2))" */
      if (j - i == 2) { out(" "); outu(v); }
      else { out(k == i + 1 ? " (" : "("); outu(v); out(")"); }
    }
    out(")");
  }
  out("\r\n");
  reply_ok(tag, uid ? "UID THREAD completed" : "THREAD completed");
  goto end;
 bad:
  reply_bad(tag, "Syntax: THREAD algorithm charset criteria");
 end:
  free(e);
  stralloc_free(&word); stralloc_free(&strings);
  genalloc_free(size_t, &indexes); genalloc_free(size_t, &starts);
}

void cmd_sort(session *s, imap_cursor *c, char const *tag, int uid)
{
  stralloc word = STRALLOC_ZERO, strings = STRALLOC_ZERO;
  genalloc indexes = GENALLOC_ZERO, out_nums = GENALLOC_ZERO;
  sortkey keys[SORT_KEYS_MAX];
  unsigned nkeys = 0, ret = 0;
  uint32_t partial[2];
  int esort = 0, modseq_used = 0;
  entry *entries = 0;
  size_t n;
  if (!imap_sp(c)) goto bad;
  if (imap_peek(c) != '(')
  {
    /* RETURN (options) (RFC 5267 3) */
    if (!imap_atom(c, &word) || !stralloc_0(&word) || strcasecmp(word.s, "RETURN") || !imap_sp(c)
        || !return_options(c, 0, &ret, partial) || !imap_sp(c)) goto bad;
    esort = 1;
  }
  if (!imap_char(c, '(')) goto bad;
  while (!imap_char(c, ')'))
  {
    int reverse = 0;
    unsigned i;
    if (nkeys && !imap_sp(c)) goto bad;
    word.len = 0;
    if (!imap_atom(c, &word) || !stralloc_0(&word)) goto bad;
    if (!strcasecmp(word.s, "REVERSE"))
    {
      reverse = 1; word.len = 0;
      if (!imap_sp(c) || !imap_atom(c, &word) || !stralloc_0(&word)) goto bad;
    }
    for (i = 0; i < sizeof KEY_NAMES / sizeof *KEY_NAMES; i++) if (!strcasecmp(word.s, KEY_NAMES[i])) break;
    if (i == sizeof KEY_NAMES / sizeof *KEY_NAMES || nkeys == SORT_KEYS_MAX) goto bad;
    keys[nkeys].key = (int)i; keys[nkeys].reverse = reverse; nkeys++;
  }
  if (!nkeys || !imap_sp(c)) goto bad;
  word.len = 0;
  if (!imap_astring(c, &word) || !stralloc_0(&word) || !imap_sp(c)) goto bad;
  if (strcasecmp(word.s, "UTF-8") && strcasecmp(word.s, "US-ASCII"))
  { reply_no(tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset"); goto end; }
  if (!search_select(s, c, &indexes, &modseq_used)) goto bad;
  entries = sorted(s, &indexes, keys, nkeys, &strings, &n);
  for (size_t i = 0; i < n; i++)
  {
    uint32_t v = uid ? box_msg(entries[i].index)->uid : (uint32_t)(entries[i].index + 1);
    if (!genalloc_append(uint32_t, &out_nums, &v)) die_nomem();
  }
  {
    uint32_t const *h = genalloc_s(uint32_t, &out_nums);
    if (!esort)
    {
      out("* SORT");
      for (size_t i = 0; i < n; i++) { out(" "); outu(h[i]); }
      out("\r\n");
    }
    else
    {
      /* MIN and MAX: the first and last in sort order; ALL in sort order */
      esearch_out(tag, uid, ret, h, n);
      out("\r\n");
    }
  }
  reply_ok(tag, uid ? "UID SORT completed" : "SORT completed");
  goto end;
 bad:
  reply_bad(tag, "Syntax: SORT [RETURN (options)] (keys) charset criteria");
 end:
  free(entries);
  stralloc_free(&word); stralloc_free(&strings);
  genalloc_free(size_t, &indexes); genalloc_free(uint32_t, &out_nums);
}
