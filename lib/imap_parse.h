/* imap_parse: the IMAP command grammar (RFC 3501 9, RFC 9051 9), over one
 * whole command held in memory.
 *
 * A command as the server assembles it is its lines with their CRLFs and the
 * bytes of every literal in place: `a APPEND INBOX {5}\r\nhello\r\n` is one
 * buffer, and a literal token `{5}\r\n` (or `{5+}`, `~{5}` for BINARY) is read
 * straight from it. A cursor walks the buffer; every function consumes what it
 * recognises and returns 1, or returns 0 (syntax error) with the cursor
 * somewhere inside the command. Nothing reads past len, so arbitrary bytes are
 * safe. Strings land in a stralloc (not NUL-terminated unless stated). */
#ifndef VMAIL_IMAP_PARSE_H
#define VMAIL_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

/* RFC 7162 3.2.1 asks servers to take lines of at least 8192 octets; UID sets
 * from a big mailbox's sync run longer, so allow 64 KiB per line. */
#define IMAP_LINE_MAX 65536
/* The largest literal accepted (APPEND of a big message). */
#define IMAP_LITERAL_MAX (64UL * 1024 * 1024)
/* Lines (literals + 1) in one command, e.g. a MULTIAPPEND. */
#define IMAP_COMMAND_LINES_MAX 1000

#define IMAP_SEQ_STAR 0u            /* "*" in a sequence set (no number is 0; 4294967295 is a valid UID) */

typedef struct imap_cursor_s imap_cursor;
struct imap_cursor_s { char const *s; size_t len; size_t pos; };

/* Does line[len] (no CRLF) end with a literal announcement "{N}" or "{N+}"
 * (also "~{N}")? 1 with *n and *nonsync set; 0 if not; -1 if it does but N is
 * not a number or is above IMAP_LITERAL_MAX (*nonsync set all the same). */
int imap_literal_tail(char const *line, size_t len, uint64_t *n, int *nonsync);

void imap_cursor_init(imap_cursor *c, char const *s, size_t len);
int imap_at_end(imap_cursor const *c);                /* nothing but CRLF left */
int imap_peek(imap_cursor const *c);                  /* next byte, or -1 */
int imap_char(imap_cursor *c, char ch);               /* consumes ch exactly */
int imap_sp(imap_cursor *c);                          /* one SP */

/* tag: ASTRING-CHAR except '+' (RFC 9051 9). */
int imap_tag(imap_cursor *c, stralloc *out);
/* atom: ATOM-CHAR+ (no ( ) { SP CTL % * " \ ]). */
int imap_atom(imap_cursor *c, stralloc *out);
/* flag: "\"atom or atom, or "\*" (flag-perm). */
int imap_flag(imap_cursor *c, stralloc *out);
/* string: quoted or literal. */
int imap_string(imap_cursor *c, stralloc *out);
/* astring: ASTRING-CHAR+ (atom plus ']') or string. */
int imap_astring(imap_cursor *c, stralloc *out);
/* nstring: NIL (*is_nil = 1) or string. */
int imap_nstring(imap_cursor *c, stralloc *out, int *is_nil);
/* list-mailbox: list-chars (atom plus % * ]) or string. */
int imap_list_mailbox(imap_cursor *c, stralloc *out);
/* number: 1*DIGIT fitting in 64 bits. */
int imap_number(imap_cursor *c, uint64_t *n);

/* sequence-set (RFC 9051 9): appends pairs of uint32_t (low, high), low <=
 * high after resolving, IMAP_SEQ_STAR for "*", to ranges; "$" is refused. */
int imap_seqset(imap_cursor *c, stralloc *ranges);
/* Is n in ranges, "*" meaning star? */
int imap_seqset_has(stralloc const *ranges, uint32_t n, uint32_t star);

/* date (RFC 3501: d-Mon-yyyy, optionally quoted) -> days since the epoch
 * via *t (seconds at 00:00 UTC). */
int imap_date(imap_cursor *c, int64_t *t);
/* date-time "dd-Mon-yyyy hh:mm:ss +zzzz" (quoted) -> seconds since epoch. */
int imap_date_time(imap_cursor *c, int64_t *t);
/* Appends the date-time form of t (UTC) for INTERNALDATE, with quotes. */
int imap_date_time_fmt(int64_t t, stralloc *out);

#endif
