/* store: the commands that change messages: STORE (RFC 3501 6.4.6), COPY,
 * MOVE (RFC 6851), APPEND (with MULTIAPPEND, RFC 3502), EXPUNGE and UID
 * EXPUNGE (UIDPLUS, RFC 4315, which also gives APPENDUID and COPYUID). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "imap_io.h"
#include "mime.h"
#include "uidlist.h"
#include "imapd.h"

#define APPEND_MESSAGES_MAX 1000   /* messages in one MULTIAPPEND */

/* Appends a UID set in compact form ("3:5,9") of ascending uids. */
void uidset_fmt(uint32_t const *uids, size_t n, stralloc *sa)
{
  char num[UINT32_FMT];
  for (size_t i = 0; i < n; )
  {
    size_t j = i;
    while (j + 1 < n && uids[j + 1] == uids[j] + 1) j++;
    if (i && !stralloc_catb(sa, ",", 1)) die_nomem();
    if (!stralloc_catb(sa, num, uint32_fmt(num, uids[i]))) die_nomem();
    if (j > i && (!stralloc_catb(sa, ":", 1) || !stralloc_catb(sa, num, uint32_fmt(num, uids[j])))) die_nomem();
    i = j + 1;
  }
}

void cmd_store(imap_cursor *c, char const *tag, int uid)
{
  stralloc ranges = STRALLOC_ZERO, word = STRALLOC_ZERO, names = STRALLOC_ZERO;
  genalloc indexes = GENALLOC_ZERO, modified = GENALLOC_ZERO;
  uint32_t flags, keywords;
  uint64_t unchangedsince = 0;
  int mode, silent = 0, list, r, conditional = 0, lock;
  unsigned kwbefore = box.keyword_count;
  size_t n;
  if (!imap_sp(c) || !parse_set(c, &ranges, uid) || !imap_sp(c)) goto bad;
  if (imap_char(c, '('))
  {
    /* store-modifier (RFC 7162 3.1.3): (UNCHANGEDSINCE modseq) */
    if (!imap_atom(c, &word) || !stralloc_0(&word) || strcasecmp(word.s, "UNCHANGEDSINCE")
        || !imap_sp(c) || !parse_modseq(c, &unchangedsince) || !imap_char(c, ')') || !imap_sp(c)) goto bad;
    conditional = condstore = 1;
    word.len = 0;
  }
  mode = imap_char(c, '+') ? 1 : imap_char(c, '-') ? -1 : 0;
  if (!imap_atom(c, &word) || !stralloc_0(&word)) goto bad;
  if (!strcasecmp(word.s, "FLAGS.SILENT")) silent = 1;
  else if (strcasecmp(word.s, "FLAGS")) goto bad;
  if (!imap_sp(c) || !parse_flag_list(c, &names, &list) || !imap_at_end(c)) goto bad;
  if (box.readonly) { reply_no(tag, "[READ-ONLY] Mailbox is read-only"); goto end; }
  if (select_set(&ranges, uid, &indexes) < 0) { reply_bad(tag, "Invalid message sequence number"); goto end; }
  /* keywords other sessions defined, which their names may refer to */
  keywords_refresh(&box);
  r = flags_from_names(&names, mode >= 0 ? box.dir.s : 0, &box.keywords, &box.keyword_count, &flags, &keywords);
  if (!r) goto bad;
  if (r < 0) { reply_no(tag, "[SERVERBUG] Cannot record keywords"); goto end; }
  /* RFC 3501 7.2.6: new keywords are announced before they are used */
  if (box.keyword_count != kwbefore) out_flag_lists(&box);
  n = genalloc_len(size_t, &indexes);
  /* the changes and their mod-sequences under the folder's lock, so that an
     UNCHANGEDSINCE test and the change it guards are one step; the answers
     after it (a slow client must not hold the lock) */
  lock = uidlist_lock(box.dir.s);
  if (lock >= 0 && modseq_read(&box.modlog, box.dir.s, box.uidvalidity) < 0) { fd_close(lock); lock = -1; }
  if (lock < 0 && conditional) { reply_no(tag, "[SERVERBUG] Cannot lock the mailbox"); goto end; }
  for (size_t i = 0; i < n; i++)
  {
    size_t idx = genalloc_s(size_t, &indexes)[i];
    msg *m = box_msg(idx);
    uint32_t nf, nk;
    /* +FLAGS and -FLAGS change what is on disk now, not what we last saw */
    msg_flags_current(&box, m);
    if (lock >= 0) m->modseq = modseq_set(&box.modlog, m->uid, msg_mask(m->flags, m->keywords));
    if (conditional && m->modseq > unchangedsince)
    {
      uint32_t v = uid ? m->uid : (uint32_t)(idx + 1);
      if (!genalloc_append(uint32_t, &modified, &v)) die_nomem();
      genalloc_s(size_t, &indexes)[i] = SIZE_MAX;   /* not changed, not answered */
      continue;
    }
    nf = m->flags; nk = m->keywords;
    if (mode > 0) { nf |= flags; nk |= keywords; }
    else if (mode < 0) { nf &= ~flags; nk &= ~keywords; }
    else { nf = flags | (m->flags & FL_RECENT); nk = keywords; }
    msg_set_flags(&box, m, nf, nk);
    if (lock >= 0) m->modseq = modseq_set(&box.modlog, m->uid, msg_mask(m->flags, m->keywords));
  }
  if (lock >= 0) { modseq_write(&box.modlog, box.dir.s); fd_close(lock); }
  for (size_t i = 0; i < n; i++)
  {
    size_t idx = genalloc_s(size_t, &indexes)[i];
    msg *m;
    if (idx == SIZE_MAX) continue;
    m = box_msg(idx);
    /* with CONDSTORE the MODSEQ goes out even for .SILENT (RFC 7162 3.1.3) */
    if (!silent || uid || condstore)
    {
      char const *sep = "";
      out("* "); outu(idx + 1); out(" FETCH (");
      if (uid) { out("UID "); outu(m->uid); sep = " "; }
      if (!silent) { out(sep); out("FLAGS "); out_flags(&box, m); sep = " "; }
      if (condstore) { out(sep); out("MODSEQ ("); outu(m->modseq); out(")"); }
      out(")\r\n");
    }
  }
  if (genalloc_len(uint32_t, &modified))
  {
    stralloc code = STRALLOC_ZERO;
    if (!stralloc_cats(&code, "[MODIFIED ")) die_nomem();
    uidset_fmt(genalloc_s(uint32_t, &modified), genalloc_len(uint32_t, &modified), &code);
    if (!stralloc_cats(&code, "] Conditional STORE failed") || !stralloc_0(&code)) die_nomem();
    reply_ok(tag, code.s);
    stralloc_free(&code);
  }
  else reply_ok(tag, uid ? "UID STORE completed" : "STORE completed");
  goto end;
 bad:
  reply_bad(tag, "Syntax: STORE set [(UNCHANGEDSINCE modseq)] [+|-]FLAGS[.SILENT] (flags)");
 end:
  stralloc_free(&ranges); stralloc_free(&word); stralloc_free(&names);
  genalloc_free(size_t, &indexes); genalloc_free(uint32_t, &modified);
}

