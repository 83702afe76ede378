/* vmail-imapd: the session and the functions the command files export.
 *
 * One process serves one authenticated session, in the user's Maildir (the
 * current directory). main.c dispatches each command through one table
 * (the state it needs, whether it may follow UID) with the session struct.
 * The selected folder's messages live in the session's `mbox.msgs`, in
 * UID order: index i is sequence number i + 1, as this session last told
 * the client (RFC 3501 7.4.1: the view changes only when we report it). */
#ifndef VMAIL_IMAPD_H
#define VMAIL_IMAPD_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include "imap_parse.h"
#include "imap_cache.h"
#include "modseq.h"
#include "uidlist.h"

#define IMAPD_BAD_COMMANDS_MAX 20      /* consecutive BAD answers before BYE */
#define IMAPD_KEYWORDS_MAX 26          /* Dovecot's a..z letters in Maildir names */
#define IMAPD_FOLDERS_MAX 10000        /* folders listed; the rest is ignored */
#define IMAPD_MESSAGES_MAX 1000000     /* messages per folder we keep in view */
#define IMAPD_SEARCH_DEPTH_MAX 64      /* nesting of NOT / OR / ( ) in SEARCH */

/* system flags, as bits */
#define FL_SEEN     0x01   /* S */
#define FL_ANSWERED 0x02   /* R */
#define FL_FLAGGED  0x04   /* F */
#define FL_DELETED  0x08   /* T */
#define FL_DRAFT    0x10   /* D */
#define FL_RECENT   0x20   /* session only: not in the file name */

typedef struct msg_s msg;
struct msg_s {
  uint32_t uid;
  uint32_t flags;       /* FL_* */
  uint32_t keywords;    /* bit i: keyword i of box.keywords */
  char *file;           /* path relative to the folder: "cur/BASE:2,FS" or "new/BASE" */
  size_t base_len;      /* length of BASE within file + 4 */
  uint64_t size;        /* RFC822.SIZE, CRLF form; 0 = not known yet */
  int64_t internaldate; /* seconds; 0 = not known yet */
  uint64_t modseq;      /* CONDSTORE mod-sequence as of the last sync or STORE */
};

typedef struct mailbox_s mailbox;
struct mailbox_s {
  int selected;
  int readonly;
  stralloc name;        /* IMAP name, NUL-terminated */
  stralloc dir;         /* Maildir++ folder dir: "." or ".Sent", NUL-terminated */
  uint32_t uidvalidity;
  uint32_t uidnext;
  genalloc msgs;        /* msg, UID order */
  stralloc keywords;    /* keyword names, each NUL-terminated, index = letter - 'a' */
  unsigned keyword_count;
  imap_cache cache;     /* loaded on first need (cache_loaded) */
  int cache_loaded;
  int track_modseq;     /* keep modlog (and msg modseqs) up to date at each sync */
  modseq_log modlog;    /* the folder's mod-sequences (lib/modseq) */
  uidlist ul;           /* the folder's uid list as last read (lib/uidlist) */
};

/* The session: one per process (as vmail-smtpd's), passed to every
 * command as s. */
typedef struct session_s session;
struct session_s {
  mailbox mbox;         /* the selected mailbox, if mbox.selected */
  char const *user;     /* for the log line */
  int rev2;             /* ENABLE IMAP4rev2 (RFC 9051): no \Recent, SEARCH answers ESEARCH */
  int cond;             /* a CONDSTORE-enabling command was seen (RFC 7162 3.1): MODSEQ in FETCH answers */
  int cond_told;        /* ... and its HIGHESTMODSEQ told */
  int qres;             /* ENABLE QRESYNC (RFC 7162 3.2): VANISHED instead of EXPUNGE */
  stralloc saved;       /* uint32_t UIDs the last SEARCH ... SAVE kept (RFC 5182 "$") */
  uint64_t fetched;     /* bytes of message content sent, for the log line */
  unsigned bad_in_a_row;
  unsigned long commands;
};
extern session imapd_session;   /* main.c */

/* The names mailbox.c and store.c know the session's parts by (their own
 * interfaces take no session yet). */
#define box (imapd_session.mbox)
#define imapd_user (imapd_session.user)
#define imap4rev2 (imapd_session.rev2)
#define condstore (imapd_session.cond)
#define qresync (imapd_session.qres)
#define saved_uids (imapd_session.saved)
#define stat_fetched_bytes (imapd_session.fetched)

