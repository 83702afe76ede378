/* db.c: MariaDB connection, prepared-statement cache, retry on a lost link. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include <skalibs/djbunix.h>

#include "db.h"

#define DB_MAX_STATEMENTS 64    /* distinct SQL strings one process prepares */
#define DB_MAX_PARAMS     160   /* resolve_rows.c's large statement: 152 */
#define DB_MAX_COLUMNS    16
#define DB_FIELD_INITIAL  256   /* column buffer; longer values are refetched */
#define DB_PASSWORD_MAX   512

static MYSQL *conn;
static struct { char const *sql; MYSQL_STMT *stmt; } cache[DB_MAX_STATEMENTS];
static unsigned int ncache;
static char errbuf[512];
static enum { ROLE_SERVER, ROLE_AUTH, ROLE_ADMIN, ROLE_ROOT } role;

void db_role_admin(void) { role = ROLE_ADMIN; }
void db_role_root(void) { role = ROLE_ROOT; }
void db_role_auth(void) { role = ROLE_AUTH; }

static char const *env_or(char const *name, char const *dflt)
{
  char const *v = getenv(name);
  return v && *v ? v : dflt;
}

/* The role's variant of a variable when it has one and it is set. */
static char const *role_env(char const *name, char const *auth_name, char const *admin_name)
{
  char const *v = role == ROLE_ADMIN ? getenv(admin_name) : role == ROLE_AUTH ? getenv(auth_name) : 0;
  if (role == ROLE_ROOT)   /* never the ordinary account's settings */
    return !strcmp(name, "VMAIL_DB_USER") ? env_or("VMAIL_DB_ROOT_USER", "root") : getenv("VMAIL_DB_ROOT_PASSWORD_FILE");
  return v && *v ? v : getenv(name);
}

char const *db_error(void) { return errbuf; }

static void seterr(char const *what, char const *why)
{
  size_t n = strlen(what);
  if (n > sizeof errbuf - 3) n = sizeof errbuf - 3;
  memcpy(errbuf, what, n);
  errbuf[n++] = ':'; errbuf[n++] = ' ';
  strncpy(errbuf + n, why, sizeof errbuf - n - 1);
  errbuf[sizeof errbuf - 1] = 0;
}

static int read_password(stralloc *pw)
{
  char const *file = role_env("VMAIL_DB_PASSWORD_FILE", "VMAIL_DB_AUTH_PASSWORD_FILE", "VMAIL_DB_ADMIN_PASSWORD_FILE");
  if (!file || !*file) return 0;
  if (!openreadfileclose(file, pw, DB_PASSWORD_MAX))
  {
    seterr(file, strerror(errno));   /* e.g. "/etc/vmail/db.pw: Permission denied" */
    return DB_TEMP;
  }
  while (pw->len && (pw->s[pw->len-1] == '\n' || pw->s[pw->len-1] == '\r')) pw->len--;
  return stralloc_0(pw) ? 0 : DB_TEMP;
}

void db_close(void)
{
  for (unsigned int i = 0; i < ncache; i++) mysql_stmt_close(cache[i].stmt);
  ncache = 0;
  if (conn) mysql_close(conn);
  conn = 0;
}

int db_open(void)
{
  stralloc pw = STRALLOC_ZERO;
  unsigned int timeout = 5, port = 0;
  char const *host = getenv("VMAIL_DB_HOST");
  char const *sock = getenv("VMAIL_DB_SOCKET");
  char const *user = role_env("VMAIL_DB_USER", "VMAIL_DB_AUTH_USER", "VMAIL_DB_ADMIN_USER");
  if (conn) return 0;
  if (!user || !*user) user = "mailuser";
  if (getenv("VMAIL_DB_TIMEOUT") && !uint0_scan(getenv("VMAIL_DB_TIMEOUT"), &timeout))
    timeout = 5;
  if (getenv("VMAIL_DB_PORT")) uint0_scan(getenv("VMAIL_DB_PORT"), &port);
  if (read_password(&pw) < 0) return DB_TEMP;
  conn = mysql_init(0);
  if (!conn) { seterr("mysql_init", "out of memory"); stralloc_free(&pw); return DB_TEMP; }
  mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!host || !*host) { host = "localhost"; if (!sock || !*sock) sock = "/run/mysqld/mysqld.sock"; }
  else sock = 0;
  if (!mysql_real_connect(conn, host, user,
                          pw.len ? pw.s : 0, role == ROLE_ROOT ? 0 : env_or("VMAIL_DB_NAME", "mailserver"),
                          port, sock, 0))
  {
    seterr("unable to connect to MariaDB", mysql_error(conn));
    mysql_close(conn); conn = 0;
    stralloc_free(&pw);
    return DB_TEMP;
  }
  stralloc_free(&pw);
  return 0;
}

