/* pop3_sizes: the per-Maildir cache of message sizes as POP3 sends them.
 *
 * STAT and LIST must report the octets RETR will send (CRLF line ends), and
 * a Maildir name's ",S=" gives only the stored size, whose line ends may be
 * bare LF. Counting the line ends means reading the message, so the count
 * is kept in the Maildir's POP3_SIZES_NAME, one line per message:
 *     <base name> <stored size> <size as sent>
 * sorted by base name. A Maildir message never changes, so the base name
 * is a sufficient key; the stored size guards against a reused name. The
 * file is a cache: written by vmail-pop3d (under its mailbox lock, through a
 * temporary file and rename), ignored whole if malformed, rebuilt as
 * needed. The cache owns its storage: free with pop3_sizes_free.
 * Functions return 1 ok, 0 as stated, -1 error with errno set. */
#ifndef VMAIL_POP3_SIZES_H
#define VMAIL_POP3_SIZES_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#define POP3_SIZES_NAME "vmail-pop3-sizes"
#define POP3_SIZES_FILE_MAX (64UL << 20)   /* about a million messages */
#define POP3_SIZES_BASE_MAX 255            /* a base name is a file name: NAME_MAX */

typedef struct pop3_size_entry_s
{
  size_t base;        /* offset of the base name in names, NUL-terminated */
  size_t baselen;
  uint64_t stored;
  uint64_t sent;
} pop3_size_entry;

typedef struct pop3_sizes_s
{
  stralloc names;
  genalloc entries;   /* pop3_size_entry, ascending by base name */
} pop3_sizes;
#define POP3_SIZES_ZERO { STRALLOC_ZERO, GENALLOC_ZERO }

/* Parses the cache's text. 1 ok, 0 malformed (or out of memory). */
int pop3_sizes_parse(char const *text, size_t len, pop3_sizes *c);

/* Reads dir's cache. 1 read, 0 absent, -1 error or malformed. */
int pop3_sizes_read(char const *dir, pop3_sizes *c);

/* The size as sent of base (len bytes) if cached with this stored size: 1
 * found (in *sent), 0 not. A binary search. */
int pop3_sizes_find(pop3_sizes const *c, char const *base, size_t len, uint64_t stored, uint64_t *sent);

/* Appends a cache line for one message to text (build it in base name
 * order, then write it with pop3_sizes_write). 1 ok, 0 out of memory. */
int pop3_sizes_line(stralloc *text, char const *base, size_t len, uint64_t stored, uint64_t sent);

/* Replaces dir's cache with text: a temporary file, then rename. 1 ok, -1. */
int pop3_sizes_write(char const *dir, char const *text, size_t len);

void pop3_sizes_free(pop3_sizes *c);

#endif
