/* routes: the routes file (see routes.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "routes.h"

char const *routes_etc(void)
{
  char const *e = getenv("VMAIL_ETC");
  return e && *e ? e : ROUTES_ETC_DEFAULT;
}

/* Splits line into up to max words (in place, comment dropped); how many. */
static unsigned int words(char *line, char **w, unsigned int max)
{
  unsigned int n = 0;
  char *hash = strchr(line, '#'), *save = 0;
  if (hash) *hash = 0;
  for (char *s = strtok_r(line, " \t\r\n", &save); s && n < max; s = strtok_r(0, " \t\r\n", &save)) w[n++] = s;
  return n;
}

int routes_find(char const *domain, char *host, size_t hostlen, int *verify, int *own)
{
  char path[4096], line[ROUTES_LINE_MAX], star[ROUTES_LINE_MAX] = "";
  char *w[4];
  unsigned int n;
  FILE *f;
  int found = 0;
  snprintf(path, sizeof path, "%s/routes", routes_etc());
  f = fopen(path, "r");
  if (!f) return errno == ENOENT ? 0 : -1;
  while (fgets(line, sizeof line, f))   /* bounded by the file */
  {
    char copy[ROUTES_LINE_MAX];
    memcpy(copy, line, sizeof copy);
    n = words(copy, w, 4);
    if (!n) continue;
    if (!strcasecmp(w[0], domain)) { found = 1; break; }
    if (!strcmp(w[0], "*") && !*star) memcpy(star, line, sizeof star);
  }
  fclose(f);
  if (!found && !*star) return 0;
  n = words(found ? line : star, w, 4);
  *host = 0;
  *verify = 0;
  *own = found && strcmp(domain, "*");
  for (unsigned int i = 1; i < n; i++)
  {
    if (!strcmp(w[i], "tls=verify")) *verify = 1;
    else if (!strncmp(w[i], "tls=", 4)) { errno = EINVAL; return -1; }
    else snprintf(host, hostlen, "%s", w[i]);
  }
  return 1;
}
