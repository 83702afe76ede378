/* Fuzz target: the POP3 size cache parser (lib/pop3_sizes). */
#include <stdint.h>
#include <string.h>
#include "pop3_sizes.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  pop3_sizes c = POP3_SIZES_ZERO;
  if (pop3_sizes_parse((char const *)data, size, &c))
  {
    pop3_size_entry const *e = genalloc_s(pop3_size_entry, &c.entries);
    size_t i, n = genalloc_len(pop3_size_entry, &c.entries);
    stralloc text = STRALLOC_ZERO;
    /* every entry is found again and can be written back */
    for (i = 0; i < n; i++)
    {
      uint64_t sent;
      if (!pop3_sizes_find(&c, c.names.s + e[i].base, e[i].baselen, e[i].stored, &sent) || sent != e[i].sent) __builtin_trap();
      if (!pop3_sizes_line(&text, c.names.s + e[i].base, e[i].baselen, e[i].stored, e[i].sent)) __builtin_trap();
    }
    stralloc_free(&text);
  }
  pop3_sizes_free(&c);
  return 0;
}
