/* mime_part: the inside of lib/mime, shared by its files (mime.c parses,
 * mime_section.c serves sections, mime_imap.c writes ENVELOPE and BODYSTRUCTURE,
 * mime_decode.c decodes, mime_search.c searches, mime_date.c reads dates).
 * Not for use outside lib/mime*.c: the public interface is mime.h.
 *
 * Every offset is into the caller's buffer m->msg, as stored (bare LF or
 * CRLF). An entity is a header [hstart, bstart) (blank line included) and a
 * body [bstart, end). Parts are kept in one array; children are linked by
 * index, -1 meaning none. */
#ifndef VMAIL_MIME_PART_H
#define VMAIL_MIME_PART_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include "mime.h"

enum mime_kind { MIME_LEAF, MIME_MULTIPART, MIME_MESSAGE };

typedef struct mime_part_s mime_part;
struct mime_part_s
{
  size_t hstart, bstart, end;
  int parent, first_child, last_child, next_sibling, nchildren;
  unsigned char kind;          /* enum mime_kind */
  unsigned char in_digest;     /* default type message/rfc822 (RFC 2046 5.1.5) */
  unsigned char ct_valid;      /* Content-Type usable; else text/plain us-ascii */
};

struct mime_message_s
{
  char const *msg;
  size_t len;
  stralloc parts;              /* genalloc of mime_part; parts[0] is the message */
};

#define MIME_PART(m, i) (((mime_part *)(m)->parts.s) + (i))

/* One header field: name and raw value (after the colon, folding kept). */
typedef struct mime_field_s mime_field;
struct mime_field_s
{
  char const *name;
  size_t namelen;
  char const *value;
  size_t valuelen;
};

/* Reads the field starting at *pos in s[*pos..end) into f and advances *pos
 * past it (continuation lines included). 0 at the blank line or end. */
int mime_field_next(char const *s, size_t *pos, size_t end, mime_field *f);

/* Finds the first field named name (case-insensitive) in [hstart, hend). */
int mime_field_find(char const *s, size_t hstart, size_t hend, char const *name, mime_field *f);

/* Appends the value unfolded (CR, LF and NUL dropped), outer white space trimmed. */
int mime_unfold(char const *v, size_t len, stralloc *out);

/* A parsed Content-Type / Content-Disposition: value and parameters, all as
 * NUL-separated strings in sa: type, subtype, then attr, value pairs.
 * RFC 2231 continuations (name*0, name*1*) are joined. */
typedef struct mime_ctype_s mime_ctype;
struct mime_ctype_s
{
  stralloc sa;
  size_t type, subtype;        /* offsets in sa */
  size_t params;               /* offset of the first attr in sa; sa.len if none */
  unsigned int nparams;
};
#define MIME_CTYPE_ZERO { STRALLOC_ZERO, 0, 0, 0, 0 }

/* Parses a structured value "type/subtype; a=b" (with_subtype) or
 * "token; a=b". 1 ok, -1 syntax error (ct filled with nothing), 0 no memory. */
int mime_ctype_parse(char const *v, size_t len, int with_subtype, mime_ctype *ct);
/* The value of parameter attr, or 0. */
char const *mime_ctype_param(mime_ctype const *ct, char const *attr);

/* The effective content type of part i (defaults applied) into ct. */
int mime_part_ctype(mime_message const *m, int i, mime_ctype *ct);

/* Octets of s[a..b) once bare LFs become CRLF; and lines: the LF count (an
 * unterminated last line does not count, as Dovecot and Cyrus answer). */
size_t mime_crlf_size(char const *s, size_t a, size_t b);
size_t mime_line_count(char const *s, size_t a, size_t b);
/* Appends s[a..b) with bare LFs turned into CRLF. */
int mime_crlf_cat(stralloc *out, char const *s, size_t a, size_t b);

/* Resolves a part number "1.2.3" (len bytes) to a part index; -1 if absent.
 * For a message/rfc822 part, *inner is its encapsulated message (or -1). */
int mime_part_lookup(mime_message const *m, char const *num, size_t len);

/* Decoding (mime_decode.c). */
/* Undoes a Content-Transfer-Encoding: 1 ok, -2 unknown encoding, 0 no memory.
 * enc is the unfolded header value (0 or "" for identity). */
int mime_cte_decode(char const *enc, char const *s, size_t len, stralloc *out);
/* Converts bytes in charset to UTF-8 (us-ascii, utf-8, iso-8859-1, -15 and
 * windows-1252 built in, any other through iconv(3); bytes of a charset iconv
 * does not know pass through). */
int mime_charset_to_utf8(char const *charset, char const *s, size_t len, stralloc *out);
/* Decodes RFC 2047 encoded words of an unfolded header value to UTF-8. */
int mime_header_decode(char const *s, size_t len, stralloc *out);
/* (mime_imap.c) Appends the addresses of an unfolded address field as
 * "name <local@host>, " each, comments and quoting removed: the form
 * SEARCH FROM/TO/CC/BCC also match against. 1 ok, 0 out of memory. */
int mime_address_text(char const *s, size_t len, stralloc *out);
/* The same, with each group's start as "<name@>, " (as ENVELOPE's first
 * mailbox of a group is its name). */
int mime_address_text_groups(char const *s, size_t len, stralloc *out);
/* Appends s folded to lower case (ASCII, Latin-1, Latin Extended-A, Greek,
 * Cyrillic) for case-insensitive matching. */
int mime_casefold(char const *s, size_t len, stralloc *out);

#endif
