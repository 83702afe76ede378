/* vmail-queue: durable injection, the qmail-queue interface.
 * Message on fd 0, envelope on fd 1; exit 0 only once both are fsynced in
 * the queue directory, with their directory entries. Then wakes vmail-send. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "enqueue.h"
#include "dirsync.h"
#include "envelope.h"
#include "privilege.h"
#include "queue.h"

#define USAGE "vmail-queue < message 1< envelope"
#define READ_TIMEOUT 86400      /* seconds for the whole input, as qmail-queue */
#define COPY_BUF 65536
#define CREATE_TRIES 20         /* ids taken by another process in the same microsecond */

/* qmail-queue exit codes (qmail-queue(8)) */
#define EXIT_ADDR_TOO_LONG 11
#define EXIT_NOMEM 51
#define EXIT_TIMEOUT 52
#define EXIT_WRITE 53
#define EXIT_READ 54
#define EXIT_SETUP 61          /* qmail: trouble in the home directory; here, the mail user */
#define EXIT_QUEUE_FILES 62
#define EXIT_BUG 81
#define EXIT_ENVELOPE 91

static char id[QUEUE_ID_LEN + 1];
static stralloc tmpmess = STRALLOC_ZERO, tmpenv = STRALLOC_ZERO, path = STRALLOC_ZERO;

static void cleanup(void)
{
  if (tmpmess.len) unlink(tmpmess.s);
  if (tmpenv.len) unlink(tmpenv.s);
}

static void die(int code, char const *what, int sys)
{
  int e = errno;
  cleanup();
  errno = e;
  if (sys) strerr_diefu2sys(code, what, id);
  strerr_dief2x(code, what, id);
}

static void on_alarm(int sig)
{
  (void)sig;
  cleanup();
  _exit(EXIT_TIMEOUT);
}

static int write_code(void) { return errno == ENOMEM ? EXIT_NOMEM : EXIT_WRITE; }

static int fsync_dir(char const *dir, char const *sub)
{
  if (queue_path(&path, dir, 0, sub) < 0) return -1;
  return dir_fsync(path.s);
}

/* The trace line (RFC 5322 3.6.7): a comment and the date, with the line
 * ending the message itself uses, so a CRLF message stays CRLF. */
static uid_t invoker;   /* who ran us, before any change of user */

static size_t received(char *buf, size_t max, int crlf)
{
  char date[64];
  time_t now = time(0);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return (size_t)snprintf(buf, max, "Received: (vmail-queue %lu invoked %s%lu);%s\t%s%s",
                          (unsigned long)getpid(), getenv("TCPREMOTEIP") ? "from network by uid " : "by uid ",
                          (unsigned long)invoker, crlf ? "\r\n" : "\n", date, crlf ? "\r\n" : "\n");
}

/* The queue belongs to the mail user, whoever injects as root: VMAIL_UID,
 * or, for root's cron mail sent without the service's environment, the
 * owner of the queue directory, so vmail-send can read what we write. A
 * queue that root owns, or none, with VMAIL_UID unset: we refuse (with
 * qmail-queue's temporary code: the caller keeps the message). */
static void become_queue_owner(char const *dir)
{
  struct stat st;
  if (privilege_drop("VMAIL_UID", "VMAIL_GID") >= 0) return;
  if (errno != ENOENT) strerr_dief1x(EXIT_SETUP, privilege_error());
  if (stat(dir, &st) < 0 || !st.st_uid)
    strerr_dief4x(EXIT_SETUP, privilege_error(), " (and ", dir, " is not the mail user's)");
  if (privilege_become(st.st_uid, st.st_gid) < 0)
    strerr_diefu2sys(EXIT_SETUP, "become the owner of ", dir);
}