static MYSQL_STMT *prepare(char const *sql)
{
  MYSQL_STMT *st;
  for (unsigned int i = 0; i < ncache; i++) if (cache[i].sql == sql) return cache[i].stmt;
  st = mysql_stmt_init(conn);
  if (!st) { seterr("mysql_stmt_init", mysql_error(conn)); return 0; }
  if (mysql_stmt_prepare(st, sql, strlen(sql)))
  {
    seterr("unable to prepare statement", mysql_stmt_error(st));
    mysql_stmt_close(st);
    return 0;
  }
  if (ncache < DB_MAX_STATEMENTS) { cache[ncache].sql = sql; cache[ncache++].stmt = st; }
  return st;
}

static int is_lost(unsigned int e)
{
  return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == ER_CONNECTION_KILLED
      || e == CR_CONNECTION_ERROR;
}

static int classify(unsigned int e)
{
  switch (e)
  {
    case ER_DUP_ENTRY: case ER_NO_REFERENCED_ROW: case ER_NO_REFERENCED_ROW_2:
    case ER_ROW_IS_REFERENCED: case ER_ROW_IS_REFERENCED_2: case ER_DATA_TOO_LONG:
    case ER_BAD_NULL_ERROR: case ER_TABLEACCESS_DENIED_ERROR: case ER_TABLE_EXISTS_ERROR:
    /* a value the column's character set cannot hold (an emoji in the
       tutorial's 3-byte utf8 tables): it can be neither stored nor found */
    case ER_CANT_AGGREGATE_2COLLATIONS: case ER_CANT_AGGREGATE_3COLLATIONS:
    case ER_CANT_AGGREGATE_NCOLLATIONS: case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
      return DB_REFUSED;
    default: return DB_TEMP;
  }
}

/* Fetches every row into rows; returns the row count or DB_TEMP. */
static int fetch_rows(MYSQL_STMT *st, stralloc *rows, unsigned int ncols)
{
  MYSQL_BIND res[DB_MAX_COLUMNS];
  char buf[DB_MAX_COLUMNS][DB_FIELD_INITIAL];
  unsigned long len[DB_MAX_COLUMNS];
  my_bool isnull[DB_MAX_COLUMNS], trunc[DB_MAX_COLUMNS];
  int n = 0, r;
  if (ncols > DB_MAX_COLUMNS) { seterr("query", "too many columns"); return DB_TEMP; }
  memset(res, 0, sizeof res);
  for (unsigned int i = 0; i < ncols; i++)
  {
    res[i].buffer_type = MYSQL_TYPE_STRING;
    res[i].buffer = buf[i];
    res[i].buffer_length = DB_FIELD_INITIAL;
    res[i].length = &len[i];
    res[i].is_null = &isnull[i];
    res[i].error = &trunc[i];
  }
  if (mysql_stmt_bind_result(st, res)) { seterr("bind result", mysql_stmt_error(st)); return DB_TEMP; }
  while ((r = mysql_stmt_fetch(st)) == 0 || r == MYSQL_DATA_TRUNCATED)
  {
    n++;
    if (!rows) continue;
    for (unsigned int i = 0; i < ncols; i++)
    {
      if (isnull[i]) { if (!stralloc_0(rows)) goto nomem; continue; }
      if (len[i] < DB_FIELD_INITIAL)
      {
        if (!stralloc_catb(rows, buf[i], len[i])) goto nomem;
      }
      else
      {
        MYSQL_BIND one;
        size_t base = rows->len;
        if (!stralloc_readyplus(rows, len[i] + 1)) goto nomem;
        memset(&one, 0, sizeof one);
        one.buffer_type = MYSQL_TYPE_STRING;
        one.buffer = rows->s + base;
        one.buffer_length = len[i];
        if (mysql_stmt_fetch_column(st, &one, i, 0)) { seterr("fetch column", mysql_stmt_error(st)); return DB_TEMP; }
        rows->len += len[i];
      }
      if (!stralloc_0(rows)) goto nomem;
    }
  }
  if (r != MYSQL_NO_DATA) { seterr("fetch", mysql_stmt_error(st)); return DB_TEMP; }
  return n;
 nomem:
  seterr("fetch", "out of memory");
  return DB_TEMP;
}

