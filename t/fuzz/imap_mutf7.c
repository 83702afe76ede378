/* Fuzz target: mailbox names between modified UTF-7 and UTF-8
 * (lib/imap_mutf7). Whatever converts must convert back to itself. */
#include <stdint.h>
#include <string.h>
#include "imap_mutf7.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char const *s = (char const *)data;
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO;
  if (imap_mutf7_to_utf8(s, size, &a) == 1)
  {
    if (imap_utf8_to_mutf7(a.s, a.len, &b) != 1) __builtin_trap();
    if (b.len != size || (size && memcmp(b.s, s, size))) __builtin_trap();
  }
  a.len = b.len = 0;
  if (imap_utf8_to_mutf7(s, size, &a) == 1)
  {
    for (size_t i = 0; i < a.len; i++) if ((unsigned char)a.s[i] < 0x20 || (unsigned char)a.s[i] > 0x7e) __builtin_trap();
    if (imap_mutf7_to_utf8(a.s, a.len, &b) != 1) __builtin_trap();
    if (b.len != size || (size && memcmp(b.s, s, size))) __builtin_trap();
  }
  stralloc_free(&a); stralloc_free(&b);
  return 0;
}
