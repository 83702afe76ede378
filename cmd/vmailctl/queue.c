/* vmailctl queue: placeholder until the queue lands (issue 3 replaces this file). */
#include <skalibs/strerr.h>
#include "vmailctl.h"

int ctl_queue(int argc, char const *const *argv)
{
  (void)argc; (void)argv;
  strerr_warnw1x("queue: not available in this build");
  return 100;
}
