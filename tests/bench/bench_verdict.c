/*
 * bench-verdict: what the daemon's pure decision costs per packet as the
 * number of tracked sources grows from 1 to 1,048,576 (Max_Sources'
 * limit), and what a tracked source costs in memory.  The packets go
 * through verdict_decide() as raw IPv4 bytes, exactly as the queue hands
 * them over, and each verdict's log line is formatted into a buffer as
 * the daemon does (whether the rate limit would then print it or not).
 * Prints numbers; asserts only that the workload does what it claims (N
 * sources tracked, each packet a knock that counts, but for the rare
 * signature collision).
 *
 *   tracked    Max_Sources = 1048576; N sources hold a first knock; each
 *              packet comes from one of them (random), knocking the first
 *              port again with a new sequence number, on average 3 s
 *              after that source's last (Seq_Timeout 1 s): a lookup, the
 *              old attempt's end and a new one, the table's size
 *              unchanged.
 *   flood      Max_Sources = N, full; each packet a first knock from a
 *              source never seen: an eviction and an insert (a spoofed
 *              flood once the table is full).
 *   scan       Max_Sources = N, full; each packet a SYN to a port nobody
 *              knocks or opens, from a source never seen (a spoofed
 *              flood the scan guard watches).
 *
 * Memory: the knock table's bytes in use (knock_memory) per tracked
 * source, the record alone, and the process's RSS growth while filling.
 * Packets are decided in bursts of BURST, each burst's sources first
 * handed to verdict_prefetch() as the daemon does (BV_NOPREFETCH=1: not).
 * Each row's time is the median of REPEAT runs of PACKETS packets on the
 * same table (the machine's noise moves a single run by a third).
 * Usage: bench-verdict [PACKETS per run [N: only the rows of N sources]].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"
#include "grant.h"
#include "knock.h"
#include "logfmt.h"
#include "scanwatch.h"
#include "verdict.h"

#define CONF "[options]\nMax_Sources = %u\nLockout_After = 0\n\n" \
	"[ssh]\nSequence = 7000,8000,9000\nSeq_Timeout = %u\n" \
	"Open_Ports = 22\n"

static const struct siphash_key key = { 0x0123456789abcdefULL,
	0xfedcba9876543210ULL };
static volatile size_t sink;

#define REPEAT 5
#define BURST 32		/* packets decided together, as the daemon's */
static int no_prefetch;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long
rss_kb(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * 4;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* An IPv4 TCP SYN from 10.0.0.0 + src to 192.0.2.1:dport. */
static size_t
syn(uint8_t *b, uint32_t src, uint16_t dport, uint32_t seq)
{
	memset(b, 0, 40);
	b[0] = 0x45;
	b[3] = 40;
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	src += 0x0a000000u;
	b[12] = (uint8_t)(src >> 24);
	b[13] = (uint8_t)(src >> 16);
	b[14] = (uint8_t)(src >> 8);
	b[15] = (uint8_t)src;
	b[16] = 192, b[17] = 0, b[18] = 2, b[19] = 1;
	b[20] = 0x9c, b[21] = 0x40;		/* source port 40000 */
	b[22] = (uint8_t)(dport >> 8);
	b[23] = (uint8_t)dport;
	memcpy(b + 24, &seq, 4);
	b[32] = 0x50;				/* data offset 5 */
	b[33] = 0x02;				/* SYN */
	b[34] = 0xfa, b[35] = 0xf0;
	return 40;
}

struct bench {
	struct config cfg;
	struct knock_table *kt;
	struct grant_table *gt;
	struct scanwatch *sw;
	struct gk_state s;
	struct verdict v;
	uint8_t q[BURST][40];	/* packets waiting for their burst */
	unsigned nq;
	int64_t ms, us;
	int64_t step_us;	/* the clock's move per packet */
	unsigned stage1;	/* packets that (re)started an attempt */
};

static int
bench_init(struct bench *b, unsigned max_sources, unsigned seq_timeout)
{
	struct cfg_errors err;
	char text[256];
	int n = snprintf(text, sizeof(text), CONF, max_sources, seq_timeout);

	memset(b, 0, sizeof(*b));
	if (config_parse(text, (size_t)n, "bench.conf", &b->cfg, &err) != 0) {
		fprintf(stderr, "bench-verdict: config: %s\n", err.msg[0]);
		return -1;
	}
	b->kt = knock_new(max_sources, &b->cfg, &key);
	b->gt = grant_new(max_sources, &key);
	b->sw = sw_new(max_sources, &key);
	if (b->kt == NULL || b->gt == NULL || b->sw == NULL)
		return -1;
	verdict_init(&b->s, &b->cfg, b->kt, b->gt, b->sw);
	b->ms = 1000000;
	b->us = b->ms * 1000;
	b->step_us = 1;
	return 0;
}

static void
bench_free(struct bench *b)
{
	knock_free(b->kt);
	grant_free(b->gt);
	sw_free(b->sw);
}

/* One packet, decided and its line formatted; then the clock moves. */
static void
decide_one(struct bench *b, const uint8_t *pkt, size_t n, int fmt)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	unsigned i;

	verdict_decide(&b->s, pkt, n, 0, b->ms, &b->v);
	for (i = 0; i < b->v.nev; i++)
		if (b->v.ev[i].type == KEV_STAGE && b->v.ev[i].stage == 1)
			b->stage1++;
	if (fmt) {
		for (i = 0; i < b->v.nev; i++) {
			lf_init(&l, line, sizeof(line));
			logfmt_knock(&l, &b->cfg, &b->v.pkt.src, &b->v.ev[i]);
			sink += l.len;
		}
		lf_init(&l, line, sizeof(line));
		logfmt_verdict(&l, &b->cfg, &b->v);
		sink += l.len;
	}
	b->us += b->step_us;
	b->ms = b->us / 1000;
}

