/* vmail-smtpd: an RFC 5321 ESMTP server on fd 0/1, under tcpserver.
 * Checks recipients through a vmail-resolve co-process, enforces relay rules
 * (RELAYCLIENT or AUTH), and hands each message to $VMAIL_QUEUE; a message is
 * accepted (250) only once that program has exited 0. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "checkpw.h"
#include "resolve.h"
#include "resolver.h"
#include "smtp_auth.h"
#include "smtp_cmd.h"
#include "smtp_data.h"
#include "smtpd.h"

#define USAGE "vmail-smtpd"

/* Limits; the environment may lower or raise the ones named VMAIL_*. */
#define SMTP_COMMAND_MAX   2048     /* RFC 5321 4.5.3.1.4: 512, plus what ESMTP
                                       parameters add (AUTH= alone 500, RFC 4954 5) */
#define SMTP_LINE_MAX      SMTP_AUTH_LINE_MAX   /* RFC 4954 4: AUTH lines are longer */
#define SMTP_HELO_MAX      255      /* RFC 5321 4.5.3.1.2: a domain name */
#define SMTP_RCPT_DEFAULT  1000     /* VMAIL_MAXRCPT; RFC 5321 4.5.3.1.8 asks >= 100 */
#define SMTP_DATABYTES_DEFAULT 10240000   /* VMAIL_DATABYTES (RFC 1870 SIZE) */
#define SMTP_TIMEOUT_DEFAULT 300    /* VMAIL_TIMEOUT, seconds: RFC 5321 4.5.3.2.7 */
#define SMTP_IDLE_TIMEOUT_DEFAULT 60   /* VMAIL_IDLE_TIMEOUT: before MAIL, where
                                       nothing is lost by hanging up (and one
                                       host cannot hold idle slots for long) */
#define SMTP_ERRORS_MAX    20       /* error replies before we hang up */
#define SMTP_UNKNOWN_MAX   5        /* unknown commands before we hang up */
#define SMTP_LOG_RCPTS     20       /* recipients named in one log line */

enum state { S_GREETED, S_READY, S_MAIL, S_FAILED_CHUNKS };

static struct
{
  char const *hostname, *ip, *remotehost;
  char const *postmaster;      /* where RCPT TO:<postmaster> goes */
  int relayclient, submission, auth_allowed;
  int any_sender;              /* VMAIL_ANY_SENDER: no sender check after AUTH */
  int auth_plaintext;          /* VMAIL_AUTH_PLAINTEXT: AUTH without TLS too */
  int tls;                     /* the connection is encrypted (SSL_PROTOCOL is set) */
  int tls_offered;             /* STARTTLS is possible (UCSPI-TLS descriptors) */
  ucspitls ucspi;
  uint64_t databytes;
  unsigned maxrcpt, timeout, idle_timeout;
  char helo[SMTP_HELO_MAX + 1];
  int esmtp;
  char authuser[SMTP_AUTH_FIELD_MAX + 1];
  unsigned errors, unknown, messages;
  unsigned long id;
} session;

static struct
{
  enum state state;
  stralloc from;          /* "" for <> */
  struct smtp_path params;
  stralloc rcpts;         /* NUL-separated */
  unsigned nrcpt;
  int chunking;           /* BDAT seen: DATA no longer allowed */
  struct smtp_data body;
  uint64_t size;          /* decoded bytes so far */
  int toobig;
  char id[64];            /* the message's id once its body has begun, else "" */
  struct submit_head head;   /* an authenticated session's header, completed (submit.c) */
  pid_t qp;               /* its $VMAIL_QUEUE process */
} tx = { .state = S_GREETED };

static char line[SMTP_LINE_MAX + 2];

/* The body is decoded at most BODY_CHUNK input bytes at a time into
 * body_out, which must hold the decoder's worst case for that much. */
#define BODY_CHUNK (sizeof line)
static char body_out[sizeof line + 1];
_Static_assert(sizeof body_out >= SMTP_DATA_OUT_MAX(BODY_CHUNK), "body_out is smaller than the decoder's worst case");

/* Log text: printable ASCII without spaces, so key=value lines stay parsable. */
static int cat_clean(stralloc *sa, char const *s, size_t max)
{
  for (size_t i = 0; s[i] && i < max; i++)
  {
    char c = s[i];
    if (!stralloc_catb(sa, (c > ' ' && c < 127 && c != '(' && c != ')' && c != '\\') ? &c : "?", 1)) return 0;
  }
  return 1;
}

static void log_line(stralloc *sa)
{
  if (stralloc_0(sa)) strerr_warni1x(sa->s);
  sa->len = 0;
}

static void log_client(stralloc *sa)
{
  stralloc_cats(sa, " ip="); cat_clean(sa, session.ip, 64);
  stralloc_cats(sa, " helo="); cat_clean(sa, session.helo[0] ? session.helo : "-", SMTP_HELO_MAX);
  stralloc_cats(sa, " auth="); cat_clean(sa, session.authuser[0] ? session.authuser : "-", SMTP_AUTH_FIELD_MAX);
}

