/* script.c: the subcommands written in sh, installed in SHARE_DIR:
 * vmailctl migrate [--rollback] (dist/migrate: from Postfix + Dovecot to
 * vmail and back) and vmailctl check (dist/check: the doctor). They run
 * with the envdir's settings already in their environment. */
#include <string.h>
#include <unistd.h>
#include <skalibs/strerr.h>

#include "vmailctl.h"

#ifndef SHARE_DIR_DEFAULT
#define SHARE_DIR_DEFAULT "/usr/local/share/vmail"   /* the Makefile sets it from PREFIX */
#endif

static int run(char const *path, char const *usage, int argc, char const *const *argv, char const *option)
{
  char const *args[3] = { path, 0, 0 };
  if (argc > 2 || (argc == 2 && strcmp(argv[1], option))) strerr_dieusage(CTL_USAGE, usage);
  args[1] = argc == 2 ? argv[1] : 0;
  execv(path, (char *const *)args);
  strerr_diefu2sys(CTL_TEMP, "run ", path);
}

int ctl_migrate(int argc, char const *const *argv)
{
  return run(SHARE_DIR_DEFAULT "/migrate", "vmailctl migrate [--rollback]", argc, argv, "--rollback");
}

int ctl_check(int argc, char const *const *argv)
{
  return run(SHARE_DIR_DEFAULT "/check", "vmailctl check [-q]", argc, argv, "-q");
}
