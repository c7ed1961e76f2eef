/* gatekeeperd: options, wiring of the modules, and the event loop that
 * sleeps until the next packet, signal or deadline (I/O). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "conffile.h"
#include "log.h"
#include "logfmt.h"
#include "nft.h"
#include "nftwatch.h"
#include "queue.h"
#include "ratelimit.h"
#include "rules.h"
#include "verdict.h"

#define GK_VERSION		"0.1.0"
#define REPORT_EVERY_MS		10000	/* suppressed-line reports */
#define REINSTALL_RETRY_MS	1000	/* after a failed reinstall */

/* What one running configuration owns. */
struct running {
	struct config *cfg;
	struct knock_table *knocks;
	struct grant_table *grants;
	struct gk_state *state;
};

static struct {
	const char *conf_path;
	int foreground;
	struct running run;
	struct siphash_key key;
	struct ratelimit rl;
	struct queue *q;
	enum nft_backend backend;
	struct verdict v;
	int64_t next_report_ms;
	int64_t reinstall_ms;		/* retry a failed reinstall; 0: none */
	int watchfd;
	int stop;
} D;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: gatekeeperd [-fhnV] [-c file] [--print-rules]\n"
	    "  -c file        configuration (default " CFG_DEF_CONFIG ")\n"
	    "  -f             stay in the foreground, log to stderr\n"
	    "  -n             check the configuration and exit\n"
	    "  --print-rules  print the nftables ruleset and exit\n"
	    "  -V             print the version and exit\n");
}

/* Load path into a new config; on errors print them and return NULL. */
static struct config *
load(const char *path, int to_log)
{
	struct config *cfg = malloc(sizeof(*cfg));
	struct cfg_errors *err = malloc(sizeof(*err));
	unsigned i;

	if (cfg == NULL || err == NULL) {
		free(cfg);
		free(err);
		fprintf(stderr, "gatekeeperd: out of memory\n");
		return NULL;
	}
	if (conffile_load(path, cfg, err) != 0) {
		if (to_log)
			for (i = 0; i < err->n && i < CFG_MAX_ERRORS; i++)
				log_msg(LOG_ERR, "config-error", "%s",
				    err->msg[i]);
		else
			conffile_print_errors(stderr, err);
		free(cfg);
		cfg = NULL;
	}
	free(err);
	return cfg;
}

static int
print_rules(const struct config *cfg)
{
	int n = rules_format(cfg, NULL, 0);
	char *buf = malloc((size_t)n + 1);

	if (buf == NULL)
		return 1;
	rules_format(cfg, buf, (size_t)n + 1);
	fputs(buf, stdout);
	free(buf);
	return 0;
}

static void
running_free(struct running *r)
{
	knock_free(r->knocks);
	grant_free(r->grants);
	free(r->state);
	free(r->cfg);
	memset(r, 0, sizeof(*r));
}

/* Tables sized by cfg; 0 or -1. */
static int
running_new(struct running *r, struct config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->knocks = knock_new(cfg->opt.max_sources, cfg->ndoors, &D.key);
	r->grants = grant_new(cfg->opt.max_sources, &D.key);
	r->state = malloc(sizeof(*r->state));
	if (r->knocks == NULL || r->grants == NULL || r->state == NULL) {
		running_free(r);
		return -1;
	}
	verdict_init(r->state, cfg, r->knocks, r->grants);
	return 0;
}

static void
emit_knock_events(const struct verdict *v, int64_t now)
{
	const struct config *cfg = D.run.cfg;
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	unsigned i;

	for (i = 0; i < v->nev; i++) {
		if (!rl_allow(&D.rl, &v->pkt.src, now))
			continue;
		lf_init(&l, line, sizeof(line));
		logfmt_knock(&l, cfg, &v->pkt.src, &v->ev[i]);
		log_line(LOG_INFO, line);
	}
	/* Grants are rare and earned: never rate-limited. */
	for (i = 0; i < v->ngrants; i++) {
		const struct verdict_grant *g = &v->grant[i];

		lf_init(&l, line, sizeof(line));
		logfmt_grant(&l, cfg, &v->pkt.src, g->door,
		    g->expires_ms - now);
		log_line(LOG_NOTICE, line);
		if (g->evicted_one) {
			lf_init(&l, line, sizeof(line));
			logfmt_expire(&l, cfg, &g->evicted);
			lf_str(&l, "reason", "table-full");
			log_line(LOG_WARNING, line);
		}
	}
}

static int
on_packet(void *arg, const uint8_t *pkt, size_t len)
{
	struct verdict *v = &D.v;
	int64_t now = now_ms();
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	static const struct addr nowhere;

	(void)arg;
	verdict_decide(D.run.state, pkt, len, now, v);
	emit_knock_events(v, now);
	if (rl_allow(&D.rl, v->reason == VR_MALFORMED ? &nowhere :
	    &v->pkt.src, now)) {
		lf_init(&l, line, sizeof(line));
		logfmt_verdict(&l, D.run.cfg, v);
		log_line(LOG_INFO, line);
	}
	return v->accept;
}

