/* imap_io: see imap_io.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include "imap_io.h"
#include "imap_parse.h"

static char inbuf[16384];
static size_t inpos, inlen;
static size_t readsize = sizeof inbuf;

void imap_io_exact(void) { readsize = 1; }

int imap_input_buffered(void) { return inpos < inlen; }

/* Refills inbuf; 1 ok, 0 EOF, -1 error. */
static int fill(tain const *deadline)
{
  iopause_fd x = { .fd = 0, .events = IOPAUSE_READ, .revents = 0 };
  ssize_t r;
  for (;;)
  {
    int n = iopause_g(&x, 1, deadline);
    if (n < 0) { if (errno == EINTR) continue; return -1; }
    if (!n) { errno = ETIMEDOUT; return -1; }
    r = read(0, inbuf, readsize);
    if (r < 0) { if (errno == EINTR || errno == EAGAIN) continue; return -1; }
    if (!r) return 0;
    inpos = 0; inlen = (size_t)r;
    return 1;
  }
}

/* Appends one line with its LF to out; the line part may not exceed max. */
static int line_into(stralloc *out, size_t max, tain const *deadline)
{
  size_t start = out->len;
  for (;;)
  {
    char *nl;
    size_t n;
    int r;
    if (inpos == inlen && (r = fill(deadline)) <= 0) return r;
    nl = memchr(inbuf + inpos, '\n', inlen - inpos);
    n = nl ? (size_t)(nl - (inbuf + inpos)) + 1 : inlen - inpos;
    if (out->len - start + n > max + 2)
    {
      /* keep the part that fits: the tag and command name for the answer */
      n = max + 2 - (out->len - start);
      if (!stralloc_catb(out, inbuf + inpos, n)) return -1;
      inpos += n;
      errno = E2BIG;
      return -1;
    }
    if (!stralloc_catb(out, inbuf + inpos, n)) return -1;
    inpos += n;
    if (nl) return 1;
  }
}

static int bytes_into(stralloc *out, size_t n, tain const *deadline)
{
  if (!stralloc_readyplus(out, n)) return -1;
  while (n)
  {
    size_t k;
    int r;
    if (inpos == inlen && (r = fill(deadline)) <= 0) return r;
    k = inlen - inpos < n ? inlen - inpos : n;
    memcpy(out->s + out->len, inbuf + inpos, k);
    out->len += k; inpos += k; n -= k;
  }
  return 1;
}

/* Literals spooled to files (imap_io_spool) in the current command. */
static imap_spool_fn *spool_fn;
static uint64_t spool_min;
static struct { size_t at; int fd; int error; } spooled[IMAP_SPOOLED_MAX];
static size_t nspooled;

void imap_io_spool(imap_spool_fn *f, uint64_t min) { spool_fn = f; spool_min = min; }

int imap_spooled_at(size_t at, int *fd, int *error)
{
  for (size_t i = 0; i < nspooled; i++)
    if (spooled[i].at == at) { *fd = spooled[i].fd; *error = spooled[i].error; return 1; }
  return 0;
}

static void spool_reset(void)
{
  for (size_t i = 0; i < nspooled; i++) close(spooled[i].fd);
  nspooled = 0;
}

/* n literal bytes into fd; a write error is kept in *error and the rest
 * read all the same (the client is sending it). */
static int bytes_to_fd(int fd, uint64_t n, int *error, tain const *deadline)
{
  while (n)
  {
    size_t k;
    int r;
    if (inpos == inlen && (r = fill(deadline)) <= 0) return r;
    k = inlen - inpos < n ? inlen - inpos : (size_t)n;
    if (!*error && allwrite(fd, inbuf + inpos, k) < k) *error = errno ? errno : EIO;
    inpos += k; n -= k;
  }
  return 1;
}

/* The literal announced at the end of cmd goes to a spool file, if the
 * caller's hook gives one: its header becomes {0}, the bytes go to the
 * file. 1 spooled (or failed: r), 0 not spooled. */
static int spool(stralloc *cmd, uint64_t n, tain const *deadline, int *r)
{
  size_t brace = cmd->len;
  int fd;
  if (!spool_fn || n < spool_min || nspooled >= IMAP_SPOOLED_MAX) return 0;
  fd = (*spool_fn)(cmd->s, cmd->len, n);
  if (fd < 0) return 0;
  while (brace && cmd->s[brace - 1] != '{') brace--;
  cmd->len = --brace;
  spooled[nspooled].at = brace; spooled[nspooled].fd = fd; spooled[nspooled].error = 0;
  nspooled++;
  if (!stralloc_cats(cmd, "{0}\r\n")) { *r = -1; return 1; }
  *r = bytes_to_fd(fd, n, &spooled[nspooled - 1].error, deadline);
  return 1;
}

