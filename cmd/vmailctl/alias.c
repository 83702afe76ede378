/* alias.c: vmailctl alias add|del|list. One row per (source, destination),
 * as the tutorial stores them; a source "@domain" is the domain's catch-all.
 * Sources are stored lowercased; destinations keep their local part's case
 * (it may be a remote mailbox that cares) with the domain lowercased. */
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "addr.h"
#include "db.h"
#include "resolve.h"
#include "vmailctl.h"

#define USAGE "vmailctl alias add source destination... | alias del source [destination...] | alias list [domain]"

static char const FIND_SQL[] = "SELECT id FROM virtual_aliases WHERE source = ? AND destination = ?";
static char const ADD_SQL[] = "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (?, ?, ?)";
static char const DEL_ALL_SQL[] = "DELETE FROM virtual_aliases WHERE source = ?";
static char const DEL_ONE_SQL[] = "DELETE FROM virtual_aliases WHERE source = ? AND destination = ?";
static char const LIST_SQL[] = "SELECT source, destination FROM virtual_aliases ORDER BY source, id";
static char const LIST_DOMAIN_SQL[] =
  "SELECT source, destination FROM virtual_aliases WHERE domain_id = ? ORDER BY source, id";
static char const BEGIN_SQL[] = "START TRANSACTION";
static char const COMMIT_SQL[] = "COMMIT";

static void put(char const *s)
{
  if (buffer_puts(buffer_1, s) < 0) strerr_diefu1sys(CTL_TEMP, "write to stdout");
}

/* "@domain" (arg starts with '@'), checked, lowercased, into out. */
static void at_domain_arg(char const *arg, stralloc *out)
{
  stralloc domain = STRALLOC_ZERO;
  ctl_domain_name(arg + 1, &domain);
  out->len = 0;
  if (!stralloc_catb(out, "@", 1) || !stralloc_cats(out, domain.s) || !stralloc_0(out))
    strerr_diefu1sys(CTL_TEMP, "allocate");
  stralloc_free(&domain);
}

/* SOURCE is an address or "@domain"; writes it lowercased to out and
 * returns the offset of its domain. */
static size_t source_arg(char const *arg, stralloc *out)
{
  if (arg[0] == '@') { at_domain_arg(arg, out); return 1; }
  ctl_address(arg, out);
  return addr_at(out->s) + 1;
}

/* A destination: any valid address, ours or remote, or "@domain" (the same
 * local part in that domain: a domain alias, with a catch-all source). */
static void destination_arg(char const *arg, stralloc *out)
{
  if (arg[0] == '@') { at_domain_arg(arg, out); return; }
  if (!addr_parse(arg, strlen(arg), out)) strerr_dief2x(CTL_REFUSED, "invalid destination address: ", arg);
  if (out->len - 1 > CTL_EMAIL_COLUMN_MAX) strerr_dief2x(CTL_REFUSED, "destination too long for the database (100 bytes): ", arg);
}

