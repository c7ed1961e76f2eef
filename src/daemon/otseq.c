/* otseq: knockd's One_Time_Sequences files (I/O). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "otseq.h"

/* Blank, or a comment, or a sequence used already. */
static int
skipped(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i == n || s[i] == '#' || s[i] == '\n' || s[i] == '\r';
}

int
otseq_load(const char *path, unsigned after, struct cfg_door *d,
    unsigned *line, char *err, size_t errlen)
{
	char *buf = NULL, msg[CFG_ERR_MAX];
	size_t cap = 0;
	ssize_t n;
	unsigned ln = 0;
	FILE *f;
	int rc = 1;

	d->seq_len = 0;
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&buf, &cap, f)) >= 0) {
		ln++;
		if (ln <= after || skipped(buf, (size_t)n))
			continue;
		if (config_door_set_sequence(d, buf, (size_t)n, msg,
		    sizeof(msg)) != 0) {
			snprintf(err, errlen, "%s:%u: %s", path, ln, msg);
			rc = -1;
		} else {
			*line = ln;
			rc = 0;
		}
		break;
	}
	if (rc == 1 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	} else if (rc == 1)
		snprintf(err, errlen, "%s: no unused sequence left", path);
	free(buf);
	fclose(f);
	return rc;
}

/* Offset of the first byte of line (1-based), or -1 when the file has no
 * such line. */
static off_t
line_start(int fd, unsigned line)
{
	char buf[4096];
	off_t off = 0;
	unsigned ln = 1;
	ssize_t n, i;

	if (line == 1)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n; i++)
			if (buf[i] == '\n' && ++ln == line)
				return off + i + 1;
		off += n;
	}
	errno = ERANGE;
	return -1;
}

int
otseq_mark_used(const char *path, unsigned line, char *err, size_t errlen)
{
	const char *why = NULL;
	off_t at = -1;
	ssize_t n;
	char c = 0;
	int fd;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (line == 0 || ((at = line_start(fd, line)) < 0 && errno == ERANGE))
		why = "no such line";
	else if (at < 0 || (n = pread(fd, &c, 1, at)) < 0)
		why = strerror(errno);
	else if (n == 0)
		why = "no such line";
	else if (c == '\n')	/* a '#' there would glue two lines together */
		why = "blank line, not a sequence";
	else if (c != '#' && (pwrite(fd, "#", 1, at) != 1 || fsync(fd) != 0))
		why = strerror(errno);
	if (close(fd) != 0 && why == NULL)
		why = strerror(errno);
	if (why != NULL) {
		snprintf(err, errlen, "%s:%u: %s", path, line, why);
		return -1;
	}
	return 0;
}
