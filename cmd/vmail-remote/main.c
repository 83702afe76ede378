/* vmail-remote: delivers one message to the recipients of one domain over
 * SMTP, trying every route to it in turn, and writes one result per
 * recipient on fd 1 for vmail-send (vmail-remote(8)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>

#include "privilege.h"
#include "remote.h"

#define USAGE "vmail-remote [-n] domain [sender recipient...]"
#define MESSAGE_MAX (1024UL * 1024 * 1024)   /* bytes read from fd 0 */
#define HOPS_MAX 100                          /* Received fields before we call it a loop (RFC 5321 6.3) */

/* The message as it goes on the wire: every line ending (LF, CRLF, a bare
 * CR) as CRLF, a leading dot doubled, the last line ended, then ".\r\n"
 * (RFC 5321 4.5.2, 2.3.8). */
static void wire(stralloc const *in, struct job *job)
{
  int bol = 1;
  for (size_t i = 0; i < in->len; i++)
  {
    char c = in->s[i];
    if (bol && c == '.' && !stralloc_catb(&job->wire, ".", 1)) strerr_diefu1sys(111, "allocate");
    bol = 0;
    if ((unsigned char)c >= 128) job->eightbit = 1;
    if (c == '\r' || c == '\n')
    {
      if (c == '\r' && i + 1 < in->len && in->s[i+1] == '\n') i++;
      c = '\n';
      bol = 1;
      if (!stralloc_catb(&job->wire, "\r", 1)) strerr_diefu1sys(111, "allocate");
    }
    if (!stralloc_catb(&job->wire, &c, 1)) strerr_diefu1sys(111, "allocate");
  }
  if (!bol && !stralloc_cats(&job->wire, "\r\n")) strerr_diefu1sys(111, "allocate");
  if (!stralloc_cats(&job->wire, ".\r\n")) strerr_diefu1sys(111, "allocate");
}

/* The Received fields of the message's header section. */
static unsigned int hops(stralloc const *m)
{
  unsigned int n = 0;
  for (size_t i = 0; i < m->len && m->s[i] != '\n' && m->s[i] != '\r'; )   /* bounded by the header */
  {
    char const *nl = memchr(m->s + i, '\n', m->len - i);
    if (m->len - i >= 9 && !strncasecmp(m->s + i, "Received:", 9)) n++;
    if (!nl) break;
    i = (size_t)(nl - m->s) + 1;
  }
  return n;
}

static int bad_address(char const *a)
{
  if (strlen(a) > DNS_NAME_MAX + 65) return 1;
  for (; *a; a++) if ((unsigned char)*a <= ' ' || *a == '<' || *a == '>' || *a == 127) return 1;
  return 0;
}

/* Every route in turn, each address of each hop, until every recipient has
 * its result; those left get why. */
static void deliver(struct job *job)
{
  struct route r;
  char why[REMOTE_TEXT_MAX];
  int rc = route_find(job, &r, why, sizeof why);
  for (unsigned int h = 0; !rc && h < r.nhops; h++)
    for (unsigned int a = 0; a < r.hops[h].naddr; a++)
    {
      int s = smtp_session(job, &r, r.hops + h, r.hops[h].addr + a, 0, why, sizeof why);
      if (s == 2) s = smtp_session(job, &r, r.hops + h, r.hops[h].addr + a, 1, why, sizeof why);
      if (s == 1) goto done;
    }
done:
  explicit_bzero(r.pass, sizeof r.pass);
  for (unsigned int i = 0; i < job->nrcpt; i++)
  {
    struct rcpt *p = job->rcpt + i;
    if (p->kind) continue;
    p->kind = rc == -2 ? 'h' : 's';
    snprintf(p->mta, sizeof p->mta, "%s", rc ? "" : job->lastmta);
    snprintf(p->text, sizeof p->text, "%s", why);
  }
}

