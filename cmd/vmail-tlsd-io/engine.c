/* engine.c: the TLS side of the connection; see tlsio.h. Runs in the
 * engine process, as VMAIL_TLS_UID when started as root. Every descriptor
 * it touches is non-blocking, every wait is a poll with a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <tls.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>

#include "logline.h"
#include "tlsio.h"
#include "ucspitls.h"

#define RELAY_BUF 16384      /* RFC 8446 5.1: a record holds at most 2^14 bytes */
#define CLOSE_NOTIFY_SECS 5  /* for our close_notify to leave */

static char const *client_ip(void)
{
  char const *ip = getenv("TCPREMOTEIP");
  return ip && *ip ? ip : "-";
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd 0 (POLLIN) or fd 1 (POLLOUT) as libtls asked, until
 * deadline: 1 ready, 0 timed out. */
static int wait_net(int want, long long deadline)
{
  struct pollfd p = { .fd = want == TLS_WANT_POLLIN ? 0 : 1, .events = want == TLS_WANT_POLLIN ? POLLIN : POLLOUT };
  for (;;)
  {
    long long left = deadline - now_ms();
    int r;
    if (left <= 0) return 0;
    r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) return 1;   /* let libtls meet the error */
  }
}

int engine_handshake(struct tls *server, struct tls **conn, unsigned timeout)
{
  long long deadline = now_ms() + (long long)timeout * 1000;
  int one = 1;
  ndelay_on(0);
  ndelay_on(1);
  /* each record leaves at once: the handshake's last flight and the
     server's next reply must not wait for the client's delayed ACK */
  setsockopt(1, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (tls_accept_fds(server, conn, 0, 1) < 0)
  {
    log_line("tls fail ip=", client_ip(), " error=", tls_error(server), (char *)0);
    return 0;
  }
  for (;;)
  {
    int r = tls_handshake(*conn);
    if (!r) break;
    if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT)
    {
      char const *e = tls_error(*conn);
      log_line("tls fail ip=", client_ip(), " error=", e ? e : "connection closed", (char *)0);
      return 0;
    }
    if (!wait_net(r, deadline))
    {
      log_line("tls fail ip=", client_ip(), " error=handshake timed out", (char *)0);
      return 0;
    }
  }
  {
    char const *sni = tls_conn_servername(*conn);
    log_line("tls start ip=", client_ip(), " version=", tls_conn_version(*conn),
             " cipher=", tls_conn_cipher(*conn), " sni=", sni ? sni : "-", (char *)0);
  }
  return 1;
}

int engine_details(struct tls *conn, stralloc *sa)
{
  char const *sni = tls_conn_servername(conn);
  return ucspitls_details_add(sa, "SSL_PROTOCOL", tls_conn_version(conn))
      && ucspitls_details_add(sa, "SSL_CIPHER", tls_conn_cipher(conn))
      && (!sni || ucspitls_details_add(sa, "SSL_TLS_SNI", sni))
      && ucspitls_details_end(sa);
}

/* Our close_notify, then out: the client knows the end is not a cut. */
static void finish(struct tls *conn)
{
  long long deadline = now_ms() + CLOSE_NOTIFY_SECS * 1000;
  for (;;)
  {
    int r = tls_close(conn);
    if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT) break;
    if (!wait_net(r, deadline)) break;
  }
  _exit(0);
}

struct direction { char buf[RELAY_BUF]; size_t len, off; int eof; };

void engine_relay(struct tls *conn, int appr, int appw, unsigned idle)
{
  static struct direction down, up;   /* down: client to prog; up: prog to client */
  long long deadline = now_ms() + (long long)idle * 1000;
  ndelay_on(appr);
  ndelay_on(appw);
  for (;;)
  {
    struct pollfd p[4] = { { .fd = 0 }, { .fd = 1 }, { .fd = appr }, { .fd = appw } };
    int progress = 0;
    ssize_t r;
    if (!down.eof && down.off == down.len)
    {
      r = tls_read(conn, down.buf, sizeof down.buf);
      if (r > 0) { down.len = (size_t)r; down.off = 0; progress = 1; }
      else if (r == TLS_WANT_POLLIN) p[0].events |= POLLIN;
      else if (r == TLS_WANT_POLLOUT) p[1].events |= POLLOUT;
      else { down.eof = 1; progress = 1; }   /* close_notify, a cut, or an error: the client is done */
    }
    if (down.off < down.len)
    {
      r = write(appw, down.buf + down.off, down.len - down.off);
      if (r > 0) { down.off += (size_t)r; progress = 1; }
      else if (errno == EAGAIN) p[3].events |= POLLOUT;
      else finish(conn);   /* prog is gone */
    }
    if (down.eof && down.off == down.len && appw >= 0) { close(appw); appw = -1; p[3].fd = -1; }
    if (!up.eof && up.off == up.len)
    {
      r = read(appr, up.buf, sizeof up.buf);
      if (r > 0) { up.len = (size_t)r; up.off = 0; progress = 1; }
      else if (r < 0 && errno == EAGAIN) p[2].events |= POLLIN;
      else if (r < 0 && errno == EINTR) progress = 1;
      else { up.eof = 1; progress = 1; }
    }
    if (up.off < up.len)
    {
      r = tls_write(conn, up.buf + up.off, up.len - up.off);
      if (r > 0) { up.off += (size_t)r; progress = 1; }
      else if (r == TLS_WANT_POLLIN) p[0].events |= POLLIN;
      else if (r == TLS_WANT_POLLOUT) p[1].events |= POLLOUT;
      else _exit(0);   /* the client is gone */
    }
    if (up.eof && up.off == up.len) finish(conn);
    if (progress) { deadline = now_ms() + (long long)idle * 1000; continue; }
    {
      long long left = deadline - now_ms();
      int n;
      if (left <= 0)
      {
        log_line("tls end ip=", client_ip(), " reason=idle", (char *)0);
        finish(conn);
      }
      for (int i = 0; i < 4; i++) if (!p[i].events) p[i].fd = -1;   /* no wake-ups for what we cannot take */
      n = poll(p, 4, left > 60000 ? 60000 : (int)left);
      if (n < 0 && errno != EINTR) _exit(111);
    }
  }
}
