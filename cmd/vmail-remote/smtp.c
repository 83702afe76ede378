/* smtp.c: one SMTP session to one address: EHLO (HELO), STARTTLS, AUTH,
 * then one transaction for the recipients without a result yet
 * (RFC 5321, with RFC 2920 PIPELINING, RFC 1870 SIZE, RFC 6152 8BITMIME,
 * RFC 6531 SMTPUTF8, RFC 3207 STARTTLS, RFC 4954 / 4616 AUTH PLAIN). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <skalibs/stralloc.h>

#include "logline.h"
#include "remote.h"
#include "tls_client.h"

#define SESSION_NEXT 0
#define SESSION_DONE 1
#define SESSION_PLAIN 2
#define PENDING 'p'         /* a recipient this transaction is for */
#define ACCEPTED 'a'        /* a recipient the server took, until DATA's end */

struct session
{
  struct conn c;
  struct smtp_reply rep;
  struct smtp_ext ext;
  struct job *job;
  char *why;
  size_t whylen;
};

static void log_session(struct session *s, char const *result)
{
  log_line("connection qid=", s->job->qid, " domain=", s->job->domain, " relay=", s->c.mta,
           " tls=", s->c.tlsinfo, " result=", result, (char *)0);
}

/* The connection failed (errno) while waiting for what: next address. */
static int broke(struct session *s, char const *what)
{
  snprintf(s->why, s->whylen, "4.4.2 %s: %s %s", s->c.mta,
           errno == ETIMEDOUT ? "timed out waiting for" : errno == EPROTO ? "malformed reply to" : errno == EPIPE ? "connection closed at" : strerror(errno),
           what);
  log_session(s, "lost");
  conn_close(&s->c);
  return SESSION_NEXT;
}

static void quit(struct session *s, char const *result)
{
  struct smtp_reply r;
  if (conn_puts(&s->c, "QUIT\r\n") == 0) conn_reply(&s->c, &r, timeout(TIMEOUT_QUIT));
  log_session(s, result);
  conn_close(&s->c);
}

/* The server refused at stage what: next address, the reply in why. */
static int refused(struct session *s, char const *what)
{
  char one[REMOTE_TEXT_MAX];
  smtp_reply_oneline(&s->rep, one, sizeof one);
  snprintf(s->why, s->whylen, "%s (%s)", one, what);
  quit(s, "refused");
  return SESSION_NEXT;
}

/* Sends line (CRLF added) and reads the reply; 0, or -1 broke. */
static int command(struct session *s, char const *line, unsigned int secs)
{
  if (conn_puts(&s->c, line) < 0 || conn_puts(&s->c, "\r\n") < 0) return -1;
  return conn_reply(&s->c, &s->rep, secs);
}

static int ok(struct session *s)
{
  return s->rep.code >= 200 && s->rep.code < 300;
}

/* EHLO, else HELO: 0 greeted, -1 broke, -2 refused. */
static int hello(struct session *s)
{
  char line[DNS_NAME_MAX + 8];
  snprintf(line, sizeof line, "EHLO %s", s->job->helo);
  if (command(s, line, timeout(TIMEOUT_MAIL)) < 0) return -1;
  if (ok(s)) { smtp_reply_ehlo(&s->rep, &s->ext); return 0; }
  s->ext.flags = 0;
  s->ext.size = 0;
  if (s->rep.code < 500) return -2;   /* RFC 5321 4.1.4: HELO only when EHLO is not known */
  snprintf(line, sizeof line, "HELO %s", s->job->helo);
  if (command(s, line, timeout(TIMEOUT_MAIL)) < 0) return -1;
  return ok(s) ? 0 : -2;
}

static void base64(unsigned char const *in, size_t len, stralloc *out)
{
  static char const b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < len; i += 3)
  {
    unsigned long v = (unsigned long)in[i] << 16 | (i + 1 < len ? (unsigned long)in[i+1] << 8 : 0) | (i + 2 < len ? in[i+2] : 0);
    char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63], i + 1 < len ? b64[v >> 6 & 63] : '=', i + 2 < len ? b64[v & 63] : '=' };
    stralloc_catb(out, q, 4);
  }
}

