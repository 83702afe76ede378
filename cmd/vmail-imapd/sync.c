/* sync: the IMAP face of the storage layer (mailbox.c), in the manner of
 * Dovecot's imap-sync.c. The storage layer returns what changed in the
 * view; this module tells the client, in the one order that keeps sequence
 * numbers consistent: every expunge (EXPUNGE, or VANISHED once QRESYNC is
 * enabled) first, then the FETCH of changed flags numbered in the view
 * after the expunges, then EXISTS and RECENT for what arrived. It also
 * holds the conversions between IMAP flag names and the layer's bits. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "imapd.h"

/* Index of uid in the view (ascending UIDs) from index from on, or the
 * view's length if absent. */
static size_t view_index(mailbox const *b, uint32_t uid, size_t from)
{
  msg const *m = genalloc_s(msg, &b->msgs);
  size_t lo = from, hi = genalloc_len(msg, &b->msgs), n = hi;
  while (lo < hi)
  {
    size_t mid = lo + (hi - lo) / 2;
    if (m[mid].uid < uid) lo = mid + 1; else hi = mid;
  }
  return lo < n && m[lo].uid == uid ? lo : n;
}

static void report_expunges(mailbox_changes const *ch)
{
  mailbox_change const *x = genalloc_s(mailbox_change, &ch->expunged);
  size_t n = genalloc_len(mailbox_change, &ch->expunged);
  if (!n) return;
  if (qresync)
  {
    uint32_t *uids = malloc(n * sizeof *uids);
    if (!uids) die_nomem();
    for (size_t i = 0; i < n; i++) { uids[i] = x[i].uid; search_updates_expunged(x[i].uid, x[i].seq); }
    out_vanished(uids, n, 0);
    free(uids);
    return;
  }
  /* ascending: each number counts the expunges already told */
  for (size_t i = 0; i < n; i++)
  {
    search_updates_expunged(x[i].uid, x[i].seq - i);
    out("* ");
    outu(x[i].seq - i);
    out(" EXPUNGE\r\n");
  }
}

static void report_flags(mailbox const *b, mailbox_changes const *ch)
{
  mailbox_change const *x = genalloc_s(mailbox_change, &ch->changed);
  size_t n = genalloc_len(mailbox_change, &ch->changed), at = 0;
  for (size_t i = 0; i < n; i++)
  {
    msg const *m;
    if (!x[i].flags && !condstore) continue;
    at = view_index(b, x[i].uid, at);
    if (at >= genalloc_len(msg, &b->msgs)) { at = 0; continue; }
    m = genalloc_s(msg, &b->msgs) + at;
    out("* "); outu(at + 1); out(" FETCH (UID "); outu(m->uid); out(" FLAGS ");
    out_flags(b, m);
    if (condstore) { out(" MODSEQ ("); outu(m->modseq); out(")"); }
    out(")\r\n");
  }
}

void sync_report(mailbox const *b, mailbox_changes const *ch)
{
  if (ch->keywords) out_flag_lists(b);
  report_expunges(ch);
  report_flags(b, ch);
  if (ch->added)
  {
    size_t n = genalloc_len(msg, &b->msgs), recent = 0;
    for (size_t k = 0; k < n; k++) if (genalloc_s(msg, &b->msgs)[k].flags & FL_RECENT) recent++;
    out("* "); outu(n); out(" EXISTS\r\n");
    if (!imap4rev2) { out("* "); outu(recent); out(" RECENT\r\n"); }
  }
}

int mailbox_sync(mailbox *b, int report, int allow_expunge)
{
  mailbox_changes ch = MAILBOX_CHANGES_ZERO;
  int r = mailbox_update(b, allow_expunge, &ch);
  if (report) sync_report(b, &ch);
  mailbox_changes_free(&ch);
  return r;
}

int mailbox_expunge(mailbox *b, stralloc const *uids_only, int report)
{
  mailbox_changes ch = MAILBOX_CHANGES_ZERO;
  int r = mailbox_remove(b, uids_only, &ch);
  if (report) sync_report(b, &ch);
  mailbox_changes_free(&ch);
  return r;
}

