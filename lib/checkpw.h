/* checkpw: both sides of the checkpassword interface.
 *
 * The protocol (qmail's checkpassword): the checking program reads up to
 * CHECKPW_INPUT_MAX bytes from fd 3: "user\0password\0timestamp\0" (the
 * timestamp, and its NUL, may be missing), then either execs the rest of its
 * argv as the user (success) or exits 1 (bad login) / 111 (temporary). */
#ifndef VMAIL_CHECKPW_H
#define VMAIL_CHECKPW_H

#include <stddef.h>

#define CHECKPW_INPUT_MAX 512

/* vmail-checkpw's exit code when the client's address has failed too often
 * (authlimit.h): nothing was verified. checkpassword callers that know
 * only 1 and 111 take it for a temporary failure. */
#define CHECKPW_BLOCKED 3

/* Reads fd 3 to EOF (at most CHECKPW_INPUT_MAX bytes) into buf, which must
 * hold CHECKPW_INPUT_MAX + 1 bytes. Returns the length, or -1 on a read error
 * or too much input. */
long checkpw_read(int fd, char *buf);

/* Splits buf[len] into user and password (pointers into buf, NUL-terminated).
 * 1 ok; 0 malformed (no NUL after the password, empty user). */
int checkpw_parse(char *buf, size_t len, char **user, char **password);

/* The login side: forks, gives the child "user\0password\0\0" on fd 3 and
 * execs argv[0] with argv (e.g. {"vmail-checkpw", "vmail-pop3d", 0}); fd 0,
 * 1 and 2 are inherited, so on success the execed server speaks to the client
 * directly. Waits for the child. Returns its exit code (0 ok, 1 bad login,
 * CHECKPW_BLOCKED, 111 temporary, 126/127 exec failure), or -1 if it could not be started.
 * The password is copied only into the pipe, never kept. */
int checkpw_run(char const *const *argv, char const *user, char const *password);

#endif
