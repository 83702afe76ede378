/* imap_mutf7: mailbox names between IMAP's modified UTF-7 (RFC 3501 5.1.3),
 * the form folder directories and IMAP4rev1 clients use, and UTF-8, the
 * form IMAP4rev2 clients use on the wire (RFC 9051 5.1).
 *
 * Both functions append to out (not NUL-terminated) and return 1, or 0 when
 * the input is not valid in its form (out then holds a partial result the
 * caller drops), or -1 when out of memory. */
#ifndef VMAIL_IMAP_MUTF7_H
#define VMAIL_IMAP_MUTF7_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Modified UTF-7 -> UTF-8. 0 for bytes outside printable ASCII, a bad
 * base64 run, non-minimal forms (printable ASCII encoded, two runs in a
 * row), control characters, or UTF-16 that is not well formed: what
 * converts converts back to the same bytes. */
int imap_mutf7_to_utf8(char const *s, size_t len, stralloc *out);

/* UTF-8 -> modified UTF-7. 0 for ill-formed UTF-8 (overlong forms,
 * surrogates, code points above U+10FFFF) or control characters. */
int imap_utf8_to_mutf7(char const *s, size_t len, stralloc *out);

#endif
