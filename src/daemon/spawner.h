/* spawner: a helper process, forked while the daemon is still root, that
 * runs doors' Start_Command / Stop_Command for it (I/O).
 *
 * Privilege separation: the daemon itself may then drop to User with only
 * CAP_NET_ADMIN, while commands still run as Command_User (root by
 * default, as knockd users' iptables lines need).  The helper trusts
 * nothing it is sent: a request names a door, the digest of that door's
 * commands as the daemon knows them (config_door_cmd_digest), an address
 * literal and a job id; the command lines come from the helper's own copy
 * of the configuration file (re-read on reload), and a request whose
 * digest is not that of the helper's door is refused and logged, so the
 * two never disagree on what a door runs.
 *
 * The daemon owns the stop commands still owed (SP_OWED at most): each is
 * kept, with its job id, from the knock that completed until the helper
 * reports it started (or never needed), and is saved in State_File.  When
 * the helper dies the daemon reaps it, logs it, starts a new one and hands
 * it every owed stop again; when the daemon goes away, even by SIGKILL,
 * the helper runs every pending stop at once, notes the jobs it ran in
 * State_File.stops-done (so the next daemon does not run them again), and
 * exits.  The helper's log lines come to the daemon, which logs them. */
#ifndef GK_SPAWNER_H
#define GK_SPAWNER_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "config.h"
#include "state.h"

#define SP_OWED		256	/* stop commands owed at once */
#define SP_POLLFDS	2	/* the socket and the helper's pidfd */
#define SP_DONE_SUFFIX	".stops-done"

struct sp_owed {
	int used;
	struct state_stop s;
};

struct spawner {
	int fd;			/* -1: no helper */
	pid_t pid;
	int pidfd;		/* -1: none */
	int child;		/* ours to reap */
	int can_restart;	/* a new helper would be what the first was */
	const struct config *cfg;	/* in force: what a new helper gets */
	char conf_path[CFG_PATH_MAX];
	char done_path[CFG_PATH_MAX + sizeof(SP_DONE_SUFFIX)];
	uint64_t next_job;
	struct sp_owed owed[SP_OWED];
	unsigned nowed;
	uint64_t sent, lost, restarts;
	int64_t down_ms;	/* unreachable since; 0: up */
	int64_t retry_ms;	/* next restart attempt; 0: none */
	int64_t started_ms;	/* the helper's start */
	int64_t backoff_ms;	/* restarts of a helper that keeps dying */
	int changed;		/* the owed list changed: save the state */
	int fatal;		/* down for good: the daemon must restart */
};

/* Fork the helper with cfg's doors and Command_User; conf_path is what it
 * re-reads on spawner_reload().  Call before opening anything the helper
 * must not hold (queues, netlink, the control socket).  job_seed makes
 * job ids unique across runs.  0 or -1 (err). */
int spawner_start(struct spawner *sp, const char *conf_path,
    const struct config *cfg, uint64_t job_seed, char *err, size_t errlen);
/* src completed door d: its commands run, its stop is owed.  Never
 * blocks.  0, or -1 (logged, counted). */
int spawner_run(struct spawner *sp, const struct cfg_door *d,
    const struct addr *src, int64_t now_ms);
/* The configuration file changed: the helper re-reads it; cfg is the
 * daemon's new one (kept for restarts). */
void spawner_reload(struct spawner *sp, const struct config *cfg);
/* Fds to poll (at most SP_POLLFDS); returns how many. */
unsigned spawner_pollfds(const struct spawner *sp, struct pollfd *out);
/* After poll(): the helper's lines, its reports, its death. */
void spawner_on_poll(struct spawner *sp, const struct pollfd *pfd,
    unsigned n, int64_t now_ms);
/* Retry a restart that failed. */
void spawner_tick(struct spawner *sp, int64_t now_ms);
int64_t spawner_next_deadline(const struct spawner *sp);
/* Let the helper run pending stop commands and exit, logging what it says
 * meanwhile; waits for it at most timeout_ms, then kills it. */
void spawner_stop(struct spawner *sp, int timeout_ms);

/* The owed stops, for the state file; returns how many went to out. */
unsigned spawner_owed(const struct spawner *sp, struct state_stop *out,
    unsigned max);
/* Owed stops of the last run (from State_File): those the last helper ran
 * (State_File.stops-done) are dropped, the rest handed to the helper.
 * Returns 1 when the done file was read (remove it once the state file
 * is saved: spawner_forget_done()). */
int spawner_restore(struct spawner *sp, const struct state_stop *in,
    unsigned n, int64_t now_ms);
void spawner_forget_done(struct spawner *sp);

#endif
