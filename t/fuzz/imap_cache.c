/* Fuzz target: the per-folder FETCH cache reader (lib/imap_cache); every
 * indexed record must lie inside the data, sorted and unique by UID. */
#include <stdint.h>
#include <string.h>
#include "imap_cache.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  imap_cache c = IMAP_CACHE_ZERO;
  if (imap_cache_parse(&c, 7, (char const *)data, size) == 1)
  {
    imap_cache_entry const *e = genalloc_s(imap_cache_entry, &c.entries);
    size_t n = genalloc_len(imap_cache_entry, &c.entries);
    for (size_t i = 0; i < n; i++)
    {
      if (i && e[i].uid <= e[i - 1].uid) __builtin_trap();
      if (e[i].bs + e[i].bslen > c.data.len || e[i].env + e[i].envlen > c.data.len) __builtin_trap();
      if (imap_cache_find(&c, e[i].uid) != e + i) __builtin_trap();
    }
  }
  imap_cache_free(&c);
  return 0;
}
