/* Fuzz target: the address parser and extension stripping (lib/addr). */
#include <stdint.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "addr.h"
#include "resolve.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO;
  if (addr_parse((char const *)data, size, &a))
  {
    /* a parsed address is NUL-terminated, has its '@', and a lowercase domain */
    size_t at = addr_at(a.s);
    if (a.s[at] != '@' || strlen(a.s) != size) __builtin_trap();
    for (char const *d = a.s + at + 1; *d; d++) if (*d >= 'A' && *d <= 'Z') __builtin_trap();
    addr_strip_extension(a.s, "+-", &b);
    if (b.len && b.len > a.len) __builtin_trap();
    resolve_maildir(a.s, &b);
    if (b.len && strstr(b.s, "/../")) __builtin_trap();
  }
  addr_domain_ok((char const *)data, size);
  stralloc_free(&a); stralloc_free(&b);
  return 0;
}