/* What is left of a command that went over a limit, consumed and kept
 * nowhere: the rest of the current line, and after a line that announces a
 * non-synchronising literal, its bytes and the next line. A synchronising
 * literal ends it (its client waits for a "+" that does not come). 1 done,
 * 0 end of input, -1 error (EMSGSIZE: a literal over literal_max). */
static int skip_rest(size_t literal_max, tain const *deadline)
{
  char tail[32];   /* the line's last bytes: room for "{4294967296+}\r\n" */
  size_t tlen = 0;
  for (;;)
  {
    char *nl;
    size_t n, keep;
    uint64_t lit;
    int nonsync, r;
    if (inpos == inlen && (r = fill(deadline)) <= 0) return r;
    nl = memchr(inbuf + inpos, '\n', inlen - inpos);
    n = nl ? (size_t)(nl - (inbuf + inpos)) + 1 : inlen - inpos;
    keep = n < sizeof tail ? n : sizeof tail;
    if (tlen + keep > sizeof tail) { memmove(tail, tail + tlen + keep - sizeof tail, sizeof tail - keep); tlen = sizeof tail - keep; }
    memcpy(tail + tlen, inbuf + inpos + n - keep, keep);
    tlen += keep;
    inpos += n;
    if (!nl) continue;
    n = tlen - 1;
    if (n && tail[n - 1] == '\r') n--;
    tlen = 0;
    r = imap_literal_tail(tail, n, &lit, &nonsync);
    if (r <= 0 || !nonsync) return 1;
    if (lit > literal_max) { errno = EMSGSIZE; return -1; }
    while (lit)
    {
      if (inpos == inlen && (r = fill(deadline)) <= 0) return r;
      n = inlen - inpos < lit ? inlen - inpos : (size_t)lit;
      inpos += n; lit -= n;
    }
  }
}

/* The command is over a limit: E2BIG once the rest of it is consumed. */
static int too_big(size_t literal_max, tain const *deadline)
{
  int r = skip_rest(literal_max, deadline);
  if (r <= 0) return r;
  errno = E2BIG;
  return -1;
}

static void deadline_in(tain *deadline, unsigned secs)
{
  tain_now_g();
  tain_addsec_g(deadline, secs);
}

/* The literal is acknowledged at once: a client that writes it and what
 * follows in several small writes would otherwise wait (Nagle) on our
 * delayed ACK, about 40 ms a literal, since we answer nothing until the
 * command is whole. Not a TCP socket (a pipe): nothing happens. */
static void quickack(void)
{
  int one = 1;
  setsockopt(0, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

int imap_read_command(stralloc *cmd, size_t line_max, size_t literal_max, unsigned timeout_secs)
{
  tain deadline;
  unsigned lines = 0;
  uint64_t literals = 0;
  cmd->len = 0;
  spool_reset();
  deadline_in(&deadline, timeout_secs);
  for (;;)
  {
    size_t start = cmd->len, end;
    uint64_t n;
    int nonsync, r;
    if (++lines > IMAP_COMMAND_LINES_MAX) return too_big(literal_max, &deadline);
    r = line_into(cmd, line_max, &deadline);
    if (r < 0 && errno == E2BIG) return too_big(literal_max, &deadline);
    if (r <= 0) return r;
    end = cmd->len - 1;
    if (end > start && cmd->s[end - 1] == '\r') end--;
    r = imap_literal_tail(cmd->s + start, end - start, &n, &nonsync);
    if (!r) return 1;
    if (r < 0 || n > literal_max - literals)
    {
      /* a synchronising literal is refused before the client sends it */
      errno = nonsync ? EMSGSIZE : EFBIG;
      return -1;
    }
    literals += n;
    if (!nonsync && !buffer_putsflush(buffer_1, "+ OK\r\n")) return -1;
    quickack();
    if (!spool(cmd, n, &deadline, &r)) r = bytes_into(cmd, (size_t)n, &deadline);
    if (r <= 0) return r;
  }
}

int imap_read_line(stralloc *line, unsigned timeout_secs)
{
  tain deadline;
  int r;
  line->len = 0;
  deadline_in(&deadline, timeout_secs);
  r = line_into(line, IMAP_LINE_MAX, &deadline);
  if (r <= 0) return r;
  if (line->len && line->s[line->len - 1] == '\n') line->len--;
  if (line->len && line->s[line->len - 1] == '\r') line->len--;
  return 1;
}
