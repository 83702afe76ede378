/* mime: a MIME parser for IMAP (RFC 2045-2047, RFC 5322, RFC 3501 / RFC 9051).
 *
 * mime_parse() builds a tree of parts over the caller's buffer (no copy of
 * the message: the buffer must outlive the mime_message). The parser never
 * fails on broken input: a part whose headers make no sense is text/plain
 * us-ascii 7bit (RFC 2045 5.2, 6.1), a multipart without its boundary is
 * one body, a missing close delimiter ends the part at the end of its parent.
 * Nesting (multipart, message/rfc822) is bounded by MIME_DEPTH_MAX, parts by
 * MIME_PARTS_MAX; what lies deeper is an opaque body.
 *
 * Output functions append to a stralloc the exact bytes IMAP sends: all
 * sizes, offsets and line counts are those of the CRLF form of the message
 * (bare LF line ends count as CRLF), whatever the stored form.
 * Functions returning int: 1 ok, 0 out of memory (errno set), negative values
 * as documented per function. */
#ifndef VMAIL_MIME_H
#define VMAIL_MIME_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define MIME_DEPTH_MAX 32       /* nesting of multipart / message/rfc822 */
#define MIME_PARTS_MAX 10000    /* parts per message; the rest is opaque */

typedef struct mime_message_s mime_message;   /* opaque; a tree of parts over the caller's buffer */

/* Parses msg[len] (the message as stored; CRLF or bare LF line ends; the buffer
 * must outlive m). Never fails on broken MIME (falls back to text/plain per
 * RFC 2045); 0 only on out of memory. */
mime_message *mime_parse(char const *msg, size_t len);
void mime_free(mime_message *m);

/* Appends the IMAP ENVELOPE list (RFC 3501 7.4.2 / RFC 9051 7.5.2): date,
 * subject, from, sender, reply-to, to, cc, bcc, in-reply-to, message-id;
 * sender and reply-to default to from; strings quoted, or as literals when
 * they hold CR, LF, NUL, 8-bit bytes or are long. */
int mime_envelope(mime_message const *m, stralloc *out);

/* Appends BODY (extended == 0) or BODYSTRUCTURE (extended == 1) (RFC 3501
 * 7.4.2). Sizes/line counts are those of the CRLF form the client receives. */
int mime_bodystructure(mime_message const *m, int extended, stralloc *out);

/* The content of BODY[section] as the client receives it (CRLF line ends)
 * appended to out. section is the text inside the brackets: "", "HEADER",
 * "TEXT", "1.2", "1.2.MIME", "2.HEADER", "HEADER.FIELDS (FROM TO)",
 * "HEADER.FIELDS.NOT (SUBJECT)"; keywords case-insensitive.
 * 1 ok (possibly empty per RFC for absent parts), -1 bad section syntax,
 * 0 out of memory. */
int mime_section(mime_message const *m, char const *section, stralloc *out);

/* BINARY[section] (RFC 3516): the part's content with its
 * Content-Transfer-Encoding undone. section is "" or a part number "1.2".
 * 1 ok, -1 bad section, -2 unknown encoding (client gets UNKNOWN-CTE),
 * 0 out of memory. */
int mime_section_binary(mime_message const *m, char const *section, stralloc *out);

/* Size of the whole message in CRLF form (RFC822.SIZE). */
size_t mime_size_crlf(mime_message const *m);

/* SEARCH support. Case-insensitive substring tests on decoded UTF-8 text
 * (RFC 2047 encoded words in headers; QP/base64 and charset
 * utf-8/us-ascii/iso-8859-1/windows-1252 in text bodies, any other charset
 * through iconv(3)). Case folding covers ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic. needle is UTF-8;
 * an empty needle matches when the field exists (or always, for bodies).
 * Return 1 match, 0 no match, -1 out of memory. */
