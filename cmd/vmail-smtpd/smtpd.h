/* vmail-smtpd: what the program's files share.
 *   main.c      the session: greeting, command dispatch, the state machine
 *   io.c        the client connection: timed, bounded reads, buffered replies
 *   queue.c     one $VMAIL_QUEUE child per message (qmail-queue interface)
 *   auth.c      AUTH PLAIN / LOGIN through the checkpassword program
 *   submit.c    RFC 6409 for authenticated sessions: sender check, Date, Message-ID */
#ifndef VMAIL_SMTPD_H
#define VMAIL_SMTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include "ucspitls.h"

/* main.c: ends the session (logs it, drops an unfinished message) and exits 0.
 * Called by io.c on EOF, timeout or a write error. */
extern void session_end(char const *why) __attribute__((noreturn));

/* io.c */
void io_init(unsigned timeout_seconds);
void io_timeout(unsigned seconds);          /* for every wait from now on */
int io_talked_first(unsigned delay_ms);     /* input before the greeting? */
void io_put(char const *s, size_t len);    /* buffered; flushed before we wait for input */
void io_puts(char const *s);
void io_reply(char const *s);              /* s and CRLF */
void io_flush(void);                       /* ends the session if the client is gone */
/* Reads one line (LF-terminated; the LF and a CR before it are removed) into
 * line, which holds max + 2 bytes. Returns its length, or -1 if it was longer
 * than max (the rest of it is discarded). */
ssize_t io_line(char *line, size_t max);
/* Waits until input is buffered; the two pieces of it in v. io_skip consumes. */
void io_peek(struct iovec v[2]);
void io_skip(size_t n);
/* STARTTLS through the UCSPI-TLS descriptors (ucspitls.h), once the 220 is
 * queued: flushes it, drops whatever input is buffered, and from then on
 * reads and writes the TLS program's pipes. 1 ok, 0 the handshake failed. */
int io_starttls(ucspitls const *t, unsigned timeout_seconds);

/* queue.c: one message at a time; queue_init (auth_init calls it) makes
 * the queue program privsep's spawned child */
void queue_init(void);
int queue_start(unsigned timeout_seconds);          /* 1 ok, 0 could not start */
int queue_running(void);
pid_t queue_child(void);                            /* its pid (0: none) */
void queue_write(char const *s, size_t len);        /* errors are remembered */
/* Closes the message, sends the envelope, waits: the child's exit code, or
 * -1 if it could not be given the whole message and envelope. */
int queue_finish(char const *envelope, size_t len);
void queue_abort(void);                             /* the message is dropped */

/* auth.c: auth_init before the first read from the client (as root, it
 * becomes VMAIL_SMTPD_UID, leaving a root partner behind that checks AUTH
 * and starts the queue program as VMAIL_UID; dies 100 if they are unset,
 * 111 on other trouble);
 * auth_check: 0 ok, 1 bad credentials, CHECKPW_BLOCKED (checkpw.h) the
 * client's address failed too often, 111 temporary trouble */
void auth_init(int auth_allowed);
int auth_check(char const *user, char const *password);

/* submit.c: 1 if from (an envelope sender, "" for <>) belongs to the
 * authenticated user: it is theirs, a +extension of it, or an alias that
 * reaches their mailbox; 0 not; -1 the lookup failed for now. */
int submit_sender(char const *user, char const *from, unsigned timeout);

/* Body bytes of an authenticated session pass through here: the header
 * section is held (up to 64 KB) until its end, then handed to out with Date
 * and Message-ID added at its end when it has none (RFC 6409 8.2, 8.3). */
struct submit_head
{
  stralloc buf;
  int state;          /* 0 reading the header, 1 header complete, 2 passing through */
  int has_date, has_msgid;
};
void submit_head_init(struct submit_head *h);
void submit_head_put(struct submit_head *h, char const *s, size_t n, char const *hostname,
                     void (*out)(char const *, size_t));
/* The message ended: what is still held goes out (with the fields). */
void submit_head_end(struct submit_head *h, char const *hostname, void (*out)(char const *, size_t));

#endif
