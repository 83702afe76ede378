/* modseq: a folder's modification sequences (CONDSTORE and QRESYNC, RFC
 * 7162): every message's mod-sequence, the folder's highest, and the
 * mod-sequence at which each expunged UID went.
 *
 * Flags live in Maildir file names, which any program may rename, so the
 * mod-sequences are not kept beside them but derived: a session compares
 * what it scans with the state recorded in the folder's MODSEQ_NAME and
 * records every difference under a new mod-sequence. The file is a log,
 * appended under the folder's lock (uidlist_lock), one line per event:
 *     V1 <uidvalidity>                first line
 *     M <modseq> <uid> <letters>      the message's flags from now on
 *     X <modseq> <uid>                the message is expunged
 *     H <modseq>                      the highest mod-sequence given so far
 *     F <modseq>                      expunges up to this one are forgotten
 * A last line without its newline is a write a crash cut short: never
 * applied, and cut off before the next append.
 * (H and F come from a compaction, which rewrites the log when it has grown
 * far beyond the folder; it keeps MODSEQ_GONE_KEEP expunges.) Letters are
 * the Maildir info letters DFRST and the keyword letters a..z; as a mask,
 * bit 0 S, 1 R, 2 F, 3 T, 4 D and bit 5 + i keyword letter 'a' + i.
 * A log of another UIDVALIDITY is started over. Mod-sequences only grow. A
 * new log starts above any mod-sequence the folder had before (at the time
 * shifted by MODSEQ_TIME_SHIFT), with earlier expunges forgotten (F), so a
 * client that knew the folder under Dovecot, or under a log since removed,
 * resynchronises fully instead of believing itself current.
 *
 * The log owns its storage (modseq_free). Functions return 1 ok, 0 as
 * stated, -1 error with errno. */
#ifndef VMAIL_MODSEQ_H
#define VMAIL_MODSEQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#define MODSEQ_NAME "vmail-modseq"
#define MODSEQ_FILE_MAX (256UL << 20)    /* a bigger log is started over */
#define MODSEQ_GONE_KEEP 100000          /* expunges a compaction keeps */
#define MODSEQ_TIME_SHIFT 20             /* a new log starts at time << 20 */

typedef struct modseq_entry_s { uint32_t uid; uint32_t mask; uint64_t modseq; } modseq_entry;
typedef struct modseq_gone_s { uint32_t uid; uint64_t modseq; } modseq_gone;

typedef struct modseq_log_s {
  uint32_t uidvalidity;
  uint64_t highest;     /* 0 before anything happened */
  uint64_t floor;       /* expunges at or below are forgotten */
  genalloc live;        /* modseq_entry, by uid */
  genalloc gone;        /* modseq_gone, in mod-sequence order */
  stralloc pending;     /* lines not yet written */
  uint64_t pos;         /* bytes of the file read */
  dev_t dev;
  ino_t ino;
  uint64_t lines;       /* lines in the file, for compaction */
} modseq_log;
#define MODSEQ_LOG_ZERO { 0, 0, 0, GENALLOC_ZERO, GENALLOC_ZERO, STRALLOC_ZERO, 0, 0, 0, 0 }

/* Letters ("FS", "Sab") <-> mask; unknown letters are ignored. */
uint32_t modseq_mask(char const *letters, size_t len);
void modseq_letters(uint32_t mask, char out[32]);   /* NUL-terminated */

/* Applies the complete lines of text[len] (a log, or what follows the part
 * already applied, whose first line is the V1 header when l->pos is 0) and
 * sets *used to the bytes consumed; malformed lines are skipped. 0 if the
 * header names another UIDVALIDITY than l's (nothing applied), -1 no memory. */
int modseq_parse(modseq_log *l, char const *text, size_t len, size_t *used);

/* Brings l up to date with dir's log (for uidvalidity), from where it was,
 * or from the start if the file was replaced; a log of another uidvalidity
 * is treated as empty (modseq_write replaces it). Call under the lock. */
int modseq_read(modseq_log *l, char const *dir, uint32_t uidvalidity);

/* Records that uid now has flags mask: a new mod-sequence (and a pending
 * line) if that differs from what l knows; returns the message's
 * mod-sequence. */
uint64_t modseq_set(modseq_log *l, uint32_t uid, uint32_t mask);

/* Records that uid is expunged (if l knows it). */
void modseq_expunge(modseq_log *l, uint32_t uid);

/* The mod-sequence of uid, 0 if unknown. */
uint64_t modseq_of(modseq_log const *l, uint32_t uid);

/* Appends the pending lines to dir's log (fsynced), creating it or
 * starting it over when needed, and compacts it when it has grown past
 * several times the folder. Call under the lock. */
int modseq_write(modseq_log *l, char const *dir);

void modseq_free(modseq_log *l);

#endif
