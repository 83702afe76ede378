/* mailbox: the selected folder as this session sees it, kept in step with
 * the Maildir (and with other sessions) by mailbox_sync. Flags live in the
 * Maildir names (":2,DFRST" plus Dovecot's keyword letters a..z, named in
 * the folder's dovecot-keywords), UIDs in the folder's uid list. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "dirsync.h"
#include "maildir.h"
#include "maildir_scan.h"
#include "uidlist.h"
#include "imapd.h"

#define KEYWORDS_FILE "dovecot-keywords"
#define KEYWORDS_FILE_MAX 65536
#define CACHE_DEAD_MAX 1000   /* cache records beyond twice the folder's messages before compaction */

size_t box_count(void) { return genalloc_len(msg, &box.msgs); }
msg *box_msg(size_t i) { return genalloc_s(msg, &box.msgs) + i; }

int folder_canonical(stralloc *name)
{
  if (name->len >= 5 && !strncasecmp(name->s, "INBOX", 5) && (name->len == 5 || name->s[5] == '.' || !name->s[5]))
    memcpy(name->s, "INBOX", 5);
  return 1;
}

int folder_dir(char const *name, size_t len, stralloc *dir)
{
  dir->len = 0;
  if (len == 5 && !strncasecmp(name, "INBOX", 5)) return stralloc_copys(dir, ".") && stralloc_0(dir);
  if (!len || len > 200 || name[0] == '.' || name[len - 1] == '.') return 0;
  for (size_t i = 0; i < len; i++)
  {
    unsigned char ch = (unsigned char)name[i];
    if (ch < 0x20 || ch == 0x7f || ch == '/' || (ch == '.' && name[i + 1] == '.')) return 0;
  }
  if (len >= 6 && !strncasecmp(name, "INBOX.", 6))
    return stralloc_copys(dir, ".INBOX") && stralloc_catb(dir, name + 5, len - 5) && stralloc_0(dir);
  return stralloc_copys(dir, ".") && stralloc_catb(dir, name, len) && stralloc_0(dir);
}

int folder_exists(char const *dir)
{
  stralloc p = STRALLOC_ZERO;
  struct stat st;
  int r;
  if (!stralloc_copys(&p, dir) || !stralloc_cats(&p, "/cur") || !stralloc_0(&p)) die_nomem();
  r = stat(p.s, &st) == 0 && S_ISDIR(st.st_mode);
  stralloc_free(&p);
  return r;
}

/* keywords ------------------------------------------------------------ */

char const *keyword_name(stralloc const *names, unsigned i)
{
  size_t pos = 0;
  for (unsigned k = 0; k < i && pos < names->len; k++) pos += strlen(names->s + pos) + 1;
  return pos < names->len ? names->s + pos : "";
}

int keywords_load(char const *dir, stralloc *names, unsigned *count)
{
  char buf[KEYWORDS_FILE_MAX];
  char slots[IMAPD_KEYWORDS_MAX][128];
  stralloc p = STRALLOC_ZERO;
  ssize_t r;
  size_t pos = 0;
  int fd;
  names->len = 0; *count = 0;
  memset(slots, 0, sizeof slots);
  if (!stralloc_copys(&p, dir) || !stralloc_cats(&p, "/" KEYWORDS_FILE) || !stralloc_0(&p)) die_nomem();
  fd = open(p.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&p);
  if (fd < 0) return errno == ENOENT ? 1 : -1;
  r = (ssize_t)allread(fd, buf, sizeof buf - 1);
  fd_close(fd);
  buf[r > 0 ? r : 0] = 0;
  while (pos < (size_t)(r > 0 ? r : 0))
  {
    char *nl = strchr(buf + pos, '\n'), *sp;
    unsigned idx;
    size_t n;
    if (nl) *nl = 0;
    n = uint_scan(buf + pos, &idx);
    sp = buf + pos + n;
    if (n && *sp == ' ' && idx < IMAPD_KEYWORDS_MAX && strlen(sp + 1) < sizeof slots[0] && sp[1])
    {
      strcpy(slots[idx], sp + 1);
      if (idx + 1 > *count) *count = idx + 1;
    }
    if (!nl) break;
    pos = (size_t)(nl - buf) + 1;
  }
  for (unsigned i = 0; i < *count; i++)
    if (!stralloc_cats(names, slots[i]) || !stralloc_0(names)) die_nomem();
  return 1;
}

int keywords_save(char const *dir, stralloc const *names, unsigned count)
{
  stralloc text = STRALLOC_ZERO, p = STRALLOC_ZERO, tmp = STRALLOC_ZERO;
  char num[UINT_FMT];
  int fd, ok;
  for (unsigned i = 0; i < count; i++)
  {
    char const *k = keyword_name(names, i);
    if (!*k) continue;
    if (!stralloc_catb(&text, num, uint_fmt(num, i)) || !stralloc_cats(&text, " ")
        || !stralloc_cats(&text, k) || !stralloc_cats(&text, "\n")) die_nomem();
  }
  if (!stralloc_copys(&p, dir) || !stralloc_cats(&p, "/" KEYWORDS_FILE) || !stralloc_0(&p)
      || !stralloc_copys(&tmp, p.s) || !stralloc_cats(&tmp, ".tmp") || !stralloc_0(&tmp)) die_nomem();
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ok = fd >= 0 && allwrite(fd, text.s, text.len) == text.len && fsync(fd) == 0;
  if (fd >= 0) fd_close(fd);
  ok = ok && rename(tmp.s, p.s) == 0;
  stralloc_free(&text); stralloc_free(&p); stralloc_free(&tmp);
  return ok ? 1 : -1;
}

