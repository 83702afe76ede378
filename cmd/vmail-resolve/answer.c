/* answer.c: one line's answer block. */
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
  static stralloc why = STRALLOC_ZERO;
  int r = resolve_address(address, sa, &why);
  if (r != RESOLVE_OK
      && (!stralloc_cats(sa, "error ") || !stralloc_cats(sa, resolve_kind(r))
          || !stralloc_catb(sa, " ", 1) || !stralloc_cats(sa, why.s)
          || !stralloc_catb(sa, "\n", 1)))
    return 0;
  return stralloc_catb(sa, "\n", 1);
}

int answer_too_long(stralloc *sa)
{
  return stralloc_cats(sa, "error bad address too long\n\n");
}
