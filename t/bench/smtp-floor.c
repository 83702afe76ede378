/* smtp-floor: the least work a program under tcpserver can do for an SMTP
 * message: it answers every command and keeps nothing. t/bench/smtp builds
 * it statically and runs it under tcpserver beside vmail-smtpd, so that the
 * cost of the UCSPI design itself (a fork and an exec per connection) is
 * printed in the same run as the systems it bounds. Not a server. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

int main(void)
{
  char line[8192];
  int data = 0;
  setvbuf(stdout, 0, _IONBF, 0);
  fputs("220 floor ESMTP\r\n", stdout);
  while (fgets(line, sizeof line, stdin))
  {
    if (data) { if (!strcmp(line, ".\r\n")) { data = 0; fputs("250 2.0.0 dropped\r\n", stdout); } continue; }
    if (!strncasecmp(line, "EHLO", 4)) fputs("250-floor\r\n250 PIPELINING\r\n", stdout);
    else if (!strncasecmp(line, "DATA", 4)) { data = 1; fputs("354 go on\r\n", stdout); }
    else if (!strncasecmp(line, "QUIT", 4)) { fputs("221 2.0.0 bye\r\n", stdout); return 0; }
    else fputs("250 2.0.0 ok\r\n", stdout);
  }
  return 0;
}
