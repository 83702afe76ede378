/* grants.c: vmailctl init --grants. As the MariaDB administrator, creates
 * the three accounts the envdir names (VMAIL_DB_USER, VMAIL_DB_AUTH_USER,
 * VMAIL_DB_ADMIN_USER) with the rights of sql/grants.sql, each with the
 * password in its file (VMAIL_DB_*PASSWORD_FILE): the file's when it exists,
 * else a generated one written there first. So no secret passes through a
 * shell, a second run changes nothing, and a file an administrator wrote
 * wins. Each account ends with exactly those rights (others are revoked).
 * The files get their owners and modes: the lookup account's belongs to
 * the mail user (VMAIL_UID) with the SMTP sessions' group (VMAIL_SMTPD_GID,
 * else VMAIL_GID), mode 0640: the resolver runs as the one, and a session
 * whose resolver socket is down looks up directly as the other. The others
 * are root's alone, mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "db.h"
#include "vmailctl.h"

#define GENERATED_LENGTH 24   /* characters of a generated password: 142 bits */
#define ACCOUNT_NAME_MAX 80   /* MariaDB's user name limit */
#define PASSWORD_FILE_MAX 512 /* as lib/db.c reads it */

static char const ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

enum kind { LOOKUP, AUTH, ADMIN };
static struct { char const *user_var, *file_var; enum kind kind; } const accounts[] =
{
  { "VMAIL_DB_USER", "VMAIL_DB_PASSWORD_FILE", LOOKUP },
  { "VMAIL_DB_AUTH_USER", "VMAIL_DB_AUTH_PASSWORD_FILE", AUTH },
  { "VMAIL_DB_ADMIN_USER", "VMAIL_DB_ADMIN_PASSWORD_FILE", ADMIN },
};

static void put(char const *s)
{
  if (buffer_puts(buffer_1, s) < 0) strerr_diefu1sys(CTL_TEMP, "write to stdout");
}

static void cats(stralloc *sa, char const *s)
{
  if (!stralloc_cats(sa, s)) strerr_diefu1sys(CTL_TEMP, "allocate");
}

static void quote(stralloc *sa, char const *s)
{
  if (db_quote(sa, s) < 0) ctl_die_db(DB_TEMP, "connect as the MariaDB administrator");
}

static char const *need(char const *var)
{
  char const *v = getenv(var);
  if (!v || !*v) strerr_dief3x(CTL_REFUSED, var, " is not set", " (in /etc/vmail/env: make install sets it)");
  return v;
}

static int identifier(char const *s, size_t max)
{
  size_t n = strlen(s);
  if (!n || n > max) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
      return 0;
  return 1;
}

/* The database name, checked: it is written into SQL between backquotes. */
char const *ctl_grants_dbname(void)
{
  char const *db = getenv("VMAIL_DB_NAME");
  if (!db || !*db) db = "mailserver";
  if (!identifier(db, 64)) strerr_dief2x(CTL_REFUSED, "VMAIL_DB_NAME must be letters, digits and _: ", db);
  return db;
}

static void generate(stralloc *pw)
{
  unsigned char b[64];
  size_t n = 0;
  pw->len = 0;
  while (n < GENERATED_LENGTH)
  {
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) strerr_diefu1sys(CTL_TEMP, "get random bytes");
    /* 248 = 4 * 62: uniform over the alphabet */
    for (size_t i = 0; i < sizeof b && n < GENERATED_LENGTH; i++)
      if (b[i] < 248) { if (!stralloc_append(pw, ALPHABET[b[i] % 62])) strerr_diefu1sys(CTL_TEMP, "allocate"); n++; }
  }
  if (!stralloc_0(pw)) strerr_diefu1sys(CTL_TEMP, "allocate");
}

/* The owner and mode a password file gets. */
static void owner(enum kind k, uid_t *uid, gid_t *gid, mode_t *mode)
{
  char const *u = getenv("VMAIL_UID");
  char const *g = getenv("VMAIL_SMTPD_GID");
  unsigned int n;
  *uid = 0; *gid = 0; *mode = 0600;
  if (k != LOOKUP) return;
  if (!g || !*g) g = getenv("VMAIL_GID");
  if (g && uint0_scan(g, &n)) { *gid = n; *mode = 0640; }
  if (u && uint0_scan(u, &n)) *uid = n;
}

