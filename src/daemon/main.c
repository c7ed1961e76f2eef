/* gatekeeperd: options, wiring of the modules, and the event loop that
 * sleeps until the next packet, signal, control request or deadline (I/O).
 *
 * The decisions live in the pure core (verdict, knock, grant); this file
 * only moves bytes between the kernel, the core, the log, the control
 * socket, the command helper (spawner) and the state file (persist). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "bgio.h"
#include "conffile.h"
#include "ctl.h"
#include "linkwatch.h"
#include "log.h"
#include "logfmt.h"
#include "nft.h"
#include "nftwatch.h"
#include "otseq.h"
#include "persist.h"
#include "privdrop.h"
#include "queue.h"
#include "ratelimit.h"
#include "rules.h"
#include "running.h"
#include "spawner.h"
#include "verdict.h"

#define REPORT_EVERY_MS		10000	/* suppressed-line reports */
#define REINSTALL_RETRY_MS	1000	/* after a failed reinstall */
#define SAVE_DELAY_MS		1000	/* coalesce state file writes */
#define SAVE_RETRY_MS		30000	/* after a failed write */
#define SPAWNER_STOP_MS		8000	/* pending stop commands at exit */
#define LOST_REPORT_MS		1000	/* queue-overflow episode lines */

#define KSTATS_EVERY_MS		1000	/* kernel queue counters */
#define HOLD_MAX		256	/* protected packets waiting at once */
#define SETTLE_BATCH		64

enum { PFD_PROTECTED, PFD_KNOCK, PFD_SIGNAL, PFD_NFT, PFD_BGIO, PFD_LINK,
    PFD_FIXED };

static struct {
	const char *conf_path;
	int foreground;
	struct running run;
	struct siphash_key key;
	struct ratelimit rl;
	struct queue *knockq, *protq;
	enum nft_backend backend;
	struct ctl *ctl;
	struct spawner sp;
	struct verdict v;
	/* Decisions of the burst being answered: their lines are formatted
	 * once the burst's verdicts are sent (on_sent), not before. */
	struct verdict vs[QUEUE_RECV_BURST];
	int64_t vs_ms[QUEUE_RECV_BURST];
	int64_t knocks_ms;		/* the knock queue last had packets */
	int64_t burst_ms;		/* the clocks, read once a burst */
	int burst_clock;		/* burst_ms is this burst's */
	unsigned nvs;
	/* Protected packets whose verdict waits for a completion to settle
	 * (verdict.h); the kernel keeps them in the queue meanwhile. */
	struct held {
		uint32_t id;
		int64_t due_ms;
		struct pkt pkt;
	} held[HOLD_MAX];
	unsigned nheld;
	struct verdict_settled settled[SETTLE_BATCH];
	int64_t started_ms;
	int64_t next_report_ms;
	int64_t reinstall_ms;		/* retry a failed reinstall; 0: none */
	int64_t save_ms;		/* write the state file; 0: clean */
	int watchfd;
	int linkfd;			/* link events: Interface may go */
	int iface_gone;			/* no interface matches Interface */
	int stop;
	uint64_t lost_pending;		/* unseen packets not yet reported */
	int64_t table_lost_ms;		/* our table is gone and stays gone */
	int64_t lost_since_ms;
	uint64_t ot_pending;		/* one-time doors used: advance them */
	int64_t ot_since_ms;		/* ... since then */
	int64_t kstats_ms;		/* next look at the kernel's counters */
	uint64_t kdrops[2];		/* queue drops seen: knock, protected */
	int kdrop_episode;
	int save_failing;		/* a state save failed: say it once */
	int64_t wd_ms;			/* systemd watchdog interval; 0: none */
} D;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: gatekeeperd [-fhnV] [-c file] [--print-rules] "
	    "[--remove-table]\n"
	    "  -c file         configuration (default " CFG_DEF_CONFIG ")\n"
	    "  -f              stay in the foreground, log to stderr\n"
	    "  -n              check the configuration and exit\n"
	    "  --print-rules   print the nftables ruleset and exit\n"
	    "  --install-table install or update the gate for file and exit\n"
	    "  --remove-table  remove the gate (table inet " NFT_TABLE ") and "
	    "exit\n"
	    "  -V              print the version and exit\n");
}

static void
emit(int prio, struct lf *l)
{
	log_line(prio, l->buf);
}

/* --- configuration ------------------------------------------------------ */

/* Load path into a new config and check it against this host, or NULL
 * with the errors in err. */
