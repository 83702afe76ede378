/* vmail-resolve: virtual address -> final recipients and Maildirs.
 * With arguments, answers each and exits with the worst code (at once on a
 * temporary failure). Without, reads
 * one address per line and answers each with a flushed block ending in an
 * empty line, so a server can keep it running as a co-process. */
#include <errno.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/skamisc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "addr.h"
#include "resolve.h"

#define USAGE "vmail-resolve [ address ... ]"
/* A line, its LF included: an address, maybe <>-bracketed, and CRLF. */
#define LINE_MAX_BYTES (ADDR_MAX + 4)

static stralloc out = STRALLOC_ZERO, why = STRALLOC_ZERO;

static void put(char const *s, size_t n)
{
  if (buffer_put(buffer_1, s, n) < 0) strerr_diefu1sys(111, "write to stdout");
}

/* One address in batch mode: a block on stdout, always. */
static void answer_block(char const *addr)
{
  int r;
  out.len = 0;
  r = resolve_address(addr, &out, &why);
  if (r == RESOLVE_OK) put(out.s, out.len);
  else
  {
    char const *kind = resolve_kind(r);
    put("error ", 6); put(kind, strlen(kind)); put(" ", 1);
    put(why.s, strlen(why.s)); put("\n", 1);
  }
  put("\n", 1);
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout");
}

static int batch(void)
{
  char line[LINE_MAX_BYTES + 1];
  for (;;)
  {
    size_t w = 0;
    int r = getlnmax(buffer_0, line, LINE_MAX_BYTES + 1, &w, '\n');
    if (r < 0 && errno != ERANGE) strerr_diefu1sys(111, "read stdin");
    if (!r && !w) return 0;
    /* getlnmax reports a line that fills its buffer as too long even when
       its LF came: the line is then whole, there is nothing to skip */
    if (line[w-1] == '\n') w--;
    else if (r < 0)
    {
      char c;
      while (buffer_get(buffer_0, &c, 1) == 1 && c != '\n') ;
    }
    if (w >= LINE_MAX_BYTES)
    {
      /* too long to be an address */
      put("error bad address too long\n\n", 28);
      if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout");
      if (!r) return 0;
      continue;
    }
    if (w && line[w-1] == '\r') w--;
    if (w >= 2 && line[0] == '<' && line[w-1] == '>') { memmove(line, line + 1, w - 2); w -= 2; }
    line[w] = 0;
    answer_block(line);
    if (!r) return 0;
  }
}

int main(int argc, char const *const *argv)
{
  int worst = 0;
  PROG = "vmail-resolve";
  if (argc > 1 && argv[1][0] == '-' && argv[1][1]) strerr_dieusage(100, USAGE);
  if (argc < 2) return batch();
  for (int i = 1; i < argc; i++)
  {
    int r, code;
    out.len = 0;
    r = resolve_address(argv[i], &out, &why);
    code = resolve_exitcode(r);
    if (r == RESOLVE_TEMP)
    {
      /* the next addresses would fail alike: one line, once */
      if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout");
      strerr_dief1x(111, why.s);
    }
    if (r == RESOLVE_OK) put(out.s, out.len);
    else strerr_warnw1x(why.s);
    if (code > worst) worst = code;
  }
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout");
  return worst;
}