int keyword_index(stralloc *names, unsigned *count, char const *kw, int create)
{
  size_t pos = 0;
  for (unsigned i = 0; i < *count; i++)
  {
    if (!strcasecmp(names->s + pos, kw)) return (int)i;
    pos += strlen(names->s + pos) + 1;
  }
  if (!create || *count >= IMAPD_KEYWORDS_MAX || strlen(kw) >= 128) return -1;
  if (!stralloc_cats(names, kw) || !stralloc_0(names)) die_nomem();
  return (int)(*count)++;
}

int keywords_define(char const *dir, stralloc const *wanted, stralloc *names, unsigned *count)
{
  unsigned before;
  int r = -1, lock = uidlist_lock(dir);
  if (lock < 0) return -1;
  if (keywords_load(dir, names, count) < 0) goto end;
  before = *count;
  for (size_t pos = 0; pos < wanted->len; pos += strlen(wanted->s + pos) + 1)
    if (wanted->s[pos] && wanted->s[pos] != '\\') keyword_index(names, count, wanted->s + pos, 1);
  r = *count == before ? 1 : keywords_save(dir, names, *count);
 end:
  fd_close(lock);
  return r;
}

int keywords_refresh(mailbox *b)
{
  stralloc names = STRALLOC_ZERO;
  unsigned count;
  if (keywords_load(b->dir.s, &names, &count) < 0 || count <= b->keyword_count)
  {
    stralloc_free(&names);
    return 0;
  }
  stralloc_free(&b->keywords);
  b->keywords = names;
  b->keyword_count = count;
  return 1;
}

/* flags in names ---------------------------------------------------------- */

void flags_letters(uint32_t flags, uint32_t keywords, stralloc *sa)
{
  /* Maildir wants the info letters in ASCII order */
  if (flags & FL_DRAFT) stralloc_catb(sa, "D", 1);
  if (flags & FL_FLAGGED) stralloc_catb(sa, "F", 1);
  if (flags & FL_ANSWERED) stralloc_catb(sa, "R", 1);
  if (flags & FL_SEEN) stralloc_catb(sa, "S", 1);
  if (flags & FL_DELETED) stralloc_catb(sa, "T", 1);
  for (unsigned i = 0; i < IMAPD_KEYWORDS_MAX; i++)
    if (keywords & (1u << i)) { char ch = (char)('a' + i); stralloc_catb(sa, &ch, 1); }
}

void flags_parse_letters(char const *info, uint32_t *flags, uint32_t *keywords)
{
  *flags = 0; *keywords = 0;
  for (size_t i = 0; info[i] && i < 64; i++)
    switch (info[i])
    {
      case 'D': *flags |= FL_DRAFT; break;
      case 'F': *flags |= FL_FLAGGED; break;
      case 'R': *flags |= FL_ANSWERED; break;
      case 'S': *flags |= FL_SEEN; break;
      case 'T': *flags |= FL_DELETED; break;
      default:
        if (info[i] >= 'a' && info[i] <= 'z') *keywords |= 1u << (info[i] - 'a');
    }
}

/* the directory scan ------------------------------------------------------- */

typedef struct entry_s entry;
struct entry_s { char *file; size_t base_len; uint32_t uid, flags, keywords; int recent; };

static void entry_free(entry *e) { free(e->file); e->file = 0; }

static int entry_by_name(void const *a, void const *b)
{
  entry const *x = a, *y = b;
  return strcmp(x->file + 4, y->file + 4);
}

static int add_entry(genalloc *list, char const *sub, char const *name, int recent)
{
  entry e;
  char const *colon = strchr(name, ':');
  size_t base_len = colon ? (size_t)(colon - name) : strlen(name);
  if (!base_len || base_len > UIDLIST_BASE_MAX) return 1;
  e.base_len = base_len;
  e.uid = 0; e.recent = recent;
  flags_parse_letters(colon && !strncmp(colon, ":2,", 3) ? colon + 3 : "", &e.flags, &e.keywords);
  e.file = malloc(strlen(name) + 5);
  if (!e.file) die_nomem();
  memcpy(e.file, sub, 4); strcpy(e.file + 4, name);
  return genalloc_append(entry, list, &e);
}

/* Lists cur/ then new/ of dir into list; new/ files move to cur/ (and count
 * as recent for this session) unless readonly. */
static int scan(char const *dir, int readonly, genalloc *list)
{
  stralloc p = STRALLOC_ZERO, from = STRALLOC_ZERO, to = STRALLOC_ZERO;
  /* cur/ first: what we move out of new/ must not be listed twice */
  static char const *const subs[] = { "cur/", "new/" };
  for (int s = 0; s < 2; s++)
  {
    DIR *d;
    struct dirent *de;
    if (!stralloc_copys(&p, dir) || !stralloc_cats(&p, "/") || !stralloc_catb(&p, subs[s], 3) || !stralloc_0(&p)) die_nomem();
    d = opendir(p.s);
    if (!d) { stralloc_free(&p); return -1; }
    while ((de = readdir(d)))
    {
      if (de->d_name[0] == '.') continue;
      if (genalloc_len(entry, list) >= IMAPD_MESSAGES_MAX) break;
      if (s == 1 && !readonly)
      {
        if (!stralloc_copys(&from, dir) || !stralloc_cats(&from, "/new/") || !stralloc_cats(&from, de->d_name) || !stralloc_0(&from)
            || !stralloc_copys(&to, dir) || !stralloc_cats(&to, "/cur/") || !stralloc_cats(&to, de->d_name)
            || (!strchr(de->d_name, ':') && !stralloc_cats(&to, ":2,")) || !stralloc_0(&to)) die_nomem();
        if (rename(from.s, to.s) < 0) continue;   /* another session took it: cur/ will have it */
        if (!add_entry(list, "cur/", to.s + strlen(dir) + 5, 1)) die_nomem();
        continue;
      }
      if (!add_entry(list, subs[s], de->d_name, s == 1)) die_nomem();
    }
    closedir(d);
  }
  stralloc_free(&p); stralloc_free(&from); stralloc_free(&to);
  return 0;
}