/* After messages were stored into a folder: what the selected folder's
 * view gained. Those that joined it directly (uid_assign) are told without
 * a rescan; otherwise a sync finds them, with what others did. */
static void report_stored(int joined, size_t added)
{
  mailbox_changes ch = MAILBOX_CHANGES_ZERO;
  if (!joined) { mailbox_sync(&box, 1, 1); return; }
  ch.added = added;
  ch.keywords = keywords_refresh(&box);
  sync_report(&box, &ch);
}

/* Target folder of COPY/MOVE/APPEND; 1 ok, 0 replied. */
static int target(imap_cursor *c, char const *tag, stralloc *name, stralloc *dir)
{
  if (!imap_astring(c, name) || !imap_at_end(c)) { reply_bad(tag, "Syntax error in mailbox name"); return 0; }
  if (!name_from_wire(name)) { reply_no(tag, "[TRYCREATE] Mailbox name is not UTF-8"); return 0; }
  if (!stralloc_0(name)) die_nomem();
  name->len--;
  folder_canonical(name);
  if (!folder_dir(name->s, name->len, dir) || !folder_exists(dir->s)) { reply_no(tag, "[TRYCREATE] No such mailbox"); return 0; }
  return 1;
}

void cmd_copy(imap_cursor *c, char const *tag, int uid, int move)
{
  stralloc ranges = STRALLOC_ZERO, name = STRALLOC_ZERO, dir = STRALLOC_ZERO, code = STRALLOC_ZERO, stored = STRALLOC_ZERO,
           src_path = STRALLOC_ZERO;
  genalloc indexes = GENALLOC_ZERO, src = GENALLOC_ZERO, dst = GENALLOC_ZERO;
  uint32_t uidvalidity = 0;
  size_t n;
  int joined = 0;
  char num[UINT32_FMT];
  if (!imap_sp(c) || !parse_set(c, &ranges, uid) || !imap_sp(c)) { reply_bad(tag, move ? "Syntax: MOVE set mailbox" : "Syntax: COPY set mailbox"); goto end; }
  if (!target(c, tag, &name, &dir)) goto end;
  if (move && box.readonly) { reply_no(tag, "[READ-ONLY] Mailbox is read-only"); goto end; }
  if (select_set(&ranges, uid, &indexes) < 0) { reply_bad(tag, "Invalid message sequence number"); goto end; }
  n = genalloc_len(size_t, &indexes);
  for (size_t i = 0; i < n; i++)
  {
    msg *m = box_msg(genalloc_s(size_t, &indexes)[i]);
    struct stat st;
    int fd = msg_open(&box, m);
    if (fd < 0) continue;                          /* expunged meanwhile */
    if (!m->internaldate && fstat(fd, &st) == 0) m->internaldate = st.st_mtime;
    msg_fullpath(&box, m, &src_path);
    if (deliver_copy(dir.s, fd, src_path.s, 0, 0, m->flags, &box.keywords, m->keywords, m->internaldate, &stored) < 0)
    {
      fd_close(fd);
      reply_no(tag, "[SERVERBUG] Copy failed");
      goto end;
    }
    fd_close(fd);
    if (!genalloc_append(uint32_t, &src, &m->uid)) die_nomem();
  }
  /* the copies are durable once dir/cur is: one fsync for them all */
  if (stored.len && folder_sync_cur(dir.s) < 0) { reply_no(tag, "[SERVERBUG] Copy not durable"); goto end; }
  if (stored.len && uid_assign(dir.s, &stored, &dst, &uidvalidity, &joined) < 0) { reply_no(tag, "[SERVERBUG] Cannot number the copies"); goto end; }
  if (!stralloc_cats(&code, "[COPYUID ") || !stralloc_catb(&code, num, uint32_fmt(num, uidvalidity))
      || !stralloc_cats(&code, " ")) die_nomem();
  uidset_fmt(genalloc_s(uint32_t, &src), genalloc_len(uint32_t, &src), &code);
  if (!stralloc_cats(&code, " ")) die_nomem();
  uidset_fmt(genalloc_s(uint32_t, &dst), genalloc_len(uint32_t, &dst), &code);
  if (!stralloc_cats(&code, "] ")) die_nomem();
  if (!genalloc_len(uint32_t, &src)) code.len = 0;
  if (move)
  {
    stralloc moved = STRALLOC_ZERO;
    if (code.len) { out("* OK "); outsa(&code); out("Moved\r\n"); }
    /* expunge exactly the moved messages */
    for (size_t i = 0; i < genalloc_len(uint32_t, &src); i++)
    {
      uint32_t r[2];
      r[0] = r[1] = genalloc_s(uint32_t, &src)[i];
      if (!stralloc_catb(&moved, (char const *)r, sizeof r)) die_nomem();
    }
    n = box_count();
    for (size_t i = 0; i < n; i++)
      if (imap_seqset_has(&moved, box_msg(i)->uid, 0)) box_msg(i)->flags |= FL_DELETED;
    if (moved.len) mailbox_expunge(&box, &moved, 1);
    stralloc_free(&moved);
    /* a MOVE into this very folder: its EXISTS after the EXPUNGE (RFC 6851
       3.3); the copies may have joined the view already (uid_assign) */
    report_stored(joined, genalloc_len(uint32_t, &dst));
    reply_ok(tag, "Move completed");
  }
  else
  {
    if (!stralloc_cats(&code, "Copy completed") || !stralloc_0(&code)) die_nomem();
    /* copies into this very folder, and what others did, before the tagged
       answer: after it no command is in progress (RFC 3501 7.4.1) */
    report_stored(joined, genalloc_len(uint32_t, &dst));
    reply_ok(tag, code.s);
  }
 end:
  stralloc_free(&ranges); stralloc_free(&name); stralloc_free(&dir); stralloc_free(&code); stralloc_free(&stored);
  stralloc_free(&src_path);
  genalloc_free(size_t, &indexes); genalloc_free(uint32_t, &src); genalloc_free(uint32_t, &dst);
}