/* tls=version:cipher, or tls=- in the clear */
static void log_tls(stralloc *sa)
{
  stralloc_cats(sa, " tls=");
  if (!session.tls) { stralloc_cats(sa, "-"); return; }
  cat_clean(sa, getenv("SSL_PROTOCOL"), 32);
  stralloc_cats(sa, ":");
  cat_clean(sa, getenv("SSL_CIPHER") ? getenv("SSL_CIPHER") : "-", 64);
}

static void log_message(char const *result, char const *code);
static void log_reject(char const *addr, char const *why);

static void tx_reset(void)
{
  if (queue_running()) queue_abort();
  tx.state = session.helo[0] ? S_READY : S_GREETED;
  tx.from.len = 0;
  tx.rcpts.len = 0;
  tx.nrcpt = 0;
  tx.chunking = 0;
  tx.size = 0;
  tx.toobig = 0;
  tx.id[0] = 0;
}

void session_end(char const *why)
{
  static int ending;
  stralloc sa = STRALLOC_ZERO;
  char fmt[UINT_FMT];
  if (ending) _exit(0);
  ending = 1;
  if (queue_running()) queue_abort();
  if (tx.id[0]) log_message("aborted", "-");   /* the client left mid-body */
  io_flush();
  resolver_stop();
  stralloc_cats(&sa, "session");
  log_client(&sa);
  stralloc_cats(&sa, " messages="); stralloc_catb(&sa, fmt, uint_fmt(fmt, session.messages));
  stralloc_cats(&sa, " errors="); stralloc_catb(&sa, fmt, uint_fmt(fmt, session.errors));
  stralloc_cats(&sa, " end="); stralloc_cats(&sa, why);
  log_tls(&sa);
  log_line(&sa);
  _exit(0);
}

/* An error reply: counted, and too many end the session. */
static void reply_error(char const *s)
{
  io_reply(s);
  if (++session.errors >= SMTP_ERRORS_MAX)
  {
    io_reply("421 4.7.0 Too many errors, closing connection");
    session_end("errors");
  }
}

static void reply_host(char const *code, char const *text)
{
  io_puts(code); io_puts(session.hostname); io_reply(text);
}

/* ---- HELO, EHLO ---- */

static int helo_set(struct smtp_cmd const *cmd)
{
  size_t n = cmd->arglen;
  if (!n) return 0;
  if (n > SMTP_HELO_MAX) n = SMTP_HELO_MAX;
  /* kept as the client said it, made safe for the Received header and logs */
  for (size_t i = 0; i < n; i++)
  {
    char c = cmd->arg[i];
    session.helo[i] = (c > ' ' && c < 127 && c != '(' && c != ')' && c != '\\') ? c : '_';
  }
  session.helo[n] = 0;
  return 1;
}

static void do_helo(struct smtp_cmd const *cmd, int esmtp)
{
  char size[UINT64_FMT];
  if (!helo_set(cmd)) { reply_error("501 5.5.4 Syntax: HELO/EHLO hostname"); return; }
  session.esmtp = esmtp;
  tx_reset();
  tx.state = S_READY;
  if (!esmtp) { reply_host("250 ", ""); return; }
  size[uint64_fmt(size, session.databytes)] = 0;
  reply_host("250-", "");
  io_reply("250-PIPELINING");
  io_puts("250-SIZE "); io_reply(size);
  io_reply("250-8BITMIME");
  io_reply("250-SMTPUTF8");
  io_reply("250-CHUNKING");
  if (session.tls_offered) io_reply("250-STARTTLS");
  if (session.auth_allowed && !session.authuser[0]) io_reply("250-AUTH PLAIN LOGIN");
  io_reply("250 ENHANCEDSTATUSCODES");
}

/* ---- MAIL, RCPT ---- */

static void do_mail(struct smtp_cmd const *cmd)
{
  int r;
  if (tx.state == S_GREETED) { reply_error("503 5.5.1 Error: send HELO/EHLO first"); return; }
  if (tx.state != S_READY) { reply_error("503 5.5.1 Error: nested MAIL command"); return; }
  if (session.submission && !session.authuser[0]) { reply_error("530 5.7.0 Authentication required"); return; }
  r = smtp_mail_parse(cmd->arg, cmd->arglen, &tx.from, &tx.params);
  switch (r)
  {
    case SMTP_PATH_OK: break;
    case SMTP_PATH_ADDRESS: reply_error("553 5.1.7 Bad sender address syntax"); return;
    case SMTP_PATH_PARAM: reply_error("555 5.5.4 Unsupported MAIL parameter"); return;
    case SMTP_PATH_UTF8: reply_error("553 5.6.7 Non-ASCII address requires SMTPUTF8"); return;
    default: reply_error("501 5.5.4 Syntax: MAIL FROM:<address>"); return;
  }
  if (tx.params.size > session.databytes)
  {
    reply_error("552 5.3.4 Message size exceeds fixed maximum message size");
    return;
  }
  if (session.authuser[0] && !session.any_sender)
  {
    r = submit_sender(session.authuser, tx.from.s, session.timeout);
    if (r < 0) { reply_error("451 4.3.0 Temporary lookup failure, try again later"); return; }
    if (!r)
    {
      log_reject(tx.from.s, "sender");
      reply_error("553 5.7.1 Sender address rejected: not owned by the authenticated user");
      return;
    }
  }
  tx.state = S_MAIL;
  io_reply("250 2.1.0 Ok");
}

