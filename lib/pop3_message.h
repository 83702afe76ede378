/* pop3_message: a stored message as POP3 sends it (RFC 1939 3, 7, 11).
 *
 * On the wire every line ends in CRLF whatever the Maildir file holds (bare
 * LF, CRLF or a mix), a line starting with '.' gets another '.', and a last
 * line without a line end gets a CRLF. The size of a message is the number
 * of octets of those lines with their CRLFs, without the stuffing dots and
 * without the terminating ".\r\n": what STAT and LIST report and what RETR
 * then sends. Functions return 0, or -1 with errno set. */
#ifndef VMAIL_POP3_MESSAGE_H
#define VMAIL_POP3_MESSAGE_H

#include <stdint.h>
#include <skalibs/buffer.h>

#define POP3_MESSAGE_CHUNK 65536   /* bytes read from the file per read(2) */

/* Reads all of fd and stores its size as sent in *size. */
int pop3_message_size(int fd, uint64_t *size);

/* The size as sent of fd without reading it, from its Maildir base name
 * (baselen bytes): the name's ",W=" (the size with CRLF line ends that
 * Dovecot and vmail-deliver record), plus the CRLF an unterminated last line
 * gets. The name is believed only if its ",S=" (when present) is the file's
 * size and ",W=" is possible for that size. 1 *size set, 0 the name does not
 * tell (count with pop3_message_size), -1 error. */
int pop3_message_size_named(int fd, char const *base, size_t baselen, uint64_t *size);

/* Streams fd to out as the body of a multi-line response, including the
 * terminating ".\r\n" (the "+OK" line is the caller's). lines < 0 sends the
 * whole message; otherwise the header, the blank line and at most lines lines
 * of the body (TOP). *sent gets the octets counted as pop3_message_size
 * counts them. A failure after the first byte leaves the response cut short:
 * the caller must end the session. */
int pop3_message_send(int fd, buffer *out, long lines, uint64_t *sent);

#endif