static entry const *fresh_base;   /* for fresh_cmp: indexes into a scan */
static int fresh_cmp(void const *a, void const *b)
{
  entry const *x = fresh_base + *(size_t const *)a, *y = fresh_base + *(size_t const *)b;
  int c = maildir_base_cmp(x->file + 4, x->base_len, y->file + 4, y->base_len);
  return c ? c : entry_by_name(x, y);
}

/* FNV-1a: the uid list's names hashed, so matching a scan against the
 * list costs one probe per file, not a sort. */
static size_t hash_name(char const *s, size_t len)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ULL; }
  return (size_t)h;
}

/* Gives every entry its UID, assigning new ones (in name order: Maildir
 * names start with the delivery time) and writing the list when it changed,
 * and leaves list in UID order (entries without a UID dropped).
 * Runs under the folder's lock, scan included, so that two sessions never
 * give one message two UIDs. */
static int assign_uids(mailbox *b, genalloc *list)
{
  uidlist *u = &b->ul, kept = UIDLIST_ZERO;
  size_t n = genalloc_len(entry, list), count, pos = 0, cap = 16, nnew = 0, mask, dead = 0;
  entry *e = genalloc_s(entry, list);
  genalloc ordered = GENALLOC_ZERO;
  char const **names;
  size_t *table, *lens, *slot, *fresh;
  int r = -1;
  if (uidlist_read(b->dir.s, u) < 0) return -1;
  count = uidlist_count(u);
  while (cap < 2 * count + 2) cap <<= 1;
  mask = cap - 1;
  names = malloc((count + 1) * sizeof *names);
  lens = malloc((count + 1) * sizeof *lens);
  slot = malloc((count + 1) * sizeof *slot);
  table = malloc(cap * sizeof *table);
  fresh = malloc((n + 1) * sizeof *fresh);
  if (!names || !lens || !slot || !table || !fresh) die_nomem();
  for (size_t j = 0; j < cap; j++) table[j] = SIZE_MAX;
  for (size_t i = 0; i < count; i++)
  {
    size_t j;
    names[i] = u->names.s + pos;
    lens[i] = strlen(names[i]);
    pos += lens[i] + 1;
    slot[i] = SIZE_MAX;
    for (j = hash_name(names[i], lens[i]) & mask; table[j] != SIZE_MAX; j = (j + 1) & mask) ;
    table[j] = i;
  }
  for (size_t k = 0; k < n; k++)
  {
    char const *base = e[k].file + 4;
    size_t j, len = e[k].base_len, hit = SIZE_MAX;
    for (j = hash_name(base, len) & mask; table[j] != SIZE_MAX; j = (j + 1) & mask)
      if (lens[table[j]] == len && !memcmp(names[table[j]], base, len)) { hit = table[j]; break; }
    if (hit == SIZE_MAX) fresh[nnew++] = k;
    else if (slot[hit] == SIZE_MAX) { slot[hit] = k; memcpy(&e[k].uid, u->uids.s + hit * sizeof(uint32_t), sizeof(uint32_t)); }
    /* else: the same base twice (cur/ and new/ at once): shown once */
  }
  for (size_t i = 0; i < count; i++) if (slot[i] == SIZE_MAX) dead++;
  if (dead > count - dead + UIDLIST_DEAD_SLACK)
  {
    /* mostly messages gone: the list is written again with what is on disk */
    uidlist_restart(&kept, u);
    for (size_t i = 0; i < count; i++)
      if (slot[i] != SIZE_MAX)
      {
        uint32_t uid;
        memcpy(&uid, u->uids.s + i * sizeof uid, sizeof uid);
        if (uidlist_keep(&kept, uid, names[i], lens[i]) < 0) die_nomem();
      }
  }
  /* new messages in name (delivery time) order */
  fresh_base = e;
  if (nnew > 1) qsort(fresh, nnew, sizeof *fresh, &fresh_cmp);
  {
    uidlist *target = kept.rewrite ? &kept : u;
    uint32_t before = target->nextuid;
    for (size_t a = 0; a < nnew; a++)
    {
      entry *x = &e[fresh[a]];
      x->uid = uidlist_add(target, x->file + 4, x->base_len);
    }
    /* \Recent (RFC 3501 2.3.2), as Dovecot has it: a message this session
       took from new/ (the rename succeeds for one session only), or one
       stored by APPEND or COPY that no session has seen yet; a session that
       may change the folder claims those for itself */
    for (size_t k = 0; k < n; k++)
      if (e[k].uid >= target->firstrecent && e[k].uid < before) e[k].recent = 1;
    if (!b->readonly && uidlist_claim_recent(target, target->nextuid) < 0) die_nomem();
    /* UIDs must persist, even for EXAMINE and STATUS */
    if (uidlist_write(b->dir.s, target) < 0) goto end;
    if (kept.rewrite == 0 && target == &kept) { uidlist_free(u); *u = kept; kept = (uidlist)UIDLIST_ZERO; }
  }
  b->uidvalidity = u->uidvalidity;
  b->uidnext = u->nextuid;
  for (size_t i = 0; i < count; i++)
    if (slot[i] != SIZE_MAX && !genalloc_append(entry, &ordered, &e[slot[i]])) die_nomem();
  for (size_t a = 0; a < nnew; a++)
    if (e[fresh[a]].uid && !genalloc_append(entry, &ordered, &e[fresh[a]])) die_nomem();
  /* what is not in the ordered list is freed here */
  {
    char *used = calloc(n + 1, 1);
    if (!used) die_nomem();
    for (size_t i = 0; i < count; i++) if (slot[i] != SIZE_MAX) used[slot[i]] = 1;
    for (size_t a = 0; a < nnew; a++) if (e[fresh[a]].uid) used[fresh[a]] = 1;
    for (size_t k = 0; k < n; k++) if (!used[k]) entry_free(&e[k]);
    free(used);
  }
  genalloc_free(entry, list);
  *list = ordered;
  ordered = (genalloc)GENALLOC_ZERO;
  r = 0;
 end:
  free(names); free(lens); free(slot); free(table); free(fresh);
  genalloc_free(entry, &ordered);
  uidlist_free(&kept);
  return r;
}