static void reply_rcpt(char const *code, char const *addr, char const *text)
{
  io_puts(code); io_puts(" <"); io_puts(addr); io_puts(">: ");
  reply_error(text);
}

static int rcpt_known(char const *addr)
{
  for (size_t i = 0; i < tx.rcpts.len; i += strlen(tx.rcpts.s + i) + 1)
    if (!strcmp(tx.rcpts.s + i, addr)) return 1;
  return 0;
}

static void log_reject(char const *addr, char const *why)
{
  stralloc sa = STRALLOC_ZERO;
  stralloc_cats(&sa, "reject");
  log_client(&sa);
  stralloc_cats(&sa, " from=<"); cat_clean(&sa, tx.from.s, ~(size_t)0);
  stralloc_cats(&sa, "> to=<"); cat_clean(&sa, addr, ~(size_t)0);
  stralloc_cats(&sa, "> reason="); stralloc_cats(&sa, why);
  log_line(&sa);
  stralloc_free(&sa);
}

static void do_rcpt(struct smtp_cmd const *cmd)
{
  static stralloc addr = STRALLOC_ZERO;
  int r;
  if (tx.state != S_MAIL) { reply_error("503 5.5.1 Error: need MAIL command"); return; }
  if (tx.nrcpt >= session.maxrcpt) { io_reply("452 4.5.3 Error: too many recipients"); return; }
  r = smtp_rcpt_parse(cmd->arg, cmd->arglen, tx.params.smtputf8, &addr);
  switch (r)
  {
    case SMTP_PATH_OK: break;
    case SMTP_PATH_POSTMASTER:   /* RFC 5321 4.5.1: the site's postmaster */
      if (!stralloc_copys(&addr, session.postmaster) || !stralloc_0(&addr)) strerr_diefu1sys(111, "allocate");
      break;
    case SMTP_PATH_ADDRESS: reply_error("553 5.1.3 Bad recipient address syntax"); return;
    case SMTP_PATH_PARAM: reply_error("555 5.5.4 Unsupported RCPT parameter"); return;
    case SMTP_PATH_UTF8: reply_error("553 5.6.7 Non-ASCII address requires SMTPUTF8"); return;
    default: reply_error("501 5.5.4 Syntax: RCPT TO:<address>"); return;
  }
  switch (resolver_ask(addr.s, session.timeout, 0))
  {
    case RESOLVE_OK: break;
    case RESOLVE_NODOMAIN:
      if (session.relayclient || session.authuser[0]) break;
      log_reject(addr.s, "relay");
      reply_rcpt("554 5.7.1", addr.s, "Relay access denied");
      return;
    case RESOLVE_NOUSER:
      log_reject(addr.s, "nouser");
      reply_rcpt("550 5.1.1", addr.s, "Recipient address rejected: User unknown");
      return;
    case RESOLVE_LOOP:
      log_reject(addr.s, "loop");
      reply_rcpt("550 5.4.6", addr.s, "Recipient address rejected: Alias loop");
      return;
    case RESOLVE_BAD:
      reply_error("553 5.1.3 Bad recipient address syntax");
      return;
    default:
      log_reject(addr.s, "temp");
      reply_rcpt("451 4.3.0", addr.s, "Temporary lookup failure, try again later");
      return;
  }
  if (rcpt_known(addr.s)) { io_reply("250 2.1.5 Ok (duplicate)"); return; }   /* one delivery */
  if (!stralloc_catb(&tx.rcpts, addr.s, strlen(addr.s) + 1)) strerr_diefu1sys(111, "allocate");
  tx.nrcpt++;
  io_reply("250 2.1.5 Ok");
}

/* ---- DATA, BDAT ---- */

static int cat_date(stralloc *sa)
{
  char buf[64];
  time_t now = time(0);
  struct tm tm;
  gmtime_r(&now, &tm);
  return stralloc_catb(sa, buf, strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm));
}

static void message_id(char *id)
{
  /* seconds.pid.n: unique on this host, and matches the log line */
  size_t n = ulong_fmt(id, (unsigned long)time(0));
  id[n++] = '.';
  n += pid_fmt(id + n, getpid());
  id[n++] = '.';
  n += ulong_fmt(id + n, ++session.id);
  id[n] = 0;
}

