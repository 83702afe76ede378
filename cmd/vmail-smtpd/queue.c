/* queue.c: hands one message to $VMAIL_QUEUE (default vmail-queue) through
 * the qmail-queue interface: the message on the child's fd 0 while it
 * arrives, then the envelope "Fsender\0Trcpt\0...\0" on its fd 1. The child
 * accepts the message only by exiting 0; if we close the envelope pipe
 * without an envelope it must leave nothing behind. With VMAIL_QUEUE unset
 * the child runs vmail-queue's code without an exec.
 * The child runs in a process group of its own; one that has not exited
 * VMAIL_TIMEOUT seconds after its input ended is killed with everything it
 * started (a hung filter chain), and the message is not accepted. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>

#include "smtpd.h"
#include "../vmail-queue/enqueue.h"

#define QUEUE_BUF 65536   /* message bytes gathered per write to the child */

static pid_t pid;
static int envfd = -1;
static int failed;
static unsigned timeout;
static char msgbuf[QUEUE_BUF];
static buffer msg;

int queue_running(void) { return pid != 0; }

pid_t queue_child(void) { return pid; }

int queue_start(unsigned timeout_seconds)
{
  int m[2], e[2];
  char const *prog = getenv("VMAIL_QUEUE");
  int builtin = !prog || !*prog;   /* vmail-queue's code, without an exec */
  char const *argv[2];
  argv[0] = builtin ? "vmail-queue" : prog;
  argv[1] = 0;
  timeout = timeout_seconds;
  failed = 0;
  if (pipecoe(m) < 0) return 0;
  if (pipecoe(e) < 0) { close(m[0]); close(m[1]); return 0; }
  pid = fork();
  if (pid < 0) { pid = 0; close(m[0]); close(m[1]); close(e[0]); close(e[1]); return 0; }
  if (!pid)
  {
    setpgid(0, 0);
    if (dup2(m[0], 0) < 0 || dup2(e[0], 1) < 0) _exit(111);
    if (builtin)
    {
      /* the write ends are ours to close (close-on-exec would have), or
       * the message never ends */
      close(m[1]);
      close(e[1]);
      prctl(PR_SET_NAME, "vmail-queue");
      _exit(enqueue_main(1, argv));
    }
    execvp(argv[0], (char *const *)argv);
    strerr_warnwu2sys("exec ", argv[0]);
    _exit(111);
  }
  setpgid(pid, pid);   /* here too: the kill may come before the child runs */
  close(m[0]);
  close(e[0]);
  ndelay_on(m[1]);
  ndelay_on(e[1]);
  envfd = e[1];
  buffer_init(&msg, &buffer_write, m[1], msgbuf, sizeof msgbuf);
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

static volatile sig_atomic_t expired;
static void on_alarm(int sig) { (void)sig; expired = 1; }

/* The child's exit code, or -1 if it died of a signal or was killed for
 * running over the timeout. */
static int reap(void)
{
  struct sigaction sa, old;
  int status = 0, lost = 0;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;   /* no SA_RESTART: waitpid returns EINTR */
  sigemptyset(&sa.sa_mask);
  expired = 0;
  sigaction(SIGALRM, &sa, &old);
  alarm(timeout);
  while (waitpid(pid, &status, 0) < 0)
  {
    if (errno != EINTR) { lost = 1; break; }
    if (!expired) continue;
    strerr_warnw1x("the queue program has not exited within VMAIL_TIMEOUT: killed");
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    expired = 0;
  }
  alarm(0);
  sigaction(SIGALRM, &old, 0);
  pid = 0;
  if (!lost && WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
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
    kill(pid, SIGTERM);
    reap();
    return -1;
  }
  return reap();
}

void queue_abort(void)
{
  if (!pid) return;
  close(buffer_fd(&msg));
  close(envfd);   /* no envelope: the child must drop the message */
  envfd = -1;
  reap();
}
