/* vmail-tlsd: the server side of UCSPI-TLS, over libtls, under tcpserver.
 * Reads the certificate and key as the user it started as, forks the TLS
 * engine (which becomes VMAIL_TLS_UID and never parses the application
 * protocol) and execs prog with the user it started as. Delayed mode (the
 * default): prog talks in the clear on fd 0/1 until it asks for TLS on
 * SSLCTLFD (STARTTLS). Implicit mode (-i): the handshake first, then prog
 * talks through pipes on fd 0/1. See vmail-tlsd(8). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <tls.h>
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
  signal(SIGPIPE, SIG_IGN);    /* a peer gone is a write error, not a silent death */
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

/* Delayed: the engine waits for prog's command on the control socket. */
static void delayed(struct tls *server, char const *const *argv)
{
  int ctl[2], down[2], up[2];   /* down: engine to prog; up: prog to engine */
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) < 0) strerr_diefu1sys(111, "create a socket pair");
  pipe_or_die(down);
  pipe_or_die(up);
  if (!fork_or_die())
  {
    struct tls *conn;
    stralloc details = STRALLOC_ZERO;
    char c;
    int cmd;
    close(ctl[0]); close(down[0]); close(up[1]);
    engine_become();
    if (fd_read(ctl[1], &c, 1) != 1) _exit(0);   /* prog ended in the clear */
    cmd = ucspitls_command(c);
    if (!cmd) strerr_dief1x(100, "unknown command on the control socket");
    if (!engine_handshake(server, &conn, cf.handshake)) _exit(0);
    if (cmd == 2 && (!engine_details(conn, &details) || allwrite(ctl[1], details.s, details.len) != details.len))
      _exit(111);
    close(ctl[1]);
    engine_relay(conn, up[0], down[1], cf.idle);
  }
  close(ctl[1]); close(down[1]); close(up[0]);
  tls_free(server);
  env_fd("SSLCTLFD", ctl[0]);
  env_fd("SSLREADFD", down[0]);
  env_fd("SSLWRITEFD", up[1]);
  xexec(argv);
}

/* Implicit: the handshake first; prog starts only after it succeeded, with
 * the details in its environment and the engine's pipes as fd 0/1. */
static void implicit(struct tls *server, char const *const *argv)
{
  int down[2], up[2], sync[2];
  pipe_or_die(down);
  pipe_or_die(up);
  pipe_or_die(sync);
  if (!fork_or_die())
  {
    struct tls *conn;
    stralloc details = STRALLOC_ZERO;
    close(down[0]); close(up[1]); close(sync[0]);
    engine_become();
    if (!engine_handshake(server, &conn, cf.handshake)) _exit(0);
    if (!engine_details(conn, &details) || allwrite(sync[1], details.s, details.len) != details.len) _exit(111);
    close(sync[1]);
    engine_relay(conn, up[0], down[1], cf.idle);
  }
  close(down[1]); close(up[0]); close(sync[1]);
  tls_free(server);
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
  int opt_implicit = 0;
  struct tls *server;
  PROG = "vmail-tlsd";
  for (int o; (o = subgetopt_r(argc, argv, "i", &l)) != -1;)
  {
    if (o == 'i') opt_implicit = 1;
    else strerr_dieusage(100, USAGE);
  }
  argv += l.ind;
  if (!*argv) strerr_dieusage(100, USAGE);
  settings();
  if (tls_init() < 0) strerr_diefu1x(111, "initialize libtls");
  server = keys_server();
  if (!server)
  {
    if (opt_implicit) strerr_dief1x(111, "no usable certificate: closing the connection");
    strerr_warnw1x("no usable certificate: running prog without TLS (no STARTTLS offered)");
    xexec(argv);
  }
  if (opt_implicit) implicit(server, argv);
  delayed(server, argv);
}
