/* queue.c: the queue directory layout (see queue.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>

#include "dirsync.h"
#include "queue.h"

char const *queue_dir(void)
{
  char const *d = getenv("VMAIL_QUEUE_DIR");
  return d && *d ? d : QUEUE_DIR_DEFAULT;
}

int queue_path(stralloc *out, char const *dir, char const *sub, char const *id)
{
  out->len = 0;
  if (!stralloc_cats(out, dir) || !stralloc_catb(out, "/", 1)) return -1;
  if (sub && (!stralloc_cats(out, sub) || !stralloc_catb(out, "/", 1))) return -1;
  if (!stralloc_cats(out, id) || !stralloc_0(out)) return -1;
  return 0;
}

int queue_make(char const *dir)
{
  static char const *const sub[] = { "tmp", "mess", "env", "state" };
  stralloc p = STRALLOC_ZERO;
  int r = 0, made = 0, m;
  /* what is created here is made durable in its parent: a message fsynced
   * into mess/ must not vanish with mess/ itself */
  if ((m = dir_make(dir)) < 0) return -1;
  if (m && (!stralloc_cats(&p, dir) || !stralloc_cats(&p, "/..") || !stralloc_0(&p) || dir_fsync(p.s) < 0)) r = -1;
  for (unsigned int i = 0; !r && i < sizeof sub / sizeof *sub; i++)
  {
    if (queue_path(&p, dir, 0, sub[i]) < 0 || (m = dir_make(p.s)) < 0) r = -1;
    else made |= m;
  }
  if (!r && queue_path(&p, dir, 0, "trigger") < 0) r = -1;
  else if (!r && mkfifo(p.s, 0622) == 0) made = 1;
  else if (!r && errno != EEXIST) r = -1;
  if (!r && made && dir_fsync(dir) < 0) r = -1;
  stralloc_free(&p);
  return r;
}

void queue_id_new(char *id)
{
  struct timeval tv;
  gettimeofday(&tv, 0);
  snprintf(id, QUEUE_ID_LEN + 1, "%010llu.%06lu.%07lu", (unsigned long long)tv.tv_sec % 10000000000ULL,
           (unsigned long)tv.tv_usec, (unsigned long)getpid() % 10000000UL);
}

int queue_id_ok(char const *s)
{
  size_t i = 0;
  for (; s[i]; i++)
  {
    if (i >= QUEUE_ID_LEN) return 0;
    if (i == 10 || i == 17) { if (s[i] != '.') return 0; }
    else if (s[i] < '0' || s[i] > '9') return 0;
  }
  return i == QUEUE_ID_LEN;
}

time_t queue_id_time(char const *id)
{
  return (time_t)strtoll(id, 0, 10);
}

int queue_wake(char const *dir, char c)
{
  stralloc p = STRALLOC_ZERO;
  int fd = -1;
  if (queue_path(&p, dir, 0, "trigger") == 0)
  {
    fd = open(p.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) { if (write(fd, &c, 1) < 0) { /* a full pipe already wakes it */ } close(fd); }
  }
  stralloc_free(&p);
  return fd < 0 ? -1 : 0;
}

static int read_file(char const *path, stralloc *buf, size_t max)
{
  char chunk[8192];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  buf->len = 0;
  if (fd < 0) return -1;
  for (;;)   /* bounded by max */
  {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0) { if (errno == EINTR) continue; fd_close(fd); return -1; }
    if (!r) break;
    if (!stralloc_catb(buf, chunk, r)) { fd_close(fd); return -1; }
    if (buf->len > max) break;
  }
  fd_close(fd);
  return 0;
}

int queue_envelope(char const *dir, char const *id, stralloc *buf, struct envelope *e)
{
  stralloc p = STRALLOC_ZERO;
  int r = queue_path(&p, dir, "env", id);
  if (!r) r = read_file(p.s, buf, ENVELOPE_MAX);
  stralloc_free(&p);
  if (r < 0) return -1;
  if (envelope_parse(buf->s, buf->len, e) != ENVELOPE_OK) { errno = EPROTO; return -1; }
  return 0;
}

