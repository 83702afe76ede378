/* routes: $VMAIL_ETC/routes (default /etc/vmail/routes), where mail for a
 * domain goes when not by its MX alone, one route a line ("#" comments):
 *     DOMAIN [HOST[:PORT]] [tls=verify]
 * DOMAIN "*" is every domain without a line of its own; a line without HOST
 * means MX as usual. vmail-remote follows the routes; vmail-send reads them
 * to send the recipients of every domain that "*" relays in one
 * transaction. Nothing here exits; errors come back with errno set. */
#ifndef VMAIL_ROUTES_H
#define VMAIL_ROUTES_H

#include <stddef.h>

#define ROUTES_ETC_DEFAULT "/etc/vmail"
#define ROUTES_LINE_MAX 1024     /* bytes of a line */

/* VMAIL_ETC or ROUTES_ETC_DEFAULT. */
char const *routes_etc(void);

/* The route for domain ("*" asks for the "*" line itself): its own line,
 * else the "*" line. 1 found, with its HOST[:PORT] in host ("" for MX as
 * usual; hostlen bytes, NUL-terminated), *verify for tls=verify and *own
 * 1 if the line was domain's own; 0 no line (no file is none); -1 the file
 * is unreadable, or (EINVAL) the line has an unknown tls= setting. */
int routes_find(char const *domain, char *host, size_t hostlen, int *verify, int *own);

#endif
