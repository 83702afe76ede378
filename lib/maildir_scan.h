/* maildir_scan: listing the messages of one Maildir folder (new/ and cur/).
 *
 * A message is known by its base name, the file name up to ':' (what
 * follows, ":2,FLAGS", changes when flags change; the base never does, not
 * even when the file moves from new/ to cur/). Files whose names start with
 * '.' are not messages. The list owns its storage: free it with
 * maildir_scan_free, also after a failure. Functions return 0, or -1 with
 * errno set. */
#ifndef VMAIL_MAILDIR_SCAN_H
#define VMAIL_MAILDIR_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#define MAILDIR_SCAN_MAX 1000000   /* messages per folder: more fails with E2BIG */

typedef struct maildir_entry_s
{
  size_t path;       /* offset in names of "new/NAME" or "cur/NAME", NUL-terminated */
  size_t baselen;    /* length of the base name (it starts at path + 4) */
  uint64_t stored;   /* size of the file: from ",S=" in the name, else fstatat */
} maildir_entry;

typedef struct maildir_list_s
{
  stralloc names;
  genalloc entries;  /* maildir_entry, by base name, digit runs as numbers
                        (so by delivery time: seconds, microseconds, pid...) */
} maildir_list;
#define MAILDIR_LIST_ZERO { STRALLOC_ZERO, GENALLOC_ZERO }

/* Lists dir's new/ and cur/ into list (replacing its contents). A base name
 * present in both (a crash between link and unlink) is listed once, cur/. */
int maildir_scan(char const *dir, maildir_list *list);

/* Orders base names (alen and blen bytes) by delivery: runs of digits
 * compare as numbers, the rest byte by byte; names equal as numbers but not
 * as bytes (M05, M5) then by their bytes, so only the same name is equal.
 * <0, 0 or >0, as memcmp. The order of maildir_scan's list. */
int maildir_base_cmp(char const *a, size_t alen, char const *b, size_t blen);

/* A size recorded in a Maildir name: the value of ",S=" (key 'S': the file's
 * size) or ",W=" (key 'W': the size with CRLF line ends, as Dovecot writes
 * it) in the base name. 1 found, 0 absent or malformed. */
int maildir_name_size(char const *name, size_t baselen, char key, uint64_t *size);

/* Base name length of a file name (up to ':' or the end). */
size_t maildir_name_baselen(char const *name);

/* Finds the current name of the message with base name base (len bytes) in
 * dir's cur/ then new/ (it may have moved or changed flags since a scan):
 * writes "cur/NAME" or "new/NAME", NUL-terminated, to path. 1 found, 0 not
 * found, -1 error. */
int maildir_find(char const *dir, char const *base, size_t len, stralloc *path);

void maildir_scan_free(maildir_list *list);

#endif
