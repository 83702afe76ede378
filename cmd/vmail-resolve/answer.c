/* answer.c: one line's answer block, the same in batch and server mode. */
#include <string.h>
#include <skalibs/stralloc.h>

#include "resolve.h"
#include "resolve_modes.h"

char const *answer_address(char *line, size_t len)
{
  if (len && line[len-1] == '\r') len--;
  if (len >= 2 && line[0] == '<' && line[len-1] == '>') { line[len-1] = 0; return line + 1; }
  line[len] = 0;
  return line;
}

int answer_block(char const *address, stralloc *sa)
{
  /* resolve_address drops a recipient already in its output: it must not
   * see the blocks before this one, which a server keeps for a slow client */
  static stralloc found = STRALLOC_ZERO, why = STRALLOC_ZERO;
  int r;
  found.len = 0;
  r = resolve_address(address, &found, &why);
  if (r == RESOLVE_OK) { if (!stralloc_catb(sa, found.s, found.len)) return 0; }
  else if (!stralloc_cats(sa, "error ") || !stralloc_cats(sa, resolve_kind(r))
           || !stralloc_catb(sa, " ", 1) || !stralloc_cats(sa, why.s)
           || !stralloc_catb(sa, "\n", 1))
    return 0;
  return stralloc_catb(sa, "\n", 1);
}

int answer_too_long(stralloc *sa)
{
  return stralloc_cats(sa, "error bad address too long\n\n");
}
