/* password.c: libxcrypt verify and hash. */
#include <errno.h>
#include <string.h>
#include <crypt.h>
#include <skalibs/stralloc.h>
#include "password.h"

static int equal_ct(char const *a, char const *b)
{
  size_t la = strlen(a), lb = strlen(b);
  unsigned char d = la != lb;
  for (size_t i = 0; i < la && i < lb; i++) d |= (unsigned char)(a[i] ^ b[i]);
  return !d;
}

int password_verify(char const *password, char const *hash)
{
  struct crypt_data data;
  char const *r;
  int ok;
  memset(&data, 0, sizeof data);
  if (strlen(password) > PASSWORD_MAX || !*hash) return 0;
  r = crypt_r(password, hash, &data);
  /* libxcrypt returns a string starting with '*' on failure, never NULL here */
  ok = r && *r != '*' && equal_ct(r, hash);
  explicit_bzero(&data, sizeof data);
  return ok;
}

int password_hash(char const *password, char const *scheme, stralloc *out)
{
  char const *prefix;
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  struct crypt_data data;
  char const *r;
  unsigned long cost = 0;
  if (!scheme || !strcmp(scheme, "yescrypt")) prefix = "$y$";
  else if (!strcmp(scheme, "sha512")) prefix = "$6$";
  else if (!strcmp(scheme, "sha256")) prefix = "$5$";
  else if (!strcmp(scheme, "bcrypt")) prefix = "$2b$";
  else { errno = EINVAL; return 0; }
  if (strlen(password) > PASSWORD_MAX) { errno = E2BIG; return 0; }
  if (!crypt_gensalt_rn(prefix, cost, 0, 0, salt, sizeof salt)) return 0;
  memset(&data, 0, sizeof data);
  r = crypt_r(password, salt, &data);
  if (!r || *r == '*') { explicit_bzero(&data, sizeof data); errno = EINVAL; return 0; }
  out->len = 0;
  if (!stralloc_copys(out, r) || !stralloc_0(out)) { explicit_bzero(&data, sizeof data); return 0; }
  explicit_bzero(&data, sizeof data);
  return 1;
}
