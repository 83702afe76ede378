/* logline: see logline.h. */
#include <stdarg.h>
#include <skalibs/buffer.h>

#include "logline.h"

void log_line(char const *first, ...)
{
  va_list ap;
  va_start(ap, first);
  for (char const *s = first; s; s = va_arg(ap, char const *)) buffer_puts(buffer_2, s);
  va_end(ap);
  buffer_putflush(buffer_2, "\n", 1);
}