/* AUTH PLAIN (RFC 4616) with the route's credentials: 0 ok, -1 broke, -2 refused. */
static int auth(struct session *s, struct route const *r)
{
  unsigned char raw[2 * REMOTE_CRED_MAX + 2];
  size_t ul = strlen(r->user), pl = strlen(r->pass);
  stralloc line = STRALLOC_ZERO;
  int rc;
  raw[0] = 0;
  memcpy(raw + 1, r->user, ul);
  raw[1 + ul] = 0;
  memcpy(raw + 2 + ul, r->pass, pl);
  stralloc_cats(&line, "AUTH PLAIN ");
  base64(raw, 2 + ul + pl, &line);
  explicit_bzero(raw, sizeof raw);
  rc = stralloc_0(&line) ? command(s, line.s, timeout(TIMEOUT_MAIL)) : -1;
  explicit_bzero(line.s, line.a);
  stralloc_free(&line);
  explicit_bzero(s->c.out.s, s->c.out.a);
  if (rc < 0) return -1;
  return s->rep.code == 235 ? 0 : -2;
}

static int nonascii(char const *a)
{
  for (; *a; a++) if ((unsigned char)*a >= 128) return 1;
  return 0;
}

static void give(struct session *s, struct rcpt *r, char kind, char const *text)
{
  r->kind = kind;
  snprintf(r->mta, sizeof r->mta, "%s", s->c.mta);
  snprintf(r->text, sizeof r->text, "%s", text);
}

/* Every recipient in state from gets the current reply as its result. */
static void give_reply(struct session *s, char from)
{
  char one[REMOTE_TEXT_MAX];
  char kind = s->rep.code < 300 ? 'r' : s->rep.code < 500 ? 's' : 'h';
  smtp_reply_oneline(&s->rep, one, sizeof one);
  for (unsigned int i = 0; i < s->job->nrcpt; i++)
    if (s->job->rcpt[i].kind == from) give(s, s->job->rcpt + i, kind, one);
}

/* TLS as the route wants it: 0 go on, else the session's result. */
static int starttls(struct session *s, struct route const *r, struct dns_hop const *hop, int notls)
{
  char err[256];
  int h;
  if (notls || !(s->ext.flags & SMTP_EXT_STARTTLS))
  {
    if (!r->verify) return -1;
    snprintf(s->why, s->whylen, "4.7.4 %s: the route requires TLS but %s", s->c.mta,
             notls ? "it failed" : "the server does not offer STARTTLS");
    quit(s, "no-tls");
    return SESSION_NEXT;
  }
  if (command(s, "STARTTLS", timeout(TIMEOUT_MAIL)) < 0) return broke(s, "the reply to STARTTLS");
  if (s->rep.code != 220)
  {
    if (!r->verify) return -1;   /* opportunistic: go on in the clear */
    return refused(s, "STARTTLS");
  }
  if (conn_starttls(&s->c, hop->host, r->verify, err, sizeof err) < 0)
  {
    snprintf(s->why, s->whylen, "4.7.5 %s: %s", s->c.mta, err);
    log_session(s, "tls-failed");
    conn_close(&s->c);
    /* opportunistic TLS that fails is retried in the clear (RFC 7435 5) */
    return r->verify ? SESSION_NEXT : SESSION_PLAIN;
  }
  h = hello(s);
  if (h == -1) return broke(s, "the reply to EHLO after STARTTLS");
  if (h == -2) return refused(s, "EHLO after STARTTLS");
  return -1;
}

/* After MAIL, RCPT and DATA: the message and its final reply. */
static int body(struct session *s)
{
  if (conn_put(&s->c, s->job->wire.s, s->job->wire.len) < 0 || conn_flush(&s->c, timeout(TIMEOUT_BLOCK)) < 0
      || conn_reply(&s->c, &s->rep, timeout(TIMEOUT_DOT)) < 0)
  {
    char text[REMOTE_TEXT_MAX];
    snprintf(text, sizeof text, "4.4.2 connection lost while sending the message (%s): it may arrive twice",
             errno == ETIMEDOUT ? "timed out" : strerror(errno));
    for (unsigned int i = 0; i < s->job->nrcpt; i++)
      if (s->job->rcpt[i].kind == ACCEPTED) give(s, s->job->rcpt + i, 's', text);
    log_session(s, "lost-in-data");
    conn_close(&s->c);
    return SESSION_DONE;
  }
  give_reply(s, ACCEPTED);
  quit(s, s->rep.code < 300 ? "sent" : "refused-message");
  return SESSION_DONE;
}

