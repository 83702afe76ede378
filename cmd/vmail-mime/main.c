/* vmail-mime: shows what vmail-imapd would send for one message file:
 * its ENVELOPE, BODYSTRUCTURE, a BODY[section] or BINARY[section], its
 * RFC822.SIZE and Date, a header field decoded, or whether a SEARCH key
 * would match it. */
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "mime.h"

#define USAGE "vmail-mime envelope|bodystructure|structure|size|date FILE | body|binary SECTION FILE | header FIELD FILE | search header FIELD|body|text STRING FILE"

static stralloc msg = STRALLOC_ZERO, out = STRALLOC_ZERO;

static void load(char const *file)
{
  if (!strcmp(file, "-") ? !slurp(&msg, 0) : !openslurpclose(&msg, file))
    strerr_diefu2sys(111, "read ", file);
}

static void print(int newline)
{
  if ((newline && !stralloc_catb(&out, "\n", 1)) || buffer_putflush(buffer_1, out.s, out.len) < 0)
    strerr_diefu1sys(111, "write to stdout");
}

static int search(mime_message const *m, char const *const *argv)
{
  int r;
  if (!strcmp(argv[0], "header")) r = mime_header_contains(m, argv[1], argv[2]);
  else if (!strcmp(argv[0], "body")) r = mime_body_contains(m, argv[1]);
  else if (!strcmp(argv[0], "text")) r = mime_text_contains(m, argv[1]);
  else strerr_dieusage(100, USAGE);
  if (r < 0) strerr_diefu1sys(111, "search");
  return r ? 0 : 1;
}

int main(int argc, char const *const *argv)
{
  char const *cmd, *file;
  mime_message *m;
  int r = 1;
  PROG = "vmail-mime";
  if (argc < 3) strerr_dieusage(100, USAGE);
  cmd = argv[1];
  file = argv[argc - 1];
  if (!strcmp(cmd, "body") || !strcmp(cmd, "binary") || !strcmp(cmd, "header")) { if (argc != 4) strerr_dieusage(100, USAGE); }
  else if (!strcmp(cmd, "search"))
  {
    if (argc != (argc > 2 && !strcmp(argv[2], "header") ? 6 : 5)) strerr_dieusage(100, USAGE);
  }
  else if (argc != 3) strerr_dieusage(100, USAGE);
  load(file);
  m = mime_parse(msg.s ? msg.s : "", msg.len);
  if (!m) strerr_diefu1sys(111, "parse message");
  if (!strcmp(cmd, "envelope")) { r = mime_envelope(m, &out); print(1); }
  else if (!strcmp(cmd, "bodystructure")) { r = mime_bodystructure(m, 1, &out); print(1); }
  else if (!strcmp(cmd, "structure")) { r = mime_bodystructure(m, 0, &out); print(1); }
  else if (!strcmp(cmd, "size") || !strcmp(cmd, "date"))
  {
    char fmt[UINT64_FMT + 1];
    if (cmd[0] == 's') fmt[uint64_fmt(fmt, mime_size_crlf(m))] = 0;
    else { int64_t d = mime_date(m); fmt[int64_fmt(fmt, d)] = 0; }
    r = stralloc_cats(&out, fmt);
    print(1);
  }
  else if (!strcmp(cmd, "body") || !strcmp(cmd, "binary"))
  {
    r = cmd[1] == 'o' ? mime_section(m, argv[2], &out) : mime_section_binary(m, argv[2], &out);
    if (r == -1) strerr_dief2x(100, "bad section: ", argv[2]);
    if (r == -2) strerr_dief2x(100, "unknown Content-Transfer-Encoding in section ", argv[2]);
    if (r) print(0);
  }
  else if (!strcmp(cmd, "header"))
  {
    r = mime_header_value(m, argv[2], &out);
    if (r < 0) return 1;                /* no such field */
    print(1);
  }
  else if (!strcmp(cmd, "search")) r = search(m, argv + 2) ? 2 : 1;
  else strerr_dieusage(100, USAGE);
  if (!r) strerr_diefu1sys(111, "format the answer");
  mime_free(m);
  return r == 2;     /* search: 1 when the message does not match */
}
