/* vmail-deliver: the Maildir delivery agent; its body is deliver.c, which
 * vmail-send also runs without an exec. */
#include "deliver.h"

int main(int argc, char const *const *argv)
{
  return deliver_main(argc, argv);
}
