/* vmail-sendmail: the sendmail(8) interface, for mail(1), mailx, cron and
 * scripts. Reads the message, completes its header (From, Date,
 * Message-ID), takes recipients from the arguments and, with -t, from To,
 * Cc and Bcc (Bcc is removed), and hands message and envelope to
 * vmail-queue, or to the local SMTP server when the queue is not the
 * caller's to write (submit.h). -bp lists the queue. */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/sgetopt.h>
#include <skalibs/skamisc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "envelope.h"
#include "msghead.h"
#include "privilege.h"
#include "queue.h"
#include "submit.h"

#define USAGE "vmail-sendmail [ -t ] [ -i ] [ -f sender ] [ -F fullname ] [ -bm | -bp ] [ -o option ] [ recipient ... ]"
#define MESSAGE_MAX_DEFAULT 52428800   /* as vmail-deliver: VMAIL_MESSAGE_MAX */
#define HOST_MAX 255                   /* RFC 1035 2.3.4 */

static stralloc msg = STRALLOC_ZERO, out = STRALLOC_ZERO, rcpts = STRALLOC_ZERO, env = STRALLOC_ZERO;
static unsigned int nrcpt;

static char const *default_domain(void)
{
  static char host[HOST_MAX + 1];
  char const *d = getenv("VMAIL_DEFAULT_DOMAIN");
  if (!d || !*d) d = getenv("VMAIL_HOSTNAME");
  if (d && *d) return d;
  if (gethostname(host, sizeof host - 1) < 0) return "localhost";
  host[sizeof host - 1] = 0;
  return host;
}

static char const *login_name(struct passwd const *pw)
{
  static char const *const vars[] = { "MAILUSER", "USER", "LOGNAME" };
  for (unsigned int i = 0; i < 3; i++) { char const *v = getenv(vars[i]); if (v && *v) return v; }
  return pw ? pw->pw_name : "nobody";
}

/* Is the recipient at rcpts[at] (its "T" included) the same as an earlier
 * one? Local parts compared as they are, domains without regard to case. */
static int seen_before(size_t at)
{
  char const *a = rcpts.s + at + 1, *ad = strrchr(a, '@');
  size_t alocal = ad ? (size_t)(ad - a) : strlen(a);
  for (size_t i = 0; i < at; i += strlen(rcpts.s + i) + 1)   /* bounded by ENVELOPE_RCPT_MAX */
  {
    char const *b = rcpts.s + i + 1, *bd = strrchr(b, '@');
    size_t blocal = bd ? (size_t)(bd - b) : strlen(b);
    if (alocal == blocal && !memcmp(a, b, alocal) && ad && bd && !strcasecmp(ad, bd)) return 1;
  }
  return 0;
}

/* A recipient, with the default domain when it has none; given twice (To
 * and Cc, or an argument and a header), it is kept once, as sendmail does. */
static void add_rcpt(char const *a)
{
  size_t at = rcpts.len;
  if (!*a) return;
  if (!stralloc_catb(&rcpts, "T", 1) || !stralloc_cats(&rcpts, a)) strerr_diefu1sys(111, "allocate");
  if (!strchr(a, '@') && (!stralloc_catb(&rcpts, "@", 1) || !stralloc_cats(&rcpts, default_domain())))
    strerr_diefu1sys(111, "allocate");
  if (!stralloc_0(&rcpts)) strerr_diefu1sys(111, "allocate");
  if (seen_before(at)) { rcpts.len = at; return; }
  if (++nrcpt > ENVELOPE_RCPT_MAX) strerr_dief1x(100, "too many recipients");
}

static void add_list(char const *s, size_t len)
{
  stralloc list = STRALLOC_ZERO;
  int n = msghead_addresses(s, len, &list);
  if (n < 0) strerr_dief1x(100, "an address is too long or invalid, or there are too many");
  for (size_t i = 0; i < list.len; i += strlen(list.s + i) + 1) add_rcpt(list.s + i);
  stralloc_free(&list);
}

/* Reads stdin; without -i a line holding a single dot ends the message. */
static void read_message(int dots)
{
  stralloc line = STRALLOC_ZERO;
  char const *maxs = getenv("VMAIL_MESSAGE_MAX");
  size_t max = maxs && *maxs ? strtoull(maxs, 0, 10) : MESSAGE_MAX_DEFAULT;
  for (;;)   /* bounded by max */
  {
    int r;
    line.len = 0;
    r = skagetln(buffer_0, &line, '\n');
    if (r < 0 && errno != EPIPE) strerr_diefu1sys(111, "read the message");
    if (!line.len) break;
    if (dots && (line.len == 2 || (line.len == 3 && line.s[1] == '\r')) && line.s[0] == '.' && line.s[line.len-1] == '\n') break;
    if (!stralloc_catb(&msg, line.s, line.len)) strerr_diefu1sys(111, "allocate");
    if (msg.len > max) strerr_dief1x(100, "message too big (VMAIL_MESSAGE_MAX)");
    if (r <= 0) break;
  }
  stralloc_free(&line);
}

