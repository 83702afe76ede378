/* vmail-imapd: the authenticated and selected states of IMAP4rev1 (RFC 3501)
 * with the usual extensions, for one user, in the current directory (the
 * user's Maildir, as vmail-checkpw leaves it). Answers the LOGIN tag given in
 * VMAIL_IMAP_TAG, or greets with PREAUTH when there is none. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "imap_io.h"
#include "imap_parse.h"
#include "imapd.h"
#include "privilege.h"

#define USAGE "vmail-imapd"

#define CAPABILITIES "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT" \
  " SPECIAL-USE LIST-EXTENDED LIST-STATUS ESEARCH SEARCHRES CHILDREN STATUS=SIZE BINARY MULTIAPPEND CATENATE CONTEXT=SEARCH" \
  " CONDSTORE QRESYNC SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES"

session imapd_session = { .user = "-", .saved = STRALLOC_ZERO };

void out(char const *s) { if (buffer_puts(buffer_1, s) < 0) session_end("writeerror", 111); }
void outb(char const *s, size_t n) { if (buffer_put(buffer_1, s, n) < 0) session_end("writeerror", 111); }
void outsa(stralloc const *sa) { outb(sa->s, sa->len); }
void outflush(void) { if (!buffer_flush(buffer_1)) session_end("writeerror", 111); }
void die_nomem(void) { session_end("nomem", 111); }

void outu(uint64_t n)
{
  char buf[UINT64_FMT];
  outb(buf, uint64_fmt(buf, n));
}

void outstring(char const *s, size_t n)
{
  int quotable = n < 1024;
  for (size_t i = 0; quotable && i < n; i++)
  {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '\r' || ch == '\n' || !ch || ch >= 0x80) quotable = 0;
  }
  if (quotable)
  {
    out("\"");
    for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '"' || s[i] == '\\') out("\\");
      outb(s + i, 1);
    }
    out("\"");
    return;
  }
  out("{"); outu(n); out("}\r\n"); outb(s, n);
}

static void reply(char const *tag, char const *status, char const *text)
{
  search_updates_refresh();   /* CONTEXT=SEARCH: what the command changed in updating results */
  out(tag); out(" "); out(status); out(" "); out(text); out("\r\n");
  outflush();
}

/* RFC 7162 3.1: the first CONDSTORE-enabling command, a mailbox being
 * selected, tells its HIGHESTMODSEQ before it completes. */
void reply_ok(char const *tag, char const *text)
{
  session *s = &imapd_session;
  s->bad_in_a_row = 0;
  if (s->cond && !s->cond_told)
  {
    s->cond_told = 1;
    if (s->mbox.selected) { out("* OK [HIGHESTMODSEQ "); outu(mailbox_highestmodseq(&s->mbox)); out("] Highest\r\n"); }
  }
  reply(tag, "OK", text);
}
void reply_no(char const *tag, char const *text) { imapd_session.bad_in_a_row = 0; reply(tag, "NO", text); }
void reply_bad(char const *tag, char const *text) { imapd_session.bad_in_a_row++; reply(tag, "BAD", text); }

static void log_session(session const *s, char const *reason)
{
  char n1[ULONG_FMT], n2[UINT64_FMT];
  char const *ip = getenv("TCPREMOTEIP");
  n1[ulong_fmt(n1, s->commands)] = 0;
  n2[uint64_fmt(n2, s->fetched)] = 0;
  strerr_warni("session user=", s->user, " ip=", ip ? ip : "-", " commands=", n1,
               " fetched=", n2, " end=", reason);
}

void session_end(char const *reason, int code)
{
  log_session(&imapd_session, reason);
  _exit(code);
}

void bye(char const *text, char const *reason, int code)
{
  /* not out(): a client that is gone makes it end the session itself */
  if (buffer_puts(buffer_1, "* BYE ") >= 0 && buffer_puts(buffer_1, text) >= 0 && buffer_puts(buffer_1, "\r\n") >= 0)
    buffer_flush(buffer_1);
  session_end(reason, code);
}

/* SELECT's parameters (RFC 4466): (CONDSTORE) or (QRESYNC (uidvalidity
 * modseq [known-uids [(seqs uids)]])), RFC 7162. 1 ok, 0 syntax. */
