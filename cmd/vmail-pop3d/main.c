/* vmail-pop3d: the TRANSACTION and UPDATE states of POP3 (RFC 1939) for
 * one Maildir, exec'd by vmail-checkpw after a successful login. It answers
 * the login's PASS/AUTH with its first line, so the client sees exactly one
 * reply. Deletions happen only at QUIT; a dropped connection deletes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/genalloc.h>
#include <skalibs/sha1.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "dovecot_uidlist.h"
#include "maildir_scan.h"
#include "md5.h"
#include "pop3_command.h"
#include "pop3_input.h"
#include "pop3_message.h"
#include "pop3_output.h"
#include "pop3_sizes.h"
#include "privilege.h"
#include "pop3_uidl.h"

#define USAGE "vmail-pop3d"
#define POP3_TIMEOUT_DEFAULT 600   /* RFC 1939 3: the autologout timer is at least 10 minutes */
#define POP3_ERRORS_MAX 10         /* bad commands before the session is ended */
#define POP3_LOCK_NAME "vmail-pop3.lock"
#define POP3_OUT_SIZE 65536
#define POP3_HEADER_MD5_MAX (1024 * 1024)   /* header bytes %m of a UIDL format reads */
#define POP3_UIDLIST_TRIES 3       /* reads of a dovecot-uidlist that grows while read */

typedef struct message_s
{
  size_t path;        /* offset of "new/NAME" or "cur/NAME" in names */
  size_t baselen;
  uint64_t stored;
  uint64_t size;      /* as sent, once known */
  uint32_t uid;       /* from dovecot-uidlist, 0 if none */
  size_t saved_uidl;  /* offset in saved_uidls of the UIDL Dovecot saved (its P), or SIZE_MAX */
  unsigned int sized : 1;
  unsigned int deleted : 1;
} message;

static char outbuf[POP3_OUT_SIZE];
static buffer out = BUFFER_INIT(&pop3_output_writev, 1, outbuf, sizeof outbuf);
static unsigned int timeout = POP3_TIMEOUT_DEFAULT;
static int output_dead;   /* a write failed: never try to write again */
_Noreturn static void finish(char const *end);
static stralloc names = STRALLOC_ZERO;   /* paths of the messages */
static genalloc messages = GENALLOC_ZERO;   /* message */
static stralloc saved_uidls = STRALLOC_ZERO;   /* NUL-terminated */
static uint32_t uidvalidity;
static char const *uidl_format;   /* VMAIL_POP3_UIDL_FORMAT, 0 for Dovecot's default */
static int sizes_dirty;
static struct { unsigned long retrieved, deleted; uint64_t bytes; } tally;

static message *msg(size_t i) { return genalloc_s(message, &messages) + i; }
static size_t msg_count(void) { return genalloc_len(message, &messages); }
static char const *msg_path(message const *m) { return names.s + m->path; }
static char const *msg_base(message const *m) { return names.s + m->path + 4; }

static void log_session(char const *end)
{
  char const *user = getenv("USER"), *ip = getenv("TCPREMOTEIP");
  char r[ULONG_FMT], d[ULONG_FMT], b[UINT64_FMT];
  r[ulong_fmt(r, tally.retrieved)] = 0;
  d[ulong_fmt(d, tally.deleted)] = 0;
  b[uint64_fmt(b, tally.bytes)] = 0;
  strerr_warni("session user=", user ? user : "-", " ip=", ip ? ip : "-", " retrieved=", r,
               " deleted=", d, " bytes=", b, " end=", end);
}

static void put(char const *s, size_t len)
{
  size_t w = 0;
  if (!buffer_putall(&out, s, len, &w))
  {
    output_dead = 1;
    finish(errno == ETIMEDOUT ? "write-timeout" : "write-error");
  }
}
static void puts_(char const *s) { put(s, strlen(s)); }
static void put_u64(uint64_t u) { char n[UINT64_FMT]; put(n, uint64_fmt(n, u)); }

