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

void cmd_thread(session *s, imap_cursor *c, char const *tag, int uid)
{
  static sortkey const keys[] = { { K_SUBJECT, 0 }, { K_DATE, 0 } };
  stralloc word = STRALLOC_ZERO, strings = STRALLOC_ZERO;
  genalloc indexes = GENALLOC_ZERO, starts = GENALLOC_ZERO;
  entry *e = 0;
  size_t n;
  int modseq_used;
  if (!imap_sp(c) || !imap_atom(c, &word) || !stralloc_0(&word)) goto bad;
  if (strcasecmp(word.s, "ORDEREDSUBJECT")) { reply_no(tag, "Unsupported threading algorithm"); goto end; }
  word.len = 0;
  if (!imap_sp(c) || !imap_astring(c, &word) || !stralloc_0(&word) || !imap_sp(c)) goto bad;
  if (strcasecmp(word.s, "UTF-8") && strcasecmp(word.s, "US-ASCII"))
  { reply_no(tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset"); goto end; }
  if (!search_select(s, c, &indexes, &modseq_used)) goto bad;
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
  int esort = 0, modseq_used = 0;
  entry *entries = 0;
  size_t n;
  if (!imap_sp(c)) goto bad;
  if (imap_peek(c) != '(')
  {
    /* RETURN (options) (RFC 5267 3) */
    if (!imap_atom(c, &word) || !stralloc_0(&word) || strcasecmp(word.s, "RETURN") || !imap_sp(c)
        || !return_options(c, 0, &ret) || !imap_sp(c)) goto bad;
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
