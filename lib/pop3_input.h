/* pop3_input: reading POP3 command lines from a descriptor, bounded in
 * length and in time. Shared by vmail-pop3-login and vmail-pop3d.
 *
 * Output pending on the given buffer is flushed before the reader blocks, so
 * pipelined commands (RFC 2449 6.6) are answered in one write. In onebyte
 * mode the reader never takes more than it returns: whatever the client sent
 * after the current line stays in the descriptor for the program exec'd
 * next (the login hands the connection to vmail-pop3d).
 * Functions return 1 (a line), 0 end of input, -1 with errno: ETIMEDOUT (no
 * line before the deadline), the flush's errno when flushing failed (then
 * output_failed is set), E2BIG (a line over POP3_LINE_MAX: returned as
 * soon as the buffer is full, the rest of the line unread, so the caller
 * ends the session), or a read error. */
#ifndef VMAIL_POP3_INPUT_H
#define VMAIL_POP3_INPUT_H

#include <stddef.h>
#include <skalibs/buffer.h>
#include "pop3_command.h"

typedef struct pop3_input_s
{
  int fd;
  int onebyte;                    /* read one byte per call: see above */
  buffer *flush;                  /* flushed before blocking; may be 0 */
  int output_failed;              /* that flush failed: the client is gone or does not read */
  size_t start, len;              /* unread bytes are buf[start..len) */
  char buf[POP3_LINE_MAX + 2];    /* a whole line and its CRLF */
} pop3_input;

/* Prepares in to read fd. */
void pop3_input_init(pop3_input *in, int fd, int onebyte, buffer *flush);

/* Reads one line into line/len (pointing into in, valid until the next call;
 * CRLF or LF removed, NUL-terminated). Waits at most timeout_secs seconds
 * for the whole line. */
int pop3_input_line(pop3_input *in, unsigned int timeout_secs, char **line, size_t *len);

#endif
