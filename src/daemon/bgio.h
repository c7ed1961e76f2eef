/* bgio: file writes that may block (fsync, a slow or full disk) done by a
 * thread of their own, off the verdict path (I/O).
 *
 * The event loop hands over a job and goes on; the worker reports how it
 * went through an eventfd the loop polls.  Jobs: replace State_File
 * (coalesced: a newer state replaces one not yet written) and mark a
 * One_Time_Sequences line used. */
#ifndef GK_BGIO_H
#define GK_BGIO_H

#include <stddef.h>
#include <stdint.h>

#define BGIO_JOBS	64	/* marks waiting at once */

enum bgio_kind { BGIO_SAVE, BGIO_MARK };

struct bgio_result {
	enum bgio_kind kind;
	int rc;			/* 0 ok, -1 failed (err says why) */
	unsigned line;		/* MARK */
	int door;		/* MARK: the caller's tag */
	char err[512];
};

/* Start the worker.  0, or -1 with err set. */
int bgio_start(char *err, size_t errlen);
/* Stop it after the jobs queued (waits for them). */
void bgio_stop(void);
/* The fd to poll for results. */
int bgio_fd(void);

/* Replace path with buf[0..len) (bgio takes buf, a malloc'd one). */
void bgio_save(const char *path, char *buf, size_t len);
/* Mark line of path used (otseq_mark_used).  -1 when the queue is full
 * (the caller keeps the line used in memory either way). */
int bgio_mark(const char *path, unsigned line, int door);
/* Next result, or 0 when none is waiting. */
int bgio_result(struct bgio_result *out);
/* Is a state save waiting or under way? */
int bgio_saving(void);
/* systemd's watchdog (WatchdogSec): the worker pings it every usec / 3,
 * but only while the event loop beats; a loop stuck anywhere stops the
 * pings, and systemd restarts the service (the gate stays closed). */
void bgio_watchdog(uint64_t usec);
/* The event loop went round once more. */
void bgio_beat(void);

#endif
