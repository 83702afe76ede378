/* vmail-pop3-login: the AUTHORIZATION state of POP3 (RFC 1939 4, RFC 2449
 * CAPA, RFC 5034 AUTH PLAIN), as qmail-popup does it: greets, takes the
 * credentials and hands them on fd 3 to the checkpassword program, which
 * execs the mail server (vmail-pop3d) inside the user's Maildir. That server
 * sends the +OK for the login; this program answers only failures. Nothing
 * here touches a mailbox. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "addr.h"
#include "checkpw.h"
#include "pop3_command.h"
#include "pop3_input.h"
#include "pop3_output.h"
#include "privilege.h"
#include "privsep.h"
#include "smtp_auth.h"
#include "ucspitls.h"

#define USAGE "vmail-pop3-login [prog...]"
#define POP3_LOGIN_TIMEOUT_DEFAULT 60   /* seconds to log in: a client that can, does at once */
#define POP3_LOGIN_ERRORS_MAX 10        /* bad commands before the connection is closed */
#define POP3_LOGIN_FAILURES_MAX 3       /* failed logins per connection */

static char outbuf[BUFFER_OUTSIZE_SMALL * 4];
static buffer out = BUFFER_INIT(&pop3_output_writev, 1, outbuf, sizeof outbuf);
static char const *const *server_argv;   /* prog... for the checkpassword program */
static char const *checkpw_prog;
static unsigned int failures, errors;
static int plaintext_ok;
static int tls_offered;           /* STLS possible (UCSPI-TLS descriptors) */
static ucspitls ucspi;
static int output_dead;   /* a write failed: never try to write again */

/* A connection that ends before a login: its one log line (vmail-pop3d logs
 * the sessions that got in). */
_Noreturn static void end_nologin(char const *end)
{
  char const *ip = getenv("TCPREMOTEIP");
  char n[UINT_FMT];
  if (!output_dead) buffer_flush(&out);
  n[uint_fmt(n, failures)] = 0;
  strerr_warni("nologin ip=", ip ? ip : "-", " failures=", n, " end=", end);
  _exit(0);
}

/* The client is gone, or does not read. */
_Noreturn static void write_failed(void)
{
  output_dead = 1;   /* nothing more to say to it */
  end_nologin(errno == ETIMEDOUT ? "write-timeout" : "write-error");
}

static void put(char const *s)
{
  size_t w = 0;
  if (!buffer_putall(&out, s, strlen(s), &w)) write_failed();
}

static void flush(void) { if (!buffer_flush(&out)) write_failed(); }

static void error_counted(char const *reply)
{
  put(reply);
  if (++errors >= POP3_LOGIN_ERRORS_MAX) { put("-ERR too many errors\r\n"); end_nologin("errors"); }
}

/* A line could not be read: the session ends (RFC 2449 4 bounds lines; the
 * rest of an overlong one is never read). */
_Noreturn static void read_failed(pop3_input const *in)
{
  if (in->output_failed) write_failed();
  if (errno == ETIMEDOUT) { put("-ERR autologout: idle too long\r\n"); end_nologin("timeout"); }
  if (errno == E2BIG) { put("-ERR line too long\r\n"); end_nologin("line-too-long"); }
  end_nologin("read-error");
}