static int cat_date(stralloc *sa)
{
  char date[64];
  time_t now = time(0);
  struct tm tm;
  localtime_r(&now, &tm);
  if (!strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm)) return 0;
  return stralloc_cats(sa, date);
}

/* The display name of From: the -F name, else NAME, else the GECOS field;
 * written as a quoted string (RFC 5322 3.2.4) when it needs one. */
static int cat_name(stralloc *sa, char const *name)
{
  size_t n = strcspn(name, "\r\n");
  int plain = 1;
  for (size_t i = 0; i < n; i++)
    if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') || name[i] == ' ' || (unsigned char)name[i] >= 128)) plain = 0;
  if (plain) return stralloc_catb(sa, name, n) && stralloc_catb(sa, " ", 1);
  if (!stralloc_catb(sa, "\"", 1)) return 0;
  for (size_t i = 0; i < n; i++)
  {
    if ((name[i] == '"' || name[i] == '\\') && !stralloc_catb(sa, "\\", 1)) return 0;
    if (!stralloc_catb(sa, name + i, 1)) return 0;
  }
  return stralloc_catb(sa, "\" ", 2);
}

/* Copies the header section, minus Bcc with -t, and adds what is missing. */
static void complete_header(int from_headers, char const *from, char const *fullname, char const *eol)
{
  size_t pos = 0, body;
  int blank = 0, has_from = 0, has_date = 0, has_msgid = 0;
  struct msghead_field f;
  while (msghead_next(msg.s, msg.len, &pos, &f, &blank))   /* bounded by msg.len */
  {
    if (msghead_is(&f, "From")) has_from = 1;
    else if (msghead_is(&f, "Date")) has_date = 1;
    else if (msghead_is(&f, "Message-ID")) has_msgid = 1;
    if (from_headers && (msghead_is(&f, "To") || msghead_is(&f, "Cc") || msghead_is(&f, "Bcc")))
      add_list(f.value, f.valuelen);
    if (from_headers && msghead_is(&f, "Bcc")) continue;
    if (!stralloc_catb(&out, msg.s + f.start, f.end - f.start)) strerr_diefu1sys(111, "allocate");
    /* a last field without a line ending gets one */
    if (f.end == msg.len && msg.s[f.end-1] != '\n' && !stralloc_cats(&out, eol)) strerr_diefu1sys(111, "allocate");
  }
  body = pos;
  if (!has_from)
  {
    if (!stralloc_cats(&out, "From: ") || (fullname && *fullname && !cat_name(&out, fullname))
        || !stralloc_catb(&out, "<", 1) || !stralloc_cats(&out, from) || !stralloc_catb(&out, ">", 1)
        || !stralloc_cats(&out, eol)) strerr_diefu1sys(111, "allocate");
  }
  if (!has_date && (!stralloc_cats(&out, "Date: ") || !cat_date(&out) || !stralloc_cats(&out, eol)))
    strerr_diefu1sys(111, "allocate");
  if (!has_msgid)
  {
    char id[QUEUE_ID_LEN + 1];
    queue_id_new(id);
    if (!stralloc_cats(&out, "Message-ID: <") || !stralloc_cats(&out, id) || !stralloc_catb(&out, "@", 1)
        || !stralloc_cats(&out, default_domain()) || !stralloc_catb(&out, ">", 1) || !stralloc_cats(&out, eol))
      strerr_diefu1sys(111, "allocate");
  }
  /* the body, after an empty line the input may lack */
  if (!blank && !stralloc_cats(&out, eol)) strerr_diefu1sys(111, "allocate");
  if (!stralloc_catb(&out, msg.s + body, msg.len - body)) strerr_diefu1sys(111, "allocate");
}

/* Is the queue someone else's? A local user's vmail-queue could not write
 * it, when it belongs to the mail user (submit.h). A queue that does not
 * exist yet is vmail-queue's to create. */
static int queue_not_ours(void)
{
  return getuid() && access(queue_dir(), W_OK | X_OK) < 0 && errno != ENOENT;
}

/* Runs the queue program with the message on fd 0 and the envelope on fd 1;
 * or, when the queue is not ours to write, gives the message to the local
 * SMTP server. */
