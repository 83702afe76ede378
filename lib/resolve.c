/* resolve.c: virtual recipient resolution, one walk per address over the
 * rows resolve_rows fetches for the whole batch. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>

#include "addr.h"
#include "db.h"
#include "resolve.h"
#include "resolve_rows.h"

#define RESOLVE_PENDING (-1)   /* a walk met keys not fetched yet */

struct walk
{
  struct resolve_rows *rows;
  stralloc *out;
  stralloc *why;
  stralloc path;        /* alias sources being expanded, NUL-separated */
  unsigned int count;
  unsigned int lookups;
  int first_failure;
  int temp;             /* any temporary failure spoils the whole answer */
  int overflow;         /* so does going over a limit of resolve.h */
  int pending;          /* keys are wanted: the walk is to be run again */
};

char const *resolve_kind(int s)
{
  static char const *const names[] = { "ok", "nodomain", "nouser", "loop", "bad", "temp" };
  return s >= 0 && s <= RESOLVE_TEMP ? names[s] : "temp";
}

int resolve_exitcode(int s) { return s == RESOLVE_OK ? 0 : s == RESOLVE_TEMP ? 111 : 100; }

static char const *delimiters(void)
{
  char const *d = getenv("VMAIL_RECIPIENT_DELIMITER");
  return d ? d : "+";
}

int resolve_maildir(char const *addr, stralloc *path)
{
  char const *root = getenv("VMAIL_ROOT");
  size_t at = addr_at(addr);
  if (!addr[at] || !at || addr[0] == '.' || addr[at+1] == '.') return 0;
  if (memchr(addr, '/', strlen(addr))) return 0;
  if (!root || !*root) root = "/var/mail/vhosts";
  path->len = 0;
  return stralloc_cats(path, root) && stralloc_catb(path, "/", 1)
      && stralloc_cats(path, addr + at + 1) && stralloc_catb(path, "/", 1)
      && stralloc_catb(path, addr, at) && stralloc_0(path);
}

static int fail(struct walk *w, int status, char const *what, char const *addr)
{
  if (status == RESOLVE_TEMP && !w->temp) { w->temp = 1; w->first_failure = 0; }
  if (!w->first_failure)
  {
    w->first_failure = status;
    w->why->len = 0;
    if (!stralloc_cats(w->why, what) || !stralloc_cats(w->why, addr) || !stralloc_0(w->why)) return RESOLVE_TEMP;
  }
  return status;
}

/* Too big to expand: the whole answer is a failure, not the first part of it. */
static int overflow(struct walk *w, char const *what, char const *addr)
{
  if (!w->temp && !w->overflow) { w->overflow = 1; w->first_failure = 0; }
  return fail(w, RESOLVE_LOOP, what, addr);
}

static int emit(struct walk *w, char const *kind, char const *addr, char const *maildir)
{
  stralloc line = STRALLOC_ZERO;
  int ok = stralloc_cats(&line, kind) && stralloc_catb(&line, " ", 1) && stralloc_cats(&line, addr);
  if (ok && maildir) ok = stralloc_catb(&line, " ", 1) && stralloc_cats(&line, maildir);
  ok = ok && stralloc_catb(&line, "\n", 1);
  if (ok)
  {
    /* drop duplicates: two aliases may reach the same mailbox */
    for (size_t i = 0; i + line.len <= w->out->len; )
    {
      char const *nl = memchr(w->out->s + i, '\n', w->out->len - i);
      size_t n = nl ? (size_t)(nl - (w->out->s + i)) + 1 : w->out->len - i;
      if (n == line.len && !memcmp(w->out->s + i, line.s, n)) { stralloc_free(&line); return RESOLVE_OK; }
      i += n;
    }
    if (++w->count > RESOLVE_RECIPIENTS_MAX) { stralloc_free(&line); return overflow(w, "too many recipients expanding ", addr); }
    ok = stralloc_catb(w->out, line.s, line.len);
  }
  stralloc_free(&line);
  return ok ? RESOLVE_OK : fail(w, RESOLVE_TEMP, "out of memory at ", addr);
}

static int in_path(struct walk *w, char const *addr)
{
  for (size_t i = 0; i < w->path.len; i += strlen(w->path.s + i) + 1)
    if (!strcasecmp(w->path.s + i, addr)) return 1;
  return 0;
}

static int resolve_level(struct walk *w, char const *addr, unsigned int depth);

/* Resolves each destination of a comma/space separated alias value of addr.
 * A destination @otherdomain is addr's local part in otherdomain, as in
 * Postfix's virtual(5): a row @a.example -> @b.example aliases a whole domain. */
