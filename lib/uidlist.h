/* uidlist: vmail's per-folder IMAP UID list (RFC 3501 2.3.1.1), and the
 * boundary of what is \Recent (RFC 3501 2.3.2).
 *
 * Each Maildir folder keeps a file UIDLIST_NAME, a log appended under the
 * folder's lock (uidlist_lock), one record a line:
 *     V1 <uidvalidity> <nextuid>  the header (first line)
 *     <uid> <base name>           a message numbered; UIDs ascending
 *     R <uid>                     UIDs below were seen as recent by a session
 * where the base name is the Maildir file name up to ':' (flags change the
 * rest, never the base). The next UID is above the header's and above every
 * UID in the file: a UID is never reused. Without an R record, UIDs from the
 * header's next UID on are recent. A message keeps its UID for as long as
 * its file exists; the lines of messages gone stay until a compaction
 * rewrites the file (temporary file, fsync, rename, directory fsync) with
 * what is live. A last line without its newline is a write a crash cut
 * short: ignored on reading, cut off before the next append, so a torn
 * record never costs the list. Appends are fsynced before the caller tells
 * anyone the UIDs they give.
 * When the file is absent, an existing dovecot-uidlist is imported
 * (lib/dovecot_uidlist.h) so clients migrating from Dovecot keep their UIDs
 * and UIDVALIDITY.
 * The list owns its storage (free with uidlist_free, also after failures).
 * Functions return 1 ok, 0 malformed/absent as stated, -1 error with errno. */
#ifndef VMAIL_UIDLIST_H
#define VMAIL_UIDLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>

#define UIDLIST_NAME "vmail-uidlist"
#define UIDLIST_LOCK_NAME "vmail-uidlist.lock"
#define UIDLIST_VALIDITY_NAME "vmail-uidvalidity"   /* in the Maildir: the last UIDVALIDITY given */
#define UIDLIST_FILE_MAX (64UL << 20)   /* far above a million messages */
#define UIDLIST_BASE_MAX 255            /* a base name is a file name: NAME_MAX */
#define UIDLIST_DEAD_SLACK 1000         /* lines of messages gone beyond the live ones before a compaction */

typedef struct uidlist_s {
  uint32_t uidvalidity;
  uint32_t nextuid;
  uint32_t firstrecent; /* UIDs from here on are recent for the next session that claims them */
  stralloc names;       /* base names, each NUL-terminated, in UID order */
  stralloc uids;        /* uint32_t per name, same order */
  size_t fresh;         /* entries before this one were known before the last uidlist_read */
  size_t fresh_pos;     /* where entry fresh's name starts in names */
  stralloc pending;     /* records not yet written */
  int rewrite;          /* the file must be written whole (new, imported, damaged, compacted) */
  uint32_t head_next;   /* the header's nextuid: the same file, not one that reused its inode */
  uint64_t pos;         /* bytes of the file applied */
  dev_t dev;
  ino_t ino;
} uidlist;
#define UIDLIST_ZERO { 0, 0, 0, STRALLOC_ZERO, STRALLOC_ZERO, 0, 0, STRALLOC_ZERO, 0, 0, 0, 0, 0 }

/* Number of entries. */
size_t uidlist_count(uidlist const *u);

/* Parses the text of a vmail-uidlist (a last line without its newline is
 * ignored). 1 ok, 0 malformed (UIDs not ascending, bad names or
 * records), -1 out of memory. */
int uidlist_parse(char const *text, size_t len, uidlist *u);

/* Brings u up to date with dir's list, reading only what was appended since
 * the last call on u (all of it the first time, or when another session
 * rewrote it); entries from u->fresh on are the ones it added. Absent: the
 * dovecot-uidlist imported, else an empty list with a fresh UIDVALIDITY and
 * nextuid 1. A fresh UIDVALIDITY is the time, but above any given before in
 * the same Maildir (kept in its UIDLIST_VALIDITY_NAME), so a folder created
 * again never gets its old one. A malformed list counts as absent (fresh:
 * its UIDs are lost, clients start over). In those cases u->rewrite is set
 * (the caller must write it, or the next read invents another
 * UIDVALIDITY). Call under the lock. 1 ok, -1 error (unreadable file). */
int uidlist_read(char const *dir, uidlist *u);

/* Appends an entry with the next UID (and its pending record); returns
 * that UID, 0 on error. */
uint32_t uidlist_add(uidlist *u, char const *base, size_t len);

/* Records that every UID below upto has been seen as recent. */
int uidlist_claim_recent(uidlist *u, uint32_t upto);

/* Starts u over as a copy of from's header (for a compaction: the caller
 * adds the live entries back with uidlist_keep); it is written whole. */
void uidlist_restart(uidlist *u, uidlist const *from);
/* Appends an entry with its known UID (above the last); 1 ok, -1 no memory. */
int uidlist_keep(uidlist *u, uint32_t uid, char const *base, size_t len);

/* Writes the pending records to dir's list: appended and fsynced, or, when
 * u->rewrite, the whole list atomically. Call under the lock, after
 * uidlist_read. Nothing pending: nothing done. */
int uidlist_write(char const *dir, uidlist *u);

/* Takes dir's exclusive lock (blocking); returns the fd to close, or -1. */
int uidlist_lock(char const *dir);

void uidlist_free(uidlist *u);

#endif
