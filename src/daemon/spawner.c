/* spawner: the command helper process (I/O).  See spawner.h.
 *
 * Messages travel over a SOCK_SEQPACKET pair, one per message, as text:
 *
 *   daemon -> helper
 *     S JOB DOOR DIGEST ADDR MS   run DOOR's start for ADDR now, its stop
 *                                 MS ms from now
 *     T JOB DOOR DIGEST ADDR MS   only the stop, MS ms from now (owed
 *                                 from before the helper started)
 *     R                           re-read the configuration file
 *     Q                           run pending stops now and exit
 *   helper -> daemon
 *     L PRIO LINE                 a log line
 *     X JOB                       JOB's stop started, or is never needed
 *
 * JOB and DIGEST are 16 hex digits.  End of file means Q to the helper and
 * "the helper died" to the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "conffile.h"
#include "log.h"
#include "logfmt.h"
#include "spawner.h"

#define SP_MSG_MAX	(CMD_LOG_LINE_MAX + 64)
#define SP_RUNNING	8	/* commands at once */
#define SP_PENDING	(2 * SP_OWED)	/* queued starts and scheduled stops */
#define SP_RETRY_MS	1000	/* between restart attempts */
#define SP_STABLE_MS	10000	/* a helper that lived this long was fine */
#define SP_BACKOFF_MAX	30000	/* a crashing helper: restarts slow to this */
#define SP_DONE_MAX	4096	/* jobs read back from the done file */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the helper ------------------------------------------------------ */

static struct {
	int fd;
	int gone;		/* the daemon went away */
	const char *path;
	struct config *cfg;
	char done_path[CFG_PATH_MAX + sizeof(SP_DONE_SUFFIX)];
	struct cmd_runner *r;
} H;

static void
done_path_of(const struct config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", cfg->opt.state_file, SP_DONE_SUFFIX);
}

/* A stop is settled: tell the daemon, or, with the daemon gone, note it
 * in the done file for the next one. */
