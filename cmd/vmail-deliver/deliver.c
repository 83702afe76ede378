/* vmail-deliver: the Maildir delivery agent. One message on stdin, one
 * recipient; resolved by vmail-resolve (its service or a co-process: this
 * program never opens the database) or given as -d MAILDIR, stored in
 * every local Maildir it reaches with Return-Path and Delivered-To on top.
 * Exit 0 delivered, 100 permanent, 111 temporary; see vmail-deliver(8). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "deliver.h"
#include "addr.h"
#include "header.h"
#include "maildir.h"
#include "privilege.h"
#include "queue.h"
#include "resolve.h"
#include "resolver.h"

#define USAGE "vmail-deliver [ -v ] [ -f sender ] [ -d maildir ] recipient"

/* Default for VMAIL_MESSAGE_MAX. RFC 5321 4.5.3.1.7 asks for at least 64k
 * and sets no maximum; 50 MB is Postfix's message_size_limit order. */
#define MESSAGE_MAX_DEFAULT ((size_t)50 * 1024 * 1024)
/* A message up to this size is held in memory, not spooled to a file; it is
 * also how much of a longer one is scanned for Delivered-To. */
#define MESSAGE_INMEMORY_MAX HEADER_SCAN_MAX
#define READ_BUF 65536
#define RESOLVER_TIMEOUT 30   /* seconds; the resolver's database has VMAIL_DB_TIMEOUT */

struct options
{
  char const *sender;      /* 0: unknown, no Return-Path */
  char const *maildir;     /* -d: skip the lookup */
  char const *recipient;   /* parsed, domain lowercased; 0 with -d alone */
  int verbose;
};

struct message
{
  stralloc prefix;         /* the first MESSAGE_INMEMORY_MAX bytes */
  int fd;                  /* the whole message, for pread; -1 if in prefix */
  size_t size;
  char const *eol;         /* the message's own line ending */
};

struct outcome
{
  unsigned int delivered;
  stralloc temp;           /* first temporary failure, NUL-terminated */
  stralloc perm;           /* first permanent reason */
  stralloc skipped;        /* warnings for recipients left out, one per line */
};

static stralloc parsed_rcpt = STRALLOC_ZERO;

static void dienomem(void) { strerr_diefu1sys(111, "allocate memory"); }

static void options(int argc, char const *const *argv, struct options *o)
{
  subgetopt l = SUBGETOPT_ZERO;
  for (;;)
  {
    int c = subgetopt_r(argc, argv, "vf:d:", &l);
    if (c == -1) break;
    switch (c)
    {
      case 'v': o->verbose = 1; break;
      case 'f': o->sender = l.arg; break;
      case 'd': o->maildir = l.arg; break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  argc -= l.ind; argv += l.ind;
  if (argc > 1 || (!argc && !o->maildir)) strerr_dieusage(100, USAGE);
  if (!o->sender) o->sender = getenv("SENDER");
  if (o->sender)
  {
    size_t n = strlen(o->sender);
    /* "<>" or "<a@b>" as given by hand: the brackets are ours to add */
    if (n >= 2 && o->sender[0] == '<' && o->sender[n-1] == '>')
    {
      static stralloc bare = STRALLOC_ZERO;
      if (!stralloc_catb(&bare, o->sender + 1, n - 2) || !stralloc_0(&bare)) dienomem();
      o->sender = bare.s; n -= 2;
    }
    if (n > ADDR_MAX) strerr_dief1x(100, "sender address too long");
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)o->sender[i] < 0x21 || o->sender[i] == 0x7f || o->sender[i] == '<' || o->sender[i] == '>')
        strerr_dief1x(100, "sender address contains a space, a control character or a bracket");
  }
  if (argc)
  {
    if (!addr_parse(argv[0], strlen(argv[0]), &parsed_rcpt)) strerr_dief2x(100, "invalid recipient address: ", argv[0]);
    addr_lower(parsed_rcpt.s);
    o->recipient = parsed_rcpt.s;
  }
}

