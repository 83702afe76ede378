/* server.c: vmail-resolve -l. One process, and so one database connection,
 * answers every client of the listening unix socket on fd 0, from one event
 * loop: a client sends addresses one per line and gets their answer blocks in
 * order, byte for byte as batch mode writes them. Lookups run one at a time:
 * while the database is slow, every client waits.
 *
 * Per client the server keeps at most one line of input and the answers the
 * client has not read yet; a client that asks again while more than
 * OUTPUT_MAX_BYTES of them wait beyond what its socket holds is dropped, so
 * a client that writes without reading cannot make the server grow past that
 * and one answer block (at most RESOLVE_RECIPIENTS_MAX lines). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/error.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/socket.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "logline.h"
#include "privilege.h"
#include "resolve_modes.h"

#define CLIENTS_MAX       256           /* served at once; more are refused (closed) */
#define OUTPUT_MAX_BYTES  (256 * 1024)  /* unread answers a client may leave behind */
#define OUTPUT_KEEP_BYTES (16 * 1024)   /* answer space a client keeps between answers */
#define ACCEPTS_PER_TURN  32            /* new connections taken per wake-up */

struct client
{
  int fd;                     /* -1: forgotten, its slot is free */
  int eof;                    /* sent all it will: closed once answered */
  int skipping;               /* inside an over-long line, answered already */
  size_t inlen;
  char in[LINE_MAX_BYTES];    /* received, not answered yet: one line at most */
  stralloc out;               /* answers not yet written */
  size_t outpos;              /* how much of out is written */
};

static struct client clients[CLIENTS_MAX];
static unsigned int nclients;
static int accepting = 1;     /* 0 while out of descriptors: until a client leaves */

static char const *number(size_t n)
{
  static char fmt[SIZE_FMT];
  fmt[size_fmt(fmt, n)] = 0;
  return fmt;
}

/* fd 0 must be what s6-ipcserver-socketbinder gives: a listening unix socket. */
static void listener_check(void)
{
  struct sockaddr_storage sa;
  socklen_t salen = sizeof sa;
  int listening = 0;
  socklen_t len = sizeof listening;
  if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening
      || getsockname(0, (struct sockaddr *)&sa, &salen) < 0 || sa.ss_family != AF_UNIX)
    strerr_dief1x(100, "-l: standard input is not a listening unix socket"
                       " (start as: s6-ipcserver-socketbinder PATH vmail-resolve -l)");
  if (ndelay_on(0) < 0 || coe(0) < 0) strerr_diefu1sys(111, "set up the listening socket");
}

static size_t pending(struct client const *c) { return c->out.len - c->outpos; }

static void client_forget(struct client *c)
{
  fd_close(c->fd);
  c->fd = -1;
  stralloc_free(&c->out);
}

static void client_drop(struct client *c, char const *reason)
{
  log_line("drop reason=", reason, " pending=", number(pending(c)), (char *)0);
  client_forget(c);
}

/* Writes what the client takes now; 0 if it is gone. */
static int client_write(struct client *c)
{
  while (pending(c))
  {
    ssize_t w = fd_write(c->fd, c->out.s + c->outpos, pending(c));
    if (w < 0)
    {
      if (!error_isagain(errno)) return 0;
      if (c->outpos >= OUTPUT_KEEP_BYTES)   /* the written part is not kept */
      {
        memmove(c->out.s, c->out.s + c->outpos, pending(c));
        c->out.len -= c->outpos;
        c->outpos = 0;
      }
      return 1;
    }
    c->outpos += (size_t)w;
  }
  c->out.len = c->outpos = 0;
  if (c->out.a > OUTPUT_KEEP_BYTES) stralloc_free(&c->out);
  return 1;
}

/* May the client be answered again? Not if what it left unread is still
 * over the limit once the socket has taken what it can: it is dropped. */
static int client_may_ask(struct client *c)
{
  if (pending(c) <= OUTPUT_MAX_BYTES) return 1;
  if (!client_write(c)) { client_forget(c); return 0; }
  if (pending(c) <= OUTPUT_MAX_BYTES) return 1;
  client_drop(c, "output");
  return 0;
}

/* Answers one line (its LF removed; line[len] is writable). 0 if dropped. */
static int client_answer(struct client *c, char *line, size_t len)
{
  if (c->skipping) { c->skipping = 0; return 1; }   /* the end of a long line */
  if (!client_may_ask(c)) return 0;
  if (answer_block(answer_address(line, len), &c->out)) return 1;
  client_drop(c, "memory");
  return 0;
}