uint32_t msg_mask(uint32_t flags, uint32_t keywords) { return (flags & 0x1f) | keywords << 5; }

uint64_t mailbox_highestmodseq(mailbox const *b) { return b->modlog.highest ? b->modlog.highest : 1; }

/* Records in the folder's modseq log what the scan found: new messages,
 * flags changed by anyone (renamed files), messages gone. Under the lock.
 * A log that cannot be read or written costs accuracy, never the session. */
static void modseq_sync(mailbox *b, genalloc const *list)
{
  entry const *e = genalloc_s(entry, list);
  size_t n = genalloc_len(entry, list), j = 0;
  genalloc gone = GENALLOC_ZERO;
  if (modseq_read(&b->modlog, b->dir.s, b->uidvalidity) < 0) return;
  {
    modseq_entry const *known = genalloc_s(modseq_entry, &b->modlog.live);
    size_t nk = genalloc_len(modseq_entry, &b->modlog.live);
    for (size_t i = 0; i < nk; i++)
    {
      while (j < n && e[j].uid < known[i].uid) j++;
      if ((j >= n || e[j].uid != known[i].uid) && !genalloc_append(uint32_t, &gone, &known[i].uid)) die_nomem();
    }
  }
  for (size_t i = 0; i < genalloc_len(uint32_t, &gone); i++) modseq_expunge(&b->modlog, genalloc_s(uint32_t, &gone)[i]);
  for (size_t i = 0, k = 0; i < n; i++)
  {
    /* both in UID order: what is unchanged costs no lookup */
    modseq_entry const *known = genalloc_s(modseq_entry, &b->modlog.live);
    size_t nk = genalloc_len(modseq_entry, &b->modlog.live);
    uint32_t mask = msg_mask(e[i].flags, e[i].keywords);
    if (!e[i].uid) continue;
    while (k < nk && known[k].uid < e[i].uid) k++;
    if (k < nk && known[k].uid == e[i].uid && known[k].mask == mask) continue;
    if (!modseq_set(&b->modlog, e[i].uid, mask)) die_nomem();
  }
  modseq_write(&b->modlog, b->dir.s);
  genalloc_free(uint32_t, &gone);
}

/* The mod-sequences of the messages from index from of b's view, which
 * joined it without a scan (uid_assign). Under the lock. */
static void modseq_join(mailbox *b, size_t from)
{
  size_t n = genalloc_len(msg, &b->msgs);
  if (modseq_read(&b->modlog, b->dir.s, b->uidvalidity) < 0) return;
  for (size_t i = from; i < n; i++)
  {
    msg *m = genalloc_s(msg, &b->msgs) + i;
    m->modseq = modseq_set(&b->modlog, m->uid, msg_mask(m->flags, m->keywords));
    if (!m->modseq) die_nomem();
  }
  modseq_write(&b->modlog, b->dir.s);
}

void mailbox_free_msgs(mailbox *b)
{
  size_t n = genalloc_len(msg, &b->msgs);
  for (size_t i = 0; i < n; i++) free(genalloc_s(msg, &b->msgs)[i].file);
  genalloc_setlen(msg, &b->msgs, 0);
  uidlist_free(&b->ul);
}

static void changed_add(mailbox_changes *ch, uint32_t uid, int flags)
{
  mailbox_change c;
  c.uid = uid; c.seq = 0; c.flags = flags;
  if (ch && !genalloc_append(mailbox_change, &ch->changed, &c)) die_nomem();
}

static void expunged_add(mailbox_changes *ch, uint32_t uid, size_t seq)
{
  mailbox_change c;
  c.uid = uid; c.seq = (uint32_t)seq; c.flags = 0;
  if (ch && !genalloc_append(mailbox_change, &ch->expunged, &c)) die_nomem();
}

void mailbox_changes_free(mailbox_changes *ch)
{
  genalloc_free(mailbox_change, &ch->expunged);
  genalloc_free(mailbox_change, &ch->changed);
  *ch = (mailbox_changes)MAILBOX_CHANGES_ZERO;
}

