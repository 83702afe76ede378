/* vmail-send: the queue runner, an s6 longrun.
 * Loads every queued message at start, and new ones when vmail-queue writes
 * to the trigger; runs vmail-deliver for each recipient in one of our
 * domains (at most VMAIL_CONCURRENCY at once; its code, in a forked child,
 * unless VMAIL_DELIVER names another program), journals each final result
 * before it forgets the delivery, retries temporary failures with growing
 * delays and bounces what fails for good or outlives VMAIL_QUEUE_LIFETIME. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>

#include "db.h"
#include "logline.h"
#include "privilege.h"
#include "routes.h"
#include "launcher.h"
#include "send.h"

#define USAGE "vmail-send"
#define CONCURRENCY_DEFAULT 20
#define CONCURRENCY_MAX 1000
#define LIFETIME_DEFAULT (5 * 86400)
#define DELAY_WARNING_DEFAULT (4 * 3600)   /* a delay DSN once a message waits this long (RFC 3464 2.3.3) */
#define RETRY_DEFAULT 60           /* first retry; then 5, 15, 30, 60 times that */
#define RETRY_MAX_DEFAULT 3600     /* the longest wait between rounds */
#define RESCAN_INTERVAL 60         /* seconds between full scans (a lost trigger byte) */
#define LITTER_INTERVAL 3600       /* seconds between looks for litter */
#define DELIVERY_TIMEOUT 1800      /* a delivery running longer is killed and deferred */
#define LITTER_AGE 90000           /* tmp/ and orphan mess/ files older than this go */
#define DETAIL_MAX QUEUE_REASON_MAX
#define REMOTE_DEFERRAL "4.4.0 no remote delivery configured"
#define REMOTE_CONCURRENCY_DEFAULT 20   /* vmail-remote processes at once */
#define REMOTE_PER_DOMAIN_DEFAULT 5     /* of them to one domain: one slow site cannot take every slot */
#define REMOTE_RCPTS_MAX 100            /* recipients per SMTP transaction (RFC 5321 4.5.3.1.8) */
#define REMOTE_OUT_MAX (REMOTE_RCPTS_MAX * 2048)   /* bytes of vmail-remote's results read */
#define DB_PAUSE 10                /* seconds without database questions after a failure */

static char const *const DOMAIN_SQL = "SELECT 1 FROM virtual_domains WHERE name = ?";

struct child
{
  pid_t pid;
  int fd;                      /* its stdout+stderr, -1 once read to the end */
  struct msg *m;
  unsigned int rcpt;
  time_t started;
  char detail[DETAIL_MAX + 1];
  size_t len;
  unsigned int *group;         /* a vmail-remote's recipients (else 0: one local delivery) */
  unsigned int ngroup;
  char const *domain_of;       /* their domain (in m's envelope), or "*": those the "*" route relays */
  stralloc out;                /* a vmail-remote's results */
};

static char const *dir;
static char const *deliver;
static int deliver_builtin;        /* no VMAIL_DELIVER: deliver_main, no exec */
static pid_t launcher;             /* forks the built-in deliveries (launcher.h) */
static unsigned int concurrency;
static long lifetime, retry_first, retry_max, delay_warning;
static struct msg **msgs;           /* sorted by id */
static size_t nmsgs, capmsgs;
static struct child *kids;
static unsigned int nkids;
static char const *remote;          /* the SMTP client, or 0 (VMAIL_REMOTE=off) */
static unsigned int remote_concurrency, remote_per_domain, nremote;
static int errfd = -1;              /* our stderr, for vmail-remote's log lines */
static int stopping;

static long env_number(char const *name, long dflt, long min, long max)
{
  char const *s = getenv(name);
  char *end;
  long v;
  if (!s || !*s) return dflt;
  v = strtol(s, &end, 10);
  if (*end || v < min || v > max) strerr_dief3x(100, "bad value for ", name, ": not a number in range");
  return v;
}

/* seconds since the message arrived, with the id's microseconds */
static double age(char const *id)
{
  struct timeval tv;
  gettimeofday(&tv, 0);
  return (double)tv.tv_sec + tv.tv_usec / 1e6 - ((double)queue_id_time(id) + atoi(id + 11) / 1e6);
}

