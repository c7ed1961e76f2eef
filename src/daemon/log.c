/* log: where log lines go (I/O).  See log.h.
 *
 * Each sink has a ring of bytes with one writer (the event loop) and one
 * reader (the sink's thread): the writer appends records and moves head,
 * the reader writes them out and moves tail; both indices run freely and
 * are taken modulo the ring's size.  A record is a small header (length,
 * priority, the wall-clock time of the event) and the line, padded to 8
 * bytes; one that would not fit before the ring's end starts at its
 * beginning, behind a wrap mark.  When a ring is full the line is lost for
 * that sink and counted; the next line that fits is preceded by one
 * event=log-lost line with the count.  A line the reader cannot write (a
 * full disk, a closed pipe) is lost the same way: the reader counts it and
 * writes the event=log-lost line before the next one it can write.  The
 * time stamp is formatted by the reader: the event loop only copies
 * bytes.  The file and stderr readers write in bulk: all the lines
 * waiting when a reader wakes go out in writes of up to BATCH_BYTES (one
 * write per wake-up while the event loop keeps up, not one per line).
 * Lines are written as soon as the reader is scheduled: operators and
 * tests read the log as events happen. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "logfmt.h"

/* LogFile never grows past this: it is then renamed to LogFile.1 (one
 * generation kept), so the log takes at most twice this on disk. */
#define LOG_FILE_MAX	(64L * 1024 * 1024)
#define RING_BYTES	(1u << 20)	/* per sink: thousands of lines */
#define REC_HDR		16
#define REC_WRAP	UINT32_MAX
#define REC_MAX		8192		/* longest line kept whole */
#define IDLE_MS		200		/* a reader's poll backstop */
#define BATCH_BYTES	(64 * 1024)	/* one write, at most (about) */
#define STAMP_MAX	64		/* "time=...Z " */

enum { S_STDERR, S_SYSLOG, S_FILE };

struct rec {
	uint32_t len;
	uint8_t prio;
	uint8_t pad[3];
	int64_t real_ns;
};
_Static_assert(sizeof(struct rec) == REC_HDR, "record header");

struct sink {
	const char *name;
	int on;
	char *buf;
	_Atomic uint32_t head, tail;
	_Atomic uint64_t written;	/* reader's counts */
	_Atomic uint64_t failed;	/* lines it could not write */
	_Atomic int failing;		/* the last write failed */
	uint64_t lost, reported;	/* writer's counts: ring full */
	_Atomic int sleeping;
	_Atomic int done;
	int efd;
	char *out;			/* the reader's batch: BATCH_BYTES +
					 * one line */
	size_t outlen;
	unsigned outlines;		/* lines in it (not the lost note) */
	uint64_t out_note;		/* failed count its note reports */
	int out_lead;			/* it starts with a '\n' ending ... */
	int torn;			/* ... the last write's cut line */
	pthread_t th;
	int running;
};

static struct {
	int started;			/* the readers run */
	int held;
	int held_lines;			/* queued while held: wake for them */
	int to_fd;			/* helper mode; -1: off */
	char path[CFG_PATH_MAX];
	int fd;				/* LogFile: the file reader's */
	off_t size;
	int full;			/* could not rotate: file stopped */
	_Atomic int reopen;
	_Atomic int stop;
	struct sink s[LOG_SINKS];
} lg = {
	.to_fd = -1, .fd = -1,
	.s = { { .name = "stderr", .efd = -1 }, { .name = "syslog", .efd = -1 },
	    { .name = "file", .efd = -1 } },
};

static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* "time=2026-11-22T00:15:49.123Z " in UTC. */
static size_t
stamp(char *buf, size_t len, int64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char when[32];

	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	return (size_t)snprintf(buf, len, "time=%s.%03ldZ ", when,
	    (long)(ns % 1000000000 / 1000000));
}