static void
expire_grants(int64_t now)
{
	struct grant out[64];
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	unsigned i, n;

	do {
		n = grant_expire(D.run.grants, now, out, 64);
		for (i = 0; i < n; i++) {
			lf_init(&l, line, sizeof(line));
			logfmt_expire(&l, D.run.cfg, &out[i]);
			log_line(LOG_NOTICE, line);
		}
	} while (n == 64);
}

static void
report_suppressed(int64_t now)
{
	char line[LOGFMT_LINE_MAX];
	uint64_t n;
	struct lf l;

	if (now < D.next_report_ms)
		return;
	D.next_report_ms = now + REPORT_EVERY_MS;
	if ((n = rl_take_suppressed(&D.rl)) == 0)
		return;
	lf_init(&l, line, sizeof(line));
	lf_str(&l, "event", "log-suppressed");
	lf_u64(&l, "lines", n);
	log_line(LOG_WARNING, line);
}

/* Copy grants of doors that still exist (by name) into next. */
static void
carry_grants(const struct running *old, struct running *next, int64_t now)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	unsigned i;
	int d;

	for (i = 0; i < old->grants->cap; i++) {
		const struct grant *g = &old->grants->g[i];

		if (!g->used || g->expires_ms <= now)
			continue;
		d = config_door_find(next->cfg, old->cfg->door[g->door].name);
		if (d >= 0 && next->cfg->door[d].open_len > 0) {
			grant_add(next->grants, &g->src, (unsigned)d,
			    g->expires_ms, NULL);
			continue;
		}
		lf_init(&l, line, sizeof(line));
		logfmt_expire(&l, old->cfg, g);
		lf_str(&l, "reason", "door-removed");
		log_line(LOG_NOTICE, line);
	}
}

/* Re-read the configuration; any failure keeps everything as it was. */
static void
reload(void)
{
	struct running next;
	struct queue *nq = NULL;
	struct config *cfg;
	char err[512];

	log_msg(LOG_NOTICE, "reload", "reading %s", D.conf_path);
	if ((cfg = load(D.conf_path, 1)) == NULL) {
		log_msg(LOG_ERR, "reload-failed",
		    "configuration has errors; keeping the running one");
		return;
	}
	if (running_new(&next, cfg) != 0) {
		free(cfg);
		log_msg(LOG_ERR, "reload-failed", "out of memory");
		return;
	}
	if (cfg->opt.queue != D.run.cfg->opt.queue &&
	    queue_open(&nq, cfg->opt.queue, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "reload-failed", "%s", err);
		running_free(&next);
		return;
	}
	if (nft_install(cfg, D.backend, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "reload-failed", "%s", err);
		queue_close(nq);
		running_free(&next);
		return;
	}
	carry_grants(&D.run, &next, now_ms());
	next.state->st = D.run.state->st;	/* counters run on */
	running_free(&D.run);
	D.run = next;
	if (nq) {
		queue_close(D.q);
		D.q = nq;
	}
	log_msg(LOG_NOTICE, "reloaded", "%u doors, queue %u", cfg->ndoors,
	    cfg->opt.queue);
}

/* Put our table back after somebody else removed it or parts of it. */
static void
reinstall(const char *why)
{
	char err[512];

	if (nft_install(D.run.cfg, D.backend, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "reinstall-failed", "%s (retrying)", err);
		D.reinstall_ms = now_ms() + REINSTALL_RETRY_MS;
		return;
	}
	D.reinstall_ms = 0;
	log_msg(LOG_WARNING, "reinstalled", "table inet %s %s; put back",
	    NFT_TABLE, why);
}

static void
on_nft_event(void)
{
	char err[256];

	switch (nftwatch_read(D.watchfd)) {
	case NFTWATCH_QUIET:
		break;
	case NFTWATCH_DAMAGED:
		reinstall("was modified");
		break;
	case NFTWATCH_CHECK:
		if (nft_present(err, sizeof(err)) == 0)
			reinstall("was deleted");
		break;
	}
}

static int
signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void
on_signal(int fd)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_reopen();
			reload();
			break;
		case SIGUSR1:
			log_reopen();
			break;
		default:
			D.stop = (int)si.ssi_signo;
		}
	}
}