static int select_params(session const *s, imap_cursor *c, int *cond, uint32_t *uv, uint64_t *since, stralloc *known, int *has_known)
{
  stralloc word = STRALLOC_ZERO, seqs = STRALLOC_ZERO;
  int ok = 0;
  if (!imap_sp(c)) return imap_at_end(c);
  if (!imap_char(c, '(')) return 0;
  while (!imap_char(c, ')'))
  {
    word.len = 0;
    if (!imap_atom(c, &word) || !stralloc_0(&word)) goto end;
    if (!strcasecmp(word.s, "CONDSTORE")) *cond = 1;
    else if (!strcasecmp(word.s, "QRESYNC") && s->qres && !*uv)
    {
      uint64_t v;
      if (!imap_sp(c) || !imap_char(c, '(') || !imap_number(c, &v) || !v || v > UINT32_MAX
          || !imap_sp(c) || !parse_modseq(c, since)) goto end;
      *uv = (uint32_t)v;
      if (imap_sp(c) && imap_peek(c) != '(')
      {
        if (!imap_seqset(c, known)) goto end;
        *has_known = 1;
        imap_sp(c);
      }
      /* seq-match-data: the client's guess of sequence numbers, a hint we
         do not need (the VANISHED answer is exact) */
      if (imap_char(c, '(') && (!imap_seqset(c, &seqs) || !imap_sp(c) || !imap_seqset(c, &seqs) || !imap_char(c, ')'))) goto end;
      if (!imap_char(c, ')')) goto end;
      for (size_t i = 0; i < (known->len + seqs.len) / sizeof(uint32_t); i++)
      {
        uint32_t v32;
        memcpy(&v32, i < known->len / sizeof v32 ? known->s + i * sizeof v32 : seqs.s + i * sizeof v32 - known->len, sizeof v32);
        if (v32 == IMAP_SEQ_STAR) goto end;   /* "*" is not allowed there */
      }
      *cond = 1;
    }
    else goto end;
    if (imap_peek(c) != ')' && !imap_sp(c)) goto end;
  }
  ok = imap_at_end(c);
 end:
  stralloc_free(&word); stralloc_free(&seqs);
  return ok;
}

static void cmd_select(session *s, imap_cursor *c, char const *tag, int readonly)
{
  stralloc name = STRALLOC_ZERO, known = STRALLOC_ZERO;
  int r, cond = 0, has_known = 0;
  uint32_t qr_uidvalidity = 0;
  uint64_t qr_since = 0;
  if (!imap_sp(c) || !imap_astring(c, &name)
      || !select_params(s, c, &cond, &qr_uidvalidity, &qr_since, &known, &has_known))
  {
    stralloc_free(&name); stralloc_free(&known);
    reply_bad(tag, "Syntax: SELECT mailbox [(CONDSTORE | QRESYNC (uidvalidity modseq [uids]))]");
    return;
  }
  if (!name_from_wire(&name)) { stralloc_free(&name); stralloc_free(&known); reply_no(tag, "[NONEXISTENT] Mailbox name is not UTF-8"); return; }
  if (s->mbox.selected) { mailbox_close(&s->mbox); out("* OK [CLOSED] Previous mailbox closed\r\n"); }
  if (cond) s->cond = 1;
  s->saved.len = 0;
  if (!stralloc_0(&name)) die_nomem();
  s->mbox.track_modseq = 1;
  r = mailbox_open(&s->mbox, name.s, readonly);
  stralloc_free(&name);
  if (r <= 0) { stralloc_free(&known); reply_no(tag, r ? "[SERVERBUG] Cannot open mailbox" : "[NONEXISTENT] No such mailbox"); return; }
  out_flag_lists(&s->mbox);
  {
    size_t n = box_count(), recent = 0, unseen = 0;
    for (size_t i = 0; i < n; i++)
    {
      msg *m = box_msg(i);
      if (m->flags & FL_RECENT) recent++;
      if (!unseen && !(m->flags & FL_SEEN)) unseen = i + 1;
    }
    out("* "); outu(n); out(" EXISTS\r\n");
    if (!s->rev2)
    {
      out("* "); outu(recent); out(" RECENT\r\n");
      if (unseen) { out("* OK [UNSEEN "); outu(unseen); out("] First unseen\r\n"); }
    }
    else { out("* LIST () "); out_separator(); out(" "); out_name(s->mbox.name.s); out("\r\n"); }
  }
  out("* OK [UIDVALIDITY "); outu(s->mbox.uidvalidity); out("] UIDs valid\r\n");
  out("* OK [UIDNEXT "); outu(s->mbox.uidnext); out("] Predicted next UID\r\n");
  out("* OK [HIGHESTMODSEQ "); outu(mailbox_highestmodseq(&s->mbox)); out("] Highest\r\n");
  if (s->cond) s->cond_told = 1;
  if (qr_uidvalidity) qresync_select(s, qr_uidvalidity, qr_since, has_known ? &known : 0);
  stralloc_free(&known);
  reply_ok(tag, s->mbox.readonly ? "[READ-ONLY] Examine completed" : "[READ-WRITE] Select completed");
}

