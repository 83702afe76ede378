/* folders: the mailbox list (Maildir++ folders ".Name" beside INBOX's own
 * cur/new/tmp; hierarchy separator "." on disk, "." or "/" for clients), subscriptions and STATUS.
 * LIST follows RFC 3501 6.3.8 with LIST-EXTENDED (RFC 5258), SPECIAL-USE
 * (RFC 6154), LIST-STATUS (RFC 5819) and CHILDREN (RFC 3348). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "imap_mutf7.h"
#include "maildir.h"
#include "imapd.h"

#define SUBSCRIPTIONS_FILE "subscriptions"
#define SUBSCRIPTIONS_FILE_MAX (1024 * 1024)
#define LIST_PATTERNS_MAX 32
#define MATCH_STEPS_MAX 100000    /* wildcard matching work per name */

static struct { char const *name, *attr; } const SPECIAL[] = {
  { "Sent", "\\Sent" }, { "Drafts", "\\Drafts" }, { "Trash", "\\Trash" },
  { "Junk", "\\Junk" }, { "Archive", "\\Archive" } };
#define SPECIAL_COUNT (sizeof SPECIAL / sizeof SPECIAL[0])

static char const *special_attr(char const *name)
{
  for (unsigned i = 0; i < SPECIAL_COUNT; i++)
    if (!strcmp(name, SPECIAL[i].name)) return SPECIAL[i].attr;
  return 0;
}

/* subscriptions: one name per line (Dovecot's old format; a "V\t2" header
 * line of its new format is skipped). */
