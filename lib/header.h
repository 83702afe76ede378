/* header: the few facts a delivery agent needs from a message's header
 * section (RFC 5322 2.2), read from a prefix of the message in memory.
 *
 * The input is untrusted: any bytes, any length, possibly cut in the middle
 * of a line. Scanning stops at the first empty line (end of the header
 * section) or at the end of the buffer, whichever comes first; at most
 * HEADER_SCAN_MAX bytes are looked at. Nothing is allocated. */
#ifndef VMAIL_HEADER_H
#define VMAIL_HEADER_H

#include <stddef.h>

/* The header prefix a delivery agent keeps in memory and scans. Headers we
 * add ourselves (Delivered-To) sit at the top, so a bound far above any real
 * header section (RFC 5322 2.1.1 limits lines, not their number) loses
 * nothing that matters. */
#define HEADER_SCAN_MAX (256 * 1024)

/* Does a Delivered-To field of the header section of msg (len bytes) carry
 * addr, compared without regard to ASCII case, after unfolding and removing
 * surrounding whitespace and one pair of angle brackets? 1 yes, 0 no. */
int header_has_delivered_to(char const *msg, size_t len, char const *addr);

/* The line ending msg uses, judged by its first line: "\r\n" if that line
 * ends with CR LF, else "\n". */
char const *header_eol(char const *msg, size_t len);

#endif
