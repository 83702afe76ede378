/* resolve_rows.c: the batch's table of keys, and the statement that fills it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <skalibs/stralloc.h>

#include "db.h"
#include "resolve_rows.h"

#define FETCHING 3   /* a state: the key is in the statement being run */

struct rows_entry
{
  size_t key;          /* offset in text of the key, ASCII lowercased */
  size_t value;        /* offset in text of the value, when present */
  uint32_t hash;
  unsigned char kind;  /* enum rows_kind + 1; 0: a free slot */
  signed char state;   /* enum rows_state, or FETCHING */
};

/* The places of one statement for each kind of key. Most lookups are of one
 * address (an SMTP RCPT): one domain, the address and its unextended form as
 * users, the same two and the catch-all as aliases. A batch of up to 64
 * addresses fills the large one; unused places are bound to NULL, which
 * matches nothing. One statement, not three: the round trip is the cost. */
struct shape { unsigned int domains, users, aliases; };
static struct shape const SMALL = { 1, 2, 3 }, LARGE = { 8, 64, 80 };
#define PLACES_MAX (8 + 64 + 80)

static char small_sql[512], large_sql[1024];

static size_t put(char *buf, size_t at, char const *s)
{
  size_t n = strlen(s);
  memcpy(buf + at, s, n + 1);
  return at + n;
}

static size_t places(char *buf, size_t at, unsigned int n)
{
  for (unsigned int i = 0; i < n; i++) at = put(buf, at, i ? ", ?" : "?");
  return at;
}

/* The statement of a shape, written once: its address keys db.c's cache.
 * The buffers have room for the text of SMALL and LARGE. */
static char const *statement(struct shape const *s)
{
  char *buf = s == &SMALL ? small_sql : large_sql;
  size_t at = 0;
  if (buf[0]) return buf;
  at = put(buf, at, "SELECT 0, name, NULL FROM virtual_domains WHERE name IN (");
  at = places(buf, at, s->domains);
  at = put(buf, at, ") UNION ALL SELECT 1, email, NULL FROM virtual_users WHERE email IN (");
  at = places(buf, at, s->users);
  at = put(buf, at, ") UNION ALL SELECT 2, source, destination FROM virtual_aliases WHERE source IN (");
  at = places(buf, at, s->aliases);
  put(buf, at, ")");
  return buf;
}

static uint32_t hash_key(unsigned char kind, char const *s, size_t n)
{
  uint32_t h = 2166136261u ^ kind;   /* FNV-1a */
  for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 16777619u; }
  return h;
}

/* The slot of key (lowercased, n bytes), or the free slot where it belongs. */
static size_t find(struct resolve_rows const *rows, unsigned char kind, char const *key, size_t n, uint32_t h)
{
  size_t mask = rows->cap - 1;
  for (size_t i = h & mask; ; i = (i + 1) & mask)
  {
    struct rows_entry const *e = rows->slot + i;
    if (!e->kind) return i;
    if (e->hash == h && e->kind == kind && !memcmp(rows->text.s + e->key, key, n) && !rows->text.s[e->key + n])
      return i;
  }
}

static int grow(struct resolve_rows *rows)
{
  size_t cap = rows->cap ? rows->cap * 2 : 64;
  struct rows_entry *slot = calloc(cap, sizeof *slot), *old = rows->slot;
  size_t oldcap = rows->cap;
  if (!slot) return 0;
  rows->slot = slot; rows->cap = cap;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].kind)
    {
      size_t j = old[i].hash & (cap - 1);
      while (slot[j].kind) j = (j + 1) & (cap - 1);
      slot[j] = old[i];
    }
  free(old);
  return 1;
}

static int lowered(char const *s, size_t n, stralloc *out)
{
  if (!stralloc_copyb(out, s, n) || !stralloc_0(out)) return 0;
  for (size_t i = 0; i < n; i++) if (out->s[i] >= 'A' && out->s[i] <= 'Z') out->s[i] += 'a' - 'A';
  return 1;
}

