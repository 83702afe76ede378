/* submit: hands a message to an SMTP server instead of the queue program.
 *
 * vmail-sendmail does this when the queue is not its caller's to write: a
 * local user (a cron job, mail(1)) on a system whose queue belongs to the
 * mail user. Rather than a set-group-id entry into the queue, the message
 * goes to the local vmail-smtpd, which takes mail from the host itself
 * (tcprules gives 127.0.0.1 RELAYCLIENT) under the same checks as any other.
 *
 * Environment: VMAIL_SUBMIT_HOST (an IP address, default 127.0.0.1) and
 * VMAIL_SUBMIT_PORT (default 25). Every reply is waited for at most
 * SUBMIT_TIMEOUT seconds, the one after the message SUBMIT_DATA_TIMEOUT. */
#ifndef VMAIL_SENDMAIL_SUBMIT_H
#define VMAIL_SENDMAIL_SUBMIT_H

#include <stddef.h>

#define SUBMIT_TIMEOUT      300   /* RFC 5321 4.5.3.2: 5 minutes a command */
#define SUBMIT_DATA_TIMEOUT 600   /* 4.5.3.2.6: 10 minutes for the final dot */

/* Sends message (len bytes, lines ending in LF or CRLF) with the envelope
 * of the qmail-queue interface ("Fsender\0Trcpt\0...\0"). All or nothing:
 * one refused recipient ends the transaction before DATA. Returns 0 when
 * the server accepted the message; otherwise says why on stderr and exits
 * 100 if it refused it for good (5xx), 111 if not (4xx, no server, a
 * timeout). */
int submit_smtp(char const *message, size_t len, char const *envelope, size_t envlen);

#endif