/* Puts "CMD<addr>", with the job's MAIL parameters when mail is set. */
static int envelope_line(struct session *s, char const *cmd, char const *addr, int mail, int utf8)
{
  char num[64];
  if (conn_puts(&s->c, cmd) < 0 || conn_puts(&s->c, addr) < 0 || conn_puts(&s->c, ">") < 0) return -1;
  if (mail)
  {
    if (s->ext.flags & SMTP_EXT_SIZE)
    {
      snprintf(num, sizeof num, " SIZE=%zu", s->job->wire.len);
      if (conn_puts(&s->c, num) < 0) return -1;
    }
    if (s->job->eightbit && (s->ext.flags & SMTP_EXT_8BITMIME) && conn_puts(&s->c, " BODY=8BITMIME") < 0) return -1;
    if (utf8 && conn_puts(&s->c, " SMTPUTF8") < 0) return -1;
  }
  return conn_puts(&s->c, "\r\n");
}

/* An RCPT reply for recipient i: accepted, or its result. */
static int rcpt_reply(struct session *s, unsigned int i)
{
  char one[REMOTE_TEXT_MAX];
  struct rcpt *r = s->job->rcpt + i;
  smtp_reply_oneline(&s->rep, one, sizeof one);
  if (ok(s)) { give(s, r, ACCEPTED, one); return 1; }
  /* RFC 1870 6.1: 552 to RCPT means too many recipients, try later */
  give(s, r, s->rep.code < 500 || s->rep.code == 552 ? 's' : 'h', one);
  return 0;
}

/* MAIL, RCPT for each recipient without a result, DATA: pipelined when the
 * server allows it (RFC 2920 3.1: DATA ends the group). */
static int transaction(struct session *s, int utf8)
{
  int pipelined = (s->ext.flags & SMTP_EXT_PIPELINING) != 0;
  unsigned int accepted = 0;
  unsigned int n = 0;
  for (unsigned int i = 0; i < s->job->nrcpt; i++) if (!s->job->rcpt[i].kind) { s->job->rcpt[i].kind = PENDING; n++; }
  if (!n) { quit(s, "nothing-to-send"); return SESSION_DONE; }
  if (envelope_line(s, "MAIL FROM:<", s->job->sender, 1, utf8) < 0) return broke(s, "MAIL");
  if (!pipelined)
  {
    if (conn_reply(&s->c, &s->rep, timeout(TIMEOUT_MAIL)) < 0) return broke(s, "the reply to MAIL");
    if (!ok(s)) { give_reply(s, PENDING); quit(s, "refused-sender"); return SESSION_DONE; }
  }
  for (unsigned int i = 0; i < s->job->nrcpt; i++)
  {
    if (s->job->rcpt[i].kind != PENDING) continue;
    if (envelope_line(s, "RCPT TO:<", s->job->rcpt[i].addr, 0, 0) < 0) return broke(s, "RCPT");
    if (pipelined) continue;
    if (conn_reply(&s->c, &s->rep, timeout(TIMEOUT_RCPT)) < 0) return broke(s, "the reply to RCPT");
    accepted += (unsigned int)rcpt_reply(s, i);
  }
  if (!pipelined && !accepted) { quit(s, "no-recipient"); return SESSION_DONE; }
  if (conn_puts(&s->c, "DATA\r\n") < 0) return broke(s, "DATA");
  if (pipelined)
  {
    if (conn_reply(&s->c, &s->rep, timeout(TIMEOUT_MAIL)) < 0) return broke(s, "the reply to MAIL");
    if (!ok(s)) { give_reply(s, PENDING); log_session(s, "refused-sender"); conn_close(&s->c); return SESSION_DONE; }
    for (unsigned int i = 0; i < s->job->nrcpt; i++)
    {
      if (s->job->rcpt[i].kind != PENDING) continue;
      if (conn_reply(&s->c, &s->rep, timeout(TIMEOUT_RCPT)) < 0) return broke(s, "the reply to RCPT");
      accepted += (unsigned int)rcpt_reply(s, i);
    }
  }
  if (conn_reply(&s->c, &s->rep, timeout(TIMEOUT_DATA)) < 0) return broke(s, "the reply to DATA");
  if (s->rep.code != 354)
  {
    give_reply(s, ACCEPTED);
    quit(s, accepted ? "refused-data" : "no-recipient");
    return SESSION_DONE;
  }
  if (!accepted)
  {
    /* a 354 with no recipient (RFC 2920 3.1 forbids it): hang up, send nothing */
    log_session(s, "no-recipient");
    conn_close(&s->c);
    return SESSION_DONE;
  }
  return body(s);
}

