/* resolve: a virtual address to its final recipients, as Postfix's
 * virtual_alias_maps + virtual_mailbox_maps would, over the tutorial schema.
 *
 * Order for one address: exact alias, then user, then the same two without
 * the +extension, then the catch-all alias @domain. Alias destinations in
 * our domains are resolved again (chains), with loop detection and depth and
 * fan-out limits; an alias that names its own source (user@d -> user@d,
 * copy@x) delivers to the user. A destination @otherdomain is the address's
 * local part in otherdomain (Postfix's domain alias). Destinations outside
 * our domains are remote.
 * A branch that loops, nests too deep or names nobody is skipped when others
 * deliver; going over RESOLVE_RECIPIENTS_MAX or RESOLVE_LOOKUPS_MAX fails the
 * whole address (RESOLVE_LOOP), never delivers to part of it.
 *
 * Environment: VMAIL_ROOT (default /var/mail/vhosts), VMAIL_RECIPIENT_DELIMITER
 * (default "+"; empty disables extensions). */
#ifndef VMAIL_RESOLVE_H
#define VMAIL_RESOLVE_H

#include <skalibs/stralloc.h>

#define RESOLVE_DEPTH_MAX      20     /* alias chain length */
#define RESOLVE_RECIPIENTS_MAX 1000   /* final recipients of one address */
#define RESOLVE_LOOKUPS_MAX    5000   /* queries for one address: aliases that
                                         share members must not cost 2^depth */

enum resolve_status
{
  RESOLVE_OK = 0,
  RESOLVE_NODOMAIN,   /* the domain is not one of ours */
  RESOLVE_NOUSER,     /* our domain, but no such user or alias */
  RESOLVE_LOOP,       /* aliases loop or nest too deep, with no final recipient */
  RESOLVE_BAD,        /* not a valid address */
  RESOLVE_TEMP        /* database trouble: try again later */
};

/* Appends one line per final recipient to out:
 *   "local ADDRESS MAILDIR\n"   (ADDRESS as stored, lowercased)
 *   "remote ADDRESS\n"
 * Returns RESOLVE_OK if there is at least one; otherwise a failure, with a
 * one-line human reason in why. Partial output is removed on failure. */
int resolve_address(char const *address, stralloc *out, stralloc *why);

/* What resolve_address says of one address: its status, its lines (out)
 * or why it failed. The caller initialises and frees the strallocs. */
struct resolve_answer { int status; stralloc out; stralloc why; };

/* Resolves n addresses together: answers[i] is what resolve_address says of
 * addresses[i], but the database is asked once per alias level for all of
 * them (resolve_rows.h), not once per address and level. */
void resolve_many(char const *const *addresses, unsigned int n, struct resolve_answer *answers);

/* The failure's short name: "nodomain", "nouser", "loop", "bad", "temp". */
char const *resolve_kind(int status);

/* qmail exit code for a status: 0, 100, or 111 for RESOLVE_TEMP. */
int resolve_exitcode(int status);

/* Builds VMAIL_ROOT/domain/localpart for a lowercased address; 0 if the
 * address cannot safely be a path (a '/' or leading '.' in a part). */
int resolve_maildir(char const *address, stralloc *path);

#endif
