/* statefile: atomic write and bounded read of State_File (I/O).  What the
 * file says is state.h's business. */
#ifndef GK_STATEFILE_H
#define GK_STATEFILE_H

#include <stddef.h>

/* Suffix of the file a rejected state file is renamed to. */
#define STATEFILE_BAD_SUFFIX	".bad"

/* Replace path with buf[0..len) atomically: write path.tmp (mode 0600, no
 * symlink followed) in the same directory, fsync it, rename it over path,
 * fsync the directory.  After a crash path holds the old or the new text,
 * never a mix.  0, or -1 with a message in err (path is unchanged). */
int statefile_save(const char *path, const char *buf, size_t len,
    char *err, size_t errlen);

/* Read path into a new NUL-terminated buffer (*buf, free() it; *len
 * without the NUL).  Returns
 *	 0  read, or no file at all (*buf NULL: a first start is no error);
 *	-1  cannot be read (permissions, I/O, a symlink, not a regular file):
 *	    leave it where it is;
 *	-2  larger than STATE_MAX_BYTES: reject it like a corrupt file.
 * err holds the reason when the result is negative. */
int statefile_load(const char *path, char **buf, size_t *len,
    char *err, size_t errlen);

/* Rename a rejected state file to path STATEFILE_BAD_SUFFIX (replacing an
 * older one, so bad files cannot pile up) and write that name to newpath.
 * 0, or -1 with errno set. */
int statefile_set_aside(const char *path, char *newpath, size_t newlen);

#endif
