/* vmail-tlsd: what the program's files share.
 *   main.c    settings, privileges, and the fork: the program the
 *             connection is for on one side, the TLS engine on the other
 *   keys.c    the certificate and key files, read and checked
 * vmail-tlsd links no TLS library: a session that never asks for TLS costs
 * a fork and nothing more. The engine execs vmail-tlsd-io for the TLS. */
#ifndef VMAIL_TLSD_H
#define VMAIL_TLSD_H

#include <skalibs/stralloc.h>

#define TLSD_SNI_MAX 256   /* names read from VMAIL_TLS_DIR */

/* keys.c: reads VMAIL_TLS_CERT / VMAIL_TLS_KEY (the default pair) and
 * VMAIL_TLS_DIR/<name>/{cert,key} (SNI pairs) now, as the user we started
 * as, into pairs: "certfile\0cert\0key\0" each, the default first (what
 * vmail-tlsd-io reads). 1 ok; 0 when the default pair cannot be used
 * (missing, unreadable, too big, not a certificate, expired, not valid
 * yet): the reason is logged. A broken SNI pair is logged and left out.
 * Dies 100 when VMAIL_TLS_CERT or VMAIL_TLS_KEY is unset, 111 when out of
 * memory. The caller wipes pairs. */
int keys_read(stralloc *pairs);

#endif
