/* queue.c: vmailctl queue list|flush|delete, over lib/queue (the same
 * listing as vmail-sendmail -bp). */
#include <errno.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>

#include "queue.h"
#include "vmailctl.h"

#define USAGE "vmailctl queue list | queue flush | queue delete id..."

int ctl_queue(int argc, char const *const *argv)
{
  char const *dir = queue_dir();
  char const *verb = argc > 1 ? argv[1] : "";
  if (!strcmp(verb, "list") && argc == 2)
  {
    if (queue_list(dir, buffer_1) < 0) strerr_diefu2sys(CTL_TEMP, "list ", dir);
    if (!buffer_flush(buffer_1)) strerr_diefu1sys(CTL_TEMP, "write to stdout");
    return 0;
  }
  if (!strcmp(verb, "flush") && argc == 2)
  {
    if (queue_wake(dir, 'f') < 0)
      strerr_diefu3sys(CTL_TEMP, "wake vmail-send through ", dir, "/trigger (is it running?)");
    return 0;
  }
  if (!strcmp(verb, "delete") && argc > 2)
  {
    int worst = 0;
    for (int i = 2; i < argc; i++)
    {
      if (!queue_id_ok(argv[i])) { strerr_warnw2x("not a queue id: ", argv[i]); worst = CTL_REFUSED; continue; }
      if (queue_remove(dir, argv[i]) < 0)
      {
        if (errno == ENOENT) { strerr_warnw2x("no such message in the queue: ", argv[i]); if (!worst) worst = CTL_REFUSED; }
        else { strerr_warnwu2sys("delete ", argv[i]); worst = CTL_TEMP; }
      }
    }
    return worst;
  }
  strerr_warnw2x("usage: ", USAGE);
  return CTL_USAGE;
}