static char const *protocol(void)
{
  /* RFC 3848, RFC 6531 7: S for TLS, A for AUTH */
  static char const *const names[3][4] = {
    { "SMTP", "SMTP", "SMTP", "SMTP" },
    { "ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA" },
    { "UTF8SMTP", "UTF8SMTPA", "UTF8SMTPS", "UTF8SMTPSA" } };
  int kind = tx.params.smtputf8 ? 2 : session.esmtp ? 1 : 0;
  return names[kind][(session.tls ? 2 : 0) + (session.authuser[0] ? 1 : 0)];
}

/* Names the message (tx.id), starts the queue child and gives it our
 * Received header (RFC 5321 4.4). */
static int message_begin(void)
{
  stralloc h = STRALLOC_ZERO;
  char const *id = tx.id;
  int ok;
  if (!queue_start(session.timeout)) return 0;
  message_id(tx.id);
  tx.qp = queue_child();
  /* every allocation is checked: a header cut short must never be queued */
  ok = stralloc_cats(&h, "Received: from ") && stralloc_cats(&h, session.helo) && stralloc_cats(&h, " (");
  if (ok && session.remotehost) ok = cat_clean(&h, session.remotehost, 255) && stralloc_cats(&h, " ");
  ok = ok && stralloc_cats(&h, "[") && cat_clean(&h, session.ip, 64) && stralloc_cats(&h, "])\n\t");
  if (ok && session.tls)
  {
    /* as Postfix writes it */
    char const *cipher = getenv("SSL_CIPHER");
    ok = stralloc_cats(&h, "(using ") && cat_clean(&h, getenv("SSL_PROTOCOL"), 32)
         && stralloc_cats(&h, " with cipher ") && cat_clean(&h, cipher ? cipher : "unknown", 64)
         && stralloc_cats(&h, ")\n\t");
  }
  ok = ok && stralloc_cats(&h, "by ") && stralloc_cats(&h, session.hostname)
       && stralloc_cats(&h, " (vmail-smtpd) with ") && stralloc_cats(&h, protocol())
       && stralloc_cats(&h, " id ") && stralloc_cats(&h, id);
  if (ok && tx.nrcpt == 1) ok = stralloc_cats(&h, "\n\tfor <") && stralloc_cats(&h, tx.rcpts.s) && stralloc_cats(&h, ">");
  ok = ok && stralloc_cats(&h, "; ") && cat_date(&h) && stralloc_cats(&h, "\n");
  if (!ok) { stralloc_free(&h); queue_abort(); tx.id[0] = 0; return 0; }
  queue_write(h.s, h.len);
  stralloc_free(&h);
  submit_head_init(&tx.head);
  return 1;
}

/* Feeds decoded body bytes to the queue, up to the size limit. */
static void message_store(char const *s, size_t n)
{
  if (tx.toobig) return;
  if (tx.size + n > session.databytes)
  {
    tx.toobig = 1;
    queue_abort();   /* keep reading, but store nothing more */
    return;
  }
  tx.size += n;
  queue_write(s, n);
}

/* Submitted mail (after AUTH) has its header completed on the way. */
static void message_put(char const *s, size_t n)
{
  if (session.authuser[0]) submit_head_put(&tx.head, s, n, session.hostname, message_store);
  else message_store(s, n);
}

/* The message's one log line; code: the reply (its first word is logged).
 * The message is then done with: it is not logged again. */
static void log_message(char const *result, char const *code)
{
  stralloc sa = STRALLOC_ZERO;
  char fmt[UINT64_FMT];
  char const *r = tx.rcpts.s;
  stralloc_cats(&sa, "message id="); stralloc_cats(&sa, tx.id);
  stralloc_cats(&sa, " qp="); stralloc_catb(&sa, fmt, pid_fmt(fmt, tx.qp));
  log_client(&sa);
  stralloc_cats(&sa, " from=<"); cat_clean(&sa, tx.from.s, ~(size_t)0);
  stralloc_cats(&sa, "> nrcpt="); stralloc_catb(&sa, fmt, uint_fmt(fmt, tx.nrcpt));
  stralloc_cats(&sa, " to=");
  for (unsigned i = 0; i < tx.nrcpt; i++, r += strlen(r) + 1)
  {
    if (i == SMTP_LOG_RCPTS) { stralloc_cats(&sa, ",..."); break; }
    if (i) stralloc_cats(&sa, ",");
    stralloc_cats(&sa, "<"); cat_clean(&sa, r, ~(size_t)0); stralloc_cats(&sa, ">");
  }
  stralloc_cats(&sa, " size="); stralloc_catb(&sa, fmt, uint64_fmt(fmt, tx.size));
  stralloc_cats(&sa, " result="); stralloc_cats(&sa, result);
  stralloc_cats(&sa, " code="); stralloc_catb(&sa, code, strcspn(code, " "));
  log_tls(&sa);
  log_line(&sa);
  stralloc_free(&sa);
  tx.id[0] = 0;
}

