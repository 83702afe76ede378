/* maildir: creating Maildirs and storing messages in them, safely.
 *
 * Storing follows the Maildir rules: a unique name
 * (SECONDS.MUSECSPPIDQCOUNTER.HOST,S=SIZE,W=CRLFSIZE: the stored size and,
 * as Dovecot writes it, the size with every bare LF counted as CRLF, which
 * POP3 and IMAP report), written into tmp/, fsynced,
 * linked into new/ (or cur/ with flags), the directory fsynced, tmp/ name
 * removed. A crash at any moment leaves at worst a file in tmp/, never a
 * partial message in new/ or cur/. A name already taken (in tmp/ or in the
 * destination) is never overwritten: a fresh one is tried, a few times.
 * Functions return 0, or -1 with errno set. */
#ifndef VMAIL_MAILDIR_H
#define VMAIL_MAILDIR_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#define MAILDIR_TMP_STALE (36 * 3600)   /* tmp/ files older than this are litter */

/* Creates dir (and missing parents) mode 0700, and its tmp, new and cur.
 * Each directory it creates is fsynced into its parent. Existing ones are
 * left alone, so calling it on a complete Maildir costs four mkdir calls. */
int maildir_make(char const *dir);

/* Stores head (headlen bytes, may be 0) followed by all of fd from offset 0
 * (read with pread, so one fd serves many deliveries); fd -1 stores head
 * alone (a message held in memory). flags == 0 stores into
 * new/; otherwise into cur/ with ":2,"flags (e.g. "S", "" for none).
 * On success, name (if not 0) holds the stored file's path relative to dir,
 * e.g. "new/1700000000.M1P2Q3.host,S=1234,W=1270", NUL-terminated. */
int maildir_store(char const *dir, char const *head, size_t headlen, int fd,
                  char const *flags, stralloc *name);

/* maildir_store without the fsync of the destination directory, for a
 * writer that stores many messages and fsyncs dir/cur (or dir/new) once
 * before it tells anyone they are stored (an IMAP MULTIAPPEND or COPY).
 * Until then a power cut may lose the new name (never leave a partial
 * message). */
int maildir_store_nodirsync(char const *dir, char const *head, size_t headlen, int fd,
                            char const *flags, stralloc *name);

/* Removes files in dir/tmp whose access and modification times are both
 * older than MAILDIR_TMP_STALE. Best effort; looks at a bounded number of
 * entries per call. */
void maildir_clean_tmp(char const *dir);

/* Is errno, after a failed store, a temporary condition (disk full, quota,
 * I/O)? Everything is temporary except a refused path. */
int maildir_error_is_temporary(int e);

#endif
