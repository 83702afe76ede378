/* addr: parsing and normalising mail addresses (RFC 5321 mailbox syntax).
 *
 * vmail handles addresses as plain NUL-terminated strings "local@domain".
 * Parsing is strict where an address becomes a file name (Maildir paths) and
 * forgiving only about case. Functions return 1 on success, 0 on bad input. */
#ifndef VMAIL_ADDR_H
#define VMAIL_ADDR_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#define ADDR_LOCAL_MAX  64    /* RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX 255   /* RFC 5321 4.5.3.1.2 */
#define ADDR_MAX        254   /* RFC 3696 errata: whole path minus brackets */

/* Checks that s (len bytes, no NUL needed) is local@domain with a dot-atom or
 * UTF-8 local part and a valid domain name, all well-formed UTF-8 (RFC 3629), and writes it to out, NUL-terminated,
 * with the domain lowercased. Quoted local parts are refused. */
int addr_parse(char const *s, size_t len, stralloc *out);

/* Index of the '@' in a parsed address. */
size_t addr_at(char const *addr);

/* Is domain a syntactically valid host name (letters, digits, hyphens, dots,
 * well-formed UTF-8; labels 1..63)? */
int addr_domain_ok(char const *domain, size_t len);

/* Writes the address without its +extension (the first delimiter character
 * found in the local part and what follows, up to '@') to out; returns 1 if
 * an extension was removed, 0 if the address has none. delims: e.g. "+". */
int addr_strip_extension(char const *addr, char const *delims, stralloc *out);

/* Lowercases ASCII letters of s in place. */
void addr_lower(char *s);

#endif
