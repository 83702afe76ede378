/* md5: RFC 1321 message digest, for the one place a foreign format needs
 * it (Dovecot's %m and M in pop3_uidl_format). Never for security. */
#ifndef VMAIL_MD5_H
#define VMAIL_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_SIZE 16

typedef struct md5_s {
  uint32_t h[4];
  uint64_t bytes;          /* total length so far */
  unsigned char block[64]; /* pending input, bytes % 64 of it used */
} md5;

void md5_init(md5 *c);
void md5_update(md5 *c, void const *data, size_t len);
void md5_final(md5 *c, unsigned char digest[MD5_DIGEST_SIZE]);

#endif
