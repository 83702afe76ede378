/* imap_io: see imap_io.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
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

int imap_read_command(stralloc *cmd, size_t line_max, size_t literal_max, unsigned timeout_secs)
{
  tain deadline;
  unsigned lines = 0;
  uint64_t literals = 0;
  cmd->len = 0;
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
    r = bytes_into(cmd, (size_t)n, &deadline);
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
