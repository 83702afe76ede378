/* password_input.c: reading a new password, from stdin or from the terminal
 * with echo off. The password lives only in the caller's stralloc and in
 * buffers cleared here. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "password.h"
#include "vmailctl.h"

#define LINE_MAX_BYTES (PASSWORD_MAX + 2)   /* a password, maybe CR, and LF */

static int tty = -1;
static struct termios saved;

/* Puts the terminal back as it was, also when interrupted at the prompt. */
static void restore(void)
{
  if (tty >= 0) tcsetattr(tty, TCSAFLUSH, &saved);
}

static void on_signal(int sig)
{
  restore();
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Reads one line from fd into buf (LINE_MAX_BYTES + 1): its length without
 * the line end, or -1 if too long, -2 on a read error. A byte at a time, so
 * nothing after the line is consumed. */
static long read_line(int fd, char *buf)
{
  size_t n = 0;
  for (;;)
  {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0) { if (errno == EINTR) continue; return -2; }
    if (!r || c == '\n') break;
    if (n >= LINE_MAX_BYTES) return -1;
    buf[n++] = c;
  }
  if (n && buf[n-1] == '\r') n--;
  buf[n] = 0;
  return (long)n;
}

static void accept_line(long n, char *buf, stralloc *pw)
{
  if (n == -2) strerr_diefu1sys(CTL_TEMP, "read the password");
  if (n == -1 || n > PASSWORD_MAX) { explicit_bzero(buf, LINE_MAX_BYTES + 1); strerr_dief1x(CTL_REFUSED, "password too long (256 bytes at most)"); }
  if (!n) strerr_dief1x(CTL_REFUSED, "empty password refused");
  /* crypt(3) and the checkpassword interface end a password at a NUL: the
     rest would be silently dropped */
  if (memchr(buf, 0, (size_t)n)) { explicit_bzero(buf, LINE_MAX_BYTES + 1); strerr_dief1x(CTL_REFUSED, "password with a NUL byte refused"); }
  pw->len = 0;
  if (!stralloc_catb(pw, buf, (size_t)n) || !stralloc_0(pw)) strerr_diefu1sys(CTL_TEMP, "allocate");
  explicit_bzero(buf, LINE_MAX_BYTES + 1);
}

static long prompt(char const *question, char *buf)
{
  long n;
  if (allwrite(tty, question, strlen(question)) < strlen(question)) return -2;
  n = read_line(tty, buf);
  allwrite(tty, "\n", 1);   /* the Enter that was not echoed */
  return n;
}

void ctl_password_input(int from_stdin, stralloc *pw)
{
  char first[LINE_MAX_BYTES + 1], second[LINE_MAX_BYTES + 1];
  struct termios quiet;
  long n, m;
  int same;
  if (from_stdin) { accept_line(read_line(0, first), first, pw); return; }

  tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0 || tcgetattr(tty, &saved) < 0)
    strerr_dief1x(CTL_REFUSED, "no terminal to ask for the password: give - and the password on stdin");
  quiet = saved;
  quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
  quiet.c_lflag |= ICANON;
  signal(SIGINT, on_signal); signal(SIGTERM, on_signal);
  signal(SIGHUP, on_signal); signal(SIGQUIT, on_signal); signal(SIGTSTP, on_signal);
  if (tcsetattr(tty, TCSAFLUSH, &quiet) < 0) strerr_diefu1sys(CTL_TEMP, "turn off echo on the terminal");
  n = prompt("New password: ", first);
  m = n > 0 ? prompt("Retype new password: ", second) : 0;
  restore();
  close(tty); tty = -1;
  same = n == m && n > 0 && !memcmp(first, second, (size_t)n);
  explicit_bzero(second, sizeof second);
  if (n > 0 && !same) { explicit_bzero(first, sizeof first); strerr_dief1x(CTL_REFUSED, "the passwords do not match"); }
  accept_line(n, first, pw);
}