static int add(struct ctl_args const *a)
{
  stralloc source = STRALLOC_ZERO, id = STRALLOC_ZERO, dests = STRALLOC_ZERO, one = STRALLOC_ZERO;
  stralloc out = STRALLOC_ZERO, why = STRALLOC_ZERO;
  char const *params[3];
  size_t at, pos;
  int n;
  if (a->n < 2) strerr_dieusage(CTL_USAGE, USAGE);
  at = source_arg(a->pos[0], &source);
  if (!ctl_domain_id(source.s + at, &id))
    strerr_dief3x(CTL_REFUSED, "domain is not ours: ", source.s + at, " (add it first: vmailctl domain add)");

  /* check every destination before changing anything */
  for (unsigned int i = 1; i < a->n; i++)
  {
    int dup = 0;
    destination_arg(a->pos[i], &one);
    pos = 0;
    for (char const *d; (d = db_field(&dests, &pos)); ) if (!strcmp(d, one.s)) { dup = 1; break; }
    if (dup) continue;   /* named twice: one row */
    params[0] = source.s; params[1] = one.s;
    n = db_exec(FIND_SQL, params, 2, 0);
    if (n < 0) ctl_die_db(n, "look up alias");
    if (n) strerr_dief4x(CTL_REFUSED, "alias already exists: ", source.s, " -> ", one.s);
    if (!stralloc_catb(&dests, one.s, one.len)) strerr_diefu1sys(CTL_TEMP, "allocate");
  }

  if ((n = db_exec(BEGIN_SQL, 0, 0, 0)) < 0) ctl_die_db(n, "start transaction");
  pos = 0;
  for (char const *d; (d = db_field(&dests, &pos)); )
  {
    params[0] = id.s; params[1] = source.s; params[2] = d;
    if ((n = db_exec(ADD_SQL, params, 3, 0)) < 0) ctl_die_db(n, "add alias");
  }
  if ((n = db_exec(COMMIT_SQL, 0, 0, 0)) < 0) ctl_die_db(n, "commit");
  pos = 0;
  for (char const *d; (d = db_field(&dests, &pos)); )
  { put("added alias "); put(source.s); put(" -> "); put(d); put("\n"); }

  /* an alias can close a loop; say so now rather than at the first message */
  if (source.s[0] != '@' && resolve_address(source.s, &out, &why) == RESOLVE_LOOP)
    strerr_warnw2x("mail for this address cannot be delivered: ", why.s);
  return 0;
}

static int del(struct ctl_args const *a)
{
  stralloc source = STRALLOC_ZERO, one = STRALLOC_ZERO;
  char const *params[2];
  char buf[UINT_FMT];
  int n, total = 0;
  if (!a->n) strerr_dieusage(CTL_USAGE, USAGE);
  source_arg(a->pos[0], &source);
  params[0] = source.s;
  if (a->n == 1)
  {
    n = db_exec(DEL_ALL_SQL, params, 1, 0);
    if (n < 0) ctl_die_db(n, "delete alias");
    total = n;
  }
  else
  {
    if ((n = db_exec(BEGIN_SQL, 0, 0, 0)) < 0) ctl_die_db(n, "start transaction");
    for (unsigned int i = 1; i < a->n; i++)
    {
      destination_arg(a->pos[i], &one);
      params[1] = one.s;
      n = db_exec(DEL_ONE_SQL, params, 2, 0);
      if (n < 0) ctl_die_db(n, "delete alias");
      /* leaving without COMMIT rolls the others back */
      if (!n) strerr_dief4x(CTL_REFUSED, "no such alias: ", source.s, " -> ", one.s);
      total += n;
    }
    if ((n = db_exec(COMMIT_SQL, 0, 0, 0)) < 0) ctl_die_db(n, "commit");
  }
  if (!total) strerr_dief2x(CTL_REFUSED, "no such alias: ", source.s);
  buf[uint_fmt(buf, (unsigned int)total)] = 0;
  put("deleted "); put(buf); put(total == 1 ? " alias row of " : " alias rows of "); put(source.s); put("\n");
  return 0;
}

static int list(struct ctl_args const *a)
{
  stralloc rows = STRALLOC_ZERO, name = STRALLOC_ZERO, id = STRALLOC_ZERO;
  char const *params[1], *src, *dst;
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
  if (n < 0) ctl_die_db(n, "list aliases");
  while ((src = db_field(&rows, &pos)) && (dst = db_field(&rows, &pos)))
  { put(src); put(" "); put(dst); put("\n"); }
  return 0;
}

int ctl_alias(int argc, char const *const *argv)
{
  struct ctl_args a;
  char const *verb = argc > 1 ? argv[1] : "";
  int r;
  if (!ctl_args(argc, argv, &a, 0)) strerr_dieusage(CTL_USAGE, USAGE);
  if (!strcmp(verb, "add")) r = add(&a);
  else if (!strcmp(verb, "del")) r = del(&a);
  else if (!strcmp(verb, "list")) r = list(&a);
  else strerr_dieusage(CTL_USAGE, USAGE);
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(CTL_TEMP, "write to stdout");
  return r;
}
