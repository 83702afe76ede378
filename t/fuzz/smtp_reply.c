/* Fuzz target: the SMTP client's reply parser and EHLO extensions (lib/smtp_reply). */
#include <stdint.h>
#include <string.h>
#include "smtp_reply.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  struct smtp_reply r;
  struct smtp_ext ext;
  char one[600];
  size_t i = 0;
  smtp_reply_init(&r);
  while (i < size)
  {
    char const *line = (char const *)data + i;
    size_t len = 0;
    int done;
    while (i + len < size && line[len] != '\n') len++;
    i += len + 1;
    if (len && line[len-1] == '\r') len--;
    done = smtp_reply_line(&r, line, len);
    if (r.len > sizeof r.text) __builtin_trap();
    if (done < 0) { smtp_reply_init(&r); continue; }
    if (r.code < 100 || r.code > 599) __builtin_trap();
    if (done)
    {
      smtp_reply_oneline(&r, one, sizeof one);
      if (strlen(one) >= sizeof one || strchr(one, '\n') || strchr(one, '\t')) __builtin_trap();
      smtp_reply_ehlo(&r, &ext);
      smtp_reply_init(&r);
    }
  }
  return 0;
}
