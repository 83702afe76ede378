/* dns: MX and address lookups over libunbound (see dns.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unbound.h>

#include "dns.h"

#define RR_A 1
#define RR_MX 15
#define RR_AAAA 28
#define CLASS_IN 1

static struct ub_ctx *ctx;
static char err[DNS_NAME_MAX + 300];

static int fail(char const *what, int code)
{
  snprintf(err, sizeof err, "%s: %s", what, ub_strerror(code));
  return -1;
}

char const *dns_error(void)
{
  return err;
}

int dns_init(void)
{
  char const *server = getenv("VMAIL_DNS_SERVER");
  int r;
  ctx = ub_ctx_create();
  if (!ctx) { snprintf(err, sizeof err, "unable to create the resolver"); return -1; }
  if (server && *server)
  {
    /* a forwarder on loopback is what tests use: unbound refuses it by default */
    r = ub_ctx_set_option(ctx, "do-not-query-localhost:", "no");
    if (r) return fail("do-not-query-localhost", r);
    r = ub_ctx_set_fwd(ctx, server);
    if (r) return fail(server, r);
    return 0;
  }
  r = ub_ctx_resolvconf(ctx, 0);
  return r ? fail("/etc/resolv.conf", r) : 0;
}

/* One query; DNS_OK with *res (the caller frees it), or another DNS_* code. */
static int query(char const *name, int type, struct ub_result **res)
{
  char fq[DNS_NAME_MAX + 2];
  size_t len = strlen(name);
  int r;
  *res = 0;
  if (!ctx && dns_init() < 0) return DNS_TEMP;
  if (!len || len > DNS_NAME_MAX) { snprintf(err, sizeof err, "bad domain name"); return DNS_NXDOMAIN; }
  snprintf(fq, sizeof fq, "%s%s", name, name[len-1] == '.' ? "" : ".");
  r = ub_resolve(ctx, fq, type, CLASS_IN, res);
  if (r) { fail(name, r); return DNS_TEMP; }
  if ((*res)->nxdomain) { snprintf(err, sizeof err, "%s: no such domain", name); ub_resolve_free(*res); *res = 0; return DNS_NXDOMAIN; }
  if ((*res)->rcode != 0)
  {
    snprintf(err, sizeof err, "%s: DNS server answered rcode %d", name, (*res)->rcode);
    ub_resolve_free(*res);
    *res = 0;
    return DNS_TEMP;
  }
  if (!(*res)->havedata) { ub_resolve_free(*res); *res = 0; return DNS_NONE; }
  return DNS_OK;
}

/* A wire-format name (uncompressed, as libunbound hands rdata over) into
 * out, lowercase, without the final dot; "" for the root. 0 if malformed. */
static int wire_name(unsigned char const *p, size_t len, char *out)
{
  size_t i = 0, o = 0;
  while (i < len && p[i])   /* bounded by len */
  {
    size_t l = p[i++];
    if (l > 63 || i + l > len || o + l + 1 > DNS_NAME_MAX) return 0;
    if (o) out[o++] = '.';
    for (size_t k = 0; k < l; k++)
    {
      unsigned char c = p[i + k];
      if (c <= ' ' || c == 127 || c == '/' || c == '[' || c == ']') return 0;
      out[o++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
    }
    i += l;
  }
  if (i >= len) return 0;
  out[o] = 0;
  return 1;
}

static int hop_cmp(void const *a, void const *b)
{
  struct dns_hop const *x = a, *y = b;
  return x->pref < y->pref ? -1 : x->pref > y->pref;
}

/* Shuffles each run of equal preferences (Fisher-Yates). */
static void shuffle_equals(struct dns_hop *hops, unsigned int n)
{
  unsigned int i = 0;
  while (i < n)
  {
    unsigned int j = i;
    while (j < n && hops[j].pref == hops[i].pref) j++;
    for (unsigned int k = j - 1; k > i; k--)
    {
      unsigned int r = i + arc4random_uniform(k - i + 1);
      struct dns_hop t = hops[k];
      hops[k] = hops[r];
      hops[r] = t;
    }
    i = j;
  }
}

int dns_mx(char const *domain, struct dns_hop *hops, unsigned int *n)
{
  struct ub_result *res;
  int r = query(domain, RR_MX, &res);
  *n = 0;
  if (r != DNS_OK) return r;
  for (int i = 0; res->data[i] && *n < DNS_HOPS_MAX; i++)
  {
    unsigned char const *p = (unsigned char const *)res->data[i];
    struct dns_hop *h = hops + *n;
    if (res->len[i] < 3) continue;
    memset(h, 0, sizeof *h);
    h->pref = (unsigned int)p[0] << 8 | p[1];
    if (!wire_name(p + 2, (size_t)res->len[i] - 2, h->host)) continue;
    if (!h->host[0])
    {
      /* RFC 7505 3: a null MX means no mail; other records beside it are an error, same outcome */
      ub_resolve_free(res);
      *n = 0;
      snprintf(err, sizeof err, "%s publishes a null MX: it accepts no mail", domain);
      return DNS_NULLMX;
    }
    (*n)++;
  }
  ub_resolve_free(res);
  if (!*n) return DNS_NONE;
  qsort(hops, *n, sizeof *hops, hop_cmp);
  shuffle_equals(hops, *n);
  return DNS_OK;
}

static int addrs_of(struct dns_hop *hop, int type)
{
  struct ub_result *res;
  int family = type == RR_A ? AF_INET : AF_INET6;
  int size = type == RR_A ? 4 : 16;
  int r = query(hop->host, type, &res);
  if (r != DNS_OK) return r;
  for (int i = 0; res->data[i] && hop->naddr < DNS_ADDRS_MAX; i++)
  {
    if (res->len[i] != size) continue;
    hop->addr[hop->naddr].family = family;
    memcpy(hop->addr[hop->naddr].ip, res->data[i], (size_t)size);
    hop->naddr++;
  }
  ub_resolve_free(res);
  return DNS_OK;
}

int dns_addrs(struct dns_hop *hop)
{
  int r6, r4;
  hop->naddr = 0;
  if (dns_addr_parse(hop->host, hop->addr)) { hop->naddr = 1; return DNS_OK; }
  r6 = addrs_of(hop, RR_AAAA);
  if (r6 == DNS_NXDOMAIN) return r6;
  r4 = addrs_of(hop, RR_A);
  if (hop->naddr) return DNS_OK;
  if (r6 == DNS_TEMP || r4 == DNS_TEMP) return DNS_TEMP;
  if (r4 == DNS_NXDOMAIN) return r4;
  snprintf(err, sizeof err, "%s has no address", hop->host);
  return DNS_NONE;
}

int dns_addr_parse(char const *s, struct dns_addr *a)
{
  if (inet_pton(AF_INET, s, a->ip) == 1) { a->family = AF_INET; return 1; }
  if (inet_pton(AF_INET6, s, a->ip) == 1) { a->family = AF_INET6; return 1; }
  return 0;
}

void dns_addr_fmt(struct dns_addr const *a, char *buf)
{
  if (!inet_ntop(a->family, a->ip, buf, 46)) strcpy(buf, "?");
}
