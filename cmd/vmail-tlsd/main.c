/* vmail-tlsd: the server side of UCSPI-TLS, under tcpserver. Reads the
 * certificate and key as the user it started as, forks the TLS engine
 * (which becomes VMAIL_TLS_UID, runs vmail-tlsd-io over libtls when TLS is
 * wanted, and never parses the application protocol) and execs prog with
 * the user it started as. Delayed mode (the
 * default): prog talks in the clear on fd 0/1 until it asks for TLS on
 * SSLCTLFD (STARTTLS). Implicit mode (-i): the handshake first, then prog
 * talks through pipes on fd 0/1. See vmail-tlsd(8). */
#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "privilege.h"
#include "tlsd.h"
#include "ucspitls.h"

#define USAGE "vmail-tlsd [ -i ] prog..."
#define TLSD_HANDSHAKE_DEFAULT 30   /* VMAIL_TLS_TIMEOUT, seconds for a handshake */
#define TLSD_IDLE_DEFAULT 3600      /* VMAIL_TLS_IDLE, seconds with no traffic either way;
                                       above IMAP IDLE's 29 minutes (RFC 2177) */

static struct { unsigned handshake, idle; int drop; uid_t uid; gid_t gid; } cf;

static unsigned env_seconds(char const *name, unsigned dflt)
{
  char const *s = getenv(name);
  unsigned u;
  if (!s || !*s) return dflt;
  if (s[uint_scan(s, &u)] || !u || u > 86400) strerr_dief3x(100, "bad ", name, ": 1 to 86400 seconds");
  return u;
}

static void settings(void)
{
  int r = privilege_ids("VMAIL_TLS_UID", "VMAIL_TLS_GID", &cf.uid, &cf.gid);
  cf.handshake = env_seconds("VMAIL_TLS_TIMEOUT", TLSD_HANDSHAKE_DEFAULT);
  cf.idle = env_seconds("VMAIL_TLS_IDLE", TLSD_IDLE_DEFAULT);
  if (r < 0) strerr_dief1x(100, "bad VMAIL_TLS_UID / VMAIL_TLS_GID: a pair of numbers, uid not 0");
  if (!r && geteuid() == 0) strerr_dief1x(100, "VMAIL_TLS_UID is unset: the TLS engine will not run as root");
  cf.drop = r;
}

/* In the engine, before it reads a byte from the network. */
static void engine_become(void)
{
  prctl(PR_SET_DUMPABLE, 0);   /* no core file, no ptrace by its own uid: it holds the key */
  if (cf.drop && privilege_become(cf.uid, cf.gid) < 0)
    strerr_diefu1sys(111, "become VMAIL_TLS_UID");
}

static void env_fd(char const *name, int fd)
{
  char s[INT_FMT];
  s[int_fmt(s, fd)] = 0;
  if (setenv(name, s, 1) < 0) strerr_diefu1sys(111, "set the environment");
}

static void pipe_or_die(int p[2]) { if (pipe(p) < 0) strerr_diefu1sys(111, "create a pipe"); }

static pid_t fork_or_die(void)
{
  pid_t pid = fork();
  if (pid < 0) strerr_diefu1sys(111, "fork");
  return pid;
}

/* In the engine, as VMAIL_TLS_UID: the pairs go into a memory file, and
 * vmail-tlsd-io takes over with it (only that program loads libtls). */
static void engine_exec(stralloc *pairs, int appr, int appw, int detailsfd)
{
  char num[6][UINT_FMT];
  char const *argv[8] = { "vmail-tlsd-io", num[0], num[1], num[2], num[3], num[4], detailsfd >= 0 ? num[5] : 0, 0 };
  int fd = memfd_create("vmail-tlsd-pairs", 0);
  if (fd < 0 || allwrite(fd, pairs->s, pairs->len) != pairs->len || lseek(fd, 0, SEEK_SET) < 0)
    strerr_diefu1sys(111, "hand the pairs to vmail-tlsd-io");
  explicit_bzero(pairs->s, pairs->a);
  num[0][uint_fmt(num[0], cf.handshake)] = 0;
  num[1][uint_fmt(num[1], cf.idle)] = 0;
  num[2][uint_fmt(num[2], (unsigned)fd)] = 0;
  num[3][uint_fmt(num[3], (unsigned)appr)] = 0;
  num[4][uint_fmt(num[4], (unsigned)appw)] = 0;
  if (detailsfd >= 0) num[5][uint_fmt(num[5], (unsigned)detailsfd)] = 0;
  xexec(argv);
}

/* Delayed: the engine waits for prog's command on the control socket. */
static void delayed(stralloc *pairs, char const *const *argv)
{
  int ctl[2], down[2], up[2];   /* down: engine to prog; up: prog to engine */
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) < 0) strerr_diefu1sys(111, "create a socket pair");
  pipe_or_die(down);
  pipe_or_die(up);
  if (!fork_or_die())
  {
    char c;
    int cmd;
    close(ctl[0]); close(down[0]); close(up[1]);
    engine_become();
    if (fd_read(ctl[1], &c, 1) != 1) _exit(0);   /* prog ended in the clear */
    cmd = ucspitls_command(c);
    if (!cmd) strerr_dief1x(100, "unknown command on the control socket");
    if (cmd == 1) close(ctl[1]);   /* y: no details wanted */
    engine_exec(pairs, up[0], down[1], cmd == 2 ? ctl[1] : -1);
  }
  close(ctl[1]); close(down[1]); close(up[0]);
  explicit_bzero(pairs->s, pairs->a);
  env_fd("SSLCTLFD", ctl[0]);
  env_fd("SSLREADFD", down[0]);
  env_fd("SSLWRITEFD", up[1]);
  xexec(argv);
}

/* Implicit: the handshake first; prog starts only after it succeeded, with
 * the details in its environment and the engine's pipes as fd 0/1. */
static void implicit(stralloc *pairs, char const *const *argv)
{
  int down[2], up[2], sync[2];
  pipe_or_die(down);
  pipe_or_die(up);
  pipe_or_die(sync);
  if (!fork_or_die())
  {
    close(down[0]); close(up[1]); close(sync[0]);
    engine_become();
    engine_exec(pairs, up[0], down[1], sync[1]);
  }
  close(down[1]); close(up[0]); close(sync[1]);
  explicit_bzero(pairs->s, pairs->a);
  if (!ucspitls_read_details(sync[0], cf.handshake + 10))
  {
    if (errno == EPIPE) _exit(0);   /* no handshake: the engine said why */
    strerr_diefu1sys(111, "read the TLS engine's details");
  }
  close(sync[0]);
  if (fd_move(0, down[0]) < 0 || fd_move(1, up[1]) < 0) strerr_diefu1sys(111, "move descriptors");
  xexec(argv);
}

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  stralloc pairs = STRALLOC_ZERO;
  int opt_implicit = 0;
  PROG = "vmail-tlsd";
  for (int o; (o = subgetopt_r(argc, argv, "i", &l)) != -1;)
  {
    if (o == 'i') opt_implicit = 1;
    else strerr_dieusage(100, USAGE);
  }
  argv += l.ind;
  if (!*argv) strerr_dieusage(100, USAGE);
  settings();
  if (!keys_read(&pairs))
  {
    if (opt_implicit) strerr_dief1x(111, "no usable certificate: closing the connection");
    strerr_warnw1x("no usable certificate: running prog without TLS (no STARTTLS offered)");
    xexec(argv);
  }
  if (opt_implicit) implicit(&pairs, argv);
  delayed(&pairs, argv);
}
