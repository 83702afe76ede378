/* resolver: asks vmail-resolve, the one program that reads the alias and
 * user tables, where an address goes, without opening the database here.
 *
 * The answer comes from the resolver service when VMAIL_RESOLVE_SOCKET names
 * its socket (one long-running `vmail-resolve -l` and one database
 * connection for every client), else from a co-process ($VMAIL_RESOLVE,
 * default vmail-resolve) started at the first question and kept. The
 * protocol is the same either way: an address per line out, a block of lines
 * ending in an empty line back. A service that cannot be reached is replaced
 * by a co-process, so mail still flows while it restarts. A conversation out
 * of step, or dead, is dropped and the question answered RESOLVE_TEMP; the
 * next question starts a new one. */
#ifndef VMAIL_RESOLVER_H
#define VMAIL_RESOLVER_H

#include <skalibs/stralloc.h>

/* A status of resolve.h: RESOLVE_OK (our domain: mailboxes or remote
 * targets), RESOLVE_NODOMAIN, RESOLVE_NOUSER, RESOLVE_LOOP, RESOLVE_BAD or
 * RESOLVE_TEMP. block, if not null, is replaced by the answer's lines, each
 * ending in \n: "local ADDRESS MAILDIR" and "remote ADDRESS" for
 * RESOLVE_OK, "error KIND REASON" otherwise (empty if nothing came). */
int resolver_ask(char const *address, unsigned timeout_secs, stralloc *block);

/* Ends the conversation (the co-process is sent SIGTERM and reaped). */
void resolver_stop(void);

#endif
