/* smtp_reply: parsing the replies an SMTP server sends a client (RFC 5321
 * 4.2) and the extensions its EHLO reply lists (RFC 5321 4.1.1.1).
 *
 * A reply is fed one line at a time, without its CRLF (a bare LF ending is
 * the caller's to strip too). The text is kept, bounded, for logs and
 * bounces; the parser never allocates beyond SMTP_REPLY_TEXT_MAX. */
#ifndef VMAIL_SMTP_REPLY_H
#define VMAIL_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_REPLY_LINE_MAX 512      /* RFC 5321 4.5.3.1.5, longer lines are truncated */
#define SMTP_REPLY_LINES_MAX 100     /* lines of one reply before we call it malformed */
#define SMTP_REPLY_TEXT_MAX 2048     /* bytes of text kept */

struct smtp_reply
{
  unsigned int code;                 /* 100..599 once the first line is in */
  unsigned int lines;
  char text[SMTP_REPLY_TEXT_MAX];    /* lines' text (after "NNN-"/"NNN "), each ended by '\n' */
  size_t len;
};

/* EHLO extensions we use */
#define SMTP_EXT_PIPELINING 0x01
#define SMTP_EXT_SIZE       0x02
#define SMTP_EXT_8BITMIME   0x04
#define SMTP_EXT_SMTPUTF8   0x08
#define SMTP_EXT_ENHANCED   0x10
#define SMTP_EXT_STARTTLS   0x20
#define SMTP_EXT_AUTH_PLAIN 0x40

struct smtp_ext
{
  unsigned int flags;
  uint64_t size;                     /* SIZE's limit, 0 for none given */
};

/* Empties r for the next reply. */
void smtp_reply_init(struct smtp_reply *r);

/* Adds one line. 1 the reply is complete, 0 more lines follow, -1 the line
 * is not a reply line (no 3-digit code from 2xx..5xx and 1xx, a code that
 * differs from the first line's, too many lines). */
int smtp_reply_line(struct smtp_reply *r, char const *line, size_t len);

/* The reply on one line, for results and logs: "CODE text text ...", its
 * lines joined by spaces, control characters and tabs as spaces, into out
 * (size outlen, always NUL-terminated). */
void smtp_reply_oneline(struct smtp_reply const *r, char *out, size_t outlen);

/* The extensions listed by an EHLO reply (its lines after the first). */
void smtp_reply_ehlo(struct smtp_reply const *r, struct smtp_ext *ext);

#endif
