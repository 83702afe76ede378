/* auth.c: SMTP AUTH credentials checked by the checkpassword program
 * ($VMAIL_CHECKPW, default vmail-checkpw, running "true" on success).
 * Started as root, the session runs as VMAIL_SMTPD_UID/VMAIL_SMTPD_GID and a
 * root partner runs the checker (privsep.h), so the process that parses the
 * network can read neither the password hashes nor the database
 * credentials that give them; the same partner starts each message's queue
 * program as VMAIL_UID (queue.c), so the session cannot open a Maildir or
 * the queue either. Without those variables, as root, it refuses to start.
 * checkpw_run lets the child inherit fd 0 and 1; here they are the client's
 * connection, which the checker must never touch, so they point at /dev/null
 * while it runs. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "checkpw.h"
#include "privilege.h"
#include "privsep.h"
#include "smtpd.h"

static int run_checkpw(char const *user, char const *password, char const *tag)
{
  char const *prog = getenv("VMAIL_CHECKPW");
  char const *argv[3];
  int save0, save1, null, r = 111;
  (void)tag;
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
    r = c == 0 || c == 1 || c == CHECKPW_BLOCKED ? c : 111;
  }
  if ((save0 >= 0 && dup2(save0, 0) < 0) || (save1 >= 0 && dup2(save1, 1) < 0)) _exit(111);
  if (save0 >= 0) close(save0);
  if (save1 >= 0) close(save1);
  close(null);
  return r;
}

void auth_init(int auth_allowed)
{
  uid_t uid;
  gid_t gid;
  queue_init();
  /* the queue program becomes the mail user: known before a byte is read */
  if (privilege_need("VMAIL_UID", "VMAIL_GID", 0, &uid, &gid) < 0
      || privsep_start(auth_allowed ? &run_checkpw : 0, "VMAIL_SMTPD_UID", "VMAIL_SMTPD_GID", 0) < 0)
    strerr_dief1x(privilege_exitcode(), privilege_error());
}

int auth_check(char const *user, char const *password)
{
  int r = privsep_check(user, password, 0);
  return r == 0 || r == 1 || r == CHECKPW_BLOCKED ? r : 111;
}
