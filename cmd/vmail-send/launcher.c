/* launcher.c: see launcher.h. The runner and the launcher talk over a
 * SOCK_SEQPACKET pair (a request: "id\0sender\0rcpt\0" with the message and
 * output fds; the answer: the pid, or minus an errno) and a pipe of
 * fixed-size exit reports, which the runner reads in its event loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>

#include "envelope.h"
#include "queue.h"
#include "launcher.h"
#include "../vmail-deliver/deliver.h"

#define REQUEST_MAX (QUEUE_ID_LEN + 1 + 2 * (ENVELOPE_ADDR_MAX + 1))

struct report { pid_t pid; int wstat; };

static int req = -1, rep = -1;   /* the runner's ends */

/* ---- in the launcher ---- */

void delivery_child_setup(int msgfd, int outfd, char const *id)
{
  sigset_t none;
  selfpipe_finish();
  signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL); signal(SIGHUP, SIG_DFL); signal(SIGPIPE, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, 0);
  if (dup2(msgfd, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0) _exit(111);
  if (msgfd > 2) close(msgfd);
  if (outfd > 2) close(outfd);
  if (setenv("VMAIL_QUEUE_ID", id, 1) < 0) _exit(111);
}

static void deliver(int sock, int out, char const *id, char const *sender, char const *rcpt, int const *fds)
{
  char const *argv[5] = { "vmail-deliver", "-f", sender, rcpt, 0 };
  close(sock);
  close(out);
  delivery_child_setup(fds[0], fds[1], id);
  prctl(PR_SET_NAME, "vmail-deliver");
  _exit(deliver_main(4, argv));
}

/* One request: 0 done (answered), -1 the runner is gone. */
static int serve_request(int sock, int out)
{
  char buf[REQUEST_MAX + 1];
  union { struct cmsghdr h; char space[CMSG_SPACE(2 * sizeof(int))]; } ctl;
  struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
  struct cmsghdr *c;
  int fds[2] = { -1, -1 }, answer = -EINVAL;
  char const *id = buf, *sender, *rcpt;
  ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -1;
  if (!n) return -1;
  c = CMSG_FIRSTHDR(&mh);
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
    memcpy(fds, CMSG_DATA(c), sizeof fds);
  sender = memchr(buf, 0, n);
  rcpt = sender ? memchr(sender + 1, 0, n - (sender + 1 - buf)) : 0;
  if (fds[0] >= 0 && rcpt && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) && buf[n - 1] == 0)
  {
    pid_t pid = fork();
    if (!pid) deliver(sock, out, id, sender + 1, rcpt + 1, fds);
    answer = pid < 0 ? -errno : (int)pid;
  }
  if (fds[0] >= 0) close(fds[0]);
  if (fds[1] >= 0) close(fds[1]);
  return send(sock, &answer, sizeof answer, MSG_NOSIGNAL) == sizeof answer ? 0 : -1;
}

static int serve(int sock, int out)
{
  iopause_fd x[2];
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_NAME, "vmail-launcher");
  x[0].fd = selfpipe_init();
  if (x[0].fd < 0 || selfpipe_trap(SIGCHLD) < 0) return 111;
  x[0].events = IOPAUSE_READ;
  x[1].fd = sock;
  x[1].events = IOPAUSE_READ;
  for (;;)   /* one turn per request or batch of exits, until the runner goes */
  {
    int r = iopause_g(x, 2, 0);
    if (r < 0) { if (errno == EINTR) continue; return 111; }
    if (x[0].revents & IOPAUSE_READ)
    {
      struct report rp;
      int sig;
      while ((sig = selfpipe_read()) > 0) ;   /* bounded: the self-pipe holds few bytes */
      while ((rp.pid = wait_nohang(&rp.wstat)) > 0)   /* bounded by our children */
        if (write(out, &rp, sizeof rp) != sizeof rp) return 111;
    }
    if (x[1].revents & IOPAUSE_READ && serve_request(sock, out) < 0) return 0;
  }
}

/* ---- in the runner ---- */

int launcher_start(pid_t *pid)
{
  int s[2], p[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s) < 0) return -1;
  if (pipe2(p, O_CLOEXEC) < 0) { close(s[0]); close(s[1]); return -1; }
  *pid = fork();
  if (*pid < 0) { close(s[0]); close(s[1]); close(p[0]); close(p[1]); return -1; }
  if (!*pid)
  {
    close(s[0]);
    close(p[0]);
    _exit(serve(s[1], p[1]));
  }
  close(s[1]);
  close(p[1]);
  if (ndelay_on(p[0]) < 0) { close(s[0]); close(p[0]); return -1; }
  req = s[0];
  rep = p[0];
  return rep;
}

pid_t launcher_run(int msgfd, int outfd, char const *id, char const *sender, char const *rcpt)
{
  char buf[REQUEST_MAX];
  size_t a = strlen(id) + 1, b = strlen(sender) + 1, c = strlen(rcpt) + 1;
  int fds[2] = { msgfd, outfd }, answer;
  union { struct cmsghdr h; char space[CMSG_SPACE(2 * sizeof(int))]; } ctl;
  struct iovec iov = { .iov_base = buf, .iov_len = a + b + c };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
  struct cmsghdr *cm;
  ssize_t r;
  if (a + b + c > sizeof buf) { errno = ENAMETOOLONG; return -1; }
  memcpy(buf, id, a);
  memcpy(buf + a, sender, b);
  memcpy(buf + a + b, rcpt, c);
  memset(&ctl, 0, sizeof ctl);
  cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(cm), fds, sizeof fds);
  do r = sendmsg(req, &mh, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  do r = recv(req, &answer, sizeof answer, 0); while (r < 0 && errno == EINTR);
  if (r != sizeof answer) { if (r >= 0) errno = EPIPE; return -1; }
  if (answer < 0) { errno = -answer; return -1; }
  return answer;
}

int launcher_report(pid_t *pid, int *wstat)
{
  struct report rp;
  ssize_t r = read(rep, &rp, sizeof rp);
  if (r == sizeof rp) { *pid = rp.pid; *wstat = rp.wstat; return 1; }
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  return -1;   /* end of file: the launcher is gone */
}
