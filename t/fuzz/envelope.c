/* Fuzz target: the qmail-queue envelope reader (lib/envelope), as vmail-queue
 * uses it (a prefix may be cut off after a complete envelope), and the queue
 * journal line reader (lib/queue). */
#include <stdint.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "envelope.h"
#include "queue.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  struct envelope e;
  char const *s = (char const *)data;
  int r = envelope_parse(s, size, &e);
  if (r == ENVELOPE_FORMAT && e.len)
  {
    if (e.len >= size) __builtin_trap();
    r = envelope_parse(s, e.len, &e);
    if (r != ENVELOPE_OK) __builtin_trap();   /* the prefix it named is an envelope */
  }
  if (r == ENVELOPE_OK)
  {
    char const *p = e.rcpt;
    if (e.len != size && e.len == 0) __builtin_trap();
    if (strlen(e.sender) > ENVELOPE_ADDR_MAX || !e.nrcpt || e.nrcpt > ENVELOPE_RCPT_MAX) __builtin_trap();
    for (unsigned int i = 0; i < e.nrcpt; i++)
    {
      size_t n = strlen(p);
      if (!n || n > ENVELOPE_ADDR_MAX || p < s || p + n >= s + size || p[-1] != 'T') __builtin_trap();
      if (i + 1 < e.nrcpt) p = envelope_next(p);
    }
  }
  {
    stralloc j = STRALLOC_ZERO;
    size_t pos = 0, rl;
    char kind;
    unsigned int n, lines = 0;
    char const *reason;
    if (stralloc_catb(&j, s, size))
      while (queue_journal_next(&j, &pos, &kind, &n, &reason, &rl))
      {
        if (n > ENVELOPE_RCPT_MAX || reason < j.s || reason + rl > j.s + j.len || ++lines > size) __builtin_trap();
      }
    stralloc_free(&j);
  }
  return 0;
}
