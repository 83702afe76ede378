/* logline: one event, one line on stderr, for s6-log: the strings given,
 * up to a null pointer, then a newline, flushed at once so that lines of a
 * long-running program reach the log as they happen, e.g.
 *     log_line("start dir=", dir, (char *)0);
 * Write errors are ignored: a log that cannot be written stops nothing. */
#ifndef VMAIL_LOGLINE_H
#define VMAIL_LOGLINE_H

void log_line(char const *first, ...);

#endif
