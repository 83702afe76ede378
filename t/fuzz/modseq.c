/* Fuzz target: the mod-sequence log reader (lib/modseq). Whatever it reads
 * leaves a consistent table: UIDs ascending, no mod-sequence above the
 * highest; a new change gets a mod-sequence above every one before. */
#include <stdint.h>
#include <string.h>
#include "modseq.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  modseq_log l = MODSEQ_LOG_ZERO;
  size_t used;
  l.uidvalidity = 7;
  if (modseq_parse(&l, (char const *)data, size, &used) == 1)
  {
    modseq_entry const *e = genalloc_s(modseq_entry, &l.live);
    size_t n = genalloc_len(modseq_entry, &l.live);
    uint64_t before = l.highest, got;
    if (used > size || (used && data[used - 1] != '\n')) __builtin_trap();
    for (size_t i = 0; i < n; i++)
      if ((i && e[i].uid <= e[i - 1].uid) || e[i].modseq > l.highest || !e[i].uid) __builtin_trap();
    /* a new message (mask 1 << 30 is no flag a parsed line left on UID
       12345 unless it said "z"), then its expunge: each above all before */
    got = modseq_set(&l, 12345, 1u << 30);
    if (got != modseq_of(&l, 12345) || (got <= before && got != modseq_of(&l, 12345))) __builtin_trap();
    before = l.highest;
    modseq_expunge(&l, 12345);
    if (l.highest <= before || l.highest < got) __builtin_trap();
    if (modseq_of(&l, 12345)) __builtin_trap();
  }
  modseq_free(&l);
  return 0;
}