static struct config *
load(const char *path, struct cfg_errors *err)
{
	struct config *cfg = malloc(sizeof(*cfg));

	if (cfg == NULL) {
		err->n = 1;
		snprintf(err->msg[0], sizeof(err->msg[0]), "%s: %s", path,
		    strerror(ENOMEM));
		return NULL;
	}
	if (conffile_load(path, cfg, err) != 0 ||
	    conffile_check_host(path, cfg, err) != 0) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

static void
log_config_errors(const struct cfg_errors *err)
{
	unsigned i;

	for (i = 0; i < err->n && i < CFG_MAX_ERRORS; i++)
		log_msg(LOG_ERR, "config-error", "%s", err->msg[i]);
}

static void
log_config_warnings(const struct config *cfg)
{
	unsigned i;

	for (i = 0; i < cfg->nwarn && i < CFG_MAX_WARN; i++)
		log_msg(LOG_WARNING, "config-warning", "%s", cfg->warn[i]);
}

/* --install-table: what the daemon does at start and reload, alone. */
static int
install_only(const struct config *cfg)
{
	char err[512];
	int rc;

	if (cfg->opt.ruleset_external) {
		fprintf(stderr, "gatekeeperd: %s says Ruleset = external: the "
		    "table is yours to load\n", D.conf_path);
		return 1;
	}
	if (nft_probe(&D.backend, err, sizeof(err)) != 0) {
		fprintf(stderr, "gatekeeperd: %s\n", err);
		return 1;
	}
	if ((rc = nft_install(cfg, D.backend, err, sizeof(err))) < 0) {
		fprintf(stderr, "gatekeeperd: %s\n", err);
		return 1;
	}
	printf("table inet %s installed (%s)%s%s\n", NFT_TABLE,
	    nft_backend_name(D.backend), rc == 1 ? "; replaced, not in "
	    "place: " : "", rc == 1 ? err : "");
	return 0;
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

static struct rl_rate
log_rate(const struct config *cfg)
{
	return (struct rl_rate){ cfg->opt.log_rate_n,
	    cfg->opt.log_rate_period, cfg->opt.log_burst };
}

/* --- the state file ----------------------------------------------------- */

static void
state_dirty(void)
{
	if (D.save_ms == 0)
		D.save_ms = now_ms() + SAVE_DELAY_MS;
}

/* The state file's text, formatted here (memory only), written by the
 * bgio worker: no fsync on the verdict path. */
static void
state_save(void)
{
	struct state_stop stops[SP_OWED];
	unsigned n = spawner_owed(&D.sp, stops, SP_OWED);
	size_t len;
	char *buf = persist_format(&D.run, stops, n, now_ms(), real_ms(),
	    &len);

	D.save_ms = 0;
	if (buf == NULL) {
		D.save_ms = now_ms() + SAVE_RETRY_MS;
		return;
	}
	bgio_save(D.run.cfg->opt.state_file, buf, len);
}

/* At start and at stop, with no packet waiting on us: write it now. */
static void
state_write_now(void)
{
	struct state_stop stops[SP_OWED];
	unsigned n = spawner_owed(&D.sp, stops, SP_OWED);
	size_t len;
	char *buf = persist_format(&D.run, stops, n, now_ms(), real_ms(),
	    &len);

	if (buf != NULL && persist_write(&D.run, buf, len) == 0)
		D.save_ms = 0;
	free(buf);
}


/* --- verdicts ----------------------------------------------------------- */

static void
log_grant(const struct addr *src, unsigned door, int64_t expires_in,
    const struct grant *evicted, const char *by)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;

	/* A knock's grant is rare, but a flood of replays could make many;
	 * an admin's is always logged. */
	if (by == NULL && !rl_allow_rare(&D.rl, now_ms()))
		return;
	lf_init(&l, line, sizeof(line));
	logfmt_grant(&l, D.run.cfg, src, door, expires_in);
	if (by)
		lf_str(&l, "by", by);
	emit(LOG_NOTICE, &l);
	if (evicted) {
		lf_init(&l, line, sizeof(line));
		logfmt_expire(&l, D.run.cfg, evicted);
		lf_str(&l, "reason", "table-full");
		emit(LOG_WARNING, &l);
	}
}

/* Knock stages are per packet and rate-limited per source; lockouts,
 * completions, grants and closes are rare, and have a generous bucket of
 * their own (a spoofed flood can still cause lockouts). */
static void
emit_events(const struct verdict *v, int64_t now)
{
	const struct config *cfg = D.run.cfg;
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	unsigned i;

	for (i = 0; i < v->nev; i++) {
		int rare = v->ev[i].type == KEV_LOCKOUT ||
		    v->ev[i].type == KEV_COMPLETE;

		if (rare ? !rl_allow_rare(&D.rl, now) :
		    !rl_allow(&D.rl, &v->pkt.src, now))
			continue;
		lf_init(&l, line, sizeof(line));
		logfmt_knock(&l, cfg, &v->pkt.src, &v->ev[i]);
		emit(rare ? LOG_NOTICE : LOG_INFO, &l);
	}
	for (i = 0; i < v->ncancel; i++) {
		if (!rl_allow_rare(&D.rl, now))
			continue;
		lf_init(&l, line, sizeof(line));
		logfmt_cancel(&l, cfg, &v->pkt.src, v->cancel[i]);
		emit(LOG_NOTICE, &l);
	}
	for (i = 0; i < v->ndone; i++)
		if (!v->done[i].settling && rl_allow_rare(&D.rl, now))
			log_msg(LOG_WARNING, "knock-refused", "door %s: %u "
			    "completions are settling already: this one opens "
			    "nothing", cfg->door[v->done[i].door].name,
			    VERDICT_SETTLE_MAX);
}

/* Completions that settled: their grants and Close, logged, and their
 * commands run. */
static void
settle_completions(int64_t now)
{
	const struct config *cfg = D.run.cfg;
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	unsigned i, j, n;

	while ((n = verdict_settle(D.run.state, now, D.settled,
	    SETTLE_BATCH)) > 0) {
		for (i = 0; i < n; i++) {
			const struct verdict_settled *st = &D.settled[i];
			const struct verdict_grant *g = &st->grant;

			if (g->made)
				log_grant(&st->src, g->door, g->expires_ms - now,
				    g->evicted_one ? &g->evicted : NULL, NULL);
			for (j = 0; j < st->ncloses; j++) {
				if (!rl_allow_rare(&D.rl, now))
					continue;
				lf_init(&l, line, sizeof(line));
				logfmt_close(&l, cfg, &st->src, &st->close[j]);
				emit(LOG_NOTICE, &l);
			}
			if (st->command && !st->monitor)
				spawner_run(&D.sp, &cfg->door[st->door],
				    &st->src, now);
			if (g->made || st->ncloses)
				state_dirty();
		}
		if (n < SETTLE_BATCH)
			break;
	}
}

static void
log_verdict(const struct verdict *v, int64_t now)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	static const struct addr nowhere;

	/* Log_Refused = no hides refusals, never what Monitor let through. */
	if ((verdict_refused(v) && !v->monitor &&
	    !D.run.cfg->opt.log_refused) ||
	    !rl_allow(&D.rl, v->reason == VR_MALFORMED ? &nowhere :
	    &v->pkt.src, now))
		return;
	lf_init(&l, line, sizeof(line));
	logfmt_verdict(&l, D.run.cfg, v);
	emit(LOG_INFO, &l);
}

/* Held packets whose completion settled (or was undone): decided again
 * and answered. */
static void
release_held(int64_t now)
{
	struct verdict *v = &D.v;
	unsigned i = 0;

	while (i < D.nheld) {
		struct held *h = &D.held[i];

		if (h->due_ms > now) {
			i++;
			continue;
		}
		verdict_recheck(D.run.state, &h->pkt, now, v);
		log_verdict(v, now);
		if (queue_verdict(D.protq, h->id, v->accept) < 0)
			log_msg(LOG_ERR, "error", "queue %u: verdict: %s",
			    D.run.cfg->opt.protected_queue, strerror(errno));
		D.held[i] = D.held[--D.nheld];
	}
}

static int64_t
next_held(void)
{
	int64_t next = INT64_MAX;
	unsigned i;

	for (i = 0; i < D.nheld; i++)
		if (D.held[i].due_ms < next)
			next = D.held[i].due_ms;
	return next;
}

/* Interface = X gates X alone; while no interface matches X (renamed,
 * removed), every interface but loopback is gated: closed, not open. */
static const struct config *
as_gated(const struct config *cfg)
{
	static struct config wide;

	if (!D.iface_gone || cfg->opt.interface[0] == '\0')
		return cfg;
	wide = *cfg;
	wide.opt.interface[0] = '\0';
	return &wide;
}