static void clean(char *s)
{
  for (; *s; s++) if (*s == '"' || (unsigned char)*s < 32) *s = *s == '"' ? '\'' : ' ';
}

static void log_attempt(struct msg const *m, unsigned int r, char const *status, char *detail)
{
  char delay[32], from[ENVELOPE_ADDR_MAX + 1], to[ENVELOPE_ADDR_MAX + 1];
  snprintf(delay, sizeof delay, "%.3f", age(m->id));
  /* envelope bytes are whatever a filter passed: no line breaks into the log */
  snprintf(from, sizeof from, "%s", m->e.sender);
  snprintf(to, sizeof to, "%s", m->rcpt[r]);
  clean(detail); clean(from); clean(to);
  log_line("delivery qid=", m->id, " from=<", from, "> to=<", to, "> status=", status,
           " delay=", delay, " detail=\"", detail, "\"", (char *)0);
}

/* ---- the message table ---- */

static void msg_free(struct msg *m)
{
  stralloc_free(&m->env);
  free(m->rcpt); free(m->st); free(m);
}

static size_t msg_find(char const *id, int *found)
{
  size_t lo = 0, hi = nmsgs;
  while (lo < hi)
  {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(msgs[mid]->id, id);
    if (!c) { *found = 1; return mid; }
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  *found = 0;
  return lo;
}

static void msg_drop(struct msg *m)
{
  int found;
  size_t i = msg_find(m->id, &found);
  if (!found) return;
  memmove(msgs + i, msgs + i + 1, (nmsgs - i - 1) * sizeof *msgs);
  nmsgs--;
  msg_free(m);
}

/* Loads env/ID and the journal; 0 ok, -1 (logged) if it cannot be read. */
static int msg_load(char const *id, size_t at)
{
  struct msg *m = calloc(1, sizeof *m);
  stralloc j = STRALLOC_ZERO;
  size_t pos = 0, rl;
  char kind;
  unsigned int n;
  char const *reason;
  if (!m) return -1;
  memcpy(m->id, id, QUEUE_ID_LEN + 1);
  if (queue_envelope(dir, id, &m->env, &m->e) < 0)
  {
    if (errno != ENOENT) strerr_warnwu3sys("read envelope of ", id, " (left alone)");
    msg_free(m);
    return -1;
  }
  m->rcpt = calloc(m->e.nrcpt, sizeof *m->rcpt);
  m->st = calloc(m->e.nrcpt, 1);
  if (!m->rcpt || !m->st || queue_journal_read(dir, id, &j) < 0) { strerr_warnwu2sys("load ", id); msg_free(m); stralloc_free(&j); return -1; }
  m->rcpt[0] = m->e.rcpt;
  for (unsigned int i = 1; i < m->e.nrcpt; i++) m->rcpt[i] = envelope_next(m->rcpt[i-1]);
  while (queue_journal_next(&j, &pos, &kind, &n, &reason, &rl))
  {
    if (n >= m->e.nrcpt) continue;
    if (kind == 'W') m->warned = 1;
    if (kind == 'D' || kind == 'R') m->st[n] = RCPT_FINAL;
    else if (kind == 'B' && m->st[n] != RCPT_FINAL) m->st[n] = RCPT_FAILED;
  }
  stralloc_free(&j);
  if (nmsgs == capmsgs)
  {
    size_t cap = capmsgs ? capmsgs * 2 : 64;
    struct msg **v = realloc(msgs, cap * sizeof *v);
    if (!v) { msg_free(m); return -1; }
    msgs = v; capmsgs = cap;
  }
  memmove(msgs + at + 1, msgs + at, (nmsgs - at) * sizeof *msgs);
  msgs[at] = m;
  nmsgs++;
  return 0;
}

static int queued(char const *id)
{
  stralloc p = STRALLOC_ZERO;
  struct stat st;
  int r = queue_path(&p, dir, "env", id) < 0 || stat(p.s, &st) == 0 || errno != ENOENT;
  stralloc_free(&p);
  return r;
}

/* Loads new messages; with full, also marks the ones dequeued behind our
 * back (a stat each: not on every wake-up). */
static void scan(int full)
{
  stralloc ids = STRALLOC_ZERO;
  int n = queue_ids(dir, "env", &ids);
  if (n < 0) { strerr_warnwu2sys("scan ", dir); return; }
  for (int i = 0; i < n; i++)
  {
    char const *id = ids.s + (size_t)i * (QUEUE_ID_LEN + 1);
    int found;
    size_t at = msg_find(id, &found);
    if (!found) msg_load(id, at);
  }
  for (size_t i = 0; full && i < nmsgs; i++)
    if (!queued(msgs[i]->id)) msgs[i]->gone = 1;
  stralloc_free(&ids);
}

/* Files a crash left behind: tmp/ files and mess/ without env/, when old;
 * journals of messages no longer queued. */
static void clean_litter(void)
{
  static char const *const subs[] = { "tmp", "mess", "state" };
  stralloc ids = STRALLOC_ZERO, p = STRALLOC_ZERO;
  time_t now = time(0);
  for (unsigned int s = 0; s < 3; s++)
  {
    DIR *d;
    struct dirent *de;
    if (queue_path(&p, dir, 0, subs[s]) < 0) break;
    d = opendir(p.s);
    if (!d) continue;
    while ((de = readdir(d)))   /* bounded by the directory */
    {
      struct stat st;
      if (de->d_name[0] == '.') continue;
      if (queue_path(&p, dir, subs[s], de->d_name) < 0 || stat(p.s, &st) < 0) continue;
      if (s == 0 ? st.st_mtime + LITTER_AGE < now
          : !queue_id_ok(de->d_name) ? 0
          : !queued(de->d_name) && (s == 2 || st.st_mtime + LITTER_AGE < now))
        unlink(p.s);
    }
    closedir(d);
  }
  stralloc_free(&ids); stralloc_free(&p);
}

/* ---- deliveries ---- */

static long retry_delay(unsigned int tries)
{
  static unsigned int const factor[] = { 1, 5, 15, 30, 60 };
  long d = retry_first * (long)factor[tries < 5 ? tries : 4];
  return d > retry_max ? retry_max : d;
}

/* After a database failure it is left alone until db_down_until (a flush
 * ends that): an unreachable server costs VMAIL_DB_TIMEOUT per question, and
 * the event loop waits meanwhile. */
static time_t db_down_until;

/* The last domain asked about and the answer, for one turn of the loop
 * (run_due forgets it): recipients waiting for a remote slot are looked at
 * on every turn. */
static char memo[ENVELOPE_ADDR_MAX + 1];
static int memo_local;

/* Is the recipient's domain one of ours? 1 yes, 0 no, -1 database trouble
 * (why says what). */
static int local_domain(char const *rcpt, char const **why)
{
  static char down_why[DETAIL_MAX + 1];
  char const *at = strrchr(rcpt, '@');
  char domain[ENVELOPE_ADDR_MAX + 1];
  char const *params[1] = { domain };
  int n;
  *why = down_why;
  if (!at || !at[1]) return 0;
  if (time(0) < db_down_until) return -1;
  snprintf(domain, sizeof domain, "%s", at + 1);
  for (char *d = domain; *d; d++) if (*d >= 'A' && *d <= 'Z') *d += 'a' - 'A';
  if (*memo && !strcmp(memo, domain)) return memo_local;
  n = db_exec(DOMAIN_SQL, params, 1, 0);
  if (n >= 0)
  {
    snprintf(memo, sizeof memo, "%s", domain);
    memo_local = n > 0;
    return n > 0;
  }
  snprintf(down_why, sizeof down_why, "%s", db_error());
  db_down_until = time(0) + DB_PAUSE;
  return -1;
}

/* Records a result: final ones in the journal (fsynced) before anything else. */
static void result(struct msg *m, unsigned int r, int code, char *detail)
{
  if (code == 0)
  {
    if (queue_journal_add(dir, m->id, 'D', r, 0, 1) < 0)
    {
      /* delivered but not recorded: the next round delivers it again */
      strerr_warnwu2sys("journal delivery of ", m->id);
      m->st[r] = RCPT_DEFERRED;
      log_attempt(m, r, "sent", detail);
      return;
    }
    m->st[r] = RCPT_FINAL;
    log_attempt(m, r, "sent", detail);
    return;
  }
  if (code == 111 && age(m->id) > (double)lifetime)
  {
    char expired[DETAIL_MAX + 1];
    snprintf(expired, sizeof expired, "expired after %lds in the queue; last error: %s", lifetime, detail);
    snprintf(detail, DETAIL_MAX + 1, "%s", expired);
    code = 100;
  }
  if (code == 100)
  {
    if (queue_journal_add(dir, m->id, 'B', r, detail, 1) < 0)
    {
      strerr_warnwu2sys("journal failure of ", m->id);
      m->st[r] = RCPT_DEFERRED;
      return;
    }
    m->st[r] = RCPT_FAILED;
    log_attempt(m, r, "bounced", detail);
    return;
  }
  queue_journal_add(dir, m->id, 'Z', r, detail, 0);   /* for vmailctl queue list only */
  m->st[r] = RCPT_DEFERRED;
  log_attempt(m, r, "deferred", detail);
}

/* A started child joins kids: it reads pfd[0], pfd[1] is closed. */
static void child_add(struct child *k, struct msg *m, unsigned int r, int const *pfd, unsigned int *group)
{
  fd_close(pfd[1]);
  ndelay_on(pfd[0]);
  k->fd = pfd[0];
  k->m = m;
  k->rcpt = r;
  k->started = time(0);
  k->len = 0;
  k->group = group;
  k->out = (stralloc)STRALLOC_ZERO;
  nkids++;
  m->running++;
}

static char const *domain_of(char const *rcpt)
{
  char const *at = strrchr(rcpt, '@');
  return at ? at + 1 : "";
}

/* vmail-remote for r and the other waiting recipients of its domain, when
 * the remote limits leave room (else they wait). */
/* Does the routes file's "*" line send domain to a relay (domain has no
 * line of its own)? Then recipients of every such domain go in one
 * transaction, as Postfix's relayhost does. */
static int relayed(char const *domain)
{
  char host[ROUTES_LINE_MAX];
  int verify, own;
  return routes_find(domain, host, sizeof host, &verify, &own) == 1 && !own && *host;
}

/* Recipient i joins a group for domain (or "*": every relayed domain)? */
static int joins(struct msg *m, unsigned int i, char const *domain)
{
  char const *why, *d = domain_of(m->rcpt[i]);
  if (m->st[i] != RCPT_WAITING) return 0;
  if (strcmp(domain, "*")) return !strcasecmp(d, domain);
  /* another domain: its own check that it is not one of ours */
  return relayed(d) && local_domain(m->rcpt[i], &why) == 0;
}

static void start_remote(struct msg *m, unsigned int r)
{
  struct child *k = kids + nkids;
  char const *domain = relayed(domain_of(m->rcpt[r])) ? "*" : domain_of(m->rcpt[r]);
  unsigned int same = 0, *group;
  stralloc p = STRALLOC_ZERO;
  int pfd[2], fd;
  char detail[DETAIL_MAX + 1];
  if (nremote >= remote_concurrency) return;
  for (unsigned int i = 0; i < nkids; i++) if (kids[i].group && !strcasecmp(kids[i].domain_of, domain)) same++;
  /* a relay is one destination, but it takes every domain: no per-domain limit */
  if (same >= remote_per_domain && strcmp(domain, "*")) return;
  group = malloc(REMOTE_RCPTS_MAX * sizeof *group);
  if (!group) { snprintf(detail, sizeof detail, "4.3.0 out of memory"); result(m, r, 111, detail); return; }
  group[0] = r;
  k->ngroup = 1;
  for (unsigned int i = r + 1; i < m->e.nrcpt && k->ngroup < REMOTE_RCPTS_MAX; i++)
    if (joins(m, i, domain)) group[k->ngroup++] = i;
  fd = -1;
  if (queue_path(&p, dir, "mess", m->id) < 0 || pipecoe(pfd) < 0) pfd[0] = -1;
  else if ((fd = open(p.s, O_RDONLY | O_CLOEXEC)) < 0) { fd_close(pfd[0]); fd_close(pfd[1]); pfd[0] = -1; }
  stralloc_free(&p);
  k->pid = pfd[0] < 0 ? -1 : remote_start(remote, m, domain, group, k->ngroup, fd, pfd[1], errfd);
  if (k->pid < 0)
  {
    snprintf(detail, sizeof detail, "4.3.0 unable to start %s: %s", remote, strerror(errno));
    if (fd >= 0) { fd_close(fd); fd_close(pfd[0]); fd_close(pfd[1]); }
    for (unsigned int i = 0; i < k->ngroup; i++) result(m, group[i], 111, detail);
    free(group);
    return;
  }
  fd_close(fd);
  child_add(k, m, r, pfd, group);
  k->domain_of = domain;
  for (unsigned int i = 0; i < k->ngroup; i++) m->st[group[i]] = RCPT_RUNNING;
  nremote++;
}

static void start(struct msg *m, unsigned int r)
{
  struct child *k = kids + nkids;
  stralloc p = STRALLOC_ZERO;
  int pfd[2], fd;
  char detail[DETAIL_MAX + 1];
  char const *why;
  int local = local_domain(m->rcpt[r], &why);
  if (local < 0 || (!local && !remote))
  {
    snprintf(detail, sizeof detail, "%s", local ? "4.4.3 database unavailable: " : REMOTE_DEFERRAL);
    if (local) strncat(detail, why, sizeof detail - strlen(detail) - 1);
    result(m, r, 111, detail);
    return;
  }
  if (!local) { start_remote(m, r); return; }
  if (nkids - nremote >= concurrency) return;   /* waits for a slot */
  if (queue_path(&p, dir, "mess", m->id) < 0 || pipecoe(pfd) < 0)
  {
    stralloc_free(&p);
    snprintf(detail, sizeof detail, "4.3.0 out of resources: %s", strerror(errno));
    result(m, r, 111, detail);
    return;
  }
  fd = open(p.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&p);
  if (fd < 0)
  {
    snprintf(detail, sizeof detail, "4.3.0 unable to open the queued message: %s", strerror(errno));
    fd_close(pfd[0]); fd_close(pfd[1]);
    result(m, r, 111, detail);
    return;
  }
  if (deliver_builtin)
  {
    k->pid = launcher_run(fd, pfd[1], m->id, m->e.sender, m->rcpt[r]);
    if (k->pid < 0) snprintf(detail, sizeof detail, "4.3.0 unable to start the delivery: %s", strerror(errno));
  }
  else
  {
    k->pid = fork();
    if (!k->pid)
    {
      char const *argv[5] = { deliver, "-f", m->e.sender, m->rcpt[r], 0 };
      delivery_child_setup(fd, pfd[1], m->id);
      execvp(deliver, (char *const *)argv);
      dprintf(2, "4.3.0 unable to run %s: %s\n", deliver, strerror(errno));
      _exit(111);
    }
    if (k->pid < 0) snprintf(detail, sizeof detail, "4.3.0 unable to fork: %s", strerror(errno));
  }
  fd_close(fd);
  if (k->pid < 0)
  {
    fd_close(pfd[0]); fd_close(pfd[1]);
    result(m, r, 111, detail);
    return;
  }
  child_add(k, m, r, pfd, 0);
  m->st[r] = RCPT_RUNNING;
}

static void child_read(struct child *k)
{
  char buf[4096];
  for (;;)   /* bounded: a non-blocking pipe, read until it is empty */
  {
    ssize_t n = read(k->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { if (!n || errno != EAGAIN) { fd_close(k->fd); k->fd = -1; } return; }
    if (k->group)
    {
      if (k->out.len + (size_t)n <= REMOTE_OUT_MAX) stralloc_catb(&k->out, buf, (size_t)n);
      continue;
    }
    for (ssize_t i = 0; i < n && k->len < DETAIL_MAX; i++)
      if (k->len || (buf[i] != ' ' && buf[i] != '\n')) k->detail[k->len++] = buf[i];
  }
}

/* The last non-empty line the delivery wrote, without "PROG: fatal: " noise kept
 * (it names the program, which helps). */
static void child_detail(struct child *k, char *out)
{
  size_t len = k->len;
  while (len && (k->detail[len-1] == '\n' || k->detail[len-1] == ' ' || k->detail[len-1] == '\r')) len--;
  k->detail[len] = 0;
  {
    char *nl = strrchr(k->detail, '\n');
    snprintf(out, DETAIL_MAX + 1, "%s", nl ? nl + 1 : k->detail);
  }
}

/* A delivery ended: its result, from its exit status and its last words. */
static void finished(pid_t pid, int wstat)
{
  struct child k;
  char detail[DETAIL_MAX + 1];
  unsigned int i = 0;
  int code;
  while (i < nkids && kids[i].pid != pid) i++;   /* bounded by nkids */
  if (i == nkids) return;   /* not a delivery of ours */
  k = kids[i];
  if (k.fd >= 0) child_read(&k);
  if (k.fd >= 0) fd_close(k.fd);
  if (k.group)
  {
    kids[i] = kids[--nkids];
    nremote--;
    k.m->running--;
    remote_results(k.out.s, k.out.len, k.m, k.group, k.ngroup, wstat, remote, result);
    free(k.group);
    stralloc_free(&k.out);
    return;
  }
  child_detail(&k, detail);
  if (WIFEXITED(wstat)) code = WEXITSTATUS(wstat) == 0 ? 0 : WEXITSTATUS(wstat) == 100 ? 100 : 111;
  else
  {
    size_t l = strlen(detail);
    code = 111;
    snprintf(detail + l, sizeof detail - l, "%sdelivery killed by signal %d", l ? "; " : "", WTERMSIG(wstat));
  }
  if (code && !*detail) snprintf(detail, sizeof detail, "%s exited %d", deliver, WEXITSTATUS(wstat));
  if (!code && !*detail) snprintf(detail, sizeof detail, "delivered");
  kids[i] = kids[--nkids];
  k.m->running--;
  result(k.m, k.rcpt, code, detail);
}

/* Our own children: deliveries run as VMAIL_DELIVER, and the launcher,
 * without which the built-in deliveries cannot be followed. */
static void reap(void)
{
  int wstat;
  pid_t pid;
  while ((pid = wait_nohang(&wstat)) > 0)   /* bounded by our children */
  {
    if (pid == launcher) strerr_dief1x(111, "the delivery launcher died");
    finished(pid, wstat);
  }
}

/* Deliveries the launcher saw end. */
static void reap_launched(void)
{
  pid_t pid;
  int wstat, r;
  while ((r = launcher_report(&pid, &wstat)) > 0) finished(pid, wstat);   /* bounded by the pipe */
  if (r < 0) strerr_dief1x(111, "the delivery launcher is gone");
}

/* Drops a message someone else dequeued (vmailctl queue delete). */
static void forget(struct msg *m)
{
  log_line("forget qid=", m->id, " detail=\"no longer queued\"", (char *)0);
  msg_drop(m);
}

/* A round of a message is over when nothing runs and nothing waits: the
 * recipients that failed for good in it are reported at once (one bounce),
 * then the message is dequeued if every recipient is final, else its next
 * round is scheduled. */
static void round_end(struct msg *m, time_t now)
{
  unsigned int final = 0;
  /* dequeued behind our back: nothing more will start, forget it once idle
   * (recipients may still be waiting for a round that never comes) */
  if (m->gone)
  {
    if (!m->running) forget(m);
    return;
  }
  for (unsigned int i = 0; i < m->e.nrcpt; i++)
  {
    if (m->st[i] == RCPT_WAITING || m->st[i] == RCPT_RUNNING) return;
    if (m->st[i] == RCPT_FINAL || m->st[i] == RCPT_FAILED) final++;
  }
  if (!queued(m->id)) { forget(m); return; }
  if (dsn_send(dir, m) < 0 && final == m->e.nrcpt) { m->next = now + retry_first; return; }
  if (final == m->e.nrcpt)
  {
    if (queue_remove(dir, m->id) < 0) strerr_warnwu2sys("remove ", m->id);
    msg_drop(m);
    return;
  }
  if (!m->warned && delay_warning && age(m->id) > (double)delay_warning && dsn_delay(dir, m) == 0) m->warned = 1;
  for (unsigned int i = 0; i < m->e.nrcpt; i++) if (m->st[i] == RCPT_DEFERRED) m->st[i] = RCPT_WAITING;
  m->next = now + retry_delay(m->tries++);
}

/* Starts what is due, as far as the concurrency allows; the earliest next
 * round in *wake. */
static void run_due(time_t now, time_t *wake)
{
  memo[0] = 0;
  for (size_t i = 0; i < nmsgs; )
  {
    struct msg *m = msgs[i];
    int busy = 0;
    if (m->next <= now && !m->gone && !stopping && !m->running && m->tries && !queued(m->id))
      m->gone = 1;   /* a retry round: vmailctl queue delete may have taken it */
    if (m->next <= now && !m->gone && !stopping)
      for (unsigned int r = 0; r < m->e.nrcpt; r++)
      {
        if (m->st[r] != RCPT_WAITING) continue;
        if (nkids - nremote >= concurrency && nremote >= remote_concurrency) { busy = 1; break; }
        start(m, r);
        if (m->st[r] == RCPT_WAITING) busy = 1;   /* no slot for it yet */
      }
    if (!m->running && (m->next <= now || m->gone))
    {
      size_t before = nmsgs;
      round_end(m, now);
      if (nmsgs < before) continue;   /* m was dropped: msgs[i] is the next one */
    }
    if (!busy && !m->running && m->next > now && m->next < *wake) *wake = m->next;
    i++;
  }
}

int main(int argc, char const *const *argv)
{
  iopause_fd x[3 + 2 * CONCURRENCY_MAX];
  time_t rescan = 0, full_at = 0, litter_at = 0;
  int full = 1;
  stralloc p = STRALLOC_ZERO;
  /* The lock and the trigger are opened after the launcher is forked: a
   * delivery that outlived a killed runner must not hold them, or the next
   * runner could not start. */
  int lock, trigger, trigger_w;
  PROG = "vmail-send";
  (void)argv;
  if (argc > 1) strerr_dieusage(100, USAGE);
  /* the queue and the Maildirs belong to the mail user */
  if (privilege_drop("VMAIL_UID", "VMAIL_GID") < 0) strerr_dief1x(privilege_exitcode(), privilege_error());
  dir = queue_dir();
  deliver = getenv("VMAIL_DELIVER");
  deliver_builtin = !deliver || !*deliver;
  if (deliver_builtin) deliver = "vmail-deliver";
  concurrency = (unsigned int)env_number("VMAIL_CONCURRENCY", CONCURRENCY_DEFAULT, 1, CONCURRENCY_MAX);
  lifetime = env_number("VMAIL_QUEUE_LIFETIME", LIFETIME_DEFAULT, 0, 365L * 86400);
  delay_warning = env_number("VMAIL_DELAY_WARNING", DELAY_WARNING_DEFAULT, 0, 365L * 86400);
  retry_first = env_number("VMAIL_QUEUE_RETRY", RETRY_DEFAULT, 1, 86400);
  retry_max = env_number("VMAIL_QUEUE_RETRY_MAX", RETRY_MAX_DEFAULT, 1, 7L * 86400);
  remote = getenv("VMAIL_REMOTE");
  if (!remote || !*remote) remote = "vmail-remote";
  if (!strcmp(remote, "off")) remote = 0;
  remote_concurrency = (unsigned int)env_number("VMAIL_REMOTE_CONCURRENCY", REMOTE_CONCURRENCY_DEFAULT, 1, CONCURRENCY_MAX);
  remote_per_domain = (unsigned int)env_number("VMAIL_REMOTE_DOMAIN_CONCURRENCY", REMOTE_PER_DOMAIN_DEFAULT, 1, CONCURRENCY_MAX);
  errfd = fcntl(2, F_DUPFD_CLOEXEC, 3);
  if (errfd < 0) strerr_diefu1sys(111, "duplicate stderr");
  kids = calloc(concurrency + remote_concurrency, sizeof *kids);
  if (!kids) strerr_diefu1sys(111, "allocate");
  /* before the database client and the message table exist: see launcher.h */
  x[2].fd = deliver_builtin ? launcher_start(&launcher) : -1;
  if (deliver_builtin && x[2].fd < 0) strerr_diefu1sys(111, "start the delivery launcher");
  x[2].events = IOPAUSE_READ;

  if (queue_make(dir) < 0) strerr_diefu2sys(111, "create queue directory ", dir);
  if (queue_path(&p, dir, 0, "lock") < 0) strerr_diefu1sys(111, "allocate");
  lock = open(p.s, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) strerr_diefu2sys(111, "open ", p.s);
  if (flock(lock, LOCK_EX | LOCK_NB) < 0) strerr_diefu2sys(111, "lock (is another vmail-send running?) ", p.s);
  if (queue_path(&p, dir, 0, "trigger") < 0) strerr_diefu1sys(111, "allocate");
  trigger = open(p.s, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  /* our own writer keeps the fifo from reading end-of-file between wakers */
  trigger_w = trigger < 0 ? -1 : open(p.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (trigger < 0 || trigger_w < 0) strerr_diefu2sys(111, "open ", p.s);
  stralloc_free(&p);

  x[0].fd = selfpipe_init();
  if (x[0].fd < 0) strerr_diefu1sys(111, "selfpipe_init");
  if (selfpipe_trap(SIGCHLD) < 0 || selfpipe_trap(SIGTERM) < 0 || selfpipe_trap(SIGINT) < 0
      || selfpipe_trap(SIGHUP) < 0) strerr_diefu1sys(111, "trap signals");
  signal(SIGPIPE, SIG_IGN);
  x[0].events = IOPAUSE_READ;
  x[1].fd = trigger;
  x[1].events = IOPAUSE_READ;

  {
    char num[64];
    snprintf(num, sizeof num, " concurrency=%u lifetime=%ld", concurrency, lifetime);
    log_line("start dir=", dir, " deliver=", deliver, " remote=", remote ? remote : "off", num, (char *)0);
  }

  for (;;)   /* the event loop: one turn per wake-up */
  {
    time_t now = time(0), wake;
    tain deadline;
    unsigned int n = 3;
    int r;
    if (now >= litter_at) { clean_litter(); litter_at = now + LITTER_INTERVAL; }
    if (now >= full_at) { full = 1; full_at = now + RESCAN_INTERVAL; }
    if ((full || now >= rescan) && !stopping) { scan(full); rescan = full_at; full = 0; }
    wake = rescan;
    run_due(now, &wake);
    for (unsigned int i = 0; i < nkids; i++)
    {
      if (kids[i].started + DELIVERY_TIMEOUT <= now) kill(kids[i].pid, SIGKILL);
      else if (kids[i].started + DELIVERY_TIMEOUT < wake) wake = kids[i].started + DELIVERY_TIMEOUT;
    }
    if (stopping && !nkids) break;
    for (unsigned int i = 0; i < nkids; i++)
      if (kids[i].fd >= 0) { x[n].fd = kids[i].fd; x[n].events = IOPAUSE_READ; n++; }
    tain_now_g();
    tain_addsec_g(&deadline, wake > now ? (int)(wake - now) : 0);
    r = iopause_g(x, n, &deadline);
    if (r < 0) { if (errno == EINTR) continue; strerr_diefu1sys(111, "iopause"); }
    for (unsigned int i = 3; i < n; i++)
      if (x[i].revents & IOPAUSE_READ)
        for (unsigned int k = 0; k < nkids; k++) if (kids[k].fd == x[i].fd) { child_read(kids + k); break; }
    if (x[2].revents & IOPAUSE_READ) reap_launched();
    if (x[1].revents & IOPAUSE_READ)
    {
      char buf[256];
      ssize_t got = read(trigger, buf, sizeof buf);
      for (ssize_t i = 0; i < got; i++)
      {
        if (buf[i] == 'f')
        {
          for (size_t m = 0; m < nmsgs; m++) msgs[m]->next = 0;
          db_down_until = 0;
          full = 1;
        }
        rescan = 0;
      }
    }
    if (x[0].revents & IOPAUSE_READ)
      for (;;)   /* bounded: the self-pipe holds few bytes */
      {
        int sig = selfpipe_read();
        if (sig <= 0) { if (sig < 0) strerr_diefu1sys(111, "selfpipe_read"); break; }
        if (sig == SIGCHLD) reap();
        else if (sig == SIGHUP) { rescan = 0; full = 1; litter_at = 0; }
        else { stopping = 1; log_line("stop waiting=", nkids ? "children" : "nothing", (char *)0); }
      }
  }
  log_line("stop done", (char *)0);
  return 0;
}