/* flag lists --------------------------------------------------------------- */

void out_flag_lists(mailbox const *b)
{
  out("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
  for (unsigned i = 0; i < b->keyword_count; i++)
  {
    char const *k = keyword_name(&b->keywords, i);
    if (*k) { out(" "); out(k); }
  }
  if (b->readonly) { out(")\r\n* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n"); return; }
  out(")\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
  for (unsigned i = 0; i < b->keyword_count; i++)
  {
    char const *k = keyword_name(&b->keywords, i);
    if (*k) { out(" "); out(k); }
  }
  out(b->keyword_count < IMAPD_KEYWORDS_MAX ? " \\*)] Flags permitted\r\n" : ")] Flags permitted\r\n");
}

void out_flags(mailbox const *b, msg const *m)
{
  int first = 1;
  static struct { uint32_t bit; char const *name; } const sys[] = {
    { FL_SEEN, "\\Seen" }, { FL_ANSWERED, "\\Answered" }, { FL_FLAGGED, "\\Flagged" },
    { FL_DELETED, "\\Deleted" }, { FL_DRAFT, "\\Draft" }, { FL_RECENT, "\\Recent" } };
  out("(");
  for (unsigned i = 0; i < sizeof sys / sizeof sys[0]; i++)
    if ((m->flags & sys[i].bit) && !(imap4rev2 && sys[i].bit == FL_RECENT)) { if (!first) out(" "); out(sys[i].name); first = 0; }
  for (unsigned i = 0; i < b->keyword_count; i++)
    if (m->keywords & (1u << i))
    {
      char const *k = keyword_name(&b->keywords, i);
      if (!*k) continue;
      if (!first) out(" ");
      out(k); first = 0;
    }
  out(")");
}

void out_vanished(uint32_t const *uids, size_t n, int earlier)
{
  stralloc set = STRALLOC_ZERO;
  if (!n) return;
  uidset_fmt(uids, n, &set);
  out(earlier ? "* VANISHED (EARLIER) " : "* VANISHED "); outsa(&set); out("\r\n");
  stralloc_free(&set);
}

int parse_flag_list(imap_cursor *c, stralloc *names, int *list)
{
  unsigned n = 0;
  names->len = 0;
  *list = imap_char(c, '(');
  if (*list && imap_char(c, ')')) return 1;
  for (;;)
  {
    if (!imap_flag(c, names) || !stralloc_0(names) || ++n > 100) return 0;
    if (*list) { if (imap_char(c, ')')) return 1; if (!imap_sp(c)) return 0; }
    else if (imap_peek(c) != ' ' || (c->pos + 1 < c->len && c->s[c->pos + 1] != '\\' && !(c->s[c->pos + 1] >= 'A' && c->s[c->pos + 1] <= 'z'))) return 1;
    else imap_sp(c);
  }
}

int flags_from_names(stralloc const *names, char const *dir, stralloc *kwnames, unsigned *kwcount,
                     uint32_t *flags, uint32_t *keywords)
{
  static struct { char const *name; uint32_t bit; } const sys[] = {
    { "\\Seen", FL_SEEN }, { "\\Answered", FL_ANSWERED }, { "\\Flagged", FL_FLAGGED },
    { "\\Deleted", FL_DELETED }, { "\\Draft", FL_DRAFT }, { "\\Recent", 0 } };
  size_t pos = 0;
  *flags = 0; *keywords = 0;
  if (dir && keywords_define(dir, names, kwnames, kwcount) < 0) return -1;
  while (pos < names->len)
  {
    char const *f = names->s + pos;
    pos += strlen(f) + 1;
    if (f[0] == '\\')
    {
      unsigned i;
      for (i = 0; i < sizeof sys / sizeof sys[0]; i++)
        if (!strcasecmp(f, sys[i].name)) { *flags |= sys[i].bit; break; }
      if (i == sizeof sys / sizeof sys[0]) return 0;
    }
    else
    {
      int k = keyword_index(kwnames, kwcount, f, 0);
      if (k >= 0) *keywords |= 1u << k;
    }
  }
  return 1;
}

