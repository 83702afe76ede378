/* remote.c: vmail-send's side of vmail-remote: one process per message and
 * destination domain, its per-recipient lines turned into results. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "launcher.h"
#include "send.h"

pid_t remote_start(char const *prog, struct msg const *m, char const *domain, unsigned int const *group,
                   unsigned int n, int msgfd, int outfd, int errfd)
{
  char const **argv = calloc(n + 5, sizeof *argv);
  pid_t pid;
  if (!argv) return -1;
  argv[0] = prog;
  argv[1] = domain;
  argv[2] = m->e.sender;
  for (unsigned int i = 0; i < n; i++) argv[3 + i] = m->rcpt[group[i]];
  pid = fork();
  if (!pid)
  {
    delivery_child_setup(msgfd, outfd, m->id);
    /* its results on the pipe, its log lines where ours go */
    if (dup2(errfd, 2) < 0) _exit(111);
    execvp(prog, (char *const *)argv);
    dprintf(2, "vmail-send: warning: unable to run %s: %s\n", prog, strerror(errno));
    _exit(111);
  }
  free(argv);
  return pid;
}

/* The line of out for recipient rcpt, expected at index i: kind, mta, text
 * (pointers into out, lengths). 1 found, 0 not. */
static int line_of(char const *out, size_t len, unsigned int i, char const *rcpt,
                   char *kind, char const **mta, size_t *mtalen, char const **text, size_t *textlen)
{
  size_t pos = 0, rl = strlen(rcpt);
  if (!out || !len) return 0;   /* it wrote nothing (killed, or never ran) */
  for (unsigned int k = 0; k < i && pos < len; k++)   /* bounded by i */
  {
    char const *nl = memchr(out + pos, '\n', len - pos);
    if (!nl) return 0;
    pos = (size_t)(nl - out) + 1;
  }
  {
    char const *s = out + pos, *nl = memchr(s, '\n', len - pos), *t1, *t2, *t3;
    size_t l;
    if (!nl) return 0;
    l = (size_t)(nl - s);
    if (l < 2 + rl + 2 || (s[0] != 'r' && s[0] != 's' && s[0] != 'h') || s[1] != '\t') return 0;
    t1 = s + 1;
    if (memcmp(t1 + 1, rcpt, rl) || t1[1 + rl] != '\t') return 0;
    t2 = t1 + 1 + rl;
    t3 = memchr(t2 + 1, '\t', (size_t)(nl - t2 - 1));
    if (!t3) return 0;
    *kind = s[0];
    *mta = t2 + 1;
    *mtalen = (size_t)(t3 - t2 - 1);
    *text = t3 + 1;
    *textlen = (size_t)(nl - t3 - 1);
    return 1;
  }
}

/* Does text start with a reply's three digits (the server's words, not ours)? */
static int reply_code(char const *text, size_t len)
{
  if (len < 3 || text[0] < '2' || text[0] > '5') return 0;
  if (text[1] < '0' || text[1] > '9' || text[2] < '0' || text[2] > '9') return 0;
  return len == 3 || text[3] == ' ';
}

void remote_results(char const *out, size_t len, struct msg *m, unsigned int const *group, unsigned int n,
                    int wstat, char const *prog, void (*result)(struct msg *, unsigned int, int, char *))
{
  for (unsigned int i = 0; i < n; i++)
  {
    char detail[QUEUE_REASON_MAX + 1], kind;
    char const *mta, *text;
    size_t ml, tl;
    if (line_of(out, len, i, m->rcpt[group[i]], &kind, &mta, &ml, &text, &tl))
    {
      /* "host[ip]:port said: 550 5.1.1 ..." (dsn.c takes the Remote-MTA from it) */
      if (ml && reply_code(text, tl))
        snprintf(detail, sizeof detail, "%.*s said: %.*s", (int)ml, mta, (int)tl, text);
      else
        snprintf(detail, sizeof detail, "%.*s", (int)tl, text);
      result(m, group[i], kind == 'r' ? 0 : kind == 'h' ? 100 : 111, detail);
      continue;
    }
    if (WIFEXITED(wstat))
      snprintf(detail, sizeof detail, "4.3.0 %s exited %d without a result for this recipient", prog, WEXITSTATUS(wstat));
    else
      snprintf(detail, sizeof detail, "4.3.0 %s killed by signal %d", prog, WTERMSIG(wstat));
    result(m, group[i], 111, detail);
  }
}