/* 0, or -1 when the line (or its end) could not be written. */
static int
write_all(int fd, const char *s, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- the file sink, in its reader's thread ---- */

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
 * than fill the disk. */
static void
rotate(void)
{
	char old[CFG_PATH_MAX + 3];
	int fd;

	snprintf(old, sizeof(old), "%s.1", lg.path);
	if (rename(lg.path, old) != 0 || (fd = open_file()) < 0) {
		lg.full = 1;
		return;
	}
	close(lg.fd);
	lg.fd = fd;
}

static void
file_reopen(void)
{
	int fd;

	if (!lg.path[0] || (fd = open_file()) < 0)
		return;
	if (lg.fd >= 0)
		close(lg.fd);
	lg.fd = fd;
}

/* 0, or -1 when the line is lost (syslog(3) cannot tell). */
static int
sink_write(int which, int prio, int64_t ns, const char *line, size_t n)
{
	char buf[REC_MAX + 64];
	size_t k;

	if (which == S_SYSLOG) {
		syslog(prio, "%.*s", (int)n, line);
		return 0;
	}
	k = stamp(buf, sizeof(buf), ns);
	if (n > sizeof(buf) - k - 1)
		n = sizeof(buf) - k - 1;
	memcpy(buf + k, line, n);
	buf[k + n] = '\n';
	k += n + 1;
	if (which == S_STDERR)
		return write_all(STDERR_FILENO, buf, k);
	if (lg.fd >= 0 && !lg.full && lg.size + (off_t)k > LOG_FILE_MAX)
		rotate();
	if (lg.fd < 0 || lg.full)
		return -1;
	lg.size += (off_t)k;
	return write_all(lg.fd, buf, k);
}

/* The reader's side of loss: lines it could not write are said to be
 * lost before the first one it can write again. */
static void
sink_put(struct sink *k, int which, const struct rec *r, const char *line,
    uint64_t *reported)
{
	uint64_t failed = atomic_load_explicit(&k->failed,
	    memory_order_relaxed);
	char note[256];
	int len;

	if (failed > *reported) {
		len = snprintf(note, sizeof(note), "event=log-lost sink=%s "
		    "lines=%llu msg=\"writing to the %s sink failed\"",
		    k->name, (unsigned long long)(failed - *reported),
		    k->name);
		if (sink_write(which, LOG_WARNING, r->real_ns, note,
		    (size_t)len) != 0) {
			atomic_fetch_add(&k->failed, 1);
			return;
		}
		*reported = failed;
	}
	if (sink_write(which, r->prio, r->real_ns, line, r->len) != 0) {
		atomic_fetch_add(&k->failed, 1);
		atomic_store(&k->failing, 1);
		return;
	}
	atomic_store(&k->failing, 0);
	atomic_fetch_add(&k->written, 1);
}

/* The batch: lines formatted as sink_write() would, written together in
 * pieces that end at a line's end and, to a pipe, fit PIPE_BUF (written
 * whole or not at all, also without blocking).  A write that fails counts
 * as lost only the lines that did not get out whole; a line cut short is
 * ended before the next batch, so no two lines run together. */
static int
write_lines(int fd, const char *s, size_t n, size_t cap, size_t *done)
{
	size_t piece;
	ssize_t r;

	*done = 0;
	while (*done < n) {
		piece = n - *done;
		if (piece > cap) {
			const char *nl = memrchr(s + *done, '\n', cap);

			piece = nl != NULL ? (size_t)(nl - (s + *done)) + 1 : cap;
		}
		r = write(fd, s + *done, piece);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		*done += (size_t)r;
	}
	return 0;
}

static int
file_write(const char *buf, size_t n, size_t *done)
{
	int rc;

	*done = 0;
	if (lg.fd >= 0 && !lg.full && lg.size + (off_t)n > LOG_FILE_MAX)
		rotate();
	if (lg.fd < 0 || lg.full)
		return -1;
	rc = write_lines(lg.fd, buf, n, BATCH_BYTES, done);
	lg.size += (off_t)*done;
	return rc;
}

/* Newlines in s[0..n). */
static unsigned
count_lines(const char *s, size_t n)
{
	unsigned c = 0;
	const char *p;

	while (n > 0 && (p = memchr(s, '\n', n)) != NULL) {
		c++;
		n -= (size_t)(p - s) + 1;
		s = p + 1;
	}
	return c;
}

static void
batch_flush(struct sink *k, int which, uint64_t *reported)
{
	unsigned whole, lines;
	size_t done;
	int rc;

	if (k->outlen == 0)
		return;
	rc = which == S_STDERR ? write_lines(STDERR_FILENO, k->out,
	    k->outlen, PIPE_BUF, &done) : file_write(k->out, k->outlen, &done);
	whole = count_lines(k->out, done);
	/* The batch's newlines: its lead (ending a cut line), its note,
	 * then its lines. */
	if (k->out_lead && whole > 0)
		whole--;
	if (k->out_note && whole > 0) {
		whole--;
		*reported = k->out_note;
	}
	lines = whole < k->outlines ? whole : k->outlines;
	atomic_fetch_add(&k->written, lines);
	if (rc == 0) {
		atomic_store(&k->failing, 0);
	} else {
		atomic_fetch_add(&k->failed, k->outlines - lines);
		atomic_store(&k->failing, 1);
	}
	if (done > 0)
		k->torn = k->out[done - 1] != '\n';
	k->outlen = 0;
	k->outlines = 0;
	k->out_note = 0;
	k->out_lead = 0;
}

static void
batch_line(struct sink *k, int64_t ns, const char *line, size_t n)
{
	if (n > REC_MAX)
		n = REC_MAX;
	k->outlen += stamp(k->out + k->outlen, STAMP_MAX, ns);
	memcpy(k->out + k->outlen, line, n);
	k->outlen += n;
	k->out[k->outlen++] = '\n';
}

/* Lines lost before are said to be lost at the start of a batch. */
static void
batch_put(struct sink *k, int which, const struct rec *r, const char *line,
    uint64_t *reported)
{
	uint64_t failed;
	char note[256];
	int len;

	if (k->outlen == 0 && k->torn) {
		k->out[k->outlen++] = '\n';
		k->out_lead = 1;
	}
	if (k->outlines == 0 && (failed = atomic_load_explicit(&k->failed,
	    memory_order_relaxed)) > *reported) {
		len = snprintf(note, sizeof(note), "event=log-lost sink=%s "
		    "lines=%llu msg=\"writing to the %s sink failed\"",
		    k->name, (unsigned long long)(failed - *reported),
		    k->name);
		batch_line(k, r->real_ns, note, (size_t)len);
		k->out_note = failed;
	}
	batch_line(k, r->real_ns, line, r->len);
	k->outlines++;
	if (k->outlen >= BATCH_BYTES)
		batch_flush(k, which, reported);
}

/* ---- the rings ---- */

static uint32_t
rec_size(size_t n)
{
	return (uint32_t)((REC_HDR + n + 7) & ~(size_t)7);
}

/* Append one record; -1 when it does not fit. */
static int
push(struct sink *k, int prio, int64_t ns, const char *line, size_t n)
{
	uint32_t head = atomic_load_explicit(&k->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&k->tail, memory_order_acquire);
	uint32_t off = head & (RING_BYTES - 1), need = rec_size(n), pad = 0;
	struct rec r = { (uint32_t)n, (uint8_t)prio, { 0, 0, 0 }, ns };
	uint32_t wrap = REC_WRAP;

	if (off + need > RING_BYTES)
		pad = RING_BYTES - off;
	if (RING_BYTES - (head - tail) < pad + need)
		return -1;
	if (pad) {
		if (pad >= sizeof(wrap))
			memcpy(k->buf + off, &wrap, sizeof(wrap));
		head += pad;
		off = 0;
	}
	memcpy(k->buf + off, &r, REC_HDR);
	memcpy(k->buf + off + REC_HDR, line, n);
	atomic_store_explicit(&k->head, head + need, memory_order_release);
	return 0;
}

static void
wake(struct sink *k)
{
	uint64_t one = 1;

	/* The reader sets sleeping, then looks at head; we moved head, now
	 * we look at sleeping.  Without a full fence our load may pass our
	 * store (x86 reorders a store after a later load): both would see
	 * the old values and the line would wait for the reader's
	 * backstop. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&k->sleeping) && k->efd >= 0)
		(void)!write(k->efd, &one, sizeof(one));
}

static void
enqueue(struct sink *k, int prio, int64_t ns, const char *line, size_t n)
{
	char note[256];
	int len;

	if (n > REC_MAX)
		n = REC_MAX;
	/* Lines were lost: say so first, once there is room again. */
	if (k->lost > k->reported) {
		len = snprintf(note, sizeof(note), "event=log-lost sink=%s "
		    "lines=%llu msg=\"the %s sink did not keep up\"", k->name,
		    (unsigned long long)(k->lost - k->reported), k->name);
		if (push(k, LOG_WARNING, ns, note, (size_t)len) != 0) {
			k->lost++;
			return;
		}
		k->reported = k->lost;
	}
	if (push(k, prio, ns, line, n) != 0)
		k->lost++;
}

static void *
reader(void *arg)
{
	struct sink *k = arg;
	int which = (int)(k - lg.s);
	struct pollfd pfd = { k->efd, POLLIN, 0 };
	uint64_t junk, reported = 0;
	struct rec r;

	for (;;) {
		uint32_t tail = atomic_load_explicit(&k->tail,
		    memory_order_relaxed);
		uint32_t head = atomic_load_explicit(&k->head,
		    memory_order_acquire);

		while (tail != head) {
			uint32_t off = tail & (RING_BYTES - 1);

			if (RING_BYTES - off >= REC_HDR)
				memcpy(&r, k->buf + off, REC_HDR);
			if (RING_BYTES - off < REC_HDR || r.len == REC_WRAP) {
				tail += RING_BYTES - off;
				continue;
			}
			if (which == S_SYSLOG)
				sink_put(k, which, &r, k->buf + off + REC_HDR,
				    &reported);
			else
				batch_put(k, which, &r, k->buf + off +
				    REC_HDR, &reported);
			tail += rec_size(r.len);
			atomic_store_explicit(&k->tail, tail,
			    memory_order_release);
			head = atomic_load_explicit(&k->head,
			    memory_order_acquire);
		}
		atomic_store_explicit(&k->tail, tail, memory_order_release);
		batch_flush(k, which, &reported);
		if (which == S_FILE && atomic_exchange(&lg.reopen, 0))
			file_reopen();
		if (atomic_load(&lg.stop))
			break;
		atomic_store(&k->sleeping, 1);
		if (atomic_load(&k->head) == tail && !atomic_load(&lg.stop) &&
		    poll(&pfd, 1, IDLE_MS) > 0)
			(void)!read(k->efd, &junk, sizeof(junk));
		atomic_store(&k->sleeping, 0);
	}
	atomic_store(&k->done, 1);
	return NULL;
}

static int
start_reader(struct sink *k)
{
	sigset_t all, old;
	int rc;

	if ((k->buf = malloc(RING_BYTES)) == NULL ||
	    (k->out = malloc(BATCH_BYTES + 2 * STAMP_MAX + 256 + REC_MAX + 2)) == NULL ||
	    (k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -1;
	/* Signals are the event loop's (signalfd): never a reader's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&k->th, NULL, reader, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	k->running = 1;
	return 0;
}

int
log_open(const struct cfg_options *opt, int foreground, char *err,
    size_t errlen)
{
	unsigned i;

	lg.s[S_STDERR].on = foreground;
	lg.s[S_SYSLOG].on = opt->use_syslog;
	snprintf(lg.path, sizeof(lg.path), "%s", opt->log_file);
	if (lg.path[0] && (lg.fd = open_file()) < 0) {
		snprintf(err, errlen, "LogFile %s: %s", lg.path,
		    strerror(errno));
		return -1;
	}
	lg.s[S_FILE].on = lg.path[0] != '\0';
	/* In the background with nowhere else to go, use syslog. */
	if (!foreground && !lg.path[0])
		lg.s[S_SYSLOG].on = 1;
	if (lg.s[S_SYSLOG].on)
		openlog("gatekeeperd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	for (i = 0; i < LOG_SINKS; i++)
		if (lg.s[i].on && start_reader(&lg.s[i]) != 0) {
			snprintf(err, errlen, "log %s: %s", lg.s[i].name,
			    strerror(errno ? errno : ENOMEM));
			return -1;
		}
	lg.started = 1;
	return 0;
}

void
log_reopen(void)
{
	atomic_store(&lg.reopen, 1);
	wake(&lg.s[S_FILE]);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
log_close(int wait_ms)
{
	int64_t end = mono_ms() + wait_ms;
	unsigned i, busy;

	if (!lg.started)
		return;
	/* Let them write what waits, as long as they keep up. */
	do {
		busy = 0;
		for (i = 0; i < LOG_SINKS; i++) {
			struct sink *k = &lg.s[i];

			if (!k->running)
				continue;
			wake(k);
			busy += atomic_load(&k->head) != atomic_load(&k->tail);
		}
		if (busy)
			usleep(5000);
	} while (busy && mono_ms() < end);
	atomic_store(&lg.stop, 1);
	for (i = 0; i < LOG_SINKS; i++) {
		struct sink *k = &lg.s[i];

		if (!k->running)
			continue;
		wake(k);
		/* A reader stuck in a write is left to the exit. */
		while (!atomic_load(&k->done) && mono_ms() < end + 100)
			usleep(2000);
		if (atomic_load(&k->done))
			pthread_join(k->th, NULL);
		else
			pthread_detach(k->th);
		k->running = 0;
	}
	lg.started = 0;
	if (lg.fd >= 0)
		close(lg.fd);
	lg.fd = -1;
	if (lg.s[S_SYSLOG].on)
		closelog();
}

void
log_hold(void)
{
	lg.held = 1;
}

void
log_release(void)
{
	unsigned i;

	lg.held = 0;
	if (!lg.held_lines)	/* a round that logged nothing wakes no one */
		return;
	lg.held_lines = 0;
	for (i = 0; i < LOG_SINKS; i++)
		if (lg.s[i].running)
			wake(&lg.s[i]);
}

/* Helper mode: "<prio> line" to the daemon; stderr while it is gone. */
static void
to_daemon(int prio, const char *line)
{
	char buf[REC_MAX + 8];
	int n = snprintf(buf, sizeof(buf), "L%d %s", prio, line);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	if (send(lg.to_fd, buf, (size_t)n, MSG_NOSIGNAL) == n)
		return;
	n = (int)stamp(buf, sizeof(buf), real_ns());
	snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\n", line);
	(void)write_all(STDERR_FILENO, buf, strlen(buf));
}

void
log_line(int prio, const char *line)
{
	size_t n = strlen(line);
	int64_t ns;
	unsigned i;

	if (lg.to_fd >= 0) {
		to_daemon(prio, line);
		return;
	}
	ns = real_ns();
	if (!lg.started) {
		(void)sink_write(S_STDERR, prio, ns, line, n);
		return;
	}
	for (i = 0; i < LOG_SINKS; i++) {
		if (!lg.s[i].running)
			continue;
		enqueue(&lg.s[i], prio, ns, line, n);
		if (!lg.held)
			wake(&lg.s[i]);
		else
			lg.held_lines = 1;
	}
}

void
log_to_fd(int fd)
{
	lg.to_fd = fd;
	lg.started = 0;		/* the daemon's readers are not ours */
	lg.fd = -1;
	lg.path[0] = '\0';
}

unsigned
log_stats(struct log_sink_stats *out, unsigned max)
{
	unsigned i, n = 0;

	for (i = 0; i < LOG_SINKS && n < max; i++) {
		struct sink *k = &lg.s[i];

		if (!k->on)
			continue;
		out[n].name = k->name;
		out[n].on = k->running;
		out[n].written = atomic_load(&k->written);
		out[n].lost = k->lost + atomic_load(&k->failed);
		out[n].failing = atomic_load(&k->failing);
		out[n].queued = atomic_load(&k->head) - atomic_load(&k->tail);
		n++;
	}
	return n;
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
	log_close(1000);
	exit(1);
}
