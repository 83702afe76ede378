/* io.c: the client connection on fd 0 / fd 1.
 *
 * Replies are buffered and flushed only when we are about to wait for input:
 * that is what makes PIPELINING (RFC 2920) cheap, and it is also right for a
 * client that waits for each reply. Every wait has the session's deadline. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>

#include "smtpd.h"

#define IO_INBUF  65536   /* bytes read ahead from the client */
#define IO_OUTBUF 8192    /* replies; a whole EHLO answer fits many times */
#define IO_DISCARD_MAX 65536   /* an over-long line we skip before hanging up */

static char inbuf[IO_INBUF], outbuf[IO_OUTBUF];
static buffer in = BUFFER_INIT(&buffer_read, 0, inbuf, sizeof inbuf);
static buffer out = BUFFER_INIT(&buffer_write, 1, outbuf, sizeof outbuf);
static unsigned timeout;
static int broken;   /* the client is gone: nothing more to send */

static void deadline(tain *d)
{
  tain_now_g();
  tain_addsec_g(d, (int)timeout);
}

void io_init(unsigned timeout_seconds)
{
  timeout = timeout_seconds;
  /* timed skalibs I/O wants non-blocking descriptors */
  ndelay_on(0);
  ndelay_on(1);
}

void io_timeout(unsigned seconds) { timeout = seconds; }

int io_talked_first(unsigned delay_ms)
{
  iopause_fd x = { .fd = 0, .events = IOPAUSE_READ, .revents = 0 };
  tain d;
  ssize_t r;
  tain_now_g();
  tain_from_millisecs(&d, (int)delay_ms);
  tain_add_g(&d, &d);
  if (iopause_g(&x, 1, &d) <= 0 || !(x.revents & IOPAUSE_READ)) return 0;
  r = buffer_fill(&in);   /* readable may also mean closed: that is not talking */
  if (r > 0) return 1;
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
  session_end("disconnect");
}

void io_flush(void)
{
  tain d;
  if (broken || buffer_isempty(&out)) return;
  deadline(&d);
  if (!buffer_timed_flush_g(&out, &d))
  {
    broken = 1;
    session_end(errno == ETIMEDOUT ? "timeout" : "writeerror");
  }
}

void io_put(char const *s, size_t len)
{
  while (len)
  {
    size_t n = buffer_available(&out);
    if (broken) return;
    if (!n) { io_flush(); continue; }
    if (n > len) n = len;
    buffer_putnoflush(&out, s, n);
    s += n; len -= n;
  }
}

void io_puts(char const *s) { io_put(s, strlen(s)); }

void io_reply(char const *s) { io_puts(s); io_put("\r\n", 2); }

static void fill(void)
{
  tain d;
  ssize_t r;
  io_flush();
  deadline(&d);
  r = buffer_timed_fill_g(&in, &d);
  if (r > 0) return;
  if (r < 0 && errno == ETIMEDOUT)
  {
    io_reply("421 4.4.2 Timeout exceeded, closing connection");
    session_end("timeout");
  }
  session_end(r ? "readerror" : "disconnect");
}

void io_peek(struct iovec v[2])
{
  if (buffer_isempty(&in)) fill();
  buffer_rpeek(&in, v);
}

void io_skip(size_t n) { buffer_rseek(&in, n); }

int io_starttls(ucspitls const *t, unsigned timeout_seconds)
{
  io_flush();
  /* RFC 3207 4.2 (and CVE-2011-0411): what the client sent after STARTTLS
     came in the clear; none of it may count as said under TLS */
  buffer_rseek(&in, buffer_len(&in));
  if (!ucspitls_start(t, timeout_seconds)) return 0;
  in.fd = t->rfd;
  out.fd = t->wfd;
  ndelay_on(in.fd);
  ndelay_on(out.fd);
  close(t->ctl);
  return 1;
}

ssize_t io_line(char *line, size_t max)
{
  size_t len = 0, skipped = 0;
  int toolong = 0;
  for (;;)
  {
    struct iovec v[2];
    io_peek(v);
    for (int k = 0; k < 2; k++)
    {
      char const *base = v[k].iov_base;
      char const *nl = v[k].iov_len ? memchr(base, '\n', v[k].iov_len) : 0;
      size_t n = nl ? (size_t)(nl - base) + 1 : v[k].iov_len;
      if (!toolong && len + n > max + 2) toolong = 1;
      if (!toolong) { memcpy(line + len, base, n); len += n; }
      else skipped += n;
      io_skip(n);
      if (nl)
      {
        if (toolong) return -1;
        len--;                                   /* the LF */
        if (len && line[len-1] == '\r') len--;
        if (len > max) return -1;
        line[len] = 0;
        return (ssize_t)len;
      }
    }
    if (skipped > IO_DISCARD_MAX)
    {
      io_reply("421 4.7.0 Line too long, closing connection");
      session_end("linetoolong");
    }
  }
}
