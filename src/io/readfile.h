/* readfile: a whole small file into memory, and whether it is private
 * (I/O; the daemon's configuration and the client's profiles). */
#ifndef GK_READFILE_H
#define GK_READFILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define READFILE_MAX (1024 * 1024)	/* refuse larger files */

/* The whole of path (a regular file of at most READFILE_MAX bytes),
 * NUL-terminated, into a buffer the caller frees; its length in *len and
 * its fstat in *st (may be NULL).  NULL with the reason in why and errno
 * set (ENOENT: no such file). */
char *readfile(const char *path, size_t *len, struct stat *st, char *why,
    size_t whylen);
/* Can someone else change what the file says (writable by group or
 * others, or owned by another user than us or root)?  1 with the reason
 * in why: a file that names commands to run must not be. */
int readfile_not_safe(const struct stat *st, char *why, size_t whylen);
/* Does a file that holds keys fail to be private?  Private: nobody but
 * its owner may read or change it, and the owner is root, us or owner
 * (-1: none else).  1 with the reason in why (owners names who may own
 * it, for the hint), as ssh refuses such a key. */
int readfile_not_private(const struct stat *st, uid_t owner,
    const char *owners, char *why, size_t whylen);

#endif
