/* launcher: forks vmail-send's built-in deliveries from a small process.
 *
 * A fork of the runner itself is dear: it has the database client and the
 * message table mapped, so each fork copies their page tables and every page
 * the runner writes afterwards takes a copy-on-write fault. The launcher is
 * forked once, before any of that exists. For each delivery it forks a child
 * that runs deliver_main with the message on fd 0 and fds 1 and 2 on the
 * pipe it was given, exactly as the runner's own child did; it reaps the
 * child and reports its wait status. A delivery is still one process of its
 * own, and the runner may signal it by its pid (same user).
 *
 * The launcher ignores SIGINT, SIGTERM and SIGHUP (the runner decides when
 * to stop) and exits when the runner closes its end. */
#ifndef VMAIL_SEND_LAUNCHER_H
#define VMAIL_SEND_LAUNCHER_H

#include <sys/types.h>

/* Forks the launcher. Returns the fd on which its reports arrive (to wait
 * for reading: non-blocking, close-on-exec), or -1 with errno. The
 * launcher's pid is in *pid: it is the caller's child, so its death shows in
 * wait_nohang as any child's. */
int launcher_start(pid_t *pid);

/* Starts deliver_main for recipient rcpt of message id from sender, reading
 * msgfd, writing to outfd (both stay the caller's to close). The delivery's
 * pid, or -1 with errno (the launcher's fork failed, or it is gone). */
pid_t launcher_run(int msgfd, int outfd, char const *id, char const *sender, char const *rcpt);

/* Reads one report: 1 with *pid and *wstat (as waitpid's) of a delivery
 * that ended, 0 if none is waiting, -1 if the launcher is gone. */
int launcher_report(pid_t *pid, int *wstat);

/* In a process just forked to be a delivery (by the launcher, or by the
 * runner to exec VMAIL_DELIVER): makes it start as a fresh process would,
 * with default signal handling and an empty mask, the message on fd 0,
 * fds 1 and 2 on outfd and VMAIL_QUEUE_ID set; exits 111 if it cannot. */
void delivery_child_setup(int msgfd, int outfd, char const *id);

#endif
