/* addrkey: the client address a limit counts by.
 *
 * Limits on guessing and on connections count per client, named by
 * TCPREMOTEIP. An IPv4 address counts alone; an IPv6 address counts by its
 * /64, the block one subscriber gets (RFC 6177), so that a host cannot
 * escape a limit by walking the addresses of its own network. An
 * IPv4-mapped IPv6 address counts as the IPv4 address it maps. */
#ifndef VMAIL_ADDRKEY_H
#define VMAIL_ADDRKEY_H

#include <stdint.h>

#define ADDRKEY_LEN 16
#define ADDRKEY_V6_PREFIX 8    /* bytes of an IPv6 address that count: /64 */
#define ADDRKEY_INDEX_BITS 40  /* hashed IPv6 keys: 2^40 indexes after IPv4's */

/* Writes ip's key (an IPv6 address, the IPv4 ones mapped, the bits past a
 * /64 zero) to key. 1 ok, 0 ip is not an address. */
int addrkey_parse(char const *ip, unsigned char key[ADDRKEY_LEN]);

/* A number for the key, below 2^32 + 2^ADDRKEY_INDEX_BITS: an IPv4 address
 * is its own number (so no two collide), an IPv6 /64 hashed above them. */
uint64_t addrkey_index(unsigned char const key[ADDRKEY_LEN]);

#endif
