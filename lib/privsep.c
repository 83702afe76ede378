/* privsep: see privsep.h. The two sides talk over a SOCK_SEQPACKET pair.
 * A check is one packet "user\0password\0tag\0" (user is never empty), one
 * byte back. The spawn service's packets start with a NUL instead:
 *   "\0s"                      spawn: back "s" and the pid, with the two
 *                              write ends as SCM_RIGHTS; or "x"
 *   "\0r" TIMEOUT(4) KILL(1)   reap: back "e" and the exit code, "k" killed
 *                              after the timeout, or "d" died or none */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checkpw.h"
#include "privilege.h"
#include "privsep.h"

#define REQUEST_MAX (CHECKPW_INPUT_MAX + PRIVSEP_TAG_MAX + 1)
#define REAP_TIMEOUT_MAX 86400   /* seconds: what a request may ask for */

static privsep_check_fn *checker;
static privsep_spawn_fn *spawner;
static int channel = -1;   /* the child's end; -1: check in place */
static int partner = -1;   /* the partner's end, closed in a spawned child */
static pid_t spawned;      /* the spawned child, on the side that forked it */

static char answer_of(int code)
{
  if (code == CHECKPW_BLOCKED) return 'b';
  return code == 0 ? '0' : code == 1 ? '1' : code == 111 ? 't' : 'x';
}

static int code_of(char answer)
{
  if (answer == 'b') return CHECKPW_BLOCKED;
  return answer == '0' ? 0 : answer == '1' ? 1 : answer == 'x' ? -1 : 111;
}

static int tag_ok(char const *s, size_t len)
{
  if (len > PRIVSEP_TAG_MAX) return 0;
  for (size_t i = 0; i < len; i++) if (s[i] < 0x21 || s[i] > 0x7e) return 0;
  return 1;
}

/* Splits req[len] into its three NUL-terminated fields. */
static int split(char *req, size_t len, char **user, char **password, char **tag)
{
  size_t u, p;
  if (!len || req[len - 1]) return 0;
  u = strlen(req);
  if (!u || u + 1 >= len) return 0;
  p = strlen(req + u + 1);
  if (u + p + 2 >= len) return 0;
  *user = req; *password = req + u + 1; *tag = req + u + p + 2;
  /* exactly three fields: the tag runs to the packet's last byte */
  return strlen(*tag) + u + p + 3 == len && tag_ok(*tag, strlen(*tag));
}

/* Forks the spawned child; 1 and the pipes' write ends in w, or 0. */
static int spawn_here(int w[2])
{
  int m[2], e[2];
  pid_t pid;
  if (!spawner || spawned) return 0;
  if (pipe2(m, O_CLOEXEC) < 0) return 0;
  if (pipe2(e, O_CLOEXEC) < 0) { close(m[0]); close(m[1]); return 0; }
  pid = fork();
  if (pid < 0) { close(m[0]); close(m[1]); close(e[0]); close(e[1]); return 0; }
  if (!pid)
  {
    /* a group of its own, so that a timeout kills what it started too */
    setpgid(0, 0);
    if (partner >= 0) close(partner);
    if (dup2(m[0], 0) < 0 || dup2(e[0], 1) < 0) _exit(111);
    /* the write ends too: close-on-exec would have, but a spawner may not
     * exec, and then the message would never end */
    close(m[0]); close(m[1]); close(e[0]); close(e[1]);
    _exit(spawner());
  }
  setpgid(pid, pid);   /* here too: the kill may come before the child runs */
  close(m[0]);
  close(e[0]);
  w[0] = m[1];
  w[1] = e[1];
  spawned = pid;
  return 1;
}

static volatile sig_atomic_t expired;
static void on_alarm(int sig) { (void)sig; expired = 1; }

