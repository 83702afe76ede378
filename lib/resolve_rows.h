/* resolve_rows: what virtual_domains, virtual_users and virtual_aliases hold
 * for the keys a batch of resolutions asks about, fetched together.
 *
 * A resolution asks for keys with rows_get. A key already fetched is known:
 * present, with its value, or absent. Any other key is noted as wanted, and
 * the resolution is to be run again once rows_fetch has fetched every wanted
 * key of every address of the batch with one statement (or a few, when there
 * are more keys than a statement has places for). A batch of addresses so
 * costs one round trip per alias level, not one per address and level.
 *
 * Keys compare as the resolver always compared them: ASCII case folded, as
 * strcasecmp does, among the rows the database's collation returns.
 * Nothing outlives the table: a batch sees the database as it is when its
 * keys are fetched, and the next batch fetches again. */
#ifndef VMAIL_RESOLVE_ROWS_H
#define VMAIL_RESOLVE_ROWS_H

#include <stddef.h>
#include <skalibs/stralloc.h>

enum rows_kind { ROWS_DOMAIN, ROWS_USER, ROWS_ALIAS };

enum rows_state
{
  ROWS_NOMEM = -2,
  ROWS_UNKNOWN = -1,  /* not fetched yet: now wanted */
  ROWS_ABSENT = 0,
  ROWS_PRESENT = 1,
  ROWS_REFUSED = 2    /* the database cannot compare the key (a character
                         outside what the column's character set holds) */
};

struct rows_entry;
struct resolve_rows
{
  stralloc text;              /* keys and values, NUL-terminated */
  struct rows_entry *slot;    /* open-addressing hash table */
  size_t cap, used, wanted;
};
#define RESOLVE_ROWS_ZERO { .text = STRALLOC_ZERO, .slot = 0, .cap = 0, .used = 0, .wanted = 0 }

/* The state of key (any case) of one kind. When ROWS_PRESENT and value is
 * not 0, value is set to: a user's email as stored; an alias's destinations
 * as stored, one per line, each once; "" for a domain. */
int rows_get(struct resolve_rows *rows, enum rows_kind kind, char const *key, stralloc *value);

/* How many keys are wanted. */
size_t rows_wanted(struct resolve_rows const *rows);

/* Fetches every wanted key: afterwards each is known. 0, or DB_TEMP (db.h)
 * with db_error() saying why, or ROWS_NOMEM; the keys not fetched then stay
 * wanted. */
int rows_fetch(struct resolve_rows *rows);

void rows_free(struct resolve_rows *rows);

#endif
