/* md5.c: RFC 1321, written from the RFC's description. */
#include <string.h>

#include "md5.h"

/* per-round shift amounts (RFC 1321 3.4) */
static unsigned char const S[64] = {
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21 };

/* T[i] = floor(2^32 * |sin(i + 1)|) */
static uint32_t const T[64] = {
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391 };

static void transform(md5 *c, unsigned char const *p)
{
  uint32_t x[16], a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
  for (int i = 0; i < 16; i++)
    x[i] = (uint32_t)p[4*i] | (uint32_t)p[4*i+1] << 8 | (uint32_t)p[4*i+2] << 16 | (uint32_t)p[4*i+3] << 24;
  for (int i = 0; i < 64; i++)
  {
    uint32_t f, t;
    int g;
    if (i < 16) { f = (b & cc) | (~b & d); g = i; }
    else if (i < 32) { f = (d & b) | (~d & cc); g = (5 * i + 1) & 15; }
    else if (i < 48) { f = b ^ cc ^ d; g = (3 * i + 5) & 15; }
    else { f = cc ^ (b | ~d); g = (7 * i) & 15; }
    t = a + f + T[i] + x[g];
    a = d; d = cc; cc = b;
    b += (t << S[i]) | (t >> (32 - S[i]));
  }
  c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
}

void md5_init(md5 *c)
{
  c->h[0] = 0x67452301; c->h[1] = 0xefcdab89; c->h[2] = 0x98badcfe; c->h[3] = 0x10325476;
  c->bytes = 0;
}

void md5_update(md5 *c, void const *data, size_t len)
{
  unsigned char const *p = data;
  size_t used = c->bytes % 64;
  c->bytes += len;
  if (used)
  {
    size_t take = 64 - used < len ? 64 - used : len;
    memcpy(c->block + used, p, take);
    p += take; len -= take;
    if (used + take < 64) return;
    transform(c, c->block);
  }
  for (; len >= 64; p += 64, len -= 64) transform(c, p);
  memcpy(c->block, p, len);
}

void md5_final(md5 *c, unsigned char digest[MD5_DIGEST_SIZE])
{
  unsigned char pad[72] = { 0x80 };
  uint64_t bits = c->bytes * 8;
  size_t used = c->bytes % 64, n = used < 56 ? 56 - used : 120 - used;
  for (int i = 0; i < 8; i++) pad[n + i] = (unsigned char)(bits >> (8 * i));
  md5_update(c, pad, n + 8);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) digest[4*i + j] = (unsigned char)(c->h[i] >> (8 * j));
}