int mailbox_update(mailbox *b, int allow_expunge, mailbox_changes *ch)
{
  genalloc list = GENALLOC_ZERO, fresh = GENALLOC_ZERO;
  entry *e;
  msg *old;
  size_t n, oldn, i = 0, j = 0;
  int lock, r;

  /* keywords another session defined: the client learns their names first */
  if (keywords_refresh(b) && ch) ch->keywords = 1;
  lock = uidlist_lock(b->dir.s);
  if (lock < 0) return -1;
  r = scan(b->dir.s, b->readonly, &list);
  if (!r) r = assign_uids(b, &list);
  if (!r && b->track_modseq) modseq_sync(b, &list);
  fd_close(lock);
  if (r < 0) goto end;
  n = genalloc_len(entry, &list);
  e = genalloc_s(entry, &list);   /* in UID order */
  old = genalloc_s(msg, &b->msgs);
  oldn = genalloc_len(msg, &b->msgs);
  if (!allow_expunge)
  {
    /* an expunge may not be told now: leave the view as it is */
    size_t found = 0;
    for (size_t a = 0, k = 0; a < oldn; a++)
    {
      while (k < n && e[k].uid < old[a].uid) k++;
      if (k < n && e[k].uid == old[a].uid) found++;
    }
    if (found != oldn) goto end;
  }
  while (i < oldn || j < n)
  {
    if (j < n && !e[j].uid) { j++; continue; }
    if (i < oldn && (j >= n || old[i].uid < e[j].uid))
    {
      /* gone from disk: expunged by someone */
      expunged_add(ch, old[i].uid, i + 1);
      free(old[i].file);
      i++;
      continue;
    }
    if (i < oldn && old[i].uid == e[j].uid)
    {
      msg m = old[i];
      uint32_t nf = (m.flags & FL_RECENT) | e[j].flags;
      uint64_t ms = b->track_modseq ? modseq_of(&b->modlog, m.uid) : 0;
      int flags = nf != m.flags || e[j].keywords != m.keywords;
      if (flags || (ms && ms != m.modseq)) changed_add(ch, m.uid, flags);
      free(m.file);
      m.file = e[j].file; e[j].file = 0;
      m.base_len = e[j].base_len;
      m.flags = nf; m.keywords = e[j].keywords;
      if (ms) m.modseq = ms;
      if (!genalloc_append(msg, &fresh, &m)) die_nomem();
      i++; j++;
      continue;
    }
    /* on disk, not in view: new if above everything we showed */
    if (!oldn || e[j].uid > old[oldn - 1].uid)
    {
      msg m;
      m.uid = e[j].uid; m.flags = e[j].flags | (e[j].recent ? FL_RECENT : 0);
      m.keywords = e[j].keywords; m.file = e[j].file; e[j].file = 0;
      m.base_len = e[j].base_len; m.size = 0; m.internaldate = 0;
      m.modseq = b->track_modseq ? modseq_of(&b->modlog, m.uid) : 0;
      if (!genalloc_append(msg, &fresh, &m)) die_nomem();
      if (ch) ch->added++;
    }
    j++;
  }
  genalloc_free(msg, &b->msgs);
  b->msgs = fresh;
  fresh = (genalloc)GENALLOC_ZERO;
 end:
  n = genalloc_len(entry, &list);
  for (size_t k = 0; k < n; k++) entry_free(genalloc_s(entry, &list) + k);
  genalloc_free(entry, &list);
  genalloc_free(msg, &fresh);
  return r;
}

int mailbox_open(mailbox *b, char const *name, int readonly)
{
  stralloc dir = STRALLOC_ZERO;
  b->name.len = 0;
  if (!stralloc_copys(&b->name, name)) die_nomem();
  folder_canonical(&b->name);
  if (!folder_dir(b->name.s, b->name.len, &dir)) { stralloc_free(&dir); return 0; }
  if (!folder_exists(dir.s)) { stralloc_free(&dir); return 0; }
  if (!stralloc_0(&b->name)) die_nomem();
  stralloc_free(&b->dir);
  b->dir = dir;
  b->readonly = readonly;
  mailbox_free_msgs(b);
  b->cache_loaded = 0;
  if (keywords_load(b->dir.s, &b->keywords, &b->keyword_count) < 0) return -1;
  if (mailbox_update(b, 1, 0) < 0) return -1;
  b->selected = 1;
  return 1;
}

void mailbox_close(mailbox *b)
{
  if (b == &box) { saved_uids.len = 0; search_updates_clear(); }
  mailbox_free_msgs(b);
  imap_cache_free(&b->cache);
  b->cache_loaded = 0;
  b->selected = 0;
  modseq_free(&b->modlog);
  b->modlog = (modseq_log)MODSEQ_LOG_ZERO;
}

/* message files ----------------------------------------------------------- */

static void msg_path(mailbox const *b, msg const *m, stralloc *p)
{
  p->len = 0;
  if (!stralloc_copys(p, b->dir.s) || !stralloc_cats(p, "/") || !stralloc_cats(p, m->file) || !stralloc_0(p)) die_nomem();
}

