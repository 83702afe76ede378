/* user.c: vmailctl user add|del|list|passwd. Addresses are stored
 * lowercased; the password column holds a crypt(3) string. */
#include <stdlib.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "addr.h"
#include "db.h"
#include "password.h"
#include "resolve.h"
#include "vmailctl.h"

#define USAGE "vmailctl user add|passwd address [-] [--scheme yescrypt|sha512|sha256|bcrypt] | user del address | user list [domain]"

static char const FIND_SQL[] = "SELECT email FROM virtual_users WHERE email = ?";
static char const ALIAS_SQL[] = "SELECT id FROM virtual_aliases WHERE source = ? LIMIT 1";
static char const ADD_SQL[] = "INSERT INTO virtual_users (domain_id, password, email) VALUES (?, ?, ?)";
static char const PASSWD_SQL[] = "UPDATE virtual_users SET password = ? WHERE email = ?";
static char const DEL_SQL[] = "DELETE FROM virtual_users WHERE email = ?";
static char const LIST_SQL[] = "SELECT email FROM virtual_users ORDER BY email";
static char const LIST_DOMAIN_SQL[] = "SELECT email FROM virtual_users WHERE domain_id = ? ORDER BY email";

static void put(char const *s)
{
  if (buffer_puts(buffer_1, s) < 0) strerr_diefu1sys(CTL_TEMP, "write to stdout");
}

static int exists(char const *email)
{
  char const *params[1] = { email };
  int n = db_exec(FIND_SQL, params, 1, 0);
  if (n < 0) ctl_die_db(n, "look up user");
  return n > 0;
}

/* The hash of a password read as the arguments say; the password is cleared. */
static void new_hash(int from_stdin, char const *scheme, stralloc *hash)
{
  stralloc pw = STRALLOC_ZERO;
  int ok;
  ctl_password_input(from_stdin, &pw);
  ok = password_hash(pw.s, scheme, hash);
  explicit_bzero(pw.s, pw.len);
  stralloc_free(&pw);
  if (!ok) strerr_diefu1sys(CTL_TEMP, "hash the password");
}

/* "-" or nothing after the address */
static int stdin_arg(struct ctl_args const *a)
{
  if (a->n == 2 && !strcmp(a->pos[1], "-")) return 1;
  if (a->n != 1) strerr_dieusage(CTL_USAGE, USAGE);
  return 0;
}

static void check_scheme(char const *scheme)
{
  static char const *const known[] = { "yescrypt", "sha512", "sha256", "bcrypt" };
  if (!scheme) return;
  for (size_t i = 0; i < sizeof known / sizeof *known; i++) if (!strcmp(scheme, known[i])) return;
  strerr_dief3x(CTL_REFUSED, "unknown scheme: ", scheme, " (yescrypt, sha512, sha256 or bcrypt)");
}

static int add(struct ctl_args const *a, char const *scheme)
{
  stralloc email = STRALLOC_ZERO, id = STRALLOC_ZERO, hash = STRALLOC_ZERO;
  char const *params[3];
  char const *domain;
  int from_stdin = stdin_arg(a), n;
  ctl_address(a->pos[0], &email);
  domain = email.s + addr_at(email.s) + 1;
  /* every refusal before the password is asked for */
  if (!ctl_domain_id(domain, &id))
    strerr_dief3x(CTL_REFUSED, "domain is not ours: ", domain, " (add it first: vmailctl domain add)");
  if (exists(email.s)) strerr_dief2x(CTL_REFUSED, "user already exists: ", email.s);
  new_hash(from_stdin, scheme, &hash);
  params[0] = id.s; params[1] = hash.s; params[2] = email.s;
  n = db_exec(ADD_SQL, params, 3, 0);
  if (n == DB_REFUSED) strerr_dief3x(CTL_REFUSED, "user already exists: ", email.s, " (or the server refused it)");
  if (n < 0) ctl_die_db(n, "add user");
  put("added user "); put(email.s); put("\n");
  params[0] = email.s;
  n = db_exec(ALIAS_SQL, params, 1, 0);
  if (n > 0) strerr_warnw3x("alias ", email.s, " exists and comes first: mail goes where it says (vmailctl query)");
  return 0;
}

