/* queue_inject.c: hand a message and its envelope to a qmail-queue program. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>

#include "queue.h"

#define INJECT_BUF 65536

/* head, then fd from offset 0 (pread: the caller's offset stays put). */
static int write_message(int out, char const *head, size_t headlen, int fd)
{
  char buf[INJECT_BUF];
  off_t off = 0;
  if (headlen && allwrite(out, head, headlen) < headlen) return -1;
  while (fd >= 0)   /* bounded by the file */
  {
    ssize_t r = pread(fd, buf, sizeof buf, off);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (!r) break;
    if (allwrite(out, buf, r) < (size_t)r) return -1;
    off += r;
  }
  return 0;
}

/* prog with fd 0 and 1 from the pipes, default signal handling; 0 or errno
 * (posix_spawn reports a failed exec here, not in a child). */
static int spawn(pid_t *pid, char const *prog, int in, int env)
{
  char const *argv[2] = { prog, 0 };
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, dflt;
  int e;
  sigemptyset(&none);
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGPIPE);
  if ((e = posix_spawn_file_actions_init(&fa))) return e;
  if ((e = posix_spawnattr_init(&at))) { posix_spawn_file_actions_destroy(&fa); return e; }
  if (!(e = posix_spawn_file_actions_adddup2(&fa, in, 0)) && !(e = posix_spawn_file_actions_adddup2(&fa, env, 1))
      && !(e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
      && !(e = posix_spawnattr_setsigmask(&at, &none)) && !(e = posix_spawnattr_setsigdefault(&at, &dflt)))
    e = posix_spawnp(pid, prog, &fa, &at, (char *const *)argv, environ);
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  return e;
}

int queue_inject(char const *prog, char const *head, size_t headlen, int fd,
                 char const *env, size_t envlen)
{
  int pm[2], pe[2], wstat, e;
  pid_t pid;
  if (pipecoe(pm) < 0) return -1;
  if (pipecoe(pe) < 0) { e = errno; fd_close(pm[0]); fd_close(pm[1]); errno = e; return -1; }
  e = spawn(&pid, prog, pm[0], pe[0]);
  fd_close(pm[0]); fd_close(pe[0]);
  if (e) { fd_close(pm[1]); fd_close(pe[1]); errno = e; return -1; }
  /* a write that fails means the queue program stopped reading: its exit
   * code says why */
  if (write_message(pm[1], head, headlen, fd) == 0)
  {
    fd_close(pm[1]); pm[1] = -1;
    if (allwrite(pe[1], env, envlen) < envlen) { }
  }
  if (pm[1] >= 0) fd_close(pm[1]);
  fd_close(pe[1]);
  if (wait_pid(pid, &wstat) < 0) return -1;
  return WIFEXITED(wstat) ? WEXITSTATUS(wstat) : 128 + WTERMSIG(wstat);
}
