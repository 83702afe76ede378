/* vmail-imap-login: the not-authenticated state of IMAP (RFC 3501 6.1, 6.2):
 * CAPABILITY, NOOP, LOGOUT, ID, LOGIN and AUTHENTICATE PLAIN (with SASL-IR,
 * RFC 4959). Credentials go to the checkpassword program, which on success
 * execs prog (vmail-imapd) in the user's Maildir; the LOGIN's tag travels in
 * VMAIL_IMAP_TAG so the server answers it. Never sees a password hash. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "checkpw.h"
#include "imap_io.h"
#include "imap_parse.h"
#include "privilege.h"
#include "privsep.h"
#include "smtp_auth.h"
#include "ucspitls.h"

#define USAGE "vmail-imap-login [prog...]"

#define LOGIN_TIMEOUT_SECS 60         /* RFC 9051 5.4 allows less before login */
#define LOGIN_FAILURES_MAX 3          /* failed logins before BYE */
#define LOGIN_BAD_COMMANDS_MAX 10     /* syntax errors before BYE */
#define LOGIN_COMMAND_MAX 4096        /* each line or literal: a user name and password fit */
#define LOGIN_CREDENTIAL_MAX 255      /* RFC 4616 2 */
#define SERVER_ARGS_MAX 16

#define CAPS_COMMON "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE"

static char const *const default_server[] = { "vmail-imapd", 0 };
static char const *const *server_argv;
static char const *checkpw_prog;
static int plaintext_ok;
static int tls_offered;           /* STARTTLS possible (UCSPI-TLS descriptors) */
static ucspitls ucspi;
static unsigned failures, bad_commands;

static void log_end(char const *);
static void write_failed(void) { log_end("writeerror"); _exit(111); }
static void out(char const *s) { if (buffer_puts(buffer_1, s) < 0) write_failed(); }
static void flush(void) { if (!buffer_flush(buffer_1)) write_failed(); }

static void reply(char const *tag, char const *rest)
{
  out(tag); out(" "); out(rest); out("\r\n"); flush();
}

static void log_end(char const *reason)
{
  char const *ip = getenv("TCPREMOTEIP");
  strerr_warni("login end=", reason, " ip=", ip ? ip : "-");
}

static void bye(char const *text, char const *reason)
{
  out("* BYE "); out(text); out("\r\n");
  buffer_flush(buffer_1);
  log_end(reason);
  _exit(0);
}

static void bad(char const *tag, char const *text)
{
  reply(tag, text);
  if (++bad_commands >= LOGIN_BAD_COMMANDS_MAX) bye("Too many bad commands", "bad");
}

static void capabilities(void)
{
  out(CAPS_COMMON);
  if (tls_offered) out(" STARTTLS");
  out(plaintext_ok ? " AUTH=PLAIN" : " LOGINDISABLED");
}

/* Runs the checkpassword chain, which execs the server for a good login;
 * with privilege separation this runs in the root partner (privsep.h).
 * 0: the session took place, whatever the server's exit code. */
static int run_checkpw(char const *user, char const *password, char const *tag)
{
  char const *argv[2 + SERVER_ARGS_MAX + 1];
  char fdnum[UINT_FMT], started;
  unsigned n = 0;
  int r, p[2];
  /* "+tag": the child has started TLS (an IMAP tag never begins with +,
     RFC 9051 9): the server to run talks through the TLS pipes */
  if (tag[0] == '+')
  {
    tag++;
    if (ucspitls_offered(&ucspi) && !ucspitls_use(&ucspi)) { strerr_warnwu1sys("switch to TLS"); return 111; }
  }
  argv[n++] = checkpw_prog;
  for (unsigned i = 0; server_argv[i] && i < SERVER_ARGS_MAX; i++) argv[n++] = server_argv[i];
  argv[n] = 0;
  /* The server writes a byte on this pipe when it starts: then it has
     answered the tag and served the session, whatever its exit code, and
     nothing more may be said to the client here. */
  if (pipe(p) < 0 || coe(p[0]) < 0) { strerr_warnwu1sys("create pipe"); return 111; }
  fdnum[uint_fmt(fdnum, (unsigned)p[1])] = 0;
  if (setenv("VMAIL_IMAP_TAG", tag, 1) < 0 || setenv("VMAIL_IMAP_STARTED_FD", fdnum, 1) < 0)
  { strerr_warnwu1sys("set environment"); close(p[0]); close(p[1]); return 111; }
  r = checkpw_run(argv, user, password);
  close(p[1]);
  if (r != 0 && read(p[0], &started, 1) == 1) r = 0;
  close(p[0]);
  unsetenv("VMAIL_IMAP_TAG");
  unsetenv("VMAIL_IMAP_STARTED_FD");
  return r;
}