/* The waiting packets, as the daemon takes a burst: each one's tables
 * asked for first (unless BV_NOPREFETCH is set), then each decided. */
static void
flush(struct bench *b, int fmt)
{
	unsigned k;

	if (!no_prefetch)
		for (k = 0; k < b->nq; k++)
			verdict_prefetch(&b->s, b->q[k], sizeof(b->q[k]));
	for (k = 0; k < b->nq; k++)
		decide_one(b, b->q[k], sizeof(b->q[k]), fmt);
	b->nq = 0;
}

/* A packet for the burst (decided once BURST wait; flush() the rest). */
static void
one(struct bench *b, uint32_t src, uint16_t dport, uint32_t seq, int fmt)
{
	(void)syn(b->q[b->nq++], src, dport, seq);
	if (b->nq == BURST)
		flush(b, fmt);
}

/* Fill sources 0..n-1 with a first knock. */
static void
fill(struct bench *b, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		one(b, i, 7000, i + 1, 0);
	flush(b, 0);
}

static int
row_tracked(unsigned n, unsigned packets, int fmt)
{
	struct bench b;
	struct knock_stats st;
	long r0, r1;
	double t0, t[REPEAT];
	unsigned i, k;

	r0 = rss_kb();
	if (bench_init(&b, CFG_LIM_MAX_SOURCES, 1) != 0)
		return -1;
	b.step_us = 3000000 / n > 0 ? 3000000 / n : 1;
	fill(&b, n);
	r1 = rss_kb();
	st = b.kt->st;
	b.stage1 = 0;
	for (k = 0; k < REPEAT; k++) {
		t0 = now_s();
		for (i = 0; i < packets; i++)
			one(&b, next_rand() % n, 7000,
			    (uint32_t)n + k * packets + i + 1, fmt);
		flush(&b, fmt);
		t[k] = now_s() - t0;
	}
	/* A knock whose 32-bit signature equals one of the 34 its source
	 * sent last is taken for a retransmission: ~1 in 10^8. */
	if (st.used != n || b.stage1 + REPEAT * packets / 1000000 <
	    REPEAT * packets) {
		fprintf(stderr, "bench-verdict: %u sources tracked, %u of %u "
		    "packets counted\n", st.used, b.stage1, REPEAT * packets);
		bench_free(&b);
		return -1;
	}
	printf("tracked %8u: %6.0f ns/verdict%s | knock table %5.1f bytes per "
	    "source (records %zu), RSS +%.1f bytes per source\n", n,
	    median(t, REPEAT) * 1e9 / packets, fmt ? " with its line" :
	    "              ",
	    (double)knock_memory(b.kt) / n, sizeof(struct knock_src),
	    (double)(r1 - r0) * 1024 / n);
	bench_free(&b);
	return 0;
}

/* A full table of n sources, then packets to dport from sources never
 * seen: a spoofed flood.  Returns the median ns per packet, or -1. */
static double
new_sources(struct bench *b, unsigned n, unsigned packets, uint16_t dport)
{
	double t0, t[REPEAT];
	unsigned i, k;

	if (bench_init(b, n, 30) != 0)
		return -1;
	fill(b, n);
	b->stage1 = 0;
	for (k = 0; k < REPEAT; k++) {
		t0 = now_s();
		for (i = 0; i < packets; i++)
			one(b, n + k * packets + i, dport, i + 1, 1);
		flush(b, 1);
		t[k] = now_s() - t0;
	}
	return median(t, REPEAT) * 1e9 / packets;
}

/* flood (scan 0): first knocks, each an eviction; scan: a port the scan
 * guard watches, each a new entry in its table. */
static int
row_new(unsigned n, unsigned packets, int scan)
{
	struct bench b;
	double ns = new_sources(&b, n, packets, scan ? 5555 : 7000);
	int ok = scan ? b.v.reason == VR_OBSERVED :
	    b.stage1 == REPEAT * packets;

	if (ns < 0)
		return -1;
	if (b.kt->st.used != n || !ok) {
		fprintf(stderr, "bench-verdict: %s: %u tracked, %u counted, "
		    "reason %d\n", scan ? "scan" : "flood", b.kt->st.used,
		    b.stage1, (int)b.v.reason);
		bench_free(&b);
		return -1;
	}
	printf("%s %8u: %6.0f ns/verdict with its line (%s)\n",
	    scan ? "scan   " : "flood  ", n, ns, scan ? "new sources, a port "
	    "the scan guard watches" : "table full: an eviction each");
	bench_free(&b);
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned ns[] = { 1, 1000, 10000, 100000, 1048576 };
	unsigned packets = argc > 1 ? (unsigned)atoi(argv[1]) : 1000000;
	unsigned only = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	size_t i;

	if (packets == 0)
		packets = 1000000;
	no_prefetch = getenv("BV_NOPREFETCH") != NULL;
	printf("bench-verdict: verdict_decide() per packet, one core, in "
	    "bursts of %d%s, median of %d runs of %u packets per row\n",
	    BURST, no_prefetch ? " (no prefetch)" : "", REPEAT, packets);
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		if ((only == 0 || only == ns[i]) &&
		    (row_tracked(ns[i], packets, 0) != 0 ||
		    row_tracked(ns[i], packets, 1) != 0))
			return 1;
	for (i = 1; i < sizeof(ns) / sizeof(ns[0]); i++)
		if ((only == 0 || only == ns[i]) &&
		    row_new(ns[i], packets, 0) != 0)
			return 1;
	for (i = 1; i < sizeof(ns) / sizeof(ns[0]); i++)
		if ((only == 0 || only == ns[i]) &&
		    row_new(ns[i], packets, 1) != 0)
			return 1;
	return 0;
}
