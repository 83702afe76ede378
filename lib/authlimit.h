/* authlimit: failed logins per client address, counted across every
 * process that checks a password, so that one address cannot guess faster
 * by opening more connections.
 *
 * The count lives in one file, DIR/auth, a table of AUTHLIMIT_SLOTS slots
 * (about 100 KB) that every checking process opens: no daemon, nothing to
 * restart, and the kernel's record locks (fcntl) keep it consistent. An
 * address may fail `failures` times in a burst, then once every
 * window/failures seconds (a token bucket kept as one time per address, the
 * "theoretical arrival time" of the generic cell rate algorithm): so at
 * most `failures` guesses per window, however they are spread. Blocked
 * attempts are not guesses and cost nothing. The table forgets an address
 * whose debt is paid; when the slots an address may use (AUTHLIMIT_PROBE)
 * are all in debt, the one with the least is forgotten.
 *
 * Addresses count as addrkey.h says (IPv6 by /64). Between authlimit_start
 * and authlimit_end a process holds its address's lock: a second login from
 * the same address waits until the first is judged and counted, so parallel
 * guesses cannot all slip in under the count. Whoever can write the file can
 * reset the count: it must belong to the user that checks passwords (root,
 * beside the network parsers, see privsep.h), mode 0600.
 *
 * 1 ok, 0 error with errno set; authlimit_blocked says 1 / 0 / -1. */
#ifndef VMAIL_AUTHLIMIT_H
#define VMAIL_AUTHLIMIT_H

#include <stdint.h>
#include "addrkey.h"

#define AUTHLIMIT_SLOTS 4096   /* addresses in debt remembered at once */
#define AUTHLIMIT_PROBE 8      /* slots an address may use */
#define AUTHLIMIT_FILE "auth"

struct authlimit
{
  int fd;                           /* -1: no limit applies */
  unsigned char key[ADDRKEY_LEN];
  uint64_t interval, window;        /* milliseconds */
};

/* Opens DIR/auth (creating DIR, mode 0700, and the file, 0600) for client
 * ip and waits for the address's lock. With failures 0 or window 0, or ip
 * null or not an address, no limit applies (a->fd is -1) and every other
 * function does nothing. */
int authlimit_start(struct authlimit *a, char const *dir, char const *ip, unsigned failures, unsigned window_seconds);

/* 1 the address may not try now, 0 it may, -1 error with errno set. */
int authlimit_blocked(struct authlimit *a);

/* Counts one failed login of the address. */
int authlimit_fail(struct authlimit *a);

/* Releases the lock and closes the file. */
void authlimit_end(struct authlimit *a);

#endif
