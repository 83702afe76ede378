/* pop3_uidl: POP3 unique-ids in the syntax of Dovecot's pop3_uidl_format,
 * so that a mailbox migrated from a Dovecot whose format was not the
 * default keeps the UIDLs its clients saved (else they fetch everything
 * again).
 *
 * A format is text with %-expansions, as Dovecot's var_expand reads them:
 *   %[-][0][width][.[0][-]width][modifiers]VARIABLE
 * VARIABLE: v (or {uidvalidity}) the folder's UIDVALIDITY, u ({uid}) the
 * message's IMAP UID, both decimal; f ({filename}) and g ({guid}) the
 * Maildir base name (Dovecot's Maildir GUID is that name); m ({md5}) the
 * MD5 of the message's header as stored, in hex (Dovecot computes it for
 * mbox; here from the Maildir file); % a literal %.
 * Modifiers, applied in order: X decimal to lower-case hex, L lower case,
 * U upper case, R reversed, M MD5 in hex, T trailing spaces dropped.
 * Then an offset (before '.') skips that many characters (negative: keeps
 * the last ones) and a width truncates to it (negative: drops that many
 * from the end), or with a leading 0 pads with zeros on the left.
 * Examples: Dovecot's default "%08Xu%08Xv"; Courier's "%v.%u"; UW-IMAP's
 * "%v.%u" too; "%f" the base name. */
#ifndef VMAIL_POP3_UIDL_H
#define VMAIL_POP3_UIDL_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define POP3_UIDL_FORMAT_MAX 256   /* characters of a format setting */
#define POP3_UIDL_VALUE_MAX 1024   /* characters one expansion may produce */

typedef struct pop3_uidl_vars_s {
  uint32_t uidvalidity;
  uint32_t uid;
  char const *base;        /* Maildir base name */
  size_t baselen;
  /* the header's MD5 (16 bytes) into digest: 1 ok, 0 unreadable; called
     only when the format has %m */
  int (*header_md5)(void *ctx, unsigned char *digest);
  void *ctx;
} pop3_uidl_vars;

#define POP3_UIDL_MAX 70   /* RFC 1939 7: a unique-id is 1 to 70 characters 0x21-0x7E */

/* 1 if s (len bytes) is such a unique-id. */
int pop3_uidl_fit(char const *s, size_t len);

/* 1 if fmt is a format this module expands; else 0 with *why a static
 * message ("unknown variable", ...). */
int pop3_uidl_check(char const *fmt, char const **why);

/* 1 if fmt uses the header MD5 (%m), which costs a read of the message. */
int pop3_uidl_needs_md5(char const *fmt);

/* Appends the expansion of fmt (checked) to out. 1 ok, 0 on a failed
 * header_md5 or allocation (errno set). */
int pop3_uidl_expand(char const *fmt, pop3_uidl_vars const *v, stralloc *out);

#endif