/* Another session renamed the file (flags): find it again by its base. */
static int msg_refind(mailbox *b, msg *m)
{
  static char const *const subs[] = { "cur/", "new/" };
  stralloc p = STRALLOC_ZERO;
  char const *base = m->file + 4;
  for (int s = 0; s < 2; s++)
  {
    DIR *d;
    struct dirent *de;
    unsigned seen = 0;
    if (!stralloc_copys(&p, b->dir.s) || !stralloc_cats(&p, "/") || !stralloc_catb(&p, subs[s], 3) || !stralloc_0(&p)) die_nomem();
    d = opendir(p.s);
    if (!d) continue;
    while ((de = readdir(d)) && seen++ < IMAPD_MESSAGES_MAX)
      if (!strncmp(de->d_name, base, m->base_len) && (de->d_name[m->base_len] == ':' || !de->d_name[m->base_len]))
      {
        char *f = malloc(strlen(de->d_name) + 5);
        if (!f) die_nomem();
        memcpy(f, subs[s], 4); strcpy(f + 4, de->d_name);
        free(m->file); m->file = f;
        closedir(d); stralloc_free(&p);
        return 1;
      }
    closedir(d);
  }
  stralloc_free(&p);
  return 0;
}

void msg_fullpath(mailbox *b, msg *m, stralloc *p) { msg_path(b, m, p); }

void msg_flags_current(mailbox *b, msg *m)
{
  stralloc p = STRALLOC_ZERO;
  struct stat st;
  msg_path(b, m, &p);
  if (stat(p.s, &st) < 0 && errno == ENOENT && msg_refind(b, m))
  {
    char const *colon = strchr(m->file + 4, ':');
    uint32_t flags, keywords;
    flags_parse_letters(colon && !strncmp(colon, ":2,", 3) ? colon + 3 : "", &flags, &keywords);
    m->flags = flags | (m->flags & FL_RECENT);
    m->keywords = keywords;
  }
  stralloc_free(&p);
}

int msg_open(mailbox *b, msg *m)
{
  stralloc p = STRALLOC_ZERO;
  int fd;
  msg_path(b, m, &p);
  fd = open(p.s, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && msg_refind(b, m))
  {
    msg_path(b, m, &p);
    fd = open(p.s, O_RDONLY | O_CLOEXEC);
  }
  stralloc_free(&p);
  return fd;
}

int msg_read(mailbox *b, msg *m, stralloc *sa)
{
  struct stat st;
  int fd = msg_open(b, m);
  sa->len = 0;
  if (fd < 0) return -1;
  if (fstat(fd, &st) < 0 || !stralloc_ready(sa, (size_t)st.st_size + 1)) { fd_close(fd); return -1; }
  sa->len = allread(fd, sa->s, (size_t)st.st_size);
  fd_close(fd);
  if (!m->internaldate) m->internaldate = st.st_mtime;
  return 0;
}

imap_cache *mailbox_cache(mailbox *b)
{
  size_t n, records;
  if (b->cache_loaded) return &b->cache;
  if (imap_cache_load(&b->cache, b->dir.s, b->uidvalidity) < 0) die_nomem();
  b->cache_loaded = 1;
  n = genalloc_len(msg, &b->msgs);
  records = genalloc_len(imap_cache_entry, &b->cache.entries);
  if (records > CACHE_DEAD_MAX && records > 2 * n)
  {
    /* mostly expunged messages: keep what is in view */
    uint32_t *keep = malloc((n ? n : 1) * sizeof *keep);
    if (!keep) die_nomem();
    for (size_t i = 0; i < n; i++) keep[i] = genalloc_s(msg, &b->msgs)[i].uid;
    imap_cache_compact(&b->cache, b->dir.s, keep, n);
    free(keep);
  }
  return &b->cache;
}

int msg_date(mailbox *b, msg *m)
{
  stralloc p = STRALLOC_ZERO;
  struct stat st;
  int r = 0;
  if (m->internaldate) return 0;
  msg_path(b, m, &p);
  if (stat(p.s, &st) < 0 && !(errno == ENOENT && msg_refind(b, m) && (msg_path(b, m, &p), stat(p.s, &st) == 0))) r = -1;
  else m->internaldate = st.st_mtime;
  stralloc_free(&p);
  return r;
}

int msg_size(mailbox *b, msg *m)
{
  imap_cache_entry const *e;
  char const *w, *colon;
  uint64_t v;
  stralloc sa = STRALLOC_ZERO;
  size_t crlf = 0;
  if (m->size) return 0;
  e = imap_cache_find(mailbox_cache(b), m->uid);
  if (e && e->size) { m->size = e->size; return 0; }
  /* Dovecot records the CRLF size as ,W=N in the name */
  w = strstr(m->file, ",W=");
  colon = strchr(m->file, ':');
  if (w && (!colon || w < colon) && uint64_scan(w + 3, &v) && v) { m->size = v; return 0; }
  if (msg_read(b, m, &sa) < 0) { stralloc_free(&sa); return -1; }
  for (size_t i = 0; i < sa.len; i++)
    crlf += sa.s[i] == '\n' && (i == 0 || sa.s[i - 1] != '\r') ? 2 : 1;
  m->size = crlf;
  stralloc_free(&sa);
  return 0;
}

int msg_set_flags(mailbox *b, msg *m, uint32_t flags, uint32_t keywords)
{
  stralloc from = STRALLOC_ZERO, to = STRALLOC_ZERO, file = STRALLOC_ZERO;
  uint32_t disk = flags & ~FL_RECENT;
  int r = 0;
  if ((m->flags & ~FL_RECENT) == disk && m->keywords == keywords && !strncmp(m->file, "cur/", 4))
  { m->flags = flags; return 0; }
  if (!stralloc_copys(&file, "cur/") || !stralloc_catb(&file, m->file + 4, m->base_len) || !stralloc_cats(&file, ":2,")) die_nomem();
  flags_letters(disk, keywords, &file);
  if (!stralloc_0(&file)) die_nomem();
  msg_path(b, m, &from);
  if (!stralloc_copys(&to, b->dir.s) || !stralloc_cats(&to, "/") || !stralloc_cats(&to, file.s) || !stralloc_0(&to)) die_nomem();
  if (rename(from.s, to.s) < 0)
  {
    r = -1;
    if (errno == ENOENT && msg_refind(b, m))
    {
      msg_path(b, m, &from);
      r = rename(from.s, to.s);
    }
  }
  if (!r)
  {
    free(m->file);
    m->file = strdup(file.s);
    if (!m->file) die_nomem();
    m->flags = flags; m->keywords = keywords;
  }
  stralloc_free(&from); stralloc_free(&to); stralloc_free(&file);
  return r;
}