static size_t message_max(void)
{
  char const *v = getenv("VMAIL_MESSAGE_MAX");
  size_t n;
  if (!v || !*v) return MESSAGE_MAX_DEFAULT;
  if (!size_scan(v, &n) || !n) strerr_dief2x(111, "invalid VMAIL_MESSAGE_MAX: ", v);
  return n;
}

static void die_too_big(size_t max)
{
  char fmt[SIZE_FMT];
  fmt[size_fmt(fmt, max)] = 0;
  strerr_dief3x(100, "message too big: more than ", fmt, " bytes (VMAIL_MESSAGE_MAX)");
}

/* An unlinked scratch file for a message read from a pipe. */
static int spool_open(void)
{
  char const *dir = getenv("TMPDIR");
  stralloc path = STRALLOC_ZERO;
  int fd;
  if (!dir || !*dir) dir = "/tmp";
  fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  /* filesystems without O_TMPFILE: a named file, unlinked at once */
  if (!stralloc_cats(&path, dir) || !stralloc_cats(&path, "/vmail-deliver.XXXXXX") || !stralloc_0(&path)) dienomem();
  fd = mkstemp(path.s);
  if (fd < 0) strerr_diefu3sys(111, "create a spool file in ", dir, " (TMPDIR)");
  unlink(path.s);
  stralloc_free(&path);
  return fd;
}

/* Reads the message: used in place if stdin is a regular file at its start,
 * else kept in memory if small, else spooled. Dies 100 if too big. */
static void message_read(struct message *m)
{
  size_t max = message_max();
  struct stat st;
  char buf[READ_BUF];

  m->fd = -1;
  m->size = 0;
  if (fstat(0, &st) == 0 && S_ISREG(st.st_mode) && lseek(0, 0, SEEK_CUR) == 0)
  {
    size_t want = (size_t)st.st_size < MESSAGE_INMEMORY_MAX ? (size_t)st.st_size : MESSAGE_INMEMORY_MAX;
    ssize_t r;
    if ((size_t)st.st_size > max) die_too_big(max);
    if (!stralloc_ready(&m->prefix, want + 1)) dienomem();
    r = pread(0, m->prefix.s, want, 0);
    if (r < 0) strerr_diefu1sys(111, "read the message");
    m->prefix.len = r;
    m->fd = 0;
    m->size = st.st_size;
  }
  else
  {
    for (;;)
    {
      ssize_t r = read(0, buf, sizeof buf);
      size_t take;
      if (r < 0) { if (errno == EINTR) continue; strerr_diefu1sys(111, "read the message"); }
      if (!r) break;
      if ((size_t)r > max - m->size) die_too_big(max);
      m->size += r;
      take = m->prefix.len < MESSAGE_INMEMORY_MAX ? MESSAGE_INMEMORY_MAX - m->prefix.len : 0;
      if ((size_t)r > take && m->fd < 0)
      {
        /* too long for memory: spool what we hold, and the rest as it comes */
        m->fd = spool_open();
        if (allwrite(m->fd, m->prefix.s, m->prefix.len) < m->prefix.len)
          strerr_diefu1sys(111, "write the spool file");
      }
      if (take && !stralloc_catb(&m->prefix, buf, (size_t)r < take ? (size_t)r : take)) dienomem();
      if (m->fd >= 0 && allwrite(m->fd, buf, r) < (size_t)r) strerr_diefu1sys(111, "write the spool file");
    }
  }
  m->eol = header_eol(m->prefix.s, m->prefix.len);
}

/* Return-Path (unless o is 0) and Delivered-To in the message's line
 * ending, then the message itself when it is held in memory. */
