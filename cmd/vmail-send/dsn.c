/* dsn.c: bounces. A multipart/report (RFC 3464, RFC 6522) to the sender,
 * or to the postmaster for a bounce that bounced (with qmail's double-bounce
 * sender "#@[]", so that one is never bounced again), injected through
 * vmail-queue like any other message. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>

#include "logline.h"
#include "send.h"

#define DSN_HEADER_MAX (64 * 1024)   /* original header bytes returned (RFC 3462 text/rfc822-headers) */
#define DOUBLE_BOUNCE "#@[]"

static char const *hostname(void)
{
  static char host[256];
  char const *h = getenv("VMAIL_HOSTNAME");
  if (h && *h) return h;
  if (gethostname(host, sizeof host - 1) < 0) return "localhost";
  return host;
}

static int cat_date(stralloc *sa, time_t t)
{
  char date[64];
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return stralloc_cats(sa, date);
}

/* An RFC 3463 status code at the start of reason ("5.1.1 ..."), or dflt. */
static void status_of(char const *reason, size_t len, char const *dflt, char *out)
{
  size_t i = 0;
  if (len >= 5 && (reason[0] == '4' || reason[0] == '5') && reason[1] == '.')
  {
    i = 2;
    while (i < len && i < 5 && reason[i] >= '0' && reason[i] <= '9') i++;
    if (i < len && reason[i] == '.' && i > 2)
    {
      size_t j = i + 1;
      while (j < len && j < i + 4 && reason[j] >= '0' && reason[j] <= '9') j++;
      if (j > i + 1 && j < 12) { memcpy(out, reason, j); out[j] = 0; out[0] = dflt[0]; return; }
    }
  }
  strcpy(out, dflt);
}

/* A remote server's answer, as vmail-send journals it: "HOST[IP]:PORT said:
 * 550 5.1.1 text". 1 with the host name and the reply (pointers into
 * reason), 0 if reason is our own. */
static int remote_said(char const *reason, size_t len, char const **host, size_t *hostlen,
                       char const **reply, size_t *replylen)
{
  char const *said = memmem(reason, len, " said: ", 7), *br;
  if (!said || memchr(reason, ' ', (size_t)(said - reason))) return 0;
  br = memchr(reason, '[', (size_t)(said - reason));
  *host = reason;
  *hostlen = (size_t)((br ? br : said) - reason);
  *reply = said + 7;
  *replylen = len - (size_t)(*reply - reason);
  return *replylen >= 3;
}

static int cat_header_section(stralloc *sa, char const *dir, char const *id)
{
  stralloc p = STRALLOC_ZERO;
  char buf[DSN_HEADER_MAX];
  size_t got = 0, end;
  int fd;
  if (queue_path(&p, dir, "mess", id) < 0) return 0;
  fd = openc_read(p.s);
  stralloc_free(&p);
  if (fd < 0) return stralloc_cats(sa, "(the message is no longer in the queue)\n");
  got = allread(fd, buf, sizeof buf);
  fd_close(fd);
  end = got;
  for (size_t i = 0; i + 1 < got; i++)
  {
    if (buf[i] == '\n' && (buf[i+1] == '\n' || (buf[i+1] == '\r' && i + 2 < got && buf[i+2] == '\n'))) { end = i + 1; break; }
  }
  /* bare CRs are left to the reader; every line ends with LF */
  return stralloc_catb(sa, buf, end);
}

/* The reason each recipient is reported for: failed, the first B line of
 * one in RCPT_FAILED; delayed, the last Z line of one in RCPT_DEFERRED. */
static void reasons(stralloc const *j, struct msg const *m, int delayed, char const **why, size_t *whylen)
{
  size_t pos = 0, rl;
  char kind;
  unsigned int n;
  char const *reason;
  while (queue_journal_next(j, &pos, &kind, &n, &reason, &rl))
  {
    if (n >= m->e.nrcpt) continue;
    if (delayed ? kind != 'Z' || m->st[n] != RCPT_DEFERRED : kind != 'B' || m->st[n] != RCPT_FAILED || why[n]) continue;
    why[n] = reason;
    whylen[n] = rl;
  }
}

