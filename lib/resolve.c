/* resolve.c: virtual recipient resolution; one query per address level. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>

#include "addr.h"
#include "db.h"
#include "resolve.h"

/* Everything one address level needs, in one round trip: the domain row,
 * joined with the users and aliases that could match. A join, not a UNION:
 * MariaDB materialises a UNION in a temporary table, which cost two thirds
 * of the time of a lookup. The rows are few (at most two users times the
 * aliases of three keys). */
static char const LOOKUP_SQL[] =
  "SELECT d.id, u.email, a.source, a.destination FROM virtual_domains d"
  " LEFT JOIN virtual_users u ON u.email IN (?, ?)"
  " LEFT JOIN virtual_aliases a ON a.source IN (?, ?, ?)"
  " WHERE d.name = ?";

struct walk
{
  stralloc *out;
  stralloc *why;
  stralloc path;        /* alias sources being expanded, NUL-separated */
  unsigned int count;
  unsigned int lookups;
  int first_failure;
  int temp;             /* any temporary failure spoils the whole answer */
  int overflow;         /* so does going over a limit of resolve.h */
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

static int fits_utf8mb3(char const *s)
{
  for (; *s; s++) if ((unsigned char)*s >= 0xf0) return 0;
  return 1;
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

/* From the joined rows: for a user (k == 'u'), the stored address equal to
 * key; for an alias, every destination of source key, comma-joined, each
 * once (the join repeats alias rows once per matching user). */
static char const *pick(stralloc const *rows, int nrows, char k, char const *key, stralloc *all)
{
  size_t pos = 0;
  all->len = 0;
  for (int i = 0; i < nrows; i++)
  {
    char const *id = db_field(rows, &pos), *email = db_field(rows, &pos);
    char const *src = db_field(rows, &pos), *dst = db_field(rows, &pos);
    (void)id;
    if (k == 'u') { if (*email && !strcasecmp(email, key)) return email; continue; }
    if (!*src || strcasecmp(src, key)) continue;
    if (all->len)
    {
      /* skip a destination already taken from an earlier row */
      size_t dl = strlen(dst), j = 0;
      int seen = 0;
      while (j < all->len)
      {
        size_t e = j;
        while (e < all->len && all->s[e] != '\n') e++;
        if (e - j == dl && !memcmp(all->s + j, dst, dl)) { seen = 1; break; }
        j = e + 1;
      }
      if (seen) continue;
      if (!stralloc_catb(all, "\n", 1)) return 0;
    }
    if (!stralloc_cats(all, dst)) return 0;
  }
  if (!all->len) return 0;
  return stralloc_0(all) ? all->s : 0;
}

static int resolve_level(struct walk *w, char const *addr, unsigned int depth)
{
  stralloc rows = STRALLOC_ZERO, stripped = STRALLOC_ZERO, catchall = STRALLOC_ZERO;
  stralloc dests = STRALLOC_ZERO, box = STRALLOC_ZERO, lower = STRALLOC_ZERO;
  char const *params[6], *hit;
  char const *domain = addr + addr_at(addr) + 1;
  int n, r;
  int looping = in_path(w, addr);

  if (depth > RESOLVE_DEPTH_MAX) return fail(w, RESOLVE_LOOP, "alias chain too deep at ", addr);
  if (++w->lookups > RESOLVE_LOOKUPS_MAX) return overflow(w, "too many alias lookups expanding ", addr);
  addr_strip_extension(addr, delimiters(), &stripped);
  if (!stralloc_catb(&catchall, "@", 1) || !stralloc_cats(&catchall, domain) || !stralloc_0(&catchall))
    return fail(w, RESOLVE_TEMP, "out of memory at ", addr);
  params[0] = addr; params[1] = stripped.s;
  params[2] = addr; params[3] = stripped.s; params[4] = catchall.s; params[5] = domain;
  n = db_exec(LOOKUP_SQL, params, 6, &rows);
  if (n == DB_REFUSED)
  {
    /* A key with a character outside the BMP, which the tutorial's 3-byte
       utf8 columns cannot hold, matches nothing (MariaDB refuses to compare
       it): look the others up, e.g. bob@ for bob+<emoji>@. */
    for (unsigned int i = 0; i < 6; i++) if (!fits_utf8mb3(params[i])) params[i] = 0;
    rows.len = 0;
    n = db_exec(LOOKUP_SQL, params, 6, &rows);
    if (n == DB_REFUSED) { r = fail(w, RESOLVE_BAD, "the database cannot compare ", addr); goto end; }
  }
  if (n < 0) { r = fail(w, RESOLVE_TEMP, db_error(), ""); goto end; }

  if (!n)
  {
    r = depth ? emit(w, "remote", addr, 0) : fail(w, RESOLVE_NODOMAIN, "domain is not ours: ", domain);
    goto end;
  }

  /* candidates in order: the address, then without extension, then catch-all */
  for (int step = 0; step < 5; step++)
  {
    char const *key = step < 2 ? addr : step < 4 ? stripped.s : catchall.s;
    int alias = !(step & 1);
    if (step == 2 || step == 3) { if (!strcmp(stripped.s, addr)) continue; }
    if (step == 4) alias = 1;
    if (alias && looping) continue;
    hit = pick(&rows, n, alias ? 'a' : 'u', key, &dests);
    if (!hit) continue;
    if (alias)
    {
      if (!stralloc_cats(&w->path, addr) || !stralloc_0(&w->path)) { r = fail(w, RESOLVE_TEMP, "out of memory at ", addr); goto end; }
      {
        size_t mark = w->path.len - strlen(addr) - 1;
        r = expand(w, addr, hit, depth);
        w->path.len = mark;
      }
      goto end;
    }
    if (!stralloc_copys(&lower, hit) || !stralloc_0(&lower)) { r = fail(w, RESOLVE_TEMP, "out of memory at ", addr); goto end; }
    addr_lower(lower.s);
    if (!resolve_maildir(lower.s, &box)) { r = fail(w, RESOLVE_BAD, "unsafe mailbox name ", hit); goto end; }
    r = emit(w, "local", lower.s, box.s);
    goto end;
  }
  r = looping ? fail(w, RESOLVE_LOOP, "alias loop at ", addr) : fail(w, RESOLVE_NOUSER, "no such user: ", addr);
 end:
  stralloc_free(&rows); stralloc_free(&stripped); stralloc_free(&catchall);
  stralloc_free(&dests); stralloc_free(&box); stralloc_free(&lower);
  return r;
}

int resolve_address(char const *address, stralloc *out, stralloc *why)
{
  struct walk w = { .out = out, .why = why, .path = STRALLOC_ZERO };
  stralloc parsed = STRALLOC_ZERO;
  size_t mark = out->len;
  int r;
  if (!addr_parse(address, strlen(address), &parsed))
  {
    why->len = 0;
    stralloc_cats(why, "invalid address: "); stralloc_cats(why, address); stralloc_0(why);
    return RESOLVE_BAD;
  }
  r = resolve_level(&w, parsed.s, 0);
  stralloc_free(&parsed); stralloc_free(&w.path);
  if (w.temp) { out->len = mark; return RESOLVE_TEMP; }
  if (w.overflow) { out->len = mark; return RESOLVE_LOOP; }
  if (out->len > mark) return RESOLVE_OK;
  if (r == RESOLVE_OK) r = w.first_failure ? w.first_failure : RESOLVE_NOUSER;
  out->len = mark;
  return r;
}