static int expand(struct walk *w, char const *addr, char const *dests, unsigned int depth)
{
  int any = 0;
  stralloc one = STRALLOC_ZERO, parsed = STRALLOC_ZERO;
  while (*dests && !w->overflow)
  {
    size_t n;
    dests += strspn(dests, ", \t\r\n");
    n = strcspn(dests, ", \t\r\n");
    if (!n) break;
    one.len = 0;
    if (dests[0] == '@' && !stralloc_catb(&one, addr, addr_at(addr)))
    { stralloc_free(&one); stralloc_free(&parsed); return fail(w, RESOLVE_TEMP, "out of memory at ", addr); }
    if (!stralloc_catb(&one, dests, n) || !stralloc_0(&one))
    { stralloc_free(&one); stralloc_free(&parsed); return fail(w, RESOLVE_TEMP, "out of memory at ", addr); }
    if (!addr_parse(one.s, one.len - 1, &parsed)) fail(w, RESOLVE_BAD, "invalid alias destination ", one.s);
    else
    {
      int r = resolve_level(w, parsed.s, depth + 1);
      if (r == RESOLVE_TEMP) { stralloc_free(&one); stralloc_free(&parsed); return r; }
      if (r == RESOLVE_OK) any = 1;
    }
    dests += n;
  }
  stralloc_free(&one); stralloc_free(&parsed);
  return any ? RESOLVE_OK : w->first_failure ? w->first_failure : RESOLVE_NOUSER;
}

/* Asks for a key; 1 when the walk can go on, 0 when it cannot yet. */
static int ask(struct walk *w, enum rows_kind kind, char const *key, stralloc *value, int *state)
{
  *state = rows_get(w->rows, kind, key, value);
  if (*state == ROWS_UNKNOWN) w->pending = 1;
  return *state != ROWS_UNKNOWN && *state != ROWS_NOMEM;
}

static int resolve_level(struct walk *w, char const *addr, unsigned int depth)
{
  stralloc stripped = STRALLOC_ZERO, catchall = STRALLOC_ZERO, lower = STRALLOC_ZERO, box = STRALLOC_ZERO;
  stralloc value[5] = { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO };
  int state[6], known = 1, r;
  char const *domain = addr + addr_at(addr) + 1;
  int looping = in_path(w, addr);

  if (depth > RESOLVE_DEPTH_MAX) return fail(w, RESOLVE_LOOP, "alias chain too deep at ", addr);
  if (++w->lookups > RESOLVE_LOOKUPS_MAX) return overflow(w, "too many alias lookups expanding ", addr);
  addr_strip_extension(addr, delimiters(), &stripped);
  if (!stralloc_catb(&catchall, "@", 1) || !stralloc_cats(&catchall, domain) || !stralloc_0(&catchall))
    return fail(w, RESOLVE_TEMP, "out of memory at ", addr);

  /* Everything the level may need is asked for at once, so that a pending
     walk wants it all and one fetch answers the level. The candidates in
     order: alias, then user, for the address, then the same without its
     extension, then the catch-all alias. */
  {
    char const *key[5] = { addr, addr, stripped.s, stripped.s, catchall.s };
    known &= ask(w, ROWS_DOMAIN, domain, 0, &state[5]);
    for (int i = 0; i < 5; i++) known &= ask(w, i & 1 ? ROWS_USER : ROWS_ALIAS, key[i], &value[i], &state[i]);
  }
  for (int i = 0; i < 6; i++) if (state[i] == ROWS_NOMEM) { r = fail(w, RESOLVE_TEMP, "out of memory at ", addr); goto end; }
  if (!known) { r = RESOLVE_PENDING; goto end; }
  for (int i = 0; i < 6; i++) if (state[i] == ROWS_REFUSED) { r = fail(w, RESOLVE_BAD, "the database cannot compare ", addr); goto end; }

  if (state[5] != ROWS_PRESENT)
  {
    r = depth ? emit(w, "remote", addr, 0) : fail(w, RESOLVE_NODOMAIN, "domain is not ours: ", domain);
    goto end;
  }
  for (int step = 0; step < 5; step++)
  {
    int alias = !(step & 1);
    if ((step == 2 || step == 3) && !strcmp(stripped.s, addr)) continue;
    if (alias && looping) continue;
    if (state[step] != ROWS_PRESENT) continue;
    if (alias)
    {
      size_t mark;
      if (!stralloc_cats(&w->path, addr) || !stralloc_0(&w->path)) { r = fail(w, RESOLVE_TEMP, "out of memory at ", addr); goto end; }
      mark = w->path.len - strlen(addr) - 1;
      r = expand(w, addr, value[step].s, depth);
      w->path.len = mark;
      goto end;
    }
    if (!stralloc_copys(&lower, value[step].s) || !stralloc_0(&lower)) { r = fail(w, RESOLVE_TEMP, "out of memory at ", addr); goto end; }
    addr_lower(lower.s);
    if (!resolve_maildir(lower.s, &box)) { r = fail(w, RESOLVE_BAD, "unsafe mailbox name ", value[step].s); goto end; }
    r = emit(w, "local", lower.s, box.s);
    goto end;
  }
  r = looping ? fail(w, RESOLVE_LOOP, "alias loop at ", addr) : fail(w, RESOLVE_NOUSER, "no such user: ", addr);
 end:
  for (int i = 0; i < 5; i++) stralloc_free(&value[i]);
  stralloc_free(&stripped); stralloc_free(&catchall);
  stralloc_free(&box); stralloc_free(&lower);
  return r;
}

