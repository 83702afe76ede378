/* maildir_scan.c: listing Maildir messages by base name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir_scan.h"

size_t maildir_name_baselen(char const *name)
{
  char const *colon = strchr(name, ':');
  return colon ? (size_t)(colon - name) : strlen(name);
}

int maildir_name_size(char const *name, size_t baselen, char key, uint64_t *size)
{
  size_t i;
  /* ",S=" is one of the comma-separated fields after the unique part */
  for (i = 0; i + 3 < baselen; i++)
  {
    if (name[i] == ',' && name[i + 1] == key && name[i + 2] == '=')
    {
      uint64_t v = 0;
      size_t j = i + 3, digits = 0;
      while (j < baselen && name[j] >= '0' && name[j] <= '9' && digits < 18)
      { v = v * 10 + (uint64_t)(name[j] - '0'); j++; digits++; }
      if (!digits || (j < baselen && name[j] != ',')) return 0;
      *size = v;
      return 1;
    }
  }
  return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Byte order alone put 1700000000.M100000P1 before 1700000000.M99999P1: the
 * microseconds of a name (Dovecot's, vmail's) have no leading zeros. */
int maildir_base_cmp(char const *a, size_t alen, char const *b, size_t blen)
{
  size_t i = 0, j = 0;
  while (i < alen && j < blen)
  {
    if (is_digit(a[i]) && is_digit(b[j]))
    {
      size_t si, sj;
      int c;
      while (i < alen && a[i] == '0') i++;
      while (j < blen && b[j] == '0') j++;
      for (si = i; i < alen && is_digit(a[i]); i++) ;
      for (sj = j; j < blen && is_digit(b[j]); j++) ;
      if (i - si != j - sj) return i - si < j - sj ? -1 : 1;
      c = memcmp(a + si, b + sj, i - si);
      if (c) return c;
      continue;
    }
    if (a[i] != b[j]) return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
    i++; j++;
  }
  if (i < alen || j < blen) return i < alen ? 1 : -1;
  if (alen != blen) return alen < blen ? -1 : 1;
  return memcmp(a, b, alen);
}

/* Sort key: the base name, then (for the same base) cur/ before new/. */
static char const *sort_names;
static int entry_cmp(void const *a, void const *b)
{
  maildir_entry const *x = a, *y = b;
  int c = maildir_base_cmp(sort_names + x->path + 4, x->baselen, sort_names + y->path + 4, y->baselen);
  if (c) return c;
  return memcmp(sort_names + x->path, sort_names + y->path, 3);
}

static int scan_sub(int dirfd, char const *sub, maildir_list *list)
{
  int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  d = fdopendir(fd);
  if (!d) { int e = errno; close(fd); errno = e; return -1; }
  /* bounded: MAILDIR_SCAN_MAX entries */
  for (;;)
  {
    struct dirent *de;
    maildir_entry m;
    errno = 0;
    de = readdir(d);
    if (!de) { if (errno) goto fail; break; }
    if (de->d_name[0] == '.') continue;
    if (genalloc_len(maildir_entry, &list->entries) >= MAILDIR_SCAN_MAX) { errno = E2BIG; goto fail; }
    m.path = list->names.len;
    m.baselen = maildir_name_baselen(de->d_name);
    if (!m.baselen) continue;
    if (!maildir_name_size(de->d_name, m.baselen, 'S', &m.stored))
    {
      struct stat st;
      if (fstatat(fd, de->d_name, &st, 0) < 0) { if (errno == ENOENT) continue; goto fail; }
      if (!S_ISREG(st.st_mode)) continue;
      m.stored = (uint64_t)st.st_size;
    }
    if (!stralloc_cats(&list->names, sub) || !stralloc_catb(&list->names, "/", 1)
        || !stralloc_cats(&list->names, de->d_name) || !stralloc_0(&list->names)
        || !genalloc_append(maildir_entry, &list->entries, &m)) goto fail;
  }
  closedir(d);
  return 0;
 fail:
  {
    int e = errno;
    closedir(d);
    errno = e;
    return -1;
  }
}

int maildir_scan(char const *dir, maildir_list *list)
{
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  maildir_entry *e;
  size_t n, i, out = 0;
  list->names.len = 0;
  genalloc_setlen(maildir_entry, &list->entries, 0);
  if (dirfd < 0) return -1;
  if (scan_sub(dirfd, "cur", list) < 0 || scan_sub(dirfd, "new", list) < 0)
  { int er = errno; close(dirfd); errno = er; return -1; }
  close(dirfd);
  e = genalloc_s(maildir_entry, &list->entries);
  n = genalloc_len(maildir_entry, &list->entries);
  sort_names = list->names.s;
  if (n > 1) qsort(e, n, sizeof *e, &entry_cmp);
  /* drop the new/ twin of a base already in cur/ (sorted right after it) */
  for (i = 0; i < n; i++)
  {
    if (out && e[out - 1].baselen == e[i].baselen
        && !memcmp(list->names.s + e[out - 1].path + 4, list->names.s + e[i].path + 4, e[i].baselen))
      continue;
    e[out++] = e[i];
  }
  genalloc_setlen(maildir_entry, &list->entries, out);
  return 0;
}

static int find_in(char const *dir, char const *sub, char const *base, size_t len, stralloc *path)
{
  DIR *d;
  size_t dl = strlen(dir);
  int r = 0;
  path->len = 0;
  if (!stralloc_catb(path, dir, dl) || !stralloc_cats(path, "/") || !stralloc_cats(path, sub) || !stralloc_0(path)) return -1;
  d = opendir(path->s);
  if (!d) return errno == ENOENT ? 0 : -1;
  /* bounded by the directory's size */
  for (;;)
  {
    struct dirent *de;
    errno = 0;
    de = readdir(d);
    if (!de) { if (errno) r = -1; break; }
    if (!strncmp(de->d_name, base, len) && (de->d_name[len] == ':' || !de->d_name[len]))
    {
      path->len = 0;
      r = stralloc_cats(path, sub) && stralloc_cats(path, "/") && stralloc_cats(path, de->d_name)
          && stralloc_0(path) ? 1 : -1;
      break;
    }
  }
  {
    int e = errno;
    closedir(d);
    errno = e;
  }
  return r;
}

int maildir_find(char const *dir, char const *base, size_t len, stralloc *path)
{
  int r = find_in(dir, "cur", base, len, path);
  return r ? r : find_in(dir, "new", base, len, path);
}

void maildir_scan_free(maildir_list *list)
{
  stralloc_free(&list->names);
  genalloc_free(maildir_entry, &list->entries);
}
