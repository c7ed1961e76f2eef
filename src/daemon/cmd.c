/* cmd: background runner for doors' Start/Stop_Command (I/O).
 *
 * Two fixed arrays, sized at cmd_new: pend (queued starts and scheduled
 * stops, each with its finished command line) and proc (running children,
 * each with its output pipe, pidfd and captured output).  The loop sees
 * child exits as POLLIN on pidfds, so no SIGCHLD plumbing is needed; without
 * pidfd_open (old kernel, seccomp) cmd_tick polls waitpid() instead. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "cmd.h"
#include "cmdline.h"
#include "logfmt.h"

#define CMD_MAX_GROUPS		256
#define CMD_READS_PER_POLL	4	/* per fd and call: a chatty child
					 * cannot hold the loop */
#define CMD_DISCARD_CHUNK	65536	/* a pipe's worth per read */
#define CMD_REAP_POLL_MS	100	/* waitpid() period without pidfds */

enum cmd_phase { PH_START, PH_STOP };

/* A command waiting for its time or for a free process slot. */
struct cmd_pend {
	int used;
	int wait_start;		/* a stop whose start is queued or running */
	enum cmd_phase phase;
	uint64_t job;		/* a start and its stop share it */
	int64_t due_ms;
	struct addr src;
	char door[CFG_NAME_MAX];
	char line[CMDLINE_MAX];
};

/* A running child. */
struct cmd_proc {
	pid_t pid;		/* 0: free slot */
	int outfd, pidfd;	/* -1: closed or unavailable */
	enum cmd_phase phase;
	uint64_t job;
	struct addr src;
	char door[CFG_NAME_MAX];
	int64_t started_ms, term_ms, kill_ms;
	int signalled;		/* last signal we sent: 0, SIGTERM, SIGKILL */
	int timed_out;
	size_t outlen;
	uint64_t outbytes;	/* all the child wrote, kept or not */
	char out[CMD_OUTPUT_MAX];
};

struct cmd_runner {
	unsigned max_running, max_pending;
	struct cmd_proc *proc;
	struct cmd_pend *pend;
	struct pollfd *pfd;	/* cmd_shutdown's own poll set */
	uint64_t next_job;
	int64_t next_reap_ms;	/* for children without a pidfd */
	int devnull;		/* every child's stdin */
	int switch_user;
	uid_t uid;
	gid_t gid;
	gid_t groups[CMD_MAX_GROUPS];
	int ngroups;
	cmd_log_fn *log;
	void *log_ctx;
	cmd_done_fn *done;
	void *done_ctx;
	struct cmd_stats st;
};

static int64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Move fd above 2, so the child's dup2() onto 0..2 never meets (or
 * overwrites) another of its sources.  Keeps O_CLOEXEC. */
static int
fd_above2(int fd)
{
	int nfd, e;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	e = errno;
	close(fd);
	errno = e;
	return nfd;
}

static const char *
phase_name(enum cmd_phase ph)
{
	return ph == PH_START ? "start" : "stop";
}

/* event= door= src= phase= : the head of every line about one command. */
static void
log_head(struct lf *l, char *buf, size_t size, const char *event,
    const char *door, const struct addr *src, enum cmd_phase ph)
{
	lf_init(l, buf, size);
	lf_str(l, "event", event);
	lf_str(l, "door", door);
	lf_addr(l, "src", src);
	lf_str(l, "phase", phase_name(ph));
}

static void
log_pend(struct cmd_runner *r, int prio, const struct cmd_pend *p,
    const char *event, const char *key, const char *val)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;

	log_head(&l, line, sizeof(line), event, p->door, &p->src, p->phase);
	lf_str(&l, key, val);
	r->log(r->log_ctx, prio, line);
}

static void
log_proc(struct cmd_runner *r, int prio, const struct cmd_proc *c,
    const char *event, const char *key, const char *val)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;

	log_head(&l, line, sizeof(line), event, c->door, &c->src, c->phase);
	lf_i64(&l, "pid", c->pid);
	if (key)
		lf_str(&l, key, val);
	r->log(r->log_ctx, prio, line);
}

