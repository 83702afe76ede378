/* condstore: what CONDSTORE and QRESYNC (RFC 7162) add to SELECT and UID
 * FETCH: the resynchronisation of a client that comes back with the
 * UIDVALIDITY and mod-sequence it last saw. The mod-sequences themselves are
 * kept by mailbox_sync (lib/modseq). */
#include <stdlib.h>
#include <string.h>
#include <skalibs/types.h>
#include "imapd.h"


int parse_modseq(imap_cursor *c, uint64_t *v)
{
  /* mod-sequence-valzer: 0 to 2^63 - 1 */
  return imap_number(c, v) && *v <= INT64_MAX;
}

static int by_uid(void const *a, void const *b)
{
  uint32_t x = *(uint32_t const *)a, y = *(uint32_t const *)b;
  return x < y ? -1 : x > y;
}

/* Appends to set the UIDs of [lo, hi] that are not in the view, as ranges. */
static void absent_ranges(uint32_t lo, uint32_t hi, stralloc *set)
{
  size_t n = box_count(), a = 0, b = n;
  char num[UINT32_FMT];
  while (a < b) { size_t mid = a + (b - a) / 2; if (box_msg(mid)->uid < lo) a = mid + 1; else b = mid; }
  while (lo && lo <= hi)
  {
    uint32_t end = a < n && box_msg(a)->uid <= hi ? box_msg(a)->uid - 1 : hi;
    if (lo <= end)
    {
      if (set->len && !stralloc_catb(set, ",", 1)) die_nomem();
      if (!stralloc_catb(set, num, uint32_fmt(num, lo))) die_nomem();
      if (end > lo && (!stralloc_catb(set, ":", 1) || !stralloc_catb(set, num, uint32_fmt(num, end)))) die_nomem();
    }
    if (end >= hi || a >= n) break;
    lo = box_msg(a++)->uid + 1;
  }
}

void vanished_since(session *s, uint64_t since, stralloc const *known)
{
  mailbox *b = &s->mbox;
  uint32_t top = b->uidnext ? b->uidnext - 1 : 0;
  if (since < b->modlog.floor)
  {
    /* expunges that old are forgotten: every UID asked about (or ever
       given) that is not here, which RFC 7162 3.2.5.2 allows */
    stralloc set = STRALLOC_ZERO;
    size_t count = known ? known->len / (2 * sizeof(uint32_t)) : 1;
    for (size_t i = 0; i < count; i++)
    {
      uint32_t r[2] = { 1, top };
      if (known) memcpy(r, known->s + i * sizeof r, sizeof r);
      if (r[0] == IMAP_SEQ_STAR) r[0] = top;
      if (r[1] == IMAP_SEQ_STAR) r[1] = top;
      if (r[0] > r[1]) { uint32_t t = r[0]; r[0] = r[1]; r[1] = t; }
      if (r[1] > top) r[1] = top;
      absent_ranges(r[0], r[1], &set);
    }
    if (set.len) { out("* VANISHED (EARLIER) "); outsa(&set); out("\r\n"); }
    stralloc_free(&set);
  }
  else
  {
    genalloc uids = GENALLOC_ZERO;
    modseq_gone const *g = genalloc_s(modseq_gone, &b->modlog.gone);
    size_t ng = genalloc_len(modseq_gone, &b->modlog.gone), kept = 0;
    uint32_t *u;
    for (size_t i = 0; i < ng; i++)
      if (g[i].modseq > since && (!known || imap_seqset_has(known, g[i].uid, top))
          && !genalloc_append(uint32_t, &uids, &g[i].uid)) die_nomem();
    u = genalloc_s(uint32_t, &uids);
    if (genalloc_len(uint32_t, &uids) > 1) qsort(u, genalloc_len(uint32_t, &uids), sizeof *u, &by_uid);
    for (size_t i = 0; i < genalloc_len(uint32_t, &uids); i++)
      if (!kept || u[kept - 1] != u[i]) u[kept++] = u[i];
    out_vanished(u, kept, 1);
    genalloc_free(uint32_t, &uids);
  }
}

void qresync_select(session *s, uint32_t uidvalidity, uint64_t since, stralloc const *known)
{
  mailbox *b = &s->mbox;
  size_t n = box_count();
  uint32_t top = b->uidnext ? b->uidnext - 1 : 0;
  if (uidvalidity != b->uidvalidity) return;   /* the client starts over */
  vanished_since(s, since, known);
  for (size_t i = 0; i < n; i++)
  {
    msg *m = box_msg(i);
    if (m->modseq <= since || (known && !imap_seqset_has(known, m->uid, top))) continue;
    out("* "); outu(i + 1); out(" FETCH (UID "); outu(m->uid); out(" FLAGS "); out_flags(b, m);
    out(" MODSEQ ("); outu(m->modseq); out("))\r\n");
  }
}
