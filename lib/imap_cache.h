/* imap_cache: a per-folder cache of what IMAP FETCH asks of every message
 * (RFC822.SIZE, INTERNALDATE, ENVELOPE, BODY, BODYSTRUCTURE), so listing a
 * big folder does not read and parse every message file again.
 *
 * The file IMAP_CACHE_NAME in the folder is append-only:
 *     V1 <uidvalidity>\n
 *     C <uid> <size> <date> <envlen> <bodylen> <bslen>\n<env><body><bs>\n
 * A message's content never changes while its UID lives, so a record never
 * goes stale; records of other UIDVALIDITYs are ignored. Each record is
 * appended with one write (O_APPEND), so sessions may add records at the
 * same time; reading stops at the first incomplete or malformed record.
 * Duplicates are harmless (the first wins). Records of expunged messages
 * are dropped by imap_cache_compact, which the server runs when they
 * outnumber the live ones. The cache owns its storage. */
#ifndef VMAIL_IMAP_CACHE_H
#define VMAIL_IMAP_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#define IMAP_CACHE_NAME "vmail-imap-cache"
#define IMAP_CACHE_FILE_MAX (512UL << 20)    /* beyond this the cache is not read */
#define IMAP_CACHE_FIELD_MAX (1UL << 20)     /* one ENVELOPE or BODYSTRUCTURE */

typedef struct imap_cache_entry_s imap_cache_entry;
struct imap_cache_entry_s {
  uint32_t uid;
  uint64_t size;       /* RFC822.SIZE */
  int64_t date;        /* INTERNALDATE, seconds */
  size_t env, envlen;  /* ENVELOPE: offset and length in data */
  size_t body, bodylen;
  size_t bs, bslen;    /* BODYSTRUCTURE */
};

typedef struct imap_cache_s imap_cache;
struct imap_cache_s {
  uint32_t uidvalidity;
  stralloc data;       /* the file */
  genalloc entries;    /* imap_cache_entry, sorted by uid, unique */
};
#define IMAP_CACHE_ZERO { 0, STRALLOC_ZERO, GENALLOC_ZERO }

/* Indexes data[len] (taking a copy). Records before the first bad one are
 * kept. 1 ok (also for a file of another uidvalidity: then no entries),
 * -1 out of memory. */
int imap_cache_parse(imap_cache *c, uint32_t uidvalidity, char const *data, size_t len);

/* Reads dir's cache file. 1 ok (missing file: empty), -1 error. */
int imap_cache_load(imap_cache *c, char const *dir, uint32_t uidvalidity);

/* The record for uid, or 0. */
imap_cache_entry const *imap_cache_find(imap_cache const *c, uint32_t uid);

/* Appends one record's text to out (to be written with imap_cache_write). */
int imap_cache_record(stralloc *out, uint32_t uid, uint64_t size, int64_t date,
                      char const *env, size_t envlen, char const *body, size_t bodylen,
                      char const *bs, size_t bslen);

/* Appends records (from imap_cache_record) to dir's cache file, creating it
 * with its V1 line, or starting it over if it belongs to another
 * uidvalidity. 0 ok, -1 error (the cache is only a cache: callers go on). */
int imap_cache_write(char const *dir, uint32_t uidvalidity, char const *records, size_t len);

/* Rewrites dir's cache file with only the records of c whose UID is in
 * keep[n] (ascending) or above its last, so that records of expunged
 * messages do not pile up. Atomic (a temporary file renamed); a record
 * another session appends meanwhile may be lost, which costs a reparse.
 * 0 ok, -1 error. */
int imap_cache_compact(imap_cache const *c, char const *dir, uint32_t const *keep, size_t n);

void imap_cache_free(imap_cache *c);

#endif