static void capa(void)
{
  put("+OK capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
  if (tls_offered) put("STLS\r\n");
  if (plaintext_ok) put("USER\r\nSASL PLAIN\r\n");
  put("EXPIRE NEVER\r\nIMPLEMENTATION vmail\r\n.\r\n");
}

/* Runs the checkpassword program, which execs the server for a good login.
 * With privilege separation this runs in the root partner (privsep.h);
 * only the code travels back. */
static int run_checkpw(char const *user, char const *password, char const *tag)
{
  char const *argv[2 + 16];
  size_t i, n = 0;
  int r;
  /* "+": the child has started TLS; the server to run talks through the
     TLS pipes */
  if (tag[0] == '+' && ucspitls_offered(&ucspi) && !ucspitls_use(&ucspi))
  {
    strerr_warnwu1sys("switch to TLS");
    return 111;
  }
  argv[n++] = checkpw_prog;
  for (i = 0; server_argv[i] && n < sizeof argv / sizeof *argv - 1; i++) argv[n++] = server_argv[i];
  argv[n] = 0;
  r = checkpw_run(argv, user, password);
  if (r < 0) strerr_warnw3x("login not completed: ", checkpw_prog, " could not be started");
  else if (r > 1 && r != CHECKPW_BLOCKED)
  {
    char code[INT_FMT];
    code[int_fmt(code, r)] = 0;
    strerr_warnw4x("login not completed: ", checkpw_prog, " exited ", code);
  }
  return r;
}

/* Returns only if the login did not happen. */
static void login(char const *user, char const *password)
{
  int r;
  flush();   /* whatever we said comes before the server's +OK */
  r = privsep_check(user, password, getenv("SSL_PROTOCOL") ? "+" : 0);
  if (!r) _exit(0);   /* the session took place; the server logged it */
  /* the checkpassword program has already made a refusal wait
     (VMAIL_AUTH_FAIL_DELAY, vmail-checkpw(8)) */
  if (r == 1) put("-ERR [AUTH] authentication failed\r\n");
  else if (r == CHECKPW_BLOCKED) put("-ERR [SYS/TEMP] too many failed logins from your address, try again later\r\n");
  else { put("-ERR [SYS/TEMP] temporary failure, try again later\r\n"); return; }
  if (++failures >= POP3_LOGIN_FAILURES_MAX) { put("-ERR too many failures\r\n"); end_nologin("failures"); }
}

/* AUTH PLAIN with or without an initial response (RFC 5034 4). */
static void auth(pop3_command const *c, pop3_input *in, unsigned int timeout)
{
  stralloc decoded = STRALLOC_ZERO, creds = STRALLOC_ZERO;
  char const *user, *password, *resp;
  size_t resplen;
  if (c->argc == 0) { put("+OK\r\nPLAIN\r\n.\r\n"); return; }   /* RFC 1734 clients list mechanisms */
  if (c->arglen[0] != 5 || strncasecmp(c->argv[0], "PLAIN", 5)) { error_counted("-ERR unsupported mechanism\r\n"); return; }
  if (!plaintext_ok) { error_counted("-ERR [AUTH] plaintext authentication disallowed without TLS\r\n"); return; }
  if (c->argc > 2) { error_counted("-ERR bad AUTH arguments\r\n"); return; }
  if (c->argc == 2) { resp = c->argv[1]; resplen = c->arglen[1]; }
  else
  {
    char *line;
    int r;
    put("+ \r\n");
    r = pop3_input_line(in, timeout, &line, &resplen);
    if (r < 0) read_failed(in);
    if (!r) end_nologin("eof");
    resp = line;
  }
  if (smtp_auth_cancelled(resp, resplen)) { error_counted("-ERR authentication cancelled\r\n"); return; }
  if (resplen == 1 && resp[0] == '=') resplen = 0;   /* RFC 5034 4: an empty initial response */
  if (!smtp_base64_decode(resp, resplen, &decoded) || !smtp_auth_plain(decoded.s, decoded.len, &creds, &user, &password))
    error_counted("-ERR [AUTH] malformed PLAIN response\r\n");
  else login(user, password);
  if (decoded.s) explicit_bzero(decoded.s, decoded.a);
  if (creds.s) explicit_bzero(creds.s, creds.a);
  stralloc_free(&decoded);
  stralloc_free(&creds);
}

/* STLS (RFC 2595 4): in the clear, nothing pipelined after it is read (the
 * input is read a byte at a time), so none of it counts as said under TLS. */
static void stls(pop3_command const *c, stralloc *user)
{
  if (getenv("SSL_PROTOCOL")) { error_counted("-ERR TLS already active\r\n"); return; }
  if (!tls_offered) { error_counted("-ERR STLS not available\r\n"); return; }
  if (c->argc) { error_counted("-ERR usage: STLS\r\n"); return; }
  put("+OK begin TLS negotiation\r\n");
  flush();
  if (!ucspitls_start(&ucspi, POP3_LOGIN_TIMEOUT_DEFAULT) || !ucspitls_use(&ucspi))
  {
    output_dead = 1;
    end_nologin("tlsfail");
  }
  tls_offered = 0;
  plaintext_ok = 1;
  user->len = 0;
}

static unsigned int env_uint(char const *name, unsigned int dflt)
{
  char const *x = getenv(name);
  unsigned int u;
  if (!x || !*x) return dflt;
  if (!uint0_scan(x, &u)) strerr_dief3x(100, "bad ", name, ": not a number");
  return u;
}

int main(int argc, char const *const *argv)
{
  static char const *const default_server[] = { "vmail-pop3d", 0 };
  stralloc user = STRALLOC_ZERO;
  pop3_input in;
  unsigned int timeout;
  char const *x;
  PROG = "vmail-pop3-login";
  if (argc > 1 && argv[1][0] == '-') strerr_dieusage(100, USAGE);
  server_argv = argc > 1 ? argv + 1 : default_server;
  checkpw_prog = getenv("VMAIL_CHECKPW");
  if (!checkpw_prog || !*checkpw_prog) checkpw_prog = "vmail-checkpw";
  timeout = env_uint("VMAIL_POP3_LOGIN_TIMEOUT", POP3_LOGIN_TIMEOUT_DEFAULT);
  if (!timeout) timeout = POP3_LOGIN_TIMEOUT_DEFAULT;
  x = getenv("VMAIL_AUTH_PLAINTEXT");
  /* passwords in the clear only where the operator says the link is safe,
     or over TLS (s6-tlsserver / sslserver set SSL_PROTOCOL) */
  plaintext_ok = (x && !strcmp(x, "1")) || getenv("SSL_PROTOCOL");
  tls_offered = !getenv("SSL_PROTOCOL") && ucspitls_offered(&ucspi);
  /* from here on, as root, the network is read by an unprivileged child */
  /* from here on, as root, the network is read by an unprivileged child */
  if (privsep_login(&run_checkpw) < 0) strerr_dief1x(privilege_exitcode(), privilege_error());
  signal(SIGPIPE, SIG_IGN);
  /* a client that stops reading is dropped like one that stops writing */
  if (pop3_output_init(timeout) < 0) strerr_diefu1sys(111, "set a SIGALRM handler");
  put("+OK vmail POP3 ready\r\n");
  /* one byte at a time: a pipelined command after the login belongs to vmail-pop3d */
  pop3_input_init(&in, 0, 1, &out);
  /* one command per turn; bounded by the error and failure limits and the timeout */
  for (;;)
  {
    pop3_command c;
    char *line;
    size_t len;
    int r = pop3_input_line(&in, timeout, &line, &len);
    if (!r) end_nologin("eof");
    if (r < 0) read_failed(&in);
    if (!pop3_command_parse(line, len, &c)) { error_counted("-ERR bad command\r\n"); continue; }
    switch (c.verb)
    {
      case POP3_CAPA: capa(); break;
      case POP3_QUIT: put("+OK bye\r\n"); end_nologin("quit");
      case POP3_NOOP: put("+OK\r\n"); break;
      case POP3_USER:
        if (!plaintext_ok) { error_counted("-ERR [AUTH] plaintext authentication disallowed without TLS\r\n"); break; }
        if (c.argc != 1 || c.arglen[0] > ADDR_MAX) { error_counted("-ERR usage: USER name\r\n"); break; }
        if (!stralloc_copyb(&user, c.argv[0], c.arglen[0]) || !stralloc_0(&user)) strerr_diefu1sys(111, "allocate");
        put("+OK send PASS\r\n");
        break;
      case POP3_PASS:
        if (!user.len) { error_counted("-ERR USER first\r\n"); break; }
        if (!c.restlen) { error_counted("-ERR usage: PASS password\r\n"); break; }
        {
          stralloc pw = STRALLOC_ZERO;
          if (!stralloc_copyb(&pw, c.rest, c.restlen) || !stralloc_0(&pw)) strerr_diefu1sys(111, "allocate");
          explicit_bzero(line, len);
          login(user.s, pw.s);
          explicit_bzero(pw.s, pw.a);
          stralloc_free(&pw);
        }
        user.len = 0;
        break;
      case POP3_AUTH:
        auth(&c, &in, timeout);
        explicit_bzero(line, len);
        user.len = 0;
        break;
      case POP3_APOP: error_counted("-ERR APOP is not supported\r\n"); break;
      case POP3_STLS: stls(&c, &user); break;
      case POP3_UNKNOWN: error_counted("-ERR unknown command\r\n"); break;
      default: error_counted("-ERR log in first\r\n"); break;
    }
  }
}
