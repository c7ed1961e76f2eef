/* readfile: a whole small file into memory, and whether it is private. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readfile.h"

char *
readfile(const char *path, size_t *len, struct stat *stp, char *why,
    size_t whylen)
{
	struct stat st;
	char *buf;
	ssize_t r;
	size_t off = 0;
	int fd;

	/* O_NONBLOCK: a FIFO must not hang us before fstat refuses it. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, whylen, "not a regular file");
		errno = EINVAL;
		return NULL;
	}
	if (st.st_size > READFILE_MAX) {
		close(fd);
		snprintf(why, whylen, "larger than 1 MiB");
		errno = EFBIG;
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		snprintf(why, whylen, "%s", strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	while (off < (size_t)st.st_size &&
	    (r = read(fd, buf + off, (size_t)st.st_size - off)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;

			snprintf(why, whylen, "%s", strerror(e));
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		off += (size_t)r;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	if (stp != NULL)
		*stp = st;
	return buf;
}

int
readfile_not_private(const struct stat *st, uid_t owner, const char *owners,
    char *why, size_t whylen)
{
	if ((st->st_mode & 077) == 0 && (st->st_uid == 0 ||
	    st->st_uid == geteuid() || st->st_uid == owner))
		return 0;
	snprintf(why, whylen, "holds SPA keys but %s (mode %04o, owner uid %u): "
	    "refused, as ssh refuses such a key (allowed: chmod 600, owned by "
	    "%s)", (st->st_mode & 077) ?
	    "others can read or change it" : "another user owns it",
	    (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid, owners);
	return 1;
}

int
readfile_not_safe(const struct stat *st, char *why, size_t whylen)
{
	if ((st->st_mode & 022) == 0 &&
	    (st->st_uid == 0 || st->st_uid == geteuid()))
		return 0;
	snprintf(why, whylen, "%s (mode %04o, owner uid %u): refused, as ssh "
	    "refuses such a config (allowed: writable by its owner only, "
	    "owned by you or root)", (st->st_mode & 022) ?
	    "others can change it" : "another user owns it",
	    (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid);
	return 1;
}
