/* vmail-queue: durable injection, the qmail-queue interface; its body is
 * enqueue.c, which vmail-smtpd also runs without an exec. */
#include "enqueue.h"

int main(int argc, char const *const *argv)
{
  return enqueue_main(argc, argv);
}
