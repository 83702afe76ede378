/* privsep: see privsep.h. The two sides talk over a SOCK_SEQPACKET pair:
 * one request "user\0password\0tag\0" per packet, one byte back. */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checkpw.h"
#include "privilege.h"
#include "privsep.h"

#define REQUEST_MAX (CHECKPW_INPUT_MAX + PRIVSEP_TAG_MAX + 1)

static privsep_check_fn *checker;
static int channel = -1;   /* the child's end; -1: check in place */

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

static void serve(int fd, pid_t child)
{
  char req[REQUEST_MAX + 1];
  int status;
  for (;;)
  {
    char *user, *password, *tag, a;
    int code;
    ssize_t n = recv(fd, req, sizeof req, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    code = (size_t)n <= REQUEST_MAX && split(req, (size_t)n, &user, &password, &tag)
           ? checker(user, password, tag) : 1;
    explicit_bzero(req, sizeof req);
    a = answer_of(code);
    if (send(fd, &a, 1, MSG_NOSIGNAL) < 1 || !code) break;
  }
  close(fd);
  while (waitpid(child, &status, 0) < 0) if (errno != EINTR) _exit(111);
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 111);
}

int privsep_start(privsep_check_fn *check, char const *uidvar, char const *gidvar, char const *fallback)
{
  uid_t uid; gid_t gid;
  int sv[2], r;
  pid_t pid;
  checker = check;
  if (geteuid()) return 0;
  r = privilege_ids(uidvar, gidvar, &uid, &gid);
  if (r < 0) return r;
  if (!r)
  {
    struct passwd *pw;
    if (!fallback) return 0;
    errno = 0;
    pw = getpwnam(fallback);
    if (!pw) { if (!errno) errno = ENOENT; return -1; }
    if (!pw->pw_uid) { errno = EINVAL; return -1; }
    uid = pw->pw_uid; gid = pw->pw_gid;
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  pid = fork();
  if (pid < 0) { close(sv[0]); close(sv[1]); return -1; }
  if (pid) { close(sv[1]); serve(sv[0], pid); }
  close(sv[0]);
  channel = sv[1];
  return privilege_become(uid, gid) < 0 ? -1 : 0;
}

int privsep_check(char const *user, char const *password, char const *tag)
{
  char req[REQUEST_MAX];
  size_t ul = strlen(user), pl = strlen(password), tl = tag ? strlen(tag) : 0;
  ssize_t n;
  char a;
  if (channel < 0) return checker(user, password, tag ? tag : "");
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