/* One recipient's part: a line of the human text, its RFC 3464 fields. */
static int cat_recipient(stralloc *human, stralloc *per, char const *rcpt, char const *reason, size_t rl, int delayed)
{
  char const *mta = 0, *reply = 0;
  size_t ml = 0, pl = 0;
  char status[16];
  int remote = remote_said(reason, rl, &mta, &ml, &reply, &pl);
  /* a reply's status code follows its three digits */
  if (remote) status_of(reply + 4 * (pl > 4), pl - 4 * (pl > 4), delayed ? "4.0.0" : "5.0.0", status);
  else status_of(reason, rl, delayed ? "4.0.0" : rl >= 7 && !memcmp(reason, "expired", 7) ? "4.4.7" : "5.0.0", status);
  return stralloc_cats(human, "<") && stralloc_cats(human, rcpt) && stralloc_cats(human, ">:\n    ")
    && stralloc_catb(human, reason, rl) && stralloc_cats(human, "\n\n")
    && stralloc_cats(per, "\nFinal-Recipient: rfc822; ") && stralloc_cats(per, rcpt)
    && stralloc_cats(per, delayed ? "\nAction: delayed\nStatus: " : "\nAction: failed\nStatus: ") && stralloc_cats(per, status)
    && (remote ? stralloc_cats(per, "\nRemote-MTA: dns; ") && stralloc_catb(per, mta, ml)
                 && stralloc_cats(per, "\nDiagnostic-Code: smtp; ") && stralloc_catb(per, reply, pl)
               : stralloc_cats(per, "\nDiagnostic-Code: X-Vmail; ") && stralloc_catb(per, reason, rl))
    && stralloc_cats(per, "\n");
}

