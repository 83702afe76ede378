/* smtp_data: decoding a message body as it arrives over SMTP.
 *
 * DATA (RFC 5321 4.1.1.4, 4.5.2): the body ends only at CRLF "." CRLF; a line
 * that starts with a dot loses that dot (dot-unstuffing). BDAT (RFC 3030):
 * the body comes in counted chunks, with no dot handling and no terminator.
 * In both modes CRLF becomes LF, the qmail-queue message format.
 *
 * A CR or LF that is not part of a CRLF pair (RFC 5321 2.3.8 forbids them) is
 * passed through unchanged but sets SMTP_DATA_BARE and never starts a line:
 * so "LF.LF", "CRLF.LF", "LF.CRLF" and friends cannot end the message or
 * begin a second one (SMTP smuggling). The caller refuses a message with
 * SMTP_DATA_BARE set. The decoder never fails and allocates nothing. */
#ifndef VMAIL_SMTP_DATA_H
#define VMAIL_SMTP_DATA_H

#include <stddef.h>

#define SMTP_DATA_BARE 0x1   /* a bare CR or LF was seen */
#define SMTP_DATA_NUL  0x2   /* a NUL byte was seen (RFC 6152 3: 8BITMIME has none) */

/* The most bytes smtp_data_decode writes for len bytes of input: a CR held
 * back from an earlier call comes out before them. */
#define SMTP_DATA_OUT_MAX(len) ((len) + 1)

enum smtp_data_mode { SMTP_DATA_DOT, SMTP_DATA_CHUNK };

struct smtp_data
{
  enum smtp_data_mode mode;
  int state;    /* private */
  int flags;    /* SMTP_DATA_* */
  int done;     /* DOT mode: the terminating CRLF.CRLF has been consumed */
};

/* Starts decoding one message body in mode. */
void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode);

/* Decodes in[0..len) into out, which must hold SMTP_DATA_OUT_MAX(len) bytes, and sets
 * *outlen. Returns how many input bytes were consumed: all of them, except
 * in DOT mode where it stops right after the terminator (d->done set); what
 * follows belongs to the next command. */
size_t smtp_data_decode(struct smtp_data *d, char const *in, size_t len,
                        char *out, size_t *outlen);

/* CHUNK mode, after the last chunk: writes to out (1 byte) a CR still held
 * back waiting for its LF (it was bare) and returns its length, 0 or 1. */
size_t smtp_data_finish(struct smtp_data *d, char *out);

#endif
