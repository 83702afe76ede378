/* pop3_command.c: the POP3 command line grammar. */
#include <string.h>
#include <strings.h>

#include "pop3_command.h"

#define POP3_KEYWORD_MAX 4     /* RFC 2449 4: keywords are 3 or 4 characters */
#define POP3_NUMBER_DIGITS 9   /* below 2^32: no overflow check needed */

static struct { char const *name; enum pop3_verb verb; } const keywords[] =
{
  { "USER", POP3_USER }, { "PASS", POP3_PASS }, { "AUTH", POP3_AUTH }, { "APOP", POP3_APOP },
  { "CAPA", POP3_CAPA }, { "QUIT", POP3_QUIT }, { "STLS", POP3_STLS }, { "STAT", POP3_STAT },
  { "LIST", POP3_LIST }, { "RETR", POP3_RETR }, { "DELE", POP3_DELE }, { "NOOP", POP3_NOOP },
  { "RSET", POP3_RSET }, { "TOP", POP3_TOP }, { "UIDL", POP3_UIDL },
};

/* Splits rest into words separated by one space (RFC 1939 3). strict: each
 * word non-empty, at most POP3_ARG_MAX, at most POP3_ARGS_MAX of them;
 * otherwise the words past POP3_ARGS_MAX are counted but not kept. */
static int split_words(pop3_command *cmd, int strict)
{
  size_t i, n;
  for (i = 0; i < cmd->restlen; i += n + 1)
  {
    char const *w = cmd->rest + i;
    char const *sp = memchr(w, ' ', cmd->restlen - i);
    n = sp ? (size_t)(sp - w) : cmd->restlen - i;
    if (strict && (!n || n > POP3_ARG_MAX || cmd->argc >= POP3_ARGS_MAX)) return 0;
    if (cmd->argc < POP3_ARGS_MAX) { cmd->argv[cmd->argc] = w; cmd->arglen[cmd->argc] = n; }
    cmd->argc++;
  }
  return 1;
}

int pop3_command_parse(char const *line, size_t len, pop3_command *cmd)
{
  size_t k = 0, i;
  memset(cmd, 0, sizeof *cmd);
  if (memchr(line, 0, len)) return 0;   /* would cut a name short further on */
  while (k < len && line[k] != ' ') k++;
  if (!k || k > POP3_KEYWORD_MAX) return 0;
  for (i = 0; i < sizeof keywords / sizeof *keywords; i++)
    if (strlen(keywords[i].name) == k && !strncasecmp(keywords[i].name, line, k))
    { cmd->verb = keywords[i].verb; break; }
  if (k == len) return 1;
  cmd->rest = line + k + 1;
  cmd->restlen = len - k - 1;
  if (cmd->verb == POP3_PASS || cmd->verb == POP3_AUTH)
    return cmd->restlen > 0 && split_words(cmd, 0);
  /* some clients end a line with a space: forgive it */
  while (cmd->restlen && cmd->rest[cmd->restlen - 1] == ' ') cmd->restlen--;
  return split_words(cmd, 1);
}

int pop3_command_number(char const *s, size_t len, uint32_t *n)
{
  uint32_t v = 0;
  size_t i = 0;
  if (!len || len > POP3_NUMBER_DIGITS) return 0;
  for (; i < len; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (uint32_t)(s[i] - '0');
  }
  *n = v;
  return 1;
}
