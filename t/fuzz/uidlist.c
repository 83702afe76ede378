/* Fuzz target: the vmail-uidlist reader (lib/uidlist), a log of entries
 * and R records whose torn last line is ignored: a parsed list has UIDs
 * ascending below nextuid, a recent boundary, and a new entry gets the
 * next UID. */
#include <stdint.h>
#include <string.h>
#include "uidlist.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  uidlist u = UIDLIST_ZERO;
  if (uidlist_parse((char const *)data, size, &u) == 1)
  {
    size_t count = uidlist_count(&u), pos = 0;
    uint32_t last = 0;
    for (size_t i = 0; i < count; i++)
    {
      uint32_t uid;
      memcpy(&uid, u.uids.s + i * sizeof uid, sizeof uid);
      if (!uid || uid <= last || uid >= u.nextuid) __builtin_trap();
      last = uid;
      if (pos >= u.names.len) __builtin_trap();
      pos += strlen(u.names.s + pos) + 1;
    }
    if (pos != u.names.len) __builtin_trap();
    if (!u.firstrecent) __builtin_trap();
    if (uidlist_claim_recent(&u, u.nextuid) < 0 || u.firstrecent < u.nextuid) __builtin_trap();
    /* a new entry gets the next UID */
    if (u.nextuid < UINT32_MAX && uidlist_add(&u, "1700000000.M1P1.host", 20) != u.nextuid - 1) __builtin_trap();
  }
  uidlist_free(&u);
  return 0;
}
