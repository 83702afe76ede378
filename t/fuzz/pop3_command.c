/* Fuzz target: the POP3 command parser (lib/pop3_command) and the line
 * reader (lib/pop3_input) that feeds it, through a pipe as a client would. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "pop3_command.h"
#include "pop3_input.h"

static void check(char const *line, size_t len)
{
  pop3_command c;
  unsigned int i;
  if (!pop3_command_parse(line, len, &c)) return;
  if (c.rest && (c.rest < line || c.rest + c.restlen > line + len)) __builtin_trap();
  for (i = 0; i < c.argc && i < POP3_ARGS_MAX; i++)
  {
    uint32_t n;
    if (c.argv[i] < c.rest || c.argv[i] + c.arglen[i] > c.rest + c.restlen) __builtin_trap();
    if (c.verb != POP3_PASS && c.verb != POP3_AUTH && (!c.arglen[i] || c.arglen[i] > POP3_ARG_MAX)) __builtin_trap();
    if (pop3_command_number(c.argv[i], c.arglen[i], &n) && n > 999999999) __builtin_trap();
  }
  if (c.verb != POP3_PASS && c.verb != POP3_AUTH && c.argc > POP3_ARGS_MAX) __builtin_trap();
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  static pop3_input in;
  int p[2];
  size_t turns = 0;
  check((char const *)data, size);
  if (size > 16384 || pipe(p) < 0) return 0;
  if (write(p[1], data, size) != (ssize_t)size) { close(p[0]); close(p[1]); return 0; }
  close(p[1]);
  pop3_input_init(&in, p[0], size & 1, 0);
  /* every line the reader returns is within bounds and parses safely */
  for (;;)
  {
    char *line;
    size_t len;
    int r = pop3_input_line(&in, 5, &line, &len);
    if (r == 0) break;
    if (r < 0) { if (++turns > size) __builtin_trap(); continue; }
    if (len > POP3_LINE_MAX || line[len] || memchr(line, '\n', len)) __builtin_trap();
    check(line, len);
    if (++turns > size + 1) __builtin_trap();
  }
  close(p[0]);
  return 0;
}