/* SIZE and SMTPUTF8 before anything is sent: 0 go on, else the result. */
static int fits(struct session *s, int *utf8)
{
  char text[REMOTE_TEXT_MAX];
  int need = 0;
  if ((s->ext.flags & SMTP_EXT_SIZE) && s->ext.size && s->job->wire.len > s->ext.size)
  {
    snprintf(text, sizeof text, "5.3.4 the message (%zu bytes) is larger than %s accepts (%llu bytes)",
             s->job->wire.len, s->c.mta, (unsigned long long)s->ext.size);
    for (unsigned int i = 0; i < s->job->nrcpt; i++) if (!s->job->rcpt[i].kind) give(s, s->job->rcpt + i, 'h', text);
    quit(s, "too-big");
    return SESSION_DONE;
  }
  for (unsigned int i = 0; i < s->job->nrcpt; i++) need |= nonascii(s->job->rcpt[i].addr);
  *utf8 = need || nonascii(s->job->sender);
  if (!*utf8 || (s->ext.flags & SMTP_EXT_SMTPUTF8)) return -1;
  /* RFC 6531 3.2: never downgraded, never mangled */
  *utf8 = 0;
  snprintf(text, sizeof text, "5.6.7 %s does not support SMTPUTF8, which this %s address needs",
           s->c.mta, nonascii(s->job->sender) ? "sender" : "recipient");
  for (unsigned int i = 0; i < s->job->nrcpt; i++)
    if (!s->job->rcpt[i].kind && (nonascii(s->job->sender) || nonascii(s->job->rcpt[i].addr)))
      give(s, s->job->rcpt + i, 'h', text);
  return -1;
}

int smtp_session(struct job *job, struct route const *r, struct dns_hop const *hop,
                 struct dns_addr const *a, int notls, char *why, size_t whylen)
{
  struct session s = { .job = job, .why = why, .whylen = whylen };
  int h, utf8, res;
  if (conn_open(&s.c, hop->host, a, r->port) < 0)
  {
    snprintf(why, whylen, "4.4.1 %s: connect: %s", s.c.mta, strerror(errno));
    log_session(&s, "no-connection");
    stralloc_free(&s.c.out);
    return SESSION_NEXT;
  }
  snprintf(job->lastmta, sizeof job->lastmta, "%s", s.c.mta);
  if (conn_reply(&s.c, &s.rep, timeout(TIMEOUT_GREETING)) < 0) res = broke(&s, "the greeting");
  else if (!ok(&s)) res = refused(&s, "greeting");
  else if ((h = hello(&s)) < 0) res = h == -1 ? broke(&s, "the reply to EHLO") : refused(&s, "EHLO");
  else if ((res = starttls(&s, r, hop, notls)) >= 0) {}
  else if (r->user[0] && !s.c.tls)
  {
    snprintf(why, whylen, "4.7.0 %s: credentials are never sent without TLS, and TLS is not on", s.c.mta);
    quit(&s, "no-tls-for-auth");
    res = SESSION_NEXT;
  }
  else if (r->user[0] && !(s.ext.flags & SMTP_EXT_AUTH_PLAIN))
  {
    snprintf(why, whylen, "4.7.0 %s: the relay does not offer AUTH PLAIN", s.c.mta);
    quit(&s, "no-auth");
    res = SESSION_NEXT;
  }
  else if (r->user[0] && (h = auth(&s, r)) < 0) res = h == -1 ? broke(&s, "the reply to AUTH") : refused(&s, "AUTH");
  else if ((res = fits(&s, &utf8)) >= 0) {}
  else res = transaction(&s, utf8);
  if (res == SESSION_NEXT)
    for (unsigned int i = 0; i < job->nrcpt; i++)
      if (job->rcpt[i].kind == ACCEPTED || job->rcpt[i].kind == PENDING) job->rcpt[i].kind = 0;   /* nothing was sent: next address */
  stralloc_free(&s.c.out);
  return res;
}
