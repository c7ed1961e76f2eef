/* log: where log lines go (I/O). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "logfmt.h"

/* LogFile never grows past this: it is then renamed to LogFile.1 (one
 * generation kept), so the log takes at most twice this on disk. */
#define LOG_FILE_MAX	(64L * 1024 * 1024)

static struct {
	int to_stderr, to_syslog, fd;
	off_t size;
	int full;		/* could not rotate: file writes stopped */
	char path[CFG_PATH_MAX];
} lg = { 1, 0, -1, 0, 0, "" };

static int
open_file(void)
{
	struct stat st;
	int fd = open(lg.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640);

	lg.size = fd >= 0 && fstat(fd, &st) == 0 ? st.st_size : 0;
	lg.full = 0;
	return fd;
}

/* Keep one old generation; if that fails, stop writing the file rather
 * than fill the disk, and say so once on the other channels. */
static void
rotate(void)
{
	char old[CFG_PATH_MAX + 3];
	int fd;

	snprintf(old, sizeof(old), "%s.1", lg.path);
	if (rename(lg.path, old) != 0 || (fd = open_file()) < 0) {
		lg.full = 1;
		if (lg.to_syslog)
			syslog(LOG_ERR, "event=log-full path=%s", lg.path);
		return;
	}
	close(lg.fd);
	lg.fd = fd;
}

int
log_open(const struct cfg_options *opt, int foreground, char *err,
    size_t errlen)
{
	lg.to_stderr = foreground;
	lg.to_syslog = opt->use_syslog;
	snprintf(lg.path, sizeof(lg.path), "%s", opt->log_file);
	if (lg.path[0] && (lg.fd = open_file()) < 0) {
		snprintf(err, errlen, "LogFile %s: %s", lg.path,
		    strerror(errno));
		return -1;
	}
	/* In the background with nowhere else to go, use syslog. */
	if (!foreground && !lg.path[0])
		lg.to_syslog = 1;
	if (lg.to_syslog)
		openlog("gatekeeperd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return 0;
}

void
log_reopen(void)
{
	int fd;

	if (!lg.path[0] || (fd = open_file()) < 0)
		return;
	if (lg.fd >= 0)
		close(lg.fd);
	lg.fd = fd;
}

void
log_close(void)
{
	if (lg.fd >= 0)
		close(lg.fd);
	lg.fd = -1;
	if (lg.to_syslog)
		closelog();
}

/* "time=2026-11-22T00:15:49.123Z " in UTC. */
static size_t
stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	return (size_t)snprintf(buf, len, "time=%s.%03ldZ ", when,
	    ts.tv_nsec / 1000000);
}

static void
write_all(int fd, const char *s, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;	/* a full disk must not stop verdicts */
		s += r;
		n -= (size_t)r;
	}
}

/* Lines held back while verdicts are being computed (log_hold), written
 * by log_release once the kernel has its verdicts.  Full: written at once. */
#define LOG_HOLD_LINES	128

static struct {
	int on;
	unsigned n;
	struct {
		int prio;
		char time[64];
		char line[LOGFMT_LINE_MAX];
	} l[LOG_HOLD_LINES];
} held;

static void
put_line(int prio, const char *when, const char *line)
{
	char buf[LOGFMT_LINE_MAX + 64];
	size_t n;

	if (lg.to_syslog)
		syslog(prio, "%s", line);
	if (!lg.to_stderr && lg.fd < 0)
		return;
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s\n", when, line);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (lg.to_stderr)
		write_all(STDERR_FILENO, buf, n);
	if (lg.fd >= 0 && !lg.full && lg.size + (off_t)n > LOG_FILE_MAX)
		rotate();
	if (lg.fd >= 0 && !lg.full) {
		write_all(lg.fd, buf, n);
		lg.size += (off_t)n;
	}
}

void
log_hold(void)
{
	held.on = 1;
}

void
log_release(void)
{
	unsigned i;

	held.on = 0;
	for (i = 0; i < held.n; i++)
		put_line(held.l[i].prio, held.l[i].time, held.l[i].line);
	held.n = 0;
}

void
log_line(int prio, const char *line)
{
	char when[64];

	stamp(when, sizeof(when));
	if (held.on && held.n == LOG_HOLD_LINES) {
		log_release();	/* full: write what waits, hold on */
		held.on = 1;
	}
	if (!held.on) {
		put_line(prio, when, line);
		return;
	}
	held.l[held.n].prio = prio;
	memcpy(held.l[held.n].time, when, sizeof(when));
	snprintf(held.l[held.n].line, sizeof(held.l[0].line), "%s", line);
	held.n++;
}

static void
vmsg(int prio, const char *event, const char *fmt, va_list ap)
{
	char msg[LOGFMT_LINE_MAX], line[LOGFMT_LINE_MAX];
	struct lf l;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	lf_init(&l, line, sizeof(line));
	lf_str(&l, "event", event);
	lf_str(&l, "msg", msg);
	log_line(prio, line);
}

void
log_msg(int prio, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(prio, event, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(LOG_CRIT, "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
