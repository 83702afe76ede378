/* CONTEXT=SEARCH's updating searches (RFC 5267 4.3): SEARCH RETURN
 * (UPDATE ...) keeps its criteria and result (UIDs); whenever the view
 * changes, the client hears what entered the result (ADDTO) and what left
 * it (REMOVEFROM), as Dovecot tells them: position 0 (an unsorted result
 * has no position to keep), removals first. An expunged message's
 * REMOVEFROM goes out just before its EXPUNGE, numbered as that EXPUNGE
 * is; every other change is found by searching the view again before the
 * command's tagged reply. CANCELUPDATE or closing the mailbox ends them. */
#include <string.h>
#include <strings.h>
#include "imapd.h"

typedef struct update_s {
  stralloc tag;
  stralloc criteria;
  genalloc uids;        /* uint32_t, ascending: the result as the client has it */
  int uid;              /* UID SEARCH: told as UIDs */
} update;

static update updates[IMAPD_SEARCH_UPDATES_MAX];
static unsigned nupdates;
static int refreshing;

static void update_free(update *u)
{
  stralloc_free(&u->tag); stralloc_free(&u->criteria); genalloc_free(uint32_t, &u->uids);
}

int search_update_add(char const *tag, int uid, char const *criteria, size_t len, genalloc const *indexes)
{
  update *u;
  unsigned i;
  /* the same tag again replaces its search */
  for (i = 0; i < nupdates; i++) if (!strcmp(updates[i].tag.s, tag)) break;
  if (i == nupdates)
  {
    if (nupdates == IMAPD_SEARCH_UPDATES_MAX) return 0;
    memset(&updates[nupdates], 0, sizeof updates[nupdates]);
    nupdates++;
  }
  u = &updates[i];
  u->uid = uid;
  if (!stralloc_copys(&u->tag, tag) || !stralloc_0(&u->tag)
      || !stralloc_copyb(&u->criteria, criteria, len)) die_nomem();
  genalloc_setlen(uint32_t, &u->uids, 0);
  for (size_t k = 0; k < genalloc_len(size_t, indexes); k++)
    if (!genalloc_append(uint32_t, &u->uids, &box_msg(genalloc_s(size_t, indexes)[k])->uid)) die_nomem();
  return 1;
}

void search_updates_clear(void)
{
  for (unsigned i = 0; i < nupdates; i++) update_free(&updates[i]);
  nupdates = 0;
}

static void line_start(update const *u)
{
  out("* ESEARCH (TAG "); outstring(u->tag.s, u->tag.len - 1); out(")");
  if (u->uid) out(" UID");
}

/* Position of uid in the ascending uids[n], or n. */
static size_t find(uint32_t const *uids, size_t n, uint32_t uid)
{
  size_t lo = 0, hi = n;
  while (lo < hi)
  {
    size_t mid = lo + (hi - lo) / 2;
    if (uids[mid] < uid) lo = mid + 1; else hi = mid;
  }
  return lo < n && uids[lo] == uid ? lo : n;
}

void search_updates_expunged(uint32_t uid, uint32_t seq)
{
  for (unsigned i = 0; i < nupdates; i++)
  {
    update *u = &updates[i];
    uint32_t *h = genalloc_s(uint32_t, &u->uids);
    size_t n = genalloc_len(uint32_t, &u->uids), at = find(h, n, uid);
    if (at == n) continue;
    memmove(h + at, h + at + 1, (n - at - 1) * sizeof *h);
    genalloc_setlen(uint32_t, &u->uids, n - 1);
    line_start(u);
    out(" REMOVEFROM (0 "); outu(u->uid ? uid : seq); out(")\r\n");
  }
}

/* UIDs as the client numbers them: UIDs, or their sequence numbers in
 * the view (ascending either way, as the view is in UID order). */
