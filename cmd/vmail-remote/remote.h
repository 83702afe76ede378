/* vmail-remote's parts: the route (route.c), the connection (conn.c), the
 * SMTP transaction (smtp.c), tied together by main.c. */
#ifndef VMAIL_REMOTE_H
#define VMAIL_REMOTE_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#include "dns.h"
#include "smtp_reply.h"

#define REMOTE_TEXT_MAX 600         /* a result's text on our fd 1 */
#define REMOTE_CRED_MAX 255         /* a relay user name or password (RFC 4616 2) */

/* RFC 5321 4.5.3.2 timeouts, in seconds (VMAIL_REMOTE_TIMEOUT caps them all) */
#define TIMEOUT_CONNECT 60          /* not in the RFC: a connect that takes longer is lost */
#define TIMEOUT_GREETING 300        /* 4.5.3.2.1 */
#define TIMEOUT_MAIL 300            /* 4.5.3.2.2, also EHLO, STARTTLS, AUTH */
#define TIMEOUT_RCPT 300            /* 4.5.3.2.3 */
#define TIMEOUT_DATA 120            /* 4.5.3.2.4 */
#define TIMEOUT_BLOCK 180           /* 4.5.3.2.5 */
#define TIMEOUT_DOT 600             /* 4.5.3.2.6 */
#define TIMEOUT_QUIT 10             /* nothing hangs on QUIT's reply */

struct rcpt
{
  char const *addr;
  char kind;                        /* 0 none yet, 'r', 's', 'h' */
  char mta[DNS_NAME_MAX + 64];
  char text[REMOTE_TEXT_MAX];
};

struct route
{
  struct dns_hop hops[DNS_HOPS_MAX];
  unsigned int nhops;
  unsigned int port;
  int verify;                       /* tls=verify: STARTTLS required, certificate checked */
  int smarthost;                    /* a route named the host (no MX lookup) */
  char user[REMOTE_CRED_MAX + 1];   /* AUTH PLAIN to the relay when set */
  char pass[REMOTE_CRED_MAX + 1];
};

struct job
{
  char const *domain, *sender, *helo, *qid;
  struct rcpt *rcpt;
  unsigned int nrcpt;
  stralloc wire;                    /* the message as sent: CRLF, dot-stuffed, ".\r\n" last */
  int eightbit;                     /* a byte >= 128 in the message */
  char lastmta[DNS_NAME_MAX + 64];  /* the last server we reached, for deferrals */
};

/* route.c: the route for job->domain into r: the routes file's line, else
 * MX / implicit MX, with addresses; our own name is never a hop. 0 ok; -1
 * temporary, -2 permanent failure, with a reason (starting with an
 * enhanced status code) in why. */
int route_find(struct job const *job, struct route *r, char *why, size_t whylen);

/* conn.c */
struct conn
{
  int fd;
  struct tls *tls;
  char in[4096];
  size_t inpos, inlen;
  stralloc out;
  char mta[DNS_NAME_MAX + 64];      /* host[ip]:port */
  char tlsinfo[128];                /* "none" or version:cipher */
};
/* Connects to a:port within the connect timeout; 0 ok, -1 with errno. */
int conn_open(struct conn *c, char const *host, struct dns_addr const *a, unsigned int port);
/* Queues bytes to send; conn_flush sends them within secs seconds. 0 ok, -1. */
int conn_put(struct conn *c, char const *s, size_t len);
int conn_puts(struct conn *c, char const *s);
int conn_flush(struct conn *c, unsigned int secs);
/* Flushes, then reads one reply within secs seconds. 0 ok; -1 with errno
 * (ETIMEDOUT, EPIPE for a closed connection, EPROTO for a malformed reply). */
int conn_reply(struct conn *c, struct smtp_reply *r, unsigned int secs);
/* Starts TLS on the connection (after the server's 220 to STARTTLS). */
int conn_starttls(struct conn *c, char const *servername, int verify, char *err, size_t errlen);
void conn_close(struct conn *c);
/* A timeout in seconds, capped by VMAIL_REMOTE_TIMEOUT. */
unsigned int timeout(unsigned int secs);

/* smtp.c: one session to one address of hop. Returns 1 when every recipient
 * of job has its result; 0 to try the next address, with why set; 2 to try
 * the same address again without TLS (an opportunistic handshake failed). */
int smtp_session(struct job *job, struct route const *r, struct dns_hop const *hop,
                 struct dns_addr const *a, int notls, char *why, size_t whylen);

#endif
