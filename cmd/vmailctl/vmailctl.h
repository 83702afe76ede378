/* vmailctl's subcommands, one file each. Each returns the process exit code:
 * 0 done, 1 usage, 100 refused, 111 temporary. argv[0] is the subcommand.
 * Refusals and database failures may also end the process at once through
 * ctl_die_db() or strerr_dief*, with the same codes. */
#ifndef VMAILCTL_H
#define VMAILCTL_H

#include <skalibs/stralloc.h>

#define CTL_USAGE 1          /* wrong number of arguments, unknown verb */
#define CTL_REFUSED 100      /* a bad value, or the database said no */
#define CTL_TEMP 111         /* try again later */

/* Column widths of the tutorial schema (sql/schema.sql): longer values are
 * refused here with a clear message instead of by the server. */
#define CTL_DOMAIN_COLUMN_MAX 50     /* virtual_domains.name varchar(50) */
#define CTL_EMAIL_COLUMN_MAX  100    /* virtual_users.email, virtual_aliases.* varchar(100) */

#define CTL_ARGS_MAX 1000    /* positional arguments one command takes (alias fan-out) */
#define CTL_SCHEME_DEFAULT "sha512"   /* new passwords without --scheme or VMAIL_PASSWORD_SCHEME */
#define CTL_ENVDIR_DEFAULT "/etc/vmail/env"   /* read when it exists and VMAIL_ENVDIR is unset */

int ctl_init(int argc, char const *const *argv);     /* init.c */
int ctl_domain(int argc, char const *const *argv);   /* domain.c */
int ctl_user(int argc, char const *const *argv);     /* user.c */
int ctl_alias(int argc, char const *const *argv);    /* alias.c */
int ctl_query(int argc, char const *const *argv);    /* query.c */
int ctl_queue(int argc, char const *const *argv);    /* queue.c */
int ctl_dovecot_uidlist(int argc, char const *const *argv);   /* dovecot.c */
int ctl_migrate(int argc, char const *const *argv);  /* script.c */
int ctl_check(int argc, char const *const *argv);    /* script.c */
int ctl_grants(void);                                /* grants.c: init --grants */
/* grants.c: VMAIL_DB_NAME (default mailserver), dies 100 unless it is
 * letters, digits and _ (it is written into SQL between backquotes). */
char const *ctl_grants_dbname(void);

/* args.c: the words after the verb (argv[2] on). Collects positionals into
 * pos (at most CTL_ARGS_MAX), and "--scheme X" / "--scheme=X" into *scheme
 * when scheme is not 0. "--" ends options. 1 ok; 0 on an unknown option or
 * too many arguments (a usage error). */
struct ctl_args { char const *pos[CTL_ARGS_MAX]; unsigned int n; };
int ctl_args(int argc, char const *const *argv, struct ctl_args *a, char const **scheme);

/* args.c: checks an address argument and writes it to out lowercased
 * (whole: vmail matches addresses without regard to case); dies 100 with a
 * message naming the argument if it is not a valid, storable address. */
void ctl_address(char const *arg, stralloc *out);

/* args.c: the same for a domain argument. */
void ctl_domain_name(char const *arg, stralloc *out);

/* domain.c: the id (decimal string) of domain name into id; 1 found, 0 not.
 * Dies 111 on a database failure. */
int ctl_domain_id(char const *name, stralloc *id);

/* envdir.c: sets, from the s6 envdir VMAIL_ENVDIR (else CTL_ENVDIR_DEFAULT
 * when it exists; VMAIL_ENVDIR set and empty: none), every variable the
 * environment does not already have: a file NAME's first line (trailing
 * spaces and tabs dropped, NULs as newlines), as s6-envdir reads it; an
 * empty file sets nothing. Dies 111 if a named directory cannot be read. */
void ctl_envdir(void);

/* main.c: dies with db_error() and 111 (DB_TEMP) or 100 (DB_REFUSED),
 * prefixed with what was being done. */
void ctl_die_db(int status, char const *doing);

/* password_input.c: a new password into pw (NUL-terminated): from_stdin, the
 * first line of stdin; else asked twice on the terminal with echo off. Dies
 * 100 on an empty, too long or mismatched password, or without a terminal. */
void ctl_password_input(int from_stdin, stralloc *pw);

#endif
