/* dirsync: directories whose entries must survive a power cut (Maildirs,
 * the queue). A file fsynced into a directory is durable only once the
 * directory is, and that directory only once its parent is.
 * Functions return as stated, or -1 with errno set. */
#ifndef VMAIL_DIRSYNC_H
#define VMAIL_DIRSYNC_H

/* fsync of the directory path: 0. */
int dir_fsync(char const *path);

/* mkdir path 0700: 1 created, 0 already there. */
int dir_make(char const *path);

#endif
