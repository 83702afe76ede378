/* pop3_message.c: CRLF conversion, byte-stuffing and sizes of messages. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir_scan.h"
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

int pop3_message_size_named(int fd, char const *base, size_t baselen, uint64_t *size)
{
  struct stat st;
  uint64_t w, s, stored;
  char last;
  if (!maildir_name_size(base, baselen, 'W', &w)) return 0;
  if (fstat(fd, &st) < 0) return -1;
  stored = (uint64_t)st.st_size;
  if (maildir_name_size(base, baselen, 'S', &s) && s != stored) return 0;
  /* every bare LF gains a CR: between the stored size and twice that */
  if (w < stored || w - stored > stored) return 0;
  if (!stored) { *size = 0; return 1; }
  for (;;)
  {
    ssize_t r = pread(fd, &last, 1, (off_t)(stored - 1));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (!r) return 0;   /* shorter than it was a moment ago */
    break;
  }
  *size = last == '\n' ? w : w + 2;
  return 1;
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
