/* connlimit: connections per client address, held as record locks that
 * the kernel drops when their holder dies.
 *
 * A service's connections share one file (e.g. DIR/conn.25). Each client
 * address owns CONNLIMIT_MAX bytes of it, at addrkey_index(address) *
 * CONNLIMIT_MAX (addrkey.h: an IPv4 address exactly, an IPv6 /64 hashed);
 * a connection holds a write lock (fcntl) on one of the first max of them.
 * Nothing is ever written and nothing needs cleaning: a crashed holder
 * frees its byte, and the file stays empty however many addresses come.
 * Locks belong to the process that takes them, so the caller keeps the
 * descriptor open, in a process the client cannot reach, for as long as
 * the connection lasts (vmail-connlimit(8) waits for the server). */
#ifndef VMAIL_CONNLIMIT_H
#define VMAIL_CONNLIMIT_H

#define CONNLIMIT_MAX 1000   /* the largest per-address limit */

/* Takes one of ip's first max slots in the file open (read-write) on fd.
 * 1 taken (until fd is closed or the process exits), 0 all max are taken,
 * -1 error with errno set (EINVAL: ip is not an address, or max is 0 or
 * above CONNLIMIT_MAX). */
int connlimit_take(int fd, char const *ip, unsigned max);

#endif