/* Install cfg's table (in place); 0 or -1, logged. */
static int
install_table(const struct config *cfg, const char *why)
{
	char err[512];
	int rc = nft_install(as_gated(cfg), D.backend, err, sizeof(err));

	if (rc < 0)
		log_msg(LOG_ERR, "nft-error", "%s: %s", why, err);
	else if (rc == 1)
		log_msg(LOG_WARNING, "table-replaced", "%s: could not update "
		    "table inet %s in place (%s), replaced it: packets waiting "
		    "in the queues were dropped", why, NFT_TABLE, err);
	return rc < 0 ? -1 : 0;
}

/* The door's one-time sequence was used.  At once, in memory: the door
 * has no sequence, so nothing can use the line again.  Once the queues
 * are drained (or a second later under a flood): the next line, the file
 * marked (by the bgio worker), the ruleset updated in one nft
 * transaction (advance_one_time_doors).  Until then the door is shut. */
static void
close_one_time(unsigned d)
{
	D.run.cfg->door[d].seq_len = 0;
	verdict_door_changed(D.run.state, d);
	if (D.ot_pending == 0)
		D.ot_since_ms = now_ms();
	D.ot_pending |= (uint64_t)1 << d;
}

static void
advance_one_time_doors(void)
{
	struct running *r = &D.run;
	unsigned d, used;

	if (D.ot_pending == 0)
		return;
	for (d = 0; d < r->cfg->ndoors; d++) {
		struct cfg_door *door = &r->cfg->door[d];

		if (!((D.ot_pending >> d) & 1))
			continue;
		used = r->otline[d];
		if (bgio_mark(door->one_time_file, used, (int)d) != 0)
			log_msg(LOG_CRIT, "one-time-error", "door %s: %s:%u "
			    "stays used for the life of this process and in "
			    "State_File, but could not be marked in the file "
			    "(too many marks waiting)", door->name,
			    door->one_time_file, used);
		running_load_one_time(r, d, used);
		verdict_door_changed(r->state, d);
	}
	D.ot_pending = 0;
	if (!r->cfg->opt.ruleset_external)
		install_table(r->cfg, "one-time sequence advanced");
	/* The position is saved at once: the file may not be writable. */
	state_save();
}

/* An SPA packet: a grant is logged like any (rare: always), a refusal as a
 * per-packet line; the door's command runs for the address granted. */
static void
spa_done(const struct verdict *v, int64_t now)
{
	const struct spag_out *o = &v->spa;
	char line[LOGFMT_LINE_MAX];
	struct lf l;

	if (o->reason == SPAG_OK ? rl_allow_rare(&D.rl, now) :
	    rl_allow(&D.rl, &v->pkt.src, now)) {
		lf_init(&l, line, sizeof(line));
		logfmt_spa(&l, D.run.cfg, &v->pkt.src, o, now);
		emit(o->reason == SPAG_OK ? LOG_NOTICE : LOG_WARNING, &l);
	}
	if (o->reason != SPAG_OK)
		return;
	if (o->command && !D.run.cfg->opt.monitor)
		spawner_run(&D.sp, &D.run.cfg->door[o->door], &o->to, now);
	state_dirty();
}

/* What a completion does at once: a one-time line is used from here on. */
static void
run_completed(const struct verdict *v)
{
	unsigned i;

	for (i = 0; i < v->ndone; i++)
		if (v->done[i].one_time)
			close_one_time(v->done[i].door);
}

/* The clocks of the packets decided until the next send: the monotonic
 * one as read, the wall clock's seconds from its coarse variant (a
 * memory load: SPA's timestamps are checked to the second, and a tick
 * late is well within their window). */
static void
burst_clock(int64_t mono_ms)
{
	struct timespec ts;

	D.burst_ms = mono_ms;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	D.run.state->real_s = (int64_t)ts.tv_sec;
	D.burst_clock = 1;
}

static int
on_packet(void *arg, uint32_t id, const uint8_t *pkt, size_t len,
    size_t wire)
{
	struct verdict *v = D.nvs < QUEUE_RECV_BURST ? &D.vs[D.nvs] : &D.v;
	int64_t now;

	/* A burst's packets came in together: one reading of the clocks
	 * serves them all (a burst is decided in well under a ms).  The
	 * round's first burst uses the loop's reading after poll. */
	if (!D.burst_clock)
		burst_clock(now_ms());
	now = D.burst_ms;
	verdict_decide(D.run.state, pkt, len, wire, now, v);
	emit_events(v, now);
	if (v->spa.present)
		spa_done(v, now);
	if (v->ndone)
		run_completed(v);
	/* A connection to a door still settling waits for it (one line
	 * when it is decided); with no room to wait, it is dropped and its
	 * client retries. */
	if (v->hold && !v->accept && arg == D.protq && D.nheld < HOLD_MAX) {
		D.held[D.nheld++] = (struct held){ id, v->hold_until, v->pkt };
		return QUEUE_HOLD;
	}
	if (v == &D.v)
		log_verdict(v, now);
	else
		D.vs_ms[D.nvs++] = now;
	return v->accept ? QUEUE_ACCEPT : QUEUE_DROP;
}

/* A burst is about to be decided: its sources' lines of the tables are
 * asked for now (verdict_prefetch; only tables too large for the cache). */
static void
on_hint(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	verdict_prefetch(D.run.state, pkt, len);
}

/* A burst's verdicts are sent: now its lines. */
static void
on_sent(void *arg)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < D.nvs; i++)
		log_verdict(&D.vs[i], D.vs_ms[i]);
	D.nvs = 0;
	D.burst_clock = 0;
}

/* The knock queue let packets through unseen (it was full): a scan's
 * reset may have been among them, so every attempt in progress ends.
 * Reported once per episode, when it is over. */
static void
on_gap(void *arg, uint32_t n)
{
	(void)arg;
	verdict_lost(D.run.state, now_ms());
	if (D.lost_pending == 0)
		D.lost_since_ms = now_ms();
	D.lost_pending += n;
}

static void
report_lost(int64_t now)
{
	if (D.lost_pending == 0 || now - D.lost_since_ms < LOST_REPORT_MS)
		return;
	log_msg(LOG_WARNING, "queue-overflow", "queue %u was full: %llu "
	    "packets went by unseen (accepted by the kernel) in %lld ms; "
	    "every knock in progress was reset", D.run.cfg->opt.queue,
	    (unsigned long long)D.lost_pending,
	    (long long)(now - D.lost_since_ms));
	D.lost_pending = 0;
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
			if (!rl_allow_rare(&D.rl, now))
				continue;
			lf_init(&l, line, sizeof(line));
			logfmt_expire(&l, D.run.cfg, &out[i]);
			emit(LOG_NOTICE, &l);
		}
		if (n)
			state_dirty();
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
	emit(LOG_WARNING, &l);
}