static int passwd(struct ctl_args const *a, char const *scheme)
{
  stralloc email = STRALLOC_ZERO, hash = STRALLOC_ZERO;
  char const *params[2];
  int from_stdin = stdin_arg(a), n;
  ctl_address(a->pos[0], &email);
  if (!exists(email.s)) strerr_dief2x(CTL_REFUSED, "no such user: ", email.s);
  new_hash(from_stdin, scheme, &hash);
  params[0] = hash.s; params[1] = email.s;
  n = db_exec(PASSWD_SQL, params, 2, 0);
  if (n < 0) ctl_die_db(n, "change password");
  if (!n) strerr_dief2x(CTL_REFUSED, "no such user: ", email.s);
  put("changed password of "); put(email.s); put("\n");
  return 0;
}

static int del(char const *arg)
{
  stralloc email = STRALLOC_ZERO, maildir = STRALLOC_ZERO;
  char const *params[1];
  int n;
  ctl_address(arg, &email);
  params[0] = email.s;
  n = db_exec(DEL_SQL, params, 1, 0);
  if (n < 0) ctl_die_db(n, "delete user");
  if (!n) strerr_dief2x(CTL_REFUSED, "no such user: ", email.s);
  put("deleted user "); put(email.s);
  if (resolve_maildir(email.s, &maildir)) { put(" (Maildir "); put(maildir.s); put(" left in place)"); }
  put("\n");
  return 0;
}

static int list(struct ctl_args const *a)
{
  stralloc rows = STRALLOC_ZERO, name = STRALLOC_ZERO, id = STRALLOC_ZERO;
  char const *params[1], *email;
  size_t pos = 0;
  int n;
  if (a->n > 1) strerr_dieusage(CTL_USAGE, USAGE);
  if (a->n)
  {
    ctl_domain_name(a->pos[0], &name);
    if (!ctl_domain_id(name.s, &id)) strerr_dief2x(CTL_REFUSED, "no such domain: ", name.s);
    params[0] = id.s;
    n = db_exec(LIST_DOMAIN_SQL, params, 1, &rows);
  }
  else n = db_exec(LIST_SQL, 0, 0, &rows);
  if (n < 0) ctl_die_db(n, "list users");
  while ((email = db_field(&rows, &pos))) { put(email); put("\n"); }
  return 0;
}

int ctl_user(int argc, char const *const *argv)
{
  struct ctl_args a;
  char const *scheme = 0;
  char const *verb = argc > 1 ? argv[1] : "";
  int takes_scheme = !strcmp(verb, "add") || !strcmp(verb, "passwd");
  int r;
  if (!ctl_args(argc, argv, &a, takes_scheme ? &scheme : 0)) strerr_dieusage(CTL_USAGE, USAGE);
  if (takes_scheme && !a.n) strerr_dieusage(CTL_USAGE, USAGE);
  /* SHA512-CRYPT unless told: the tutorial's Dovecot reads only that while
     it may still share the table (a migration's rollback) */
  if (!scheme) scheme = getenv("VMAIL_PASSWORD_SCHEME");
  if (!scheme || !*scheme) scheme = CTL_SCHEME_DEFAULT;
  check_scheme(scheme);
  if (!strcmp(verb, "add")) r = add(&a, scheme);
  else if (!strcmp(verb, "passwd")) r = passwd(&a, scheme);
  else if (!strcmp(verb, "del") && a.n == 1) r = del(a.pos[0]);
  else if (!strcmp(verb, "list")) r = list(&a);
  else strerr_dieusage(CTL_USAGE, USAGE);
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(CTL_TEMP, "write to stdout");
  return r;
}
