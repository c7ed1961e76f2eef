/* cmd: run doors' Start_Command / Stop_Command in the background (I/O).
 *
 * knockd's commands, without knockd's defects: nothing here waits for a
 * command (only cmd_shutdown does, bounded; spawning costs ~0.1-0.3 ms),
 * every queue is bounded, every Stop_Command still pending at exit is run,
 * and each command's exit status and output are logged.
 *
 * A command is the door's line with %IP% replaced by the source address
 * (cmdline.h), run as `/bin/sh -c LINE` in its own process group, with
 * stdin /dev/null, stdout+stderr captured (first CMD_OUTPUT_MAX bytes kept,
 * the rest counted), only PATH in the environment, no other fds, default
 * signal dispositions and an empty signal mask, cwd "/", optionally as
 * another user (Command_User).  posix_spawn() normally; fork() only to
 * switch users, as its cost grows with the daemon's memory.
 *
 * Timing: cmd_start() only queues; the process is spawned by the next
 * cmd_tick(), i.e. after the verdicts being computed were sent.  The stop
 * command is due d->cmd_timeout seconds after the knock; it waits for its own
 * start command to finish first (so `iptables -D` never overtakes the
 * `iptables -I` it undoes).  A command running longer than
 * CMD_TIME_LIMIT_MS gets SIGTERM, CMD_KILL_GRACE_MS later SIGKILL (both to
 * its process group): a fixed limit rather than one from Cmd_Timeout, which
 * is the delay before the stop, not a budget for the start. */
#ifndef GK_CMD_H
#define GK_CMD_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"

#define CMD_NONE		INT64_MAX	/* "no deadline" */
#define CMD_OUTPUT_MAX		4096	/* output bytes kept per command */
#define CMD_TIME_LIMIT_MS	60000	/* then SIGTERM to the group */
#define CMD_KILL_GRACE_MS	5000	/* then SIGKILL */
#define CMD_SHUTDOWN_MS		5000	/* cmd_shutdown waits this long, */
#define CMD_SHUTDOWN_KILL_MS	1000	/* then SIGTERM, this long, SIGKILL */
#define CMD_LOG_LINE_MAX	8192	/* exit lines carry the output */

/* Receives every finished logfmt line with a syslog priority. */
typedef void cmd_log_fn(void *ctx, int prio, const char *line);
/* Job's stop command is settled: it was started, or it will never be
 * needed (its start never ran, or there is nothing to run).  A stop
 * abandoned at shutdown is not settled: it is still owed. */
typedef void cmd_done_fn(void *ctx, uint64_t job);

struct cmd_stats {
	uint64_t spawned;	/* processes started */
	uint64_t ok;		/* exited with status 0 */
	uint64_t failed;	/* other status, or ended by a signal */
	uint64_t timed_out;	/* signalled for exceeding the time limit */
	uint64_t refused;	/* knocks whose commands found no room */
	uint64_t errors;	/* line too long, bad address, fork failed */
	uint64_t dropped;	/* queued, never run (shutdown) */
	uint64_t output_dropped; /* bytes beyond CMD_OUTPUT_MAX */
	unsigned running, pending;
};

struct cmd_runner;

/* At most max_running processes at once (>= 1); at most max_pending
 * commands waiting: queued starts plus scheduled stops (>= 2, as a knock
 * needs room for both).  user: run commands as this user, NULL or "" for
 * the daemon's own; resolved here, and refused unless we are that user or
 * root with CAP_SETUID and CAP_SETGID (so create the runner after any
 * privilege drop of the daemon's own).  Returns NULL with err set on
 * failure (unknown user, cannot switch, no memory). */
struct cmd_runner *cmd_new(unsigned max_running, unsigned max_pending,
    const char *user, cmd_log_fn *log, void *log_ctx,
    char *err, size_t errlen);
/* Closes everything; children still running are left alone (call
 * cmd_shutdown first). */
void cmd_free(struct cmd_runner *r);

void cmd_on_done(struct cmd_runner *r, cmd_done_fn *fn, void *ctx);

/* src completed door d's sequence at now_ms: queue the start command for
 * src's family (start_cmd or start_cmd6) and schedule the stop command at
 * stop_ms, both under the caller's job id.  An empty command means none.
 * Copies what it needs: d may change or go away (reload) afterwards.  Both
 * commands are accepted or neither.  0 (also when there is nothing to
 * run), or -1: no room (logged, stats.refused) or an unusable address or
 * line (logged, stats.errors).  Makes no syscall. */
int cmd_start(struct cmd_runner *r, const struct cfg_door *d,
    const struct addr *src, uint64_t job, int64_t now_ms, int64_t stop_ms);
/* Only job's stop command, due at due_ms (owed from before a restart).
 * 0, or -1 when there is no room. */
int cmd_stop(struct cmd_runner *r, const struct cfg_door *d,
    const struct addr *src, uint64_t job, int64_t due_ms);

/* When cmd_tick must run next (CMD_NONE: not before some fd is ready). */
int64_t cmd_next_deadline(const struct cmd_runner *r);
/* Reap, enforce time limits, spawn due commands. */
void cmd_tick(struct cmd_runner *r, int64_t now_ms);

/* Fds to poll: output pipes and pidfds of running commands, at most
 * cmd_pollfds_max(r) of them.  Returns how many were written to out. */
unsigned cmd_pollfds(const struct cmd_runner *r, struct pollfd *out,
    unsigned max);
unsigned cmd_pollfds_max(const struct cmd_runner *r);
/* After poll(): handle those of fds[0..n) that are ours (others ignored). */
void cmd_on_poll(struct cmd_runner *r, const struct pollfd *fds, unsigned n,
    int64_t now_ms);
/* Optional: reap after SIGCHLD.  Exits are also seen through the pidfds and
 * by cmd_tick, so a daemon need not watch SIGCHLD at all. */
void cmd_on_sigchld(struct cmd_runner *r, int64_t now_ms);

/* At exit: drop queued start commands that never ran (and their stops), run
 * every pending stop command now, and wait for all running commands, at
 * most CMD_SHUTDOWN_MS; then SIGTERM all, CMD_SHUTDOWN_KILL_MS later
 * SIGKILL all.  A stop whose start is still running runs as soon as that
 * start ends (or is killed).  Whatever is left after another
 * CMD_SHUTDOWN_KILL_MS is logged as dropped or abandoned.  Blocks for at
 * most CMD_SHUTDOWN_MS + 2 * CMD_SHUTDOWN_KILL_MS; every line is logged
 * through the callback, so call it before closing the log. */
void cmd_shutdown(struct cmd_runner *r, int64_t now_ms);

/* Counters; running and pending are filled in on each call. */
const struct cmd_stats *cmd_stats(struct cmd_runner *r);

#endif
