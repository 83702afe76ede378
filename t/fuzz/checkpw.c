/* Fuzz target: the checkpassword fd-3 reader (lib/checkpw), fed through a pipe. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "checkpw.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  char buf[CHECKPW_INPUT_MAX + 1];
  char *user, *password;
  int p[2];
  long n;
  if (size > 4096 || pipe(p) < 0) return 0;
  if (write(p[1], data, size) != (ssize_t)size) { close(p[0]); close(p[1]); return 0; }
  close(p[1]);
  n = checkpw_read(p[0], buf);
  close(p[0]);
  if (n < 0) { if (size <= CHECKPW_INPUT_MAX) __builtin_trap(); return 0; }
  if ((size_t)n != size) __builtin_trap();
  if (checkpw_parse(buf, (size_t)n, &user, &password))
  {
    if (!*user || user < buf || password > buf + n) __builtin_trap();
    if (strlen(user) + strlen(password) + 2 > (size_t)n) __builtin_trap();
  }
  return 0;
}