static int queue_it(void)
{
  char const *prog = getenv("VMAIL_QUEUE");
  int code;
  if (!prog || !*prog)
  {
    if (queue_not_ours()) return submit_smtp(out.s, out.len, env.s, env.len);
    prog = "vmail-queue";
  }
  /* root's filters run as the mail user, as vmail-smtpd's do; vmail-queue
   * itself drops (and names root in its Received line) */
  else if (privilege_drop("VMAIL_UID", "VMAIL_GID") < 0)
    strerr_dief1x(privilege_exitcode(), privilege_error());
  signal(SIGPIPE, SIG_IGN);
  code = queue_inject(prog, out.s, out.len, -1, env.s, env.len);
  if (code < 0) strerr_diefu2sys(111, "run ", prog);
  if (code >= 128) strerr_dief2x(111, prog, " crashed");
  return code;
}

static int list_queue(void)
{
  int n = queue_list(queue_dir(), buffer_1);
  if (n < 0) strerr_diefu2sys(111, "list ", queue_dir());
  if (!n) buffer_puts(buffer_1, "queue is empty\n");
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout");
  return 0;
}

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  struct passwd *pw;
  char const *from = 0, *fullname = 0;
  stralloc sender = STRALLOC_ZERO;
  int from_headers = 0, dots = 1, code;
  PROG = "vmail-sendmail";
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "tiUvmnf:r:F:o:b:N:R:B:h:V:X:O:C:L:A:", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 't': from_headers = 1; break;
      case 'i': dots = 0; break;
      case 'f': case 'r': from = l.arg; break;
      case 'F': fullname = l.arg; break;
      case 'o': if (!strcmp(l.arg, "i")) dots = 0; break;      /* -oi; -oem, -odb... are no-ops here */
      case 'b':
        if (!strcmp(l.arg, "p")) return list_queue();
        if (strcmp(l.arg, "m")) strerr_dief2x(100, "unsupported mode -b", l.arg);
        break;
      case 'U': case 'v': case 'm': case 'n': case 'N': case 'R': case 'B': case 'h': case 'V':
      case 'X': case 'O': case 'C': case 'L': case 'A': break;   /* accepted for compatibility, ignored */
      default: strerr_dieusage(100, USAGE);
    }
  }
  argc -= l.ind; argv += l.ind;

  pw = getpwuid(getuid());
  if (from)
  {
    size_t n = strlen(from);
    if (n >= 2 && from[0] == '<' && from[n-1] == '>') { if (!stralloc_catb(&sender, from + 1, n - 2)) strerr_diefu1sys(111, "allocate"); }
    else if (!stralloc_cats(&sender, from)) strerr_diefu1sys(111, "allocate");
    if (sender.len && !memchr(sender.s, '@', sender.len)
        && (!stralloc_catb(&sender, "@", 1) || !stralloc_cats(&sender, default_domain()))) strerr_diefu1sys(111, "allocate");
  }
  else if (!stralloc_cats(&sender, login_name(pw)) || !stralloc_catb(&sender, "@", 1) || !stralloc_cats(&sender, default_domain()))
    strerr_diefu1sys(111, "allocate");
  if (!stralloc_0(&sender)) strerr_diefu1sys(111, "allocate");
  if (sender.len - 1 > ENVELOPE_ADDR_MAX) strerr_dief1x(100, "sender address too long");
  /* as vmail-deliver refuses it later (it would forge header lines), but
   * now, while someone is there to be told */
  for (size_t i = 0; i + 1 < sender.len; i++)
    if ((unsigned char)sender.s[i] < 0x21 || sender.s[i] == 0x7f || sender.s[i] == '<' || sender.s[i] == '>')
      strerr_dief1x(100, "sender address contains a space, a control character or a bracket");
  if (!fullname) fullname = getenv("NAME");
  if (!fullname && pw && pw->pw_gecos && *pw->pw_gecos)
  {
    static char gecos[256];
    snprintf(gecos, sizeof gecos, "%.*s", (int)strcspn(pw->pw_gecos, ","), pw->pw_gecos);
    fullname = gecos;
  }

  for (int i = 0; i < argc; i++) add_list(argv[i], strlen(argv[i]));
  read_message(dots);
  {
    char const *nl = msg.len ? memchr(msg.s, '\n', msg.len) : 0;
    complete_header(from_headers, sender.len > 1 ? sender.s : "MAILER-DAEMON", fullname,
                    nl && nl > msg.s && nl[-1] == '\r' ? "\r\n" : "\n");
  }
  if (!nrcpt) strerr_dief1x(100, "no recipients");
  if (!stralloc_catb(&env, "F", 1) || !stralloc_catb(&env, sender.s, sender.len)
      || !stralloc_catb(&env, rcpts.s, rcpts.len) || !stralloc_0(&env)) strerr_diefu1sys(111, "allocate");
  code = queue_it();
  if (!code) return 0;
  /* the queue program said why on stderr; qmail-queue codes 11-40 and 91 are permanent */
  return (code >= 11 && code <= 40) || code == 91 || code == 100 ? 100 : 111;
}