/* Can we switch users?  Root without CAP_SETUID/CAP_SETGID (systemd's
 * CapabilityBoundingSet=) cannot, and every command would fail. */
static int
can_setid(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	return (d[0].effective & (1U << CAP_SETUID)) &&
	    (d[0].effective & (1U << CAP_SETGID));
}

/* Resolve user now, while NSS works and before any sandbox matters. */
static int
resolve_user(struct cmd_runner *r, const char *user, char *err,
    size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	int rc, n = CMD_MAX_GROUPS;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(err, errlen, "Command_User '%s': %s", user,
		    rc ? strerror(rc) : "no such user");
		return -1;
	}
	if (pw.pw_uid == geteuid() && pw.pw_gid == getegid())
		return 0;	/* already that user: nothing to switch */
	if (geteuid() != 0 || !can_setid()) {
		snprintf(err, errlen, "Command_User '%s': switching users "
		    "needs root with CAP_SETUID and CAP_SETGID", user);
		return -1;
	}
	if (getgrouplist(user, pw.pw_gid, r->groups, &n) < 0) {
		snprintf(err, errlen, "Command_User '%s': more than %d groups",
		    user, CMD_MAX_GROUPS);
		return -1;
	}
	r->uid = pw.pw_uid;
	r->gid = pw.pw_gid;
	r->ngroups = n;
	r->switch_user = 1;
	return 0;
}

