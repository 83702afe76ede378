/* init.c: vmailctl init. Applies VMAIL_SQL_DIR/schema.sql (every statement
 * IF NOT EXISTS, so it also runs over a database the tutorial created), then
 * each migrations/NAME.sql not yet recorded in vmail_migrations, in name
 * order, recording each after it ran. Migrations are idempotent too, so one
 * that failed half way can simply run again. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "db.h"
#include "vmailctl.h"

#define USAGE "vmailctl init [--grants]"
#ifndef SQL_DIR_DEFAULT
#define SQL_DIR_DEFAULT "/usr/local/share/vmail/sql"   /* the Makefile sets it from PREFIX */
#endif
#define SQL_FILE_MAX (1024 * 1024)   /* a schema or migration file */
#define MIGRATIONS_MAX 1000          /* files in migrations/ */
#define LOCK_SECONDS "30"            /* wait for another vmailctl init */

static char const LOCK_SQL[] = "SELECT GET_LOCK('vmail_init', " LOCK_SECONDS ")";
static char const UNLOCK_SQL[] = "SELECT RELEASE_LOCK('vmail_init')";
static char const APPLIED_SQL[] = "SELECT name FROM vmail_migrations WHERE name = ?";
static char const RECORD_SQL[] = "INSERT INTO vmail_migrations (name) VALUES (?)";

static void put(char const *s)
{
  if (buffer_puts(buffer_1, s) < 0) strerr_diefu1sys(CTL_TEMP, "write to stdout");
}

static void run_file(char const *path)
{
  stralloc text = STRALLOC_ZERO;
  int r;
  if (!openreadfileclose(path, &text, SQL_FILE_MAX + 1)) strerr_diefu2sys(CTL_TEMP, "read ", path);
  if (text.len > SQL_FILE_MAX) strerr_dief2x(CTL_REFUSED, "SQL file larger than 1 MiB: ", path);
  if (memchr(text.s, 0, text.len)) strerr_dief2x(CTL_REFUSED, "NUL byte in SQL file: ", path);
  if (!stralloc_0(&text)) strerr_diefu1sys(CTL_TEMP, "allocate");
  r = db_exec_script(text.s);
  if (r < 0) strerr_dief4x(r == DB_REFUSED ? CTL_REFUSED : CTL_TEMP, "applying ", path, ": ", db_error());
  stralloc_free(&text);
}

static int by_name(void const *a, void const *b)
{
  return strcmp(*(char const *const *)a, *(char const *const *)b);
}

/* The *.sql names in dir, sorted, NUL-separated in names; their count. */
static size_t migration_names(char const *dir, stralloc *names)
{
  DIR *d = opendir(dir);
  size_t count = 0;
  if (!d)
  {
    if (errno == ENOENT) return 0;
    strerr_diefu2sys(CTL_TEMP, "open ", dir);
  }
  for (;;)
  {
    struct dirent *e;
    size_t len;
    errno = 0;
    e = readdir(d);
    if (!e) { if (errno) strerr_diefu2sys(CTL_TEMP, "read ", dir); break; }
    len = strlen(e->d_name);
    if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".sql")) continue;
    if (++count > MIGRATIONS_MAX) strerr_dief2x(CTL_REFUSED, "more than 1000 migrations in ", dir);
    if (!stralloc_catb(names, e->d_name, len + 1)) strerr_diefu1sys(CTL_TEMP, "allocate");
  }
  closedir(d);
  return count;
}

int ctl_init(int argc, char const *const *argv)
{
  char const *dir = getenv("VMAIL_SQL_DIR");
  stralloc path = STRALLOC_ZERO, names = STRALLOC_ZERO, migdir = STRALLOC_ZERO, lock = STRALLOC_ZERO;
  char const *sorted[MIGRATIONS_MAX];
  size_t count, pos = 0;
  int n, grants = argc == 2 && !strcmp(argv[1], "--grants");
  if (argc != 1 && !grants) strerr_dieusage(CTL_USAGE, USAGE);
  if (!dir || !*dir) dir = SQL_DIR_DEFAULT;
  if (grants)
  {
    /* as the MariaDB administrator: the database, its tables, then the accounts */
    stralloc create = STRALLOC_ZERO;
    char const *db = ctl_grants_dbname();
    db_role_root();
    if (!stralloc_copys(&create, "CREATE DATABASE IF NOT EXISTS `") || !stralloc_cats(&create, db)
        || !stralloc_cats(&create, "`; USE `") || !stralloc_cats(&create, db) || !stralloc_cats(&create, "`")
        || !stralloc_0(&create)) strerr_diefu1sys(CTL_TEMP, "allocate");
    n = db_exec_script(create.s);
    if (n < 0) ctl_die_db(n, "create the database");
    stralloc_free(&create);
  }

  /* two inits at once would both apply the same migration */
  n = db_exec(LOCK_SQL, 0, 0, &lock);
  if (n < 0) ctl_die_db(n, "take the init lock");
  if (n != 1 || strcmp(lock.s, "1"))
    strerr_dief1x(CTL_TEMP, "another vmailctl init has held the lock for " LOCK_SECONDS " seconds");

  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/schema.sql") || !stralloc_0(&path))
    strerr_diefu1sys(CTL_TEMP, "allocate");
  run_file(path.s);
  put("schema "); put(path.s); put(": applied\n");

  if (!stralloc_copys(&migdir, dir) || !stralloc_cats(&migdir, "/migrations") || !stralloc_0(&migdir))
    strerr_diefu1sys(CTL_TEMP, "allocate");
  count = migration_names(migdir.s, &names);
  for (size_t i = 0; i < count; i++) sorted[i] = db_field(&names, &pos);
  qsort(sorted, count, sizeof *sorted, by_name);

  for (size_t i = 0; i < count; i++)
  {
    char const *params[1] = { sorted[i] };
    n = db_exec(APPLIED_SQL, params, 1, 0);
    if (n < 0) ctl_die_db(n, "read vmail_migrations");
    if (n) { put("migration "); put(sorted[i]); put(": already applied\n"); continue; }
    if (!stralloc_copy(&path, &migdir)) strerr_diefu1sys(CTL_TEMP, "allocate");
    path.len--;   /* drop the NUL to append the name */
    if (!stralloc_cats(&path, "/") || !stralloc_cats(&path, sorted[i]) || !stralloc_0(&path))
      strerr_diefu1sys(CTL_TEMP, "allocate");
    run_file(path.s);
    n = db_exec(RECORD_SQL, params, 1, 0);
    if (n < 0) ctl_die_db(n, "record the migration");
    put("migration "); put(sorted[i]); put(": applied\n");
  }
  if (grants) ctl_grants();
  n = db_exec(UNLOCK_SQL, 0, 0, 0);
  if (n < 0) ctl_die_db(n, "release the init lock");
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(CTL_TEMP, "write to stdout");
  return 0;
}