static void make_head(stralloc *head, struct options const *o, struct message const *m, char const *addr)
{
  head->len = 0;
  if (o && o->sender && !(stralloc_cats(head, "Return-Path: <") && stralloc_cats(head, o->sender)
                     && stralloc_cats(head, ">") && stralloc_cats(head, m->eol))) dienomem();
  if (addr && !(stralloc_cats(head, "Delivered-To: ") && stralloc_cats(head, addr)
                && stralloc_cats(head, m->eol))) dienomem();
  if (m->fd < 0 && !stralloc_catb(head, m->prefix.s, m->prefix.len)) dienomem();
}

static void note(stralloc *sa, char const *a, char const *b, char const *c, char const *d)
{
  if (sa->len) return;   /* the first reason is the one reported */
  if (!stralloc_cats(sa, a) || !stralloc_cats(sa, b) || !stralloc_cats(sa, c) || !stralloc_cats(sa, d)
      || !stralloc_0(sa)) dienomem();
}

static void skip(struct outcome *out, char const *a, char const *b)
{
  if (!stralloc_cats(&out->skipped, a) || !stralloc_cats(&out->skipped, b)
      || !stralloc_catb(&out->skipped, "\n", 1)) dienomem();
}

/* maildir_store, creating the Maildir (and its domain directory) if missing. */
static int store(char const *dir, stralloc const *head, struct message const *m, stralloc *name)
{
  if (maildir_store(dir, head->s, head->len, m->fd, 0, name) == 0) return 0;
  if (errno != ENOENT || maildir_make(dir) < 0) return -1;
  return maildir_store(dir, head->s, head->len, m->fd, 0, name);
}

/* Remote final recipients (an alias pointing outside our domains): a copy
 * goes back into the queue for them, as qmail-local forwards, with the same
 * envelope sender and Delivered-To: the recipient it was addressed to, so
 * that a forward that comes back here is recognised as a loop. rcpts holds
 * "T<addr>\0" for each. */
static void forward(struct options const *o, struct message const *m, stralloc const *rcpts,
                    struct outcome *out)
{
  static stralloc head = STRALLOC_ZERO, env = STRALLOC_ZERO;
  int code;
  if (header_has_delivered_to(m->prefix.s, m->prefix.len, o->recipient))
  {
    note(&out->perm, "mail loop: message already forwarded by ", o->recipient, " (Delivered-To)", "");
    skip(out, "mail loop, not forwarded again by ", o->recipient);
    return;
  }
  make_head(&head, 0, m, o->recipient);
  if (!stralloc_catb(&env, "F", 1) || !stralloc_cats(&env, o->sender ? o->sender : "")
      || !stralloc_0(&env) || !stralloc_cat(&env, rcpts) || !stralloc_0(&env)) dienomem();
  signal(SIGPIPE, SIG_IGN);
  code = queue_inject("vmail-queue", head.s, head.len, m->fd, env.s, env.len);
  if (code)
  {
    char fmt[INT_FMT];
    if (code < 0) note(&out->temp, "unable to run vmail-queue to forward to remote recipients: ", strerror(errno), "", "");
    else
    {
      fmt[int_fmt(fmt, code)] = 0;
      note(&out->temp, "unable to queue the forward to remote recipients: vmail-queue exited ", fmt, "", "");
    }
    return;
  }
  out->delivered++;
  if (o->verbose) strerr_warn("forwarded from=", o->recipient, " through the queue");
}

/* One Maildir: loop check, store, clean. */
static void deliver_one(struct options const *o, struct message const *m, char const *addr,
                        char const *dir, struct outcome *out)
{
  static stralloc head = STRALLOC_ZERO, name = STRALLOC_ZERO;
  if (addr && header_has_delivered_to(m->prefix.s, m->prefix.len, addr))
  {
    note(&out->perm, "mail loop: message already delivered to ", addr, " (Delivered-To)", "");
    skip(out, "mail loop, not delivered again to ", addr);
    return;
  }
  make_head(&head, o, m, addr);
  if (store(dir, &head, m, &name) < 0)
  {
    int e = errno;
    note(maildir_error_is_temporary(e) ? &out->temp : &out->perm,
         "unable to store the message in ", dir, ": ", strerror(e));
    if (!maildir_error_is_temporary(e)) skip(out, "unable to store in ", dir);
    return;
  }
  out->delivered++;
  if (o->verbose)
  {
    char fmt[SIZE_FMT];
    fmt[size_fmt(fmt, m->size)] = 0;
    strerr_warn("delivered to=", addr ? addr : "-", " maildir=", dir, " file=", name.s, " size=", fmt);
  }
  maildir_clean_tmp(dir);
}