/* Returns only if the login failed. */
static void login(char const *tag, char const *user, char const *password)
{
  char tagged[PRIVSEP_TAG_MAX + 1];
  int r;
  flush();
  /* "+tag" tells run_checkpw that TLS is on (the tag is shorter than
     PRIVSEP_TAG_MAX, see main) */
  tagged[0] = '+';
  memcpy(tagged + 1, tag, strlen(tag) + 1);
  r = privsep_check(user, password, getenv("SSL_PROTOCOL") ? tagged : tag);
  if (r == 0) _exit(0);
  /* a refusal has already waited VMAIL_AUTH_FAIL_DELAY (vmail-checkpw(8)) */
  if (r == 1) reply(tag, "NO [AUTHENTICATIONFAILED] Authentication failed");
  else if (r == CHECKPW_BLOCKED) reply(tag, "NO [UNAVAILABLE] Too many failed logins from your address, try again later");
  else { reply(tag, "NO [UNAVAILABLE] Temporary failure, try again later"); return; }
  if (++failures >= LOGIN_FAILURES_MAX) bye("Too many failed logins", "authfail");
}

static void cmd_login(imap_cursor *c, char const *tag)
{
  stralloc user = STRALLOC_ZERO, password = STRALLOC_ZERO;
  if (!imap_sp(c) || !imap_astring(c, &user) || !imap_sp(c) || !imap_astring(c, &password) || !imap_at_end(c))
    bad(tag, "BAD Syntax: LOGIN user password");
  else if (!plaintext_ok) reply(tag, "NO [PRIVACYREQUIRED] Plaintext login disabled");
  else if (user.len > LOGIN_CREDENTIAL_MAX || password.len > LOGIN_CREDENTIAL_MAX
           || memchr(user.s, 0, user.len) || memchr(password.s, 0, password.len))
    reply(tag, "NO [AUTHENTICATIONFAILED] Authentication failed");
  else
  {
    if (!stralloc_0(&user) || !stralloc_0(&password)) strerr_diefu1sys(111, "allocate");
    login(tag, user.s, password.s);
  }
  if (password.s) explicit_bzero(password.s, password.a);
  stralloc_free(&user); stralloc_free(&password);
}

static void cmd_authenticate(imap_cursor *c, char const *tag)
{
  stralloc mech = STRALLOC_ZERO, resp = STRALLOC_ZERO, decoded = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  char const *user, *password;
  if (!imap_sp(c) || !imap_atom(c, &mech) || !stralloc_0(&mech)) { bad(tag, "BAD Syntax: AUTHENTICATE mechanism"); goto end; }
  if (strcasecmp(mech.s, "PLAIN")) { reply(tag, "NO Unsupported mechanism"); goto end; }
  if (!plaintext_ok) { reply(tag, "NO [PRIVACYREQUIRED] Plaintext authentication disabled"); goto end; }
  if (imap_sp(c))
  {
    /* SASL-IR: the initial response on the command line; "=" is empty */
    if (!imap_atom(c, &resp) || !imap_at_end(c)) { bad(tag, "BAD Syntax: AUTHENTICATE PLAIN [response]"); goto end; }
    if (resp.len == 1 && resp.s[0] == '=') resp.len = 0;
  }
  else
  {
    int r;
    out("+ \r\n"); flush();
    r = imap_read_line(&resp, LOGIN_TIMEOUT_SECS);
    if (r <= 0) bye("Connection lost", "disconnect");
    if (smtp_auth_cancelled(resp.s, resp.len)) { reply(tag, "BAD Authentication cancelled"); goto end; }
  }
  if (resp.len > SMTP_AUTH_LINE_MAX || !smtp_base64_decode(resp.s, resp.len, &decoded))
  { bad(tag, "BAD Invalid base64"); goto end; }
  if (!decoded.len || !smtp_auth_plain(decoded.s, decoded.len, &buf, &user, &password))
  { reply(tag, "NO [AUTHENTICATIONFAILED] Authentication failed"); goto end; }
  login(tag, user, password);
 end:
  if (decoded.s) explicit_bzero(decoded.s, decoded.a);
  if (buf.s) explicit_bzero(buf.s, buf.a);
  if (resp.s) explicit_bzero(resp.s, resp.a);
  stralloc_free(&mech); stralloc_free(&resp); stralloc_free(&decoded); stralloc_free(&buf);
}

/* RFC 9051 6.2.1: in the clear, nothing pipelined after it is read (the
 * input is read a byte at a time), so none of it counts as said under TLS. */