/* Answers every whole line received; keeps the start of the next one. */
static void client_answer_lines(struct client *c)
{
  size_t start = 0;
  for (;;)
  {
    char *lf = memchr(c->in + start, '\n', c->inlen - start);
    size_t len;
    if (!lf) break;
    len = (size_t)(lf - (c->in + start));
    if (!client_answer(c, c->in + start, len)) return;
    start += len + 1;
  }
  memmove(c->in, c->in + start, c->inlen - start);
  c->inlen -= start;
  if (c->inlen < sizeof c->in) return;
  /* too long to be an address: answered now, the rest up to LF ignored */
  c->inlen = 0;
  if (c->skipping) return;
  if (!client_may_ask(c)) return;
  if (!answer_too_long(&c->out)) { client_drop(c, "memory"); return; }
  c->skipping = 1;
}

static void client_read(struct client *c)
{
  ssize_t r = fd_read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
  if (r < 0)
  {
    if (!error_isagain(errno)) client_forget(c);
    return;
  }
  if (r)
  {
    c->inlen += (size_t)r;
    client_answer_lines(c);
    return;
  }
  /* end of its input: a last line without LF is answered, as in batch mode */
  c->eof = 1;
  if (c->inlen) client_answer(c, c->in, c->inlen);
  c->inlen = 0;
}

static void client_event(struct client *c, short revents)
{
  if ((revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) && !c->eof) client_read(c);
  if (c->fd < 0) return;
  if (!client_write(c) || (c->eof && !pending(c))) client_forget(c);
}

/* Frees the slots of forgotten clients. */
static void clients_compact(void)
{
  for (unsigned int i = 0; i < nclients; )
  {
    if (clients[i].fd >= 0) { i++; continue; }
    clients[i] = clients[--nclients];
    accepting = 1;
  }
}

static void clients_accept(void)
{
  for (unsigned int i = 0; i < ACCEPTS_PER_TURN; i++)
  {
    struct client *c;
    int fd = ipc_accept_nbcoe(0, 0, 0, 0);
    if (fd < 0)
    {
      if (error_isagain(errno) || errno == ECONNABORTED) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
      {
        strerr_warnwu1sys("accept (waiting for a client to leave)");
        accepting = 0;
        return;
      }
      strerr_diefu1sys(111, "accept");
    }
    if (nclients >= CLIENTS_MAX)
    {
      fd_close(fd);
      log_line("refuse reason=clients clients=", number(nclients), (char *)0);
      return;   /* hear who has left before refusing anyone else */
    }
    c = clients + nclients++;
    memset(c, 0, sizeof *c);
    c->fd = fd;
  }
}

/* 1 when a signal says stop. */
static int signals_stop(void)
{
  for (;;)   /* bounded: the self-pipe holds few signals */
  {
    int sig = selfpipe_read();
    if (sig < 0) strerr_diefu1sys(111, "selfpipe_read");
    if (!sig) return 0;
    if (sig == SIGTERM || sig == SIGINT) return 1;
  }
}

int server_run(void)
{
  iopause_fd x[2 + CLIENTS_MAX];
  listener_check();
  /* the database, and every client, only as the mail user */
  if (privilege_drop("VMAIL_UID", "VMAIL_GID") < 0) strerr_dief1x(privilege_exitcode(), privilege_error());
  x[0].fd = selfpipe_init();
  if (x[0].fd < 0) strerr_diefu1sys(111, "selfpipe_init");
  if (selfpipe_trap(SIGTERM) < 0 || selfpipe_trap(SIGINT) < 0) strerr_diefu1sys(111, "trap signals");
  signal(SIGPIPE, SIG_IGN);
  x[0].events = IOPAUSE_READ;
  x[1].fd = 0;
  log_line("start clients_max=", number(CLIENTS_MAX), (char *)0);

  for (;;)   /* the event loop: one turn per wake-up */
  {
    unsigned int n = 2;
    x[1].events = accepting ? IOPAUSE_READ : 0;
    for (unsigned int i = 0; i < nclients; i++, n++)
    {
      x[n].fd = clients[i].fd;
      x[n].events = (clients[i].eof ? 0 : IOPAUSE_READ) | (pending(clients + i) ? IOPAUSE_WRITE : 0);
    }
    if (iopause(x, n, 0, 0) < 0)
    {
      if (errno == EINTR) continue;
      strerr_diefu1sys(111, "iopause");
    }
    if ((x[0].revents & IOPAUSE_READ) && signals_stop()) break;
    for (unsigned int i = 2; i < n; i++)
      if (x[i].revents) client_event(clients + (i - 2), x[i].revents);
    clients_compact();
    if (x[1].revents & IOPAUSE_READ) clients_accept();
  }
  log_line("stop clients=", number(nclients), (char *)0);
  for (unsigned int i = 0; i < nclients; i++) client_forget(clients + i);
  return 0;
}
