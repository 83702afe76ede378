/* Fuzz target: Delivered-To lookup and line-ending detection (lib/header).
 * Input: first byte n, then n bytes of address, then the message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "header.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char addr[256];
  size_t n;
  char const *msg, *eol;
  if (!size) return 0;
  n = data[0];
  if (n > size - 1) n = size - 1;
  memcpy(addr, data + 1, n);
  addr[n] = 0;
  n = strlen(addr);
  msg = (char const *)data + 1 + n;
  size -= 1 + n;
  if (header_has_delivered_to(msg, size, addr) && n)
  {
    /* a hit means the address is in the input, in some case, once folded
       lines are joined (RFC 5322 2.2.3: the line break before a space or
       tab goes) */
    char *unfolded = malloc(size + 1);
    size_t u = 0;
    int found = 0;
    if (!unfolded) return 0;
    for (size_t i = 0; i < size; i++)
    {
      size_t brk = msg[i] == '\n' ? 1 : msg[i] == '\r' && i + 1 < size && msg[i + 1] == '\n' ? 2 : 0;
      if (brk && i + brk < size && (msg[i + brk] == ' ' || msg[i + brk] == '\t')) { i += brk - 1; continue; }
      unfolded[u++] = msg[i];
    }
    for (size_t i = 0; !found && i + n <= u; i++) found = !strncasecmp(unfolded + i, addr, n);
    free(unfolded);
    if (!found) __builtin_trap();
  }
  eol = header_eol(msg, size);
  if (strcmp(eol, "\n") && strcmp(eol, "\r\n")) __builtin_trap();
  return 0;
}
