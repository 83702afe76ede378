/* dovecot.c: vmailctl dovecot-uidlist DIR...: before Dovecot serves a
 * Maildir folder again (vmailctl migrate --rollback), its dovecot-uidlist
 * is rewritten from vmail's vmail-uidlist: the same UIDVALIDITY, every UID
 * vmail gave, a next UID above any either gave, and the POP3 UIDLs and
 * mailbox GUID the old list had. Dovecot then numbers new mail after
 * vmail's, never reusing a UID a client has seen. A folder vmail's IMAP
 * server never opened (no vmail-uidlist) is left as it is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "dovecot_uidlist.h"
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

static void one(char const *dir)
{
  stralloc path = STRALLOC_ZERO, text = STRALLOC_ZERO;
  uidlist u = UIDLIST_ZERO;
  dovecot_uidlist old = DOVECOT_UIDLIST_ZERO, out = DOVECOT_UIDLIST_ZERO;
  old_entry *index = 0;
  size_t nold = 0, pos = 0, upos = 0, n;
  char guidbuf[GUID_MAX + 1];
  char const *guid;
  int r;
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/" UIDLIST_NAME) || !stralloc_0(&path))
    strerr_diefu1sys(CTL_TEMP, "allocate");
  if (!openreadfileclose(path.s, &text, UIDLIST_FILE_MAX))
  {
    if (errno != ENOENT) strerr_diefu2sys(CTL_TEMP, "read ", path.s);
    put(dir); put(": no " UIDLIST_NAME ", left as it is\n");
    stralloc_free(&path);
    return;
  }
  r = uidlist_parse(text.s, text.len, &u);
  if (r < 0) strerr_diefu1sys(CTL_TEMP, "allocate");
  if (!r) strerr_dief2x(CTL_REFUSED, "malformed ", path.s);
  r = dovecot_uidlist_read(dir, &old);
  if (r < 0 && errno != EPROTO && errno != EFBIG) strerr_diefu3sys(CTL_TEMP, "read ", dir, "/" DOVECOT_UIDLIST_NAME);
  guid = r > 0 ? old_guid(dir, guidbuf) : 0;

  /* the old P values, by name */
  if (r > 0)
  {
    n = old.uids.len / sizeof(uint32_t);
    index = malloc((n ? n : 1) * sizeof *index);
    if (!index) strerr_diefu1sys(CTL_TEMP, "allocate");
    for (; nold < n && pos < old.names.len && upos < old.pop3_uidls.len; nold++)
    {
      index[nold].name = old.names.s + pos; index[nold].uidl = old.pop3_uidls.s + upos;
      pos += strlen(index[nold].name) + 1; upos += strlen(index[nold].uidl) + 1;
    }
    qsort(index, nold, sizeof *index, by_name);
  }

  out.uidvalidity = u.uidvalidity;
  out.nextuid = u.nextuid;
  /* the same mailbox for Dovecot: never a UID it gave before */
  if (r > 0 && old.uidvalidity == u.uidvalidity && old.nextuid > out.nextuid) out.nextuid = old.nextuid;
  n = uidlist_count(&u);
  pos = 0;
  for (size_t k = 0; k < n; k++)
  {
    old_entry key = { u.names.s + pos, 0 }, *hit;
    size_t len = strlen(key.name);
    hit = nold ? bsearch(&key, index, nold, sizeof *index, by_name) : 0;
    if (!stralloc_catb(&out.names, key.name, len + 1)
        || !stralloc_catb(&out.uids, u.uids.s + k * sizeof(uint32_t), sizeof(uint32_t))
        || !stralloc_cats(&out.pop3_uidls, hit ? hit->uidl : "") || !stralloc_0(&out.pop3_uidls))
      strerr_diefu1sys(CTL_TEMP, "allocate");
    pos += len + 1;
  }
  if (dovecot_uidlist_write(dir, &out, guid) < 0)
  {
    if (errno == EEXIST) strerr_dief3x(CTL_TEMP, dir, "/" DOVECOT_UIDLIST_NAME ".lock exists", ": is Dovecot running?");
    strerr_diefu3sys(CTL_TEMP, "write ", dir, "/" DOVECOT_UIDLIST_NAME);
  }
  put(dir); put(": "); put_u32((uint32_t)n); put(" UIDs, UIDVALIDITY "); put_u32(out.uidvalidity);
  put(", next UID "); put_u32(out.nextuid); put("\n");
  free(index);
  uidlist_free(&u);
  dovecot_uidlist_free(&old); dovecot_uidlist_free(&out);
  stralloc_free(&path); stralloc_free(&text);
}

int ctl_dovecot_uidlist(int argc, char const *const *argv)
{
  if (argc < 2) strerr_dieusage(CTL_USAGE, USAGE);
  for (int i = 1; i < argc; i++) one(argv[i]);
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(CTL_TEMP, "write to stdout");
  return 0;
}
