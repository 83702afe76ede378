/* pop3_input.c: bounded POP3 line reader with a deadline. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pop3_input.h"

void pop3_input_init(pop3_input *in, int fd, int onebyte, buffer *flush)
{
  in->fd = fd;
  in->onebyte = onebyte;
  in->flush = flush;
  in->start = in->len = 0;
  in->output_failed = 0;
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for input until deadline, then reads what fits. >0, 0 EOF, -1. */
static ssize_t fill(pop3_input *in, long long deadline)
{
  for (;;)
  {
    struct pollfd p = { .fd = in->fd, .events = POLLIN, .revents = 0 };
    long long left = deadline - now_ms();
    ssize_t r;
    int n;
    if (left <= 0) { errno = ETIMEDOUT; return -1; }
    n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
    if (n < 0) { if (errno == EINTR) continue; return -1; }
    if (!n) continue;   /* the deadline check above ends the wait */
    r = read(in->fd, in->buf + in->len, in->onebyte ? 1 : sizeof in->buf - in->len);
    if (r < 0) { if (errno == EINTR || errno == EAGAIN) continue; return -1; }
    return r;
  }
}

int pop3_input_line(pop3_input *in, unsigned int timeout_secs, char **line, size_t *len)
{
  long long deadline = now_ms() + (long long)timeout_secs * 1000;
  if (in->start)
  {
    memmove(in->buf, in->buf + in->start, in->len - in->start);
    in->len -= in->start;
    in->start = 0;
  }
  /* each turn reads at least one byte or ends: bounded by the deadline */
  for (;;)
  {
    char *nl = memchr(in->buf, '\n', in->len);
    ssize_t r;
    if (nl)
    {
      size_t n = (size_t)(nl - in->buf);
      in->start = n + 1;
      if (n && in->buf[n - 1] == '\r') n--;
      if (n > POP3_LINE_MAX) { errno = E2BIG; return -1; }
      in->buf[n] = 0;
      *line = in->buf;
      *len = n;
      return 1;
    }
    if (in->len == sizeof in->buf)
    {
      /* no line end in sight: not waited for, so a flood costs no more than this */
      in->start = in->len;
      errno = E2BIG;
      return -1;
    }
    if (in->flush && !buffer_flush(in->flush)) { in->output_failed = 1; return -1; }
    r = fill(in, deadline);
    if (r < 0) return -1;
    if (!r) return 0;
    in->len += (size_t)r;
  }
}
