/* password: crypt(3) hashes through libxcrypt.
 *
 * Verification accepts every scheme libxcrypt knows ($y$ yescrypt, $6$
 * SHA512-CRYPT as the Postfix/Dovecot tutorial stores, $5$, $2b$ bcrypt...).
 * Comparisons run in constant time. Nothing here logs or keeps a password. */
#ifndef VMAIL_PASSWORD_H
#define VMAIL_PASSWORD_H

#include <skalibs/stralloc.h>

#define PASSWORD_MAX 256   /* longer passwords are refused, never truncated */

/* 1 if password matches the crypt string hash, 0 if not (or hash is not a
 * usable crypt string). Always spends one full hash computation. */
int password_verify(char const *password, char const *hash);

/* Hashes password with a fresh random salt. scheme: "yescrypt" (default when
 * 0), "sha512", "sha256" or "bcrypt". Writes the NUL-terminated crypt string
 * to out. 1 ok, 0 unknown scheme or failure (errno set). */
int password_hash(char const *password, char const *scheme, stralloc *out);

#endif