static void report(struct job const *job)
{
  for (unsigned int i = 0; i < job->nrcpt; i++)
  {
    struct rcpt const *p = job->rcpt + i;
    char k[2] = { p->kind, 0 };
    if (buffer_puts(buffer_1, k) < 0 || buffer_puts(buffer_1, "\t") < 0 || buffer_puts(buffer_1, p->addr) < 0
        || buffer_puts(buffer_1, "\t") < 0 || buffer_puts(buffer_1, p->mta) < 0 || buffer_puts(buffer_1, "\t") < 0
        || buffer_puts(buffer_1, p->text) < 0 || buffer_puts(buffer_1, "\n") < 0)
      strerr_diefu1sys(111, "write results");
  }
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write results");
}

/* -n: the route, one hop a line, nothing sent. */
static int show(struct job *job)
{
  struct route r;
  char why[REMOTE_TEXT_MAX], ip[46];
  int rc = route_find(job, &r, why, sizeof why);
  if (rc) { printf("%s\n", why); return rc == -2 ? 100 : 111; }
  for (unsigned int h = 0; h < r.nhops; h++)
  {
    printf("%s %u port=%u%s%s", r.hops[h].host, r.hops[h].pref, r.port, r.verify ? " tls=verify" : "", r.user[0] ? " auth" : "");
    for (unsigned int a = 0; a < r.hops[h].naddr; a++) { dns_addr_fmt(r.hops[h].addr + a, ip); printf(" %s", ip); }
    printf("\n");
  }
  explicit_bzero(r.pass, sizeof r.pass);
  return 0;
}

int main(int argc, char const *const *argv)
{
  static struct job job;
  stralloc msg = STRALLOC_ZERO;
  subgetopt l = SUBGETOPT_ZERO;
  char host[256];
  int shownly = 0, opt, loop;
  PROG = "vmail-remote";
  while ((opt = subgetopt_r(argc, argv, "n", &l)) != -1)
  {
    if (opt != 'n') strerr_dieusage(100, USAGE);
    shownly = 1;
  }
  argc -= l.ind; argv += l.ind;
  if (argc < (shownly ? 1 : 3) || !*argv[0]) strerr_dieusage(100, USAGE);
  /* vmail-send runs it as the mail user; started as root, it becomes that
   * user before it reads anything, or refuses to start */
  if (privilege_drop("VMAIL_UID", "VMAIL_GID") < 0) strerr_dief1x(privilege_exitcode(), privilege_error());
  job.domain = argv[0];
  job.helo = getenv("VMAIL_HOSTNAME");
  if (!job.helo || !*job.helo) { if (gethostname(host, sizeof host - 1) < 0) strcpy(host, "localhost"); host[sizeof host - 1] = 0; job.helo = host; }
  job.qid = getenv("VMAIL_QUEUE_ID") ? getenv("VMAIL_QUEUE_ID") : "-";
  if (shownly) return show(&job);
  job.sender = argv[1];
  job.nrcpt = (unsigned int)(argc - 2);
  job.rcpt = calloc(job.nrcpt, sizeof *job.rcpt);
  if (!job.rcpt) strerr_diefu1sys(111, "allocate");
  if (!slurp(&msg, 0)) strerr_diefu1sys(111, "read the message");
  if (msg.len > MESSAGE_MAX) strerr_dief1x(111, "message too large to send");
  wire(&msg, &job);
  loop = hops(&msg) > HOPS_MAX;
  for (unsigned int i = 0; i < job.nrcpt; i++)
  {
    job.rcpt[i].addr = argv[2 + i];
    if (loop)
    {
      job.rcpt[i].kind = 'h';
      snprintf(job.rcpt[i].text, sizeof job.rcpt[i].text, "5.4.6 mail loop: more than %u Received fields", HOPS_MAX);
    }
    else if (bad_address(argv[2 + i]) || bad_address(job.sender))
    {
      job.rcpt[i].kind = 'h';
      snprintf(job.rcpt[i].text, sizeof job.rcpt[i].text, "5.1.3 %s address has characters SMTP cannot carry",
               bad_address(job.sender) ? "the sender" : "this");
    }
  }
  stralloc_free(&msg);
  deliver(&job);
  report(&job);
  return 0;
}