static void cmd_enable(session *s, imap_cursor *c, char const *tag)
{
  stralloc cap = STRALLOC_ZERO;
  unsigned n = 0;
  int rev2 = 0, cond = 0, qr = 0;
  while (imap_sp(c))
  {
    if (!imap_atom(c, &cap) || !stralloc_0(&cap) || ++n > 100) { reply_bad(tag, "Syntax: ENABLE capability..."); stralloc_free(&cap); return; }
    if (!strcasecmp(cap.s, "IMAP4rev2")) rev2 = 1;
    if (!strcasecmp(cap.s, "CONDSTORE")) cond = 1;
    if (!strcasecmp(cap.s, "QRESYNC")) qr = 1;
    cap.len = 0;
  }
  stralloc_free(&cap);
  if (!n) { reply_bad(tag, "Syntax: ENABLE capability..."); return; }
  /* RFC 5161: ENABLED lists what this command newly enabled (UTF8=ACCEPT
     is not implemented); QRESYNC implies CONDSTORE */
  out("* ENABLED");
  if (rev2 && !s->rev2) out(" IMAP4rev2");
  if (cond && !s->cond) out(" CONDSTORE");
  if (qr && !s->qres) out(" QRESYNC");
  out("\r\n");
  if (rev2) s->rev2 = 1;
  if (cond || qr) s->cond = 1;
  if (qr) s->qres = 1;
  reply_ok(tag, "Enabled");
}

static void cmd_id(imap_cursor *c, char const *tag)
{
  /* RFC 2971: the client's parameters are only logged by nobody; accept any
   * well-formed list or NIL. */
  stralloc s = STRALLOC_ZERO;
  int nil;
  if (!imap_sp(c)) { reply_bad(tag, "Syntax: ID (params) | NIL"); return; }
  if (imap_char(c, '('))
  {
    unsigned n = 0;
    while (!imap_char(c, ')'))
    {
      if (n && !imap_sp(c)) { reply_bad(tag, "Syntax: ID (params) | NIL"); stralloc_free(&s); return; }
      if (!imap_nstring(c, &s, &nil) || ++n > 60) { reply_bad(tag, "Syntax: ID (params) | NIL"); stralloc_free(&s); return; }
    }
  }
  else if (!imap_nstring(c, &s, &nil) || !nil) { reply_bad(tag, "Syntax: ID (params) | NIL"); stralloc_free(&s); return; }
  stralloc_free(&s);
  out("* ID (\"name\" \"vmail\" \"vendor\" \"vmail\")\r\n");
  reply_ok(tag, "ID completed");
}

/* After every command that allows it (RFC 3501 7.4.1: not FETCH, STORE,
 * SEARCH), the session learns what other sessions did to the folder. */
static void sync_after(session *s, int allow_expunge)
{
  if (s->mbox.selected) mailbox_sync(&s->mbox, 1, allow_expunge);
}

