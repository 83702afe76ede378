/* checkpw.c: the checkpassword protocol, reading side and login side. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>

#include "checkpw.h"

long checkpw_read(int fd, char *buf)
{
  size_t n = 0;
  for (;;)
  {
    ssize_t r = read(fd, buf + n, CHECKPW_INPUT_MAX + 1 - n);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (!r) break;
    n += r;
    if (n > CHECKPW_INPUT_MAX) { errno = EMSGSIZE; return -1; }
  }
  buf[n] = 0;
  return (long)n;
}

int checkpw_parse(char *buf, size_t len, char **user, char **password)
{
  char *nul = memchr(buf, 0, len), *end;
  if (!nul || nul == buf) return 0;
  end = memchr(nul + 1, 0, len - (size_t)(nul + 1 - buf));
  if (!end) return 0;
  *user = buf;
  *password = nul + 1;
  return 1;
}

int checkpw_run(char const *const *argv, char const *user, char const *password)
{
  int p[2], status;
  size_t ul = strlen(user), pl = strlen(password);
  pid_t pid;
  if (ul + pl + 3 > CHECKPW_INPUT_MAX) return 1;   /* too long to be anyone's login */
  if (pipe(p) < 0) return -1;
  pid = fork();
  if (pid < 0) { close(p[0]); close(p[1]); return -1; }
  if (!pid)
  {
    close(p[1]);
    if (p[0] != 3) { if (dup2(p[0], 3) < 0) _exit(111); close(p[0]); }
    execvp(argv[0], (char *const *)argv);
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(p[0]);
  /* fits in the pipe buffer: no deadlock with a child that reads late */
  if (allwrite(p[1], user, ul + 1) < ul + 1 || allwrite(p[1], password, pl + 1) < pl + 1
      || allwrite(p[1], "", 1) < 1)
  {
    close(p[1]);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  close(p[1]);
  while (waitpid(pid, &status, 0) < 0) if (errno != EINTR) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 111;
}