/* The command's last literal is a literal8 (~{N}): cmd_append converts its
 * binary parts in memory (mime_binary_encode), so it is not spooled. */
static int literal8_at_end(char const *s, size_t len)
{
  while (len && s[len - 1] != '{') len--;
  return len >= 2 && s[len - 2] == '~';
}

int append_spool(char const *s, size_t len, uint64_t size)
{
  imap_cursor c;
  stralloc word = STRALLOC_ZERO;
  int fd = -1;
  (void)size;
  imap_cursor_init(&c, s, len);
  if (!imap_tag(&c, &word) || !imap_sp(&c)) goto end;
  word.len = 0;
  /* only an APPEND's literals are messages; the file is nameless, in the
     Maildir's tmp/ (what a crash leaves of it is nothing) */
  if (imap_atom(&c, &word) && stralloc_0(&word) && !strcasecmp(word.s, "APPEND") && !literal8_at_end(s, len))
    fd = open("tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
 end:
  stralloc_free(&word);
  return fd;
}

void cmd_append(imap_cursor *c, char const *tag)
{
  stralloc name = STRALLOC_ZERO, dir = STRALLOC_ZERO, names = STRALLOC_ZERO, kw = STRALLOC_ZERO,
           data = STRALLOC_ZERO, code = STRALLOC_ZERO, stored = STRALLOC_ZERO, conv = STRALLOC_ZERO;
  genalloc uids = GENALLOC_ZERO;
  unsigned kwcount = 0, count = 0;
  int joined = 0;
  char num[UINT32_FMT];
  uint32_t uidvalidity = 0;
  if (!imap_sp(c) || !imap_astring(c, &name)) goto bad;
  if (!name_from_wire(&name)) { reply_no(tag, "[TRYCREATE] Mailbox name is not UTF-8"); goto end; }
  if (!stralloc_0(&name)) die_nomem();
  name.len--;
  folder_canonical(&name);
  if (!folder_dir(name.s, name.len, &dir) || !folder_exists(dir.s)) { reply_no(tag, "[TRYCREATE] No such mailbox"); goto end; }
  while (imap_sp(c))
  {
    uint32_t flags = 0, keywords = 0;
    int64_t date = 0;
    int list, r, spoolfd, spoolerr, binary;
    if (++count > APPEND_MESSAGES_MAX) goto bad;
    if (imap_peek(c) == '(')
    {
      if (!parse_flag_list(c, &names, &list) || !imap_sp(c)) goto bad;
      r = flags_from_names(&names, dir.s, &kw, &kwcount, &flags, &keywords);
      if (!r) goto bad;
      if (r < 0) { reply_no(tag, "[SERVERBUG] Cannot record keywords"); goto end; }
    }
    if (imap_peek(c) == '"' && (!imap_date_time(c, &date) || !imap_sp(c))) goto bad;
    data.len = 0;
    binary = imap_peek(c) == '~';
    /* a big message is in a spool file already (append_spool), not here;
       never a literal8, whose binary parts are converted in memory */
    if (!imap_spooled_at(c->pos + binary, &spoolfd, &spoolerr)) spoolfd = -1;
    if (!imap_string(c, &data)) goto bad;
    if (spoolfd >= 0 && spoolerr)
    {
      reply_no(tag, spoolerr == ENOSPC || spoolerr == EDQUOT ? "[OVERQUOTA] Disk full" : "[SERVERBUG] Cannot store message");
      goto end;
    }
    if (!data.len && spoolfd < 0) { reply_no(tag, "Empty message"); goto end; }
    /* a literal8's binary parts are stored as base64 (RFC 3516 4.3) */
    if (binary && (r = mime_binary_encode(data.s, data.len, &conv)) != 0)
    {
      stralloc t = data;
      if (r < 0) die_nomem();
      data = conv; conv = t;
    }
    if (deliver_copy(dir.s, spoolfd, 0, data.s, data.len, flags, &kw, keywords, date, &stored) < 0)
    {
      reply_no(tag, errno == ENOSPC || errno == EDQUOT ? "[OVERQUOTA] Disk full" : "[SERVERBUG] Cannot store message");
      goto end;
    }
  }
  if (!count || !imap_at_end(c)) goto bad;
  /* MULTIAPPEND is atomic for the client's view: all made durable with one
     fsync of cur/ and numbered at once */
  if (folder_sync_cur(dir.s) < 0) { reply_no(tag, "[SERVERBUG] Cannot store message"); goto end; }
  if (uid_assign(dir.s, &stored, &uids, &uidvalidity, &joined) < 0) { reply_no(tag, "[SERVERBUG] Cannot number the message"); goto end; }
  if (!stralloc_cats(&code, "[APPENDUID ") || !stralloc_catb(&code, num, uint32_fmt(num, uidvalidity))
      || !stralloc_cats(&code, " ")) die_nomem();
  uidset_fmt(genalloc_s(uint32_t, &uids), genalloc_len(uint32_t, &uids), &code);
  if (!stralloc_cats(&code, "] Append completed") || !stralloc_0(&code)) die_nomem();
  if (box.selected) report_stored(joined, genalloc_len(uint32_t, &uids));   /* our keyword table too */
  reply_ok(tag, code.s);
  goto end;
 bad:
  reply_bad(tag, "Syntax: APPEND mailbox [(flags)] [date-time] literal");
 end:
  stralloc_free(&name); stralloc_free(&dir); stralloc_free(&names); stralloc_free(&kw);
  stralloc_free(&data); stralloc_free(&code); stralloc_free(&stored); stralloc_free(&conv); genalloc_free(uint32_t, &uids);
}

void cmd_expunge(imap_cursor *c, char const *tag, int uid)
{
  stralloc ranges = STRALLOC_ZERO;
  if (uid && (!imap_sp(c) || !parse_set(c, &ranges, 1))) { reply_bad(tag, "Syntax: UID EXPUNGE set"); goto end; }
  if (!imap_at_end(c)) { reply_bad(tag, "Syntax: EXPUNGE"); goto end; }
  if (box.readonly) { reply_no(tag, "[READ-ONLY] Mailbox is read-only"); goto end; }
  if (uid)
  {
    /* "*" is the highest UID in the folder */
    mailbox_expunge(&box, &ranges, 1);
  }
  else mailbox_expunge(&box, 0, 1);
  mailbox_sync(&box, 1, 1);
  if (condstore)
  {
    /* the folder's mod-sequence after the expunges, as Dovecot gives it */
    char num[UINT64_FMT + 40];
    size_t k = 0;
    memcpy(num, "[HIGHESTMODSEQ ", 15); k = 15;
    k += uint64_fmt(num + k, mailbox_highestmodseq(&box));
    memcpy(num + k, "] Expunge completed", 20);
    reply_ok(tag, num);
  }
  else reply_ok(tag, "Expunge completed");
 end:
  stralloc_free(&ranges);
}