int queue_journal_add(char const *dir, char const *id, char kind, unsigned int n,
                      char const *reason, int sync)
{
  stralloc p = STRALLOC_ZERO, line = STRALLOC_ZERO;
  char num[24];
  int fd = -1, r = -1, e = 0;
  snprintf(num, sizeof num, " %u", n);
  if (queue_path(&p, dir, "state", id) < 0) goto end;
  if (!stralloc_catb(&line, &kind, 1) || !stralloc_cats(&line, num)) goto end;
  if (reason && *reason)
  {
    size_t len = strlen(reason);
    if (len > QUEUE_REASON_MAX) len = QUEUE_REASON_MAX;
    if (!stralloc_catb(&line, " ", 1)) goto end;
    for (size_t i = 0; i < len; i++)
    {
      char c = reason[i] == '\n' || reason[i] == '\r' || reason[i] == '\t' ? ' ' : reason[i];
      if (!stralloc_catb(&line, &c, 1)) goto end;
    }
  }
  if (!stralloc_catb(&line, "\n", 1)) goto end;
  fd = open(p.s, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) goto end;
  if (!sync)
  {
    struct stat st;
    if (fstat(fd, &st) < 0) goto end;
    if (st.st_size >= QUEUE_STATE_NOTES_MAX) { r = 0; goto end; }
  }
  if (allwrite(fd, line.s, line.len) < line.len) goto end;
  if (sync && fsync(fd) < 0) goto end;
  r = 0;
 end:
  e = errno;
  if (fd >= 0) fd_close(fd);
  stralloc_free(&p); stralloc_free(&line);
  errno = e;
  return r;
}

int queue_journal_read(char const *dir, char const *id, stralloc *buf)
{
  stralloc p = STRALLOC_ZERO;
  int r = queue_path(&p, dir, "state", id);
  if (!r) r = read_file(p.s, buf, QUEUE_STATE_MAX);
  if (r < 0 && errno == ENOENT) { buf->len = 0; r = 0; }
  stralloc_free(&p);
  return r;
}

int queue_journal_next(stralloc const *buf, size_t *pos, char *kind, unsigned int *n,
                       char const **reason, size_t *reasonlen)
{
  while (*pos < buf->len)   /* bounded: each turn consumes a line */
  {
    char const *s = buf->s + *pos;
    char const *nl = memchr(s, '\n', buf->len - *pos);
    size_t len, i = 2;
    unsigned long v = 0;
    if (!nl) { *pos = buf->len; return 0; }
    len = (size_t)(nl - s);
    *pos += len + 1;
    if (len < 3 || s[1] != ' ' || s[2] < '0' || s[2] > '9') continue;
    while (i < len && s[i] >= '0' && s[i] <= '9' && v <= ENVELOPE_RCPT_MAX) v = v * 10 + (unsigned long)(s[i++] - '0');
    if (v > ENVELOPE_RCPT_MAX || (i < len && s[i] != ' ')) continue;
    *kind = s[0];
    *n = (unsigned int)v;
    if (i < len && s[i] == ' ') i++;
    *reason = s + i;
    *reasonlen = len - i;
    return 1;
  }
  return 0;
}

int queue_remove(char const *dir, char const *id)
{
  static char const *const order[] = { "env", "mess", "state" };
  stralloc p = STRALLOC_ZERO;
  int r = 0;
  for (unsigned int i = 0; i < 3; i++)
  {
    if (queue_path(&p, dir, order[i], id) < 0) { r = -1; break; }
    if (unlink(p.s) < 0 && (!i || errno != ENOENT)) { r = -1; if (!i) break; }
  }
  stralloc_free(&p);
  return r;
}

static int cmp_id(void const *a, void const *b)
{
  return strcmp(*(char const *const *)a, *(char const *const *)b);
}

int queue_ids(char const *dir, char const *sub, stralloc *ids)
{
  stralloc p = STRALLOC_ZERO, raw = STRALLOC_ZERO;
  char const **v = 0;
  DIR *d;
  struct dirent *de;
  int n = 0, r = -1;
  if (queue_path(&p, dir, 0, sub) < 0) goto end;
  d = opendir(p.s);
  if (!d) { if (errno == ENOENT) r = 0; goto end; }   /* a queue never used is empty */
  while (n < QUEUE_LIST_MAX && (errno = 0, de = readdir(d)))
  {
    if (!queue_id_ok(de->d_name)) continue;
    if (!stralloc_catb(&raw, de->d_name, QUEUE_ID_LEN + 1)) { closedir(d); goto end; }
    n++;
  }
  closedir(d);
  v = malloc((n ? n : 1) * sizeof *v);
  if (!v) goto end;
  for (int i = 0; i < n; i++) v[i] = raw.s + (size_t)i * (QUEUE_ID_LEN + 1);
  qsort(v, n, sizeof *v, cmp_id);
  for (int i = 0; i < n; i++) if (!stralloc_catb(ids, v[i], QUEUE_ID_LEN + 1)) goto end;
  r = n;
 end:
  free(v);
  stralloc_free(&p); stralloc_free(&raw);
  return r;
}

