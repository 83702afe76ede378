/* smtp_cmd: parsing SMTP command lines (RFC 5321 4.1) and the MAIL / RCPT
 * paths with their ESMTP parameters.
 *
 * Lines are given without their CRLF and need not be NUL-terminated. Parsed
 * addresses are copied into caller-owned stralloc; nothing else allocates. */
#ifndef VMAIL_SMTP_CMD_H
#define VMAIL_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define SMTP_VERB_MAX 8   /* longest verb we know, with room: "STARTTLS" */

enum smtp_verb
{
  SMTP_UNKNOWN = 0,
  SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BDAT,
  SMTP_RSET, SMTP_NOOP, SMTP_VRFY, SMTP_EXPN, SMTP_HELP, SMTP_QUIT,
  SMTP_AUTH, SMTP_STARTTLS
};

struct smtp_cmd
{
  enum smtp_verb verb;
  char const *arg;     /* after the verb and its spaces: points into the line */
  size_t arglen;       /* 0 when there is no argument */
};

/* Splits line[0..len) into verb (case-insensitive) and argument. Never fails:
 * an unknown or malformed verb gives SMTP_UNKNOWN. */
void smtp_cmd_parse(char const *line, size_t len, struct smtp_cmd *cmd);

enum smtp_body { SMTP_BODY_7BIT = 0, SMTP_BODY_8BITMIME };

enum smtp_path_status
{
  SMTP_PATH_OK = 0,
  SMTP_PATH_SYNTAX,     /* no "FROM:"/"TO:", unbalanced <>: 501 5.5.4 */
  SMTP_PATH_ADDRESS,    /* the address itself is invalid: 553 5.1.3 / 501 5.1.7 */
  SMTP_PATH_PARAM,      /* unknown or bad ESMTP parameter: 555 5.5.4 */
  SMTP_PATH_UTF8,       /* non-ASCII address without SMTPUTF8: 553 5.6.7 */
  SMTP_PATH_POSTMASTER  /* RCPT TO:<postmaster>, no domain */
};

struct smtp_path
{
  int null;              /* the null path <> (MAIL only) */
  uint64_t size;         /* SIZE=, 0 if absent (RFC 1870) */
  enum smtp_body body;   /* BODY= (RFC 6152) */
  int smtputf8;          /* SMTPUTF8 (RFC 6531) */
};

/* MAIL argument "FROM:<path> [params]": the reverse-path, lowercased domain,
 * into addr (NUL-terminated; "" for <>), and SIZE, BODY, SMTPUTF8, AUTH=
 * (accepted and ignored, RFC 4954 5) into p. A source route is dropped. */
int smtp_mail_parse(char const *arg, size_t len, stralloc *addr, struct smtp_path *p);

/* RCPT argument "TO:<path>" (no parameters are supported); utf8: whether MAIL
 * said SMTPUTF8. addr as for smtp_mail_parse; <> is an address error.
 * <postmaster> without a domain, which a server must accept (RFC 5321
 * 4.5.1), is SMTP_PATH_POSTMASTER: the caller knows whose it is. */
int smtp_rcpt_parse(char const *arg, size_t len, int utf8, stralloc *addr);

/* BDAT argument "SIZE [LAST]" (RFC 3030 2). 1 ok, 0 syntax error. */
int smtp_bdat_parse(char const *arg, size_t len, uint64_t *size, int *last);

#endif