/* The resolver's "error KIND REASON" line says why, in its words. */
_Noreturn static void refused(int status, stralloc *answer)
{
  char const *why = "temporary failure of the resolver";
  if (answer->len && answer->s[answer->len - 1] == '\n') answer->s[answer->len - 1] = 0;
  if (answer->len && !strncmp(answer->s, "error ", 6))
  {
    char const *sp = strchr(answer->s + 6, ' ');
    if (sp) why = sp + 1;
  }
  strerr_dief1x(status == RESOLVE_TEMP ? 111 : 100, why);
}

int deliver_main(int argc, char const *const *argv)
{
  /* static: what is allocated lives until exit, and stays reachable */
  static struct options o;
  static struct message m = { .prefix = STRALLOC_ZERO };
  static struct outcome out = { .temp = STRALLOC_ZERO, .perm = STRALLOC_ZERO, .skipped = STRALLOC_ZERO };
  static stralloc boxes = STRALLOC_ZERO, remote = STRALLOC_ZERO;
  PROG = "vmail-deliver";

  options(argc, argv, &o);
  signal(SIGPIPE, SIG_IGN);   /* a resolver or queue program that died is an error, not our death */
  /* mail is written as the mail user, never as root */
  if (privilege_drop("VMAIL_UID", "VMAIL_GID") < 0) strerr_dief1x(privilege_exitcode(), privilege_error());
  message_read(&m);
  if (o.maildir) deliver_one(&o, &m, o.recipient, o.maildir, &out);
  else
  {
    int r = resolver_ask(o.recipient, RESOLVER_TIMEOUT, &boxes);
    if (r != RESOLVE_OK) refused(r, &boxes);
    if (!stralloc_0(&boxes)) dienomem();
    /* "local ADDRESS MAILDIR\n" or "remote ADDRESS\n", at most RESOLVE_RECIPIENTS_MAX */
    for (char *line = boxes.s; *line; )
    {
      char *nl = strchr(line, '\n'), *addr, *dir;
      if (!nl) break;
      *nl = 0;
      addr = strchr(line, ' ');
      if (addr)
      {
        *addr++ = 0;
        dir = strchr(addr, ' ');
        if (!strcmp(line, "local") && dir) { *dir++ = 0; deliver_one(&o, &m, addr, dir, &out); }
        else if (!stralloc_catb(&remote, "T", 1) || !stralloc_cats(&remote, addr) || !stralloc_0(&remote)) dienomem();
      }
      line = nl + 1;
    }
    /* after a temporary failure the queue retries the whole recipient:
     * forward then, once */
    if (remote.len && !out.temp.len) forward(&o, &m, &remote, &out);
  }

  if (out.temp.len)
  {
    if (out.delivered) strerr_dief2x(111, out.temp.s, " (other mailboxes delivered: a retry may duplicate)");
    strerr_dief1x(111, out.temp.s);
  }
  if (!out.delivered) strerr_dief1x(100, out.perm.len ? out.perm.s : "nothing delivered");
  if (out.skipped.len)
  {
    /* delivered, but not everywhere: say where not, one line each */
    if (!stralloc_0(&out.skipped)) dienomem();
    for (char *s = out.skipped.s; *s; )
    {
      char *nl = strchr(s, '\n');
      if (!nl) break;
      *nl = 0;
      strerr_warnw1x(s);
      s = nl + 1;
    }
  }
  return 0;
}
