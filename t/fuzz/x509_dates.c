/* Fuzz target: lib/x509_dates, the DER walk vmail-tlsd does over its
 * certificate file without a crypto library. Any input: no crash, no read
 * outside it, dates only from a whole PEM block; the same bytes in a PEM
 * envelope (as base64) must walk the same way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "x509_dates.h"

static char const b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* der as a PEM certificate block, 64 columns */
static size_t pem(unsigned char const *der, size_t n, char *out)
{
  size_t o = 0, col = 0;
  o += (size_t)sprintf(out, "-----BEGIN CERTIFICATE-----\n");
  for (size_t i = 0; i < n; i += 3)
  {
    unsigned v = der[i] << 16 | (i + 1 < n ? der[i + 1] << 8 : 0) | (i + 2 < n ? der[i + 2] : 0);
    out[o++] = b64[v >> 18 & 63];
    out[o++] = b64[v >> 12 & 63];
    out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? b64[v & 63] : '=';
    if ((col += 4) == 64) { out[o++] = '\n'; col = 0; }
  }
  o += (size_t)sprintf(out + o, "\n-----END CERTIFICATE-----\n");
  return o;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  time_t nb, na;
  char *p;
  size_t n;
  /* as a file's text */
  x509_pem_validity((char const *)data, size, &nb, &na);
  /* as the DER inside a well-formed PEM block */
  p = malloc(size * 2 + 128);
  n = pem(data, size, p);
  if (x509_pem_validity(p, n, &nb, &na))
  {
    /* RFC 5280 times: years 1950 to 9999 */
    if (nb < -631152000LL || na < -631152000LL || nb > 253402300800LL || na > 253402300800LL) __builtin_trap();
  }
  free(p);
  return 0;
}