struct cmd_runner *
cmd_new(unsigned max_running, unsigned max_pending, const char *user,
    cmd_log_fn *log, void *log_ctx, char *err, size_t errlen)
{
	struct cmd_runner *r;

	if (max_running < 1 || max_pending < 2 || max_running > 4096 ||
	    max_pending > 65536 || log == NULL) {
		snprintf(err, errlen, "command runner: bad limits %u/%u",
		    max_running, max_pending);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->devnull = -1;
	r->max_running = max_running;
	r->max_pending = max_pending;
	r->log = log;
	r->log_ctx = log_ctx;
	r->next_job = 1;
	r->next_reap_ms = CMD_NONE;
	r->proc = calloc(max_running, sizeof(*r->proc));
	r->pend = calloc(max_pending, sizeof(*r->pend));
	r->pfd = calloc(2 * (size_t)max_running, sizeof(*r->pfd));
	if (r->proc == NULL || r->pend == NULL || r->pfd == NULL)
		goto nomem;
	r->devnull = fd_above2(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (r->devnull < 0) {
		snprintf(err, errlen, "/dev/null: %s", strerror(errno));
		cmd_free(r);
		return NULL;
	}
	if (user && user[0] && resolve_user(r, user, err, errlen) != 0) {
		cmd_free(r);
		return NULL;
	}
	return r;
nomem:
	snprintf(err, errlen, "command runner: out of memory");
	cmd_free(r);
	return NULL;
}

void
cmd_free(struct cmd_runner *r)
{
	unsigned i;

	if (r == NULL)
		return;
	for (i = 0; r->proc && i < r->max_running; i++) {
		if (r->proc[i].pid == 0)
			continue;
		if (r->proc[i].outfd >= 0)
			close(r->proc[i].outfd);
		if (r->proc[i].pidfd >= 0)
			close(r->proc[i].pidfd);
	}
	if (r->devnull >= 0)
		close(r->devnull);
	free(r->proc);
	free(r->pend);
	free(r->pfd);
	free(r);
}

static struct cmd_pend *
pend_free_slot(struct cmd_runner *r)
{
	unsigned i;

	for (i = 0; i < r->max_pending; i++)
		if (!r->pend[i].used)
			return &r->pend[i];
	return NULL;
}

static unsigned
pend_count(const struct cmd_runner *r)
{
	unsigned i, n = 0;

	for (i = 0; i < r->max_pending; i++)
		n += r->pend[i].used != 0;
	return n;
}

/* Fill a pending entry; line must already fit. */
static void
pend_put(struct cmd_pend *p, enum cmd_phase ph, uint64_t job, int64_t due,
    const struct cfg_door *d, const struct addr *src, const char *line)
{
	memset(p, 0, offsetof(struct cmd_pend, line));
	p->used = 1;
	p->phase = ph;
	p->job = job;
	p->due_ms = due;
	p->src = *src;
	snprintf(p->door, sizeof(p->door), "%s", d->name);
	snprintf(p->line, sizeof(p->line), "%s", line);
}

void
cmd_on_done(struct cmd_runner *r, cmd_done_fn *fn, void *ctx)
{
	r->done = fn;
	r->done_ctx = ctx;
}

/* Job's stop is settled: it started, or will never be needed. */
static void
settled(struct cmd_runner *r, uint64_t job)
{
	if (r->done != NULL)
		r->done(r->done_ctx, job);
}

int
cmd_start(struct cmd_runner *r, const struct cfg_door *d,
    const struct addr *src, uint64_t job, int64_t now_ms, int64_t stop_ms)
{
	char start[CMDLINE_MAX], stop[CMDLINE_MAX];
	const char *tstart = src->family == AF_INET6 ? d->start_cmd6 :
	    d->start_cmd;
	const char *tstop = src->family == AF_INET6 ? d->stop_cmd6 :
	    d->stop_cmd;
	char ip[ADDR_STRLEN], line[LOGFMT_LINE_MAX];
	struct cmd_pend *ps = NULL, *pt = NULL;
	struct lf l;

	if (!tstart[0] && !tstop[0])
		return 0;
	/* The address text is all a packet contributes to a command. */
	addr_format(src, ip, sizeof(ip));
	if ((src->family != AF_INET && src->family != AF_INET6) ||
	    cmdline_subst(tstart, ip, start, sizeof(start)) < 0 ||
	    cmdline_subst(tstop, ip, stop, sizeof(stop)) < 0) {
		r->st.errors++;
		lf_init(&l, line, sizeof(line));
		lf_str(&l, "event", "command-error");
		lf_str(&l, "door", d->name);
		lf_str(&l, "src", ip);
		lf_str(&l, "error", cmdline_ip_ok(ip) ? "command too long "
		    "after %IP% substitution" : "unusable source address");
		r->log(r->log_ctx, LOG_ERR, line);
		return -1;
	}
	/* Reserve both or neither: a start must never run without its stop. */
	if (start[0] && (ps = pend_free_slot(r)) != NULL)
		ps->used = 1;
	if (stop[0])
		pt = pend_free_slot(r);
	if ((start[0] && ps == NULL) || (stop[0] && pt == NULL)) {
		if (ps)
			ps->used = 0;
		r->st.refused++;
		lf_init(&l, line, sizeof(line));
		lf_str(&l, "event", "command-refused");
		lf_str(&l, "door", d->name);
		lf_addr(&l, "src", src);
		lf_str(&l, "reason", "queue-full");
		lf_u64(&l, "pending", pend_count(r));
		r->log(r->log_ctx, LOG_WARNING, line);
		return -1;
	}
	if (ps)
		pend_put(ps, PH_START, job, now_ms, d, src, start);
	if (pt) {
		pend_put(pt, PH_STOP, job, stop_ms, d, src, stop);
		pt->wait_start = ps != NULL;
	}
	return 0;
}

int
cmd_stop(struct cmd_runner *r, const struct cfg_door *d,
    const struct addr *src, uint64_t job, int64_t due_ms)
{
	char stop[CMDLINE_MAX], ip[ADDR_STRLEN];
	const char *tstop = src->family == AF_INET6 ? d->stop_cmd6 :
	    d->stop_cmd;
	struct cmd_pend *pt;
	unsigned i;

	addr_format(src, ip, sizeof(ip));
	if (!tstop[0] || (src->family != AF_INET && src->family != AF_INET6) ||
	    cmdline_subst(tstop, ip, stop, sizeof(stop)) < 0) {
		settled(r, job);	/* nothing that could ever run */
		return 0;
	}
	for (i = 0; i < r->max_pending; i++)
		if (r->pend[i].used && r->pend[i].job == job &&
		    r->pend[i].phase == PH_STOP)
			return 0;	/* owed already */
	if ((pt = pend_free_slot(r)) == NULL) {
		r->st.refused++;
		return -1;
	}
	pend_put(pt, PH_STOP, job, due_ms, d, src, stop);
	return 0;
}

/* A start has ended: its stop may go when due. */
static void
release_stop(struct cmd_runner *r, uint64_t job)
{
	unsigned i;

	for (i = 0; i < r->max_pending; i++)
		if (r->pend[i].used && r->pend[i].job == job &&
		    r->pend[i].phase == PH_STOP)
			r->pend[i].wait_start = 0;
}

/* A start that never ran: its stop has nothing to undo. */
static void
drop_stop(struct cmd_runner *r, uint64_t job, const char *reason)
{
	unsigned i;

	for (i = 0; i < r->max_pending; i++) {
		struct cmd_pend *q = &r->pend[i];

		if (q->used && q->job == job && q->phase == PH_STOP) {
			log_pend(r, LOG_WARNING, q, "command-dropped",
			    "reason", reason);
			r->st.dropped++;
			q->used = 0;
			settled(r, job);	/* its start never ran */
		}
	}
}

/* Forget a queued command (and the stop of a start). */
static void
drop_pend(struct cmd_runner *r, struct cmd_pend *p, const char *reason)
{
	if (p->phase == PH_START)
		drop_stop(r, p->job, reason);
	log_pend(r, LOG_WARNING, p, "command-dropped", "reason", reason);
	r->st.dropped++;
	p->used = 0;
}

static void
child_fail(const char *what, int code)
{
	/* The daemon is single-threaded, so after fork() stdio and strerror
	 * are safe here; the message ends up in the captured output. */
	dprintf(2, "gatekeeperd: command not run: %s: %s\n", what,
	    strerror(errno));
	_exit(code);
}

/* The fork() path, for Command_User (posix_spawn cannot switch users):
 * the same setup as spawn_default(), then the user, then execve(). */
static void __attribute__((noreturn))
child(const struct cmd_runner *r, int out, const struct cmdline_exec *x)
{
	sigset_t none;
	int sig;

	setpgid(0, 0);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(r->devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		child_fail("stdio", 126);
	/* Everything is O_CLOEXEC already: a second line, where it exists. */
	(void)close_range(3, ~0U, 0);
	if (chdir("/") != 0)
		child_fail("chdir /", 126);
	/* Groups first: after setresuid() we may no longer change them. */
	if (setgroups((size_t)r->ngroups, r->groups) != 0)
		child_fail("setgroups", 126);
	if (setresgid(r->gid, r->gid, r->gid) != 0)
		child_fail("setgid", 126);
	if (setresuid(r->uid, r->uid, r->uid) != 0)
		child_fail("setuid", 126);
	execve(x->path, x->argv, x->envp);
	child_fail(x->path, 127);
	_exit(127);	/* not reached */
}

/* posix_spawn() (vfork-fast: its cost does not grow with the daemon's
 * memory, fork()'s does).  Returns 0 or an errno. */
static int
spawn_default(const struct cmd_runner *r, int out,
    const struct cmdline_exec *x, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	int e;

	sigfillset(&all);
	sigemptyset(&none);
	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		return e;
	if ((e = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return e;
	}
	/* Own process group: a time-limit kill reaches the whole pipeline,
	 * and a terminal's ^C aimed at a foreground daemon does not.
	 * Dispositions and mask survive execve(): the daemon ignores SIGPIPE
	 * and blocks what its signalfd reads; give the child defaults. */
	if ((e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)) == 0 &&
	    (e = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (e = posix_spawnattr_setsigdefault(&at, &all)) == 0 &&
	    (e = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, r->devnull, 0)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, out, 1)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, out, 2)) == 0 &&
	    /* Everything is O_CLOEXEC already: belt and braces. */
	    (e = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
	    (e = posix_spawn_file_actions_addchdir_np(&fa, "/")) == 0)
		e = posix_spawn(pid, x->path, &fa, &at, x->argv, x->envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return e;
}

static int
spawn(const struct cmd_runner *r, int out, const struct cmdline_exec *x,
    pid_t *pid)
{
	if (!r->switch_user)
		return spawn_default(r, out, x, pid);
	if ((*pid = fork()) < 0)
		return errno;
	if (*pid == 0)
		child(r, out, x);
	(void)setpgid(*pid, *pid);	/* as the child does: whoever is first */
	return 0;
}

static void
signal_group(struct cmd_proc *c, int sig, int64_t now)
{
	/* The group is the child's pid while the child is not reaped. */
	if (kill(-c->pid, sig) != 0)
		kill(c->pid, sig);
	c->signalled = sig;
	if (sig == SIGTERM)
		c->kill_ms = now + CMD_KILL_GRACE_MS;
}

/* Start p in slot c.  p is consumed either way. */
static void
run(struct cmd_runner *r, struct cmd_pend *p, struct cmd_proc *c,
    int64_t now)
{
	struct cmdline_exec x;
	int fds[2] = { -1, -1 }, e;
	pid_t pid = 0;

	cmdline_exec_init(&x, p->line);
	/* Only our end is non-blocking: a child writing into a full pipe
	 * must wait, not fail. */
	if (pipe2(fds, O_CLOEXEC) != 0)
		e = errno;
	else if ((fds[0] = fd_above2(fds[0])) < 0 ||
	    (fds[1] = fd_above2(fds[1])) < 0 ||
	    fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
		e = errno;
	else
		e = spawn(r, fds[1], &x, &pid);
	if (fds[1] >= 0)
		close(fds[1]);
	if (e != 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		r->st.errors++;
		log_pend(r, LOG_ERR, p, "command-error", "error", strerror(e));
		if (p->phase == PH_START)
			drop_stop(r, p->job, "start-failed");
		else
			settled(r, p->job);
		p->used = 0;
		return;
	}
	memset(c, 0, offsetof(struct cmd_proc, out));
	c->pid = pid;
	c->outfd = fds[0];
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);  /* CLOEXEC */
	c->phase = p->phase;
	c->job = p->job;
	c->src = p->src;
	memcpy(c->door, p->door, sizeof(c->door));
	c->started_ms = now;
	c->term_ms = now + CMD_TIME_LIMIT_MS;
	c->kill_ms = CMD_NONE;		/* set by SIGTERM */
	if (c->pidfd < 0 && r->next_reap_ms > now + CMD_REAP_POLL_MS)
		r->next_reap_ms = now + CMD_REAP_POLL_MS;
	r->st.spawned++;
	p->used = 0;
	log_proc(r, LOG_INFO, c, "command", NULL, NULL);
	if (c->phase == PH_STOP)
		settled(r, c->job);
}

/* Read what the child wrote, at most CMD_READS_PER_POLL times. */
static void
read_output(struct cmd_runner *r, struct cmd_proc *c)
{
	static char scratch[CMD_DISCARD_CHUNK];
	ssize_t n;
	int i;

	for (i = 0; i < CMD_READS_PER_POLL && c->outfd >= 0; i++) {
		size_t room = sizeof(c->out) - c->outlen;

		/* Past the limit, keep draining so the child does not block
		 * on a full pipe; only count. */
		n = read(c->outfd, room ? c->out + c->outlen : scratch,
		    room ? room : sizeof(scratch));
		if (n > 0) {
			c->outbytes += (uint64_t)n;
			if (room)
				c->outlen += (size_t)n;
			else
				r->st.output_dropped += (uint64_t)n;
		} else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			return;
		else {
			close(c->outfd);	/* EOF, or a read error */
			c->outfd = -1;
		}
	}
}

static void
log_exit(struct cmd_runner *r, const struct cmd_proc *c, int status,
    int64_t now)
{
	char line[CMD_LOG_LINE_MAX], out[CMD_OUTPUT_MAX + 1], sig[16];
	const char *abbrev;
	size_t i, n = c->outlen;
	int prio = LOG_WARNING;
	struct lf l;

	log_head(&l, line, sizeof(line), "command-exit", c->door, &c->src,
	    c->phase);
	lf_i64(&l, "pid", c->pid);
	if (status == -1)
		lf_str(&l, "status", "unknown");	/* reaped elsewhere */
	else if (WIFEXITED(status)) {
		lf_i64(&l, "status", WEXITSTATUS(status));
		if (WEXITSTATUS(status) == 0 && !c->timed_out)
			prio = LOG_INFO;
	} else if (WIFSIGNALED(status)) {
		abbrev = sigabbrev_np(WTERMSIG(status));
		if (abbrev == NULL) {
			snprintf(sig, sizeof(sig), "%d", WTERMSIG(status));
			abbrev = sig;
		}
		lf_str(&l, "signal", abbrev);
	}
	if (c->timed_out)
		lf_str(&l, "killed", "time-limit");
	lf_i64(&l, "duration_ms", now - c->started_ms);
	/* Trailing newlines end the output, they are not content.  NUL
	 * cannot travel in a log line: shown as '?'. */
	while (n > 0 && c->out[n - 1] == '\n')
		n--;
	for (i = 0; i < n; i++)
		out[i] = c->out[i] ? c->out[i] : '?';
	out[n] = '\0';
	lf_str(&l, "output", out);
	if (c->outbytes > c->outlen)
		lf_u64(&l, "output_dropped", c->outbytes - c->outlen);
	r->log(r->log_ctx, prio, line);
}

/* The child is gone: collect the rest of its output, log, free the slot. */
static void
finish(struct cmd_runner *r, struct cmd_proc *c, int status, int64_t now)
{
	read_output(r, c);	/* what it wrote before exiting */
	if (c->outfd >= 0)	/* a leftover grandchild may hold it */
		close(c->outfd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	log_exit(r, c, status, now);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    !c->timed_out)
		r->st.ok++;
	else
		r->st.failed++;
	if (c->phase == PH_START)
		release_stop(r, c->job);
	c->pid = 0;
	c->outfd = c->pidfd = -1;
}

static void
reap(struct cmd_runner *r, struct cmd_proc *c, int64_t now)
{
	int status;
	pid_t w;

	do
		w = waitpid(c->pid, &status, WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w == 0)
		return;
	/* ECHILD: someone set SIGCHLD to SIG_IGN or reaped it for us. */
	finish(r, c, w < 0 ? -1 : status, now);
}

static void
reap_all(struct cmd_runner *r, int64_t now)
{
	unsigned i;

	for (i = 0; i < r->max_running; i++)
		if (r->proc[i].pid)
			reap(r, &r->proc[i], now);
}

void
cmd_on_sigchld(struct cmd_runner *r, int64_t now_ms)
{
	reap_all(r, now_ms);
}

static struct cmd_proc *
proc_free_slot(struct cmd_runner *r)
{
	unsigned i;

	for (i = 0; i < r->max_running; i++)
		if (r->proc[i].pid == 0)
			return &r->proc[i];
	return NULL;
}

/* The earliest due command that may run, in knock order. */
static struct cmd_pend *
next_due(struct cmd_runner *r, int64_t now)
{
	struct cmd_pend *best = NULL;
	unsigned i;

	for (i = 0; i < r->max_pending; i++) {
		struct cmd_pend *p = &r->pend[i];

		if (!p->used || p->wait_start || p->due_ms > now)
			continue;
		if (best == NULL || p->due_ms < best->due_ms ||
		    (p->due_ms == best->due_ms && p->job < best->job))
			best = p;
	}
	return best;
}

void
cmd_tick(struct cmd_runner *r, int64_t now_ms)
{
	struct cmd_proc *c;
	struct cmd_pend *p;
	unsigned i;
	int nopidfd = 0;

	if (now_ms >= r->next_reap_ms) {
		for (i = 0; i < r->max_running; i++)
			if (r->proc[i].pid && r->proc[i].pidfd < 0)
				reap(r, &r->proc[i], now_ms);
	}
	for (i = 0; i < r->max_running; i++) {
		c = &r->proc[i];
		if (c->pid == 0)
			continue;
		nopidfd |= c->pidfd < 0;
		if (now_ms >= c->term_ms && c->signalled == 0) {
			c->timed_out = 1;
			r->st.timed_out++;
			signal_group(c, SIGTERM, now_ms);
			log_proc(r, LOG_WARNING, c, "command-kill", "signal",
			    "TERM");
		} else if (now_ms >= c->kill_ms && c->signalled == SIGTERM) {
			signal_group(c, SIGKILL, now_ms);
			log_proc(r, LOG_WARNING, c, "command-kill", "signal",
			    "KILL");
		}
	}
	r->next_reap_ms = nopidfd ? now_ms + CMD_REAP_POLL_MS : CMD_NONE;
	/* run() lowers next_reap_ms for a child without a pidfd. */
	while ((c = proc_free_slot(r)) != NULL &&
	    (p = next_due(r, now_ms)) != NULL)
		run(r, p, c, now_ms);
}

int64_t
cmd_next_deadline(const struct cmd_runner *r)
{
	int64_t next = r->next_reap_ms;
	int room = 0;
	unsigned i;

	for (i = 0; i < r->max_running; i++) {
		const struct cmd_proc *c = &r->proc[i];

		if (c->pid == 0) {
			room = 1;
			continue;
		}
		if (c->signalled == 0 && c->term_ms < next)
			next = c->term_ms;
		else if (c->signalled == SIGTERM && c->kill_ms < next)
			next = c->kill_ms;
	}
	/* With every slot busy, the next exit (a pidfd) is what matters. */
	for (i = 0; room && i < r->max_pending; i++) {
		const struct cmd_pend *p = &r->pend[i];

		if (p->used && !p->wait_start && p->due_ms < next)
			next = p->due_ms;
	}
	return next;
}

unsigned
cmd_pollfds_max(const struct cmd_runner *r)
{
	return 2 * r->max_running;
}

unsigned
cmd_pollfds(const struct cmd_runner *r, struct pollfd *out, unsigned max)
{
	unsigned i, n = 0;

	for (i = 0; i < r->max_running; i++) {
		const struct cmd_proc *c = &r->proc[i];

		if (c->pid == 0)
			continue;
		if (c->outfd >= 0 && n < max) {
			out[n].fd = c->outfd;
			out[n].events = POLLIN;
			out[n++].revents = 0;
		}
		if (c->pidfd >= 0 && n < max) {
			out[n].fd = c->pidfd;
			out[n].events = POLLIN;
			out[n++].revents = 0;
		}
	}
	return n;
}

void
cmd_on_poll(struct cmd_runner *r, const struct pollfd *fds, unsigned n,
    int64_t now_ms)
{
	unsigned i, j;

	for (i = 0; i < n; i++) {
		if (fds[i].revents == 0 || fds[i].fd < 0)
			continue;
		/* Match by fd: finish() may have closed a later entry's fd,
		 * which then matches nothing. */
		for (j = 0; j < r->max_running; j++) {
			struct cmd_proc *c = &r->proc[j];

			if (c->pid == 0)
				continue;
			if (c->outfd == fds[i].fd) {
				read_output(r, c);
				break;
			}
			if (c->pidfd == fds[i].fd) {
				reap(r, c, now_ms);
				break;
			}
		}
	}
}

static unsigned
proc_count(const struct cmd_runner *r)
{
	unsigned i, n = 0;

	for (i = 0; i < r->max_running; i++)
		n += r->proc[i].pid != 0;
	return n;
}

static void
signal_all(struct cmd_runner *r, int sig, int64_t now)
{
	unsigned i;

	for (i = 0; i < r->max_running; i++)
		if (r->proc[i].pid && r->proc[i].signalled != SIGKILL) {
			signal_group(&r->proc[i], sig, now);
			log_proc(r, LOG_WARNING, &r->proc[i], "command-kill",
			    "signal", sig == SIGKILL ? "KILL" : "TERM");
		}
}

void
cmd_shutdown(struct cmd_runner *r, int64_t now_ms)
{
	char line[LOGFMT_LINE_MAX];
	int64_t t, end = now_ms + CMD_SHUTDOWN_MS, next, t0 = clock_ms();
	unsigned i, n, stops = 0;
	int stage = 0;		/* 0 waiting, 1 TERM sent, 2 KILL sent */
	struct lf l;

	/* Starts that never ran: dropping them (and their stops) keeps
	 * shutdown short and opens nothing on the way out. */
	for (i = 0; i < r->max_pending; i++)
		if (r->pend[i].used && r->pend[i].phase == PH_START)
			drop_pend(r, &r->pend[i], "shutdown");
	/* Every stop still owed runs now (knockd loses them). */
	for (i = 0; i < r->max_pending; i++)
		if (r->pend[i].used) {
			r->pend[i].due_ms = now_ms;
			stops++;
		}
	if (stops || proc_count(r)) {
		lf_init(&l, line, sizeof(line));
		lf_str(&l, "event", "command-shutdown");
		lf_u64(&l, "running", proc_count(r));
		lf_u64(&l, "stops", stops);
		r->log(r->log_ctx, LOG_NOTICE, line);
	}
	/* Time goes on in the caller's base: now_ms plus what elapses here.
	 * A stop still waiting for its (hung) start runs once the signals
	 * below have ended that start. */
	for (t = now_ms;; t = now_ms + clock_ms() - t0) {
		if (t >= end && stage == 2)
			break;
		if (t >= end) {
			signal_all(r, stage == 0 ? SIGTERM : SIGKILL, t);
			stage++;
			end = t + CMD_SHUTDOWN_KILL_MS;
		}
		cmd_tick(r, t);
		if (proc_count(r) == 0 && pend_count(r) == 0)
			return;
		n = cmd_pollfds(r, r->pfd, cmd_pollfds_max(r));
		next = cmd_next_deadline(r);
		if (next > end)
			next = end;
		if (next > t + CMD_REAP_POLL_MS)
			next = t + CMD_REAP_POLL_MS;
		if (poll(r->pfd, n, next > t ? (int)(next - t) : 0) > 0)
			cmd_on_poll(r, r->pfd, n, now_ms + clock_ms() - t0);
	}
	/* Out of time: what is left is dropped or abandoned (unkillable, or
	 * a stop that started late; systemd's cgroup ends those). */
	for (i = 0; i < r->max_pending; i++)
		if (r->pend[i].used)
			drop_pend(r, &r->pend[i], "shutdown");
	for (i = 0; i < r->max_running; i++)
		if (r->proc[i].pid) {
			log_proc(r, LOG_ERR, &r->proc[i], "command-abandoned",
			    NULL, NULL);
			r->st.failed++;
		}
}

const struct cmd_stats *
cmd_stats(struct cmd_runner *r)
{
	r->st.running = proc_count(r);
	r->st.pending = pend_count(r);
	return &r->st;
}
