/* smtp_data.c: the DATA / BDAT body decoder, one byte at a time. */
#include "smtp_data.h"

enum
{
  AT_BOL,      /* at the beginning of a line (after CRLF, or at the start) */
  IN_LINE,     /* inside a line */
  GOT_CR,      /* a CR held back: CRLF or a bare CR? */
  BOL_DOT,     /* a dot at the beginning of a line */
  BOL_DOT_CR   /* ".\r" at the beginning of a line: the end, if LF follows */
};

void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode)
{
  d->mode = mode;
  d->state = AT_BOL;
  d->flags = 0;
  d->done = 0;
}

/* One byte in the middle of a line (IN_LINE rules); writes to out. */
static size_t in_line(struct smtp_data *d, char c, char *out)
{
  if (c == '\r') { d->state = GOT_CR; return 0; }
  if (c == '\n') d->flags |= SMTP_DATA_BARE;   /* bare LF: not a line end */
  if (!c) d->flags |= SMTP_DATA_NUL;
  d->state = IN_LINE;
  out[0] = c;
  return 1;
}

size_t smtp_data_decode(struct smtp_data *d, char const *in, size_t len,
                        char *out, size_t *outlen)
{
  size_t i, o = 0;
  for (i = 0; i < len && !d->done; i++)
  {
    char c = in[i];
    switch (d->state)
    {
      case AT_BOL:
        if (c == '.' && d->mode == SMTP_DATA_DOT) { d->state = BOL_DOT; break; }
        o += in_line(d, c, out + o);
        break;
      case IN_LINE:
        o += in_line(d, c, out + o);
        break;
      case GOT_CR:
        if (c == '\n') { out[o++] = '\n'; d->state = AT_BOL; break; }
        d->flags |= SMTP_DATA_BARE;   /* the held CR was bare */
        out[o++] = '\r';
        o += in_line(d, c, out + o);
        break;
      case BOL_DOT:
        if (c == '\r') { d->state = BOL_DOT_CR; break; }
        /* the stuffed dot is dropped; c is an ordinary byte of the line */
        o += in_line(d, c, out + o);
        break;
      case BOL_DOT_CR:
        if (c == '\n') { d->done = 1; break; }
        d->flags |= SMTP_DATA_BARE;
        out[o++] = '\r';
        o += in_line(d, c, out + o);
        break;
    }
  }
  *outlen = o;
  return i;
}

size_t smtp_data_finish(struct smtp_data *d, char *out)
{
  if (d->state != GOT_CR) return 0;
  d->flags |= SMTP_DATA_BARE;
  d->state = IN_LINE;
  out[0] = '\r';
  return 1;
}