/* main.c: output and replies */
void out(char const *s);
void outb(char const *s, size_t n);
void outu(uint64_t n);
void outsa(stralloc const *sa);
void outstring(char const *s, size_t n);     /* quoted or literal */
void outflush(void);
void reply_ok(char const *tag, char const *text);
void reply_no(char const *tag, char const *text);
void reply_bad(char const *tag, char const *text);
void die_nomem(void);
/* The session's one log line (end=reason), then exit with code; bye sends
 * "* BYE text" first. */
void session_end(char const *reason, int code) __attribute__((noreturn));
void bye(char const *text, char const *reason, int code) __attribute__((noreturn));

/* What a refresh of the view or an expunge changed, in the view's terms;
 * the sync module (sync.c) turns it into untagged replies. */
typedef struct mailbox_change_s {
  uint32_t uid;
  uint32_t seq;     /* expunged: its 1-based number in the view before the change */
  int flags;        /* changed: flags or keywords (else only the mod-sequence) */
} mailbox_change;
typedef struct mailbox_changes_s {
  genalloc expunged;   /* mailbox_change, ascending */
  genalloc changed;    /* mailbox_change, ascending UIDs still in view */
  size_t added;        /* messages appended to the view */
  int keywords;        /* the keyword table grew */
} mailbox_changes;
#define MAILBOX_CHANGES_ZERO { GENALLOC_ZERO, GENALLOC_ZERO, 0, 0 }

/* mailbox.c: the storage layer. It writes no IMAP: what changed is
 * returned in a mailbox_changes (ch may be 0: not wanted). */
int folder_dir(char const *name, size_t len, stralloc *dir);   /* IMAP name -> ".X"; 0 invalid */
int folder_exists(char const *dir);
int folder_canonical(stralloc *name);                          /* "inbox" -> "INBOX" */
size_t box_count(void);
msg *box_msg(size_t i);                                        /* i: 0-based */
int mailbox_open(mailbox *b, char const *name, int readonly);  /* 1 ok, 0 no such folder, -1 error */
void mailbox_close(mailbox *b);
/* Brings b's view in step with the folder: new messages (UIDs given),
 * flags changed, messages gone (only when allow_expunge; otherwise the view
 * keeps its numbers until it may lose some). 0 ok, -1 error. */
int mailbox_update(mailbox *b, int allow_expunge, mailbox_changes *ch);
/* Removes the \Deleted messages (those among uids_only, a UID range set,
 * when not 0) from the folder and the view. 0 ok. */
int mailbox_remove(mailbox *b, stralloc const *uids_only, mailbox_changes *ch);
void mailbox_changes_free(mailbox_changes *ch);
char const *keyword_name(stralloc const *names, unsigned i);   /* "" if none */
void mailbox_free_msgs(mailbox *b);   /* the view and the cached uid list */
int keywords_load(char const *dir, stralloc *names, unsigned *count);
int keywords_save(char const *dir, stralloc const *names, unsigned count);
int keyword_index(stralloc *names, unsigned *count, char const *kw, int create);
/* Makes the keywords among wanted (NUL-terminated names; system flags are
 * skipped) known in dir's keyword file, under the folder's lock, so that
 * sessions never give two keywords one letter; names and count get the
 * file's whole table. 1 ok, -1 error. */
int keywords_define(char const *dir, stralloc const *wanted, stralloc *names, unsigned *count);
/* Rereads b's keyword table; 1 if another session added keywords. */
int keywords_refresh(mailbox *b);
void flags_letters(uint32_t flags, uint32_t keywords, stralloc *sa);     /* "FRS"+"ab" */
void flags_parse_letters(char const *info, uint32_t *flags, uint32_t *keywords);
int msg_set_flags(mailbox *b, msg *m, uint32_t flags, uint32_t keywords); /* renames the file */
/* Rereads m's flags from its file name if another session renamed it. */
void msg_flags_current(mailbox *b, msg *m);
int msg_open(mailbox *b, msg *m);                                        /* fd or -1 */
int msg_read(mailbox *b, msg *m, stralloc *sa);                          /* whole file */
int msg_date(mailbox *b, msg *m);     /* m->internaldate from the file (stat); -1 gone */
int msg_size(mailbox *b, msg *m);     /* m->size: from the cache, ",W=", or the file; -1 gone */
/* b's cache, read on first need (and compacted when mostly dead). */
imap_cache *mailbox_cache(mailbox *b);
/* The folder's highest mod-sequence as b last saw it (at least 1). */
uint64_t mailbox_highestmodseq(mailbox const *b);
/* Flags as a lib/modseq mask. */
uint32_t msg_mask(uint32_t flags, uint32_t keywords);
/* Appends a UID set in compact form ("3:5,9") of ascending uids. */
void uidset_fmt(uint32_t const *uids, size_t n, stralloc *sa);
/* After deliver_copy: the stored messages' UIDs, appended to dir's uid list
 * under its lock; *uidvalidity gets the folder's, for COPYUID/APPENDUID.
 * When dir is the selected folder and nobody numbered messages since its
 * last sync, they join the view at once, recent (*joined set: the caller
 * reports them), without a rescan. 0 ok, -1 error. */