static void out_numbers(update const *u, uint32_t const *uids, size_t n)
{
  genalloc nums = GENALLOC_ZERO;
  size_t at = 0, count = box_count();
  for (size_t k = 0; k < n; k++)
  {
    uint32_t v = uids[k];
    if (!u->uid)
    {
      while (at < count && box_msg(at)->uid < uids[k]) at++;
      if (at == count || box_msg(at)->uid != uids[k]) continue;
      v = (uint32_t)(at + 1);
    }
    if (!genalloc_append(uint32_t, &nums, &v)) die_nomem();
  }
  search_out_set(genalloc_s(uint32_t, &nums), genalloc_len(uint32_t, &nums));
  genalloc_free(uint32_t, &nums);
}

void search_updates_refresh(void)
{
  genalloc indexes = GENALLOC_ZERO, now = GENALLOC_ZERO, gone = GENALLOC_ZERO, came = GENALLOC_ZERO;
  if (!nupdates || refreshing || !box.selected) return;
  refreshing = 1;
  for (unsigned i = 0; i < nupdates; i++)
  {
    update *u = &updates[i];
    imap_cursor c;
    int modseq_used;
    uint32_t const *old, *cur;
    size_t nold, ncur, a = 0, b = 0;
    imap_cursor_init(&c, u->criteria.s, u->criteria.len);
    if (!search_select(&imapd_session, &c, &indexes, &modseq_used)) continue;
    genalloc_setlen(uint32_t, &now, 0); genalloc_setlen(uint32_t, &gone, 0); genalloc_setlen(uint32_t, &came, 0);
    for (size_t k = 0; k < genalloc_len(size_t, &indexes); k++)
      if (!genalloc_append(uint32_t, &now, &box_msg(genalloc_s(size_t, &indexes)[k])->uid)) die_nomem();
    old = genalloc_s(uint32_t, &u->uids); nold = genalloc_len(uint32_t, &u->uids);
    cur = genalloc_s(uint32_t, &now); ncur = genalloc_len(uint32_t, &now);
    while (a < nold || b < ncur)
    {
      if (b == ncur || (a < nold && old[a] < cur[b])) { if (!genalloc_append(uint32_t, &gone, &old[a])) die_nomem(); a++; }
      else if (a == nold || cur[b] < old[a]) { if (!genalloc_append(uint32_t, &came, &cur[b])) die_nomem(); b++; }
      else { a++; b++; }
    }
    if (!genalloc_len(uint32_t, &gone) && !genalloc_len(uint32_t, &came)) continue;
    line_start(u);
    if (genalloc_len(uint32_t, &gone))
    {
      out(" REMOVEFROM (0 "); out_numbers(u, genalloc_s(uint32_t, &gone), genalloc_len(uint32_t, &gone)); out(")");
    }
    if (genalloc_len(uint32_t, &came))
    {
      out(" ADDTO (0 "); out_numbers(u, genalloc_s(uint32_t, &came), genalloc_len(uint32_t, &came)); out(")");
    }
    out("\r\n");
    { genalloc t = u->uids; u->uids = now; now = t; }
  }
  refreshing = 0;
  genalloc_free(size_t, &indexes); genalloc_free(uint32_t, &now);
  genalloc_free(uint32_t, &gone); genalloc_free(uint32_t, &came);
}

void cmd_cancelupdate(session *s, imap_cursor *c, char const *tag, int uid)
{
  stralloc t = STRALLOC_ZERO;
  unsigned found = 0, asked = 0;
  (void)s; (void)uid;
  while (imap_sp(c))
  {
    t.len = 0;
    if (!imap_string(c, &t) || !stralloc_0(&t)) { asked = 0; break; }
    asked++;
    for (unsigned i = 0; i < nupdates; i++)
      if (!strcmp(updates[i].tag.s, t.s))
      {
        update_free(&updates[i]);
        updates[i] = updates[--nupdates];
        found++;
        break;
      }
  }
  stralloc_free(&t);
  if (!asked || !imap_at_end(c)) reply_bad(tag, "Syntax: CANCELUPDATE \"tag\" ...");
  else if (found < asked) reply_no(tag, "Unknown search tag");
  else reply_ok(tag, "Updates cancelled");
}
