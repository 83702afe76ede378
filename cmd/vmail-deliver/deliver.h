/* deliver.h: the whole of vmail-deliver as a function, so that vmail-send
 * can run it in a forked child without an exec (see the README's design
 * notes: a new program image costs more than the delivery itself).
 * Call it only in a process of its own: it may exit (status 0, 100, 111,
 * as vmail-deliver(8)) instead of returning, reads the message on fd 0 and
 * keeps what it allocates until then. */
#ifndef VMAIL_DELIVER_H
#define VMAIL_DELIVER_H

/* argv as vmail-deliver's: [ -v ] [ -f sender ] [ -d maildir ] recipient */
int deliver_main(int argc, char const *const *argv);

#endif
