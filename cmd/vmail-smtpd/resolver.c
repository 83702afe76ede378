/* resolver.c: the vmail-resolve co-process, started at the first RCPT and
 * kept for the session, so that vmail-smtpd itself never opens the database.
 * One address per line out; a block of lines ending in an empty line back. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>

#include "resolve.h"
#include "smtpd.h"

#define RESOLVER_LINES_MAX (RESOLVE_RECIPIENTS_MAX + 2)   /* one answer block */

static pid_t pid;
static int tofd = -1;
static char frombuf[4096];
static buffer from;

void resolver_stop(void)
{
  int status;
  if (!pid) return;
  close(tofd);
  close(buffer_fd(&from));
  kill(pid, SIGTERM);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) ;
  pid = 0;
  tofd = -1;
}

static int start(void)
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

static enum resolver_answer kind(char const *line)
{
  static struct { char const *word; enum resolver_answer answer; } const KINDS[] =
  {
    { "local ", RESOLVER_OURS }, { "remote ", RESOLVER_OURS },
    { "error nodomain", RESOLVER_NODOMAIN }, { "error nouser", RESOLVER_NOUSER },
    { "error loop", RESOLVER_LOOP }, { "error bad", RESOLVER_BAD },
    { "error temp", RESOLVER_TEMP }
  };
  for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
    if (!strncmp(line, KINDS[i].word, strlen(KINDS[i].word))) return KINDS[i].answer;
  return RESOLVER_TEMP;
}

enum resolver_answer resolver_ask(char const *address, unsigned timeout_seconds)
{
  stralloc line = STRALLOC_ZERO;
  enum resolver_answer answer = RESOLVER_TEMP;
  size_t n = strlen(address);
  tain d;
  if (strchr(address, '\n')) return RESOLVER_BAD;
  if (!pid && !start()) return RESOLVER_TEMP;
  if (allwrite(tofd, address, n) < n || allwrite(tofd, "\n", 1) < 1) goto broken;
  tain_now_g();
  tain_addsec_g(&d, (int)timeout_seconds);
  for (unsigned i = 0; i < RESOLVER_LINES_MAX; i++)
  {
    line.len = 0;
    if (timed_getln_g(&from, &line, '\n', &d) <= 0 || !line.len || line.s[line.len-1] != '\n') goto broken;
    line.s[line.len-1] = 0;
    if (!line.s[0])   /* the end of the block */
    {
      stralloc_free(&line);
      return answer;
    }
    if (!i) answer = kind(line.s);
  }
 broken:
  /* out of step or dead: a fresh co-process next time */
  stralloc_free(&line);
  resolver_stop();
  return RESOLVER_TEMP;
}
