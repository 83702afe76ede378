/* pop3_output.c: writes bounded in time by SIGALRM. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "pop3_output.h"

static unsigned int limit;
static volatile sig_atomic_t timed_out;

static void on_alarm(int sig) { (void)sig; timed_out = 1; }

int pop3_output_init(unsigned int timeout_secs)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = &on_alarm;
  sigemptyset(&sa.sa_mask);
  limit = timeout_secs;
  return sigaction(SIGALRM, &sa, 0);
}

ssize_t pop3_output_writev(int fd, struct iovec const *v, unsigned int n)
{
  ssize_t r;
  timed_out = 0;
  alarm(limit);
  r = writev(fd, v, n);
  alarm(0);
  if (r < 0 && timed_out) errno = ETIMEDOUT;
  return r;
}