/* Waits for the spawned child, killing its group after timeout seconds. */
static int reap_here(unsigned int timeout, int kill_first)
{
  struct sigaction sa, old;
  int status = 0, lost = 0, killed = 0;
  pid_t pid = spawned;
  if (!pid) return -1;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;   /* no SA_RESTART: waitpid returns EINTR */
  sigemptyset(&sa.sa_mask);
  expired = kill_first;
  sigaction(SIGALRM, &sa, &old);
  alarm(timeout);
  for (;;)
  {
    if (expired) { kill(-pid, SIGKILL); kill(pid, SIGKILL); killed = !kill_first; expired = 0; }
    if (waitpid(pid, &status, 0) >= 0) break;
    if (errno != EINTR) { lost = 1; break; }
  }
  alarm(0);
  sigaction(SIGALRM, &old, 0);
  spawned = 0;
  if (killed) return PRIVSEP_REAP_KILLED;
  if (!lost && WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

static void answer_spawn(int fd)
{
  int w[2];
  char data[1 + sizeof(pid_t)] = "x";
  char cbuf[CMSG_SPACE(sizeof w)];
  struct iovec v = { .iov_base = data, .iov_len = 1 };
  struct msghdr mh = { .msg_iov = &v, .msg_iovlen = 1 };
  if (spawn_here(w))
  {
    struct cmsghdr *c;
    memset(cbuf, 0, sizeof cbuf);
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof w);
    memcpy(CMSG_DATA(c), w, sizeof w);
    data[0] = 's';
    memcpy(data + 1, &spawned, sizeof spawned);
    v.iov_len = sizeof data;
  }
  if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 && data[0] == 's') reap_here(0, 1);
  if (data[0] == 's') { close(w[0]); close(w[1]); }
}

static void answer_reap(int fd, char const *req, size_t len)
{
  uint32_t timeout;
  char a[2] = "d";
  int code;
  if (len != 7) { send(fd, a, 1, MSG_NOSIGNAL); return; }
  memcpy(&timeout, req + 2, sizeof timeout);
  if (!timeout || timeout > REAP_TIMEOUT_MAX) timeout = REAP_TIMEOUT_MAX;
  code = reap_here(timeout, req[6] != 0);
  if (code == PRIVSEP_REAP_KILLED) a[0] = 'k';
  else if (code >= 0) { a[0] = 'e'; a[1] = (char)code; }
  send(fd, a, code >= 0 ? 2 : 1, MSG_NOSIGNAL);
}

static void serve(int fd, pid_t child)
{
  char req[REQUEST_MAX + 1];
  int status;
  partner = fd;
  for (;;)
  {
    char *user, *password, *tag, a;
    int code;
    ssize_t n = recv(fd, req, sizeof req, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    /* the spawn service: a login's user is never empty */
    if (n == 2 && !req[0] && req[1] == 's') { answer_spawn(fd); continue; }
    if (n >= 2 && !req[0] && req[1] == 'r') { answer_reap(fd, req, (size_t)n); continue; }
    code = checker && (size_t)n <= REQUEST_MAX && split(req, (size_t)n, &user, &password, &tag)
           ? checker(user, password, tag) : 1;
    explicit_bzero(req, sizeof req);
    a = answer_of(code);
    if (send(fd, &a, 1, MSG_NOSIGNAL) < 1 || (!code && !spawner)) break;
  }
  close(fd);
  /* the parser is gone: what it was feeding is not wanted any more */
  if (spawned) reap_here(0, 1);
  while (waitpid(child, &status, 0) < 0) if (errno != EINTR) _exit(111);
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 111);
}

int privsep_start(privsep_check_fn *check, char const *uidvar, char const *gidvar, char const *fallback)
{
  uid_t uid; gid_t gid;
  int sv[2], r;
  pid_t pid;
  checker = check;
  r = privilege_need(uidvar, gidvar, fallback, &uid, &gid);
  if (r <= 0) return r;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return privilege_fail("create a socket pair", errno);
  pid = fork();
  if (pid < 0)
  {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    return privilege_fail("fork", e);
  }
  if (pid) { close(sv[1]); serve(sv[0], pid); }
  close(sv[0]);
  channel = sv[1];
  if (privilege_become(uid, gid) < 0) return privilege_fail("become the parser's user", errno == ENOENT ? EPERM : errno);
  return 0;
}