int rows_get(struct resolve_rows *rows, enum rows_kind kind, char const *key, stralloc *value)
{
  static stralloc low = STRALLOC_ZERO;
  size_t n = strlen(key), i;
  unsigned char k = (unsigned char)kind + 1;
  uint32_t h;
  struct rows_entry *e;
  if (!lowered(key, n, &low)) return ROWS_NOMEM;
  if ((rows->used + 1) * 2 > rows->cap && !grow(rows)) return ROWS_NOMEM;
  h = hash_key(k, low.s, n);
  i = find(rows, k, low.s, n, h);
  e = rows->slot + i;
  if (!e->kind)
  {
    size_t at = rows->text.len;
    if (!stralloc_catb(&rows->text, low.s, n + 1)) return ROWS_NOMEM;
    e->key = at; e->value = 0; e->hash = h; e->kind = k; e->state = ROWS_UNKNOWN;
    rows->used++; rows->wanted++;
    return ROWS_UNKNOWN;
  }
  if (e->state == ROWS_PRESENT && value)
  {
    char const *v = rows->text.s + e->value;
    if (!stralloc_copyb(value, v, strlen(v) + 1)) return ROWS_NOMEM;
  }
  return e->state;
}

size_t rows_wanted(struct resolve_rows const *rows) { return rows->wanted; }

void rows_free(struct resolve_rows *rows)
{
  stralloc_free(&rows->text);
  free(rows->slot);
  rows->slot = 0; rows->cap = rows->used = rows->wanted = 0;
}

static int fits_utf8mb3(char const *s)
{
  for (; *s; s++) if ((unsigned char)*s >= 0xf0) return 0;
  return 1;
}

/* One alias row of a result: its entry and its destination, in row order. */
struct pair { size_t slot, dest, row; };

static int pair_order(void const *a, void const *b)
{
  struct pair const *p = a, *q = b;
  if (p->slot != q->slot) return p->slot < q->slot ? -1 : 1;
  return p->row < q->row ? -1 : p->row > q->row;
}

/* Gives each alias entry of the result its destinations, one per line, each once. */
static int store_aliases(struct resolve_rows *rows, stralloc const *res, struct pair *pairs, size_t npairs)
{
  if (!npairs) return 1;   /* pairs may be 0 then, which qsort must not see */
  qsort(pairs, npairs, sizeof *pairs, pair_order);
  for (size_t i = 0; i < npairs; )
  {
    struct rows_entry *e = rows->slot + pairs[i].slot;
    size_t start = rows->text.len, j = i;
    for (; j < npairs && pairs[j].slot == pairs[i].slot; j++)
    {
      char const *d = res->s + pairs[j].dest;
      size_t dl = strlen(d);
      int seen = 0;
      for (size_t p = start; p < rows->text.len && !seen; )
      {
        char const *nl = memchr(rows->text.s + p, '\n', rows->text.len - p);
        size_t l = nl ? (size_t)(nl - (rows->text.s + p)) : rows->text.len - p;
        seen = l == dl && !memcmp(rows->text.s + p, d, dl);
        p += l + 1;
      }
      if (seen) continue;
      if (rows->text.len > start && !stralloc_catb(&rows->text, "\n", 1)) return 0;
      if (!stralloc_catb(&rows->text, d, dl)) return 0;
    }
    if (!stralloc_0(&rows->text)) return 0;
    e->value = start; e->state = ROWS_PRESENT;
    i = j;
  }
  return 1;
}

/* Marks the entries the result names present, with their values. */
static int store(struct resolve_rows *rows, stralloc const *res, int nres)
{
  static stralloc low = STRALLOC_ZERO;
  struct pair *pairs = nres ? malloc(nres * sizeof *pairs) : 0;
  size_t npairs = 0, pos = 0;
  int ok = !nres || pairs;
  for (int r = 0; ok && r < nres; r++)
  {
    char const *tag = db_field(res, &pos), *key = db_field(res, &pos);
    size_t destpos = pos;
    unsigned char k = (unsigned char)(tag[0] - '0') + 1;
    size_t n = strlen(key), i;
    struct rows_entry *e;
    db_field(res, &pos);   /* the destination, read at destpos */
    if (k < 1 || k > 3) continue;   /* not a row of the statement */
    if (!lowered(key, n, &low)) { ok = 0; break; }
    i = find(rows, k, low.s, n, hash_key(k, low.s, n));
    e = rows->slot + i;
    /* only a key of this statement: the collation may return rows that are
       no key's (e.g. an accented form), and a key fetched earlier is done */
    if (!e->kind || e->state != FETCHING) continue;
    if (k == ROWS_ALIAS + 1) { pairs[npairs].slot = i; pairs[npairs].dest = destpos; pairs[npairs].row = r; npairs++; continue; }
    e->value = rows->text.len;
    if (k == ROWS_USER + 1) ok = stralloc_catb(&rows->text, key, n + 1);
    else ok = stralloc_0(&rows->text);
    e->state = ROWS_PRESENT;
  }
  ok = ok && store_aliases(rows, res, pairs, npairs);
  free(pairs);
  return ok;
}

