/* msghead: the header section of a message being injected (RFC 5322 2.2,
 * 3.4, 3.6), for vmail-sendmail: which fields are there, where the section
 * ends, and the addresses in To/Cc/Bcc.
 *
 * The input is untrusted (whatever a script pipes in): any bytes, no NUL
 * needed, lines ending in LF or CRLF. Nothing here allocates except into the
 * stralloc a caller passes. */
#ifndef VMAIL_MSGHEAD_H
#define VMAIL_MSGHEAD_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#define MSGHEAD_FIELD_NAME_MAX 76     /* RFC 5322 2.1.1: a name fits a 78-octet line */
#define MSGHEAD_ADDRS_MAX 10000       /* addresses taken from one field (cf. envelope.h) */
#define MSGHEAD_ADDR_MAX 256          /* RFC 5321 4.5.3.1.3 */
#define MSGHEAD_COMMENT_DEPTH 20      /* nested comments followed (RFC 5322 3.2.2) */

/* One header field: name and value (value unfolded by nobody: it runs from
 * after the colon to the end of the field, continuation lines included, and
 * without the final line ending). start/end: the field's bytes in the buffer,
 * line ending included. */
struct msghead_field
{
  char const *name;
  size_t namelen;
  char const *value;
  size_t valuelen;
  size_t start, end;
};

/* The next field of the header section of s[len] from *pos (start at 0).
 * 1: a field, *pos after it. 0: the header section ends at *pos: at an empty
 * line (*blank = 1; *pos is the empty line's start), at a line that is not a
 * field (*blank = 0: a body with no separator), or at the end of s (*blank = 0). */
int msghead_next(char const *s, size_t len, size_t *pos, struct msghead_field *f, int *blank);

/* Is f named name (ASCII case-insensitive)? */
int msghead_is(struct msghead_field const *f, char const *name);

/* Appends the addr-specs of an address list (RFC 5322 3.4: display names,
 * angle brackets, comments, quoted strings, groups, obsolete routes) to out,
 * each NUL-terminated, without surrounding whitespace. Returns how many, or
 * -1 if one is longer than MSGHEAD_ADDR_MAX or holds a NUL, or there are
 * more than MSGHEAD_ADDRS_MAX (out then holds those before). */
int msghead_addresses(char const *value, size_t len, stralloc *out);

#endif