static void do_capability(session *s, imap_cursor *c, char const *tag, int uid)
{
  (void)s; (void)c; (void)uid;
  out("* CAPABILITY " CAPABILITIES "\r\n");
  reply_ok(tag, "Capability completed");
}
static void do_noop(session *s, imap_cursor *c, char const *tag, int uid) { (void)c; (void)uid; sync_after(s, 1); reply_ok(tag, "NOOP completed"); }
static void do_check(session *s, imap_cursor *c, char const *tag, int uid) { (void)c; (void)uid; sync_after(s, 1); reply_ok(tag, "Check completed"); }
static void do_logout(session *s, imap_cursor *c, char const *tag, int uid)
{
  (void)s; (void)c; (void)uid;
  out("* BYE Logging out\r\n");
  reply_ok(tag, "Logout completed");
  session_end("logout", 0);
}
static void do_login(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; (void)c; (void)uid; reply_bad(tag, "Already authenticated"); }
static void do_enable(session *s, imap_cursor *c, char const *tag, int uid) { (void)uid; cmd_enable(s, c, tag); }
static void do_id(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; (void)uid; cmd_id(c, tag); }
static void do_namespace(session *s, imap_cursor *c, char const *tag, int uid)
{
  (void)s; (void)c; (void)uid;
  out("* NAMESPACE ((\"\" "); out_separator(); out(")) NIL NIL\r\n");
  reply_ok(tag, "Namespace completed");
}
static void do_select(session *s, imap_cursor *c, char const *tag, int uid) { (void)uid; cmd_select(s, c, tag, 0); }
static void do_examine(session *s, imap_cursor *c, char const *tag, int uid) { (void)uid; cmd_select(s, c, tag, 1); }
static void do_list(session *s, imap_cursor *c, char const *tag, int uid) { (void)uid; sync_after(s, 1); cmd_list(s, c, tag, 0); }
static void do_lsub(session *s, imap_cursor *c, char const *tag, int uid) { (void)uid; cmd_list(s, c, tag, 1); }
static void do_create(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; (void)uid; cmd_create(c, tag); }
static void do_delete(session *s, imap_cursor *c, char const *tag, int uid) { (void)uid; cmd_delete(s, c, tag); }
static void do_rename(session *s, imap_cursor *c, char const *tag, int uid) { (void)uid; cmd_rename(s, c, tag); }
static void do_subscribe(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; (void)uid; cmd_subscribe(c, tag, 1); }
static void do_unsubscribe(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; (void)uid; cmd_subscribe(c, tag, 0); }
static void do_status(session *s, imap_cursor *c, char const *tag, int uid) { (void)uid; cmd_status(s, c, tag); }
static void do_append(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; (void)uid; cmd_append(c, tag); }
static void do_idle(session *s, imap_cursor *c, char const *tag, int uid) { (void)c; (void)uid; cmd_idle(s, tag); }
static void do_close(session *s, imap_cursor *c, char const *tag, int uid)
{
  (void)c; (void)uid;
  if (!s->mbox.readonly) mailbox_expunge(&s->mbox, 0, 0);
  mailbox_close(&s->mbox);
  reply_ok(tag, "Close completed");
}
static void do_unselect(session *s, imap_cursor *c, char const *tag, int uid) { (void)c; (void)uid; mailbox_close(&s->mbox); reply_ok(tag, "Unselect completed"); }
static void do_store(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; cmd_store(c, tag, uid); }
static void do_copy(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; cmd_copy(c, tag, uid, 0); }
static void do_move(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; cmd_copy(c, tag, uid, 1); }
static void do_expunge(session *s, imap_cursor *c, char const *tag, int uid) { (void)s; cmd_expunge(c, tag, uid); }

/* Every command: the state it needs, and whether it may follow UID. */
enum { CMD_SELECTED = 1, CMD_UID = 2 };
static struct {
  char const *name;
  unsigned flags;
  void (*run)(session *, imap_cursor *, char const *, int);
} const COMMANDS[] = {
  { "CAPABILITY", 0, do_capability }, { "NOOP", 0, do_noop }, { "LOGOUT", 0, do_logout },
  { "LOGIN", 0, do_login }, { "AUTHENTICATE", 0, do_login }, { "ENABLE", 0, do_enable }, { "ID", 0, do_id },
  { "NAMESPACE", 0, do_namespace }, { "SELECT", 0, do_select }, { "EXAMINE", 0, do_examine },
  { "LIST", 0, do_list }, { "LSUB", 0, do_lsub }, { "CREATE", 0, do_create }, { "DELETE", 0, do_delete },
  { "RENAME", 0, do_rename }, { "SUBSCRIBE", 0, do_subscribe }, { "UNSUBSCRIBE", 0, do_unsubscribe },
  { "STATUS", 0, do_status }, { "APPEND", 0, do_append }, { "IDLE", 0, do_idle },
  { "CHECK", CMD_SELECTED, do_check }, { "CLOSE", CMD_SELECTED, do_close }, { "UNSELECT", CMD_SELECTED, do_unselect },
  { "FETCH", CMD_SELECTED | CMD_UID, cmd_fetch }, { "SEARCH", CMD_SELECTED | CMD_UID, cmd_search },
  { "SORT", CMD_SELECTED | CMD_UID, cmd_sort }, { "THREAD", CMD_SELECTED | CMD_UID, cmd_thread },
  { "STORE", CMD_SELECTED | CMD_UID, do_store }, { "COPY", CMD_SELECTED | CMD_UID, do_copy },
  { "MOVE", CMD_SELECTED | CMD_UID, do_move }, { "EXPUNGE", CMD_SELECTED | CMD_UID, do_expunge },
  { "CANCELUPDATE", CMD_SELECTED, cmd_cancelupdate },
};
#define COMMAND_COUNT (sizeof COMMANDS / sizeof COMMANDS[0])

