/* x509_dates: the validity period of a PEM certificate (RFC 5280 4.1.2.5),
 * read without a crypto library, so that vmail-tlsd can tell whether its
 * certificate is usable before it offers STARTTLS without loading one for
 * every plaintext session. Only the DER structure up to the validity is
 * walked; nothing is verified (the TLS library checks the rest when it
 * loads the pair). Functions return 1 ok, 0 malformed. */
#ifndef VMAIL_X509_DATES_H
#define VMAIL_X509_DATES_H

#include <stddef.h>
#include <time.h>

#define X509_PEM_MAX 1048576   /* bytes of one certificate file read */

/* The first certificate of pem[0..len): its notBefore and notAfter. */
int x509_pem_validity(char const *pem, size_t len, time_t *notbefore, time_t *notafter);

#endif
