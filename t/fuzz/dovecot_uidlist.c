/* Fuzz target: the dovecot-uidlist parser (lib/dovecot_uidlist). */
#include <stdint.h>
#include <string.h>
#include "dovecot_uidlist.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  dovecot_uidlist l = DOVECOT_UIDLIST_ZERO;
  if (dovecot_uidlist_parse((char const *)data, size, &l))
  {
    size_t pos = 0, i = 0, count = l.uids.len / sizeof(uint32_t);
    uint32_t last = 0;
    /* every name is found again (with its own UID or, listed twice, a later
       one), and UIDs ascend */
    for (; pos < l.names.len; i++)
    {
      char const *name = l.names.s + pos;
      size_t n = strlen(name);
      uint32_t uid;
      if (i >= count || !n || memchr(name, ':', n)) __builtin_trap();
      memcpy(&uid, l.uids.s + i * sizeof uid, sizeof uid);
      if (uid <= last) __builtin_trap();
      if (dovecot_uidlist_find(&l, name, n) < uid) __builtin_trap();
      last = uid;
      pos += n + 1;
    }
    if (i != count) __builtin_trap();
    /* one saved POP3 UIDL (maybe empty) per entry */
    for (pos = 0, i = 0; pos < l.pop3_uidls.len; i++) pos += strlen(l.pop3_uidls.s + pos) + 1;
    if (i != count || pos != l.pop3_uidls.len) __builtin_trap();
  }
  dovecot_uidlist_free(&l);
  return 0;
}
