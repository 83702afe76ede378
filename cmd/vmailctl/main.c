/* vmailctl: the administrator's tool. Dispatches to one file per subcommand
 * group; every database change goes through the admin account. */
#include <string.h>
#include <skalibs/strerr.h>

#include "db.h"
#include "vmailctl.h"

#define USAGE "vmailctl init [--grants] | domain add|del|list ... | user add|del|list|passwd ... | alias add|del|list ... | query address | queue list|flush|delete ... | check | migrate [--rollback] | dovecot-uidlist dir..."

static struct { char const *name; int (*run)(int, char const *const *); } const groups[] =
{
  { "init", ctl_init },
  { "domain", ctl_domain },
  { "user", ctl_user },
  { "alias", ctl_alias },
  { "query", ctl_query },
  { "queue", ctl_queue },
  { "dovecot-uidlist", ctl_dovecot_uidlist },
  { "migrate", ctl_migrate },
  { "check", ctl_check },
};

void ctl_die_db(int status, char const *doing)
{
  strerr_dief3x(status == DB_REFUSED ? CTL_REFUSED : CTL_TEMP, doing, ": ", db_error());
}

int main(int argc, char const *const *argv)
{
  PROG = "vmailctl";
  ctl_envdir();
  db_role_admin();
  if (argc < 2) strerr_dieusage(CTL_USAGE, USAGE);
  for (size_t i = 0; i < sizeof groups / sizeof *groups; i++)
    if (!strcmp(argv[1], groups[i].name))
    {
      int r = groups[i].run(argc - 1, argv + 1);
      db_close();
      return r;
    }
  strerr_dieusage(CTL_USAGE, USAGE);
}
