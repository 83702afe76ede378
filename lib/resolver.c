/* resolver: see resolver.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>

#include "resolve.h"
#include "resolver.h"

#define RESOLVER_LINES_MAX (RESOLVE_RECIPIENTS_MAX + 2)   /* one answer block */

static pid_t pid;           /* the co-process, if that is who answers */
static int tofd = -1;       /* where questions go; the service's socket is both */
static char frombuf[4096];
static buffer from;

void resolver_stop(void)
{
  int status;
  if (tofd < 0) return;
  if (buffer_fd(&from) != tofd) close(buffer_fd(&from));
  close(tofd);
  tofd = -1;
  if (!pid) return;
  kill(pid, SIGTERM);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) ;
  pid = 0;
}

static int start_service(char const *path)
{
  int fd = ipc_stream_nbcoe();
  if (fd < 0) return 0;
  /* a local socket connects at once, or the service is not there (or is
     swamped: its backlog full); a question is far smaller than the socket's
     buffer, so non-blocking writes do not come short while it answers */
  if (!ipc_connect(fd, path)) { close(fd); return 0; }
  tofd = fd;
  buffer_init(&from, &buffer_read, fd, frombuf, sizeof frombuf);
  return 1;
}

static int start_coprocess(void)
{
  int in[2], out[2];
  char const *prog = getenv("VMAIL_RESOLVE");
  char const *argv[2];
  argv[0] = prog && *prog ? prog : "vmail-resolve";
  argv[1] = 0;
  if (pipecoe(in) < 0) return 0;
  if (pipecoe(out) < 0) { close(in[0]); close(in[1]); return 0; }
  pid = fork();
  if (pid < 0) { pid = 0; close(in[0]); close(in[1]); close(out[0]); close(out[1]); return 0; }
  if (!pid)
  {
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) _exit(111);
    execvp(argv[0], (char *const *)argv);
    strerr_warnwu2sys("exec ", argv[0]);
    _exit(111);
  }
  close(in[0]);
  close(out[1]);
  tofd = in[1];
  ndelay_on(out[0]);
  buffer_init(&from, &buffer_read, out[0], frombuf, sizeof frombuf);
  return 1;
}

static int start(void)
{
  char const *path = getenv("VMAIL_RESOLVE_SOCKET");
  if (path && *path && start_service(path)) return 1;
  return start_coprocess();
}

static int kind(char const *line)
{
  static struct { char const *word; int status; } const KINDS[] =
  {
    { "local ", RESOLVE_OK }, { "remote ", RESOLVE_OK },
    { "error nodomain", RESOLVE_NODOMAIN }, { "error nouser", RESOLVE_NOUSER },
    { "error loop", RESOLVE_LOOP }, { "error bad", RESOLVE_BAD },
    { "error temp", RESOLVE_TEMP }
  };
  for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
    if (!strncmp(line, KINDS[i].word, strlen(KINDS[i].word))) return KINDS[i].status;
  return RESOLVE_TEMP;
}

int resolver_ask(char const *address, unsigned timeout_secs, stralloc *block)
{
  stralloc line = STRALLOC_ZERO;
  int answer = RESOLVE_TEMP;
  size_t n = strlen(address);
  tain d;
  if (block) block->len = 0;
  if (strchr(address, '\n')) return RESOLVE_BAD;
  if (tofd < 0 && !start()) return RESOLVE_TEMP;
  if (allwrite(tofd, address, n) < n || allwrite(tofd, "\n", 1) < 1) goto broken;
  tain_now_g();
  tain_addsec_g(&d, (int)timeout_secs);
  for (unsigned i = 0; i < RESOLVER_LINES_MAX; i++)
  {
    line.len = 0;
    if (timed_getln_g(&from, &line, '\n', &d) <= 0 || !line.len || line.s[line.len-1] != '\n') goto broken;
    if (line.len == 1)   /* the empty line ends the block */
    {
      stralloc_free(&line);
      return answer;
    }
    if (!i) { line.s[line.len-1] = 0; answer = kind(line.s); line.s[line.len-1] = '\n'; }
    if (block && !stralloc_catb(block, line.s, line.len)) goto broken;
  }
 broken:
  /* out of step or dead: a fresh conversation next time */
  stralloc_free(&line);
  if (block) block->len = 0;
  resolver_stop();
  return RESOLVE_TEMP;
}
