/* submit.c: the SMTP client of submit.h, as small as RFC 5321 allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include <skalibs/unix-timed.h>

#include "submit.h"

#define REPLY_LINE_MAX 1024   /* RFC 5321 4.5.3.1.5 says 512 */

struct server
{
  buffer in, out;
  char inbuf[4096], outbuf[8192];
  char where[IP46_FMT + UINT16_FMT + 2];   /* "ip:port", for messages */
  char line[REPLY_LINE_MAX + 1];           /* the last line of the last reply */
  int utf8, eightbit;                      /* EHLO offered SMTPUTF8, 8BITMIME */
};

static void deadline(tain *d, unsigned int seconds)
{
  tain_now_g();
  tain_addsec_g(d, (int)seconds);
}

/* The next reply's code, its last line in s->line; -1 if the server is
 * gone, silent past the timeout, or does not speak SMTP. */
static int reply(struct server *s, unsigned int seconds)
{
  tain d;
  deadline(&d, seconds);
  for (;;)
  {
    size_t w = 0;
    unsigned int code;
    if (timed_getlnmax_g(&s->in, s->line, REPLY_LINE_MAX, &w, '\n', &d) <= 0) return -1;
    while (w && (s->line[w-1] == '\n' || s->line[w-1] == '\r')) w--;
    s->line[w] = 0;
    if (w < 3 || uint_scan(s->line, &code) != 3 || code < 100 || code > 599 || (w > 3 && s->line[3] != ' ' && s->line[3] != '-'))
    { errno = EPROTO; return -1; }
    if (w > 4 && !strncasecmp(s->line + 4, "SMTPUTF8", 8) && (w == 12 || s->line[12] == ' ')) s->utf8 = 1;
    if (w > 4 && !strncasecmp(s->line + 4, "8BITMIME", 8) && (w == 12 || s->line[12] == ' ')) s->eightbit = 1;
    if (w == 3 || s->line[3] == ' ') return (int)code;
  }
}

/* Sends a, b and c as one command line; the reply's code, or -1. */
static int command(struct server *s, char const *a, char const *b, char const *c)
{
  tain d;
  deadline(&d, SUBMIT_TIMEOUT);
  if (buffer_timed_puts_g(&s->out, a, &d) < strlen(a)
      || (b && buffer_timed_puts_g(&s->out, b, &d) < strlen(b))
      || (c && buffer_timed_puts_g(&s->out, c, &d) < strlen(c))
      || buffer_timed_put_g(&s->out, "\r\n", 2, &d) < 2
      || !buffer_timed_flush_g(&s->out, &d))
    return -1;
  return reply(s, SUBMIT_TIMEOUT);
}

/* Says why the server did not take the message, and exits: 100 when it
 * refused it for good (5xx), 111 when it may take it later or could not be
 * talked to (code -1). */
static void refused(struct server *s, int code, char const *what, char const *arg)
{
  char said[sizeof s->line];
  if (code < 0) strerr_diefu6sys(111, "talk to the SMTP server at ", s->where, " (", what, arg ? arg : "", ")");
  memcpy(said, s->line, sizeof said);
  command(s, "QUIT", 0, 0);   /* a courtesy: its answer changes nothing */
  strerr_dief7x(code >= 500 ? 100 : 111, "the SMTP server at ", s->where, " refused ", what, arg ? arg : "", ": ", said);
}

/* The message, dot-stuffed, every line ending in CRLF, then the final dot. */
static int send_message(struct server *s, char const *m, size_t len)
{
  tain d;
  deadline(&d, SUBMIT_DATA_TIMEOUT);
  for (size_t i = 0; i < len; )
  {
    char const *lf = memchr(m + i, '\n', len - i);
    size_t end = lf ? (size_t)(lf - m) : len, n = end - i;
    if (n && m[end-1] == '\r') n--;
    if ((m[i] == '.' && n && buffer_timed_put_g(&s->out, ".", 1, &d) < 1)
        || buffer_timed_put_g(&s->out, m + i, n, &d) < n
        || buffer_timed_put_g(&s->out, "\r\n", 2, &d) < 2)
      return 0;
    i = lf ? end + 1 : len;
  }
  return buffer_timed_put_g(&s->out, ".\r\n", 3, &d) == 3 && buffer_timed_flush_g(&s->out, &d);
}

static int any8bit(char const *p, size_t len)
{
  for (size_t i = 0; i < len; i++) if ((unsigned char)p[i] >= 0x80) return 1;
  return 0;
}

int submit_smtp(char const *message, size_t len, char const *envelope, size_t envlen)
{
  static struct server s;
  char const *host = getenv("VMAIL_SUBMIT_HOST"), *portvar = getenv("VMAIL_SUBMIT_PORT");
  char const *sender = envelope + 1, *r;
  ip46 ip;
  uint16_t port = 25;
  size_t n;
  tain d;
  int fd, code;
  if (!host || !*host) host = "127.0.0.1";
  n = ip46_scan(host, &ip);
  if (!n || host[n]) strerr_dief2x(100, "VMAIL_SUBMIT_HOST is not an IP address: ", host);
  if (portvar && *portvar && (!(n = uint160_scan(portvar, &port)) || portvar[n] || !port))
    strerr_dief2x(100, "bad VMAIL_SUBMIT_PORT: ", portvar);
  n = ip46_fmt(s.where, &ip);
  s.where[n++] = ':';
  s.where[n + uint16_fmt(s.where + n, port)] = 0;

  fd = socket_tcp46_nbcoe(ip46_is6(&ip));
  if (fd < 0) strerr_diefu1sys(111, "create a socket");
  deadline(&d, SUBMIT_TIMEOUT);
  if (!socket_deadlineconnstamp46_g(fd, &ip, port, &d))
    strerr_diefu3sys(111, "connect to the SMTP server at ", s.where, " (VMAIL_SUBMIT_HOST, VMAIL_SUBMIT_PORT)");
  buffer_init(&s.in, &buffer_read, fd, s.inbuf, sizeof s.inbuf);
  buffer_init(&s.out, &buffer_write, fd, s.outbuf, sizeof s.outbuf);

  code = reply(&s, SUBMIT_TIMEOUT);
  if (code != 220) refused(&s, code, "the session", 0);
  code = command(&s, "EHLO localhost", 0, 0);
  if (code >= 500) code = command(&s, "HELO localhost", 0, 0);
  if (code / 100 != 2) refused(&s, code, "HELO", 0);
  {
    int utf8 = s.utf8 && any8bit(envelope, envlen), eight = s.eightbit && any8bit(message, len);
    char const *params = utf8 && eight ? "> SMTPUTF8 BODY=8BITMIME" : utf8 ? "> SMTPUTF8" : eight ? "> BODY=8BITMIME" : ">";
    code = command(&s, "MAIL FROM:<", sender, params);
  }
  if (code / 100 != 2) refused(&s, code, "the sender ", sender);
  for (r = sender + strlen(sender) + 1; r < envelope + envlen && *r == 'T'; r += strlen(r) + 1)
  {
    code = command(&s, "RCPT TO:<", r + 1, ">");
    if (code / 100 != 2) refused(&s, code, "the recipient ", r + 1);
  }
  code = command(&s, "DATA", 0, 0);
  if (code != 354) refused(&s, code, "DATA", 0);
  if (!send_message(&s, message, len)) refused(&s, -1, "sending the message", 0);
  code = reply(&s, SUBMIT_DATA_TIMEOUT);
  if (code / 100 != 2) refused(&s, code, "the message", 0);
  command(&s, "QUIT", 0, 0);
  fd_close(fd);
  return 0;
}
