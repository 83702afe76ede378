/* route.c: where the mail for a domain goes: its route (lib/routes.h), else
 * DNS. A route's HOST is looked up for its addresses only (a smarthost: no
 * MX lookup), or is an address in brackets.
 * relay-auth: "HOST USER PASSWORD" lines (the password is the rest of the
 * line), the credentials for AUTH PLAIN to that HOST; the file must belong
 * to our uid and be readable by nobody else. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "remote.h"
#include "routes.h"

#define PORT_DEFAULT 25          /* RFC 5321 4.5.4.2 */

static unsigned int default_port(void)
{
  char const *s = getenv("VMAIL_REMOTE_PORT");
  long p = s && *s ? strtol(s, 0, 10) : PORT_DEFAULT;
  return p > 0 && p < 65536 ? (unsigned int)p : PORT_DEFAULT;
}

/* host[:port] or [address][:port] into hop and r->port; 0 ok, -1 bad. */
static int parse_host(char *host, struct route *r)
{
  char *colon, *end = host;
  if (*host == '[') { end = strchr(host, ']'); if (!end) return -1; }
  colon = strchr(end, ':');
  if (colon)
  {
    char *e;
    long p = strtol(colon + 1, &e, 10);
    if (*e || p <= 0 || p > 65535) return -1;
    r->port = (unsigned int)p;
    *colon = 0;
  }
  if (*host == '[') { *end = 0; host++; }
  if (!*host || strlen(host) > DNS_NAME_MAX) return -1;
  snprintf(r->hops[0].host, sizeof r->hops[0].host, "%s", host);
  for (char *s = r->hops[0].host; *s; s++) *s = (char)tolower((unsigned char)*s);
  r->nhops = 1;
  r->smarthost = 1;
  return 0;
}

/* The relay's credentials, if relay-auth has a line for it; 0 ok (none is
 * ok), -1 (why). */
static int credentials(struct route *r, char *why, size_t whylen)
{
  char path[4096], line[ROUTES_LINE_MAX];
  struct stat st;
  FILE *f;
  int fd;
  snprintf(path, sizeof path, "%s/relay-auth", routes_etc());
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
  {
    if (errno == ENOENT) return 0;
    snprintf(why, whylen, "4.3.5 unable to read %s: %s", path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077))
  {
    close(fd);
    snprintf(why, whylen, "4.3.5 %s must belong to uid %u and be readable by it alone (chmod 600): not used",
             path, (unsigned int)geteuid());
    return -1;
  }
  f = fdopen(fd, "r");
  if (!f) { close(fd); snprintf(why, whylen, "4.3.0 out of memory"); return -1; }
  while (fgets(line, sizeof line, f))   /* bounded by the file */
  {
    /* HOST USER PASSWORD: the password is the rest of the line, spaces and all */
    char *host = strtok(line, " \t\r\n"), *user = host ? strtok(0, " \t\r\n") : 0;
    char *pass = user ? strtok(0, "\r\n") : 0;
    while (pass && (*pass == ' ' || *pass == '\t')) pass++;
    if (host && *host != '#' && pass && *pass && !strcasecmp(host, r->hops[0].host)
        && strlen(user) <= REMOTE_CRED_MAX && strlen(pass) <= REMOTE_CRED_MAX)
    {
      strcpy(r->user, user);
      strcpy(r->pass, pass);
      break;
    }
  }
  explicit_bzero(line, sizeof line);
  fclose(f);
  return 0;
}

static int is_me(char const *host)
{
  char const *me = getenv("VMAIL_HOSTNAME");
  return me && *me && !strcasecmp(host, me);
}

