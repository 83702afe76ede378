/* vmail-resolve: what the program's files share.
 *   main.c    options; argument mode (one answer per argument, exit code)
 *   batch.c   batch mode: addresses on stdin, answer blocks on stdout
 *   server.c  server mode (-l): the same blocks for every client of a socket
 *   answer.c  one line's answer block, which batch and server mode share */
#ifndef VMAIL_RESOLVE_MODES_H
#define VMAIL_RESOLVE_MODES_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#include "addr.h"

/* A line, its LF included: an address, maybe <>-bracketed, and CRLF. A
 * longer one is answered "error bad address too long". */
#define LINE_MAX_BYTES (ADDR_MAX + 4)

/* answer.c. The address on a line of len bytes, its LF already removed:
 * without a final CR or the angle brackets around it, NUL-terminated in
 * place (line has room for len + 1 bytes). */
char const *answer_address(char *line, size_t len);

/* Appends the answer block for address to sa: one line per final recipient
 * or one "error KIND WHY" line, then an empty line. 0 if out of memory (sa
 * may then hold part of the block). */
int answer_block(char const *address, stralloc *sa);

/* The blocks of n addresses, in order, resolved together (resolve_many):
 * one query per alias level for all of them. At most ANSWER_BATCH_MAX. */
#define ANSWER_BATCH_MAX 64
int answer_blocks(char const *const *addresses, unsigned int n, stralloc *sa);

/* Appends the block for a line longer than LINE_MAX_BYTES. 0 if out of memory. */
int answer_too_long(stralloc *sa);

/* batch.c: answers stdin on stdout until end of input; returns 0, dies 111. */
int batch_run(void);

/* server.c: serves the listening unix socket on fd 0 until SIGTERM; returns
 * 0. Dies 100 if fd 0 is no listening unix socket, 111 if it cannot run. */
int server_run(void);

#endif
