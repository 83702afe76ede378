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

/* One address's block from its answer. */
static int block(struct resolve_answer const *a, stralloc *sa)
{
  if (a->status == RESOLVE_OK) { if (!stralloc_catb(sa, a->out.s, a->out.len)) return 0; }
  else if (!stralloc_cats(sa, "error ") || !stralloc_cats(sa, resolve_kind(a->status))
           || !stralloc_catb(sa, " ", 1) || !stralloc_cats(sa, a->why.s)
           || !stralloc_catb(sa, "\n", 1))
    return 0;
  return stralloc_catb(sa, "\n", 1);
}

int answer_blocks(char const *const *addresses, unsigned int n, stralloc *sa)
{
  static struct resolve_answer answers[ANSWER_BATCH_MAX];
  int ok = 1;
  if (n > ANSWER_BATCH_MAX) return 0;
  resolve_many(addresses, n, answers);
  for (unsigned int i = 0; i < n && ok; i++) ok = block(answers + i, sa);
  return ok;
}

int answer_block(char const *address, stralloc *sa)
{
  return answer_blocks(&address, 1, sa);
}

int answer_too_long(stralloc *sa)
{
  return stralloc_cats(sa, "error bad address too long\n\n");
}