static int
poll_timeout(int64_t now)
{
	int64_t next = grant_next_deadline(D.run.grants);

	if (D.next_report_ms < next)
		next = D.next_report_ms;
	if (D.reinstall_ms && D.reinstall_ms < next)
		next = D.reinstall_ms;
	if (next <= now)
		return 0;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

static void
log_stop(void)
{
	const struct verdict_stats *st = &D.run.state->st;
	struct queue_kstats ks = { 0 };
	char line[LOGFMT_LINE_MAX];
	struct lf l;

	queue_kstats(D.run.cfg->opt.queue, &ks);
	lf_init(&l, line, sizeof(line));
	lf_str(&l, "event", "stop");
	lf_u64(&l, "packets", st->packets);
	lf_u64(&l, "accepted", st->accepted);
	lf_u64(&l, "dropped", st->dropped);
	lf_u64(&l, "grants", st->grants);
	lf_u64(&l, "knock_evictions", D.run.knocks->st.evicted);
	lf_u64(&l, "kernel_queue_dropped", ks.queue_dropped);
	lf_u64(&l, "kernel_user_dropped", ks.user_dropped);
	log_line(LOG_NOTICE, line);
}

static int
event_loop(int sigfd)
{
	struct pollfd pfd[3];
	char err[256];
	int64_t now;

	pfd[0].fd = queue_fd(D.q);
	pfd[1].fd = sigfd;
	pfd[2].fd = D.watchfd;
	pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
	while (!D.stop) {
		now = now_ms();
		expire_grants(now);
		report_suppressed(now);
		if (D.reinstall_ms && now >= D.reinstall_ms)
			reinstall("was missing");
		if (poll(pfd, 3, poll_timeout(now)) < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, "error", "poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[1].revents & POLLIN)
			on_signal(sigfd);
		if (pfd[2].revents & POLLIN)
			on_nft_event();
		if ((pfd[0].revents & POLLIN) &&
		    queue_process(D.q, on_packet, NULL, err, sizeof(err)) < 0) {
			log_msg(LOG_ERR, "error", "%s", err);
			return -1;
		}
		pfd[0].fd = queue_fd(D.q);	/* a reload may rebind */
	}
	return 0;
}

static void
write_pid(const char *path)
{
	FILE *f;

	if (!path[0])
		return;
	if ((f = fopen(path, "we")) == NULL) {
		log_msg(LOG_WARNING, "warning", "PidFile %s: %s", path,
		    strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

static int
run_daemon(struct config *cfg)
{
	char err[512];
	int sigfd, rc;

	if (log_open(&cfg->opt, D.foreground, err, sizeof(err)) != 0) {
		fprintf(stderr, "gatekeeperd: %s\n", err);
		return 1;
	}
	if (getrandom(&D.key, sizeof(D.key), 0) != (ssize_t)sizeof(D.key))
		log_fatal("getrandom: %s", strerror(errno));
	rl_init(&D.rl, &D.key);
	if (running_new(&D.run, cfg) != 0)
		log_fatal("out of memory for %u sources", cfg->opt.max_sources);
	if ((sigfd = signal_fd()) < 0)
		log_fatal("signalfd: %s", strerror(errno));
	if (nft_probe(&D.backend, err, sizeof(err)) != 0)
		log_fatal("%s", err);
	/* Listen before the rules send us packets. */
	if (queue_open(&D.q, cfg->opt.queue, err, sizeof(err)) != 0)
		log_fatal("%s", err);
	if (nft_install(cfg, D.backend, err, sizeof(err)) != 0)
		log_fatal("%s", err);
	if ((D.watchfd = nftwatch_open(err, sizeof(err))) < 0)
		log_fatal("%s", err);
	if (!D.foreground && daemon(0, 0) != 0)
		log_fatal("daemon: %s", strerror(errno));
	write_pid(cfg->opt.pid_file);
	log_msg(LOG_NOTICE, "start", "gatekeeperd " GK_VERSION
	    ", %u doors, queue %u, backend %s", cfg->ndoors, cfg->opt.queue,
	    nft_backend_name(D.backend));
	rc = event_loop(sigfd);
	log_stop();
	if (nft_remove(err, sizeof(err)) != 0)
		log_msg(LOG_ERR, "error", "%s", err);
	queue_close(D.q);
	nftwatch_close(D.watchfd);
	if (cfg->opt.pid_file[0])
		unlink(D.run.cfg->opt.pid_file);
	running_free(&D.run);
	close(sigfd);
	log_msg(LOG_NOTICE, "stopped", "%s", rc == 0 ? "clean" : "on error");
	log_close();
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "print-rules", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, check = 0, rules = 0;
	struct config *cfg;

	D.conf_path = CFG_DEF_CONFIG;
	while ((c = getopt_long(argc, argv, "c:fhnV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': D.conf_path = optarg; break;
		case 'f': D.foreground = 1; break;
		case 'n': check = 1; break;
		case 'R': rules = 1; break;
		case 'V': puts("gatekeeperd " GK_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((cfg = load(D.conf_path, 0)) == NULL)
		return 1;
	if (check) {
		conffile_print_summary(stdout, D.conf_path, cfg);
		free(cfg);
		return 0;
	}
	if (rules) {
		c = print_rules(cfg);
		free(cfg);
		return c;
	}
	return run_daemon(cfg);
}