/* The body is complete: judge it, queue it, answer, end the transaction. */
static void message_end(void)
{
  char const *reply;
  char const *result = "rejected";
  if (session.authuser[0]) submit_head_end(&tx.head, session.hostname, message_store);
  if (tx.body.flags & SMTP_DATA_BARE)
  {
    queue_abort();
    reply = "554 5.6.0 Message refused: bare CR or LF (RFC 5321 2.3.8)";
    result = "bareline";
  }
  else if (tx.body.flags & SMTP_DATA_NUL)
  {
    /* refused, not stripped: a changed body would break its signatures
       and the sender would never know (RFC 6152 3: no NUL in 8BITMIME) */
    queue_abort();
    reply = "554 5.6.0 Message refused: NUL character in message (RFC 6152 3)";
    result = "nul";
  }
  else if (tx.toobig)
  {
    reply = "552 5.3.4 Message size exceeds fixed maximum message size";
    result = "toobig";
  }
  else
  {
    stralloc env = STRALLOC_ZERO;
    int code, ok;
    ok = stralloc_cats(&env, "F") && stralloc_catb(&env, tx.from.s, strlen(tx.from.s) + 1);
    for (char const *r = tx.rcpts.s; ok && r < tx.rcpts.s + tx.rcpts.len; r += strlen(r) + 1)
      ok = stralloc_cats(&env, "T") && stralloc_catb(&env, r, strlen(r) + 1);
    if (!ok || !stralloc_0(&env)) { queue_abort(); code = -1; }
    else code = queue_finish(env.s, env.len);
    stralloc_free(&env);
    if (code == 0) { reply = 0; result = "accepted"; }
    else if (code >= 11 && code <= 40) reply = "554 5.3.0 Message refused by the queue";
    else { reply = "451 4.3.0 Temporary queue failure, try again later"; result = "tempfail"; }
  }
  if (!reply)
  {
    char id[sizeof tx.id];
    memcpy(id, tx.id, sizeof id);
    session.messages++;
    log_message(result, "250");
    io_puts("250 2.0.0 Ok: queued as "); io_reply(id);
  }
  else
  {
    log_message(result, reply);
    reply_error(reply);
  }
  tx_reset();
}

static int data_allowed(void)
{
  if (tx.state == S_GREETED || tx.state == S_READY) { reply_error("503 5.5.1 Error: need MAIL command"); return 0; }
  if (tx.state == S_FAILED_CHUNKS) { reply_error("503 5.5.1 Error: the message already failed, send RSET"); return 0; }
  if (!tx.nrcpt) { reply_error("554 5.5.1 Error: no valid recipients"); return 0; }
  return 1;
}

static void do_data(struct smtp_cmd const *cmd)
{
  if (cmd->arglen) { reply_error("501 5.5.4 Syntax: DATA"); return; }
  if (!data_allowed()) return;
  if (tx.chunking) { reply_error("503 5.5.1 Error: DATA after BDAT"); return; }
  if (!message_begin()) { reply_error("451 4.3.0 Temporary queue failure, try again later"); return; }
  smtp_data_init(&tx.body, SMTP_DATA_DOT);
  io_reply("354 End data with <CR><LF>.<CR><LF>");
  while (!tx.body.done)
  {
    struct iovec v[2];
    size_t n = 0, used = 0;
    io_peek(v);
    for (int k = 0; k < 2 && !tx.body.done; k++)
    {
      /* at most BODY_CHUNK input bytes at a time, for body_out */
      size_t avail = v[k].iov_len, off = 0;
      while (off < avail && !tx.body.done)
      {
        size_t chunk = avail - off < BODY_CHUNK ? avail - off : BODY_CHUNK;
        size_t c = smtp_data_decode(&tx.body, (char const *)v[k].iov_base + off, chunk, body_out, &n);
        message_put(body_out, n);
        off += c;
      }
      used += off;
    }
    io_skip(used);
  }
  message_end();
}

