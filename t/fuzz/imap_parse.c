/* Fuzz target: the IMAP command grammar (lib/imap_parse) over one whole
 * command, literals in place, walked the way the servers walk it. */
#include <stdint.h>
#include <string.h>
#include "imap_parse.h"

#define STEPS_MAX 10000

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char const *s = (char const *)data;
  stralloc sa = STRALLOC_ZERO, ranges = STRALLOC_ZERO;
  imap_cursor c;
  uint64_t n;
  int64_t t;
  int nonsync, nil;
  char const *nl = memchr(s, '\n', size);
  size_t line = nl ? (size_t)(nl - s) : size;

  if (line && s[line - 1] == '\r') line--;
  if (imap_literal_tail(s, line, &n, &nonsync) > 0 && n > IMAP_LITERAL_MAX) __builtin_trap();

  imap_cursor_init(&c, s, size);
  if (imap_tag(&c, &sa) && imap_sp(&c)) imap_atom(&c, &sa);
  for (unsigned step = 0; step < STEPS_MAX && !imap_at_end(&c); step++)
  {
    size_t before = c.pos;
    int ch = imap_peek(&c);
    sa.len = 0;
    if (ch == '(' || ch == ')' || ch == ' ' || ch == '<' || ch == '>' || ch == '[' || ch == ']') c.pos++;
    else if (ch >= '0' && ch <= '9')
    {
      imap_cursor d = c;
      if (imap_seqset(&c, &ranges))
      {
        if (!imap_seqset_has(&ranges, 1, 1) && !imap_seqset_has(&ranges, 0xfffffffe, 0xfffffffe)
            && ranges.len < 2 * sizeof(uint32_t)) __builtin_trap();
        ranges.len = 0;
      }
      else if (!imap_number(&d, &n)) c.pos = before + 1;
      else c = d;
    }
    else if (ch == '"')
    {
      imap_cursor d = c;
      if (imap_date_time(&d, &t)) { sa.len = 0; if (!imap_date_time_fmt(t, &sa)) __builtin_trap(); c = d; }
      else if (!imap_nstring(&c, &sa, &nil)) c.pos = before + 1;
    }
    else if (ch == '{' || ch == '~') { if (!imap_string(&c, &sa)) c.pos = before + 1; }
    else if (ch == '\\') { if (!imap_flag(&c, &sa)) c.pos = before + 1; }
    else if (ch == '%' || ch == '*') { if (!imap_list_mailbox(&c, &sa)) c.pos = before + 1; }
    else
    {
      imap_cursor d = c;
      if (imap_date(&d, &t)) c = d;
      else if (!imap_astring(&c, &sa)) c.pos = before + 1;
    }
    if (c.pos > c.len || c.pos <= before) __builtin_trap();
  }
  stralloc_free(&sa); stralloc_free(&ranges);
  return 0;
}