static int build(stralloc *sa, char const *dir, struct msg const *m, char const *to, unsigned int *count, int delayed)
{
  stralloc j = STRALLOC_ZERO, human = STRALLOC_ZERO, per = STRALLOC_ZERO;
  char const *host = hostname();
  char const **why = calloc(m->e.nrcpt, sizeof *why);
  size_t *whylen = calloc(m->e.nrcpt, sizeof *whylen);
  int ok = why && whylen && queue_journal_read(dir, m->id, &j) == 0;
  *count = 0;
  if (ok) reasons(&j, m, delayed, why, whylen);
  for (unsigned int n = 0; ok && n < m->e.nrcpt; n++)
  {
    if (!why[n]) continue;
    ++*count;
    ok = cat_recipient(&human, &per, m->rcpt[n], why[n], whylen[n], delayed);
  }
  ok = ok && stralloc_cats(sa, "From: Mail Delivery System <MAILER-DAEMON@") && stralloc_cats(sa, host)
    && stralloc_cats(sa, ">\nTo: <") && stralloc_cats(sa, to)
    && stralloc_cats(sa, delayed ? ">\nSubject: Delayed Mail (still being retried)\nDate: " : ">\nSubject: Undelivered Mail Returned to Sender\nDate: ")
    && cat_date(sa, time(0))
    && stralloc_cats(sa, "\nMessage-ID: <") && stralloc_cats(sa, m->id) && stralloc_cats(sa, delayed ? ".delay@" : ".dsn@") && stralloc_cats(sa, host)
    && stralloc_cats(sa, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
                         "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"")
    && stralloc_cats(sa, m->id) && stralloc_cats(sa, "/vmail\"\n\nThis is a MIME-encapsulated message.\n\n--")
    && stralloc_cats(sa, m->id) && stralloc_cats(sa, "/vmail\nContent-Type: text/plain; charset=utf-8\n\n"
                         "This is the mail system at host ") && stralloc_cats(sa, host)
    && stralloc_cats(sa, delayed ? ".\n\nYour message has not been delivered yet to the recipients below.\n"
                                   "The mail system keeps trying; you need not send it again.\n\n"
                       : ".\n\nI'm sorry to have to inform you that your message could not\n"
                         "be delivered to one or more recipients. It's attached below.\n\n")
    && stralloc_catb(sa, human.s, human.len)
    && stralloc_cats(sa, "--") && stralloc_cats(sa, m->id)
    && stralloc_cats(sa, "/vmail\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; ") && stralloc_cats(sa, host)
    && stralloc_cats(sa, "\nX-Vmail-Queue-ID: ") && stralloc_cats(sa, m->id)
    && stralloc_cats(sa, "\nX-Original-Envelope-From: <") && stralloc_cats(sa, m->e.sender)
    && stralloc_cats(sa, ">\nArrival-Date: ") && cat_date(sa, queue_id_time(m->id)) && stralloc_cats(sa, "\n")
    && stralloc_catb(sa, per.s, per.len)
    && stralloc_cats(sa, "\n--") && stralloc_cats(sa, m->id)
    && stralloc_cats(sa, "/vmail\nContent-Type: text/rfc822-headers\n\n") && cat_header_section(sa, dir, m->id)
    && stralloc_cats(sa, "\n--") && stralloc_cats(sa, m->id) && stralloc_cats(sa, "/vmail--\n");
  free(why); free(whylen);
  stralloc_free(&j); stralloc_free(&human); stralloc_free(&per);
  return ok;
}

/* The failed recipients are reported (or nobody is left to tell): an R line
 * each, so that a restart does not report them again. */
static void reported(char const *dir, struct msg *m)
{
  unsigned int last = m->e.nrcpt;
  for (unsigned int i = 0; i < m->e.nrcpt; i++) if (m->st[i] == RCPT_FAILED) last = i;
  for (unsigned int i = 0; i < m->e.nrcpt; i++)
  {
    if (m->st[i] != RCPT_FAILED) continue;
    if (queue_journal_add(dir, m->id, 'R', i, 0, i == last) < 0)
      log_line("bounce qid=", m->id, " detail=\"unable to journal the report: a restart may send it again\"", (char *)0);
    m->st[i] = RCPT_FINAL;
  }
}

int dsn_send(char const *dir, struct msg *m)
{
  stralloc message = STRALLOC_ZERO, env = STRALLOC_ZERO, pm = STRALLOC_ZERO;
  char const *to = m->e.sender, *from = "";
  unsigned int count = 0;
  int r = -1, code;
  {
    unsigned int failed = 0;
    for (unsigned int i = 0; i < m->e.nrcpt; i++) failed += m->st[i] == RCPT_FAILED;
    if (!failed) return 0;
  }
  if (!strcmp(m->e.sender, DOUBLE_BOUNCE))
  {
    log_line("bounce qid=", m->id, " status=dropped detail=\"a double bounce failed: nobody left to tell\"", (char *)0);
    reported(dir, m);
    return 0;
  }
  if (!*to)
  {
    char const *p = getenv("VMAIL_POSTMASTER");
    if (p && *p) to = p;
    else
    {
      if (!stralloc_cats(&pm, "postmaster@") || !stralloc_cats(&pm, hostname()) || !stralloc_0(&pm)) goto end;
      to = pm.s;
    }
    from = DOUBLE_BOUNCE;
  }
  if (!build(&message, dir, m, to, &count, 0)) goto end;
  if (!count)
  {
    /* their B lines were journalled before they became RCPT_FAILED */
    log_line("bounce qid=", m->id, " status=deferred detail=\"no failure found in the journal\"", (char *)0);
    goto end;
  }
  if (!stralloc_catb(&env, "F", 1) || !stralloc_cats(&env, from) || !stralloc_catb(&env, "\0T", 2)
      || !stralloc_cats(&env, to) || !stralloc_catb(&env, "\0\0", 2)) goto end;
  code = queue_inject("vmail-queue", message.s, message.len, -1, env.s, env.len);
  if (code == 0)
  {
    char num[16];
    snprintf(num, sizeof num, "%u", count);
    log_line("bounce qid=", m->id, " from=<", from, "> to=<", to, "> recipients=", num, " status=sent", (char *)0);
    reported(dir, m);
    r = 0;
  }
  else
  {
    char num[16];
    snprintf(num, sizeof num, "%d", code);
    log_line("bounce qid=", m->id, " to=<", to, "> status=deferred detail=\"vmail-queue exited ", num, "\"", (char *)0);
  }
 end:
  stralloc_free(&message); stralloc_free(&env); stralloc_free(&pm);
  return r;
}

int dsn_delay(char const *dir, struct msg *m)
{
  stralloc message = STRALLOC_ZERO, env = STRALLOC_ZERO;
  unsigned int count = 0;
  int r = -1, code = 0;
  /* nobody to warn about a bounce (RFC 3461 6.2: a null sender gets no DSN) */
  if (*m->e.sender && strcmp(m->e.sender, DOUBLE_BOUNCE))
  {
    if (!build(&message, dir, m, m->e.sender, &count, 1)) goto end;
    if (count)
    {
      if (!stralloc_catb(&env, "F\0T", 3) || !stralloc_cats(&env, m->e.sender) || !stralloc_catb(&env, "\0\0", 2)) goto end;
      code = queue_inject("vmail-queue", message.s, message.len, -1, env.s, env.len);
      if (code)
      {
        char num[16];
        snprintf(num, sizeof num, "%d", code);
        log_line("delay qid=", m->id, " to=<", m->e.sender, "> status=deferred detail=\"vmail-queue exited ", num, "\"", (char *)0);
        goto end;
      }
      log_line("delay qid=", m->id, " to=<", m->e.sender, "> status=sent", (char *)0);
    }
  }
  if (queue_journal_add(dir, m->id, 'W', 0, 0, 1) < 0)
    log_line("delay qid=", m->id, " detail=\"unable to journal the warning: it may be sent again\"", (char *)0);
  r = 0;
 end:
  stralloc_free(&message); stralloc_free(&env);
  return r;
}