static void
helper_done(void *ctx, uint64_t job)
{
	char m[32];
	int n, f;

	(void)ctx;
	n = snprintf(m, sizeof(m), "X %016" PRIx64, job);
	if (!H.gone && send(H.fd, m, (size_t)n, MSG_NOSIGNAL) == n)
		return;
	H.gone = 1;
	f = open(H.done_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (f < 0) {
		log_msg(LOG_ERR, "command-error", "%s: %s: stop of job "
		    "%016" PRIx64 " may run again at the next start",
		    H.done_path, strerror(errno), job);
		return;
	}
	dprintf(f, "%016" PRIx64 "\n", job);
	(void)fsync(f);
	close(f);
}

static void
helper_log(void *ctx, int prio, const char *line)
{
	(void)ctx;
	log_line(prio, line);
}

/* "S|T JOB DOOR DIGEST ADDR MS": check it against our own configuration. */
static void
helper_job(char *msg)
{
	unsigned long long job, dig;
	char door[CFG_NAME_MAX], ip[ADDR_STRLEN];
	long long ms;
	struct addr a;
	int d, start = msg[0] == 'S', rc;
	int64_t now = mono_ms();

	if (sscanf(msg + 2, "%16llx %63s %16llx %45s %lld", &job, door, &dig,
	    ip, &ms) != 5 || ms < 0 || addr_parse(ip, &a) != 0) {
		log_msg(LOG_WARNING, "command-refused", "helper: a request it "
		    "cannot read");
		return;
	}
	d = config_door_find(H.cfg, door);
	if (d < 0 || config_door_cmd_digest(&H.cfg->door[d]) != dig) {
		log_msg(LOG_ERR, "command-refused", "door %s, %s: %s", door, ip,
		    d < 0 ? "the helper's configuration has no such door" :
		    "the door's commands in the file are not the ones the "
		    "daemon knows (the file changed since it read it); "
		    "nothing runs for this knock");
		helper_done(NULL, job);
		return;
	}
	rc = start ? cmd_start(H.r, &H.cfg->door[d], &a, job, now, now + ms) :
	    cmd_stop(H.r, &H.cfg->door[d], &a, job, now + ms);
	if (rc != 0)
		helper_done(NULL, job);		/* nothing will run */
}

static void
helper_reload(void)
{
	struct config *next = malloc(sizeof(*next));
	struct cfg_errors *errs = malloc(sizeof(*errs));

	if (next != NULL && errs != NULL &&
	    conffile_load(H.path, next, errs) == 0) {
		free(H.cfg);
		H.cfg = next;
		done_path_of(H.cfg, H.done_path, sizeof(H.done_path));
		next = NULL;
	}
	free(next);
	free(errs);	/* the daemon logged the errors already */
}

/* Returns 1 to go on, 0 to shut down. */
static int
helper_read(void)
{
	char msg[SP_MSG_MAX + 1];
	ssize_t n;

	for (;;) {
		n = recv(H.fd, msg, SP_MSG_MAX, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0) {
			H.gone = 1;	/* the daemon is gone */
			return 0;
		}
		msg[n] = '\0';
		if ((msg[0] == 'S' || msg[0] == 'T') && msg[1] == ' ')
			helper_job(msg);
		else if (msg[0] == 'R')
			helper_reload();
		else if (msg[0] == 'Q')
			return 0;
	}
}

/* Every signal the unit may send leaves the helper alone: systemd signals
 * the whole unit on stop (`systemctl kill` does by default), and the
 * helper ends when the daemon says so or goes away.  Faults still end it,
 * and the daemon then starts another. */
static void
helper_signals(void)
{
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		switch (sig) {
		case SIGKILL: case SIGSTOP: case SIGCONT: case SIGCHLD:
		case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL:
		case SIGABRT: case SIGTRAP: case SIGSYS:
			break;
		default:
			signal(sig, SIG_IGN);
		}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void __attribute__((noreturn))
helper_main(int fd, const char *path, const struct config *cfg0)
{
	struct pollfd *pfd;
	char err[256];
	unsigned n;
	int64_t now, next;

	helper_signals();
	log_to_fd(fd);
	prctl(PR_SET_NAME, "gatekeeperd-cmd", 0, 0, 0);
	H.fd = fd;
	H.path = path;
	if ((H.cfg = malloc(sizeof(*H.cfg))) == NULL)
		_exit(1);
	*H.cfg = *cfg0;
	/* The commands come from the file itself: a helper started later
	 * reads what the file says now, and refuses what the daemon asks if
	 * that is no longer the same (see helper_job). */
	helper_reload();
	done_path_of(H.cfg, H.done_path, sizeof(H.done_path));
	H.r = cmd_new(SP_RUNNING, SP_PENDING, H.cfg->opt.command_user,
	    helper_log, NULL, err, sizeof(err));
	pfd = calloc(1 + (H.r ? cmd_pollfds_max(H.r) : 0), sizeof(*pfd));
	if (H.r == NULL || pfd == NULL) {
		log_msg(LOG_ERR, "error", "command helper: %s", err);
		_exit(1);
	}
	cmd_on_done(H.r, helper_done, NULL);
	for (;;) {
		now = mono_ms();
		cmd_tick(H.r, now);
		next = cmd_next_deadline(H.r);
		pfd[0] = (struct pollfd){ fd, POLLIN, 0 };
		n = cmd_pollfds(H.r, pfd + 1, cmd_pollfds_max(H.r));
		if (poll(pfd, 1 + n, next == CMD_NONE ? -1 :
		    next <= now ? 0 : (int)(next - now > 60000 ? 60000 :
		    next - now)) < 0 && errno != EINTR)
			break;
		cmd_on_poll(H.r, pfd + 1, n, mono_ms());
		if (pfd[0].revents && !helper_read())
			break;
	}
	cmd_shutdown(H.r, mono_ms());
	cmd_free(H.r);
	_exit(0);
}

/* ---- the daemon's side ------------------------------------------------ */

static int
fork_helper(struct spawner *sp, const struct config *cfg, char *err,
    size_t errlen)
{
	int pair[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
		snprintf(err, errlen, "command helper: socketpair: %s",
		    strerror(errno));
		return -1;
	}
	switch (pid = fork()) {
	case -1:
		snprintf(err, errlen, "command helper: fork: %s",
		    strerror(errno));
		close(pair[0]);
		close(pair[1]);
		return -1;
	case 0:
		/* Nothing of the daemon's but the pair and stdio: a helper
		 * started later must not keep its queues bound. */
		close(pair[0]);
		if (pair[1] != 3 && (dup2(pair[1], 3) < 0 || close(pair[1])))
			_exit(1);
		(void)syscall(SYS_close_range, 4, ~0U, 0);
		helper_main(3, sp->conf_path, cfg);
	}
	close(pair[1]);
	sp->fd = pair[0];
	sp->pid = pid;
	sp->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	sp->child = 1;
	return 0;
}

static int
send_msg(struct spawner *sp, const char *msg)
{
	if (sp->fd < 0 || send(sp->fd, msg, strlen(msg),
	    MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (sp->lost++ == 0 || sp->down_ms == 0)
			log_msg(LOG_ERR, "command-helper-unreachable", "%s",
			    sp->fd < 0 ? "no helper running" : strerror(errno));
		return -1;
	}
	sp->sent++;
	return 0;
}

static int
send_job(struct spawner *sp, char kind, const struct state_stop *s,
    int64_t in_ms)
{
	char msg[160], ip[ADDR_STRLEN];

	snprintf(msg, sizeof(msg), "%c %016" PRIx64 " %s %016" PRIx64 " %s "
	    "%lld", kind, s->job, s->door, s->digest,
	    addr_format(&s->src, ip, sizeof(ip)),
	    (long long)(in_ms > 0 ? in_ms : 0));
	return send_msg(sp, msg);
}

static struct sp_owed *
owed_slot(struct spawner *sp)
{
	unsigned i;

	for (i = 0; i < SP_OWED; i++)
		if (!sp->owed[i].used)
			return &sp->owed[i];
	return NULL;
}

static void
owed_add(struct spawner *sp, const struct state_stop *s)
{
	struct sp_owed *o = owed_slot(sp);

	if (o == NULL)
		return;
	o->used = 1;
	o->s = *s;
	sp->nowed++;
	sp->changed = 1;
}

static void
owed_settle(struct spawner *sp, uint64_t job)
{
	unsigned i;

	for (i = 0; i < SP_OWED; i++)
		if (sp->owed[i].used && sp->owed[i].s.job == job) {
			sp->owed[i].used = 0;
			sp->nowed--;
			sp->changed = 1;
		}
}

int
spawner_start(struct spawner *sp, const char *conf_path,
    const struct config *cfg, uint64_t job_seed, char *err, size_t errlen)
{
	memset(sp, 0, sizeof(*sp));
	sp->fd = sp->pidfd = -1;
	sp->pid = -1;
	sp->next_job = job_seed | 1;
	snprintf(sp->conf_path, sizeof(sp->conf_path), "%s", conf_path);
	sp->cfg = cfg;
	done_path_of(cfg, sp->done_path, sizeof(sp->done_path));
	/* Forked later by the daemon, a helper has the daemon's privileges:
	 * the same as this one's only if the daemon keeps its user, or the
	 * commands run as the user it becomes. */
	sp->can_restart = cfg->opt.user[0] == '\0' ||
	    strcmp(cfg->opt.user, cfg->opt.command_user) == 0;
	return fork_helper(sp, cfg, err, errlen);
}

int
spawner_run(struct spawner *sp, const struct cfg_door *d,
    const struct addr *src, int64_t now_ms)
{
	int v6 = src->family == AF_INET6;
	struct state_stop s;
	int owes = (v6 ? d->stop_cmd6 : d->stop_cmd)[0] != '\0';

	if (!(v6 ? d->start_cmd6 : d->start_cmd)[0] && !owes)
		return 0;
	if (owes && sp->nowed == SP_OWED) {
		log_msg(LOG_WARNING, "command-refused", "door %s: %u stop "
		    "commands owed already; nothing runs for this knock",
		    d->name, SP_OWED);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.job = sp->next_job++;
	s.digest = config_door_cmd_digest(d);
	snprintf(s.door, sizeof(s.door), "%s", d->name);
	s.src = *src;
	s.due_ms = now_ms + (int64_t)d->cmd_timeout * 1000;
	/* Owed first: a stop runs, even if this start goes astray. */
	if (owes)
		owed_add(sp, &s);
	return send_job(sp, 'S', &s, s.due_ms - now_ms);
}

void
spawner_reload(struct spawner *sp, const struct config *cfg)
{
	sp->cfg = cfg;
	done_path_of(cfg, sp->done_path, sizeof(sp->done_path));
	send_msg(sp, "R");
}

unsigned
spawner_pollfds(const struct spawner *sp, struct pollfd *out)
{
	unsigned n = 0;

	if (sp->fd >= 0)
		out[n++] = (struct pollfd){ sp->fd, POLLIN, 0 };
	if (sp->pidfd >= 0)
		out[n++] = (struct pollfd){ sp->pidfd, POLLIN, 0 };
	return n;
}

/* One message of the helper's. */
static void
on_message(struct spawner *sp, char *msg)
{
	unsigned long long job;
	char *end;
	long prio;

	if (msg[0] == 'L' && msg[1] != '\0') {
		prio = strtol(msg + 1, &end, 10);
		if (*end == ' ' && prio >= 0 && prio <= LOG_DEBUG)
			log_line((int)prio, end + 1);
	} else if (msg[0] == 'X' && sscanf(msg + 1, " %16llx", &job) == 1)
		owed_settle(sp, job);
}

/* Read all that waits; 0 at end of file (the helper is gone). */
static int
drain(struct spawner *sp)
{
	char msg[SP_MSG_MAX + 1];
	ssize_t n;

	for (;;) {
		n = recv(sp->fd, msg, SP_MSG_MAX, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;
		msg[n] = '\0';
		on_message(sp, msg);
	}
}

static void
close_helper(struct spawner *sp)
{
	int status = 0;
	char how[64] = "unknown";

	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->pidfd >= 0)
		close(sp->pidfd);
	sp->fd = sp->pidfd = -1;
	if (sp->child && waitpid(sp->pid, &status, WNOHANG) == sp->pid) {
		if (WIFSIGNALED(status))
			snprintf(how, sizeof(how), "killed by signal %d",
			    WTERMSIG(status));
		else if (WIFEXITED(status))
			snprintf(how, sizeof(how), "exit status %d",
			    WEXITSTATUS(status));
	}
	log_msg(LOG_ERR, "command-helper-died", "pid %ld, %s; %u stop "
	    "commands owed", (long)sp->pid, how, sp->nowed);
	sp->pid = -1;
}

/* A new helper, handed every owed stop. */
static void
restart(struct spawner *sp, const struct config *cfg, int64_t now_ms)
{
	char err[256];
	unsigned i;

	if (!sp->can_restart) {
		log_msg(LOG_CRIT, "command-helper-lost", "the daemon runs as "
		    "User and cannot start a helper with the first one's "
		    "privileges: exiting, for systemd to start it anew (the "
		    "gate stays closed meanwhile)");
		sp->fatal = 1;
		return;
	}
	if (fork_helper(sp, cfg, err, sizeof(err)) != 0) {
		if (sp->retry_ms == 0)
			log_msg(LOG_ERR, "command-helper-down", "%s "
			    "(retrying every %d ms)", err, SP_RETRY_MS);
		sp->retry_ms = now_ms + SP_RETRY_MS;
		return;
	}
	sp->retry_ms = 0;
	sp->started_ms = now_ms;
	sp->restarts++;
	for (i = 0; i < SP_OWED; i++)
		if (sp->owed[i].used)
			send_job(sp, 'T', &sp->owed[i].s,
			    sp->owed[i].s.due_ms - now_ms);
	log_msg(LOG_WARNING, "command-helper-restarted", "pid %ld, %u owed "
	    "stop commands handed over", (long)sp->pid, sp->nowed);
	sp->down_ms = 0;
}

void
spawner_on_poll(struct spawner *sp, const struct pollfd *pfd, unsigned n,
    int64_t now_ms)
{
	unsigned i;
	int dead = 0;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (pfd[i].fd == sp->fd && sp->fd >= 0 && !drain(sp))
			dead = 1;
		if (pfd[i].fd == sp->pidfd && sp->pidfd >= 0)
			dead = 1;
	}
	if (!dead)
		return;
	if (sp->fd >= 0)
		(void)drain(sp);	/* its last words */
	close_helper(sp);
	sp->down_ms = now_ms;
	/* One that dies young dies again: no fork loop on the packet path. */
	if (now_ms - sp->started_ms >= SP_STABLE_MS)
		sp->backoff_ms = 0;
	else
		sp->backoff_ms = sp->backoff_ms == 0 ? SP_RETRY_MS :
		    sp->backoff_ms * 2 > SP_BACKOFF_MAX ? SP_BACKOFF_MAX :
		    sp->backoff_ms * 2;
	if (sp->backoff_ms == 0) {
		restart(sp, sp->cfg, now_ms);
		return;
	}
	sp->retry_ms = now_ms + sp->backoff_ms;
	log_msg(LOG_ERR, "command-helper-down", "it lived %lld ms: the next "
	    "one starts in %lld ms", (long long)(now_ms - sp->started_ms),
	    (long long)sp->backoff_ms);
}

void
spawner_tick(struct spawner *sp, int64_t now_ms)
{
	if (sp->retry_ms != 0 && now_ms >= sp->retry_ms)
		restart(sp, sp->cfg, now_ms);
}

int64_t
spawner_next_deadline(const struct spawner *sp)
{
	return sp->retry_ms != 0 ? sp->retry_ms : INT64_MAX;
}

void
spawner_stop(struct spawner *sp, int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;
	struct pollfd pfd;
	int status;

	if (sp->pid <= 0 || sp->fd < 0)
		return;
	send_msg(sp, "Q");
	shutdown(sp->fd, SHUT_WR);
	pfd = (struct pollfd){ sp->fd, POLLIN, 0 };
	/* Its lines and reports until it closes its end. */
	while (mono_ms() < end && poll(&pfd, 1, (int)(end - mono_ms())) > 0 &&
	    drain(sp))
		;
	if (mono_ms() >= end) {
		kill(sp->pid, SIGKILL);
		log_msg(LOG_WARNING, "command-helper-killed", "did not finish "
		    "in %d ms", timeout_ms);
	}
	if (sp->child)
		waitpid(sp->pid, &status, 0);
	close(sp->fd);
	if (sp->pidfd >= 0)
		close(sp->pidfd);
	sp->fd = sp->pidfd = -1;
	sp->pid = -1;
}

unsigned
spawner_owed(const struct spawner *sp, struct state_stop *out, unsigned max)
{
	unsigned i, n = 0;

	for (i = 0; i < SP_OWED && n < max; i++)
		if (sp->owed[i].used)
			out[n++] = sp->owed[i].s;
	return n;
}

int
spawner_restore(struct spawner *sp, const struct state_stop *in, unsigned n,
    int64_t now_ms)
{
	static uint64_t done[SP_DONE_MAX];
	unsigned ndone = 0, i, k;
	unsigned long long job;
	int found = 0;
	FILE *f;

	if ((f = fopen(sp->done_path, "re")) != NULL) {
		found = 1;
		while (ndone < SP_DONE_MAX && fscanf(f, "%16llx", &job) == 1)
			done[ndone++] = job;
		fclose(f);
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < ndone; k++)
			if (done[k] == in[i].job)
				break;
		if (k < ndone) {
			log_msg(LOG_NOTICE, "command-settled", "door %s: the "
			    "last helper ran the owed stop of job %016" PRIx64,
			    in[i].door, in[i].job);
			continue;
		}
		owed_add(sp, &in[i]);
		send_job(sp, 'T', &in[i], in[i].due_ms - now_ms);
	}
	return found;
}

void
spawner_forget_done(struct spawner *sp)
{
	(void)unlink(sp->done_path);
}