/* Fetches up to one statement's worth of the wanted keys. */
static int fetch_some(struct resolve_rows *rows)
{
  unsigned int want[3] = { 0, 0, 0 }, used[3] = { 0, 0, 0 }, room[3], base[3], total, n = 0;
  size_t chosen[PLACES_MAX];
  unsigned int place[PLACES_MAX];
  char const *params[PLACES_MAX];
  struct shape const *shape;
  char const *sql;
  stralloc res = STRALLOC_ZERO;
  int r;

  for (size_t i = 0; i < rows->cap; i++)
    if (rows->slot[i].kind && rows->slot[i].state == ROWS_UNKNOWN) want[rows->slot[i].kind - 1]++;
  shape = want[0] <= SMALL.domains && want[1] <= SMALL.users && want[2] <= SMALL.aliases ? &SMALL : &LARGE;
  sql = statement(shape);
  room[0] = shape->domains; room[1] = shape->users; room[2] = shape->aliases;
  base[0] = 0; base[1] = room[0]; base[2] = room[0] + room[1];
  total = room[0] + room[1] + room[2];
  for (unsigned int p = 0; p < total; p++) params[p] = 0;
  for (size_t i = 0; i < rows->cap; i++)
  {
    struct rows_entry *e = rows->slot + i;
    unsigned int k;
    if (!e->kind || e->state != ROWS_UNKNOWN) continue;
    k = e->kind - 1;
    if (used[k] == room[k]) continue;
    place[n] = base[k] + used[k]++;
    params[place[n]] = rows->text.s + e->key;
    chosen[n++] = i;
    e->state = FETCHING;
  }
  if (!n) { rows->wanted = 0; return 0; }

  r = db_exec(sql, params, total, &res);
  if (r == DB_REFUSED)
  {
    /* A key with a character outside the BMP, which the tutorial's 3-byte
       utf8 columns cannot hold, matches nothing (MariaDB refuses to compare
       it): ask for the others, e.g. bob@ for bob+<emoji>@. */
    for (unsigned int c = 0; c < n; c++) if (!fits_utf8mb3(params[place[c]])) params[place[c]] = 0;
    res.len = 0;
    r = db_exec(sql, params, total, &res);
    if (r == DB_REFUSED)
    {
      for (unsigned int c = 0; c < n; c++) rows->slot[chosen[c]].state = ROWS_REFUSED;
      rows->wanted -= n;
      stralloc_free(&res);
      return 0;
    }
  }
  if (r < 0)
  {
    for (unsigned int c = 0; c < n; c++) rows->slot[chosen[c]].state = ROWS_UNKNOWN;
    stralloc_free(&res);
    return DB_TEMP;
  }
  if (!store(rows, &res, r))
  {
    for (unsigned int c = 0; c < n; c++) rows->slot[chosen[c]].state = ROWS_UNKNOWN;
    stralloc_free(&res);
    return ROWS_NOMEM;
  }
  for (unsigned int c = 0; c < n; c++)
    if (rows->slot[chosen[c]].state == FETCHING) rows->slot[chosen[c]].state = ROWS_ABSENT;
  rows->wanted -= n;
  stralloc_free(&res);
  return 0;
}

int rows_fetch(struct resolve_rows *rows)
{
  while (rows->wanted)
  {
    int r = fetch_some(rows);
    if (r < 0) return r;
  }
  return 0;
}