static void subs_load(stralloc *subs)
{
  char *buf = malloc(SUBSCRIPTIONS_FILE_MAX + 1);
  size_t len, pos = 0;
  int fd;
  subs->len = 0;
  if (!buf) die_nomem();
  fd = open(SUBSCRIPTIONS_FILE, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { free(buf); return; }
  len = allread(fd, buf, SUBSCRIPTIONS_FILE_MAX);
  fd_close(fd);
  while (pos < len)
  {
    char *nl = memchr(buf + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
    /* Dovecot v2 lines may hold tab-separated hierarchy parts */
    for (size_t i = 0; i < n; i++) if (buf[pos + i] == '\t') buf[pos + i] = '.';
    if (n && !(n == 3 && !memcmp(buf + pos, "V.2", 3)) && !memchr(buf + pos, 0, n))
      if (!stralloc_catb(subs, buf + pos, n) || !stralloc_0(subs)) die_nomem();
    pos += n + 1;
  }
  free(buf);
}

static int subs_has(stralloc const *subs, char const *name)
{
  for (size_t pos = 0; pos < subs->len; pos += strlen(subs->s + pos) + 1)
    if (!strcmp(subs->s + pos, name)) return 1;
  return 0;
}

static int subs_save(stralloc const *subs)
{
  stralloc text = STRALLOC_ZERO;
  int fd, ok;
  for (size_t pos = 0; pos < subs->len; pos += strlen(subs->s + pos) + 1)
    if (!stralloc_cats(&text, subs->s + pos) || !stralloc_cats(&text, "\n")) die_nomem();
  fd = open(SUBSCRIPTIONS_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ok = fd >= 0 && allwrite(fd, text.s, text.len) == text.len && fsync(fd) == 0;
  if (fd >= 0) fd_close(fd);
  ok = ok && rename(SUBSCRIPTIONS_FILE ".tmp", SUBSCRIPTIONS_FILE) == 0;
  stralloc_free(&text);
  return ok ? 0 : -1;
}

static void subs_set(char const *name, int on)
{
  stralloc subs = STRALLOC_ZERO, next = STRALLOC_ZERO;
  subs_load(&subs);
  for (size_t pos = 0; pos < subs.len; pos += strlen(subs.s + pos) + 1)
    if (strcmp(subs.s + pos, name) && (!stralloc_cats(&next, subs.s + pos) || !stralloc_0(&next))) die_nomem();
  if (on && (!stralloc_cats(&next, name) || !stralloc_0(&next))) die_nomem();
  subs_save(&next);
  stralloc_free(&subs); stralloc_free(&next);
}

static int make_folder(char const *dir)
{
  stralloc p = STRALLOC_ZERO;
  int fd;
  if (maildir_make(dir) < 0) return -1;
  /* Maildir++: marks a folder, so delivery agents know it is not a top Maildir */
  if (!stralloc_copys(&p, dir) || !stralloc_cats(&p, "/maildirfolder") || !stralloc_0(&p)) die_nomem();
  fd = open(p.s, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) fd_close(fd);
  stralloc_free(&p);
  return 0;
}

void special_use_create(void)
{
  stralloc dir = STRALLOC_ZERO;
  for (unsigned i = 0; i < SPECIAL_COUNT; i++)
  {
    if (!stralloc_copys(&dir, ".") || !stralloc_cats(&dir, SPECIAL[i].name) || !stralloc_0(&dir)) die_nomem();
    if (folder_exists(dir.s)) continue;
    if (make_folder(dir.s) < 0) { strerr_warnwu2sys("create folder ", dir.s); continue; }
    subs_set(SPECIAL[i].name, 1);
  }
  stralloc_free(&dir);
}

/* All folder names (NUL-separated): INBOX, every ".X" with a cur/, and the
 * missing parents of hierarchical names (flagged by a leading 0x01). */
static void folders_all(stralloc *names)
{
  DIR *d = opendir(".");
  struct dirent *de;
  unsigned n = 0;
  names->len = 0;
  if (!stralloc_cats(names, "INBOX") || !stralloc_0(names)) die_nomem();
  if (!d) return;
  while ((de = readdir(d)) && n < IMAPD_FOLDERS_MAX)
  {
    if (de->d_name[0] != '.' || !de->d_name[1] || !strcmp(de->d_name, "..")) continue;
    if (!folder_exists(de->d_name)) continue;
    if (!stralloc_cats(names, de->d_name + 1) || !stralloc_0(names)) die_nomem();
    n++;
  }
  closedir(d);
}

/* The hierarchy separator clients see (VMAIL_IMAP_SEPARATOR); on disk it
 * is always Maildir++'s '.'. */
static char sep = '.';

int folders_init(void)
{
  char const *x = getenv("VMAIL_IMAP_SEPARATOR");
  if (!x || !*x || !strcmp(x, ".")) sep = '.';
  else if (!strcmp(x, "/")) sep = '/';
  else return 0;
  return 1;
}

void out_separator(void) { out(sep == '/' ? "\"/\"" : "\".\""); }

/* A name component that cannot be a folder: a Maildir's own directories. */
static int reserved_component(char const *s, size_t len)
{
  return len == 3 && (!memcmp(s, "tmp", 3) || !memcmp(s, "new", 3) || !memcmp(s, "cur", 3));
}

int name_from_wire(stralloc *name)
{
  stralloc stored = STRALLOC_ZERO;
  size_t start = 0;
  int r = 1;
  if (imap4rev2)
  {
    r = imap_utf8_to_mutf7(name->s, name->len, &stored);
    if (r < 0) die_nomem();
    if (r && !stralloc_copyb(name, stored.s, stored.len)) die_nomem();
    stralloc_free(&stored);
    if (!r) return 0;
  }
  /* one place for every command: the client's separator becomes '.' (a
     '.' of the client's cannot be stored when its separator is '/'), a
     trailing separator goes (CREATE "a/" means a, RFC 3501 6.3.3, and so
     does SELECT "a/"), and names no folder may have are emptied, which
     folder_dir refuses: wildcards, and tmp, new or cur as a component */
  for (size_t i = 0; i < name->len; i++)
  {
    char ch = name->s[i];
    if (sep != '.' && ch == '.') { name->len = 0; return 1; }
    if (ch == sep) name->s[i] = '.';
    if (ch == '%' || ch == '*') { name->len = 0; return 1; }
  }
  while (name->len > 1 && name->s[name->len - 1] == '.') name->len--;
  if (!name->len) return r;
  for (size_t i = 0; i <= name->len; i++)
    if (i == name->len || name->s[i] == '.')
    {
      if (reserved_component(name->s + start, i - start)) { name->len = 0; return 1; }
      start = i + 1;
    }
  return r;
}

/* The name a client sees: UTF-8 for IMAP4rev2 (a stored name that is no
 * valid modified UTF-7 goes out as it is), else as stored; with its
 * separator. */
static void name_to_wire(int rev2, char const *stored, stralloc *wire)
{
  size_t len = strlen(stored);
  int r = 0;
  wire->len = 0;
  if (rev2 && (r = imap_mutf7_to_utf8(stored, len, wire)) < 0) die_nomem();
  if (!r && !stralloc_copyb(wire, stored, len)) die_nomem();
  if (sep != '.') for (size_t i = 0; i < wire->len; i++) if (wire->s[i] == '.') wire->s[i] = sep;
  if (!stralloc_0(wire)) die_nomem();
  wire->len--;
}

void out_name(char const *stored)
{
  stralloc wire = STRALLOC_ZERO;
  name_to_wire(imap4rev2, stored, &wire);
  outstring(wire.s, wire.len);
  stralloc_free(&wire);
}

static int has_name(stralloc const *names, char const *name, size_t len)
{
  for (size_t pos = 0; pos < names->len; pos += strlen(names->s + pos) + 1)
  {
    char const *s = names->s + pos + (names->s[pos] == 1 || names->s[pos] == 2);
    if (strlen(s) == len && !memcmp(s, name, len)) return 1;
  }
  return 0;
}

static void add_parents(stralloc *names)
{
  size_t end = names->len;
  for (size_t pos = 0; pos < end; )
  {
    size_t len = strlen(names->s + pos);
    for (size_t i = 1; i < len; i++)
      if (names->s[pos + i] == '.' && !has_name(names, names->s + pos, i))
      {
        /* room first: the parent's name is copied from inside names */
        if (!stralloc_readyplus(names, i + 2)) die_nomem();
        names->s[names->len++] = 1;
        memcpy(names->s + names->len, names->s + pos, i);
        names->len += i;
        names->s[names->len++] = 0;
      }
    pos += len + 1;
  }
}

static int has_children(stralloc const *names, char const *name)
{
  size_t len = strlen(name);
  for (size_t pos = 0; pos < names->len; pos += strlen(names->s + pos) + 1)
  {
    char const *s = names->s + pos + (names->s[pos] == 1 || names->s[pos] == 2);
    if (!strncmp(s, name, len) && s[len] == '.') return 1;
  }
  return 0;
}

/* RFC 3501 6.3.8: '*' matches anything, '%' anything but the separator. */
static int match(char const *p, char const *s, unsigned *steps)
{
  if (++*steps > MATCH_STEPS_MAX) return 0;
  if (!*p) return !*s;
  if (*p == '*' || *p == '%')
  {
    for (size_t i = 0; ; i++)
    {
      if (match(p + 1, s + i, steps)) return 1;
      if (!s[i] || (*p == '%' && s[i] == sep)) return 0;
    }
  }
  return *s == *p && match(p + 1, s + 1, steps);
}

static int name_matches(char const *pattern, char const *name)
{
  unsigned steps = 0;
  /* INBOX is case-insensitive, in the pattern too */
  if (!strncasecmp(pattern, "INBOX", 5) && (!pattern[5] || pattern[5] == sep || pattern[5] == '*' || pattern[5] == '%')
      && !strncmp(name, "INBOX", 5))
    return match(pattern + 5, name + 5, &steps);
  return match(pattern, name, &steps);
}

/* Does the wire form of a name match one of the patterns (after ref)? */
static int patterns_match(stralloc const *ref, stralloc const *pats, char const *wire, stralloc *full)
{
  for (size_t p = 0; p < pats->len; p += strlen(pats->s + p) + 1)
  {
    full->len = 0;
    if (!stralloc_cats(full, ref->s) || !stralloc_cats(full, pats->s + p) || !stralloc_0(full)) die_nomem();
    if (name_matches(full->s, wire)) return 1;
  }
  return 0;
}

/* Has name a subscribed inferior that no pattern matches? (wire and full
 * are scratch space.) */
static int hides_subscribed(int rev2, stralloc const *subs, char const *name, stralloc const *ref, stralloc const *pats,
                            stralloc *wire, stralloc *full)
{
  size_t len = strlen(name);
  for (size_t pos = 0; pos < subs->len; pos += strlen(subs->s + pos) + 1)
  {
    char const *s = subs->s + pos;
    if (strncmp(s, name, len) || s[len] != '.') continue;
    name_to_wire(rev2, s, wire);
    if (!patterns_match(ref, pats, wire->s, full)) return 1;
  }
  return 0;
}

static int status_items(imap_cursor *c, unsigned *items);
static void status_out(session *s, char const *name, unsigned items);

enum { ST_MESSAGES = 1, ST_RECENT = 2, ST_UIDNEXT = 4, ST_UIDVALIDITY = 8, ST_UNSEEN = 16, ST_DELETED = 32, ST_SIZE = 64,
       ST_HIGHESTMODSEQ = 128 };

void cmd_list(session *s, imap_cursor *c, char const *tag, int lsub)
{
  stralloc ref = STRALLOC_ZERO, pats = STRALLOC_ZERO, word = STRALLOC_ZERO, names = STRALLOC_ZERO,
           subs = STRALLOC_ZERO, full = STRALLOC_ZERO, wire = STRALLOC_ZERO;
  int sel_subscribed = 0, sel_special = 0, sel_recursive = 0, sel_other = 0, ret_subscribed = 0, ret_children = 1,
      ret_special = 1, extended = 0;
  unsigned npats = 0, status = 0;
  char const *verb = lsub ? "LSUB" : "LIST";

  if (!imap_sp(c)) goto bad;
  if (!lsub && imap_char(c, '('))
  {
    extended = 1;
    while (!imap_char(c, ')'))
    {
      word.len = 0;
      if (!imap_atom(c, &word) || !stralloc_0(&word)) goto bad;
      /* RFC 5258 3.1: an unknown option, or RECURSIVEMATCH with nothing
         to recurse on, is BAD */
      if (!strcasecmp(word.s, "SUBSCRIBED")) sel_subscribed = ret_subscribed = sel_other = 1;
      else if (!strcasecmp(word.s, "SPECIAL-USE")) sel_special = sel_other = 1;
      else if (!strcasecmp(word.s, "RECURSIVEMATCH")) sel_recursive = 1;
      else if (strcasecmp(word.s, "REMOTE")) goto bad;
      if (imap_peek(c) != ')' && !imap_sp(c)) goto bad;
    }
    if (sel_recursive && !sel_other) goto bad;
    if (!imap_sp(c)) goto bad;
  }
  if (!imap_astring(c, &ref) && imap_peek(c) != ' ') goto bad;
  if (!stralloc_0(&ref) || !imap_sp(c)) goto bad;
  if (!lsub && imap_char(c, '('))
  {
    extended = 1;
    while (!imap_char(c, ')'))
    {
      if (npats && !imap_sp(c)) goto bad;
      if (!imap_list_mailbox(c, &pats) || !stralloc_0(&pats) || ++npats > LIST_PATTERNS_MAX) goto bad;
    }
  }
  else
  {
    size_t before = pats.len;
    if (!imap_list_mailbox(c, &pats) && pats.len == before && !(imap_peek(c) == ' ' || imap_at_end(c))) goto bad;
    if (!stralloc_0(&pats)) die_nomem();
    npats = 1;
  }
  if (!lsub && imap_sp(c))
  {
    word.len = 0;
    if (!imap_atom(c, &word) || !stralloc_0(&word) || strcasecmp(word.s, "RETURN") || !imap_sp(c) || !imap_char(c, '(')) goto bad;
    extended = 1;
    while (!imap_char(c, ')'))
    {
      word.len = 0;
      if (!imap_atom(c, &word) || !stralloc_0(&word)) goto bad;
      if (!strcasecmp(word.s, "SUBSCRIBED")) ret_subscribed = 1;
      else if (!strcasecmp(word.s, "CHILDREN")) ret_children = 1;
      else if (!strcasecmp(word.s, "SPECIAL-USE")) ret_special = 1;
      else if (!strcasecmp(word.s, "STATUS")) { if (!imap_sp(c) || !status_items(c, &status)) goto bad; }
      else goto bad;
      if (imap_peek(c) != ')' && !imap_sp(c)) goto bad;
    }
  }
  if (!imap_at_end(c)) goto bad;
  if (npats == 1 && !pats.s[0])
  {
    /* RFC 3501 6.3.8: the empty pattern asks for the separator */
    out("* "); out(verb); out(" (\\Noselect) "); out_separator(); out(" \"\"\r\n");
    reply_ok(tag, "List completed");
    goto end;
  }
  folders_all(&names);
  subs_load(&subs);
  if (lsub || sel_subscribed)
    /* subscribed names whose folder is gone are listed too (RFC 3501
       6.3.6, RFC 5258 3.1), flagged by a leading 0x02 */
    for (size_t pos = 0; pos < subs.len; pos += strlen(subs.s + pos) + 1)
      if (!has_name(&names, subs.s + pos, strlen(subs.s + pos))
          && (!stralloc_catb(&names, "\002", 1) || !stralloc_cats(&names, subs.s + pos) || !stralloc_0(&names))) die_nomem();
  add_parents(&names);
  for (size_t pos = 0; pos < names.len; pos += strlen(names.s + pos) + 1)
  {
    int virtual = names.s[pos] == 1 || names.s[pos] == 2;
    char const *name = names.s + pos + virtual;
    int matched, subscribed = subs_has(&subs, name), children = has_children(&names, name), first = 1, childinfo = 0;
    char const *special = special_attr(name);
    /* patterns are in the client's form of names */
    name_to_wire(s->rev2, name, &wire);
    matched = patterns_match(&ref, &pats, wire.s, &full);
    if (!matched) continue;
    if ((lsub || sel_subscribed) && !subscribed)
    {
      /* a name that is not subscribed but hides subscribed inferiors from
         the pattern: LSUB's \Noselect (RFC 3501 6.3.9), RECURSIVEMATCH's
         CHILDINFO (RFC 5258 3.5) */
      if (!(lsub || sel_recursive) || !hides_subscribed(s->rev2, &subs, name, &ref, &pats, &wire, &full)) continue;
      childinfo = 1;
    }
    if (sel_special && !special) continue;
    name_to_wire(s->rev2, name, &wire);
    out("* "); out(verb); out(" (");
#define ATTR(a) do { if (!first) out(" "); out(a); first = 0; } while (0)
    /* \NonExistent is LIST-EXTENDED's (RFC 5258 3); a plain LIST says what
       RFC 3501 clients know, as Dovecot does */
    if (virtual || (lsub && childinfo)) ATTR(lsub || !(extended || s->rev2) ? "\\Noselect" : "\\NonExistent");
    if (ret_children && !lsub) ATTR(children ? "\\HasChildren" : "\\HasNoChildren");
    if (ret_subscribed && subscribed && !lsub) ATTR("\\Subscribed");
    if (ret_special && special && !lsub) ATTR(special);
#undef ATTR
    out(") "); out_separator(); out(" ");
    outstring(wire.s, wire.len);
    if (childinfo && !lsub) out(" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
    out("\r\n");
    if (status && !virtual) status_out(s, name, status);
  }
  reply_ok(tag, lsub ? "Lsub completed" : "List completed");
  goto end;
 bad:
  reply_bad(tag, lsub ? "Syntax: LSUB reference pattern" : "Syntax: LIST [(options)] reference pattern [RETURN (options)]");
 end:
  stralloc_free(&ref); stralloc_free(&pats); stralloc_free(&word); stralloc_free(&names);
  stralloc_free(&subs); stralloc_free(&full); stralloc_free(&wire);
}

/* Parses a mailbox argument and its folder dir. 1 ok, 0 syntax (BAD sent),
 * -1 invalid name (NO sent). */
static int mailbox_arg(imap_cursor *c, char const *tag, stralloc *name, stralloc *dir, char const *usage)
{
  name->len = 0;
  if (!imap_sp(c) || !imap_astring(c, name)) { reply_bad(tag, usage); return 0; }
  if (!name_from_wire(name)) { reply_no(tag, "[CANNOT] Mailbox name is not UTF-8"); return -1; }
  if (!stralloc_0(name)) die_nomem();
  name->len--;
  folder_canonical(name);
  if (!folder_dir(name->s, name->len, dir)) { reply_no(tag, "[CANNOT] Invalid mailbox name"); return -1; }
  return 1;
}

void cmd_create(imap_cursor *c, char const *tag)
{
  stralloc name = STRALLOC_ZERO, dir = STRALLOC_ZERO;
  if (mailbox_arg(c, tag, &name, &dir, "Syntax: CREATE mailbox") <= 0) goto end;
  if (!imap_at_end(c)) { reply_bad(tag, "Syntax: CREATE mailbox"); goto end; }
  if (!strcmp(dir.s, ".") || folder_exists(dir.s)) { reply_no(tag, "[ALREADYEXISTS] Mailbox exists"); goto end; }
  if (make_folder(dir.s) < 0) { reply_no(tag, "[SERVERBUG] Cannot create mailbox"); goto end; }
  reply_ok(tag, "Create completed");
 end:
  stralloc_free(&name); stralloc_free(&dir);
}

/* Removes a folder directory: its messages and files, then itself. Bounded
 * by the entries present; nested folders are separate ".X.Y" dirs, untouched. */
static int remove_folder(char const *dir)
{
  static char const *const subs[] = { "/cur", "/new", "/tmp", "" };
  stralloc p = STRALLOC_ZERO, f = STRALLOC_ZERO;
  for (int s = 0; s < 4; s++)
  {
    DIR *d;
    struct dirent *de;
    if (!stralloc_copys(&p, dir) || !stralloc_cats(&p, subs[s]) || !stralloc_0(&p)) die_nomem();
    d = opendir(p.s);
    if (!d) continue;
    while ((de = readdir(d)))
    {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
      f.len = 0;
      if (!stralloc_copyb(&f, p.s, p.len - 1) || !stralloc_cats(&f, "/") || !stralloc_cats(&f, de->d_name) || !stralloc_0(&f)) die_nomem();
      if (unlink(f.s) < 0 && errno != EISDIR && errno != EPERM && errno != ENOENT) { closedir(d); goto fail; }
    }
    closedir(d);
    if (s < 3 && rmdir(p.s) < 0 && errno != ENOENT) goto fail;
  }
  if (rmdir(dir) < 0) goto fail;
  stralloc_free(&p); stralloc_free(&f);
  return 0;
 fail:
  stralloc_free(&p); stralloc_free(&f);
  return -1;
}

void cmd_delete(session *s, imap_cursor *c, char const *tag)
{
  stralloc name = STRALLOC_ZERO, dir = STRALLOC_ZERO;
  if (mailbox_arg(c, tag, &name, &dir, "Syntax: DELETE mailbox") <= 0) goto end;
  if (!imap_at_end(c)) { reply_bad(tag, "Syntax: DELETE mailbox"); goto end; }
  if (!strcmp(dir.s, ".")) { reply_no(tag, "[CANNOT] INBOX cannot be deleted"); goto end; }
  if (!folder_exists(dir.s)) { reply_no(tag, "[NONEXISTENT] No such mailbox"); goto end; }
  if (s->mbox.selected && !strcmp(s->mbox.dir.s, dir.s)) mailbox_close(&s->mbox);
  /* the subscription stays (RFC 3501 6.3.9: never removed unilaterally) */
  if (remove_folder(dir.s) < 0) { reply_no(tag, "[SERVERBUG] Cannot delete mailbox"); goto end; }
  reply_ok(tag, "Delete completed");
 end:
  stralloc_free(&name); stralloc_free(&dir);
}

/* RENAME INBOX (RFC 3501 6.3.5): its messages move to the new folder, INBOX
 * stays, empty. */
static int rename_inbox(char const *to)
{
  static char const *const subs[] = { "cur", "new" };
  stralloc from = STRALLOC_ZERO, dst = STRALLOC_ZERO;
  if (make_folder(to) < 0) return -1;
  for (int s = 0; s < 2; s++)
  {
    DIR *d = opendir(subs[s]);
    struct dirent *de;
    if (!d) continue;
    while ((de = readdir(d)))
    {
      if (de->d_name[0] == '.') continue;
      from.len = dst.len = 0;
      if (!stralloc_cats(&from, subs[s]) || !stralloc_cats(&from, "/") || !stralloc_cats(&from, de->d_name) || !stralloc_0(&from)
          || !stralloc_cats(&dst, to) || !stralloc_cats(&dst, "/") || !stralloc_cats(&dst, subs[s]) || !stralloc_cats(&dst, "/")
          || !stralloc_cats(&dst, de->d_name) || !stralloc_0(&dst)) die_nomem();
      rename(from.s, dst.s);
    }
    closedir(d);
  }
  stralloc_free(&from); stralloc_free(&dst);
  return 0;
}

void cmd_rename(session *s, imap_cursor *c, char const *tag)
{
  stralloc from = STRALLOC_ZERO, fromdir = STRALLOC_ZERO, to = STRALLOC_ZERO, todir = STRALLOC_ZERO,
           names = STRALLOC_ZERO, a = STRALLOC_ZERO, b = STRALLOC_ZERO, subs = STRALLOC_ZERO, nsubs = STRALLOC_ZERO;
  if (mailbox_arg(c, tag, &from, &fromdir, "Syntax: RENAME from to") <= 0) goto end;
  if (mailbox_arg(c, tag, &to, &todir, "Syntax: RENAME from to") <= 0) goto end;
  if (!imap_at_end(c)) { reply_bad(tag, "Syntax: RENAME from to"); goto end; }
  if (!folder_exists(fromdir.s)) { reply_no(tag, "[NONEXISTENT] No such mailbox"); goto end; }
  if (!strcmp(todir.s, ".") || folder_exists(todir.s)) { reply_no(tag, "[ALREADYEXISTS] Target mailbox exists"); goto end; }
  if (!strcmp(fromdir.s, "."))
  {
    if (rename_inbox(todir.s) < 0) { reply_no(tag, "[SERVERBUG] Cannot rename INBOX"); goto end; }
    subs_set(to.s, 1);
    reply_ok(tag, "Rename completed");
    goto end;
  }
  if (!strncmp(to.s, from.s, from.len) && to.s[from.len] == '.') { reply_no(tag, "[CANNOT] Cannot move a mailbox into itself"); goto end; }
  if (s->mbox.selected && !strcmp(s->mbox.dir.s, fromdir.s)) mailbox_close(&s->mbox);
  if (rename(fromdir.s, todir.s) < 0) { reply_no(tag, "[SERVERBUG] Cannot rename mailbox"); goto end; }
  /* children: ".from.x" -> ".to.x" */
  folders_all(&names);
  for (size_t pos = 0; pos < names.len; pos += strlen(names.s + pos) + 1)
  {
    char const *n = names.s + pos;
    if (strncmp(n, from.s, from.len) || n[from.len] != '.') continue;
    a.len = b.len = 0;
    if (!stralloc_cats(&a, ".") || !stralloc_cats(&a, n) || !stralloc_0(&a)
        || !stralloc_cats(&b, ".") || !stralloc_cats(&b, to.s) || !stralloc_cats(&b, n + from.len) || !stralloc_0(&b)) die_nomem();
    rename(a.s, b.s);
  }
  subs_load(&subs);
  for (size_t pos = 0; pos < subs.len; pos += strlen(subs.s + pos) + 1)
  {
    char const *n = subs.s + pos;
    if (!strcmp(n, from.s) || (!strncmp(n, from.s, from.len) && n[from.len] == '.'))
    { if (!stralloc_cats(&nsubs, to.s) || !stralloc_cats(&nsubs, n + from.len)) die_nomem(); }
    else if (!stralloc_cats(&nsubs, n)) die_nomem();
    if (!stralloc_0(&nsubs)) die_nomem();
  }
  subs_save(&nsubs);
  reply_ok(tag, "Rename completed");
 end:
  stralloc_free(&from); stralloc_free(&fromdir); stralloc_free(&to); stralloc_free(&todir);
  stralloc_free(&names); stralloc_free(&a); stralloc_free(&b); stralloc_free(&subs); stralloc_free(&nsubs);
}

void cmd_subscribe(imap_cursor *c, char const *tag, int on)
{
  stralloc name = STRALLOC_ZERO, dir = STRALLOC_ZERO;
  if (mailbox_arg(c, tag, &name, &dir, on ? "Syntax: SUBSCRIBE mailbox" : "Syntax: UNSUBSCRIBE mailbox") <= 0) goto end;
  if (!imap_at_end(c)) { reply_bad(tag, on ? "Syntax: SUBSCRIBE mailbox" : "Syntax: UNSUBSCRIBE mailbox"); goto end; }
  if (on && !folder_exists(dir.s)) { reply_no(tag, "[NONEXISTENT] No such mailbox"); goto end; }
  subs_set(name.s, on);
  reply_ok(tag, on ? "Subscribe completed" : "Unsubscribe completed");
 end:
  stralloc_free(&name); stralloc_free(&dir);
}

static int status_items(imap_cursor *c, unsigned *items)
{
  stralloc w = STRALLOC_ZERO;
  static struct { char const *name; unsigned bit; } const all[] = {
    { "MESSAGES", ST_MESSAGES }, { "RECENT", ST_RECENT }, { "UIDNEXT", ST_UIDNEXT },
    { "UIDVALIDITY", ST_UIDVALIDITY }, { "UNSEEN", ST_UNSEEN }, { "DELETED", ST_DELETED }, { "SIZE", ST_SIZE },
    { "HIGHESTMODSEQ", ST_HIGHESTMODSEQ } };
  *items = 0;
  if (!imap_char(c, '(')) return 0;
  while (!imap_char(c, ')'))
  {
    unsigned i;
    w.len = 0;
    if (*items && !imap_sp(c)) { stralloc_free(&w); return 0; }
    if (!imap_atom(c, &w) || !stralloc_0(&w)) { stralloc_free(&w); return 0; }
    for (i = 0; i < sizeof all / sizeof all[0]; i++)
      if (!strcasecmp(w.s, all[i].name)) { *items |= all[i].bit; break; }
    if (i == sizeof all / sizeof all[0]) { stralloc_free(&w); return 0; }
  }
  stralloc_free(&w);
  return *items != 0;
}

static void status_out(session *s, char const *name, unsigned items)
{
  mailbox b;
  size_t n, recent = 0, unseen = 0, deleted = 0;
  uint64_t size = 0;
  int first = 1;
  memset(&b, 0, sizeof b);
  b.track_modseq = (items & ST_HIGHESTMODSEQ) != 0;
  if (b.track_modseq) s->cond = 1;   /* a CONDSTORE-enabling command */
  if (mailbox_open(&b, name, 1) <= 0) { mailbox_free_msgs(&b); modseq_free(&b.modlog); return; }
  n = genalloc_len(msg, &b.msgs);
  for (size_t i = 0; i < n; i++)
  {
    msg *m = genalloc_s(msg, &b.msgs) + i;
    if (m->flags & FL_RECENT) recent++;
    if (!(m->flags & FL_SEEN)) unseen++;
    if (m->flags & FL_DELETED) deleted++;
    if (items & ST_SIZE) { msg_size(&b, m); size += m->size; }
  }
  out("* STATUS "); out_name(b.name.s); out(" (");
#define ITEM(bit, label, v) if (items & bit) { if (!first) out(" "); out(label " "); outu(v); first = 0; }
  ITEM(ST_MESSAGES, "MESSAGES", n)
  ITEM(ST_RECENT, "RECENT", recent)
  ITEM(ST_UIDNEXT, "UIDNEXT", b.uidnext)
  ITEM(ST_UIDVALIDITY, "UIDVALIDITY", b.uidvalidity)
  ITEM(ST_UNSEEN, "UNSEEN", unseen)
  ITEM(ST_DELETED, "DELETED", deleted)
  ITEM(ST_SIZE, "SIZE", size)
  ITEM(ST_HIGHESTMODSEQ, "HIGHESTMODSEQ", mailbox_highestmodseq(&b))
#undef ITEM
  out(")\r\n");
  mailbox_free_msgs(&b);
  genalloc_free(msg, &b.msgs);
  imap_cache_free(&b.cache);
  modseq_free(&b.modlog);
  stralloc_free(&b.name); stralloc_free(&b.dir); stralloc_free(&b.keywords);
}

void cmd_status(session *s, imap_cursor *c, char const *tag)
{
  stralloc name = STRALLOC_ZERO, dir = STRALLOC_ZERO;
  unsigned items;
  if (mailbox_arg(c, tag, &name, &dir, "Syntax: STATUS mailbox (items)") <= 0) goto end;
  if (!imap_sp(c) || !status_items(c, &items)) { reply_bad(tag, "Syntax: STATUS mailbox (items)"); goto end; }
  if (!folder_exists(dir.s)) { reply_no(tag, "[NONEXISTENT] No such mailbox"); goto end; }
  status_out(s, name.s, items);
  reply_ok(tag, "Status completed");
 end:
  stralloc_free(&name); stralloc_free(&dir);
}
