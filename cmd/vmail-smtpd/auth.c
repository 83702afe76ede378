/* auth.c: SMTP AUTH credentials checked by the checkpassword program
 * ($VMAIL_CHECKPW, default vmail-checkpw, running "true" on success).
 * checkpw_run lets the child inherit fd 0 and 1; here they are the client's
 * connection, which the checker must never touch, so they point at /dev/null
 * while it runs. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "checkpw.h"
#include "smtpd.h"

int auth_check(char const *user, char const *password)
{
  char const *prog = getenv("VMAIL_CHECKPW");
  char const *argv[3];
  int save0, save1, null, r = 111;
  argv[0] = prog && *prog ? prog : "vmail-checkpw";
  argv[1] = "true";
  argv[2] = 0;
  null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return 111;
  save0 = fcntl(0, F_DUPFD_CLOEXEC, 3);
  save1 = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (save0 >= 0 && save1 >= 0 && dup2(null, 0) == 0 && dup2(null, 1) == 1)
  {
    int c = checkpw_run(argv, user, password);
    r = c == 0 ? 0 : c == 1 ? 1 : 111;
  }
  if ((save0 >= 0 && dup2(save0, 0) < 0) || (save1 >= 0 && dup2(save1, 1) < 0)) _exit(111);
  if (save0 >= 0) close(save0);
  if (save1 >= 0) close(save1);
  close(null);
  return r;
}