int uid_assign(char const *dir, stralloc const *stored, genalloc *uids, uint32_t *uidvalidity, int *joined);
void msg_fullpath(mailbox *b, msg *m, stralloc *p);                     /* "dir/cur/NAME", NUL-terminated */
/* Stores a message into folder dir: linked from linkfrom when not 0 and
 * possible, else head[headlen] then fd's content (fd may be -1). The
 * message is durable once the caller has called folder_sync_cur (once for
 * many). */
int folder_sync_cur(char const *dir);   /* fsync of dir/cur: 0 ok, -1 error */
int deliver_copy(char const *dir, int fd, char const *linkfrom, char const *head, size_t headlen,
                 uint32_t flags, stralloc const *kwnames_src, uint32_t keywords,
                 int64_t internaldate, stralloc *stored);   /* appends "cur/NAME\0" */

/* sync.c: the IMAP face of the storage layer. */
/* Refreshes the view (mailbox_update) and, when report, tells the client
 * what changed: FLAGS when keywords were added, every expunge (EXPUNGE, or
 * VANISHED with QRESYNC) before any FETCH of flags, FETCH numbered in the
 * new view, then EXISTS and RECENT. 0 ok, -1 error. */
int mailbox_sync(mailbox *b, int report, int allow_expunge);
/* mailbox_remove, reported as mailbox_sync reports. */
int mailbox_expunge(mailbox *b, stralloc const *uids_only, int report);
void sync_report(mailbox const *b, mailbox_changes const *ch);
void out_flag_lists(mailbox const *b);                                   /* FLAGS, PERMANENTFLAGS */
void out_flags(mailbox const *b, msg const *m);                          /* "(\Seen ...)" */
/* Sends "* VANISHED [(EARLIER) ]set" for ascending uids (nothing if none). */
void out_vanished(uint32_t const *uids, size_t n, int earlier);
int parse_flag_list(imap_cursor *c, stralloc *names, int *list);        /* ( flags ) or flag */
/* Flag names -> bits; keywords are numbered in kwnames, defined first in
 * dir's table (keywords_define) unless dir is 0 (then unknown ones are
 * left out). 1 ok, 0 an unknown system flag, -1 the table not written. */
int flags_from_names(stralloc const *names, char const *dir, stralloc *kwnames, unsigned *kwcount,
                     uint32_t *flags, uint32_t *keywords);

/* folders.c */
/* Mailbox names on the wire are UTF-8 once IMAP4rev2 is enabled (RFC 9051
 * 5.1), stored (and sent to IMAP4rev1 clients) as modified UTF-7.
 * name_from_wire converts a client's name in place (name->len bytes);
 * 0 if it is not valid UTF-8. out_name sends a stored name as a string. */
int name_from_wire(stralloc *name);
void out_name(char const *stored);
/* VMAIL_IMAP_SEPARATOR ("." by default, or "/"): the hierarchy separator
 * clients see; 0 if the setting is neither. out_separator sends it quoted.
 * name_from_wire also turns it into the '.' of Maildir++, drops a trailing
 * one, and empties names no folder may have (wildcards; tmp, new, cur as
 * a component), which folder_dir then refuses. */
int folders_init(void);
void out_separator(void);
void special_use_create(void);
void cmd_list(session *s, imap_cursor *c, char const *tag, int lsub);
void cmd_create(imap_cursor *c, char const *tag);
void cmd_delete(session *s, imap_cursor *c, char const *tag);
void cmd_rename(session *s, imap_cursor *c, char const *tag);
void cmd_subscribe(imap_cursor *c, char const *tag, int on);
void cmd_status(session *s, imap_cursor *c, char const *tag);

/* fetch.c */
void cmd_fetch(session *s, imap_cursor *c, char const *tag, int uid);

/* search.c */
void cmd_search(session *s, imap_cursor *c, char const *tag, int uid);
/* The messages (0-based indexes, ascending) that the criteria at c (up to
 * the end of the command) select; 0 on a syntax error. *modseq_used: a
 * MODSEQ key was among them. */