static void dispatch(session *s, imap_cursor *c, char const *tag, stralloc *word)
{
  int uid = !strcasecmp(word->s, "UID");
  size_t i;
  if (uid)
  {
    if (!s->mbox.selected) { reply_bad(tag, "No mailbox selected"); return; }
    word->len = 0;
    if (!imap_sp(c) || !imap_atom(c, word) || !stralloc_0(word)) { reply_bad(tag, "Syntax: UID command"); return; }
  }
  for (i = 0; i < COMMAND_COUNT; i++) if (!strcasecmp(word->s, COMMANDS[i].name)) break;
  if (i == COMMAND_COUNT || (uid && !(COMMANDS[i].flags & CMD_UID))) { reply_bad(tag, "Unknown command"); return; }
  if ((COMMANDS[i].flags & CMD_SELECTED) && !s->mbox.selected) { reply_bad(tag, "No mailbox selected"); return; }
  COMMANDS[i].run(s, c, tag, uid);
}

int main(int argc, char const *const *argv)
{
  stralloc cmd = STRALLOC_ZERO, tag = STRALLOC_ZERO, word = STRALLOC_ZERO;
  char const *login_tag = getenv("VMAIL_IMAP_TAG");
  session *s = &imapd_session;
  PROG = "vmail-imapd";
  if (argc > 1 && argv[1][0] == '-') strerr_dieusage(100, USAGE);
  /* started as root by hand: the mailbox is still the mail user's */
  if (privilege_drop("VMAIL_UID", "VMAIL_GID") < 0) strerr_dief1x(privilege_exitcode(), privilege_error());
  if (getenv("USER")) s->user = getenv("USER");
  if (!folders_init()) strerr_dief1x(100, "VMAIL_IMAP_SEPARATOR must be . or /");
  signal(SIGPIPE, SIG_IGN);   /* a vanished client is a write error: logged, not a silent death */
  {
    /* tell vmail-imap-login that the session is ours from now on */
    char const *x = getenv("VMAIL_IMAP_STARTED_FD");
    unsigned fd;
    if (x && uint0_scan(x, &fd) && fd > 2) { if (write((int)fd, "1", 1) < 0) { /* the login is gone: nothing to tell */ } close((int)fd); }
    unsetenv("VMAIL_IMAP_STARTED_FD");
  }
  special_use_create();
  imap_io_spool(&append_spool, IMAPD_APPEND_SPOOL_MIN);
  if (login_tag && *login_tag)
  {
    out(login_tag);
    out(" OK [CAPABILITY " CAPABILITIES "] Logged in\r\n");
  }
  else out("* PREAUTH [CAPABILITY " CAPABILITIES "] vmail ready\r\n");
  outflush();
  for (;;)
  {
    imap_cursor c;
    int r = imap_read_command(&cmd, IMAP_LINE_MAX, IMAP_LITERAL_MAX, IMAP_AUTOLOGOUT_SECS);
    if (r == 0) session_end("disconnect", 0);
    if (r < 0)
    {
      if (errno == ETIMEDOUT) bye("Autologout: idle for too long", "timeout", 0);
      if (errno == E2BIG)
      {
        /* the rest of the command is read and dropped: a BAD, and on */
        imap_cursor_init(&c, cmd.s, cmd.len);
        tag.len = 0;
        if (imap_tag(&c, &tag) && stralloc_0(&tag)) reply_bad(tag.s, "Command line too long");
        else { out("* BAD Command line too long\r\n"); outflush(); s->bad_in_a_row++; }
        if (s->bad_in_a_row >= IMAPD_BAD_COMMANDS_MAX) bye("Too many bad commands", "bad", 0);
        continue;
      }
      if (errno == EFBIG)
      {
        /* the client waits for our word before sending the literal */
        imap_cursor_init(&c, cmd.s, cmd.len);
        tag.len = 0;
        if (imap_tag(&c, &tag) && stralloc_0(&tag)) { reply_no(tag.s, "[TOOBIG] Literal too large"); continue; }
      }
      if (errno == EMSGSIZE || errno == EFBIG) bye("Literal too large", "toobig", 0);
      session_end("readerror", 111);
    }
    s->commands++;
    imap_cursor_init(&c, cmd.s, cmd.len);
    tag.len = 0; word.len = 0;
    if (!imap_tag(&c, &tag) || !stralloc_0(&tag) || !imap_sp(&c) || !imap_atom(&c, &word) || !stralloc_0(&word))
    {
      out("* BAD Syntax error\r\n"); outflush();
      if (++s->bad_in_a_row >= IMAPD_BAD_COMMANDS_MAX) bye("Too many bad commands", "bad", 0);
      continue;
    }
    dispatch(s, &c, tag.s, &word);
    outflush();
    if (s->bad_in_a_row >= IMAPD_BAD_COMMANDS_MAX) bye("Too many bad commands", "bad", 0);
  }
}
