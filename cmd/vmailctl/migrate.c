/* migrate.c: vmailctl migrate [--rollback] runs SHARE_DIR/migrate, the
 * script that moves a server from Postfix + Dovecot to vmail and back
 * (dist/migrate), with the envdir's settings already in its environment. */
#include <unistd.h>
#include <skalibs/strerr.h>

#include "vmailctl.h"

#ifndef SHARE_DIR_DEFAULT
#define SHARE_DIR_DEFAULT "/usr/local/share/vmail"   /* the Makefile sets it from PREFIX */
#endif

int ctl_migrate(int argc, char const *const *argv)
{
  char const *args[3] = { SHARE_DIR_DEFAULT "/migrate", 0, 0 };
  if (argc > 2) strerr_dieusage(CTL_USAGE, "vmailctl migrate [--rollback]");
  args[1] = argc == 2 ? argv[1] : 0;
  execv(args[0], (char *const *)args);
  strerr_diefu2sys(CTL_TEMP, "run ", args[0]);
}