static void do_bdat(struct smtp_cmd const *cmd)
{
  uint64_t size, left;
  int last, ok;
  if (!smtp_bdat_parse(cmd->arg, cmd->arglen, &size, &last))
  {
    /* without a size we cannot find the next command */
    io_reply("501 5.5.4 Syntax: BDAT size [LAST], closing connection");
    session_end("badbdat");
  }
  /* A chunk that cannot fit even if it were all CRLFs (each decodes to one
     byte) is not read for ever: after it there would be no message to keep
     and maybe no next command for a long time. */
  if (size / 2 > session.databytes - tx.size + 1)
  {
    if (tx.id[0]) log_message("toobig", "552");
    io_reply("552 5.3.4 Message size exceeds fixed maximum message size, closing connection");
    session_end("toobig");
  }
  ok = tx.state == S_MAIL && tx.nrcpt;
  if (ok && !tx.chunking)
  {
    if (!message_begin()) ok = -1;
    else { smtp_data_init(&tx.body, SMTP_DATA_CHUNK); tx.chunking = 1; }
  }
  for (left = size; left;)   /* RFC 3030 2: the chunk is read whatever the reply */
  {
    struct iovec v[2];
    size_t n;
    io_peek(v);
    n = v[0].iov_len;
    if (n > left) n = left;
    if (n > BODY_CHUNK) n = BODY_CHUNK;
    if (ok > 0)
    {
      size_t outlen;
      smtp_data_decode(&tx.body, v[0].iov_base, n, body_out, &outlen);
      message_put(body_out, outlen);
    }
    io_skip(n);
    left -= n;
  }
  if (ok < 0) { reply_error("451 4.3.0 Temporary queue failure, try again later"); tx_reset(); return; }
  if (!ok) { data_allowed(); return; }
  if (tx.toobig)
  {
    log_message("toobig", "552");
    reply_error("552 5.3.4 Message size exceeds fixed maximum message size");
    tx_reset();
    tx.state = S_FAILED_CHUNKS;
    return;
  }
  if (!last)
  {
    char fmt[UINT64_FMT];
    fmt[uint64_fmt(fmt, size)] = 0;
    io_puts("250 2.0.0 "); io_puts(fmt); io_reply(" octets received");
    return;
  }
  message_put(body_out, smtp_data_finish(&tx.body, body_out));
  message_end();
}

/* ---- AUTH ---- */

/* A base64 response: inline (initial response, "=" for empty) or after a
 * 334 prompt. 1 ok, 0 cancelled or malformed (reply sent). */
static int auth_response(char const *inline_resp, size_t inlen, char const *prompt, stralloc *decoded)
{
  char const *s = inline_resp;
  ssize_t n = (ssize_t)inlen;
  decoded->len = 0;
  if (!s)
  {
    io_reply(prompt);
    n = io_line(line, SMTP_LINE_MAX);
    if (n < 0) { reply_error("500 5.5.6 Authentication exchange line is too long"); return 0; }
    s = line;
  }
  if (smtp_auth_cancelled(s, (size_t)n)) { reply_error("501 5.0.0 Authentication cancelled"); return 0; }
  if (n == 1 && s[0] == '=') return 1;
  if (!smtp_base64_decode(s, (size_t)n, decoded))
  {
    reply_error("501 5.5.2 Cannot decode response");
    return 0;
  }
  return 1;
}

/* A failed AUTH: one log line (the name tried, never the password), then
 * the reply, which counts as an error. */
static void auth_failed(char const *mech, char const *user, char const *reply, char const *result)
{
  stralloc sa = STRALLOC_ZERO;
  stralloc_cats(&sa, "authfail");
  log_client(&sa);
  stralloc_cats(&sa, " mech="); stralloc_cats(&sa, mech);
  stralloc_cats(&sa, " user=<"); cat_clean(&sa, user, SMTP_AUTH_FIELD_MAX);
  stralloc_cats(&sa, "> result="); stralloc_cats(&sa, result);
  log_line(&sa);
  stralloc_free(&sa);
  reply_error(reply);
}

static void auth_done(char const *mech, char const *user, char const *password)
{
  size_t ulen = strlen(user);
  int r;
  if (!ulen || ulen > SMTP_AUTH_FIELD_MAX || strlen(password) > SMTP_AUTH_FIELD_MAX)
  {
    auth_failed(mech, user, "535 5.7.8 Authentication credentials invalid", "fail");
    return;
  }
  io_flush();   /* the check can take a while; the client need not wait for earlier replies */
  r = auth_check(user, password);
  if (r == 0)
  {
    memcpy(session.authuser, user, ulen + 1);
    io_reply("235 2.7.0 Authentication successful");
  }
  else if (r == 1) auth_failed(mech, user, "535 5.7.8 Authentication credentials invalid", "fail");
  else if (r == CHECKPW_BLOCKED)
  {
    /* nothing more this client can do here: the slot is freed */
    auth_failed(mech, user, "421 4.7.0 Too many failed logins from your address, try again later", "blocked");
    session_end("authblocked");
  }
  else auth_failed(mech, user, "454 4.7.0 Temporary authentication failure", "tempfail");
}

