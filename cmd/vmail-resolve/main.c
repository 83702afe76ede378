/* vmail-resolve: virtual address -> final recipients and Maildirs.
 * With arguments, answers each and exits with the worst code (at once on a
 * temporary failure). Without, reads one address per line and answers each
 * with a block ending in an empty line (batch.c). With -l, answers the same
 * blocks to every client of the unix socket on fd 0 (server.c). */
#include <skalibs/buffer.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "resolve.h"
#include "resolve_modes.h"

#define USAGE "vmail-resolve [ address ... ] | vmail-resolve -l"

static void put(char const *s, size_t n)
{
  if (buffer_put(buffer_1, s, n) < 0) strerr_diefu1sys(111, "write to stdout");
}

/* Argument mode: the recipients on stdout, failures on stderr. */
static int arguments(int argc, char const *const *argv)
{
  stralloc out = STRALLOC_ZERO, why = STRALLOC_ZERO;
  int worst = 0;
  for (int i = 0; i < argc; i++)
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

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  int serve = 0;
  PROG = "vmail-resolve";
  for (;;)
  {
    int c = subgetopt_r(argc, argv, "l", &l);
    if (c == -1) break;
    if (c != 'l') strerr_dieusage(100, USAGE);
    serve = 1;
  }
  argc -= l.ind; argv += l.ind;
  if (serve) { if (argc) strerr_dieusage(100, USAGE); return server_run(); }
  return argc ? arguments(argc, argv) : batch_run();
}