/* Writes the size cache back if this session learned sizes. */
static void sizes_save(void)
{
  stralloc text = STRALLOC_ZERO;
  size_t i;
  if (!sizes_dirty) return;
  for (i = 0; i < msg_count(); i++)
  {
    message const *m = msg(i);
    if (m->sized && !pop3_sizes_line(&text, msg_base(m), m->baselen, m->stored, m->size)) goto end;
  }
  if (pop3_sizes_write(".", text.s ? text.s : "", text.len) < 0)
    strerr_warnwu2sys("write ", POP3_SIZES_NAME);
 end:
  stralloc_free(&text);
}

/* Ends the session without the UPDATE state: nothing is deleted. */
_Noreturn static void finish(char const *end)
{
  if (!output_dead && !buffer_flush(&out)) end = errno == ETIMEDOUT ? "write-timeout" : "write-error";
  sizes_save();
  log_session(end);
  _exit(0);
}

/* Opens message m, following it if it moved or changed flags since the scan. */
static int msg_open(message *m)
{
  int fd = open(msg_path(m), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
  {
    stralloc path = STRALLOC_ZERO;
    if (maildir_find(".", msg_base(m), m->baselen, &path) == 1)
    {
      size_t at = names.len;
      if (stralloc_catb(&names, path.s, path.len))
      {
        m->path = at;
        fd = open(msg_path(m), O_RDONLY | O_CLOEXEC);
      }
    }
    else errno = ENOENT;
    stralloc_free(&path);
  }
  return fd;
}

/* The size as sent of m: the cache's, else the name's ,W=, else counted
 * once; then cached. 1 ok, 0 unreadable.
 * A message removed by another client (IMAP) since the scan keeps its
 * stored size, so STAT and LIST still answer; RETR will say it is gone. */
static int msg_size(message *m)
{
  int fd, r;
  if (m->sized) return 1;
  fd = msg_open(m);
  if (fd < 0 && errno == ENOENT) { m->size = m->stored; return 1; }
  if (fd < 0) return 0;
  r = pop3_message_size_named(fd, msg_base(m), m->baselen, &m->size);
  if (!r) r = pop3_message_size(fd, &m->size);
  if (r < 0) { close(fd); return 0; }
  close(fd);
  m->sized = 1;
  sizes_dirty = 1;
  return 1;
}

static void reply_err(char const *text)
{
  puts_("-ERR ");
  puts_(text);
  put("\r\n", 2);
}

/* %m of a UIDL format: the MD5 of the message's header as stored, up to
   the empty line that ends it (the first POP3_HEADER_MD5_MAX bytes of a
   header that long). */
static int header_md5(void *ctx, unsigned char *digest)
{
  message const *m = ctx;
  stralloc h = STRALLOC_ZERO;
  size_t end = 0;
  md5 c;
  int fd = open(msg_path(m), O_RDONLY | O_CLOEXEC), found = 0;
  if (fd < 0) return 0;
  while (!found && h.len < POP3_HEADER_MD5_MAX)
  {
    ssize_t r;
    if (!stralloc_readyplus(&h, 4096)) { close(fd); stralloc_free(&h); return 0; }
    r = read(fd, h.s + h.len, 4096);
    if (r < 0) { close(fd); stralloc_free(&h); return 0; }
    if (!r) break;
    h.len += r;
    /* LF LF or LF CR LF ends the header */
    for (; end < h.len; end++)
      if (h.s[end] == '\n' && end
          && (h.s[end-1] == '\n' || (h.s[end-1] == '\r' && end > 1 && h.s[end-2] == '\n')))
      {
        end -= h.s[end-1] == '\r' ? 1 : 0;
        found = 1;
        break;
      }
  }
  close(fd);
  md5_init(&c);
  md5_update(&c, h.s, found ? end : (h.len < POP3_HEADER_MD5_MAX ? h.len : POP3_HEADER_MD5_MAX));
  md5_final(&c, digest);
  stralloc_free(&h);
  return 1;
}

/* The UIDL VMAIL_POP3_UIDL_FORMAT gives m, if it fits RFC 1939's syntax. */
static int uidl_formatted(message const *m)
{
  stralloc u = STRALLOC_ZERO;
  pop3_uidl_vars v = { .uidvalidity = uidvalidity, .uid = m->uid, .base = msg_base(m),
                       .baselen = m->baselen, .header_md5 = header_md5, .ctx = (void *)m };
  int ok = pop3_uidl_expand(uidl_format, &v, &u) && pop3_uidl_fit(u.s, u.len);
  if (ok) put(u.s, u.len);
  stralloc_free(&u);
  return ok;
}

static void uidl_put(message const *m)
{
  size_t i;
  char const *base = msg_base(m);
  if (m->saved_uidl != SIZE_MAX)
  {
    /* what Dovecot's POP3 server sends for it, whatever its uidl format */
    puts_(saved_uidls.s + m->saved_uidl);
    return;
  }
  /* the site's Dovecot pop3_uidl_format, for the messages Dovecot knew */
  if (m->uid && uidl_format && uidl_formatted(m)) return;
  if (m->uid)
  {
    /* Dovecot's default pop3_uidl_format %08Xu%08Xv: migrated clients keep
       theirs. Dovecot's %X writes lower-case hex digits (checked against
       Dovecot 2.3 by t/bench/pop3), so these are lower case too. */
    static char const hexdigit[] = "0123456789abcdef";
    char x[16];
    for (i = 0; i < 8; i++)
    {
      x[7 - i] = hexdigit[(m->uid >> (4 * i)) & 15];
      x[15 - i] = hexdigit[(uidvalidity >> (4 * i)) & 15];
    }
    put(x, sizeof x);
    return;
  }
  if (pop3_uidl_fit(base, m->baselen)) { put(base, m->baselen); return; }
  {
    /* a base name unfit as a unique-id: its SHA-1, just as stable */
    static char const hex[] = "0123456789abcdef";
    SHA1Schedule ctx = SHA1_INIT();
    char digest[20], text[40];
    sha1_update(&ctx, base, m->baselen);
    sha1_final(&ctx, digest);
    for (i = 0; i < 20; i++)
    {
      text[2 * i] = hex[(unsigned char)digest[i] >> 4];
      text[2 * i + 1] = hex[(unsigned char)digest[i] & 15];
    }
    put(text, sizeof text);
  }
}

/* Moves a retrieved message to cur/ with the seen flag, so IMAP sees it read.
 * Maildir flags (the part after ":2,") stay in ASCII order. Best effort. */
static void mark_seen(message *m)
{
  char const *path = msg_path(m), *info = strchr(path + 4, ':');
  stralloc to = STRALLOC_ZERO;
  char const *flags = "";
  size_t i;
  if (info && strncmp(info, ":2,", 3)) goto end;   /* an unknown info scheme: leave it */
  if (info) flags = info + 3;
  if (!strncmp(path, "cur/", 4) && strchr(flags, 'S')) goto end;
  if (!stralloc_cats(&to, "cur/") || !stralloc_catb(&to, msg_base(m), m->baselen) || !stralloc_cats(&to, ":2,")) goto end;
  for (i = 0; flags[i] && flags[i] < 'S'; i++) if (!stralloc_catb(&to, flags + i, 1)) goto end;
  if (!strchr(flags, 'S') && !stralloc_catb(&to, "S", 1)) goto end;
  if (!stralloc_cats(&to, flags + i) || !stralloc_0(&to)) goto end;
  if (rename(path, to.s) < 0) { strerr_warnwu4sys("rename ", path, " to ", to.s); goto end; }
  {
    size_t at = names.len;
    if (stralloc_catb(&names, to.s, to.len)) m->path = at;
  }
 end:
  stralloc_free(&to);
}

/* Message number argument: 1-based, existing, not deleted. Replies -ERR if not. */
static message *arg_message(pop3_command const *c, unsigned int i)
{
  uint32_t n;
  if (c->argc <= i || !pop3_command_number(c->argv[i], c->arglen[i], &n)) { reply_err("bad message number"); return 0; }
  if (!n || n > msg_count()) { reply_err("no such message"); return 0; }
  if (msg(n - 1)->deleted) { reply_err("message already deleted"); return 0; }
  return msg(n - 1);
}

static void do_stat(void)
{
  uint64_t total = 0;
  size_t i, count = 0;
  for (i = 0; i < msg_count(); i++)
  {
    message *m = msg(i);
    if (m->deleted) continue;
    if (!msg_size(m)) { reply_err("[SYS/TEMP] unable to read a message"); return; }
    total += m->size;
    count++;
  }
  puts_("+OK ");
  put_u64(count);
  put(" ", 1);
  put_u64(total);
  put("\r\n", 2);
}

/* LIST and UIDL: one message, or every undeleted one as a multi-line reply. */
static void do_listing(pop3_command const *c, int uidl)
{
  size_t i;
  if (c->argc > 1) { reply_err("too many arguments"); return; }
  if (c->argc == 1)
  {
    message *m = arg_message(c, 0);
    if (!m) return;
    if (!uidl && !msg_size(m)) { reply_err("[SYS/TEMP] unable to read the message"); return; }
    puts_("+OK ");
    put_u64((uint64_t)(m - msg(0)) + 1);
    put(" ", 1);
    if (uidl) uidl_put(m); else put_u64(m->size);
    put("\r\n", 2);
    return;
  }
  /* sizes first: a failure must come before the +OK */
  for (i = 0; !uidl && i < msg_count(); i++)
    if (!msg(i)->deleted && !msg_size(msg(i))) { reply_err("[SYS/TEMP] unable to read a message"); return; }
  puts_(uidl ? "+OK unique-id listing follows\r\n" : "+OK scan listing follows\r\n");
  for (i = 0; i < msg_count(); i++)
  {
    message *m = msg(i);
    if (m->deleted) continue;
    put_u64(i + 1);
    put(" ", 1);
    if (uidl) uidl_put(m); else put_u64(m->size);
    put("\r\n", 2);
  }
  put(".\r\n", 3);
}

/* RETR (lines < 0) and TOP. */
static void do_retrieve(message *m, long lines)
{
  uint64_t sent;
  int fd = msg_open(m);
  if (fd < 0) { reply_err(errno == ENOENT ? "message was removed by another client" : "[SYS/TEMP] unable to open the message"); return; }
  if (lines < 0 && m->sized) { puts_("+OK "); put_u64(m->size); puts_(" octets\r\n"); }
  else puts_("+OK message follows\r\n");
  if (pop3_message_send(fd, &out, lines, &sent) < 0)
  {
    /* the multi-line reply is cut short: nothing else can follow */
    int timedout = errno == ETIMEDOUT;
    if (!timedout) strerr_warnwu2sys("send ", msg_path(m));
    close(fd);
    output_dead = 1;
    finish(timedout ? "write-timeout" : "send-error");
  }
  close(fd);
  if (lines >= 0) return;
  /* learned, or corrected should a file have changed in place */
  if (!m->sized || m->size != sent) { m->size = sent; m->sized = 1; sizes_dirty = 1; }
  tally.retrieved++;
  tally.bytes += sent;
  mark_seen(m);
}

/* The UPDATE state (RFC 1939 6): removes the messages marked deleted. */
static void do_quit(void)
{
  size_t i, failed = 0;
  for (i = 0; i < msg_count(); i++)
  {
    message *m = msg(i);
    if (!m->deleted) continue;
    if (unlink(msg_path(m)) < 0)
    {
      stralloc path = STRALLOC_ZERO;
      int r = errno == ENOENT ? maildir_find(".", msg_base(m), m->baselen, &path) : -1;
      if (r == 0) { tally.deleted++; stralloc_free(&path); continue; }   /* already gone */
      if (r < 0 || unlink(path.s) < 0) { strerr_warnwu2sys("remove ", msg_path(m)); failed++; }
      else { tally.deleted++; m->sized = 0; sizes_dirty = 1; }
      stralloc_free(&path);
      continue;
    }
    tally.deleted++;
    m->sized = 0;   /* out of the size cache */
    sizes_dirty = 1;
  }
  if (failed) puts_("-ERR [SYS/TEMP] some deleted messages were not removed\r\n");
  else puts_("+OK bye\r\n");
  finish("quit");
}

static void capa(void)
{
  puts_("+OK capability list follows\r\n"
        "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
        "EXPIRE NEVER\r\nIMPLEMENTATION vmail\r\n.\r\n");
}

/* Lists the Maildir, adds Dovecot's UIDs and the cached sizes. */
static void load_mailbox(void)
{
  maildir_list list = MAILDIR_LIST_ZERO;
  dovecot_uidlist dl = DOVECOT_UIDLIST_ZERO;
  pop3_sizes cache = POP3_SIZES_ZERO;
  maildir_entry const *e;
  size_t i, n;
  int r;
  if (maildir_scan(".", &list) < 0) strerr_diefu1sys(111, "list the Maildir");
  e = genalloc_s(maildir_entry, &list.entries);
  n = genalloc_len(maildir_entry, &list.entries);
  /* Dovecot may be appending to it: read again */
  for (i = 0; (r = dovecot_uidlist_read(".", &dl)) < 0 && errno == EAGAIN && i < POP3_UIDLIST_TRIES; i++) ;
  if (r < 0)
  {
    /* UIDLs that changed for a session would make clients fetch everything again */
    if (errno != EPROTO && errno != EFBIG) strerr_diefu1sys(111, "read " DOVECOT_UIDLIST_NAME);
    strerr_warnwu2sys("read ", DOVECOT_UIDLIST_NAME);   /* broken for good: base names */
  }
  if (pop3_sizes_read(".", &cache) < 0) sizes_dirty = 1;   /* rebuilt at the end */
  uidvalidity = dl.uidvalidity;
  names = list.names;
  list.names = (stralloc)STRALLOC_ZERO;
  if (!genalloc_ready(message, &messages, n)) strerr_diefu1sys(111, "allocate");
  for (i = 0; i < n; i++)
  {
    message m = { .path = e[i].path, .baselen = e[i].baselen, .stored = e[i].stored, .saved_uidl = SIZE_MAX };
    m.sized = pop3_sizes_find(&cache, names.s + m.path + 4, m.baselen, m.stored, &m.size);
    genalloc_append(message, &messages, &m);
  }
  if (r > 0)
  {
    /* dovecot-uidlist in file order against the sorted messages */
    size_t pos = 0, upos = 0, k = 0, count = dl.uids.len / sizeof(uint32_t);
    for (; k < count && pos < dl.names.len && upos < dl.pop3_uidls.len; k++)
    {
      char const *name = dl.names.s + pos, *saved = dl.pop3_uidls.s + upos;
      size_t len = strlen(name), savedlen = strlen(saved), lo = 0, hi = n;
      uint32_t uid;
      memcpy(&uid, dl.uids.s + k * sizeof uid, sizeof uid);
      while (lo < hi)
      {
        size_t mid = lo + (hi - lo) / 2;
        message *m = msg(mid);
        int c = maildir_base_cmp(msg_base(m), m->baselen, name, len);   /* the list's order */
        if (!c)
        {
          /* a later duplicate overrides, as in Dovecot */
          m->uid = uid;
          m->saved_uidl = SIZE_MAX;
          if (pop3_uidl_fit(saved, savedlen))
          {
            m->saved_uidl = saved_uidls.len;
            if (!stralloc_catb(&saved_uidls, saved, savedlen + 1)) strerr_diefu1sys(111, "allocate");
          }
          break;
        }
        if (c < 0) lo = mid + 1; else hi = mid;
      }
      pos += len + 1;
      upos += savedlen + 1;
    }
  }
  if (cache.entries.len / sizeof(pop3_size_entry) != n) sizes_dirty = 1;   /* drop entries of removed mail */
  dovecot_uidlist_free(&dl);
  pop3_sizes_free(&cache);
  maildir_scan_free(&list);
}

/* One session lock per mailbox: a second session is refused with [IN-USE]
 * (RFC 2449 8.1.2) rather than let two sessions number the same messages. */
static int lock_mailbox(void)
{
  int fd = open(POP3_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) strerr_diefu1sys(111, "open " POP3_LOCK_NAME);
  if (flock(fd, LOCK_EX | LOCK_NB) < 0)
  {
    if (errno == EWOULDBLOCK) return 0;
    strerr_diefu1sys(111, "lock " POP3_LOCK_NAME);
  }
  return 1;
}

int main(int argc, char const *const *argv)
{
  pop3_input in;
  unsigned int errors = 0;
  char const *x = getenv("VMAIL_POP3_TIMEOUT"), *maildir = getenv("MAILDIR");
  (void)argv;
  PROG = "vmail-pop3d";
  if (argc > 1) strerr_dieusage(100, USAGE);
  /* started as root by hand: the mailbox is still the mail user's */
  if (privilege_drop("VMAIL_UID", "VMAIL_GID") < 0) strerr_dief1x(privilege_exitcode(), privilege_error());
  if (x && *x && (!uint0_scan(x, &timeout) || !timeout)) strerr_dief2x(100, "bad VMAIL_POP3_TIMEOUT: ", x);
  x = getenv("VMAIL_POP3_UIDL_FORMAT");
  if (x && *x)
  {
    char const *why;
    if (!pop3_uidl_check(x, &why)) strerr_dief4x(100, "bad VMAIL_POP3_UIDL_FORMAT: ", x, ": ", why);
    uidl_format = x;
  }
  signal(SIGPIPE, SIG_IGN);
  /* a client that stops reading: each write may block at most the autologout time */
  if (pop3_output_init(timeout) < 0) strerr_diefu1sys(111, "set a SIGALRM handler");
  /* Before the first reply any failure exits 111 in silence: the login answers. */
  if (maildir && *maildir && chdir(maildir) < 0) strerr_diefu2sys(111, "chdir to ", maildir);
  if (!lock_mailbox())
  {
    puts_("-ERR [IN-USE] the mailbox is open in another POP3 session\r\n");
    finish("in-use");
  }
  load_mailbox();
  puts_("+OK ");
  put_u64(msg_count());
  puts_(" messages\r\n");
  pop3_input_init(&in, 0, 0, &out);
  /* one command per turn; the session ends at QUIT, EOF, timeout or too many errors */
  for (;;)
  {
    pop3_command c;
    char *line;
    size_t len;
    int r = pop3_input_line(&in, timeout, &line, &len);
    if (!r) finish("eof");
    if (r < 0)
    {
      if (in.output_failed) { output_dead = 1; finish(errno == ETIMEDOUT ? "write-timeout" : "write-error"); }
      if (errno == ETIMEDOUT) { puts_("-ERR autologout: idle too long\r\n"); finish("timeout"); }
      /* an overlong line ends the session: the rest of it is never read */
      if (errno == E2BIG) { reply_err("line too long"); finish("line-too-long"); }
      finish("read-error");
    }
    if (!pop3_command_parse(line, len, &c) || c.verb == POP3_UNKNOWN)
    {
      reply_err("unknown command or bad arguments");
      if (++errors >= POP3_ERRORS_MAX) { reply_err("too many errors"); finish("errors"); }
      continue;
    }
    switch (c.verb)
    {
      case POP3_QUIT: do_quit(); break;
      case POP3_NOOP: puts_("+OK\r\n"); break;
      case POP3_CAPA: capa(); break;
      case POP3_STAT: if (c.argc) reply_err("STAT takes no argument"); else do_stat(); break;
      case POP3_LIST: do_listing(&c, 0); break;
      case POP3_UIDL: do_listing(&c, 1); break;
      case POP3_RETR:
      {
        message *m = c.argc == 1 ? arg_message(&c, 0) : (reply_err("RETR takes one message number"), (message *)0);
        if (m) do_retrieve(m, -1);
        break;
      }
      case POP3_TOP:
      {
        uint32_t lines;
        message *m;
        if (c.argc != 2 || !pop3_command_number(c.argv[1], c.arglen[1], &lines)) { reply_err("usage: TOP msg n"); break; }
        m = arg_message(&c, 0);
        if (m) do_retrieve(m, (long)lines);
        break;
      }
      case POP3_DELE:
      {
        message *m = c.argc == 1 ? arg_message(&c, 0) : (reply_err("DELE takes one message number"), (message *)0);
        if (m) { m->deleted = 1; puts_("+OK marked for deletion\r\n"); }
        break;
      }
      case POP3_RSET:
      {
        size_t i;
        for (i = 0; i < msg_count(); i++) msg(i)->deleted = 0;
        puts_("+OK\r\n");
        break;
      }
      default:
        reply_err("not in the TRANSACTION state");
        if (++errors >= POP3_ERRORS_MAX) { reply_err("too many errors"); finish("errors"); }
        break;
    }
  }
}
