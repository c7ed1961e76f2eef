/* bgio: blocking file writes in a worker thread (I/O).  See bgio.h.
 *
 * A mutex guards the job queue, the pending save and the results; nobody
 * holds it while writing a file, so the event loop waits for it at most
 * the time of a memcpy. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bgio.h"
#include "config.h"
#include "otseq.h"
#include "statefile.h"

struct job {
	char path[CFG_PATH_MAX];
	unsigned line;
	int door;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int running, stop, efd;
	/* the next state save, not yet started */
	char save_path[CFG_PATH_MAX];
	char *save_buf;
	size_t save_len;
	int saving;		/* one is under way */
	struct job jobs[BGIO_JOBS];
	unsigned njobs;
	struct bgio_result res[BGIO_JOBS + 1];
	unsigned nres;
	uint64_t wd_usec;		/* 0: no watchdog */
	_Atomic uint64_t beats;
} B = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, .efd = -1 };

static void
deadline(struct timespec *ts, uint64_t usec)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(usec / 1000000);
	ts->tv_nsec += (long)(usec % 1000000) * 1000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Ping systemd's watchdog if the loop beat since the last ping. */
static void
watchdog(uint64_t *last)
{
	uint64_t now = atomic_load(&B.beats);

	if (B.wd_usec == 0 || now == *last)
		return;
	*last = now;
	(void)sd_notify(0, "WATCHDOG=1");
}

static void
post(const struct bgio_result *r)
{
	uint64_t one = 1;

	pthread_mutex_lock(&B.mu);
	if (B.nres < sizeof(B.res) / sizeof(B.res[0]))
		B.res[B.nres++] = *r;
	pthread_mutex_unlock(&B.mu);
	(void)!write(B.efd, &one, sizeof(one));
}

static void *
worker(void *arg)
{
	struct bgio_result r;
	struct job j;
	char path[CFG_PATH_MAX], *buf;
	size_t len;

	struct timespec ts;
	uint64_t last = 0;

	(void)arg;
	pthread_mutex_lock(&B.mu);
	for (;;) {
		while (!B.stop && B.save_buf == NULL && B.njobs == 0) {
			if (B.wd_usec == 0) {
				pthread_cond_wait(&B.cv, &B.mu);
				continue;
			}
			deadline(&ts, B.wd_usec / 3);
			if (pthread_cond_timedwait(&B.cv, &B.mu, &ts) ==
			    ETIMEDOUT) {
				pthread_mutex_unlock(&B.mu);
				watchdog(&last);
				pthread_mutex_lock(&B.mu);
			}
		}
		if (B.save_buf != NULL) {
			buf = B.save_buf;
			len = B.save_len;
			memcpy(path, B.save_path, sizeof(path));
			B.save_buf = NULL;
			B.saving = 1;
			pthread_mutex_unlock(&B.mu);
			memset(&r, 0, sizeof(r));
			r.kind = BGIO_SAVE;
			r.rc = statefile_save(path, buf, len, r.err,
			    sizeof(r.err));
			free(buf);
			post(&r);
			pthread_mutex_lock(&B.mu);
			B.saving = 0;
			continue;
		}
		if (B.njobs > 0) {
			j = B.jobs[0];
			memmove(B.jobs, B.jobs + 1, --B.njobs * sizeof(B.jobs[0]));
			pthread_mutex_unlock(&B.mu);
			memset(&r, 0, sizeof(r));
			r.kind = BGIO_MARK;
			r.line = j.line;
			r.door = j.door;
			r.rc = otseq_mark_used(j.path, j.line, r.err,
			    sizeof(r.err));
			post(&r);
			pthread_mutex_lock(&B.mu);
			continue;
		}
		if (B.stop)
			break;
	}
	pthread_mutex_unlock(&B.mu);
	return NULL;
}

int
bgio_start(char *err, size_t errlen)
{
	sigset_t all, old;
	int rc;

	if ((B.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "bgio: eventfd: %s", strerror(errno));
		return -1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&B.th, NULL, worker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "bgio: thread: %s", strerror(rc));
		return -1;
	}
	B.running = 1;
	return 0;
}

void
bgio_stop(void)
{
	if (!B.running)
		return;
	pthread_mutex_lock(&B.mu);
	B.stop = 1;
	pthread_cond_signal(&B.cv);
	pthread_mutex_unlock(&B.mu);
	pthread_join(B.th, NULL);
	B.running = 0;
}

int
bgio_fd(void)
{
	return B.efd;
}

void
bgio_save(const char *path, char *buf, size_t len)
{
	char *old;

	pthread_mutex_lock(&B.mu);
	old = B.save_buf;
	snprintf(B.save_path, sizeof(B.save_path), "%s", path);
	B.save_buf = buf;
	B.save_len = len;
	pthread_cond_signal(&B.cv);
	pthread_mutex_unlock(&B.mu);
	free(old);		/* superseded before it was written */
}

int
bgio_mark(const char *path, unsigned line, int door)
{
	int rc = -1;

	pthread_mutex_lock(&B.mu);
	if (B.njobs < BGIO_JOBS) {
		snprintf(B.jobs[B.njobs].path, sizeof(B.jobs[0].path), "%s",
		    path);
		B.jobs[B.njobs].line = line;
		B.jobs[B.njobs].door = door;
		B.njobs++;
		rc = 0;
		pthread_cond_signal(&B.cv);
	}
	pthread_mutex_unlock(&B.mu);
	return rc;
}

int
bgio_result(struct bgio_result *out)
{
	uint64_t junk;
	int got = 0, more;

	(void)!read(B.efd, &junk, sizeof(junk));
	pthread_mutex_lock(&B.mu);
	if (B.nres > 0) {
		*out = B.res[0];
		memmove(B.res, B.res + 1, --B.nres * sizeof(B.res[0]));
		got = 1;
	}
	more = B.nres > 0;
	pthread_mutex_unlock(&B.mu);
	if (more) {
		uint64_t one = 1;

		(void)!write(B.efd, &one, sizeof(one));	/* more to read */
	}
	return got;
}

void
bgio_watchdog(uint64_t usec)
{
	pthread_mutex_lock(&B.mu);
	B.wd_usec = usec;
	pthread_cond_signal(&B.cv);
	pthread_mutex_unlock(&B.mu);
}

void
bgio_beat(void)
{
	/* The loop alone writes it: a plain store, no locked add. */
	atomic_store_explicit(&B.beats, atomic_load_explicit(&B.beats,
	    memory_order_relaxed) + 1, memory_order_relaxed);
}

int
bgio_saving(void)
{
	int busy;

	pthread_mutex_lock(&B.mu);
	busy = B.saving || B.save_buf != NULL;
	pthread_mutex_unlock(&B.mu);
	return busy;
}