/* --- reload ------------------------------------------------------------- */

/* Settings taken once at start: say so instead of ignoring a change. */
static void
warn_restart_only(const struct config *old, const struct config *cfg)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "Control_Socket", offsetof(struct cfg_options, control_socket) },
		{ "Control_Group", offsetof(struct cfg_options, control_group) },
		{ "User", offsetof(struct cfg_options, user) },
		{ "Command_User", offsetof(struct cfg_options, command_user) },
		{ "LogFile", offsetof(struct cfg_options, log_file) },
		{ "PidFile", offsetof(struct cfg_options, pid_file) },
	};
	unsigned i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp((const char *)&old->opt + keys[i].off,
		    (const char *)&cfg->opt + keys[i].off) != 0)
			log_msg(LOG_WARNING, "reload-partial", "%s changed: "
			    "takes effect at the next restart", keys[i].key);
	if (old->opt.use_syslog != cfg->opt.use_syslog)
		log_msg(LOG_WARNING, "reload-partial", "UseSyslog changed: "
		    "takes effect at the next restart");
}

/* A reload that stops protecting a port says so, loudly: a truncated
 * file or a wrong one should not ungate a service quietly. */
static void
warn_unprotected(const struct config *old, const struct config *cfg)
{
	struct cfg_port gone[64];
	char list[64 * 12];
	unsigned n = config_unprotected(old, cfg, gone, 64);

	if (n > 0)
		log_msg(LOG_WARNING, "reload-unprotects", "no door opens %s any "
		    "more: these ports are now public", config_ports_format(
		    gone, n, list, sizeof(list)));
}

static int
queue_changed(const struct config *a, const struct config *b)
{
	return a->opt.queue != b->opt.queue ||
	    a->opt.protected_queue != b->opt.protected_queue;
}

/* The two queues of cfg; 0, or -1 with nothing left open. */
static int
open_queues(const struct config *cfg, struct queue **kq, struct queue **pq,
    char *err, size_t errlen)
{
	*kq = *pq = NULL;
	/* Protected ports fail closed; the knock queue, which also carries
	 * what Scan_Guard observes, fails open (queue.c, on_gap). */
	if (queue_open(pq, cfg->opt.protected_queue, 0, err, errlen) == 0 &&
	    queue_open(kq, cfg->opt.queue, 1, err, errlen) == 0)
		return 0;
	queue_close(*kq);
	queue_close(*pq);
	*kq = *pq = NULL;
	return -1;
}

static void
close_queues(void)
{
	queue_close(D.knockq);
	queue_close(D.protq);
	D.knockq = D.protq = NULL;
}

/* Re-read the configuration; any failure keeps everything as it was.
 * 0, or -1 with a reason in err and the file's errors in errs. */