int privsep_login(privsep_check_fn *check)
{
  uid_t uid;
  gid_t gid;
  if (privilege_need("VMAIL_UID", "VMAIL_GID", 0, &uid, &gid) < 0) return -1;
  return privsep_start(check, "VMAIL_LOGIN_UID", "VMAIL_LOGIN_GID", PRIVSEP_LOGIN_USER);
}

int privsep_check(char const *user, char const *password, char const *tag)
{
  char req[REQUEST_MAX];
  size_t ul = strlen(user), pl = strlen(password), tl = tag ? strlen(tag) : 0;
  ssize_t n;
  char a;
  if (channel < 0) return checker ? checker(user, password, tag ? tag : "") : -1;
  if (!ul) return 1;   /* an empty user would read as a spawn request */
  if (ul + pl + tl + 3 > sizeof req) return 1;   /* too long to be anyone's login */
  memcpy(req, user, ul + 1);
  memcpy(req + ul + 1, password, pl + 1);
  memcpy(req + ul + pl + 2, tag ? tag : "", tl + 1);
  n = send(channel, req, ul + pl + tl + 3, MSG_NOSIGNAL);
  explicit_bzero(req, sizeof req);
  if (n < 0) return 111;
  do n = recv(channel, &a, 1, 0); while (n < 0 && errno == EINTR);
  return n == 1 ? code_of(a) : 111;
}

void privsep_spawner(privsep_spawn_fn *spawn) { spawner = spawn; }

/* One answer from the partner, with up to two descriptors. */
static ssize_t receive(char *buf, size_t len, int fds[2])
{
  char cbuf[CMSG_SPACE(2 * sizeof(int))];
  struct iovec v = { .iov_base = buf, .iov_len = len };
  struct msghdr mh = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *c;
  ssize_t n;
  do n = recvmsg(channel, &mh, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  fds[0] = fds[1] = -1;
  c = n > 0 ? CMSG_FIRSTHDR(&mh) : 0;
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
    memcpy(fds, CMSG_DATA(c), 2 * sizeof(int));
  return n;
}

int privsep_spawn(int w[2], pid_t *pid)
{
  char data[1 + sizeof(pid_t)];
  ssize_t n;
  if (channel < 0)
  {
    if (!spawn_here(w)) return 0;
    *pid = spawned;
    return 1;
  }
  if (send(channel, "\0s", 2, MSG_NOSIGNAL) < 2) return 0;
  n = receive(data, sizeof data, w);
  if (n == (ssize_t)sizeof data && data[0] == 's' && w[0] >= 0)
  {
    memcpy(pid, data + 1, sizeof *pid);
    return 1;
  }
  if (w[0] >= 0) { close(w[0]); close(w[1]); }
  /* started, but its pipes were lost on the way (no descriptors left):
   * it must not stay the partner's one child */
  if (n >= 1 && data[0] == 's') privsep_reap(1, 1);
  return 0;
}

int privsep_reap(unsigned int timeout, int kill_first)
{
  char req[7] = { 0, 'r' }, a[2];
  uint32_t t = timeout;
  ssize_t n;
  if (channel < 0) return reap_here(timeout, kill_first);
  memcpy(req + 2, &t, sizeof t);
  req[6] = (char)!!kill_first;
  if (send(channel, req, sizeof req, MSG_NOSIGNAL) < (ssize_t)sizeof req) return -1;
  do n = recv(channel, a, sizeof a, 0); while (n < 0 && errno == EINTR);
  if (n == 2 && a[0] == 'e') return (unsigned char)a[1];
  return n == 1 && a[0] == 'k' ? PRIVSEP_REAP_KILLED : -1;
}
