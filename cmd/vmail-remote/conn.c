/* conn.c: one TCP connection, plain or TLS, with deadlines on every read
 * and write (non-blocking socket, poll). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <tls.h>
#include <skalibs/djbunix.h>

#include "remote.h"
#include "tls_client.h"

#define OUT_FLUSH_AT 65536          /* bytes queued before conn_put sends them */

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned int timeout(unsigned int secs)
{
  static long cap = -1;
  if (cap < 0)
  {
    char const *s = getenv("VMAIL_REMOTE_TIMEOUT");
    cap = s && *s ? strtol(s, 0, 10) : 0;
    if (cap < 0) cap = 0;
  }
  return cap && (unsigned long)cap < secs ? (unsigned int)cap : secs;
}

static int wait_for(int fd, short ev, long long end)
{
  struct pollfd p = { .fd = fd, .events = ev };
  int r;
  do
  {
    long long left = end - now_ms();
    r = poll(&p, 1, left > 0 ? (int)left : 0);
  } while (r < 0 && errno == EINTR);
  if (r == 0) errno = ETIMEDOUT;
  return r > 0 ? 0 : -1;
}

int conn_open(struct conn *c, char const *host, struct dns_addr const *a, unsigned int port)
{
  struct sockaddr_storage ss;
  socklen_t sl;
  char ip[46];
  int err = 0;
  socklen_t el = sizeof err;
  memset(&ss, 0, sizeof ss);
  c->tls = 0;
  c->inpos = c->inlen = 0;
  c->out.len = 0;
  strcpy(c->tlsinfo, "none");
  dns_addr_fmt(a, ip);
  snprintf(c->mta, sizeof c->mta, "%s[%s]:%u", host, ip, port);
  if (a->family == AF_INET)
  {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((unsigned short)port);
    memcpy(&s4->sin_addr, a->ip, 4);
    sl = sizeof *s4;
  }
  else
  {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((unsigned short)port);
    memcpy(&s6->sin6_addr, a->ip, 16);
    sl = sizeof *s6;
  }
  c->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -1;
  if (connect(c->fd, (struct sockaddr *)&ss, sl) == 0) return 0;
  if (errno != EINPROGRESS) { err = errno; goto fail; }
  if (wait_for(c->fd, POLLOUT, now_ms() + 1000LL * timeout(TIMEOUT_CONNECT)) < 0) { err = errno; goto fail; }
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) err = errno;
  if (!err) return 0;
fail:
  fd_close(c->fd);
  c->fd = -1;
  errno = err;
  return -1;
}

int conn_put(struct conn *c, char const *s, size_t len)
{
  if (!stralloc_catb(&c->out, s, len)) return -1;
  return c->out.len >= OUT_FLUSH_AT ? conn_flush(c, timeout(TIMEOUT_BLOCK)) : 0;
}

int conn_puts(struct conn *c, char const *s)
{
  return conn_put(c, s, strlen(s));
}

int conn_flush(struct conn *c, unsigned int secs)
{
  long long end = now_ms() + 1000LL * secs;
  size_t done = 0;
  while (done < c->out.len)   /* bounded by the deadline */
  {
    ssize_t w;
    if (c->tls)
    {
      w = tls_write(c->tls, c->out.s + done, c->out.len - done);
      if (w == TLS_WANT_POLLIN || w == TLS_WANT_POLLOUT)
      {
        if (wait_for(c->fd, w == TLS_WANT_POLLIN ? POLLIN : POLLOUT, end) < 0) return -1;
        continue;
      }
      if (w < 0) { errno = EPIPE; return -1; }
    }
    else
    {
      w = write(c->fd, c->out.s + done, c->out.len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) { if (wait_for(c->fd, POLLOUT, end) < 0) return -1; continue; }
      if (w < 0) return -1;
    }
    done += (size_t)w;
  }
  c->out.len = 0;
  return 0;
}

/* More input into c->in; 0 ok, -1 (errno). */
static int fill(struct conn *c, long long end)
{
  for (;;)   /* bounded by the deadline */
  {
    ssize_t r;
    if (c->tls)
    {
      r = tls_read(c->tls, c->in, sizeof c->in);
      if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT)
      {
        if (wait_for(c->fd, r == TLS_WANT_POLLIN ? POLLIN : POLLOUT, end) < 0) return -1;
        continue;
      }
      if (r < 0) { errno = EPROTO; return -1; }
    }
    else
    {
      r = read(c->fd, c->in, sizeof c->in);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN) { if (wait_for(c->fd, POLLIN, end) < 0) return -1; continue; }
      if (r < 0) return -1;
    }
    if (r == 0) { errno = EPIPE; return -1; }
    c->inpos = 0;
    c->inlen = (size_t)r;
    return 0;
  }
}

int conn_reply(struct conn *c, struct smtp_reply *r, unsigned int secs)
{
  long long end = now_ms() + 1000LL * secs;
  char line[SMTP_REPLY_LINE_MAX + 1];
  size_t len = 0;
  if (conn_flush(c, secs) < 0) return -1;
  smtp_reply_init(r);
  for (;;)   /* bounded: lines are capped, and so is a reply's count of them */
  {
    char ch;
    int done;
    if (c->inpos == c->inlen && fill(c, end) < 0) return -1;
    ch = c->in[c->inpos++];
    if (ch != '\n') { if (len < sizeof line) line[len++] = ch; continue; }
    if (len && line[len-1] == '\r') len--;
    done = smtp_reply_line(r, line, len);
    len = 0;
    if (done < 0) { errno = EPROTO; return -1; }
    if (done) return 0;
  }
}

int conn_starttls(struct conn *c, char const *servername, int verify, char *err, size_t errlen)
{
  if (c->inpos != c->inlen)
  {
    /* RFC 3207 5: nothing may follow the 220 in the clear (a command injection) */
    snprintf(err, errlen, "server sent data after its 220 to STARTTLS");
    return -1;
  }
  c->tls = tls_client_start(c->fd, servername, verify, 1000 * (int)timeout(TIMEOUT_MAIL), err, errlen);
  if (!c->tls) return -1;
  tls_client_describe(c->tls, c->tlsinfo, sizeof c->tlsinfo);
  return 0;
}

void conn_close(struct conn *c)
{
  if (c->tls) { tls_client_close(c->tls); c->tls = 0; }
  if (c->fd >= 0) fd_close(c->fd);
  c->fd = -1;
}
