/* domain.c: vmailctl domain add|del|list. Names are stored lowercased and
 * matched without regard to case (the column's collation), as the resolver
 * matches them. Deleting a domain deletes its users and aliases. */
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "db.h"
#include "vmailctl.h"

#define USAGE "vmailctl domain add domain | domain del domain | domain list"

static char const ID_SQL[] = "SELECT id FROM virtual_domains WHERE name = ? ORDER BY id LIMIT 1";
static char const ADD_SQL[] = "INSERT INTO virtual_domains (name) VALUES (?)";
static char const LIST_SQL[] = "SELECT name FROM virtual_domains ORDER BY name";
static char const BEGIN_SQL[] = "START TRANSACTION";
static char const COMMIT_SQL[] = "COMMIT";
static char const DEL_ALIASES_SQL[] = "DELETE FROM virtual_aliases WHERE domain_id = ?";
static char const DEL_USERS_SQL[] = "DELETE FROM virtual_users WHERE domain_id = ?";
static char const DEL_SQL[] = "DELETE FROM virtual_domains WHERE id = ?";

int ctl_domain_id(char const *name, stralloc *id)
{
  char const *params[1] = { name };
  int n;
  id->len = 0;
  n = db_exec(ID_SQL, params, 1, id);
  if (n < 0) ctl_die_db(n, "look up domain");
  return n > 0;
}

static void put(char const *s)
{
  if (buffer_puts(buffer_1, s) < 0) strerr_diefu1sys(CTL_TEMP, "write to stdout");
}

static int add(char const *arg)
{
  stralloc name = STRALLOC_ZERO, id = STRALLOC_ZERO;
  char const *params[1];
  int n;
  ctl_domain_name(arg, &name);
  /* the tutorial's schema has no unique index on the name: look first */
  if (ctl_domain_id(name.s, &id)) strerr_dief2x(CTL_REFUSED, "domain already exists: ", name.s);
  params[0] = name.s;
  n = db_exec(ADD_SQL, params, 1, 0);
  if (n < 0) ctl_die_db(n, "add domain");
  put("added domain "); put(name.s); put("\n");
  return 0;
}

static int del(char const *arg)
{
  stralloc name = STRALLOC_ZERO, id = STRALLOC_ZERO;
  char const *params[1];
  char users[UINT_FMT], aliases[UINT_FMT];
  int n;
  ctl_domain_name(arg, &name);
  if (!ctl_domain_id(name.s, &id)) strerr_dief2x(CTL_REFUSED, "no such domain: ", name.s);
  params[0] = id.s;
  /* The tutorial's foreign keys (ON DELETE CASCADE) would take the users and
   * aliases along; deleting them first, in one transaction, gives the counts
   * and works on a table without the keys too. Dying before COMMIT rolls
   * everything back. */
  if ((n = db_exec(BEGIN_SQL, 0, 0, 0)) < 0) ctl_die_db(n, "start transaction");
  if ((n = db_exec(DEL_ALIASES_SQL, params, 1, 0)) < 0) ctl_die_db(n, "delete the domain's aliases");
  aliases[uint_fmt(aliases, (unsigned int)n)] = 0;
  if ((n = db_exec(DEL_USERS_SQL, params, 1, 0)) < 0) ctl_die_db(n, "delete the domain's users");
  users[uint_fmt(users, (unsigned int)n)] = 0;
  if ((n = db_exec(DEL_SQL, params, 1, 0)) < 0) ctl_die_db(n, "delete domain");
  if ((n = db_exec(COMMIT_SQL, 0, 0, 0)) < 0) ctl_die_db(n, "commit");
  put("deleted domain "); put(name.s);
  put(" with "); put(users); put(" users and ");
  put(aliases); put(" aliases (Maildirs are left in place)\n");
  return 0;
}

static int list(void)
{
  stralloc rows = STRALLOC_ZERO;
  size_t pos = 0;
  char const *name;
  int n = db_exec(LIST_SQL, 0, 0, &rows);
  if (n < 0) ctl_die_db(n, "list domains");
  while ((name = db_field(&rows, &pos))) { put(name); put("\n"); }
  return 0;
}

int ctl_domain(int argc, char const *const *argv)
{
  struct ctl_args a;
  int r;
  if (argc < 2 || !ctl_args(argc, argv, &a, 0)) strerr_dieusage(CTL_USAGE, USAGE);
  if (!strcmp(argv[1], "add") && a.n == 1) r = add(a.pos[0]);
  else if (!strcmp(argv[1], "del") && a.n == 1) r = del(a.pos[0]);
  else if (!strcmp(argv[1], "list") && !a.n) r = list();
  else strerr_dieusage(CTL_USAGE, USAGE);
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(CTL_TEMP, "write to stdout");
  return r;
}
