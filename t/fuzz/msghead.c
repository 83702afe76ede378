/* Fuzz target: vmail-sendmail's header handling (lib/msghead): walking the
 * header section and extracting To/Cc/Bcc address lists. */
#include <stdint.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "msghead.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char const *s = (char const *)data;
  stralloc out = STRALLOC_ZERO;
  struct msghead_field f;
  size_t pos = 0, last = 0;
  int blank, fields = 0;
  while (msghead_next(s, size, &pos, &f, &blank))
  {
    if (pos <= last && fields) __builtin_trap();          /* always moves on */
    if (f.start != last || f.end != pos || f.end > size) __builtin_trap();
    if (f.value + f.valuelen > s + f.end || f.name != s + f.start || !f.namelen) __builtin_trap();
    if (memchr(f.name, ':', f.namelen)) __builtin_trap();
    last = pos;
    fields++;
    {
      int n = msghead_addresses(f.value, f.valuelen, &out);
      size_t count = 0;
      for (size_t i = 0; i < out.len; i += strlen(out.s + i) + 1)
      {
        size_t l = strlen(out.s + i);
        if (!l || l > MSGHEAD_ADDR_MAX) __builtin_trap();
        count++;
      }
      if (n >= 0 && count != (size_t)n) __builtin_trap();
      out.len = 0;
    }
  }
  if (pos > size) __builtin_trap();
  if (blank && s[pos] != '\n' && s[pos] != '\r') __builtin_trap();
  msghead_addresses(s, size, &out);
  stralloc_free(&out);
  return 0;
}
