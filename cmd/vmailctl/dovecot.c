/* dovecot.c: vmailctl dovecot-uidlist DIR...: before Dovecot serves a
 * Maildir folder again (vmailctl migrate --rollback), its dovecot-uidlist
 * is rewritten so that IMAP and POP3 clients see what vmail showed them:
 *  - UIDs: vmail's (its vmail-uidlist, else the old list's), the same
 *    UIDVALIDITY, and for mail neither numbered the next UIDs; the next
 *    UID is above any either gave, so Dovecot never reuses one a client
 *    has seen;
 *  - POP3 UIDLs: the old list's P values; for a message the old list did
 *    not have, vmail-pop3d served its base name, so P is that name (else
 *    Dovecot would serve its pop3_uidl_format and clients would fetch the
 *    mail again); messages the old list had without P keep the format;
 *  - the old list's mailbox GUID.
 * A folder with no list and no mail is left as it is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "dovecot_uidlist.h"
#include "maildir_scan.h"
#include "pop3_uidl.h"
#include "uidlist.h"
#include "vmailctl.h"

#define USAGE "vmailctl dovecot-uidlist maildir-folder..."
#define GUID_MAX 64   /* a Dovecot mailbox GUID: 32 hex digits */

static void put(char const *s)
{
  if (buffer_puts(buffer_1, s) < 0) strerr_diefu1sys(CTL_TEMP, "write to stdout");
}

static void put_u32(uint32_t u)
{
  char num[UINT32_FMT];
  num[uint32_fmt(num, u)] = 0;
  put(num);
}

/* the old list's entries by name, for their P values */
typedef struct { char const *name, *uidl; } old_entry;

static int by_name(void const *a, void const *b)
{
  return strcmp(((old_entry const *)a)->name, ((old_entry const *)b)->name);
}

/* G of the old list's header (a version 3 list), into guid; 0 if none. */
static char const *old_guid(char const *dir, char *guid)
{
  stralloc path = STRALLOC_ZERO, text = STRALLOC_ZERO;
  char const *g = 0;
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" DOVECOT_UIDLIST_NAME) || !stralloc_0(&path))
    strerr_diefu1sys(CTL_TEMP, "allocate");
  if (openreadfileclose(path.s, &text, DOVECOT_UIDLIST_FILE_MAX) && text.len > 2 && text.s[0] == '3')
  {
    size_t end = 0;
    while (end < text.len && text.s[end] != '\n') end++;
    for (size_t i = 1; i + 1 < end; i++)
      if (text.s[i] == ' ' && text.s[i+1] == 'G')
      {
        size_t n = 0;
        while (i + 2 + n < end && text.s[i+2+n] != ' ' && n < GUID_MAX) n++;
        if (n && n < GUID_MAX) { memcpy(guid, text.s + i + 2, n); guid[n] = 0; g = guid; }
        break;
      }
  }
  stralloc_free(&path); stralloc_free(&text);
  return g;
}

/* names sorted for bsearch: old_entry with uidl unused where not needed */
static old_entry *find(old_entry *index, size_t n, char const *name)
{
  old_entry key = { name, 0 };
  return n ? bsearch(&key, index, n, sizeof *index, by_name) : 0;
}

static void add(dovecot_uidlist *out, char const *name, size_t len, uint32_t uid, char const *uidl, size_t uidllen)
{
  if (!stralloc_catb(&out->names, name, len) || !stralloc_0(&out->names)
      || !stralloc_catb(&out->uids, (char const *)&uid, sizeof uid)
      || !stralloc_catb(&out->pop3_uidls, uidl, uidllen) || !stralloc_0(&out->pop3_uidls))
    strerr_diefu1sys(CTL_TEMP, "allocate");
}

/* Sorted index of a list's names (and P values when uidls is not 0). */
static old_entry *index_of(stralloc const *names, stralloc const *uidls, size_t count, size_t *n)
{
  old_entry *ix = malloc((count ? count : 1) * sizeof *ix);
  size_t pos = 0, upos = 0;
  if (!ix) strerr_diefu1sys(CTL_TEMP, "allocate");
  for (*n = 0; *n < count && pos < names->len; (*n)++)
  {
    ix[*n].name = names->s + pos; pos += strlen(ix[*n].name) + 1;
    ix[*n].uidl = "";
    if (uidls && upos < uidls->len) { ix[*n].uidl = uidls->s + upos; upos += strlen(ix[*n].uidl) + 1; }
  }
  qsort(ix, *n, sizeof *ix, by_name);
  return ix;
}

