/* spawner: the command helper process (I/O).  See spawner.h.
 *
 * Requests travel over a SOCK_SEQPACKET pair, one per message:
 *   "S door address"   run door's commands for address
 *   "R"                re-read the configuration file
 *   "Q"                run pending stop commands and exit
 * End of file means the same as Q. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "conffile.h"
#include "log.h"
#include "spawner.h"

#define SP_MSG_MAX	(1 + 1 + CFG_NAME_MAX + 1 + ADDR_STRLEN + 1)
#define SP_RUNNING	8	/* commands at once */
#define SP_PENDING	256	/* queued starts and scheduled stops */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
helper_log(void *ctx, int prio, const char *line)
{
	(void)ctx;
	log_line(prio, line);
}

/* "S door address": validate both against our own configuration. */
static void
helper_start(struct cmd_runner *r, const struct config *cfg, char *msg)
{
	char *door = msg + 2, *ip = strchr(door, ' ');
	struct addr a;
	int d;

	if (ip == NULL)
		return;
	*ip++ = '\0';
	if ((d = config_door_find(cfg, door)) < 0 || addr_parse(ip, &a) != 0) {
		log_msg(LOG_WARNING, "command-refused", "helper: unknown door "
		    "or bad address in a request");
		return;
	}
	cmd_start(r, &cfg->door[d], &a, mono_ms());
}

static struct config *
helper_reload(const char *path, struct config *cfg)
{
	struct config *next = malloc(sizeof(*next));
	struct cfg_errors *errs = malloc(sizeof(*errs));

	if (next != NULL && errs != NULL &&
	    conffile_load(path, next, errs) == 0) {
		free(errs);
		free(cfg);
		return next;
	}
	free(next);
	free(errs);
	return cfg;	/* the daemon logged the errors already */
}

/* Returns 1 to go on, 0 to shut down. */
static int
helper_read(int fd, struct cmd_runner *r, struct config **cfg,
    const char *path)
{
	char msg[SP_MSG_MAX + 1];
	ssize_t n;

	for (;;) {
		n = recv(fd, msg, SP_MSG_MAX, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;	/* the daemon is gone */
		msg[n] = '\0';
		if (msg[0] == 'S' && msg[1] == ' ')
			helper_start(r, *cfg, msg);
		else if (msg[0] == 'R')
			*cfg = helper_reload(path, *cfg);
		else if (msg[0] == 'Q')
			return 0;
	}
}

static void __attribute__((noreturn))
helper_main(int fd, const char *path, const struct config *cfg0)
{
	struct config *cfg = malloc(sizeof(*cfg));
	struct cmd_runner *r;
	struct pollfd *pfd;
	char err[256];
	unsigned n;
	int64_t now, next;
	sigset_t none;

	/* systemd signals the whole unit on stop: wait for the daemon's Q. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "gatekeeperd-cmd", 0, 0, 0);
	if (cfg == NULL)
		_exit(1);
	*cfg = *cfg0;
	r = cmd_new(SP_RUNNING, SP_PENDING, cfg->opt.command_user, helper_log,
	    NULL, err, sizeof(err));
	pfd = calloc(1 + (r ? cmd_pollfds_max(r) : 0), sizeof(*pfd));
	if (r == NULL || pfd == NULL) {
		log_msg(LOG_ERR, "error", "command helper: %s", err);
		_exit(1);
	}
	for (;;) {
		now = mono_ms();
		cmd_tick(r, now);
		next = cmd_next_deadline(r);
		pfd[0] = (struct pollfd){ fd, POLLIN, 0 };
		n = cmd_pollfds(r, pfd + 1, cmd_pollfds_max(r));
		if (poll(pfd, 1 + n, next == CMD_NONE ? -1 :
		    next <= now ? 0 : (int)(next - now > 60000 ? 60000 :
		    next - now)) < 0 && errno != EINTR)
			break;
		cmd_on_poll(r, pfd + 1, n, mono_ms());
		if (pfd[0].revents && !helper_read(fd, r, &cfg, path))
			break;
	}
	cmd_shutdown(r, mono_ms());
	cmd_free(r);
	_exit(0);
}

int
spawner_start(struct spawner *sp, const char *conf_path,
    const struct config *cfg, char *err, size_t errlen)
{
	int pair[2];

	sp->fd = -1;
	sp->pid = -1;
	sp->sent = sp->lost = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
		snprintf(err, errlen, "command helper: socketpair: %s",
		    strerror(errno));
		return -1;
	}
	switch (sp->pid = fork()) {
	case -1:
		snprintf(err, errlen, "command helper: fork: %s",
		    strerror(errno));
		close(pair[0]);
		close(pair[1]);
		return -1;
	case 0:
		close(pair[0]);
		helper_main(pair[1], conf_path, cfg);
	}
	close(pair[1]);
	sp->fd = pair[0];
	return 0;
}

static int
send_msg(struct spawner *sp, const char *msg)
{
	if (sp->fd < 0 || send(sp->fd, msg, strlen(msg),
	    MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (sp->lost++ == 0)
			log_msg(LOG_ERR, "command-refused", "command helper "
			    "unreachable: %s", strerror(errno));
		return -1;
	}
	sp->sent++;
	return 0;
}

int
spawner_run(struct spawner *sp, const char *door, const struct addr *src)
{
	char msg[SP_MSG_MAX], ip[ADDR_STRLEN];

	snprintf(msg, sizeof(msg), "S %s %s", door,
	    addr_format(src, ip, sizeof(ip)));
	return send_msg(sp, msg);
}

void
spawner_reload(struct spawner *sp)
{
	send_msg(sp, "R");
}

/* The helper's end closes when it exits.  Watch the socket, not waitpid:
 * after daemon() the helper is no longer our child. */
void
spawner_stop(struct spawner *sp, int timeout_ms)
{
	struct pollfd pfd;
	char buf[16];
	int status;

	if (sp->pid <= 0 || sp->fd < 0)
		return;
	send_msg(sp, "Q");
	shutdown(sp->fd, SHUT_WR);
	pfd = (struct pollfd){ sp->fd, POLLIN, 0 };
	while (poll(&pfd, 1, timeout_ms) > 0 &&
	    recv(sp->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;	/* it sends nothing; anything is ignored */
	if (!(pfd.revents & (POLLIN | POLLHUP))) {
		kill(sp->pid, SIGKILL);
		log_msg(LOG_WARNING, "command-helper-killed", "did not finish "
		    "in %d ms", timeout_ms);
	}
	waitpid(sp->pid, &status, WNOHANG);
	close(sp->fd);
	sp->fd = -1;
	sp->pid = -1;
}
