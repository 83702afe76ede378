/* submit.c: what mail submission asks of an authenticated session (RFC 6409):
 * the envelope sender must be the user's own, and a message without Date or
 * Message-ID gets them (RFC 6409 8.2, 8.3). */
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/types.h>

#include "resolve.h"
#include "resolver.h"
#include "smtpd.h"

#define SUBMIT_HEAD_MAX (64 * 1024)   /* header bytes held back to look for Date and Message-ID */

int submit_sender(char const *user, char const *from, unsigned timeout)
{
  stralloc block = STRALLOC_ZERO;
  size_t ul = strlen(user);
  int r, mine = 0;
  if (!*from || !strcasecmp(from, user)) return 1;   /* <> is nobody's: bounces may be sent */
  r = resolver_ask(from, timeout, &block);
  if (r == RESOLVE_TEMP) { stralloc_free(&block); return -1; }
  /* their address, +extensions of it, an alias that reaches them */
  for (size_t i = 0; r == RESOLVE_OK && i < block.len && !mine; )
  {
    char const *line = block.s + i, *nl = memchr(line, '\n', block.len - i);
    size_t len = nl ? (size_t)(nl - line) : block.len - i;
    mine = len > 6 + ul && !memcmp(line, "local ", 6) && !strncasecmp(line + 6, user, ul) && line[6 + ul] == ' ';
    i += len + 1;
  }
  stralloc_free(&block);
  return mine;
}

void submit_head_init(struct submit_head *h)
{
  h->buf.len = 0;
  h->state = 0;
  h->has_date = h->has_msgid = 0;
}

/* Notes the fields of the complete lines held; 1 once the empty line ending
 * the header section is among them. */
static int scan(struct submit_head *h, size_t from)
{
  size_t i = from;
  while (i < h->buf.len)   /* bounded by the buffer */
  {
    char const *s = h->buf.s + i, *nl = memchr(s, '\n', h->buf.len - i);
    if (!nl) return 0;
    if (nl == s) return 1;
    if (!strncasecmp(s, "Date:", 5)) h->has_date = 1;
    if (!strncasecmp(s, "Message-ID:", 11)) h->has_msgid = 1;
    i = (size_t)(nl - h->buf.s) + 1;
  }
  return 0;
}

static void release(struct submit_head *h, char const *hostname, void (*out)(char const *, size_t))
{
  if (h->state == 1)
  {
    stralloc add = STRALLOC_ZERO;
    if (!h->has_date)
    {
      char buf[64];
      time_t now = time(0);
      struct tm tm;
      gmtime_r(&now, &tm);
      stralloc_cats(&add, "Date: ");
      stralloc_catb(&add, buf, strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm));
      stralloc_cats(&add, "\n");
    }
    if (!h->has_msgid)
    {
      char num[UINT64_FMT];
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      stralloc_cats(&add, "Message-ID: <");
      stralloc_catb(&add, num, uint64_fmt(num, (uint64_t)ts.tv_sec));
      stralloc_cats(&add, ".");
      stralloc_catb(&add, num, uint64_fmt(num, (uint64_t)ts.tv_nsec));
      stralloc_cats(&add, ".");
      stralloc_catb(&add, num, pid_fmt(num, getpid()));
      stralloc_cats(&add, "@");
      stralloc_cats(&add, hostname);
      stralloc_cats(&add, ">\n");
    }
    /* at the end of the header section, before its empty line */
    {
      char const *end = memmem(h->buf.s, h->buf.len, "\n\n", 2);
      size_t at = h->buf.len && h->buf.s[0] == '\n' ? 0 : end ? (size_t)(end - h->buf.s) + 1 : h->buf.len;
      out(h->buf.s, at);
      out(add.s, add.len);
      out(h->buf.s + at, h->buf.len - at);
    }
    stralloc_free(&add);
  }
  else out(h->buf.s, h->buf.len);
  h->buf.len = 0;
  h->state = 2;
}

void submit_head_put(struct submit_head *h, char const *s, size_t n, char const *hostname,
                     void (*out)(char const *, size_t))
{
  size_t from;
  if (h->state == 2) { out(s, n); return; }
  /* re-scan from the start of the last incomplete line */
  from = h->buf.len;
  while (from && h->buf.s[from - 1] != '\n') from--;
  if (!stralloc_catb(&h->buf, s, n)) { release(h, hostname, out); return; }
  if (scan(h, from)) { h->state = 1; release(h, hostname, out); return; }
  /* a header section this long is passed on as it is */
  if (h->buf.len > SUBMIT_HEAD_MAX) release(h, hostname, out);
}

void submit_head_end(struct submit_head *h, char const *hostname, void (*out)(char const *, size_t))
{
  if (h->state == 2) return;
  /* a message that is all header: the fields go at its end */
  h->state = 1;
  if (h->buf.len && h->buf.s[h->buf.len - 1] != '\n' && !stralloc_catb(&h->buf, "\n", 1)) h->state = 0;
  release(h, hostname, out);
}
