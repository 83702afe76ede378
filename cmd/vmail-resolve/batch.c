/* batch.c: one address per line on stdin, answered with flushed blocks on
 * stdout as soon as they are resolved, so that a server can keep the program
 * running as a co-process for a whole session. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <skalibs/buffer.h>
#include <skalibs/skamisc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "resolve_modes.h"

static void put_block(stralloc const *sa)
{
  if (buffer_put(buffer_1, sa->s, sa->len) < 0 || !buffer_flush(buffer_1))
    strerr_diefu1sys(111, "write to stdout");
}

/* The rest of a line too long to be an address. */
static void skip_line(void)
{
  char c;
  while (buffer_get(buffer_0, &c, 1) == 1 && c != '\n') ;
}

/* A whole line is in the buffer already: reading it cannot wait. */
static int line_buffered(void)
{
  struct iovec v[2];
  buffer_rpeek(buffer_0, v);
  return (v[0].iov_len && memchr(v[0].iov_base, '\n', v[0].iov_len))
      || (v[1].iov_len && memchr(v[1].iov_base, '\n', v[1].iov_len));
}

int batch_run(void)
{
  static char lines[ANSWER_BATCH_MAX][LINE_MAX_BYTES + 1];
  char const *addresses[ANSWER_BATCH_MAX];
  stralloc sa = STRALLOC_ZERO;
  int more = 1;
  while (more)
  {
    unsigned int n = 0;
    int too_long = 0;
    sa.len = 0;
    /* The first line may wait for input; the next ones are taken only when
       they are here already, so a client that sends one address and waits
       gets its answer at once, and one that sends many gets them answered
       together, with one query per alias level for the lot. */
    while (n < ANSWER_BATCH_MAX && (!n || line_buffered()))
    {
      char *line = lines[n];
      size_t w = 0, len;
      int r = getlnmax(buffer_0, line, LINE_MAX_BYTES + 1, &w, '\n');
      if (r < 0 && errno != ERANGE) strerr_diefu1sys(111, "read stdin");
      if (!r && !w) { more = 0; break; }
      len = line[w-1] == '\n' ? w - 1 : w;   /* without its LF, if it came */
      if (!r) more = 0;   /* end of input after this line */
      if (len >= LINE_MAX_BYTES)
      {
        if (len == w) skip_line();   /* its LF has not come yet */
        too_long = 1;
        break;
      }
      addresses[n++] = answer_address(line, len);
      if (!more) break;
    }
    if (n && !answer_blocks(addresses, n, &sa)) strerr_diefu1sys(111, "answer");
    if (too_long && !answer_too_long(&sa)) strerr_diefu1sys(111, "answer");
    if (sa.len) put_block(&sa);
  }
  stralloc_free(&sa);
  return 0;
}
