/* queue: the queue directory that vmail-queue fills and vmail-send empties.
 *
 * Layout of VMAIL_QUEUE_DIR (default /var/spool/vmail):
 *   tmp/ID     a message being written by vmail-queue (litter if old)
 *   mess/ID    the message: vmail-queue's Received line, then the input
 *   env/ID     its envelope, qmail-queue format (lib/envelope.h). A message
 *              is queued exactly when env/ID exists: vmail-queue writes it
 *              last (after mess/ID and both directories are fsynced),
 *              vmail-send and vmailctl remove it first.
 *   state/ID   vmail-send's journal for the message, one line per event,
 *              appended with one write(2):
 *                "D N\n"         recipient N (0-based) delivered   (fsynced)
 *                "B N reason\n"  recipient N failed for good        (fsynced)
 *                "R N\n"         recipient N's failure is in a bounce (fsynced)
 *                "Z N reason\n"  recipient N deferred, last error   (not synced)
 *                "W 0\n"         the delay warning is sent          (fsynced)
 *              A last line without its newline (a crash mid-write) is ignored,
 *              and so is a line whose number runs into other bytes (a torn
 *              line with the next one appended to it), so a recipient is final
 *              only once its line is on disk. Z lines are notes for listings:
 *              once the journal holds QUEUE_STATE_NOTES_MAX bytes, no more are
 *              written, so deferrals cannot push the D and B lines past what
 *              a reader takes in (QUEUE_STATE_MAX).
 *   trigger    a named pipe: one byte wakes vmail-send ('n' new mail,
 *              'f' flush: retry every deferred message now)
 * ID: SECONDS.MICROSECONDS.PID, zero-padded to QUEUE_ID_LEN characters, so
 * ids sort by arrival time; vmail-queue creates files with O_EXCL, so an id
 * is unique. Functions return 0 (or a count), or -1 with errno set. */
#ifndef VMAIL_QUEUE_H
#define VMAIL_QUEUE_H

#include <stddef.h>
#include <time.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

#include "envelope.h"

#define QUEUE_DIR_DEFAULT "/var/spool/vmail"
#define QUEUE_ID_LEN 25                   /* 10 + 1 + 6 + 1 + 7 */
#define QUEUE_REASON_MAX 400              /* bytes of a journal reason kept */
#define QUEUE_STATE_NOTES_MAX (64 * 1024) /* journal size after which Z lines are dropped */
/* a journal larger than this is not read further: room for the notes and a
 * D or B line per recipient, twice (a crash may repeat one) */
#define QUEUE_STATE_MAX (QUEUE_STATE_NOTES_MAX + 2 * ENVELOPE_RCPT_MAX * (QUEUE_REASON_MAX + 16))
#define QUEUE_LIST_MAX 1000000            /* ids a listing looks at */

/* VMAIL_QUEUE_DIR or QUEUE_DIR_DEFAULT. */
char const *queue_dir(void);

/* Creates dir, its subdirectories and the trigger fifo, where missing. */
int queue_make(char const *dir);

/* Writes a fresh id (QUEUE_ID_LEN characters and a NUL) into id. */
void queue_id_new(char *id);

/* 1 if s has the shape of an id (so it is safe inside a path), else 0. */
int queue_id_ok(char const *s);

/* Seconds since the epoch at which id was made. */
time_t queue_id_time(char const *id);

/* out = dir/sub/id, NUL-terminated (sub may be 0 for dir/id). */
int queue_path(stralloc *out, char const *dir, char const *sub, char const *id);

/* Writes c to dir/trigger without blocking. 0 done; -1 if nobody reads the
 * trigger (errno ENXIO: vmail-send is not running) or it is missing. */
int queue_wake(char const *dir, char c);

/* Reads env/ID into buf and parses it into e (pointers into buf). 0 ok; -1
 * with errno (ENOENT: not queued, EPROTO: a corrupt envelope). */
int queue_envelope(char const *dir, char const *id, stralloc *buf, struct envelope *e);

/* Appends "KIND N reason\n" to state/ID in one write, fsynced if sync. An
 * unsynced line (a note) is not written, and 0 returned, once the journal
 * holds QUEUE_STATE_NOTES_MAX bytes. */
int queue_journal_add(char const *dir, char const *id, char kind, unsigned int n,
                      char const *reason, int sync);

/* Reads state/ID (a missing one is empty) into buf. */
int queue_journal_read(char const *dir, char const *id, stralloc *buf);

/* The next complete journal line at *pos: 1 and kind, n, reason (pointer
 * into buf, length *reasonlen); 0 at the end. */
int queue_journal_next(stralloc const *buf, size_t *pos, char *kind, unsigned int *n,
                       char const **reason, size_t *reasonlen);

/* Dequeues ID: env/ID first, then mess/ID and state/ID. -1 with errno
 * ENOENT if it was not queued. */
int queue_remove(char const *dir, char const *id);

/* Appends the ids under dir/sub to ids, NUL-separated, sorted; returns how
 * many (at most QUEUE_LIST_MAX; 0 if dir/sub does not exist), or -1. */
int queue_ids(char const *dir, char const *sub, stralloc *ids);

/* Runs prog (vmail-queue, or a filter in front of it) with head followed by
 * all of fd from offset 0 (read with pread; fd -1: head alone) on its fd 0,
 * and the envelope env (envlen bytes) on its fd 1, as qmail-queue expects.
 * Returns prog's exit code (0 queued; see vmail-queue(8)), 128 + the signal
 * if it was killed, or -1 with errno if it could not be started (not found,
 * not executable: posix_spawnp reports it). The caller ignores SIGPIPE (a
 * queue program that stops reading is no reason to die). */
int queue_inject(char const *prog, char const *head, size_t headlen, int fd,
                 char const *env, size_t envlen);

/* Writes one line per queued message to b:
 *   ID age=SECONDS from=<SENDER> to=<RCPT>,<RCPT> error="LAST ERROR"
 * listing the recipients still to deliver, then, when more than one of them
 * has a result, one line each with its own last one:
 *     <RCPT> last="LAST ERROR"
 * (two spaces first); returns the number of messages. */
int queue_list(char const *dir, buffer *b);

#endif
