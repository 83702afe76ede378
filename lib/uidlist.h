/* uidlist: vmail's per-folder IMAP UID list (RFC 3501 2.3.1.1).
 *
 * Each Maildir folder keeps a file UIDLIST_NAME:
 *     V1 <uidvalidity> <nextuid>
 *     <uid> <base name>           one line per message, UIDs ascending
 * where the base name is the Maildir file name up to ':' (flags change the
 * rest, never the base). A message keeps its UID for as long as its file
 * exists; a UID is never reused (nextuid only grows). When the file is
 * absent, an existing dovecot-uidlist is imported (lib/dovecot_uidlist.h) so
 * clients migrating from Dovecot keep their UIDs and UIDVALIDITY.
 * The list owns its storage (free with uidlist_free, also after failures).
 * Functions return 1 ok, 0 malformed/absent as stated, -1 error with errno. */
#ifndef VMAIL_UIDLIST_H
#define VMAIL_UIDLIST_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define UIDLIST_NAME "vmail-uidlist"
#define UIDLIST_LOCK_NAME "vmail-uidlist.lock"
#define UIDLIST_VALIDITY_NAME "vmail-uidvalidity"   /* in the Maildir: the last UIDVALIDITY given */
#define UIDLIST_FILE_MAX (64UL << 20)   /* far above a million messages */
#define UIDLIST_BASE_MAX 255            /* a base name is a file name: NAME_MAX */

typedef struct uidlist_s {
  uint32_t uidvalidity;
  uint32_t nextuid;
  stralloc names;   /* base names, each NUL-terminated, in UID order */
  stralloc uids;    /* uint32_t per name, same order */
} uidlist;
#define UIDLIST_ZERO { 0, 0, STRALLOC_ZERO, STRALLOC_ZERO }

/* Number of entries. */
size_t uidlist_count(uidlist const *u);

/* Parses the text of a vmail-uidlist. 1 ok, 0 malformed (UIDs not
 * ascending, UID >= nextuid, bad names), -1 out of memory. */
int uidlist_parse(char const *text, size_t len, uidlist *u);

/* Loads dir's list: its vmail-uidlist, else its dovecot-uidlist, else an
 * empty list with a fresh UIDVALIDITY and nextuid 1. A fresh UIDVALIDITY is
 * the time, but above any given before in the same Maildir (kept in its
 * UIDLIST_VALIDITY_NAME), so a folder created again never gets its old one.
 * A malformed list counts as absent (a malformed vmail-uidlist: fresh).
 * 1 read from vmail-uidlist; 2 imported or fresh (the caller must write it,
 * or the next load invents another UIDVALIDITY); -1 error (unreadable
 * file, errno set). */
int uidlist_load(char const *dir, uidlist *u);

/* Appends an entry with the next UID; returns that UID, 0 on error. */
uint32_t uidlist_add(uidlist *u, char const *base, size_t len);

/* Writes dir's vmail-uidlist atomically (temporary file, fsync, rename). */
int uidlist_write(char const *dir, uidlist const *u);

/* Takes dir's exclusive lock (blocking); returns the fd to close, or -1. */
int uidlist_lock(char const *dir);

void uidlist_free(uidlist *u);

#endif