static void do_auth(struct smtp_cmd const *cmd)
{
  static stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO, plain = STRALLOC_ZERO;
  char const *mech = cmd->arg, *resp;
  size_t mechlen = 0, resplen = 0;
  if (!session.auth_allowed) { reply_error("538 5.7.11 Encryption required for requested authentication mechanism"); return; }
  if (session.authuser[0]) { reply_error("503 5.5.1 Error: already authenticated"); return; }
  if (tx.state == S_GREETED) { reply_error("503 5.5.1 Error: send EHLO first"); return; }
  if (tx.state != S_READY) { reply_error("503 5.5.1 Error: AUTH not allowed during a mail transaction"); return; }
  while (mechlen < cmd->arglen && mech[mechlen] != ' ') mechlen++;
  if (!mechlen) { reply_error("501 5.5.4 Syntax: AUTH mechanism [initial-response]"); return; }
  resp = mechlen < cmd->arglen ? mech + mechlen + 1 : 0;
  if (resp) resplen = cmd->arglen - mechlen - 1;
  if (mechlen == 5 && !strncasecmp(mech, "PLAIN", 5))
  {
    char const *user, *password;
    if (auth_response(resp, resplen, "334 ", &a))
    {
      if (!smtp_auth_plain(a.s, a.len, &plain, &user, &password))
        auth_failed("PLAIN", "", "535 5.7.8 Authentication credentials invalid", "fail");
      else auth_done("PLAIN", user, password);
    }
  }
  else if (mechlen == 5 && !strncasecmp(mech, "LOGIN", 5))
  {
    if (auth_response(resp, resplen, "334 VXNlcm5hbWU6", &a)
        && auth_response(0, 0, "334 UGFzc3dvcmQ6", &b)
        && stralloc_0(&a) && stralloc_0(&b))
    {
      if (strlen(a.s) + 1 != a.len || strlen(b.s) + 1 != b.len)
        auth_failed("LOGIN", a.s, "535 5.7.8 Authentication credentials invalid", "fail");
      else auth_done("LOGIN", a.s, b.s);
    }
  }
  else reply_error("504 5.5.4 Unrecognized authentication type");
  /* secrets do not outlive the exchange */
  if (a.s) explicit_bzero(a.s, a.a);
  if (b.s) explicit_bzero(b.s, b.a);
  if (plain.s) explicit_bzero(plain.s, plain.a);
  explicit_bzero(line, sizeof line);
}

/* ---- STARTTLS (RFC 3207) ---- */

/* AUTH needs TLS, unless VMAIL_AUTH_PLAINTEXT says otherwise; over TLS it
 * is offered on the submission ports. */
static int auth_allowed(void)
{
  return session.auth_plaintext || (session.tls && session.submission);
}

static void do_starttls(struct smtp_cmd const *cmd)
{
  if (session.tls) { reply_error("503 5.5.1 Error: TLS already active"); return; }
  if (!session.tls_offered) { reply_error("502 5.5.1 Error: STARTTLS not available"); return; }
  if (cmd->arglen) { reply_error("501 5.5.4 Syntax: STARTTLS"); return; }
  io_reply("220 2.0.0 Ready to start TLS");
  if (!io_starttls(&session.ucspi, session.timeout)) session_end("tlsfail");
  session.tls = 1;
  session.tls_offered = 0;
  session.auth_allowed = auth_allowed();
  /* RFC 3207 4.2: forget all the client said before; EHLO again */
  tx_reset();
  session.helo[0] = 0;
  session.esmtp = 0;
  session.authuser[0] = 0;
  tx.state = S_GREETED;
}

/* ---- the session ---- */

static void command(char *l, size_t len)
{
  struct smtp_cmd cmd;
  smtp_cmd_parse(l, len, &cmd);
  if (cmd.verb != SMTP_AUTH && len > SMTP_COMMAND_MAX)
  {
    reply_error("500 5.5.2 Error: line too long");
    return;
  }
  if (cmd.verb != SMTP_UNKNOWN) session.unknown = 0;
  switch (cmd.verb)
  {
    case SMTP_HELO: do_helo(&cmd, 0); break;
    case SMTP_EHLO: do_helo(&cmd, 1); break;
    case SMTP_MAIL: do_mail(&cmd); break;
    case SMTP_RCPT: do_rcpt(&cmd); break;
    case SMTP_DATA: do_data(&cmd); break;
    case SMTP_BDAT: do_bdat(&cmd); break;
    case SMTP_AUTH: do_auth(&cmd); break;
    case SMTP_RSET:   /* RSET and QUIT take no argument (RFC 5321 4.1.1.5, 4.1.1.10) */
      if (cmd.arglen) { reply_error("501 5.5.4 Syntax: RSET"); break; }
      tx_reset(); io_reply("250 2.0.0 Ok"); break;
    case SMTP_NOOP: io_reply("250 2.0.0 Ok"); break;
    case SMTP_VRFY:
      if (!cmd.arglen) { reply_error("501 5.5.4 Syntax: VRFY address"); break; }
      io_reply("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery"); break;
    case SMTP_EXPN: reply_error("502 5.5.1 Error: EXPN not implemented"); break;
    case SMTP_HELP: io_reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT AUTH STARTTLS"); break;
    case SMTP_STARTTLS: do_starttls(&cmd); break;
    case SMTP_QUIT:
      if (cmd.arglen) { reply_error("501 5.5.4 Syntax: QUIT"); break; }
      reply_host("221 2.0.0 ", " closing connection");
      session_end("quit");
    case SMTP_UNKNOWN:
      if (++session.unknown >= SMTP_UNKNOWN_MAX)
      {
        io_reply("421 4.7.0 Too many unrecognized commands, closing connection");
        session.errors++;
        session_end("unknown");
      }
      reply_error("500 5.5.2 Error: command not recognized");
      break;
  }
}

