/* vmail-checkpw: the checkpassword interface over the virtual_users table.
 * Reads user\0password\0 on fd 3, verifies with crypt(3), and on success
 * becomes the mail user inside the user's Maildir and execs argv. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/env.h>
#include <skalibs/exec.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "addr.h"
#include "authlimit.h"
#include "checkpw.h"
#include "db.h"
#include "maildir.h"
#include "password.h"
#include "privilege.h"
#include "resolve.h"

#define USAGE "vmail-checkpw prog..."

/* Guessing (README, security): failed logins per client address and
 * window, and the wait before a refusal is answered. */
#define AUTH_FAILURES_DEFAULT 5          /* VMAIL_AUTH_FAILURES, 0: no limit */
#define AUTH_WINDOW_DEFAULT 60           /* VMAIL_AUTH_WINDOW, seconds */
#define AUTH_FAIL_DELAY_DEFAULT 2000     /* VMAIL_AUTH_FAIL_DELAY, milliseconds */
#define LIMITS_DIR_DEFAULT "/run/vmail/limits"   /* VMAIL_LIMITS_DIR */

/* The user's row when it exists, else some other user's hash, so an unknown
 * address costs the same hash computation as a known one, in the scheme the
 * site really uses. */
static char const USER_SQL[] =
  "(SELECT email, password, 1 AS known FROM virtual_users WHERE email = ?)"
  " UNION ALL (SELECT '', password, 0 FROM virtual_users LIMIT 1)"
  " ORDER BY known DESC LIMIT 1";

/* For an empty table: a SHA512-CRYPT hash of a random string nobody knows. */
static char const DUMMY_HASH[] =
  "$6$TeYlC0l8lJ7hQ2Ls$JtDq7ZfCw3bNgq0D9JxGkSwhYI2N2f0zvDr1Zr8xQFq9C3Jf6M3yAq2a9cD1vK0VbY1nR8uX0wT5sE4pL7oH6/";

static void log_result(char const *result, char const *user)
{
  char const *ip = getenv("TCPREMOTEIP");
  strerr_warni6x("auth ", result, " user=", user, " ip=", ip ? ip : "-");
}

static unsigned env_uint(char const *name, unsigned dflt)
{
  char const *s = getenv(name);
  unsigned u;
  if (!s || !*s) return dflt;
  if (s[uint_scan(s, &u)]) strerr_dief3x(111, "bad ", name, ": not a number");
  return u;
}

/* A refusal is answered late: guessing costs time even within the limit. */
static void refuse(int code)
{
  unsigned ms = env_uint("VMAIL_AUTH_FAIL_DELAY", AUTH_FAIL_DELAY_DEFAULT);
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
  db_close();
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ;
  _exit(code);
}

/* Opens the client address's count (authlimit.h) and refuses at once,
 * verifying nothing, if it has failed too often. */
static void limit_start(struct authlimit *limit, char const *user)
{
  char const *dir = getenv("VMAIL_LIMITS_DIR");
  int r;
  if (!dir || !*dir) dir = LIMITS_DIR_DEFAULT;
  if (!authlimit_start(limit, dir, getenv("TCPREMOTEIP"),
        env_uint("VMAIL_AUTH_FAILURES", AUTH_FAILURES_DEFAULT), env_uint("VMAIL_AUTH_WINDOW", AUTH_WINDOW_DEFAULT)))
    strerr_diefu3sys(111, "open the failed login count in ", dir, "/" AUTHLIMIT_FILE);
  r = authlimit_blocked(limit);
  if (r < 0) strerr_diefu3sys(111, "read the failed login count in ", dir, "/" AUTHLIMIT_FILE);
  if (r) { log_result("blocked reason=failures", user); refuse(CHECKPW_BLOCKED); }
}

int main(int argc, char const *const *argv)
{
  char input[CHECKPW_INPUT_MAX + 1];
  char *user, *password;
  stralloc login = STRALLOC_ZERO, row = STRALLOC_ZERO, maildir = STRALLOC_ZERO;
  char const *params[1], *email = "", *hash = DUMMY_HASH;
  struct authlimit limit;
  long len;
  int n, known = 0, ok;
  size_t pos = 0;

  PROG = "vmail-checkpw";
  if (argc < 2) strerr_dieusage(100, USAGE);
  len = checkpw_read(3, input);
  /* more than the interface allows is a bad login, as in checkpassword */
  if (len < 0 && errno == EMSGSIZE) { explicit_bzero(input, sizeof input); return 1; }
  if (len < 0) strerr_diefu1sys(111, "read credentials from fd 3");
  close(3);
  if (!checkpw_parse(input, (size_t)len, &user, &password)) { explicit_bzero(input, sizeof input); return 1; }

  if (!addr_parse(user, strlen(user), &login)) { login.len = 0; stralloc_catb(&login, "", 1); }
  limit_start(&limit, login.s[0] ? login.s : "(invalid)");
  params[0] = login.s;
  db_role_auth();
  n = login.s[0] ? db_exec(USER_SQL, params, 1, &row) : 0;
  /* refused: an address the table cannot hold (an emoji in a utf8mb3
     column), so nobody's; the dummy hash still costs what a login costs */
  if (n == DB_REFUSED) n = 0;
  if (n < 0) { explicit_bzero(input, sizeof input); strerr_dief2x(111, "temporary database failure: ", db_error()); }
  if (n == 1)
  {
    char const *k;
    email = db_field(&row, &pos);
    hash = db_field(&row, &pos);
    k = db_field(&row, &pos);
    known = k && k[0] == '1';
  }
  ok = password_verify(password, hash) && known;
  explicit_bzero(input, sizeof input);
  if (!ok)
  {
    log_result(known ? "fail reason=password" : "fail reason=nouser", login.s[0] ? login.s : "(invalid)");
    if (!authlimit_fail(&limit)) strerr_warnwu1sys("count the failed login");
    authlimit_end(&limit);
    refuse(1);
  }
  authlimit_end(&limit);

  if (!stralloc_copys(&login, email) || !stralloc_0(&login)) strerr_diefu1sys(111, "allocate");
  addr_lower(login.s);
  if (!resolve_maildir(login.s, &maildir)) strerr_dief2x(111, "unsafe mailbox name for ", login.s);
  /* the mail user, never root, touches the Maildir */
  if (privilege_drop("VMAIL_UID", "VMAIL_GID") < 0) strerr_dief1x(privilege_exitcode(), privilege_error());
  if (maildir_make(maildir.s) < 0) strerr_diefu2sys(111, "create Maildir ", maildir.s);
  if (chdir(maildir.s) < 0) strerr_diefu2sys(111, "chdir to ", maildir.s);
  if (setenv("USER", login.s, 1) < 0 || setenv("HOME", maildir.s, 1) < 0
      || setenv("MAILDIR", maildir.s, 1) < 0) strerr_diefu1sys(111, "set environment");
  log_result("ok", login.s);
  db_close();
  exec(argv + 1);
  strerr_dieexec(111, argv[1]);
}