static int create(char const *dir, char const *suffix, stralloc *sa)
{
  for (int tries = 0; tries < CREATE_TRIES; tries++)
  {
    int fd;
    queue_id_new(id);
    if (queue_path(sa, dir, "tmp", id) < 0) die(EXIT_NOMEM, "out of memory for ", 0);
    if (suffix) { sa->len--; if (!stralloc_cats(sa, suffix) || !stralloc_0(sa)) die(EXIT_NOMEM, "out of memory for ", 0); }
    fd = open(sa->s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    if (errno != EEXIST) { sa->len = 0; die(EXIT_QUEUE_FILES, "create message file ", 1); }
    usleep(1000);
  }
  sa->len = 0;
  die(EXIT_QUEUE_FILES, "find a free queue id near ", 0);
  return -1;
}

static void copy_message(int out)
{
  char buf[COPY_BUF], head[256];
  ssize_t r;
  int first = 1;
  for (;;)   /* bounded by the input, and by READ_TIMEOUT */
  {
    r = read(0, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; die(EXIT_READ, "read message for ", 1); }
    if (first)
    {
      char const *nl = r > 0 ? memchr(buf, '\n', r) : 0;
      size_t n = received(head, sizeof head, nl && nl > buf && nl[-1] == '\r');
      if (allwrite(out, head, n) < n) die(write_code(), "write message ", 1);
      first = 0;
    }
    if (!r) break;
    if (allwrite(out, buf, r) < (size_t)r) die(write_code(), "write message ", 1);
  }
  if (fsync(out) < 0) die(EXIT_WRITE, "fsync message ", 1);
  if (close(out) < 0) die(EXIT_WRITE, "close message ", 1);
}

static void read_envelope(stralloc *env)
{
  struct envelope e;
  char buf[8192];
  for (;;)   /* bounded by ENVELOPE_MAX */
  {
    ssize_t r = read(1, buf, sizeof buf);
    int s;
    if (r < 0) { if (errno == EINTR) continue; die(EXIT_READ, "read envelope for ", 1); }
    if (!stralloc_catb(env, buf, r)) die(EXIT_NOMEM, "out of memory for ", 0);
    s = envelope_parse(env->s, env->len, &e);
    if (s == ENVELOPE_FORMAT && e.len) { env->len = e.len; s = envelope_parse(env->s, env->len, &e); }
    if (s == ENVELOPE_OK) return;
    if (s == ENVELOPE_TOOLONG || env->len > ENVELOPE_MAX) die(EXIT_ADDR_TOO_LONG, "accept envelope: address too long or too many recipients for ", 0);
    if (s == ENVELOPE_FORMAT) die(EXIT_ENVELOPE, "accept envelope: format error for ", 0);
    if (!r) die(EXIT_READ, "accept envelope: it ends early for ", 0);
  }
}

static void commit(char const *dir, char const *tmp, char const *sub)
{
  if (queue_path(&path, dir, sub, id) < 0) die(EXIT_NOMEM, "out of memory for ", 0);
  if (rename(tmp, path.s) < 0) die(EXIT_QUEUE_FILES, "move into place ", 1);
  if (fsync_dir(dir, sub) < 0) die(EXIT_WRITE, "fsync directory for ", 1);
}

int enqueue_main(int argc, char const *const *argv)
{
  stralloc env = STRALLOC_ZERO;
  char const *dir = queue_dir();
  int fd;
  PROG = "vmail-queue";
  (void)argv;
  if (argc > 1) strerr_dieusage(100, USAGE);
  invoker = getuid();
  become_queue_owner(dir);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGALRM, on_alarm);
  alarm(READ_TIMEOUT);
  if (queue_make(dir) < 0) strerr_diefu2sys(EXIT_QUEUE_FILES, "create queue directory ", dir);

  copy_message(create(dir, 0, &tmpmess));
  read_envelope(&env);
  if (queue_path(&tmpenv, dir, "tmp", id) < 0 || (tmpenv.len--, !stralloc_cats(&tmpenv, ".env")) || !stralloc_0(&tmpenv))
    die(EXIT_NOMEM, "out of memory for ", 0);
  fd = open(tmpenv.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) { tmpenv.len = 0; die(EXIT_QUEUE_FILES, "create envelope file ", 1); }
  if (allwrite(fd, env.s, env.len) < env.len) die(write_code(), "write envelope ", 1);
  if (fsync(fd) < 0 || close(fd) < 0) die(EXIT_WRITE, "fsync envelope ", 1);

  /* the message first: env/ID is what makes it queued */
  commit(dir, tmpmess.s, "mess");
  tmpmess.len = 0;
  commit(dir, tmpenv.s, "env");
  tmpenv.len = 0;
  queue_wake(dir, 'n');
  return 0;
}
