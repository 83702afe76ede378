/* pop3_command: parsing one POP3 command line (RFC 1939, RFC 2449, RFC 5034).
 *
 * A command is a case-insensitive keyword, then arguments separated by
 * single spaces. The line given here has its CRLF (or bare LF) removed.
 * Nothing is copied: the command points into the caller's line. */
#ifndef VMAIL_POP3_COMMAND_H
#define VMAIL_POP3_COMMAND_H

#include <stddef.h>
#include <stdint.h>

/* RFC 2449 4: a command line is at most 255 octets, but RFC 5034 4 lets a
 * SASL response line be longer; a PLAIN response for the longest login
 * vmail-checkpw accepts (512 bytes) is 684 octets of base64. */
#define POP3_LINE_MAX 1024
/* RFC 2449 4 says arguments are up to 40 octets, but a USER argument is a
 * whole address here, up to 254 octets (RFC 5321 4.5.3.1.3). */
#define POP3_ARG_MAX 255
#define POP3_ARGS_MAX 2          /* TOP msg n: the most any command takes */

enum pop3_verb
{
  POP3_UNKNOWN = 0,
  POP3_USER, POP3_PASS, POP3_AUTH, POP3_APOP, POP3_CAPA, POP3_QUIT, POP3_STLS,
  POP3_STAT, POP3_LIST, POP3_RETR, POP3_DELE, POP3_NOOP, POP3_RSET, POP3_TOP, POP3_UIDL
};

typedef struct pop3_command_s
{
  enum pop3_verb verb;
  char const *rest;        /* everything after the keyword and one space (PASS's password) */
  size_t restlen;
  unsigned int argc;       /* words in rest */
  char const *argv[POP3_ARGS_MAX];
  size_t arglen[POP3_ARGS_MAX];
} pop3_command;

/* Parses line[0..len). 1 ok (verb may be POP3_UNKNOWN for a keyword not
 * known); 0 malformed: empty, a NUL byte, a keyword longer than 4 characters, more than
 * POP3_ARGS_MAX words, an empty word, or a word over POP3_ARG_MAX (except in
 * PASS and AUTH, whose rest is a secret taken whole). */
int pop3_command_parse(char const *line, size_t len, pop3_command *cmd);

/* Parses a message number or line count: decimal digits only, no sign,
 * at most 9 digits. 1 ok, 0 not a number. */
int pop3_command_number(char const *s, size_t len, uint32_t *n);

#endif
