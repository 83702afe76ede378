/* addrkey: see addrkey.h. */
#include <arpa/inet.h>
#include <string.h>
#include "addrkey.h"

static unsigned char const v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

int addrkey_parse(char const *ip, unsigned char key[ADDRKEY_LEN])
{
  memset(key, 0, ADDRKEY_LEN);
  if (inet_pton(AF_INET, ip, key + 12) == 1) { memcpy(key, v4mapped, 12); return 1; }
  if (inet_pton(AF_INET6, ip, key) != 1) return 0;
  if (!memcmp(key, v4mapped, 12)) return 1;
  memset(key + ADDRKEY_V6_PREFIX, 0, ADDRKEY_LEN - ADDRKEY_V6_PREFIX);
  return 1;
}

uint64_t addrkey_index(unsigned char const key[ADDRKEY_LEN])
{
  uint64_t h = 14695981039346656037u;   /* FNV-1a */
  if (!memcmp(key, v4mapped, 12))
    return (uint64_t)key[12] << 24 | (uint64_t)key[13] << 16 | (uint64_t)key[14] << 8 | key[15];
  for (int i = 0; i < ADDRKEY_LEN; i++) { h ^= key[i]; h *= 1099511628211u; }
  return ((uint64_t)1 << 32) + (h & (((uint64_t)1 << ADDRKEY_INDEX_BITS) - 1));
}
