/* vmail-connlimit: at most max connections per client address to one
 * service, as a UCSPI program between tcpserver and the server:
 *   tcpserver ... vmail-connlimit -p smtp -n 10 vmail-smtpd
 * Over the limit, the client gets the protocol's "try later" and the
 * connection ends; under it, a child runs the server and this process holds
 * the connection's slot (connlimit.h) until the child exits. It never reads
 * the client, and the server never sees the file that counts. The host's
 * own connections to itself are not counted, and tcprules may set another
 * limit for an address or network in VMAIL_CONNLIMIT. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/exec.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "connlimit.h"

#define USAGE "vmail-connlimit [ -p smtp|pop3|imap ] [ -n max ] prog..."
#define PER_ADDRESS_DEFAULT 10
#define LIMITS_DIR_DEFAULT "/run/vmail/limits"   /* VMAIL_LIMITS_DIR */

/* What a client over the limit is told: a temporary refusal each protocol
 * knows (RFC 5321 3.8, RFC 2449 8.1.2 / RFC 3206, RFC 9051 7.1.5). */
static char const *refusal(char const *proto)
{
  if (!proto) return 0;
  if (!strcmp(proto, "smtp")) return "421 4.7.0 Too many connections from your address, try again later\r\n";
  if (!strcmp(proto, "pop3")) return "-ERR [SYS/TEMP] Too many connections from your address, try again later\r\n";
  if (!strcmp(proto, "imap")) return "* BYE [UNAVAILABLE] Too many connections from your address, try again later\r\n";
  strerr_dieusage(100, USAGE);
}

static int open_count(char const *port)
{
  char const *dir = getenv("VMAIL_LIMITS_DIR");
  stralloc path = STRALLOC_ZERO;
  int fd;
  if (!dir || !*dir) dir = LIMITS_DIR_DEFAULT;
  if (mkdir(dir, 0700) < 0 && errno != EEXIST) strerr_diefu2sys(111, "create ", dir);
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/conn.") || !stralloc_cats(&path, port)
      || !stralloc_0(&path)) strerr_diefu1sys(111, "allocate");
  fd = open(path.s, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) strerr_diefu2sys(111, "open ", path.s);
  stralloc_free(&path);
  return fd;
}

/* Runs prog in a child and waits for it, holding the slot. */
static int hold(char const *const *prog)
{
  int status;
  pid_t pid = fork();
  if (pid < 0) strerr_diefu1sys(111, "fork");
  if (!pid) { exec(prog); strerr_dieexec(111, prog[0]); }
  /* the connection ends when the server is done with it, not with us */
  close(0);
  close(1);
  while (waitpid(pid, &status, 0) < 0) if (errno != EINTR) strerr_diefu2sys(111, "wait for ", prog[0]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 111;
}

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  char const *proto = 0, *ip, *port, *local, *rule;
  unsigned max = PER_ADDRESS_DEFAULT;
  int fd, r;
  PROG = "vmail-connlimit";
  for (;;)
  {
    int c = subgetopt_r(argc, argv, "p:n:", &l);
    if (c == -1) break;
    if (c == 'p') proto = l.arg;
    else if (c == 'n') { if (l.arg[uint_scan(l.arg, &max)] || max > CONNLIMIT_MAX) strerr_dieusage(100, USAGE); }
    else strerr_dieusage(100, USAGE);
  }
  argc -= l.ind; argv += l.ind;
  if (!argc) strerr_dieusage(100, USAGE);
  refusal(proto);   /* a bad -p is a usage error even under the limit */
  ip = getenv("TCPREMOTEIP");
  port = getenv("TCPLOCALPORT");
  local = getenv("TCPLOCALIP");
  if (!ip || !*ip || !port || !*port) strerr_dief1x(100, "TCPREMOTEIP and TCPLOCALPORT not set: run me under tcpserver");
  rule = getenv("VMAIL_CONNLIMIT");
  if (rule && *rule && (rule[uint_scan(rule, &max)] || max > CONNLIMIT_MAX))
    strerr_dief1x(111, "bad VMAIL_CONNLIMIT (from the tcprules?): 0 to 1000");
  /* the host talking to itself (a webmail, a local submitter) hogs nothing */
  if (!max || (local && !strcmp(local, ip))) { exec(argv); strerr_dieexec(111, argv[0]); }
  fd = open_count(port);
  r = connlimit_take(fd, ip, max);
  if (r < 0) strerr_diefu2sys(111, "count the connections of ", ip);
  if (!r)
  {
    char n[UINT_FMT];
    char const *say = refusal(proto);
    n[uint_fmt(n, max)] = 0;
    strerr_warni6x("refused ip=", ip, " port=", port, " max=", n);
    if (say) allwrite(1, say, strlen(say));
    return 0;
  }
  return hold(argv);
}