int mime_header_contains(mime_message const *m, char const *field, char const *needle); /* field "" = any header */
int mime_body_contains(mime_message const *m, char const *needle);
int mime_text_contains(mime_message const *m, char const *needle);   /* headers or body */

/* The Date: header as seconds since the epoch (UTC); 0 if missing or
 * unparsable (RFC 5322 3.3, obsolete forms and zone names included). */
int64_t mime_date(mime_message const *m);
/* The same, and *zone (when not 0) gets the field's zone as seconds east
 * of UTC (0 for -0000 and unknown zones): t + *zone is the wall-clock
 * time the sender wrote, whose date SENTON and friends compare (RFC 3501
 * 6.4.4: "disregarding time and timezone"). */
int64_t mime_date_zone(mime_message const *m, long *zone);

/* Additions beyond the agreed API. */

/* Binary content made storable (RFC 3516 4.3: what APPEND accepts in a
 * literal8 must be served back by FETCH BODY[] too, where a NUL cannot
 * travel): leaf parts with Content-Transfer-Encoding binary, or holding a
 * NUL byte, re-encoded as base64 into out (replacing its contents), so
 * that BINARY[] decodes them to the octets sent. 1 converted, 0 nothing
 * to convert (out untouched), -1 out of memory. */
int mime_binary_encode(char const *msg, size_t len, stralloc *out);

/* Appends the decoded UTF-8 value of the first header field named field
 * (RFC 2047 words decoded, folding removed) to out; 1 found, -1 absent,
 * 0 out of memory. For SORT, logging and tools. */
int mime_header_value(mime_message const *m, char const *field, stralloc *out);

/* SORT keys (RFC 5256), case-folded (i;unicode-casemap), into out
 * (replacing its contents; empty when the field is absent). 1 ok, 0 out of
 * memory. mime_sort_subject: the base subject (2.1: Re:, Fwd:, [blobs],
 * (fwd) and [fwd: ...] removed). mime_sort_address: of field's first
 * address, the local part, or with display (RFC 5957) the display name,
 * else the addr-spec. */
int mime_sort_subject(mime_message const *m, stralloc *out);
/* The same; *reply set when a Re:/Fwd: leader, a "(fwd)" trailer or a
 * "[fwd: ...]" wrapper was removed (RFC 5256 4: the message is a reply). */
int mime_sort_subject_reply(mime_message const *m, stralloc *out, int *reply);
/* The message ids ("<...>", brackets included, each NUL-terminated) of
 * field, appended to out; how many (at most max). */
unsigned mime_message_ids(mime_message const *m, char const *field, unsigned max, stralloc *out);
int mime_sort_address(mime_message const *m, char const *field, int display, stralloc *out);

/* Where BODY[section] lies in the stored message, so that a server can send
 * it without building a copy: 1 when it is one range msg[*start..*end) (every
 * section but HEADER.FIELDS[.NOT]; an absent part is an empty range), which
 * the client receives with bare LFs made CRLF: mime_crlf_length() octets,
 * written by mime_crlf_append(); 0 when it is not one range (use
 * mime_section), -1 bad section syntax, -2 out of memory. */
int mime_section_range(mime_message const *m, char const *section, size_t *start, size_t *end);
/* Octets of s[len] once every bare LF is CRLF; and appending that form.
 * s must start at a line start (as every range above does). */
size_t mime_crlf_length(char const *s, size_t len);
int mime_crlf_append(stralloc *out, char const *s, size_t len);

/* Parses an RFC 5322 date-time string (s[len]) to seconds since the epoch;
 * 0 if unparsable. */
int64_t mime_parse_date(char const *s, size_t len);
int64_t mime_parse_date_zone(char const *s, size_t len, long *zone);

/* Appends s[len] as an IMAP string (RFC 3501 4.3): "quoted" when it can be,
 * otherwise a {n}CRLF literal; NIL when s is 0. */
int mime_imap_string(char const *s, size_t len, stralloc *out);

#endif