static int
reload(struct cfg_errors *errs, char *err, size_t errlen)
{
	struct queue *kq = NULL, *pq = NULL;
	unsigned lost;
	int requeue;
	struct running next;
	struct config *cfg;

	errs->n = 0;
	/* A line used but not advanced past yet would look unused to the
	 * carry below. */
	advance_one_time_doors();
	log_msg(LOG_NOTICE, "reload", "reading %s", D.conf_path);
	if ((cfg = load(D.conf_path, errs)) == NULL) {
		log_config_errors(errs);
		snprintf(err, errlen, "%u error%s in %s; running configuration "
		    "kept", errs->n, errs->n == 1 ? "" : "s", D.conf_path);
		goto fail;
	}
	if (running_new(&next, cfg, &D.key) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* Queues change: the old ones close first (a number may stay), and
	 * on failure the old numbers are bound again. */
	if ((requeue = queue_changed(cfg, D.run.cfg)) != 0) {
		close_queues();
		D.nheld = 0;		/* unbinding dropped them */
		if (open_queues(cfg, &kq, &pq, err, errlen) != 0) {
			char again[256];

			if (open_queues(D.run.cfg, &D.knockq, &D.protq,
			    again, sizeof(again)) != 0)
				log_fatal("reload: %s; and the old queues "
				    "again: %s", err, again);
			running_free(&next);
			goto fail;
		}
	}
	D.iface_gone = 0;		/* the load found it */
	if (!cfg->opt.ruleset_external &&
	    install_table(cfg, "reload") != 0) {
		snprintf(err, errlen, "the new ruleset could not be installed "
		    "(see the nft-error line)");
		if (requeue) {
			queue_close(kq);
			queue_close(pq);
			if (open_queues(D.run.cfg, &D.knockq, &D.protq, err,
			    errlen) != 0)
				log_fatal("reload: cannot bind the old queues "
				    "again: %s", err);
		}
		running_free(&next);
		goto fail;
	}
	log_config_warnings(cfg);
	warn_restart_only(D.run.cfg, cfg);
	warn_unprotected(D.run.cfg, cfg);
	running_carry_grants(&D.run, &next, now_ms());
	if ((lost = running_carry_spa(&D.run, &next, real_ms() / 1000)) > 0)
		log_msg(LOG_WARNING, "spa-replay-shrunk", "%u honoured SPA "
		    "packets found no room in the smaller SPA_Replay_Cache: "
		    "packets that could be among them are refused", lost);
	running_carry_one_time(&D.run, &next);
	running_carry_scanwatch(&D.run, &next);
	D.ot_pending = 0;
	next.state->st = D.run.state->st;	/* counters run on */
	running_free(&D.run);
	D.run = next;
	if (requeue) {
		D.knockq = kq;
		D.protq = pq;
	}
	rl_set_rate(&D.rl, log_rate(cfg));
	spawner_reload(&D.sp, D.run.cfg);
	state_dirty();
	log_msg(LOG_NOTICE, "reloaded", "%u doors, queues %u and %u",
	    cfg->ndoors, cfg->opt.queue, cfg->opt.protected_queue);
	return 0;
fail:
	log_msg(LOG_ERR, "reload-failed", "%s", err);
	return -1;
}

/* --- control socket ----------------------------------------------------- */

static void
fill_queue(struct ctl_queue *q, unsigned num, const char *role)
{
	struct queue_kstats ks = { 0 };

	queue_kstats(num, &ks);
	q->num = num;
	q->role = role;
	q->kernel_found = ks.found;
	q->waiting = ks.queue_total;
	q->queue_dropped = ks.queue_dropped;
	q->user_dropped = ks.user_dropped;
}

static struct ctl_health *
health(struct ctl_status *st, const char *name, int ok)
{
	struct ctl_health *h = &st->health[st->nhealth++];

	h->name = name;
	h->ok = ok;
	return h;
}

/* What could fail without stopping the daemon, as it is now. */
static void
fill_health(struct ctl_status *st, int64_t now)
{
	struct log_sink_stats ls[LOG_SINKS];
	struct ctl_health *h;
	unsigned i, n;
	uint64_t lost = 0;
	size_t k;

	if (D.run.cfg->opt.ruleset_external)
		snprintf(health(st, "table", 1)->detail, CTL_HEALTH_MAX,
		    "external (loaded by the admin)");
	else if (D.table_lost_ms)
		snprintf(health(st, "table", 0)->detail, CTL_HEALTH_MAX,
		    "not in place for %lld s (see event=enforcement-lost)",
		    (long long)((now - D.table_lost_ms) / 1000));
	else if (D.iface_gone)
		snprintf(health(st, "table", 0)->detail, CTL_HEALTH_MAX,
		    "in place, gating every interface: Interface = %.40s "
		    "matches none (see event=interface-gone)",
		    D.run.cfg->opt.interface);
	else
		snprintf(health(st, "table", 1)->detail, CTL_HEALTH_MAX,
		    "in place, watched");
	h = health(st, "queues", !D.kdrop_episode && D.lost_pending == 0);
	snprintf(h->detail, CTL_HEALTH_MAX, "kernel drops %llu knock, %llu "
	    "protected; %llu let through unseen when full",
	    (unsigned long long)D.kdrops[0], (unsigned long long)D.kdrops[1],
	    (unsigned long long)(queue_lost(D.knockq) + queue_lost(D.protq)));
	h = health(st, "helper", D.sp.down_ms == 0 && D.sp.fd >= 0);
	if (h->ok)
		snprintf(h->detail, CTL_HEALTH_MAX, "pid %ld, %llu restarts, "
		    "%u stop commands owed", (long)D.sp.pid,
		    (unsigned long long)D.sp.restarts, D.sp.nowed);
	else
		snprintf(h->detail, CTL_HEALTH_MAX, "down%s; %u stop "
		    "commands owed", D.sp.retry_ms ? ", restarting" : "",
		    D.sp.nowed);
	n = log_stats(ls, LOG_SINKS);
	for (i = 0; i < n; i++)
		lost += ls[i].lost;
	h = health(st, "log", 1);
	for (i = 0, k = 0; i < n && k < CTL_HEALTH_MAX; i++) {
		k += (size_t)snprintf(h->detail + k, CTL_HEALTH_MAX - k,
		    "%s%s %llu lines, %llu lost, %u KiB queued%s",
		    i ? "; " : "", ls[i].name,
		    (unsigned long long)ls[i].written,
		    (unsigned long long)ls[i].lost, (ls[i].queued + 1023) / 1024,
		    ls[i].failing ? ", writing fails" : "");
		if ((ls[i].queued > 0 && ls[i].lost > 0) || ls[i].failing)
			h->ok = 0;	/* losing lines right now */
	}
	snprintf(health(st, "state", !D.save_failing)->detail, CTL_HEALTH_MAX,
	    "%.100s%s", D.run.cfg->opt.state_file, D.save_failing ? ": the "
	    "last save failed (see event=state-save-failed)" : "");
}

static void
ctl_snapshot(void *ctx, struct ctl_view *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->cfg = D.run.cfg;
	out->grants = D.run.grants;
	out->knocks = D.run.knocks;
	out->stats = &D.run.state->st;
	out->st.version = GK_VERSION;
	out->st.backend = D.run.cfg->opt.ruleset_external ? "external" :
	    nft_backend_name(D.backend);
	out->st.config_path = D.conf_path;
	out->st.started_ms = D.started_ms;
	out->st.log_suppressed = D.rl.suppressed_total;
	out->st.nqueues = 2;
	fill_queue(&out->st.queue[0], D.run.cfg->opt.queue, "knock");
	fill_queue(&out->st.queue[1], D.run.cfg->opt.protected_queue,
	    "protected");
	fill_health(&out->st, now_ms());
}

static int
ctl_grant(void *ctx, const struct addr *a, unsigned door, unsigned seconds,
    char *err, size_t errlen)
{
	int64_t now = now_ms();
	const struct grant *g;
	struct grant ev;
	int pushed;

	(void)ctx;
	(void)err;
	(void)errlen;
	pushed = grant_add(D.run.grants, a, door, now + seconds * 1000LL, &ev);
	g = grant_find(D.run.grants, a, door, now);
	log_grant(a, door, g ? g->expires_ms - now : seconds * 1000LL,
	    pushed ? &ev : NULL, "ctl");
	state_dirty();
	return 0;
}

static unsigned
ctl_revoke(void *ctx, const struct addr *a, int door)
{
	char line[LOGFMT_LINE_MAX];
	unsigned n;
	struct lf l;

	(void)ctx;
	n = grant_revoke(D.run.grants, a, door);
	lf_init(&l, line, sizeof(line));
	lf_str(&l, "event", "revoke");
	lf_addr(&l, "src", a);
	lf_str(&l, "door", door < 0 ? "*" : D.run.cfg->door[door].name);
	lf_u64(&l, "removed", n);
	lf_str(&l, "by", "ctl");
	emit(LOG_NOTICE, &l);
	if (n)
		state_dirty();
	return n;
}

static int
ctl_reload(void *ctx, struct cfg_errors *errs, char *err, size_t errlen)
{
	(void)ctx;
	return reload(errs, err, errlen);
}

static void
ctl_log(void *ctx, int prio, const char *line)
{
	(void)ctx;
	if (prio != LOG_DEBUG)
		log_line(prio, line);
}

static const struct ctl_ops ctl_ops = {
	ctl_snapshot, ctl_grant, ctl_revoke, ctl_reload, ctl_log,
};

/* --- ruleset upkeep ------------------------------------------------------ */

/* Put our table back after somebody else removed it or parts of it. */
static void
reinstall(const char *why)
{
	char err[512];
	int rc = nft_install(as_gated(D.run.cfg), D.backend, err, sizeof(err));

	if (rc < 0) {
		/* Once per episode: retries are quiet until it works. */
		if (D.table_lost_ms == 0) {
			D.table_lost_ms = now_ms();
			log_msg(LOG_CRIT, "enforcement-lost", "table inet %s %s "
			    "and cannot be put back: %s (retrying every %d "
			    "ms)", NFT_TABLE, why, err, REINSTALL_RETRY_MS);
		}
		D.reinstall_ms = now_ms() + REINSTALL_RETRY_MS;
		return;
	}
	if (D.table_lost_ms != 0) {
		log_msg(LOG_WARNING, "enforcement-restored", "table inet %s put "
		    "back after %lld ms", NFT_TABLE,
		    (long long)(now_ms() - D.table_lost_ms));
		D.table_lost_ms = 0;
	}
	if (rc == 1)
		log_msg(LOG_WARNING, "table-replaced", "could not repair table "
		    "inet %s in place (%s), replaced it", NFT_TABLE, err);
	D.reinstall_ms = 0;
	log_msg(LOG_WARNING, "reinstalled", "table inet %s %s; put back",
	    NFT_TABLE, why);
}

/* An interface came, went or was renamed: does Interface still match? */
static void
on_link_event(void)
{
	static struct cfg_errors errs;
	const struct config *cfg = D.run.cfg;
	int gone;

	if (!linkwatch_read(D.linkfd) || cfg->opt.interface[0] == '\0')
		return;
	errs.n = 0;
	gone = conffile_check_host(D.conf_path, cfg, &errs) > 0;
	if (gone == D.iface_gone)
		return;
	D.iface_gone = gone;
	if (gone)
		log_msg(LOG_CRIT, "interface-gone", "Interface = %s matches no "
		    "interface any more: every interface but loopback is "
		    "gated until it is back%s", cfg->opt.interface,
		    cfg->opt.ruleset_external ? " (Ruleset = external: the "
		    "table is the admin's, and gates nothing now)" : "");
	else
		log_msg(LOG_WARNING, "interface-back", "Interface = %s matches "
		    "again: only it is gated", cfg->opt.interface);
	if (!cfg->opt.ruleset_external)
		install_table(cfg, gone ? "Interface gone" : "Interface back");
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
		switch (nft_present(err, sizeof(err))) {
		case 0:
			reinstall("was deleted");
			break;
		case 1:
			reinstall("was made again by somebody else");
			break;
		default:
			reinstall("was replaced by a table gatekeeperd did "
			    "not create");
		}
		break;
	}
}

