/* imap_io: reading IMAP commands from fd 0, literals included, under a
 * deadline. Shared by vmail-imap-login and vmail-imapd.
 *
 * A command is read as imap_parse.h expects it: each line with its CRLF,
 * and after a line announcing a literal {N}, the N bytes, then the next line,
 * until a line that announces none. A synchronising literal {N} gets the
 * continuation "+ OK\r\n" on buffer_1 (flushed) before its bytes are read;
 * {N+} (LITERAL+, RFC 7888) does not.
 * Functions return 1 ok, 0 end of input, -1 error with errno: ETIMEDOUT (no
 * input before the deadline), E2BIG (a line over its limit or too many
 * lines: the rest of the command, up to a synchronising literal, has been
 * read and thrown away, cmd holds its beginning, and the session may go on
 * after a tagged BAD), EFBIG (a synchronising literal over the caller's limit, refused
 * before the client sent it: cmd holds the command up to it, and the
 * session may go on after a tagged NO), EMSGSIZE (a non-synchronising
 * literal over the limit: its bytes are on their way), or a read error. */
#ifndef VMAIL_IMAP_IO_H
#define VMAIL_IMAP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

/* RFC 9051 5.4: an idle client may be logged out after at least 30 minutes. */
#define IMAP_AUTOLOGOUT_SECS 1800

/* Reads one whole command into cmd (replacing its contents). line_max
 * bounds each line (at most IMAP_LINE_MAX), literal_max the literals of the
 * command together (at most IMAP_LITERAL_MAX), so a MULTIAPPEND cannot
 * hold more in memory than one big APPEND. */
int imap_read_command(stralloc *cmd, size_t line_max, size_t literal_max, unsigned timeout_secs);

/* Spooling big literals to files instead of memory (an APPEND's message,
 * RFC 3501 6.3.11): once a hook is set, for each literal of min bytes or
 * more, the hook gets the command so far (s[len], ending with the literal's
 * header) and its size, and returns a file descriptor to write the bytes to
 * (from offset 0), or -1 to keep them in the command. A spooled literal's
 * header becomes {0} in the command (~{0} for a literal8); imap_spooled_at
 * says, for the offset of that '{', which descriptor holds the bytes and
 * the errno of a failed write (0 if none). The descriptors are closed when
 * the next command is read. At most IMAP_SPOOLED_MAX literals a command are
 * spooled. */
#define IMAP_SPOOLED_MAX 1000   /* vmail-imapd's MULTIAPPEND limit */
typedef int imap_spool_fn(char const *s, size_t len, uint64_t size);
void imap_io_spool(imap_spool_fn *hook, uint64_t min);
int imap_spooled_at(size_t at, int *fd, int *error);   /* 1 spooled, 0 not */

/* Reads one line (CRLF or LF stripped) into line, e.g. IDLE's DONE or an
 * AUTHENTICATE response. */
int imap_read_line(stralloc *line, unsigned timeout_secs);

/* Reads fd 0 one byte at a time from now on, so that nothing past the
 * current command is consumed: a login program that hands fd 0 to the
 * server it execs must not swallow the client's next commands. */
void imap_io_exact(void);

/* Are input bytes already buffered (so fd 0 need not be polled)? */
int imap_input_buffered(void);

#endif