int search_select(session *s, imap_cursor *c, genalloc *indexes, int *modseq_used);
/* Sends numbers as a sequence set, ascending runs as ranges ("1:3,7"). */
void search_out_set(uint32_t const *h, size_t count);
/* RETURN options (RFC 4731; ESORT's, RFC 5267; CONTEXT=SEARCH's UPDATE
 * and PARTIAL, RFC 5267 4) */
enum { RET_MIN = 1, RET_MAX = 2, RET_COUNT = 4, RET_ALL = 8, RET_SAVE = 16, RET_UPDATE = 32, RET_PARTIAL = 64 };
/* "(options)" after RETURN into *ret (RET_ALL when empty); SAVE, UPDATE
 * and PARTIAL (its range into partial, lowest first) only for SEARCH
 * (search). 0 on a syntax error. */
int return_options(imap_cursor *c, int search, unsigned *ret, uint32_t partial[2]);
/* "* ESEARCH (TAG ...) [UID] ..." for h[count] (MIN and MAX: the first and
 * last of h), without the line's end. */
void esearch_out(char const *tag, int uid, unsigned ret, uint32_t const *h, size_t count);

/* context.c: SEARCH RETURN (UPDATE) (RFC 5267 4.3): the searches whose
 * results the client keeps up to date, until CANCELUPDATE or the mailbox
 * is closed; the result is told as ESEARCH ADDTO / REMOVEFROM. */
#define IMAPD_SEARCH_UPDATES_MAX 10   /* updating searches of one session */
/* Registers tag's search (criteria[len], as the client wrote them) with
 * its result (indexes into the view); 0 when there are too many. */
int search_update_add(char const *tag, int uid, char const *criteria, size_t len, genalloc const *indexes);
void search_updates_clear(void);
/* Before the EXPUNGE (or, numbered as before the change, the VANISHED)
 * of message uid, numbered seq at that moment: its REMOVEFROM. */
void search_updates_expunged(uint32_t uid, uint32_t seq);
/* Before a tagged reply: each search again over the view, and what
 * entered or left its result. */
void search_updates_refresh(void);
void cmd_cancelupdate(session *s, imap_cursor *c, char const *tag, int uid);
/* sort.c: SORT and UID SORT (RFC 5256), with SORT=DISPLAY (RFC 5957) and
 * ESORT's RETURN options (RFC 5267). */
void cmd_sort(session *s, imap_cursor *c, char const *tag, int uid);
/* THREAD ORDEREDSUBJECT and REFERENCES (RFC 5256 4). */
void cmd_thread(session *s, imap_cursor *c, char const *tag, int uid);

/* store.c */
void cmd_store(imap_cursor *c, char const *tag, int uid);
void cmd_copy(imap_cursor *c, char const *tag, int uid, int move);
void cmd_append(imap_cursor *c, char const *tag);
/* imap_io's spool hook: an APPEND's literals of IMAPD_APPEND_SPOOL_MIN
 * bytes or more go to a nameless file in the Maildir's tmp/, not memory
 * (a MULTIAPPEND may carry 64 MiB). */
#define IMAPD_APPEND_SPOOL_MIN 65536
int append_spool(char const *s, size_t len, uint64_t size);
void cmd_expunge(imap_cursor *c, char const *tag, int uid);
/* catenate.c: CATENATE's "(parts)" (RFC 4469) at c joined into data:
 * TEXT literals (spooled ones read back) and URLs of this user's messages.
 * 1 ok, 0 a syntax error, -1 a URL names nothing (badurl gets it), -2 a
 * spooled part unreadable or the whole over IMAP_LITERAL_MAX (errno). */
#define CATENATE_PARTS_MAX 1000   /* parts of one message */
int catenate_parts(imap_cursor *c, stralloc *data, stralloc *badurl);
/* A sequence set, or "$" (SEARCHRES, RFC 5182: the last SEARCH ... SAVE),
 * into ranges of UIDs (uid) or of sequence numbers. */
int parse_set(imap_cursor *c, stralloc *ranges, int uid);
/* messages (0-based indexes, ascending) selected by a sequence set */
int select_set(stralloc const *ranges, int uid, genalloc *indexes);

/* condstore.c */
int parse_modseq(imap_cursor *c, uint64_t *v);                   /* mod-sequence-valzer */
/* "* VANISHED (EARLIER)" for the UIDs (among known, a UID set, if not 0)
 * expunged after mod-sequence since. */
void vanished_since(session *s, uint64_t since, stralloc const *known);
/* SELECT ... (QRESYNC (uidvalidity since [known])): what changed. */
void qresync_select(session *s, uint32_t uidvalidity, uint64_t since, stralloc const *known);

/* idle.c */
void cmd_idle(session *s, char const *tag);

#endif
