/* dns: where mail for a domain goes, through libunbound (RFC 5321 5.1).
 *
 * A resolver is made once per program: VMAIL_DNS_SERVER=ip[@port] makes it
 * a forwarder to that server only (tests run their own DNS server on
 * loopback); without it the servers of /etc/resolv.conf are asked. Names
 * are looked up as given (absolute: no search list).
 *
 * dns_mx fills a list of hops, the order in which to try them: MX hosts by
 * preference, in random order among equal preferences, or the domain itself
 * when it has no MX (the implicit MX, with its A/AAAA records). Each hop's
 * addresses are IPv6 ones first, then IPv4. Functions return a DNS_* code;
 * on DNS_TEMP, dns_error() says why. Nothing here exits. */
#ifndef VMAIL_DNS_H
#define VMAIL_DNS_H

#include <stddef.h>

#define DNS_NAME_MAX 255       /* RFC 1035 2.3.4 */
#define DNS_HOPS_MAX 16        /* MX hosts kept (a domain rarely lists more than a few) */
#define DNS_ADDRS_MAX 8        /* addresses kept per host */

#define DNS_OK 1               /* found */
#define DNS_NONE 0             /* the name has no such record (or the list came out empty) */
#define DNS_TEMP (-1)          /* no answer now: try later */
#define DNS_NXDOMAIN (-2)      /* the domain does not exist: permanent */
#define DNS_NULLMX (-3)        /* "MX 0 ." (RFC 7505): the domain accepts no mail */

struct dns_addr
{
  int family;                  /* AF_INET or AF_INET6 */
  unsigned char ip[16];        /* 4 or 16 bytes, network order */
};

struct dns_hop
{
  char host[DNS_NAME_MAX + 1]; /* without the trailing dot, lowercase */
  unsigned int pref;
  struct dns_addr addr[DNS_ADDRS_MAX];
  unsigned int naddr;
};

/* Makes the resolver (reads VMAIL_DNS_SERVER); 0 ok, -1 (dns_error()). */
int dns_init(void);

/* The MX hosts of domain into hops (at most DNS_HOPS_MAX, *n of them), in
 * the order to try, without their addresses. DNS_OK; DNS_NONE when the
 * domain has no MX record (the caller uses the domain itself); DNS_NULLMX;
 * DNS_NXDOMAIN; DNS_TEMP. */
int dns_mx(char const *domain, struct dns_hop *hops, unsigned int *n);

/* The AAAA then A records of hop->host into hop->addr. DNS_OK; DNS_NONE
 * (no address); DNS_NXDOMAIN; DNS_TEMP. */
int dns_addrs(struct dns_hop *hop);

/* Parses a numeric address (IPv4 dotted quad or IPv6) into a; 1 ok, 0 not one. */
int dns_addr_parse(char const *s, struct dns_addr *a);

/* The address as text into buf (at least 46 bytes). */
void dns_addr_fmt(struct dns_addr const *a, char *buf);

/* Why the last call failed, for a log or a bounce. */
char const *dns_error(void);

#endif
