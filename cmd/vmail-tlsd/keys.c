/* keys.c: certificates and keys, read and checked; see tlsd.h. Files are
 * read for every connection (tcpserver starts one vmail-tlsd per
 * connection), so a renewed certificate is served from the next
 * connection on with no reload. The validity dates are checked here
 * (lib/x509_dates, no crypto library), so an expired certificate gives a
 * clear log line and no STARTTLS offer instead of a handshake that every
 * client refuses. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "tlsd.h"
#include "x509_dates.h"

#define TLSD_NAME_MAX 253   /* RFC 1035 2.3.4: a domain name */

/* Appends file's contents and a NUL: 1 ok, 0 errno set (EFBIG: too big,
 * EINVAL: it holds a NUL). */
static int file_append(stralloc *sa, char const *file)
{
  struct stat st;
  size_t start = sa->len;
  int fd = open(file, O_RDONLY | O_CLOEXEC), ok;
  if (fd < 0) return 0;
  if (fstat(fd, &st) < 0) { close(fd); return 0; }
  if (st.st_size > X509_PEM_MAX) { close(fd); errno = EFBIG; return 0; }
  ok = slurp(sa, fd);
  close(fd);
  if (!ok) return 0;
  if (memchr(sa->s + start, 0, sa->len - start)) { sa->len = start; errno = EINVAL; return 0; }
  return stralloc_0(sa);
}

/* Why the certificate cert[0..len) cannot be served now, or 0. */
static char const *cert_problem(char const *cert, size_t len)
{
  time_t nb, na, now = time(0);
  if (!x509_pem_validity(cert, len, &nb, &na)) return "no PEM certificate in it";
  if (na <= now) return "the certificate has expired";
  if (nb > now) return "the certificate is not valid yet";
  return 0;
}

/* Appends one pair to pairs: 1 ok, 0 logged (pairs as it was). */
static int pair_read(stralloc *pairs, char const *certfile, char const *keyfile)
{
  size_t start = pairs->len, cert;
  char const *why;
  if (!stralloc_catb(pairs, certfile, strlen(certfile) + 1)) strerr_diefu1sys(111, "allocate");
  cert = pairs->len;
  if (!file_append(pairs, certfile))
  {
    strerr_warnwu2sys("read certificate ", certfile);
    pairs->len = start;
    return 0;
  }
  why = cert_problem(pairs->s + cert, pairs->len - cert - 1);
  if (why)
  {
    strerr_warnw4x("unable to use certificate ", certfile, ": ", why);
    pairs->len = start;
    return 0;
  }
  if (!file_append(pairs, keyfile))
  {
    strerr_warnwu2sys("read key ", keyfile);
    explicit_bzero(pairs->s + start, pairs->len - start);
    pairs->len = start;
    return 0;
  }
  return 1;
}

static int name_ok(char const *s)
{
  size_t n = strlen(s);
  if (!n || n > TLSD_NAME_MAX || s[0] == '.' || s[0] == '-') return 0;
  for (size_t i = 0; i < n; i++)
  {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
      return 0;
  }
  return 1;
}

/* The SNI pairs: libtls serves the one whose certificate names the server
 * name the client asked for, and the default pair otherwise. */
static void sni_read(stralloc *pairs, char const *dir)
{
  stralloc c = STRALLOC_ZERO, k = STRALLOC_ZERO;
  DIR *d = opendir(dir);
  struct dirent *e;
  unsigned n = 0;
  if (!d) { strerr_warnwu2sys("open VMAIL_TLS_DIR ", dir); return; }
  while ((e = readdir(d)) && n < TLSD_SNI_MAX)
  {
    if (!name_ok(e->d_name)) continue;
    c.len = k.len = 0;
    if (!stralloc_cats(&c, dir) || !stralloc_cats(&c, "/") || !stralloc_cats(&c, e->d_name)
        || !stralloc_copy(&k, &c) || !stralloc_cats(&c, "/cert") || !stralloc_0(&c)
        || !stralloc_cats(&k, "/key") || !stralloc_0(&k))
      strerr_diefu1sys(111, "allocate");
    n++;
    pair_read(pairs, c.s, k.s);
  }
  closedir(d);
  stralloc_free(&c);
  stralloc_free(&k);
}

int keys_read(stralloc *pairs)
{
  char const *cert = getenv("VMAIL_TLS_CERT"), *key = getenv("VMAIL_TLS_KEY"), *dir = getenv("VMAIL_TLS_DIR");
  if (!cert || !*cert) strerr_dief1x(100, "VMAIL_TLS_CERT is unset: no certificate to serve");
  if (!key || !*key) strerr_dief1x(100, "VMAIL_TLS_KEY is unset: no key for the certificate");
  pairs->len = 0;
  if (!pair_read(pairs, cert, key)) return 0;
  if (dir && *dir) sni_read(pairs, dir);
  return 1;
}
