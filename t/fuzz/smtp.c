/* Fuzz target: the SMTP parsers (lib/smtp_cmd, lib/smtp_data, lib/smtp_auth).
 * The input is used as a command line, as a DATA / BDAT stream (whole and
 * byte by byte, which must agree; only CRLF.CRLF ends DATA, and a clean body
 * encoded again gives back exactly the input: no smuggling, exact dot
 * handling), and as an AUTH response. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "smtp_auth.h"
#include "smtp_cmd.h"
#include "smtp_data.h"

static void commands(char const *s, size_t n)
{
  struct smtp_cmd cmd;
  struct smtp_path p;
  stralloc addr = STRALLOC_ZERO;
  uint64_t size;
  int last;
  smtp_cmd_parse(s, n, &cmd);
  if (cmd.arg < s || cmd.arg + cmd.arglen > s + n) __builtin_trap();
  if (smtp_mail_parse(cmd.arg, cmd.arglen, &addr, &p) == SMTP_PATH_OK)
    if (strlen(addr.s) + 1 != addr.len || (p.null && addr.s[0])) __builtin_trap();
  if (smtp_rcpt_parse(cmd.arg, cmd.arglen, 0, &addr) == SMTP_PATH_OK)
    if (!addr.s[0] || strchr(addr.s, '\n') || strchr(addr.s, '\r') || strchr(addr.s, ' ')) __builtin_trap();
  smtp_bdat_parse(cmd.arg, cmd.arglen, &size, &last);
  stralloc_free(&addr);
}

/* Decodes s in mode, in pieces of step bytes; the output, flags and bytes consumed. */
static size_t decode(char const *s, size_t n, enum smtp_data_mode mode, size_t step,
                     char *out, int *flags, int *done)
{
  struct smtp_data d;
  size_t pos = 0, o = 0;
  smtp_data_init(&d, mode);
  while (pos < n && !d.done)
  {
    size_t k = n - pos < step ? n - pos : step, outlen, c;
    c = smtp_data_decode(&d, s + pos, k, out + o, &outlen);
    if (c > k || outlen > SMTP_DATA_OUT_MAX(k)) __builtin_trap();
    if (c < k && !d.done) __builtin_trap();
    pos += c;
    o += outlen;
  }
  if (mode == SMTP_DATA_CHUNK) o += smtp_data_finish(&d, out + o);
  *flags = d.flags;
  *done = d.done;
  if (o > n + 1) __builtin_trap();
  return o;
}

/* What a client sends for a body (LF line ends, no CR): CRLF line ends,
 * a line end added if missing, dot-stuffed in DOT mode, then the terminator. */
static size_t encode(char const *body, size_t len, enum smtp_data_mode mode, char *wire)
{
  size_t w = 0;
  int bol = 1;
  for (size_t i = 0; i < len; i++)
  {
    if (mode == SMTP_DATA_DOT && bol && body[i] == '.') wire[w++] = '.';
    if (body[i] == '\n') wire[w++] = '\r';
    wire[w++] = body[i];
    bol = body[i] == '\n';
  }
  if (mode == SMTP_DATA_DOT)
  {
    if (!bol) { memcpy(wire + w, "\r\n", 2); w += 2; }
    memcpy(wire + w, ".\r\n", 3);
    w += 3;
  }
  return w;
}

/* The body ends only at CRLF "." CRLF (or "." CRLF first of all): the
 * consumed input ends so, and holds no such terminator earlier. */
static void check_end(char const *s, size_t used)
{
  if (used == 3) { if (memcmp(s, ".\r\n", 3)) __builtin_trap(); return; }
  if (used < 5 || memcmp(s + used - 5, "\r\n.\r\n", 5) || !memcmp(s, ".\r\n", 3)) __builtin_trap();
  for (size_t i = 0; i + 5 < used; i++)
    if (!memcmp(s + i, "\r\n.\r\n", 5)) __builtin_trap();
}

/* Exact dot-unstuffing: what a client encodes (s as the body, its CRs
 * dropped) decodes to exactly that body, ending exactly at the terminator. */
static void round_trip(char const *s, size_t n)
{
  char *body = malloc(n + 2), *wire = malloc(2 * n + 8), *out = malloc(2 * n + 10);
  size_t len = 0;
  for (size_t i = 0; i < n; i++) if (s[i] != '\r') body[len++] = s[i];
  for (int mode = SMTP_DATA_DOT; mode <= SMTP_DATA_CHUNK; mode++)
  {
    struct smtp_data d;
    size_t w = encode(body, len, mode, wire), o, used;
    smtp_data_init(&d, mode);
    used = smtp_data_decode(&d, wire, w, out, &o);
    o += smtp_data_finish(&d, out + o);
    if (used != w || (d.flags & SMTP_DATA_BARE) || d.done != (mode == SMTP_DATA_DOT)) __builtin_trap();
    if (!(d.flags & SMTP_DATA_NUL) != !memchr(body, 0, len)) __builtin_trap();
    /* DOT mode gives back the body with its last line ended */
    if (o < len || memcmp(out, body, len)) __builtin_trap();
    if (o != len + (mode == SMTP_DATA_DOT && len && body[len-1] != '\n')) __builtin_trap();
  }
  free(body); free(wire); free(out);
}

static void data(char const *s, size_t n)
{
  char *a = malloc(n + 2), *b = malloc(n + 2);
  for (int mode = SMTP_DATA_DOT; mode <= SMTP_DATA_CHUNK; mode++)
  {
    int fa, fb, da, db;
    size_t la = decode(s, n, mode, n ? n : 1, a, &fa, &da);
    size_t lb = decode(s, n, mode, 1, b, &fb, &db);
    if (la != lb || fa != fb || da != db || memcmp(a, b, la)) __builtin_trap();
    /* no CR survives in a clean message; LF only where CRLF was */
    if (!(fa & SMTP_DATA_BARE) && memchr(a, '\r', la)) __builtin_trap();
    /* a NUL is flagged exactly when one was taken into the message */
    if (!(fa & SMTP_DATA_NUL) != !memchr(a, 0, la)) __builtin_trap();
    if (mode == SMTP_DATA_CHUNK && da) __builtin_trap();
    if (mode == SMTP_DATA_DOT && da)
    {
      struct smtp_data d;
      size_t o;
      smtp_data_init(&d, SMTP_DATA_DOT);
      check_end(s, smtp_data_decode(&d, s, n, b, &o));
    }
  }
  free(a); free(b);
  round_trip(s, n);
}

static void auth(char const *s, size_t n)
{
  stralloc dec = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  char const *user, *password;
  if (smtp_base64_decode(s, n, &dec))
  {
    if (dec.len > n) __builtin_trap();
    if (smtp_auth_plain(dec.s, dec.len, &buf, &user, &password))
      if (!*user || strlen(user) > SMTP_AUTH_FIELD_MAX || strlen(password) > SMTP_AUTH_FIELD_MAX) __builtin_trap();
  }
  smtp_auth_plain(s, n, &buf, &user, &password);
  smtp_auth_cancelled(s, n);
  stralloc_free(&dec); stralloc_free(&buf);
}

int LLVMFuzzerTestOneInput(uint8_t const *bytes, size_t size)
{
  char const *s = (char const *)bytes;
  commands(s, size);
  data(s, size);
  auth(s, size);
  return 0;
}