static void write_file(char const *file, char const *pw, uid_t uid, gid_t gid, mode_t mode)
{
  stralloc tmp = STRALLOC_ZERO;
  size_t len = strlen(pw);
  int fd;
  if (!stralloc_copys(&tmp, file) || !stralloc_cats(&tmp, ".tmp") || !stralloc_0(&tmp))
    strerr_diefu1sys(CTL_TEMP, "allocate");
  unlink(tmp.s);
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) strerr_diefu2sys(CTL_TEMP, "create ", tmp.s);
  if ((!geteuid() && fchown(fd, uid, gid) < 0) || fchmod(fd, mode) < 0
      || write(fd, pw, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
    strerr_diefu2sys(CTL_TEMP, "write ", tmp.s);
  if (close(fd) < 0 || rename(tmp.s, file) < 0) strerr_diefu2sys(CTL_TEMP, "write ", file);
  stralloc_free(&tmp);
}

/* pw: the file's first line, or a new password written there. 1 if new. */
static int password(char const *file, enum kind k, stralloc *pw)
{
  uid_t uid; gid_t gid; mode_t mode;
  owner(k, &uid, &gid, &mode);
  pw->len = 0;
  if (openreadfileclose(file, pw, PASSWORD_FILE_MAX))
  {
    size_t n = 0;
    while (n < pw->len && pw->s[n] != '\n' && pw->s[n] != '\r') n++;
    pw->len = n;
    if (!n) strerr_dief2x(CTL_REFUSED, "empty password file: ", file);
    if (memchr(pw->s, 0, n)) strerr_dief2x(CTL_REFUSED, "NUL byte in password file: ", file);
    if (!stralloc_0(pw)) strerr_diefu1sys(CTL_TEMP, "allocate");
    if (!geteuid() && chown(file, uid, gid) < 0) strerr_diefu2sys(CTL_TEMP, "chown ", file);
    if (chmod(file, mode) < 0) strerr_diefu2sys(CTL_TEMP, "chmod ", file);
    return 0;
  }
  if (errno != ENOENT) strerr_diefu2sys(CTL_TEMP, "read ", file);
  generate(pw);
  write_file(file, pw->s, uid, gid, mode);
  return 1;
}

static void grant(stralloc *sql, char const *what, char const *db, char const *table, stralloc const *who)
{
  cats(sql, "GRANT "); cats(sql, what); cats(sql, " ON `"); cats(sql, db); cats(sql, "`.");
  cats(sql, table); cats(sql, " TO ");
  if (!stralloc_catb(sql, who->s, who->len)) strerr_diefu1sys(CTL_TEMP, "allocate");
  cats(sql, ";\n");
}

int ctl_grants(void)
{
  char const *db = ctl_grants_dbname();
  stralloc pw = STRALLOC_ZERO, sql = STRALLOC_ZERO, who = STRALLOC_ZERO;
  for (size_t i = 0; i < sizeof accounts / sizeof *accounts; i++)
  {
    char const *user = need(accounts[i].user_var), *file = need(accounts[i].file_var);
    enum kind k = accounts[i].kind;
    int made;
    if (!identifier(user, ACCOUNT_NAME_MAX))
      strerr_dief4x(CTL_REFUSED, accounts[i].user_var, " must be letters, digits and _: ", user, "");
    if (!strcmp(user, "root")) strerr_dief2x(CTL_REFUSED, accounts[i].user_var, " may not be root");
    made = password(file, k, &pw);
    who.len = 0; quote(&who, user); cats(&who, "@'localhost'");
    sql.len = 0;
    cats(&sql, "CREATE USER IF NOT EXISTS "); stralloc_catb(&sql, who.s, who.len);
    cats(&sql, " IDENTIFIED BY "); quote(&sql, pw.s); cats(&sql, ";\nALTER USER ");
    stralloc_catb(&sql, who.s, who.len); cats(&sql, " IDENTIFIED BY "); quote(&sql, pw.s); cats(&sql, ";\n");
    /* exactly these rights: any others given by hand before go */
    cats(&sql, "REVOKE ALL PRIVILEGES, GRANT OPTION FROM "); stralloc_catb(&sql, who.s, who.len); cats(&sql, ";\n");
    if (k == ADMIN)
      grant(&sql, "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES", db, "*", &who);
    else
    {
      grant(&sql, "SELECT", db, "virtual_domains", &who);
      grant(&sql, k == LOOKUP ? "SELECT (id, domain_id, email)" : "SELECT", db, "virtual_users", &who);
      grant(&sql, "SELECT", db, "virtual_aliases", &who);
    }
    cats(&sql, "FLUSH PRIVILEGES");
    if (!stralloc_0(&sql)) strerr_diefu1sys(CTL_TEMP, "allocate");
    explicit_bzero(pw.s, pw.len);
    {
      int r = db_exec_script(sql.s);
      explicit_bzero(sql.s, sql.len);
      if (r < 0) ctl_die_db(r, "create the database accounts");
    }
    put("account "); put(user); put(": password in "); put(file);
    put(made ? " (generated)\n" : " (kept)\n");
  }
  stralloc_free(&pw); stralloc_free(&sql); stralloc_free(&who);
  return 0;
}
