/* dovecot_uidlist: reading Dovecot's per-folder dovecot-uidlist, read-only.
 *
 * Dovecot keeps, in each Maildir folder, the IMAP UID it gave every message,
 * keyed by the message's base name (the file name up to ':'). A mailbox
 * migrated from Dovecot keeps its UIDs (and the POP3 UIDLs derived from them)
 * only if vmail honours that file; vmail's servers read it and never write
 * it. Only a rollback to Dovecot (vmailctl dovecot-uidlist) writes one, from
 * vmail's own UIDs, so that Dovecot continues where vmail left off.
 *
 * Formats understood (Dovecot's src/lib-storage/index/maildir):
 *   version 1  header "1 <uidvalidity> <nextuid>", entries "<uid> <filename>"
 *   version 3  header "3 V<uidvalidity> N<nextuid> [<key><value>]...",
 *              entries "<uid> [<key><value> ]...:<filename>"
 * Of the entry extensions only P is kept: the POP3 UIDL Dovecot serves for
 * that message instead of its pop3_uidl_format (set by pop3_save_uidl or the
 * pop3-migration plugin; an empty P means the base name).
 * UIDs must be non-zero and strictly ascending (Dovecot treats anything
 * else as a broken file, and so does this parser). The list owns its
 * storage; free it with dovecot_uidlist_free (also after a failed parse). */
#ifndef VMAIL_DOVECOT_UIDLIST_H
#define VMAIL_DOVECOT_UIDLIST_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define DOVECOT_UIDLIST_NAME "dovecot-uidlist"
#define DOVECOT_UIDLIST_FILE_MAX (64UL << 20)  /* larger than any real list: 64 MiB */
#define DOVECOT_UIDLIST_BASE_MAX 255           /* a Maildir name is a file name: NAME_MAX */

typedef struct dovecot_uidlist_s {
  uint32_t uidvalidity;   /* V field of the header */
  uint32_t nextuid;       /* N field */
  stralloc names;         /* base names (the Maildir file name up to ':'), each NUL-terminated, in file order */
  stralloc uids;          /* uint32_t per name, same order (uids.len / sizeof(uint32_t) entries) */
  stralloc pop3_uidls;    /* per name, same order, NUL-terminated: P's value (the base name for an
                             empty P), "" without P */
} dovecot_uidlist;
#define DOVECOT_UIDLIST_ZERO { 0, 0, STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO }

/* Parses the text of a dovecot-uidlist (versions 1 and 3). 1 ok, 0 malformed. Bounded, never crashes. */
int dovecot_uidlist_parse(char const *text, size_t len, dovecot_uidlist *out);

/* Reads dir/dovecot-uidlist. 1 read, 0 no such file, -1 error or malformed (errno set). */
int dovecot_uidlist_read(char const *dir, dovecot_uidlist *out);

/* UID recorded for a base name (len bytes, up to but excluding ':'), 0 if absent.
 * A name listed twice has its later UID (Dovecot keeps the later entry).
 * A linear scan: a caller looking up many names builds its own index. */
uint32_t dovecot_uidlist_find(dovecot_uidlist const *l, char const *base, size_t len);

/* Appends to out the text of a version 3 list holding l: the header
 * "3 V<uidvalidity> N<nextuid>" (and " G<guid>" when guid is not 0), then
 * "<uid> [P<uidl> ]:<name>" per entry, P when its pop3_uidls string is not
 * empty. 1 ok, 0 out of memory. */
int dovecot_uidlist_format(dovecot_uidlist const *l, char const *guid, stralloc *out);

/* Writes that text to dir/dovecot-uidlist as Dovecot itself does: into
 * dir/dovecot-uidlist.lock, created exclusively (EEXIST: a Dovecot holds
 * the lock), fsync'ed, renamed over the list; owned by dir's owner, mode
 * 0600. 1 ok, -1 error (errno set; the lock file is removed). */
int dovecot_uidlist_write(char const *dir, dovecot_uidlist const *l, char const *guid);

void dovecot_uidlist_free(dovecot_uidlist *l);

#endif
