/* enqueue.h: the whole of vmail-queue as a function, so that vmail-smtpd
 * can run it in a forked child without an exec (see the README's design
 * notes: a new program image costs more than the queueing itself).
 * Call it only in a process of its own, with the message on fd 0 and the
 * envelope on fd 1 and no other holder of their write ends: it may exit
 * (qmail-queue's codes, vmail-queue(8)) instead of returning. */
#ifndef VMAIL_ENQUEUE_H
#define VMAIL_ENQUEUE_H

/* argv as vmail-queue's: no arguments */
int enqueue_main(int argc, char const *const *argv);

#endif
