/* query.c: vmailctl query ADDRESS, the administrator's `postmap -q`: the
 * lookups the resolver makes, in its order, up to the first that matches,
 * then where mail for the address really ends up (resolve_address). */
#include <stdlib.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "addr.h"
#include "db.h"
#include "resolve.h"
#include "vmailctl.h"

#define USAGE "vmailctl query address"

static char const USER_SQL[] = "SELECT email FROM virtual_users WHERE email = ?";
static char const ALIAS_SQL[] = "SELECT destination FROM virtual_aliases WHERE source = ? ORDER BY id";

static void put(char const *s)
{
  if (buffer_puts(buffer_1, s) < 0) strerr_diefu1sys(CTL_TEMP, "write to stdout");
}

static void flush(void)
{
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(CTL_TEMP, "write to stdout");
}

/* Prints the alias rows of source; 1 if there are any. */
static int show_alias(char const *source)
{
  stralloc rows = STRALLOC_ZERO;
  char const *params[1] = { source }, *dst;
  size_t pos = 0;
  int n = db_exec(ALIAS_SQL, params, 1, &rows);
  if (n < 0) { flush(); ctl_die_db(n, "look up alias"); }
  if (!n) { put("alias "); put(source); put(": no\n"); }
  while ((dst = db_field(&rows, &pos))) { put("alias "); put(source); put(" -> "); put(dst); put("\n"); }
  stralloc_free(&rows);
  return n > 0;
}

/* Prints whether address is a user; 1 if it is. */
static int show_user(char const *address)
{
  stralloc rows = STRALLOC_ZERO;
  char const *params[1] = { address };
  size_t pos = 0;
  int n = db_exec(USER_SQL, params, 1, &rows);
  if (n < 0) { flush(); ctl_die_db(n, "look up user"); }
  put("user "); put(address);
  if (n) { char const *stored = db_field(&rows, &pos); put(": yes"); if (strcmp(stored, address)) { put(" (stored as "); put(stored); put(")"); } }
  else put(": no");
  put("\n");
  stralloc_free(&rows);
  return n > 0;
}

static void show_delivery(char const *address)
{
  stralloc out = STRALLOC_ZERO, why = STRALLOC_ZERO;
  int r = resolve_address(address, &out, &why);
  if (r != RESOLVE_OK)
  {
    flush();
    strerr_dief2x(resolve_exitcode(r), "not deliverable: ", why.s);
  }
  for (size_t i = 0; i < out.len; )
  {
    char const *nl = memchr(out.s + i, '\n', out.len - i);
    size_t n = nl ? (size_t)(nl - (out.s + i)) + 1 : out.len - i;
    put("delivers to: ");
    if (buffer_put(buffer_1, out.s + i, n) < 0) strerr_diefu1sys(CTL_TEMP, "write to stdout");
    i += n;
  }
  stralloc_free(&out); stralloc_free(&why);
}

int ctl_query(int argc, char const *const *argv)
{
  stralloc address = STRALLOC_ZERO, id = STRALLOC_ZERO, stripped = STRALLOC_ZERO, catchall = STRALLOC_ZERO;
  char const *domain, *delims = getenv("VMAIL_RECIPIENT_DELIMITER");
  int found, extension;
  if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) strerr_dieusage(CTL_USAGE, USAGE);
  if (!addr_parse(argv[1], strlen(argv[1]), &address)) strerr_dief2x(CTL_REFUSED, "invalid address: ", argv[1]);
  domain = address.s + addr_at(address.s) + 1;

  if (!ctl_domain_id(domain, &id))
  {
    put("domain "); put(domain); put(": not ours\n");
    flush();
    strerr_dief2x(CTL_REFUSED, "not deliverable: domain is not ours: ", domain);
  }
  put("domain "); put(domain); put(": ours (id "); put(id.s); put(")\n");

  /* the resolver's order: alias, user, both without +extension, catch-all */
  extension = addr_strip_extension(address.s, delims ? delims : "+", &stripped);
  if (!stralloc_catb(&catchall, "@", 1) || !stralloc_cats(&catchall, domain) || !stralloc_0(&catchall))
    strerr_diefu1sys(CTL_TEMP, "allocate");
  found = show_alias(address.s) || show_user(address.s);
  if (!found && extension) found = show_alias(stripped.s) || show_user(stripped.s);
  if (!found) show_alias(catchall.s);

  show_delivery(address.s);
  flush();
  return 0;
}