/* --- the event loop ----------------------------------------------------- */

static int
signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit (LimitFSIZE=) makes a write fail, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void
on_signal(int fd)
{
	struct signalfd_siginfo si;
	struct cfg_errors errs;
	char err[512];

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_reopen();
			reload(&errs, err, sizeof(err));
			break;
		case SIGUSR1:
			log_reopen();
			break;
		case SIGUSR2:
			break;		/* reserved: nothing */
		default:		/* TERM, INT, QUIT */
			D.stop = (int)si.ssi_signo;
		}
	}
}

static int64_t
earliest(int64_t a, int64_t b)
{
	return b > 0 && b < a ? b : a;
}

static int
poll_timeout(int64_t now)
{
	int64_t next = grant_next_deadline(D.run.grants);

	next = earliest(next, D.next_report_ms);
	if (D.lost_pending)
		next = earliest(next, D.lost_since_ms + LOST_REPORT_MS);
	next = earliest(next, D.reinstall_ms);
	next = earliest(next, D.save_ms);
	next = earliest(next, D.kstats_ms);
	if (D.wd_ms > 0)		/* beat while idle, for the watchdog */
		next = earliest(next, now + D.wd_ms / 4);
	next = earliest(next, spawner_next_deadline(&D.sp));
	next = earliest(next, verdict_next_settle(D.run.state));
	next = earliest(next, next_held());
	next = earliest(next, ctl_next_deadline(D.ctl));
	if (next <= now)
		return 0;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

/* The kernel's counters of packets it dropped from our queues (full
 * queue, full socket): lost enforcement (protected) or lost observations
 * (knock) are never silent.  Once per episode; the count when it ends. */
static void
watch_kernel_drops(int64_t now)
{
	struct queue_kstats k[2];
	uint64_t d[2], more = 0;
	int i;

	D.kstats_ms = now + KSTATS_EVERY_MS;
	queue_kstats(D.run.cfg->opt.queue, &k[0]);
	queue_kstats(D.run.cfg->opt.protected_queue, &k[1]);
	for (i = 0; i < 2; i++) {
		d[i] = k[i].queue_dropped + k[i].user_dropped;
		if (d[i] > D.kdrops[i])
			more += d[i] - D.kdrops[i];
	}
	if (more && !D.kdrop_episode)
		log_msg(LOG_ERR, "queue-drops", "the kernel dropped %llu "
		    "packets from queues %u and %u (full): new connections "
		    "waited for a SYN retransmission", (unsigned long long)more,
		    D.run.cfg->opt.queue, D.run.cfg->opt.protected_queue);
	else if (!more && D.kdrop_episode)
		log_msg(LOG_WARNING, "queue-drops-over", "no more drops; %llu "
		    "and %llu so far (knock and protected queue)",
		    (unsigned long long)d[0], (unsigned long long)d[1]);
	D.kdrop_episode = more != 0;
	D.kdrops[0] = d[0];
	D.kdrops[1] = d[1];
}

/* Results of the bgio worker's file writes. */
static void
on_bgio(void)
{
	struct bgio_result r;

	while (bgio_result(&r)) {
		if (r.kind == BGIO_SAVE && r.rc != 0) {
			if (!D.save_failing)
				log_msg(LOG_ERR, "state-save-failed", "%s "
				    "(retrying every %d s)", r.err,
				    SAVE_RETRY_MS / 1000);
			D.save_failing = 1;
			if (D.save_ms == 0)
				D.save_ms = now_ms() + SAVE_RETRY_MS;
		} else if (r.kind == BGIO_SAVE) {
			if (D.save_failing)
				log_msg(LOG_NOTICE, "state-saved", "%s "
				    "written again", D.run.cfg->opt.state_file);
			D.save_failing = 0;
		} else if (r.rc != 0)
			log_msg(LOG_CRIT, "one-time-error", "%s: the line stays "
			    "used for the life of this process and in "
			    "State_File, but the file does not show it (make "
			    "it writable: see gatekeeper.conf(5))", r.err);
	}
}

static void
due_work(int64_t now)
{
	settle_completions(now);
	release_held(now);
	expire_grants(now);
	report_suppressed(now);
	report_lost(now);
	if (D.reinstall_ms && now >= D.reinstall_ms)
		reinstall("is still missing");
	spawner_tick(&D.sp, now);
	if (D.sp.changed) {		/* an owed stop came or went */
		D.sp.changed = 0;
		state_dirty();
	}
	if (D.save_ms && now >= D.save_ms)
		state_save();
	if (now >= D.kstats_ms)
		watch_kernel_drops(now);
}

/* Answer a queue, adding the packets answered to *served; -1 on a socket
 * error (fatal: verdicts would stop).  *busy is set if packets may be
 * left waiting. */
static int
serve(struct queue *q, int budget, int *busy, int *served)
{
	char err[256];
	int n;

	/* The hint only when a table is too large for the cache: else even
	 * finding each packet's payload for it is work for nothing. */
	n = queue_process(q, budget, &(struct queue_cbs){ on_packet, on_gap,
	    on_sent, verdict_prefetch_helps(D.run.state) ? on_hint : NULL },
	    q, err, sizeof(err));
	if (n >= budget)
		*busy = 1;
	if (n >= 0) {
		*served += n;
		return 0;
	}
	log_msg(LOG_ERR, "error", "%s", err);
	return -1;
}

/* While packets keep coming, a round waits only on the two queues, and on
 * every fd at least every FULL_POLL_MS: a poll of all of them costs as
 * much again as the packets' own receive, and the others (signals,
 * control clients, the helper, nft and link events) can wait a
 * millisecond.  Once the queues stay quiet that long, the loop waits on
 * every fd. */
#define FULL_POLL_MS	1
#define KNOCKS_RECENT_MS 1000

static int
wait_events(struct pollfd *pfd, unsigned n, int hot, int64_t now,
    int64_t *full_ms)
{
	int64_t left = *full_ms + FULL_POLL_MS - now;
	unsigned i;
	int r, t;

	if (hot && left > 0) {
		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
		t = poll_timeout(now);
		r = poll(pfd, 2, t < left ? t : (int)left);	/* the queues */
		if (r != 0)
			return r;
		now = now_ms();
	}
	*full_ms = now;
	return poll(pfd, n, poll_timeout(now));
}

static int
event_loop(int sigfd)
{
	struct pollfd pfd[PFD_FIXED + SP_POLLFDS + CTL_POLLFDS];
	unsigned nsp, nctl;
	int rc = 0, busy, served = 0;
	int64_t full_ms = 0, now = now_ms();

	_Static_assert(PFD_PROTECTED == 0 && PFD_KNOCK == 1, "queues first");
	while (!D.stop && rc == 0 && !D.sp.fatal) {
		due_work(now);		/* read at the end of the last round */
		bgio_beat();
		pfd[PFD_PROTECTED] = (struct pollfd){ queue_fd(D.protq), POLLIN, 0 };
		pfd[PFD_KNOCK] = (struct pollfd){ queue_fd(D.knockq), POLLIN, 0 };
		pfd[PFD_SIGNAL] = (struct pollfd){ sigfd, POLLIN, 0 };
		pfd[PFD_NFT] = (struct pollfd){ D.watchfd, POLLIN, 0 };
		pfd[PFD_LINK] = (struct pollfd){ D.linkfd, POLLIN, 0 };
		pfd[PFD_BGIO] = (struct pollfd){ bgio_fd(), POLLIN, 0 };
		nsp = spawner_pollfds(&D.sp, pfd + PFD_FIXED);
		nctl = ctl_pollfds(D.ctl, pfd + PFD_FIXED + nsp, CTL_POLLFDS);
		if (wait_events(pfd, PFD_FIXED + nsp + nctl, served > 0, now,
		    &full_ms) < 0) {
			if (errno == EINTR) {
				now = now_ms();
				continue;
			}
			log_msg(LOG_ERR, "error", "poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		/* Knocks first, then protected ports: `knock && ssh` finds
		 * its grant in place when its SYN is read together with the
		 * last knock, also one that poll did not see yet while knocks
		 * came in the last second (a read that may find nothing, so
		 * not for every SYN of a flood of them).  While connections
		 * wait, the knock queue gets only a share of a budget per
		 * round, so a knock flood delays a granted user by that many
		 * packets, not a whole budget. */
		busy = served = 0;
		now = now_ms();
		burst_clock(now);
		log_hold();		/* the log's reader wakes after the sends */
		if (pfd[PFD_KNOCK].revents & POLLIN ||
		    (pfd[PFD_PROTECTED].revents & POLLIN &&
		    now - D.knocks_ms < KNOCKS_RECENT_MS)) {
			rc = serve(D.knockq, pfd[PFD_PROTECTED].revents &
			    POLLIN ? QUEUE_KNOCK_SHARE : QUEUE_BUDGET, &busy,
			    &served);
			if (served > 0)
				D.knocks_ms = now;
		}
		if (rc == 0 && (pfd[PFD_PROTECTED].revents & POLLIN))
			rc = serve(D.protq, QUEUE_BUDGET, &busy, &served);
		log_release();
		/* The nft transaction waits for a quiet moment. */
		if (D.ot_pending && (!busy || now_ms() - D.ot_since_ms >= 1000))
			advance_one_time_doors();
		if (pfd[PFD_SIGNAL].revents & POLLIN)
			on_signal(sigfd);
		if (pfd[PFD_NFT].revents & POLLIN)
			on_nft_event();
		if (pfd[PFD_LINK].revents & POLLIN)
			on_link_event();
		if (pfd[PFD_BGIO].revents & POLLIN)
			on_bgio();
		/* The queues and handlers took a while; the next round's
		 * timers use this reading too (a control request between is
		 * short, and every packet is decided by a fresh one). */
		now = now_ms();
		spawner_on_poll(&D.sp, pfd + PFD_FIXED, nsp, now);
		ctl_process(D.ctl, pfd + PFD_FIXED + nsp, nctl, now);
	}
	if (D.sp.fatal)
		rc = -1;
	return rc;
}

/* --- start and stop ----------------------------------------------------- */

/* systemd (Type=notify): ready once the table and queues are up; the
 * watchdog, if the unit has one, is pinged while the loop goes round. */
static void
notify_ready(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		bgio_watchdog(usec);
		D.wd_ms = (int64_t)(usec / 1000);
	}
	(void)sd_notifyf(0, "READY=1\nSTATUS=gating: %u doors, queues %u "
	    "and %u", D.run.cfg->ndoors, D.run.cfg->opt.queue,
	    D.run.cfg->opt.protected_queue);
}

static void
notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1\nSTATUS=stopping: the gate stays "
	    "closed");
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

static void
log_stop(void)
{
	const struct verdict_stats *st = &D.run.state->st;
	struct queue_kstats kk = { 0 }, kp = { 0 };
	char line[LOGFMT_LINE_MAX];
	struct lf l;

	queue_kstats(D.run.cfg->opt.queue, &kk);
	queue_kstats(D.run.cfg->opt.protected_queue, &kp);
	lf_init(&l, line, sizeof(line));
	lf_str(&l, "event", "stop");
	lf_u64(&l, "packets", st->packets);
	lf_u64(&l, "accepted", st->accepted);
	lf_u64(&l, "dropped", st->dropped);
	lf_u64(&l, "grants", st->grants);
	lf_u64(&l, "knock_evictions", D.run.knocks->st.evicted);
	lf_u64(&l, "kernel_queue_dropped", kk.queue_dropped + kp.queue_dropped);
	lf_u64(&l, "kernel_user_dropped", kk.user_dropped + kp.user_dropped);
	emit(LOG_NOTICE, &l);
}

/* Everything that needs root, in the order that keeps the gate closed:
 * listen before the rules send us packets. */
static void
setup(struct config *cfg)
{
	char err[512];

	if (nft_probe(&D.backend, err, sizeof(err)) != 0)
		log_fatal("%s", err);
	if (open_queues(cfg, &D.knockq, &D.protq, err, sizeof(err)) != 0)
		log_fatal("%s", err);
	if (ctl_open(&D.ctl, cfg->opt.control_socket, cfg->opt.control_group,
	    cfg->opt.user, &ctl_ops, NULL, err, sizeof(err)) != 0)
		log_fatal("%s", err);
	if ((D.linkfd = linkwatch_open(err, sizeof(err))) < 0)
		log_fatal("%s", err);
	if (cfg->opt.ruleset_external) {
		if (nft_present(err, sizeof(err)) != 1)
			log_msg(LOG_WARNING, "warning", "Ruleset = external, "
			    "but table inet %s is not loaded: nothing is "
			    "queued yet (see rules/gatekeeper.nft)", NFT_TABLE);
		D.watchfd = -1;
		return;
	}
	if (install_table(cfg, "start") != 0)
		log_fatal("cannot install table inet %s", NFT_TABLE);
	if ((D.watchfd = nftwatch_open(err, sizeof(err))) < 0)
		log_fatal("%s", err);
}

/* The table stays: with nobody bound to the queues the kernel drops what
 * they would carry, so the protected ports stay closed while we are
 * gone, and the next start takes over in place.  Removing the gate is
 * the admin's act: gatekeeperd --remove-table. */
static void
teardown(void)
{
	/* Pending stop commands run while the table still enforces. */
	spawner_stop(&D.sp, SPAWNER_STOP_MS);
	bgio_stop();			/* its last save is done */
	close_queues();
	nftwatch_close(D.watchfd);
	linkwatch_close(D.linkfd);
	ctl_close(D.ctl);
}

static int
run_daemon(struct config *cfg)
{
	static struct state_stop stops[SP_OWED];
	unsigned nstops;
	uint64_t seed;
	char err[512];
	int sigfd, rc;

	if (log_open(&cfg->opt, D.foreground, err, sizeof(err)) != 0) {
		fprintf(stderr, "gatekeeperd: %s\n", err);
		return 1;
	}
	if (getrandom(&D.key, sizeof(D.key), 0) != (ssize_t)sizeof(D.key) ||
	    getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		log_fatal("getrandom: %s", strerror(errno));
	/* The command helper keeps our starting privileges and nothing
	 * else: fork it before any queue, netlink or control socket. */
	if (spawner_start(&D.sp, D.conf_path, cfg, seed, err, sizeof(err)) != 0)
		log_fatal("%s", err);
	if (bgio_start(err, sizeof(err)) != 0)
		log_fatal("%s", err);
	rl_init(&D.rl, &D.key, log_rate(cfg));
	if (running_new(&D.run, cfg, &D.key) != 0)
		log_fatal("out of memory for %u sources", cfg->opt.max_sources);
	D.started_ms = now_ms();
	/* The replay cache starts empty: a packet stamped before this start
	 * may have been honoured by the last run, so none is. */
	D.run.state->replay_floor_s = real_ms() / 1000;
	persist_restore(&D.run, stops, SP_OWED, &nstops, now_ms(), real_ms());
	/* Stops owed by the last run, less those its helper ran at the end;
	 * saved before the record of what it ran goes. */
	if (spawner_restore(&D.sp, stops, nstops, now_ms())) {
		state_write_now();
		spawner_forget_done(&D.sp);
	}
	if ((sigfd = signal_fd()) < 0)
		log_fatal("signalfd: %s", strerror(errno));
	setup(cfg);
	if (privdrop(cfg->opt.user, err, sizeof(err)) != 0)
		log_fatal("%s", err);
	if (!D.foreground && daemon(0, 0) != 0)
		log_fatal("daemon: %s", strerror(errno));
	write_pid(cfg->opt.pid_file);
	log_msg(LOG_NOTICE, "start", "gatekeeperd " GK_VERSION ", %u doors, "
	    "queues %u (knock) and %u (protected), backend %s%s",
	    cfg->ndoors, cfg->opt.queue, cfg->opt.protected_queue,
	    cfg->opt.ruleset_external ? "external ruleset, " : "",
	    nft_backend_name(D.backend));
	log_config_warnings(cfg);
	notify_ready();
	rc = event_loop(sigfd);
	notify_stopping();
	advance_one_time_doors();	/* marked before bgio stops */
	log_stop();
	teardown();
	state_write_now();
	if (D.run.cfg->opt.pid_file[0])
		unlink(D.run.cfg->opt.pid_file);
	running_free(&D.run);
	close(sigfd);
	log_msg(LOG_NOTICE, "stopped", "%s", rc == 0 ? "clean" : "on error");
	log_close(2000);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "print-rules", no_argument, NULL, 'R' },
		{ "remove-table", no_argument, NULL, 'X' },
		{ "install-table", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cfg_errors errs;
	int c, check = 0, rules = 0, install = 0;
	char err[512];
	struct config *cfg;

	D.conf_path = CFG_DEF_CONFIG;
	D.watchfd = -1;
	D.linkfd = -1;
	while ((c = getopt_long(argc, argv, "c:fhnV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': D.conf_path = optarg; break;
		case 'f': D.foreground = 1; break;
		case 'n': check = 1; break;
		case 'R': rules = 1; break;
		case 'I': install = 1; break;
		case 'X':
			if (optind != argc) {
				usage(stderr);
				return 2;
			}
			if (nft_remove(err, sizeof(err)) != 0) {
				fprintf(stderr, "gatekeeperd: %s\n", err);
				return 1;
			}
			puts("table inet " NFT_TABLE " removed: nothing is "
			    "gated now");
			return 0;
		case 'V': puts("gatekeeperd " GK_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* --print-rules shows the table for any host's file: no host check. */
	if (rules) {
		if ((cfg = malloc(sizeof(*cfg))) == NULL ||
		    conffile_load(D.conf_path, cfg, &errs) != 0) {
			conffile_print_errors(stderr, &errs);
			free(cfg);
			return 1;
		}
		c = print_rules(cfg);
		free(cfg);
		return c;
	}
	if ((cfg = load(D.conf_path, &errs)) == NULL) {
		conffile_print_errors(stderr, &errs);
		return 1;
	}
	if (check) {
		conffile_print_summary(stdout, D.conf_path, cfg);
		free(cfg);
		return 0;
	}
	if (install) {
		c = install_only(cfg);
		free(cfg);
		return c;
	}
	return run_daemon(cfg);
}
