/* queue.c: hands one message to $VMAIL_QUEUE (default vmail-queue) through
 * the qmail-queue interface: the message on the child's fd 0 while it
 * arrives, then the envelope "Fsender\0Trcpt\0...\0" on its fd 1. The child
 * accepts the message only by exiting 0; if we close the envelope pipe
 * without an envelope it must leave nothing behind. With VMAIL_QUEUE unset
 * the child runs vmail-queue's code without an exec.
 * The child is privsep's spawned child: as root, the root partner forks it
 * and it becomes VMAIL_UID before it runs the queue program, while this
 * session, as VMAIL_SMTPD_UID, only holds the pipes' write ends (README,
 * design notes). It runs in a process group of its own; one that has not
 * exited VMAIL_TIMEOUT seconds after its input ended is killed with
 * everything it started (a hung filter chain), and the message is not
 * accepted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>

#include "privilege.h"
#include "privsep.h"
#include "smtpd.h"
#include "../vmail-queue/enqueue.h"

#define QUEUE_BUF 65536   /* message bytes gathered per write to the child */
#define EXIT_SETUP 61     /* qmail-queue's: trouble becoming the mail user */

static pid_t pid;
static int envfd = -1;
static int failed;
static unsigned timeout;
static char msgbuf[QUEUE_BUF];
static buffer msg;

int queue_running(void) { return pid != 0; }

pid_t queue_child(void) { return pid; }

/* The spawned child, on the pipes' read ends: the queue program as the
 * mail user (as root; otherwise as whoever we are). */
static int queue_program(void)
{
  char const *prog = getenv("VMAIL_QUEUE");
  char const *argv[2] = { prog, 0 };
  if (privilege_drop("VMAIL_UID", "VMAIL_GID") < 0)
  {
    strerr_warnw1x(privilege_error());
    return EXIT_SETUP;
  }
  if (!prog || !*prog)
  {
    argv[0] = "vmail-queue";
    prctl(PR_SET_NAME, "vmail-queue");
    return enqueue_main(1, argv);
  }
  execvp(argv[0], (char *const *)argv);
  strerr_warnwu2sys("exec ", argv[0]);
  return 111;
}

void queue_init(void) { privsep_spawner(&queue_program); }

int queue_start(unsigned timeout_seconds)
{
  int w[2];
  timeout = timeout_seconds;
  failed = 0;
  if (!privsep_spawn(w, &pid)) { pid = 0; return 0; }
  ndelay_on(w[0]);
  ndelay_on(w[1]);
  envfd = w[1];
  buffer_init(&msg, &buffer_write, w[0], msgbuf, sizeof msgbuf);
  return 1;
}
static void deadline(tain *d)
{
  tain_now_g();
  tain_addsec_g(d, (int)timeout);
}

void queue_write(char const *s, size_t len)
{
  tain d;
  if (!pid || failed) return;
  deadline(&d);
  if (buffer_timed_put_g(&msg, s, len, &d) < len) failed = 1;
}

/* The child's exit code, or -1 if it died of a signal or was killed for
 * running over the timeout. */
static int reap(int kill_first)
{
  int code = privsep_reap(timeout, kill_first);
  pid = 0;
  if (code == PRIVSEP_REAP_KILLED)
    strerr_warnw1x("the queue program has not exited within VMAIL_TIMEOUT: killed");
  return code < 0 ? -1 : code;
}

int queue_finish(char const *envelope, size_t len)
{
  tain d;
  int ok = !failed;
  if (!pid) return -1;
  deadline(&d);
  if (ok && !buffer_timed_flush_g(&msg, &d)) ok = 0;
  close(buffer_fd(&msg));
  if (ok)
  {
    buffer env;
    char envbuf[4096];
    buffer_init(&env, &buffer_write, envfd, envbuf, sizeof envbuf);
    if (buffer_timed_put_g(&env, envelope, len, &d) < len || !buffer_timed_flush_g(&env, &d)) ok = 0;
  }
  close(envfd);
  envfd = -1;
  if (!ok)
  {
    reap(1);
    return -1;
  }
  return reap(0);
}

void queue_abort(void)
{
  if (!pid) return;
  close(buffer_fd(&msg));
  close(envfd);   /* no envelope: the child must drop the message */
  envfd = -1;
  reap(0);
}
