/* pop3_message.c: CRLF conversion, byte-stuffing and sizes of messages. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "pop3_message.h"

static ssize_t read_chunk(int fd, char *buf)
{
  for (;;)
  {
    ssize_t r = read(fd, buf, POP3_MESSAGE_CHUNK);
    if (r >= 0 || errno != EINTR) return r;
  }
}

int pop3_message_size(int fd, uint64_t *size)
{
  static char buf[POP3_MESSAGE_CHUNK];
  uint64_t total = 0;
  int prev_cr = 0, bol = 1;
  /* each turn consumes a chunk; ends at end of file */
  for (;;)
  {
    ssize_t n = read_chunk(fd, buf);
    char const *p = buf, *end;
    if (n < 0) return -1;
    if (!n) break;
    end = buf + n;
    total += (uint64_t)n;
    while (p < end)
    {
      char const *nl = memchr(p, '\n', (size_t)(end - p));
      if (!nl) { prev_cr = end[-1] == '\r'; bol = 0; break; }
      if (!(nl > p ? nl[-1] == '\r' : prev_cr)) total++;   /* bare LF becomes CRLF */
      prev_cr = 0;
      bol = 1;
      p = nl + 1;
    }
  }
  if (!bol) total += 2;   /* the CRLF added after an unterminated last line */
  *size = total;
  return 0;
}

static int put(buffer *out, char const *s, size_t len)
{
  size_t w = 0;
  return buffer_putall(out, s, len, &w);
}

int pop3_message_send(int fd, buffer *out, long lines, uint64_t *sent)
{
  static char buf[POP3_MESSAGE_CHUNK];
  uint64_t total = 0;
  int prev_cr = 0, bol = 1, header = 1, done = 0;
  size_t linelen = 0;
  long body = 0;
  /* each turn consumes a chunk; ends at end of file or after TOP's lines */
  while (!done)
  {
    ssize_t n = read_chunk(fd, buf);
    char const *p = buf, *end;
    if (n < 0) return -1;
    if (!n) break;
    end = buf + n;
    while (p < end)
    {
      char const *nl;
      size_t seg;
      if (bol)
      {
        if (lines >= 0 && !header && body >= lines) { done = 1; break; }
        if (*p == '.' && !put(out, ".", 1)) return -1;   /* RFC 1939 3: byte-stuffing */
        bol = 0;
      }
      nl = memchr(p, '\n', (size_t)(end - p));
      seg = nl ? (size_t)(nl - p) : (size_t)(end - p);
      if (seg)
      {
        if (!put(out, p, seg)) return -1;
        prev_cr = p[seg - 1] == '\r';
        linelen += seg;
        total += seg;
      }
      if (!nl) break;
      {
        int empty = !linelen || (linelen == 1 && prev_cr);
        if (!put(out, prev_cr ? "\n" : "\r\n", prev_cr ? 1 : 2)) return -1;
        total += prev_cr ? 1 : 2;
        if (header) { if (empty) header = 0; }
        else body++;
      }
      prev_cr = 0;
      linelen = 0;
      bol = 1;
      p = nl + 1;
    }
  }
  if (!bol && !done)
  {
    if (!put(out, "\r\n", 2)) return -1;
    total += 2;
  }
  if (!put(out, ".\r\n", 3)) return -1;
  *sent = total;
  return 0;
}
