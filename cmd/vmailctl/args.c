/* args.c: the words after a verb, and the checks every address or domain
 * argument passes before it reaches the database. */
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "addr.h"
#include "resolve.h"
#include "vmailctl.h"

int ctl_args(int argc, char const *const *argv, struct ctl_args *a, char const **scheme)
{
  int options = 1;
  a->n = 0;
  for (int i = 2; i < argc; i++)
  {
    char const *w = argv[i];
    if (options && !strcmp(w, "--")) { options = 0; continue; }
    if (options && scheme && !strncmp(w, "--scheme", 8) && (w[8] == '=' || !w[8]))
    {
      if (w[8]) *scheme = w + 9;
      else if (++i < argc) *scheme = argv[i];
      else return 0;
      continue;
    }
    /* "-" alone is an argument (stdin); any other dash word is an option */
    if (options && w[0] == '-' && w[1]) return 0;
    if (a->n >= CTL_ARGS_MAX) return 0;
    a->pos[a->n++] = w;
  }
  return 1;
}

void ctl_address(char const *arg, stralloc *out)
{
  stralloc path = STRALLOC_ZERO;
  if (!addr_parse(arg, strlen(arg), out)) strerr_dief2x(CTL_REFUSED, "invalid address: ", arg);
  addr_lower(out->s);
  if (out->len - 1 > CTL_EMAIL_COLUMN_MAX) strerr_dief2x(CTL_REFUSED, "address too long for the database (100 bytes): ", arg);
  /* it becomes a Maildir path: no '/', no leading dot in either part */
  if (!resolve_maildir(out->s, &path)) strerr_dief2x(CTL_REFUSED, "unsafe mailbox name (a '/' or a leading '.'): ", arg);
  stralloc_free(&path);
}

void ctl_domain_name(char const *arg, stralloc *out)
{
  size_t len = strlen(arg);
  if (!addr_domain_ok(arg, len)) strerr_dief2x(CTL_REFUSED, "invalid domain: ", arg);
  if (len > CTL_DOMAIN_COLUMN_MAX) strerr_dief2x(CTL_REFUSED, "domain too long for the database (50 bytes): ", arg);
  out->len = 0;
  if (!stralloc_catb(out, arg, len) || !stralloc_0(out)) strerr_diefu1sys(CTL_TEMP, "allocate");
  addr_lower(out->s);
}
