/* statefile: atomic write and bounded read of State_File (I/O). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "statefile.h"

/* dirname() without touching path: "." for a bare name. */
static int
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return snprintf(dir, len, ".") < (int)len ? 0 : -1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/* The rename is only durable once the directory entry is on disk. */
static int
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd, rc;

	if (dir_of(path, dir, sizeof(dir)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
statefile_save(const char *path, const char *buf, size_t len, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX];
	const char *what;
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "state file %s: name too long", path);
		return -1;
	}
	/* O_NOFOLLOW: a planted symlink must not redirect the write. */
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		snprintf(err, errlen, "state file %s: open: %s", tmp,
		    strerror(errno));
		return -1;
	}
	what = "write";
	if (write_all(fd, buf, len) != 0)
		goto fail;
	what = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	what = "close";
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	if (sync_dir(path) != 0) {
		/* The new file is in place; only its durability is unsure. */
		snprintf(err, errlen, "state file %s: fsync of directory: %s",
		    path, strerror(errno));
		return -1;
	}
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	snprintf(err, errlen, "state file %s: %s: %s", tmp, what,
	    strerror(saved));
	return -1;
}

int
statefile_load(const char *path, char **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat st;
	size_t cap, len = 0;
	char *buf = NULL, *nb;
	ssize_t n;
	int fd, rc = -1;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "state file %s: open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "state file %s: stat: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "state file %s: not a regular file",
		    path);
		goto out;
	}
	/* Sized by fstat, but read to EOF (the file may have grown); one
	 * byte over the limit is enough to refuse it. */
	cap = st.st_size > 0 && (uintmax_t)st.st_size <= STATE_MAX_BYTES ?
	    (size_t)st.st_size + 2 : 4096;
	for (;;) {
		if (buf == NULL || len + 1 == cap) {	/* keep room for NUL */
			if (buf != NULL)
				cap = cap > STATE_MAX_BYTES / 2 ?
				    (size_t)STATE_MAX_BYTES + 2 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				snprintf(err, errlen, "state file %s: out of "
				    "memory", path);
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "state file %s: read: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > STATE_MAX_BYTES) {
			snprintf(err, errlen, "state file %s: larger than %u "
			    "bytes", path, STATE_MAX_BYTES);
			rc = -2;
			goto out;
		}
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

int
statefile_set_aside(const char *path, char *newpath, size_t newlen)
{
	int n = snprintf(newpath, newlen, "%s" STATEFILE_BAD_SUFFIX, path);

	if (n < 0 || (size_t)n >= newlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (rename(path, newpath) != 0)
		return -1;
	(void)sync_dir(path);	/* best effort: the rename itself worked */
	return 0;
}
