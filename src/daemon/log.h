/* log: where log lines go — stderr in the foreground, syslog with
 * UseSyslog, a file with LogFile (I/O).  Lines are logfmt (logfmt.h).
 *
 * Nothing here blocks the caller: each sink has a bounded ring and a
 * thread of its own that writes to it, so a stuck sink (a paused journal,
 * a full or slow disk) only loses its own lines, counted, and reported in
 * one event=log-lost line once it takes lines again.  Before log_open()
 * and after log_close() lines go straight to stderr. */
#ifndef GK_LOG_H
#define GK_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "config.h"

#define LOG_SINKS	3	/* stderr, syslog, file */

/* 0, or -1 with err set (LogFile cannot be opened). */
int log_open(const struct cfg_options *opt, int foreground,
    char *err, size_t errlen);
/* Reopen LogFile (after rotation), in its own thread. */
void log_reopen(void);
/* Write what is queued (waiting at most wait_ms for stuck sinks), stop
 * the threads. */
void log_close(int wait_ms);
/* Hold the wake-ups back while a batch of verdicts is computed, and wake
 * the writers once it is sent. */
void log_hold(void);
void log_release(void);
/* One finished logfmt line at a syslog priority. */
void log_line(int prio, const char *line);
/* event=NAME msg="..." for the daemon's own messages. */
void log_msg(int prio, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* The command helper's mode: every line goes to fd (the daemon logs it),
 * prefixed by its priority; while fd is gone, to stderr and syslog. */
void log_to_fd(int fd);

struct log_sink_stats {
	const char *name;
	int on;
	uint64_t written, lost;	/* lost: ring full, or writing failed */
	unsigned queued;	/* bytes waiting */
	int failing;		/* its last write failed */
};
/* Per-sink counters; returns how many sinks were written to out. */
unsigned log_stats(struct log_sink_stats *out, unsigned max);

#endif