/* One walk of a parsed address over what rows holds; RESOLVE_PENDING when
 * it wanted keys, and then nothing is appended to out. */
static int walk_address(struct resolve_rows *rows, char const *parsed, stralloc *out, stralloc *why)
{
  struct walk w = { .rows = rows, .out = out, .why = why, .path = STRALLOC_ZERO };
  size_t mark = out->len;
  int r = resolve_level(&w, parsed, 0);
  stralloc_free(&w.path);
  if (w.pending && !w.temp) { out->len = mark; return RESOLVE_PENDING; }
  if (w.temp) { out->len = mark; return RESOLVE_TEMP; }
  if (w.overflow) { out->len = mark; return RESOLVE_LOOP; }
  if (out->len > mark) return RESOLVE_OK;
  if (r == RESOLVE_OK) r = w.first_failure ? w.first_failure : RESOLVE_NOUSER;
  out->len = mark;
  return r;
}

void resolve_many(char const *const *addresses, unsigned int n, struct resolve_answer *answers)
{
  struct resolve_rows rows = RESOLVE_ROWS_ZERO;
  stralloc parsed = STRALLOC_ZERO;   /* the parsed addresses, NUL-separated */
  size_t *at = malloc((n ? n : 1) * sizeof *at);
  unsigned int left = 0;
  for (unsigned int i = 0; i < n; i++)
  {
    struct resolve_answer *a = answers + i;
    stralloc one = STRALLOC_ZERO;
    a->out.len = a->why.len = 0;
    a->status = RESOLVE_PENDING;
    if (!at) { a->status = RESOLVE_TEMP; stralloc_cats(&a->why, "out of memory"); stralloc_0(&a->why); continue; }
    if (!addr_parse(addresses[i], strlen(addresses[i]), &one))
    {
      a->status = RESOLVE_BAD;
      stralloc_cats(&a->why, "invalid address: "); stralloc_cats(&a->why, addresses[i]); stralloc_0(&a->why);
      continue;
    }
    at[i] = parsed.len;
    if (!stralloc_catb(&parsed, one.s, one.len - 1) || !stralloc_0(&parsed))
    { a->status = RESOLVE_TEMP; a->why.len = 0; stralloc_cats(&a->why, "out of memory"); stralloc_0(&a->why); }
    else left++;
    stralloc_free(&one);
  }
  /* each round walks every unfinished address over what is known, then
     fetches what the walks wanted: one round per alias level */
  while (left)
  {
    int f;
    left = 0;
    for (unsigned int i = 0; i < n; i++)
    {
      if (answers[i].status != RESOLVE_PENDING) continue;
      answers[i].why.len = 0;
      answers[i].status = walk_address(&rows, parsed.s + at[i], &answers[i].out, &answers[i].why);
      if (answers[i].status == RESOLVE_PENDING) left++;
    }
    if (!left) break;
    f = rows_wanted(&rows) ? rows_fetch(&rows) : DB_TEMP;
    if (f < 0)
    {
      char const *why = f == ROWS_NOMEM ? "out of memory" : rows_wanted(&rows) ? db_error() : "lookup made no progress";
      for (unsigned int i = 0; i < n; i++)
      {
        if (answers[i].status != RESOLVE_PENDING) continue;
        answers[i].status = RESOLVE_TEMP;
        answers[i].why.len = 0;
        stralloc_cats(&answers[i].why, why); stralloc_0(&answers[i].why);
      }
      break;
    }
  }
  rows_free(&rows);
  stralloc_free(&parsed);
  free(at);
}

int resolve_address(char const *address, stralloc *out, stralloc *why)
{
  struct resolve_answer a = { .out = STRALLOC_ZERO, .why = STRALLOC_ZERO };
  resolve_many(&address, 1, &a);
  if (a.status == RESOLVE_OK && !stralloc_catb(out, a.out.s, a.out.len)) a.status = RESOLVE_TEMP;
  why->len = 0;
  if (a.why.len && !stralloc_copyb(why, a.why.s, a.why.len)) a.status = RESOLVE_TEMP;
  stralloc_free(&a.out); stralloc_free(&a.why);
  return a.status;
}