static void cmd_starttls(imap_cursor *c, char const *tag)
{
  if (!imap_at_end(c)) { bad(tag, "BAD Syntax: STARTTLS"); return; }
  if (getenv("SSL_PROTOCOL")) { bad(tag, "BAD TLS already active"); return; }
  if (!tls_offered) { reply(tag, "NO STARTTLS not available"); return; }
  reply(tag, "OK Begin TLS negotiation now");
  if (!ucspitls_start(&ucspi, LOGIN_TIMEOUT_SECS) || !ucspitls_use(&ucspi))
  {
    log_end("tlsfail");
    _exit(0);
  }
  tls_offered = 0;
  plaintext_ok = 1;
}

int main(int argc, char const *const *argv)
{
  stralloc cmd = STRALLOC_ZERO, tag = STRALLOC_ZERO, word = STRALLOC_ZERO;
  char const *x;
  PROG = "vmail-imap-login";
  if (argc > 1 && argv[1][0] == '-') strerr_dieusage(100, USAGE);
  server_argv = argc > 1 ? argv + 1 : default_server;
  checkpw_prog = getenv("VMAIL_CHECKPW");
  if (!checkpw_prog || !*checkpw_prog) checkpw_prog = "vmail-checkpw";
  x = getenv("VMAIL_AUTH_PLAINTEXT");
  /* passwords in the clear only when the site says so, or over TLS
     (s6-tlsserver / sslserver set SSL_PROTOCOL) */
  plaintext_ok = (x && !strcmp(x, "1")) || getenv("SSL_PROTOCOL");
  tls_offered = !getenv("SSL_PROTOCOL") && ucspitls_offered(&ucspi);

  /* from here on, as root, the network is read by an unprivileged child */
  /* from here on, as root, the network is read by an unprivileged child */
  if (privsep_login(&run_checkpw) < 0) strerr_dief1x(privilege_exitcode(), privilege_error());
  signal(SIGPIPE, SIG_IGN);   /* a vanished client is a write error, logged */
  imap_io_exact();
  out("* OK [CAPABILITY "); capabilities(); out("] vmail IMAP ready\r\n"); flush();
  for (;;)
  {
    imap_cursor c;
    int r = imap_read_command(&cmd, LOGIN_COMMAND_MAX, LOGIN_COMMAND_MAX, LOGIN_TIMEOUT_SECS), toolong = 0;
    if (r == 0) bye("Connection closed", "disconnect");
    if (r < 0 && errno == E2BIG) { toolong = 1; r = 1; }   /* read and dropped past the limit: BAD, or ID */
    if (r < 0)
    {
      if (errno == ETIMEDOUT) bye("Autologout: no login in time", "timeout");
      if (errno == EMSGSIZE || errno == EFBIG) bye("Command too long", "toolong");
      strerr_diefu1sys(111, "read from client");
    }
    imap_cursor_init(&c, cmd.s, cmd.len);
    tag.len = word.len = 0;
    /* a tag the server answers after login travels to the root partner: bounded */
    if (!imap_tag(&c, &tag) || tag.len >= PRIVSEP_TAG_MAX || !stralloc_0(&tag) || !imap_sp(&c)
        || !imap_atom(&c, &word) || !stralloc_0(&word))
    {
      out("* BAD Syntax error\r\n"); flush();
      if (++bad_commands >= LOGIN_BAD_COMMANDS_MAX) bye("Too many bad commands", "bad");
      continue;
    }
    if (toolong && strcasecmp(word.s, "ID")) bad(tag.s, "BAD Command line too long");
    else if (!strcasecmp(word.s, "CAPABILITY"))
    {
      out("* CAPABILITY "); capabilities(); out("\r\n");
      reply(tag.s, "OK Capability completed");
    }
    else if (!strcasecmp(word.s, "NOOP")) reply(tag.s, "OK NOOP completed");
    else if (!strcasecmp(word.s, "LOGOUT"))
    {
      out("* BYE Logging out\r\n");
      reply(tag.s, "OK Logout completed");
      log_end("logout");
      stralloc_free(&cmd); stralloc_free(&tag); stralloc_free(&word);
      return 0;
    }
    else if (!strcasecmp(word.s, "ID"))
    {
      out("* ID (\"name\" \"vmail\" \"vendor\" \"vmail\")\r\n");
      reply(tag.s, "OK ID completed");
    }
    else if (!strcasecmp(word.s, "LOGIN")) cmd_login(&c, tag.s);
    else if (!strcasecmp(word.s, "AUTHENTICATE")) cmd_authenticate(&c, tag.s);
    else if (!strcasecmp(word.s, "STARTTLS")) cmd_starttls(&c, tag.s);
    else bad(tag.s, "BAD Command not valid before login");
  }
}
