/* envelope: the qmail-queue envelope, "F<sender>\0T<rcpt>\0T<rcpt>\0\0".
 *
 * vmail-queue reads it from fd 1 and stores it unchanged as the queue's
 * env/ID file, which vmail-send, vmailctl queue and vmail-sendmail -bp parse
 * again with envelope_parse. Addresses are kept byte for byte; only their
 * length and the framing are checked (a filter may pass any sender, e.g.
 * the empty one of a bounce, or "#@[]" of a double bounce). */
#ifndef VMAIL_ENVELOPE_H
#define VMAIL_ENVELOPE_H

#include <stddef.h>

#define ENVELOPE_ADDR_MAX 256    /* RFC 5321 4.5.3.1.3: a path is at most 256 octets */
#define ENVELOPE_RCPT_MAX 10000  /* RFC 5321 4.5.3.1.8 asks for at least 100 */
#define ENVELOPE_MAX (2 + (ENVELOPE_RCPT_MAX + 1) * (ENVELOPE_ADDR_MAX + 2))

enum envelope_status
{
  ENVELOPE_OK = 0,
  ENVELOPE_FORMAT,    /* not F...\0(T...\0)*\0, no recipient, or bytes after the end */
  ENVELOPE_TOOLONG,   /* an address over ENVELOPE_ADDR_MAX, or too many recipients */
  ENVELOPE_SHORT      /* ends before the final \0: more input may complete it */
};

/* A parsed envelope: pointers into the caller's buffer, NUL-terminated there. */
struct envelope
{
  char const *sender;      /* "" for the null sender */
  char const *rcpt;        /* the first recipient; the others follow, each after the previous NUL */
  unsigned int nrcpt;
  size_t len;              /* bytes of the envelope, final \0 included */
};

/* Checks s[len] and fills e. Returns an envelope_status. A complete envelope
 * followed by more bytes is ENVELOPE_FORMAT with e->len set to its length. */
int envelope_parse(char const *s, size_t len, struct envelope *e);

/* The recipient after r (r as found through e->rcpt). */
char const *envelope_next(char const *r);

#endif