/* RFC 5321 5.1: drops our own name and every hop not better than it. */
static int drop_self(struct route *r, char const *domain, char *why, size_t whylen)
{
  for (unsigned int i = 0; i < r->nhops; i++)
    if (is_me(r->hops[i].host))
    {
      r->nhops = i;   /* sorted by preference: what follows is no better */
      while (r->nhops && r->hops[r->nhops - 1].pref >= r->hops[i].pref) r->nhops--;
      break;
    }
  if (r->nhops) return 0;
  snprintf(why, whylen, "5.4.6 mail for %s loops back to me: I am its best MX, but it is not one of my domains", domain);
  return -2;
}

/* Every hop's addresses; hops without any are dropped. */
static int addresses(struct route *r, char const *domain, int implicit, char *why, size_t whylen)
{
  unsigned int k = 0;
  int temp = 0, nx = 0;
  for (unsigned int i = 0; i < r->nhops; i++)
  {
    int d = dns_addrs(r->hops + i);
    if (d == DNS_OK) { if (k != i) r->hops[k] = r->hops[i]; k++; continue; }
    if (d == DNS_TEMP) temp = 1;
    if (d == DNS_NXDOMAIN) nx = 1;
    snprintf(why, whylen, "%s %s", d == DNS_TEMP ? "4.4.3" : "4.4.4", dns_error());
  }
  r->nhops = k;
  if (k) return 0;
  if (temp || !implicit) return -1;
  /* no MX, and the domain itself has no address: nothing will take its mail */
  snprintf(why, whylen, "5.1.2 %s has no MX and no address%s", domain, nx ? " (no such domain)" : "");
  return -2;
}

int route_find(struct job const *job, struct route *r, char *why, size_t whylen)
{
  char host[DNS_NAME_MAX + 16];
  int f, d, implicit = 0, own;
  size_t dl = strlen(job->domain);
  memset(r, 0, sizeof *r);
  r->port = default_port();
  f = routes_find(job->domain, host, sizeof host, &r->verify, &own);
  if (f < 0)
  {
    snprintf(why, whylen, "4.3.5 %s/routes: %s", routes_etc(), errno == EINVAL ? "unknown tls= setting" : strerror(errno));
    return -1;
  }
  if (!strcmp(job->domain, "*") && (!f || !*host))
  {
    /* the routes changed since vmail-send read them: try again */
    snprintf(why, whylen, "4.3.5 %s/routes has no relay on its * line any more", routes_etc());
    return -1;
  }
  if (f && *host)
  {
    if (parse_host(host, r) < 0) { snprintf(why, whylen, "4.3.5 bad host in the route for %s: %s", job->domain, host); return -1; }
    if (credentials(r, why, whylen) < 0) return -1;
    return addresses(r, job->domain, 0, why, whylen);
  }
  if (job->domain[0] == '[' && dl > 2 && job->domain[dl-1] == ']')
  {
    /* an address literal (RFC 5321 4.1.3) */
    snprintf(r->hops[0].host, sizeof r->hops[0].host, "%.*s", (int)(dl - 2), job->domain + 1);
    if (!dns_addr_parse(r->hops[0].host, r->hops[0].addr)) { snprintf(why, whylen, "5.1.2 bad address literal %s", job->domain); return -2; }
    r->hops[0].naddr = 1;
    r->nhops = 1;
    return 0;
  }
  d = dns_mx(job->domain, r->hops, &r->nhops);
  if (d == DNS_TEMP) { snprintf(why, whylen, "4.4.3 MX lookup: %s", dns_error()); return -1; }
  if (d == DNS_NULLMX) { snprintf(why, whylen, "5.1.10 %s", dns_error()); return -2; }
  if (d == DNS_NXDOMAIN) { snprintf(why, whylen, "5.1.2 %s: no such domain", job->domain); return -2; }
  if (d == DNS_NONE)
  {
    snprintf(r->hops[0].host, sizeof r->hops[0].host, "%s", job->domain);
    r->nhops = 1;
    implicit = 1;
  }
  d = drop_self(r, job->domain, why, whylen);
  if (d < 0) return d;
  return addresses(r, job->domain, implicit, why, whylen);
}
