/* pop3_output: writing to a POP3 client that may stop reading. Shared by
 * vmail-pop3-login and vmail-pop3d.
 *
 * A client that stops reading must not hold its session (and the mailbox
 * lock, or a tcpserver slot) forever: each write may block at most the
 * given number of seconds, measured by SIGALRM. */
#ifndef VMAIL_POP3_OUTPUT_H
#define VMAIL_POP3_OUTPUT_H

#include <sys/types.h>
#include <sys/uio.h>

/* Installs the SIGALRM handler (without SA_RESTART, so the alarm interrupts
 * a blocked write) and sets the limit per write. 0 ok, -1 errno set. */
int pop3_output_init(unsigned int timeout_secs);

/* A writev for a skalibs buffer (BUFFER_INIT(&pop3_output_writev, fd, ...)):
 * as writev(2), but -1 with errno ETIMEDOUT when nothing could be written
 * within the limit. */
ssize_t pop3_output_writev(int fd, struct iovec const *v, unsigned int n);

#endif
