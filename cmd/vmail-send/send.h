/* vmail-send's parts: the queue runner (main.c) and the bounce writer (dsn.c). */
#ifndef VMAIL_SEND_H
#define VMAIL_SEND_H

#include <time.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>

#include "envelope.h"
#include "queue.h"

/* per-recipient states in struct msg.st */
#define RCPT_WAITING  0   /* to try in this round */
#define RCPT_RUNNING  1   /* a delivery runs */
#define RCPT_FINAL    2   /* delivered, or failed and reported: in the journal */
#define RCPT_DEFERRED 3   /* tried in this round, failed temporarily */
#define RCPT_FAILED   4   /* failed for good, in the journal; not yet in a bounce */

struct msg
{
  char id[QUEUE_ID_LEN + 1];
  stralloc env;               /* the envelope file; e points into it */
  struct envelope e;
  char const **rcpt;          /* e.nrcpt recipients */
  unsigned char *st;          /* e.nrcpt RCPT_* */
  unsigned int running;
  unsigned int tries;         /* rounds that ended with a deferral */
  time_t next;                /* start of the next round */
  int gone;                   /* dequeued by someone else: forget when idle */
  int warned;                 /* the delay warning is sent (a W line) */
};

/* Injects a delivery status notification (RFC 3464) for the recipients of m
 * in RCPT_FAILED, with the reasons of their B lines, through vmail-queue;
 * then journals an R line for each (fsynced) and makes them RCPT_FINAL.
 * 0 done (or nothing to report), -1 temporary failure: try again later.
 * Logs one line. */
int dsn_send(char const *dir, struct msg *m);

/* Warns the sender (not a null one) that the recipients of m in
 * RCPT_DEFERRED are not delivered yet (Action: delayed, with their last
 * error), then journals a W line (fsynced) so that it happens once.
 * 0 done, -1 temporary failure. Logs one line. */
int dsn_delay(char const *dir, struct msg *m);

/* remote.c: forks and execs prog (vmail-remote) for domain and the n
 * recipients group[] of m, with the message on msgfd, its results to
 * outfd and its log to errfd. The pid, or -1 with errno. */
pid_t remote_start(char const *prog, struct msg const *m, char const *domain, unsigned int const *group,
                   unsigned int n, int msgfd, int outfd, int errfd);

/* Turns vmail-remote's output (out, len bytes) and exit status into one
 * result(m, r, code, detail) per recipient of group: code 0 delivered, 100
 * failed for good, 111 to retry (also when its line is missing). */
void remote_results(char const *out, size_t len, struct msg *m, unsigned int const *group, unsigned int n,
                    int wstat, char const *prog, void (*result)(struct msg *, unsigned int, int, char *));

#endif
