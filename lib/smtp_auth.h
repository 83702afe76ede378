/* smtp_auth: decoding SMTP AUTH responses (RFC 4954) for the PLAIN
 * (RFC 4616) and LOGIN mechanisms.
 *
 * Decoded secrets live in caller-owned stralloc; the caller wipes them. */
#ifndef VMAIL_SMTP_AUTH_H
#define VMAIL_SMTP_AUTH_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#define SMTP_AUTH_LINE_MAX 12288   /* RFC 4954 4: longest AUTH line to accept */
#define SMTP_AUTH_FIELD_MAX 255    /* RFC 4616 2: each PLAIN field is 1..255 */

/* Decodes base64 (RFC 4648 4, padding required, no whitespace) from
 * in[0..len), appending to out. 1 ok, 0 malformed. */
int smtp_base64_decode(char const *in, size_t len, stralloc *out);

/* Splits a decoded PLAIN message "authzid\0authcid\0passwd" (in[0..len)).
 * Points user and password into a NUL-terminated copy in buf. The authzid,
 * if any, must equal the authcid (no proxy logins). 1 ok, 0 malformed. */
int smtp_auth_plain(char const *in, size_t len, stralloc *buf,
                    char const **user, char const **password);

/* Is s[0..len) "*", the client cancelling the exchange (RFC 4954 4)? */
int smtp_auth_cancelled(char const *s, size_t len);

#endif
