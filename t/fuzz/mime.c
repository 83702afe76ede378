/* Fuzz target: the MIME parser (lib/mime) and everything built on its tree:
 * ENVELOPE, BODYSTRUCTURE, sections, BINARY, SEARCH decoding, dates. The
 * first input line, when it starts with '[', names a section to fetch. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "mime.h"

/* Parentheses and quotes of an IMAP answer must balance (literals skipped). */
static void check_balanced(stralloc const *sa)
{
  long depth = 0;
  int quoted = 0;
  for (size_t i = 0; i < sa->len; i++)
  {
    char c = sa->s[i];
    if (quoted) { if (c == '\\') i++; else if (c == '"') quoted = 0; continue; }
    if (c == '"') quoted = 1;
    else if (c == '{')
    {
      size_t n = strtoul(sa->s + i + 1, 0, 10);
      char const *close = memchr(sa->s + i, '}', sa->len - i);
      if (!close || (size_t)(close - sa->s) + 3 + n > sa->len) __builtin_trap();
      i = (size_t)(close - sa->s) + 2 + n;
    }
    else if (c == '(') depth++;
    else if (c == ')') { if (--depth < 0) __builtin_trap(); }
  }
  if (depth || quoted) __builtin_trap();
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char const *msg = (char const *)data;
  char section[64] = "";
  stralloc out = STRALLOC_ZERO;
  mime_message *m;
  if (size && data[0] == '[')
  {
    uint8_t const *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    if (n > sizeof section) n = sizeof section;
    memcpy(section, data + 1, n - 1);
    section[n - 1] = 0;
    for (size_t i = 0; i < n - 1; i++) if (!section[i]) section[i] = ' ';
    msg += nl ? n + 1 : size;
    size -= nl ? n + 1 : size;
  }
  m = mime_parse(msg, size);
  if (!m) return 0;
  if (!mime_envelope(m, &out)) __builtin_trap();
  check_balanced(&out);
  out.len = 0;
  if (!mime_bodystructure(m, 1, &out)) __builtin_trap();
  check_balanced(&out);
  out.len = 0;
  if (!mime_bodystructure(m, 0, &out)) __builtin_trap();
  check_balanced(&out);
  out.len = 0;
  /* BODY[] is the whole message in CRLF form */
  if (mime_section(m, "", &out) != 1 || out.len != mime_size_crlf(m)) __builtin_trap();
  {
    size_t whole = out.len, parts;
    out.len = 0;
    if (mime_section(m, "HEADER", &out) != 1) __builtin_trap();
    parts = out.len;
    out.len = 0;
    if (mime_section(m, "TEXT", &out) != 1) __builtin_trap();
    if (parts + out.len != whole) __builtin_trap();
  }
  out.len = 0;
  {
    /* a contiguous section is the same bytes whether copied or located */
    size_t a, b;
    int r = mime_section(m, section, &out), rr = mime_section_range(m, section, &a, &b);
    if ((r == -1) != (rr == -1)) __builtin_trap();
    if (rr == 1)
    {
      stralloc again = STRALLOC_ZERO;
      if (a > b || b > size || mime_crlf_length(msg + a, b - a) != out.len) __builtin_trap();
      if (!mime_crlf_append(&again, msg + a, b - a)) __builtin_trap();
      if (again.len != out.len || (out.len && memcmp(again.s, out.s, out.len))) __builtin_trap();
      stralloc_free(&again);
    }
  }
  out.len = 0;
  mime_section_binary(m, section, &out);
  out.len = 0;
  mime_section(m, "1.2.HEADER.FIELDS (SUBJECT FROM)", &out);
  out.len = 0;
  mime_section_binary(m, "1", &out);
  mime_header_contains(m, "subject", "caf\xc3\xa9");
  mime_header_contains(m, "", "x");
  mime_header_contains(m, "from", "x@y");
  mime_body_contains(m, "\xc3\xa9t\xc3\xa9");
  mime_date(m);
  out.len = 0;
  mime_header_value(m, "subject", &out);
  if (!mime_sort_subject(m, &out) || !mime_sort_address(m, "from", 0, &out) || !mime_sort_address(m, "to", 1, &out)) __builtin_trap();
  out.len = 0;
  mime_message_ids(m, "references", 100, &out);
  mime_free(m);
  /* binary parts made base64: the result holds no NUL in a converted part
     and parses again */
  out.len = 0;
  if (mime_binary_encode(msg, size, &out) > 0)
  {
    mime_message *again = mime_parse(out.s, out.len);
    if (!again) __builtin_trap();
    mime_free(again);
  }
  stralloc_free(&out);
  return 0;
}