static int exec_once(char const *sql, char const *const *params, unsigned int nparams, stralloc *rows, unsigned int *err)
{
  MYSQL_BIND bind[DB_MAX_PARAMS];
  unsigned long lens[DB_MAX_PARAMS];
  my_bool nulls[DB_MAX_PARAMS];
  MYSQL_STMT *st;
  MYSQL_RES *meta;
  int n;
  *err = 0;
  if (db_open() < 0) return DB_TEMP;
  st = prepare(sql);
  if (!st) { *err = mysql_errno(conn); return *err ? classify(*err) : DB_TEMP; }
  if (nparams > DB_MAX_PARAMS || nparams != mysql_stmt_param_count(st))
  { seterr("query", "wrong parameter count"); return DB_TEMP; }
  memset(bind, 0, sizeof bind);
  for (unsigned int i = 0; i < nparams; i++)
  {
    nulls[i] = !params[i];
    lens[i] = params[i] ? strlen(params[i]) : 0;
    bind[i].buffer_type = MYSQL_TYPE_STRING;
    bind[i].buffer = (char *)(params[i] ? params[i] : "");
    bind[i].buffer_length = lens[i];
    bind[i].length = &lens[i];
    bind[i].is_null = &nulls[i];
  }
  if ((nparams && mysql_stmt_bind_param(st, bind)) || mysql_stmt_execute(st))
  {
    *err = mysql_stmt_errno(st);
    seterr("query failed", mysql_stmt_error(st));
    return classify(*err);
  }
  meta = mysql_stmt_result_metadata(st);
  if (!meta) return (int)mysql_stmt_affected_rows(st);
  n = fetch_rows(st, rows, mysql_num_fields(meta));
  mysql_free_result(meta);
  mysql_stmt_free_result(st);
  if (n < 0) *err = mysql_stmt_errno(st);
  return n;
}

/* Is a transaction open? Its earlier statements die with the connection, so
 * a statement of it must not be retried alone on a new one (autocommit). */
static int in_transaction(void)
{
  unsigned int status = 0;
  if (!conn || mariadb_get_infov(conn, MARIADB_CONNECTION_SERVER_STATUS, &status)) return 0;
  return (status & SERVER_STATUS_IN_TRANS) != 0;
}

int db_exec(char const *sql, char const *const *params, unsigned int nparams, stralloc *rows)
{
  size_t mark = rows ? rows->len : 0;
  unsigned int err;
  int trans = in_transaction();
  int r = exec_once(sql, params, nparams, rows, &err);
  if (r >= 0 || !is_lost(err)) return r;
  if (rows) rows->len = mark;
  db_close();
  if (trans) return DB_TEMP;
  return exec_once(sql, params, nparams, rows, &err);
}

int db_quote(stralloc *out, char const *s)
{
  size_t len = strlen(s);
  if (db_open() < 0) return DB_TEMP;
  if (!stralloc_readyplus(out, 2 * len + 3)) { seterr("db_quote", "out of memory"); return DB_TEMP; }
  out->s[out->len++] = '\'';
  out->len += mysql_real_escape_string(conn, out->s + out->len, s, len);
  out->s[out->len++] = '\'';
  return 0;
}

char const *db_field(stralloc const *s, size_t *pos)
{
  char const *f;
  if (*pos >= s->len) return 0;
  f = s->s + *pos;
  *pos += strlen(f) + 1;
  return f;
}

int db_exec_script(char const *text)
{
  size_t len = strlen(text);
  int status, r = 0;
  if (db_open() < 0) return DB_TEMP;
  if (mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_ON))
  {
    seterr("unable to allow multiple statements", mysql_error(conn));
    return DB_TEMP;
  }
  status = mysql_real_query(conn, text, len);
  /* one result per statement; a statement is at least one byte of text */
  for (size_t i = 0; i <= len; i++)
  {
    MYSQL_RES *res;
    if (status > 0)
    {
      unsigned int e = mysql_errno(conn);
      seterr("script failed", mysql_error(conn));
      r = classify(e);
      break;
    }
    res = mysql_store_result(conn);
    if (res) mysql_free_result(res);
    status = mysql_next_result(conn);
    if (status < 0) break;
  }
  if (r == DB_TEMP && is_lost(mysql_errno(conn))) { db_close(); return r; }
  mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
  return r;
}
