/* Fuzz target: the UCSPI-TLS control protocol (lib/ucspitls), the part of
 * the TLS path that reads input which is not TLS records: the command byte
 * the TLS engine takes from the server, and the details the server (or
 * vmail-tlsd -i, as root) takes from the engine. Accepted details are
 * whole SSL_NAME=printable strings ending in an empty one; what
 * ucspitls_details_add writes is always accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "ucspitls.h"

static void details(char const *s, size_t n)
{
  size_t used, pos = 0;
  if (!ucspitls_details_check(s, n, &used)) return;
  if (!used || used > n || used > UCSPITLS_INFO_MAX || s[used - 1]) __builtin_trap();
  while (s[pos])
  {
    size_t len = strlen(s + pos);
    char const *eq = memchr(s + pos, '=', len);
    if (pos + len >= used || memcmp(s + pos, "SSL_", 4) || !eq || eq == s + pos + 4) __builtin_trap();
    for (char const *c = eq + 1; c < s + pos + len; c++) if (*c < ' ' || *c > '~') __builtin_trap();
    pos += len + 1;
  }
  if (pos + 1 != used) __builtin_trap();
}

/* The input as a value: what the engine writes passes the check. */
static void round_trip(char const *s, size_t n)
{
  stralloc sa = STRALLOC_ZERO;
  char *v = malloc(n + 1);
  size_t used;
  memcpy(v, s, n);
  v[n] = 0;
  if (!ucspitls_details_add(&sa, "SSL_PROTOCOL", "TLSv1.3") || !ucspitls_details_add(&sa, "SSL_CIPHER", v)
      || !ucspitls_details_end(&sa))
    __builtin_trap();
  if (!ucspitls_details_check(sa.s, sa.len, &used) || used != sa.len) __builtin_trap();
  stralloc_free(&sa);
  free(v);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char const *s = (char const *)data;
  if (size && ucspitls_command(s[0]) && s[0] != 'y' && s[0] != 'Y') __builtin_trap();
  details(s, size);
  round_trip(s, size);
  return 0;
}