static void one(char const *dir)
{
  stralloc path = STRALLOC_ZERO, text = STRALLOC_ZERO, base = STRALLOC_ZERO;
  uidlist u = UIDLIST_ZERO;
  dovecot_uidlist old = DOVECOT_UIDLIST_ZERO, out = DOVECOT_UIDLIST_ZERO;
  maildir_list mail = MAILDIR_LIST_ZERO;
  old_entry *oldix = 0, *outix;
  size_t nold = 0, nout, n, pos = 0;
  char guidbuf[GUID_MAX + 1];
  char const *guid;
  int r, have_vmail;
  maildir_entry const *e;

  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" UIDLIST_NAME) || !stralloc_0(&path))
    strerr_diefu1sys(CTL_TEMP, "allocate");
  have_vmail = openreadfileclose(path.s, &text, UIDLIST_FILE_MAX);
  if (!have_vmail && errno != ENOENT) strerr_diefu2sys(CTL_TEMP, "read ", path.s);
  if (have_vmail)
  {
    r = uidlist_parse(text.s, text.len, &u);
    if (r < 0) strerr_diefu1sys(CTL_TEMP, "allocate");
    if (!r) strerr_dief2x(CTL_REFUSED, "malformed ", path.s);
  }
  r = dovecot_uidlist_read(dir, &old);
  if (r < 0 && errno != EPROTO && errno != EFBIG) strerr_diefu3sys(CTL_TEMP, "read ", dir, "/" DOVECOT_UIDLIST_NAME);
  if (r <= 0) { dovecot_uidlist_free(&old); old = (dovecot_uidlist)DOVECOT_UIDLIST_ZERO; }
  if (maildir_scan(dir, &mail) < 0) strerr_diefu2sys(CTL_TEMP, "list the Maildir ", dir);
  e = genalloc_s(maildir_entry, &mail.entries);
  n = genalloc_len(maildir_entry, &mail.entries);
  if (!have_vmail && r <= 0 && !n)
  {
    put(dir); put(": no mail, left as it is\n");
    goto end;
  }
  guid = r > 0 ? old_guid(dir, guidbuf) : 0;
  if (r > 0) oldix = index_of(&old.names, &old.pop3_uidls, old.uids.len / sizeof(uint32_t), &nold);

  /* the UIDs clients saw: vmail's, else Dovecot's */
  if (have_vmail)
  {
    out.uidvalidity = u.uidvalidity;
    out.nextuid = u.nextuid;
    if (r > 0 && old.uidvalidity == u.uidvalidity && old.nextuid > out.nextuid) out.nextuid = old.nextuid;
  }
  else if (r > 0) { out.uidvalidity = old.uidvalidity; out.nextuid = old.nextuid; }
  else { out.uidvalidity = (uint32_t)time(0); out.nextuid = 1; }
  {
    stralloc const *names = have_vmail ? &u.names : &old.names;
    stralloc const *uids = have_vmail ? &u.uids : &old.uids;
    size_t count = uids->len / sizeof(uint32_t);
    for (size_t k = 0; k < count && pos < names->len; k++)
    {
      char const *name = names->s + pos;
      size_t len = strlen(name);
      uint32_t uid;
      old_entry *hit = find(oldix, nold, name);
      memcpy(&uid, uids->s + k * sizeof uid, sizeof uid);
      /* the UIDL vmail-pop3d served: P, Dovecot's format, or the base name */
      if (hit) add(&out, name, len, uid, hit->uidl, strlen(hit->uidl));
      else add(&out, name, len, uid, name, pop3_uidl_fit(name, len) ? len : 0);
      pos += len + 1;
    }
  }
  /* mail no list numbered yet, in delivery order */
  outix = index_of(&out.names, 0, out.uids.len / sizeof(uint32_t), &nout);
  for (size_t i = 0; i < n; i++)
  {
    char const *name = mail.names.s + e[i].path + 4;
    base.len = 0;
    if (!stralloc_catb(&base, name, e[i].baselen) || !stralloc_0(&base)) strerr_diefu1sys(CTL_TEMP, "allocate");
    if (find(outix, nout, base.s)) continue;
    if (!out.nextuid) strerr_dief2x(CTL_REFUSED, "no UIDs left in ", dir);
    add(&out, base.s, e[i].baselen, out.nextuid++, base.s, pop3_uidl_fit(base.s, e[i].baselen) ? e[i].baselen : 0);
  }
  free(outix);
  if (dovecot_uidlist_write(dir, &out, guid) < 0)
  {
    if (errno == EEXIST) strerr_dief3x(CTL_TEMP, dir, "/" DOVECOT_UIDLIST_NAME ".lock exists", ": is Dovecot running?");
    strerr_diefu3sys(CTL_TEMP, "write ", dir, "/" DOVECOT_UIDLIST_NAME);
  }
  put(dir); put(": "); put_u32((uint32_t)(out.uids.len / sizeof(uint32_t))); put(" UIDs, UIDVALIDITY ");
  put_u32(out.uidvalidity); put(", next UID "); put_u32(out.nextuid); put("\n");
end:
  free(oldix);
  uidlist_free(&u);
  maildir_scan_free(&mail);
  dovecot_uidlist_free(&old); dovecot_uidlist_free(&out);
  stralloc_free(&path); stralloc_free(&text); stralloc_free(&base);
}

int ctl_dovecot_uidlist(int argc, char const *const *argv)
{
  if (argc < 2) strerr_dieusage(CTL_USAGE, USAGE);
  for (int i = 1; i < argc; i++) one(argv[i]);
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(CTL_TEMP, "write to stdout");
  return 0;
}
