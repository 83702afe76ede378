/* db: the one MariaDB connection of a vmail process.
 *
 * Configured from the environment (see vmail(7) / README):
 *   VMAIL_DB_SOCKET, or VMAIL_DB_HOST and VMAIL_DB_PORT   where the server is
 *                        (default socket /run/mysqld/mysqld.sock)
 *   VMAIL_DB_NAME        database (default mailserver)
 *   VMAIL_DB_USER        account (default mailuser)
 *   VMAIL_DB_PASSWORD_FILE  file whose first line is the password (default: none)
 *   VMAIL_DB_TIMEOUT     connect/read/write timeout in seconds (default 5)
 *
 * Every statement is prepared and cached; parameters are always bound, never
 * pasted into SQL. Return convention for every function here:
 *   >= 0  success (a row count where stated)
 *   DB_TEMP    temporary failure (server down, timeout): the caller exits 111
 *   DB_REFUSED the server refused the change (duplicate key, foreign key)
 *              or a value (a character its column cannot hold): a
 *              permanent answer to this request
 * db_error() then says why in one line. A lost connection ("server has gone
 * away") is reopened and the statement retried once before DB_TEMP, except
 * inside a transaction, which the lost connection took with it: DB_TEMP. */
#ifndef VMAIL_DB_H
#define VMAIL_DB_H

#include <skalibs/stralloc.h>

#define DB_TEMP    (-1)
#define DB_REFUSED (-2)

/* Makes the next connection use the admin account: VMAIL_DB_ADMIN_USER and
 * VMAIL_DB_ADMIN_PASSWORD_FILE when set, else the ordinary ones. vmailctl
 * calls this; servers never do, so they hold only SELECT rights. */
void db_role_admin(void);

/* Likewise VMAIL_DB_AUTH_USER and VMAIL_DB_AUTH_PASSWORD_FILE, for the one
 * program that reads password hashes (vmail-checkpw): the ordinary account
 * can then be one that cannot (sql/grants.sql, vmaillookup). */
void db_role_auth(void);

/* Likewise the MariaDB administrator, for vmailctl init --grants only:
 * VMAIL_DB_ROOT_USER (default root, by the unix socket as Debian's root)
 * and VMAIL_DB_ROOT_PASSWORD_FILE (default none), and no database selected. */
void db_role_root(void);

/* Connects if not connected. 0 or DB_TEMP. Called implicitly by db_exec. */
int db_open(void);
void db_close(void);
char const *db_error(void);

/* Runs sql (a string constant: its address keys the statement cache) with
 * nparams string parameters (NULL binds SQL NULL). For a query, appends every
 * column of every row to rows as a NUL-terminated string (NULL columns as
 * empty strings) and returns the number of rows; otherwise returns the number
 * of affected rows. rows may be 0 when no result is wanted. */
int db_exec(char const *sql, char const *const *params, unsigned int nparams, stralloc *rows);

/* Runs text, several ';'-separated SQL statements (a file of sql/, never
 * input), statement by statement until the first failure, which is reported
 * like db_exec's (DB_TEMP or DB_REFUSED, db_error() names it). 0 when all ran.
 * The only SQL that is not prepared: it takes no parameters. */
int db_exec_script(char const *text);

/* Appends s to out as a quoted SQL string literal, escaped for the open
 * connection's character set (connecting if needed), for the statements
 * that take no parameters (CREATE USER ... IDENTIFIED BY). 0 or DB_TEMP. */
int db_quote(stralloc *out, char const *s);

/* Returns the i-th NUL-terminated string of s starting at offset *pos and
 * advances *pos past it; 0 when s is exhausted. For walking db_exec rows. */
char const *db_field(stralloc const *s, size_t *pos);

#endif
