/* smtp_cmd.c: SMTP command line and path syntax. */
#include <string.h>
#include "addr.h"
#include "smtp_cmd.h"

static struct { char const *name; enum smtp_verb verb; } const VERBS[] =
{
  { "HELO", SMTP_HELO }, { "EHLO", SMTP_EHLO }, { "MAIL", SMTP_MAIL },
  { "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA }, { "BDAT", SMTP_BDAT },
  { "RSET", SMTP_RSET }, { "NOOP", SMTP_NOOP }, { "VRFY", SMTP_VRFY },
  { "EXPN", SMTP_EXPN }, { "HELP", SMTP_HELP }, { "QUIT", SMTP_QUIT },
  { "AUTH", SMTP_AUTH }, { "STARTTLS", SMTP_STARTTLS }
};

static char upper(char c) { return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c; }

/* Does s[0..len) start with the ASCII word w, ignoring case? */
static int prefix_nocase(char const *s, size_t len, char const *w)
{
  size_t n = strlen(w);
  if (len < n) return 0;
  for (size_t i = 0; i < n; i++) if (upper(s[i]) != w[i]) return 0;
  return 1;
}

void smtp_cmd_parse(char const *line, size_t len, struct smtp_cmd *cmd)
{
  size_t v = 0, a;
  char word[SMTP_VERB_MAX + 1];
  cmd->verb = SMTP_UNKNOWN;
  cmd->arg = line + len;
  cmd->arglen = 0;
  while (v < len && line[v] != ' ') v++;
  if (!v || v > SMTP_VERB_MAX) return;
  for (size_t i = 0; i < v; i++) word[i] = upper(line[i]);
  word[v] = 0;
  for (size_t i = 0; i < sizeof VERBS / sizeof *VERBS; i++)
    if (!strcmp(word, VERBS[i].name)) { cmd->verb = VERBS[i].verb; break; }
  for (a = v; a < len && line[a] == ' '; a++) ;
  while (len > a && line[len-1] == ' ') len--;   /* trailing spaces: harmless */
  cmd->arg = line + a;
  cmd->arglen = len - a;
}

static int ascii(char const *s, size_t len)
{
  for (size_t i = 0; i < len; i++) if ((unsigned char)s[i] >= 0x80) return 0;
  return 1;
}

/* Parses "KEYWORD<path>" (an optional space after the colon, as many clients
 * send); the mailbox goes to addr, *rest is what follows. */
static int path(char const *arg, size_t len, char const *keyword, int utf8,
                int allow_null, stralloc *addr, int *null, size_t *rest)
{
  size_t i = strlen(keyword), start, end;
  char const *box;
  size_t boxlen;
  if (!prefix_nocase(arg, len, keyword)) return SMTP_PATH_SYNTAX;
  if (i < len && arg[i] == ' ') i++;
  if (i >= len || arg[i] != '<') return SMTP_PATH_SYNTAX;
  start = ++i;
  while (i < len && arg[i] != '>') i++;
  if (i >= len) return SMTP_PATH_SYNTAX;
  end = i++;
  if (i < len && arg[i] != ' ') return SMTP_PATH_SYNTAX;
  *rest = i;
  box = arg + start;
  boxlen = end - start;
  /* RFC 5321 4.1.2: a source route "@a,@b:" is accepted and ignored */
  if (boxlen && box[0] == '@')
  {
    char const *colon = memchr(box, ':', boxlen);
    if (!colon) return SMTP_PATH_ADDRESS;
    boxlen -= (size_t)(colon + 1 - box);
    box = colon + 1;
  }
  *null = 0;
  if (!boxlen)
  {
    if (!allow_null) return SMTP_PATH_ADDRESS;
    *null = 1;
    addr->len = 0;
    return stralloc_0(addr) ? SMTP_PATH_OK : SMTP_PATH_ADDRESS;
  }
  if (!allow_null && boxlen == 10 && prefix_nocase(box, boxlen, "POSTMASTER")) return SMTP_PATH_POSTMASTER;
  if (!addr_parse(box, boxlen, addr)) return SMTP_PATH_ADDRESS;
  if (!utf8 && !ascii(box, boxlen)) return SMTP_PATH_UTF8;
  return SMTP_PATH_OK;
}

/* One "KEY[=VALUE]" of MAIL. */
static int mail_param(char const *s, size_t len, struct smtp_path *p)
{
  if (prefix_nocase(s, len, "SIZE="))
  {
    uint64_t n = 0;
    if (len == 5) return 0;
    for (size_t i = 5; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9') return 0;
      /* a size past 2^64 is as good as 2^64 - 1: too big (RFC 1870 6: 552) */
      n = n > (UINT64_MAX - 9) / 10 ? UINT64_MAX : n * 10 + (uint64_t)(s[i] - '0');
    }
    p->size = n;
    return 1;
  }
  if (prefix_nocase(s, len, "BODY="))
  {
    if (len == 9 && prefix_nocase(s, len, "BODY=7BIT")) { p->body = SMTP_BODY_7BIT; return 1; }
    if (len == 13 && prefix_nocase(s, len, "BODY=8BITMIME")) { p->body = SMTP_BODY_8BITMIME; return 1; }
    return 0;
  }
  if (len == 8 && prefix_nocase(s, len, "SMTPUTF8")) { p->smtputf8 = 1; return 1; }
  if (prefix_nocase(s, len, "AUTH=") && len > 5) return 1;
  return 0;
}

/* Is SMTPUTF8 among the parameters (needed before the address is judged)? */
static int has_smtputf8(char const *arg, size_t len)
{
  for (size_t i = 0; i + 8 <= len; i++)
    if (arg[i] == ' ' && prefix_nocase(arg + i + 1, len - i - 1, "SMTPUTF8")
        && (i + 9 == len || arg[i + 9] == ' ')) return 1;
  return 0;
}

int smtp_mail_parse(char const *arg, size_t len, stralloc *addr, struct smtp_path *p)
{
  size_t i, rest;
  int r;
  memset(p, 0, sizeof *p);
  r = path(arg, len, "FROM:", has_smtputf8(arg, len), 1, addr, &p->null, &rest);
  if (r != SMTP_PATH_OK) return r;
  for (i = rest; i < len;)
  {
    size_t start;
    while (i < len && arg[i] == ' ') i++;
    start = i;
    while (i < len && arg[i] != ' ') i++;
    if (i > start && !mail_param(arg + start, i - start, p)) return SMTP_PATH_PARAM;
  }
  return SMTP_PATH_OK;
}

int smtp_rcpt_parse(char const *arg, size_t len, int utf8, stralloc *addr)
{
  size_t rest;
  int null, r = path(arg, len, "TO:", utf8, 0, addr, &null, &rest);
  if (r != SMTP_PATH_OK && r != SMTP_PATH_POSTMASTER) return r;
  while (rest < len && arg[rest] == ' ') rest++;
  return rest < len ? SMTP_PATH_PARAM : r;
}

int smtp_bdat_parse(char const *arg, size_t len, uint64_t *size, int *last)
{
  size_t i = 0;
  uint64_t n = 0;
  while (i < len && arg[i] >= '0' && arg[i] <= '9')
  {
    if (i >= 19) return 0;   /* below 2^64 */
    n = n * 10 + (uint64_t)(arg[i++] - '0');
  }
  if (!i) return 0;
  *size = n;
  *last = 0;
  if (i == len) return 1;
  if (arg[i] != ' ') return 0;
  while (i < len && arg[i] == ' ') i++;
  if (len - i == 4 && prefix_nocase(arg + i, 4, "LAST")) { *last = 1; return 1; }
  return 0;
}