/* The last error of a message, which recipients are final, and each one's
 * last note (pointers into j, which the caller frees). */
static void journal_summary(char const *dir, char const *id, unsigned int nrcpt, unsigned char *final,
                            stralloc *lasterr, stralloc *j, char const **note, size_t *notelen)
{
  size_t pos = 0, rl;
  char kind;
  unsigned int n;
  char const *reason;
  lasterr->len = 0;
  if (queue_journal_read(dir, id, j) < 0) return;
  while (queue_journal_next(j, &pos, &kind, &n, &reason, &rl))
  {
    if (n >= nrcpt) continue;
    if (kind == 'D' || kind == 'B') final[n] = 1;
    if (kind == 'Z' || kind == 'B') { lasterr->len = 0; stralloc_catb(lasterr, reason, rl); note[n] = reason; notelen[n] = rl; }
  }
}

/* With more than one recipient to go, each one's last result on a line:
 *   "  <RCPT> last=\"NOTE\"" */
static void list_notes(buffer *b, struct envelope const *e, unsigned char const *final,
                       char const *const *note, size_t const *notelen)
{
  char const *r = e->rcpt;
  unsigned int pending = 0;
  for (unsigned int k = 0; k < e->nrcpt; k++) pending += !final[k] && note[k];
  if (pending < 2) return;
  for (unsigned int k = 0; k < e->nrcpt; k++, r = k < e->nrcpt ? envelope_next(r) : r)
  {
    if (final[k] || !note[k]) continue;
    buffer_puts(b, "  <"); buffer_puts(b, r); buffer_puts(b, "> last=\"");
    buffer_put(b, note[k], notelen[k]); buffer_puts(b, "\"\n");
  }
}

int queue_list(char const *dir, buffer *b)
{
  stralloc ids = STRALLOC_ZERO, env = STRALLOC_ZERO, err = STRALLOC_ZERO, j = STRALLOC_ZERO;
  unsigned char *final = 0;
  char const **note = 0;
  size_t *notelen = 0;
  int n = queue_ids(dir, "env", &ids), shown = 0;
  time_t now = time(0);
  if (n < 0) { stralloc_free(&ids); return -1; }
  for (int i = 0; i < n; i++)
  {
    char const *id = ids.s + (size_t)i * (QUEUE_ID_LEN + 1);
    struct envelope e;
    char num[40];
    char const *r;
    int first = 1;
    if (queue_envelope(dir, id, &env, &e) < 0) continue;   /* just delivered, or corrupt */
    free(final); free(note); free(notelen);
    final = calloc(e.nrcpt, 1);
    note = calloc(e.nrcpt, sizeof *note);
    notelen = calloc(e.nrcpt, sizeof *notelen);
    if (!final || !note || !notelen) { n = -1; break; }
    journal_summary(dir, id, e.nrcpt, final, &err, &j, note, notelen);
    snprintf(num, sizeof num, " age=%llds from=<", (long long)(now - queue_id_time(id)));
    buffer_puts(b, id); buffer_puts(b, num); buffer_puts(b, e.sender); buffer_puts(b, "> to=");
    r = e.rcpt;
    for (unsigned int k = 0; k < e.nrcpt; k++, r = k < e.nrcpt ? envelope_next(r) : r)
    {
      if (final[k]) continue;
      if (!first) buffer_puts(b, ",");
      buffer_puts(b, "<"); buffer_puts(b, r); buffer_puts(b, ">");
      first = 0;
    }
    if (err.len) { buffer_puts(b, " error=\""); buffer_put(b, err.s, err.len); buffer_puts(b, "\""); }
    buffer_puts(b, "\n");
    list_notes(b, &e, final, note, notelen);
    shown++;
  }
  free(final); free(note); free(notelen);
  stralloc_free(&ids); stralloc_free(&env); stralloc_free(&err); stralloc_free(&j);
  return n < 0 ? -1 : shown;
}