int mailbox_remove(mailbox *b, stralloc const *uids_only, mailbox_changes *ch)
{
  size_t n = genalloc_len(msg, &b->msgs), kept = 0;
  msg *m = genalloc_s(msg, &b->msgs);
  stralloc p = STRALLOC_ZERO;
  for (size_t i = 0; i < n; i++)
  {
    int gone = 0;
    if ((m[i].flags & FL_DELETED) && (!uids_only || imap_seqset_has(uids_only, m[i].uid, b->uidnext - 1)))
      msg_flags_current(b, &m[i]);   /* another session may have undeleted it */
    if ((m[i].flags & FL_DELETED) && (!uids_only || imap_seqset_has(uids_only, m[i].uid, b->uidnext - 1)))
    {
      msg_path(b, &m[i], &p);
      gone = unlink(p.s) == 0 || (errno == ENOENT && (!msg_refind(b, &m[i]) || (msg_path(b, &m[i], &p), unlink(p.s) == 0)));
    }
    if (gone)
    {
      expunged_add(ch, m[i].uid, i + 1);
      free(m[i].file);
      continue;
    }
    m[kept++] = m[i];
  }
  genalloc_setlen(msg, &b->msgs, kept);
  stralloc_free(&p);
  return 0;
}

/* storing into a folder ---------------------------------------------------- */

/* The uid list of another folder than the selected one, kept between
 * commands (an upload of many APPENDs reads only what others added). */
static uidlist other_ul = UIDLIST_ZERO;
static stralloc other_dir = STRALLOC_ZERO;

static uidlist *uidlist_of(char const *dir)
{
  if (box.selected && !strcmp(dir, box.dir.s)) return &box.ul;
  if (!other_dir.len || strcmp(dir, other_dir.s))
  {
    uidlist_free(&other_ul);
    if (!stralloc_copys(&other_dir, dir) || !stralloc_0(&other_dir)) die_nomem();
  }
  return &other_ul;
}

/* Gives UIDs to messages just stored into dir (names "cur/BASE:2,..." each
 * NUL-terminated, in order), under one lock and one append to the list; a
 * name another session's scan numbered meanwhile keeps that UID (it can
 * only be among the entries added since the list was last read: the file
 * is newer). When dir is the selected folder and nobody else numbered
 * messages since its last sync, the messages join its view at once
 * (*joined set), claimed as recent: no rescan of the folder. */
int uid_assign(char const *dir, stralloc const *stored, genalloc *uids, uint32_t *uidvalidity, int *joined)
{
  uidlist *u = uidlist_of(dir);
  size_t pos = 0;
  int r = -1, join;
  int lock = uidlist_lock(dir);
  genalloc_setlen(uint32_t, uids, 0);
  *joined = 0;
  if (lock < 0) return -1;
  if (uidlist_read(dir, u) < 0) goto end;
  join = u == &box.ul && !box.readonly && u->nextuid == box.uidnext && !u->rewrite;
  for (pos = 0; pos < stored->len; pos += strlen(stored->s + pos) + 1)
  {
    char const *b = stored->s + pos + 4, *colon = strchr(b, ':');
    size_t len = colon ? (size_t)(colon - b) : strlen(b), npos = u->fresh_pos, count = uidlist_count(u);
    uint32_t uid = 0;
    for (size_t i = u->fresh; i < count; i++)
    {
      char const *name = u->names.s + npos;
      size_t nlen = strlen(name);
      npos += nlen + 1;
      if (nlen == len && !memcmp(name, b, len)) { memcpy(&uid, u->uids.s + i * sizeof uid, sizeof uid); break; }
    }
    if (uid) join = 0;   /* another session saw it first */
    else if (!(uid = uidlist_add(u, b, len))) goto end;
    if (!genalloc_append(uint32_t, uids, &uid)) die_nomem();
  }
  if (join && uidlist_claim_recent(u, u->nextuid) < 0) die_nomem();
  if (uidlist_write(dir, u) < 0) goto end;
  *uidvalidity = u->uidvalidity;
  if (join)
  {
    size_t from = genalloc_len(msg, &box.msgs);
    /* the view takes them as a sync would have: recent, UID order */
    for (size_t k = 0, p = 0; k < genalloc_len(uint32_t, uids); k++, p += strlen(stored->s + p) + 1)
    {
      msg m;
      char const *name = stored->s + p, *colon = strchr(name + 4, ':');
      memset(&m, 0, sizeof m);
      m.uid = genalloc_s(uint32_t, uids)[k];
      flags_parse_letters(colon && !strncmp(colon, ":2,", 3) ? colon + 3 : "", &m.flags, &m.keywords);
      m.flags |= FL_RECENT;
      m.base_len = colon ? (size_t)(colon - name - 4) : strlen(name + 4);
      m.file = strdup(name);
      if (!m.file || !genalloc_append(msg, &box.msgs, &m)) die_nomem();
    }
    box.uidnext = u->nextuid;
    if (box.track_modseq) modseq_join(&box, from);
    *joined = 1;
  }
  r = 0;
 end:
  fd_close(lock);
  return r;
}

