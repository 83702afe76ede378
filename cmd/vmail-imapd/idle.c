/* idle: IDLE (RFC 2177). The selected folder's new/ and cur/ are watched
 * with inotify, so a delivery or another session's change is reported
 * within IDLE_SETTLE_MS; a rescan every IDLE_RESCAN_SECS covers file
 * systems where inotify says nothing (NFS). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include "imap_io.h"
#include "imapd.h"

#define IDLE_SETTLE_MS 50        /* let a burst of renames finish before rescanning */
#define IDLE_RESCAN_SECS 30

static void watch(int fd, char const *dir, char const *sub)
{
  stralloc p = STRALLOC_ZERO;
  if (!stralloc_copys(&p, dir) || !stralloc_cats(&p, sub) || !stralloc_0(&p)) die_nomem();
  inotify_add_watch(fd, p.s, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB);
  stralloc_free(&p);
}

void cmd_idle(session *s, char const *tag)
{
  mailbox *b = &s->mbox;
  stralloc line = STRALLOC_ZERO;
  int ino = -1;
  tain end, rescan;
  out("+ idling\r\n");
  if (b->selected)
  {
    ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ino >= 0) { watch(ino, b->dir.s, "/new"); watch(ino, b->dir.s, "/cur"); }
    mailbox_sync(b, 1, 1);
  }
  outflush();
  tain_now_g();
  tain_addsec_g(&end, IMAP_AUTOLOGOUT_SECS);
  tain_addsec_g(&rescan, IDLE_RESCAN_SECS);
  for (;;)
  {
    iopause_fd x[2];
    unsigned n = 1;
    int r;
    tain const *deadline = b->selected && tain_less(&rescan, &end) ? &rescan : &end;
    if (imap_input_buffered()) r = 1, x[0].revents = IOPAUSE_READ;
    else
    {
      x[0].fd = 0; x[0].events = IOPAUSE_READ; x[0].revents = 0;
      if (ino >= 0) { x[1].fd = ino; x[1].events = IOPAUSE_READ; x[1].revents = 0; n = 2; }
      r = iopause_g(x, n, deadline);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) session_end("readerror", 111);
    }
    if (!r)
    {
      if (deadline == &end) bye("Autologout: idle for too long", "timeout", 0);
      mailbox_sync(b, 1, 1); search_updates_refresh(); outflush();
      tain_addsec_g(&rescan, IDLE_RESCAN_SECS);
      continue;
    }
    if (n == 2 && (x[1].revents & IOPAUSE_READ))
    {
      char buf[4096];
      tain settle;
      tain_from_millisecs(&settle, IDLE_SETTLE_MS);
      tain_add_g(&settle, &settle);
      iopause_g(x, 0, &settle);
      while (read(ino, buf, sizeof buf) > 0) ;
      mailbox_sync(b, 1, 1); search_updates_refresh(); outflush();
    }
    if (x[0].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))
    {
      r = imap_read_line(&line, IMAP_AUTOLOGOUT_SECS);
      if (!r) session_end("disconnect", 0);
      if (r < 0) session_end(errno == E2BIG ? "toolong" : "readerror", errno == E2BIG ? 0 : 111);
      if (line.len == 4 && !strncasecmp(line.s, "DONE", 4)) break;
      if (ino >= 0) close(ino);
      ino = -1;
      stralloc_free(&line);
      reply_bad(tag, "Expected DONE");
      return;
    }
  }
  if (ino >= 0) close(ino);
  stralloc_free(&line);
  reply_ok(tag, "IDLE terminated");
}
