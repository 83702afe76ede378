/* ucspitls: the UCSPI-TLS control protocol; see ucspitls.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>

#include "ucspitls.h"

static int env_fd(char const *name, int *fd)
{
  char const *s = getenv(name);
  unsigned u;
  if (!s || !*s || s[uint_scan(s, &u)] || u > 1023) return 0;
  *fd = (int)u;
  return 1;
}

int ucspitls_offered(ucspitls *t)
{
  return env_fd("SSLCTLFD", &t->ctl) && env_fd("SSLREADFD", &t->rfd) && env_fd("SSLWRITEFD", &t->wfd);
}

int ucspitls_command(char c)
{
  return c == 'Y' ? 2 : c == 'y' ? 1 : 0;
}

/* One "NAME=value" string of n bytes: NAME is SSL_[A-Z0-9_]+, the value
 * printable ASCII. */
static int detail_ok(char const *s, size_t n)
{
  size_t i = 4;
  if (n < 6 || memcmp(s, "SSL_", 4)) return 0;
  while (i < n && s[i] != '=')
  {
    char c = s[i++];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
  }
  if (i == 4 || i == n || n - i - 1 > UCSPITLS_VALUE_MAX) return 0;
  for (i++; i < n; i++) if (s[i] < ' ' || s[i] > '~') return 0;
  return 1;
}

int ucspitls_details_check(char const *s, size_t len, size_t *used)
{
  size_t pos = 0;
  for (;;)
  {
    char const *nul;
    if (pos >= UCSPITLS_INFO_MAX) { errno = EPROTO; return 0; }
    if (pos == len) { errno = EAGAIN; return 0; }
    if (!s[pos]) { *used = pos + 1; return 1; }
    nul = memchr(s + pos, 0, len - pos);
    if (!nul)
    {
      /* an unfinished string can still be judged by its prefix */
      if (len - pos > 4 + UCSPITLS_VALUE_MAX + 64 || (len - pos >= 4 && memcmp(s + pos, "SSL_", 4)))
      { errno = EPROTO; return 0; }
      errno = EAGAIN;
      return 0;
    }
    if (!detail_ok(s + pos, (size_t)(nul - s - pos))) { errno = EPROTO; return 0; }
    pos = (size_t)(nul - s) + 1;
  }
}

static int details_export(char *s)
{
  while (*s)
  {
    size_t n = strlen(s);
    char *eq = strchr(s, '=');
    *eq = 0;
    if (setenv(s, eq + 1, 1) < 0) return 0;
    *eq = '=';
    s += n + 1;
  }
  return 1;
}

int ucspitls_read_details(int fd, unsigned timeout)
{
  char buf[UCSPITLS_INFO_MAX];
  size_t len = 0, used;
  tain deadline;
  if (timeout) { tain_now_g(); tain_addsec_g(&deadline, (int)timeout); }
  for (;;)
  {
    ssize_t r;
    if (ucspitls_details_check(buf, len, &used)) break;
    if (errno != EAGAIN) return 0;
    if (len == sizeof buf) { errno = EPROTO; return 0; }
    if (timeout)
    {
      iopause_fd x = { .fd = fd, .events = IOPAUSE_READ, .revents = 0 };
      int e = iopause_g(&x, 1, &deadline);
      if (e < 0) return 0;
      if (!e) { errno = ETIMEDOUT; return 0; }
    }
    r = read(fd, buf + len, sizeof buf - len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r < 0) return 0;
    if (!r) { errno = EPIPE; return 0; }
    len += (size_t)r;
  }
  if (used != len) { errno = EPROTO; return 0; }   /* nothing may follow the details */
  return details_export(buf);
}

int ucspitls_start(ucspitls const *t, unsigned timeout)
{
  ssize_t w;
  do w = write(t->ctl, "Y", 1); while (w < 0 && errno == EINTR);
  if (w != 1) { if (w >= 0) errno = EPIPE; return 0; }
  return ucspitls_read_details(t->ctl, timeout);
}

int ucspitls_use(ucspitls const *t)
{
  if (dup2(t->rfd, 0) < 0 || dup2(t->wfd, 1) < 0) return 0;
  if (t->rfd > 1) close(t->rfd);
  if (t->wfd > 1) close(t->wfd);
  if (t->ctl > 1) close(t->ctl);
  unsetenv("SSLCTLFD");
  unsetenv("SSLREADFD");
  unsetenv("SSLWRITEFD");
  return 1;
}

int ucspitls_details_add(stralloc *sa, char const *name, char const *value)
{
  size_t n = strlen(value);
  if (n > UCSPITLS_VALUE_MAX) n = UCSPITLS_VALUE_MAX;
  if (!stralloc_cats(sa, name) || !stralloc_catb(sa, "=", 1)) return 0;
  for (size_t i = 0; i < n; i++)
  {
    char c = value[i] >= ' ' && value[i] <= '~' ? value[i] : '?';
    if (!stralloc_catb(sa, &c, 1)) return 0;
  }
  return stralloc_0(sa);
}

int ucspitls_details_end(stralloc *sa) { return stralloc_0(sa); }