/* COPY the way Dovecot does it: a hard link under a fresh unique name in
 * dir/cur (the content is already on disk; the caller fsyncs dir/cur once
 * for the whole COPY). name gets "cur/NAME:2,letters". 0 ok, -1 (e.g.
 * EXDEV: another file system) and the caller copies the bytes instead. */
static int link_copy(char const *dir, char const *from, char const *letters, stralloc *name)
{
  static unsigned counter;
  char host[64], num[UINT64_FMT];
  stralloc path = STRALLOC_ZERO;
  struct timeval now;
  struct stat st;
  int r = -1;
  if (stat(from, &st) < 0) return -1;
  if (gethostname(host, sizeof host) < 0) strcpy(host, "localhost");
  host[sizeof host - 1] = 0;
  for (char *h = host; *h; h++) if (*h == '/' || *h == ':') *h = '_';
  for (unsigned attempt = 0; attempt < 5 && r < 0; attempt++)
  {
    gettimeofday(&now, 0);
    name->len = 0;
    if (!stralloc_cats(name, "cur/")
        || !stralloc_catb(name, num, uint64_fmt(num, (uint64_t)now.tv_sec)) || !stralloc_cats(name, ".M")
        || !stralloc_catb(name, num, uint64_fmt(num, (uint64_t)now.tv_usec)) || !stralloc_cats(name, "P")
        || !stralloc_catb(name, num, uint64_fmt(num, (uint64_t)getpid())) || !stralloc_cats(name, "L")
        || !stralloc_catb(name, num, uint64_fmt(num, ++counter)) || !stralloc_cats(name, ".")
        || !stralloc_cats(name, host) || !stralloc_cats(name, ",S=")
        || !stralloc_catb(name, num, uint64_fmt(num, (uint64_t)st.st_size)) || !stralloc_cats(name, ":2,")
        || !stralloc_cats(name, letters) || !stralloc_0(name)) die_nomem();
    path.len = 0;
    if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/") || !stralloc_cats(&path, name->s) || !stralloc_0(&path)) die_nomem();
    r = link(from, path.s);
    if (r < 0 && errno != EEXIST) break;
  }
  stralloc_free(&path);
  return r;
}

int folder_sync_cur(char const *dir)
{
  stralloc cur = STRALLOC_ZERO;
  int r;
  if (!stralloc_copys(&cur, dir) || !stralloc_cats(&cur, "/cur") || !stralloc_0(&cur)) die_nomem();
  r = dir_fsync(cur.s) < 0 ? -1 : 0;
  stralloc_free(&cur);
  return r;
}

int deliver_copy(char const *dir, int fd, char const *linkfrom, char const *head, size_t headlen,
                 uint32_t flags, stralloc const *kwnames_src, uint32_t keywords,
                 int64_t internaldate, stralloc *stored)
{
  stralloc letters = STRALLOC_ZERO, name = STRALLOC_ZERO, kw = STRALLOC_ZERO, path = STRALLOC_ZERO,
           wanted = STRALLOC_ZERO;
  unsigned kwcount = 0;
  uint32_t mapped = 0;
  int nullfd = -1, r = -1;
  if (keywords && kwnames_src)
  {
    /* the message's keywords by name, numbered as the target folder numbers them */
    for (unsigned i = 0, pos = 0; i < IMAPD_KEYWORDS_MAX && pos < kwnames_src->len; i++)
    {
      char const *k = kwnames_src->s + pos;
      pos += (unsigned)strlen(k) + 1;
      if ((keywords & (1u << i)) && *k && (!stralloc_cats(&wanted, k) || !stralloc_0(&wanted))) die_nomem();
    }
    if (keywords_define(dir, &wanted, &kw, &kwcount) < 0) goto end;
    for (size_t pos = 0; pos < wanted.len; pos += strlen(wanted.s + pos) + 1)
    {
      int k = keyword_index(&kw, &kwcount, wanted.s + pos, 0);
      if (k >= 0) mapped |= 1u << k;
    }
  }
  flags_letters(flags & ~FL_RECENT, mapped, &letters);
  if (!stralloc_0(&letters)) die_nomem();
  if (linkfrom && link_copy(dir, linkfrom, letters.s, &name) == 0)
  {
    if (!stralloc_cats(stored, name.s) || !stralloc_0(stored)) die_nomem();
    r = 0;
    goto end;
  }
  if (fd < 0) { nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC); if (nullfd < 0) goto end; fd = nullfd; }
  if (maildir_store_nodirsync(dir, head, headlen, fd, letters.s, &name) < 0) goto end;
  if (!stralloc_0(&name)) die_nomem();
  if (internaldate > 0)
  {
    struct timeval tv[2];
    tv[0].tv_sec = tv[1].tv_sec = (time_t)internaldate; tv[0].tv_usec = tv[1].tv_usec = 0;
    if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/") || !stralloc_cats(&path, name.s) || !stralloc_0(&path)) die_nomem();
    utimes(path.s, tv);
  }
  if (!stralloc_cats(stored, name.s) || !stralloc_0(stored)) die_nomem();
  r = 0;
 end:
  if (nullfd >= 0) fd_close(nullfd);
  stralloc_free(&letters); stralloc_free(&name); stralloc_free(&kw); stralloc_free(&path); stralloc_free(&wanted);
  return r;
}
