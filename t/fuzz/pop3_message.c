/* Fuzz target: POP3 message output (lib/pop3_message). The octets RETR
 * sends must equal the size STAT and LIST report, every line must end in
 * CRLF, and no line may look like the terminator. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include "pop3_message.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  static char outbuf[4096], wire[3 * 70000];
  buffer out;
  uint64_t counted, sent;
  int in = memfd_create("msg", 0), outfd = memfd_create("wire", 0);
  ssize_t n;
  size_t i, stuffed = 0;
  if (size > 65536 || in < 0 || outfd < 0) goto end;
  if (write(in, data, size) != (ssize_t)size) goto end;
  lseek(in, 0, SEEK_SET);
  if (pop3_message_size(in, &counted) < 0) __builtin_trap();
  lseek(in, 0, SEEK_SET);
  buffer_init(&out, &fd_writev, outfd, outbuf, sizeof outbuf);
  if (pop3_message_send(in, &out, -1, &sent) < 0 || !buffer_flush(&out)) __builtin_trap();
  if (sent != counted) __builtin_trap();
  {
    /* the size from a name with Dovecot's ,W= (bare LFs counted as CRLF) is the same */
    char name[96];
    uint64_t w = size, named;
    int len;
    for (i = 0; i < size; i++) if (data[i] == '\n' && (!i || data[i - 1] != '\r')) w++;
    len = snprintf(name, sizeof name, "1700000000.M1P1.h,S=%zu,W=%llu", size, (unsigned long long)w);
    if (pop3_message_size_named(in, name, (size_t)len, &named) != 1 || named != counted) __builtin_trap();
  }
  lseek(outfd, 0, SEEK_SET);
  n = read(outfd, wire, sizeof wire);
  if (n < 3 || memcmp(wire + n - 3, ".\r\n", 3)) __builtin_trap();
  for (i = 0; i < (size_t)n; i++)
  {
    if (wire[i] == '\n' && (!i || wire[i - 1] != '\r')) __builtin_trap();
    if ((!i || wire[i - 1] == '\n') && wire[i] == '.')
    {
      if (i + 3 == (size_t)n) break;   /* the terminator */
      if (i + 1 >= (size_t)n || wire[i + 1] != '.') __builtin_trap();
      stuffed++;
      i++;
    }
  }
  if ((uint64_t)n != sent + stuffed + 3) __builtin_trap();
  /* TOP with a few lines sends a prefix and ends properly */
  lseek(in, 0, SEEK_SET);
  if (ftruncate(outfd, 0) < 0) goto end;
  lseek(outfd, 0, SEEK_SET);
  if (pop3_message_send(in, &out, size % 5, &sent) < 0 || !buffer_flush(&out)) __builtin_trap();
  if (sent > counted) __builtin_trap();
 end:
  if (in >= 0) close(in);
  if (outfd >= 0) close(outfd);
  return 0;
}
