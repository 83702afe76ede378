/* batch.c: one address per line on stdin, each answered at once with a
 * flushed block on stdout, so that a server can keep the program running as
 * a co-process for a whole session. */
#include <errno.h>
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

int batch_run(void)
{
  stralloc sa = STRALLOC_ZERO;
  char line[LINE_MAX_BYTES + 1];
  for (;;)
  {
    size_t w = 0, len;
    int r = getlnmax(buffer_0, line, LINE_MAX_BYTES + 1, &w, '\n');
    if (r < 0 && errno != ERANGE) strerr_diefu1sys(111, "read stdin");
    if (!r && !w) break;
    len = line[w-1] == '\n' ? w - 1 : w;   /* without its LF, if it came */
    sa.len = 0;
    if (len >= LINE_MAX_BYTES)
    {
      if (len == w) skip_line();   /* its LF has not come yet */
      if (!answer_too_long(&sa)) strerr_diefu1sys(111, "answer");
    }
    else if (!answer_block(answer_address(line, len), &sa)) strerr_diefu1sys(111, "answer");
    put_block(&sa);
    if (!r) break;   /* end of input */
  }
  stralloc_free(&sa);
  return 0;
}