static uint64_t env_number(char const *name, uint64_t dflt)
{
  char const *s = getenv(name);
  uint64_t n;
  if (!s || !*s) return dflt;
  if (s[uint64_scan(s, &n)]) strerr_dief3x(100, "bad ", name, ": not a number");
  return n;
}

static void configure(void)
{
  static char host[256];
  char const *s = getenv("VMAIL_HOSTNAME");
  if (s && *s) session.hostname = s;
  else
  {
    if (gethostname(host, sizeof host - 1) < 0) strerr_diefu1sys(111, "get the host name");
    session.hostname = host;
  }
  s = getenv("VMAIL_POSTMASTER");
  if (s && *s) session.postmaster = s;
  else
  {
    static stralloc pm = STRALLOC_ZERO;
    if (!stralloc_copys(&pm, "postmaster@") || !stralloc_cats(&pm, session.hostname) || !stralloc_0(&pm))
      strerr_diefu1sys(111, "allocate");
    session.postmaster = pm.s;
  }
  session.ip = getenv("TCPREMOTEIP");
  if (!session.ip || !*session.ip) session.ip = "unknown";
  session.remotehost = getenv("TCPREMOTEHOST");
  if (session.remotehost && !*session.remotehost) session.remotehost = 0;
  session.relayclient = getenv("RELAYCLIENT") != 0;
  s = getenv("VMAIL_ANY_SENDER");
  session.any_sender = s && *s && strcmp(s, "0");
  s = getenv("VMAIL_SUBMISSION");
  session.submission = s && *s && strcmp(s, "0");
  s = getenv("VMAIL_AUTH_PLAINTEXT");
  session.auth_plaintext = s && *s && strcmp(s, "0");
  /* implicit TLS (vmail-tlsd -i, s6-tlsd) says so in the environment */
  s = getenv("SSL_PROTOCOL");
  session.tls = s && *s;
  session.tls_offered = !session.tls && ucspitls_offered(&session.ucspi);
  session.auth_allowed = auth_allowed();
  session.databytes = env_number("VMAIL_DATABYTES", SMTP_DATABYTES_DEFAULT);
  if (!session.databytes) session.databytes = SMTP_DATABYTES_DEFAULT;
  session.maxrcpt = (unsigned)env_number("VMAIL_MAXRCPT", SMTP_RCPT_DEFAULT);
  session.timeout = (unsigned)env_number("VMAIL_TIMEOUT", SMTP_TIMEOUT_DEFAULT);
  if (!session.timeout || session.timeout > 86400) strerr_dief1x(100, "bad VMAIL_TIMEOUT: 1 to 86400 seconds");
  session.idle_timeout = (unsigned)env_number("VMAIL_IDLE_TIMEOUT", SMTP_IDLE_TIMEOUT_DEFAULT);
  if (!session.idle_timeout || session.idle_timeout > 86400) strerr_dief1x(100, "bad VMAIL_IDLE_TIMEOUT: 1 to 86400 seconds");
  /* never longer than inside a transaction */
  if (session.idle_timeout > session.timeout) session.idle_timeout = session.timeout;
}

/* Someone who talks before the greeting is not speaking SMTP (RFC 5321 4.3.1
 * gives the server the first word). We look for that input when the greeting
 * is due, after VMAIL_GREETDELAY milliseconds if set; without it, only on a
 * socket, so a conversation piped in whole still works. */
static int early_talker(void)
{
  char const *s = getenv("VMAIL_GREETDELAY");
  struct stat st;
  if (!s || !*s)
  {
    if (fstat(0, &st) < 0 || !S_ISSOCK(st.st_mode)) return 0;
    return io_talked_first(0);
  }
  return io_talked_first((unsigned)env_number("VMAIL_GREETDELAY", 0));
}

int main(int argc, char const *const *argv)
{
  PROG = "vmail-smtpd";
  (void)argv;
  if (argc > 1) strerr_dieusage(100, USAGE);
  configure();
  /* AUTH that TLS may allow later needs the checker's partner too */
  auth_init(session.auth_allowed || (session.tls_offered && session.submission));
  sig_ignore(SIGPIPE);
  io_init(session.idle_timeout);
  if (early_talker())
  {
    reply_host("554 5.5.0 ", " protocol error: talked before the greeting");
    session_end("earlytalker");
  }
  reply_host("220 ", " ESMTP vmail");
  for (;;)
  {
    ssize_t n;
    /* a client with a transaction open waits VMAIL_TIMEOUT, others less */
    io_timeout(tx.state == S_MAIL ? session.timeout : session.idle_timeout);
    n = io_line(line, SMTP_LINE_MAX);
    if (n < 0) { reply_error("500 5.5.2 Error: line too long"); continue; }
    command(line, (size_t)n);
  }
}
