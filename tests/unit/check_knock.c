/* Unit tests: knock sequence state machine and its table. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>

#include "knock.h"
#include "suites.h"
#include "testutil.h"

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define SYN TCPF_SYN

static const struct siphash_key key = { 3, 4 };

static const char *const three = "[openSSH]\n"
    "Sequence = 7000,8000,9000\n"
    "Seq_Timeout = 5\n"
    "Open_Ports = 22\n";

struct run {
	struct knock_table *t;
	const struct config *cfg;
	struct knock_event ev[KNOCK_MAX_EVENTS];
	unsigned n;
	struct pkt last;	/* the last packet sent */
	uint32_t seq;		/* a new TCP sequence number per knock */
};

static void
setup(struct run *r, const char *conf, unsigned cap)
{
	r->seq = 1000;
	r->cfg = tu_config(conf);
	r->t = knock_new(cap, r->cfg, &key);
	ck_assert_ptr_nonnull(r->t);
}

static unsigned
feed_at(struct run *r, const struct pkt *p, enum knock_where w, int64_t ms)
{
	r->last = *p;
	r->n = knock_packet(r->t, r->cfg, p, w, ms, r->ev);
	return r->n;
}

static unsigned
feed(struct run *r, const struct pkt *p, int64_t ms)
{
	return feed_at(r, p, KNOCK_AT_PORT, ms);
}

/* A packet from src to port at time ms, as a new connection (a new TCP
 * sequence number, a new source port); keeps the events in r. */
static struct pkt
fresh(struct run *r, const char *src, uint8_t proto, uint16_t port,
    uint8_t flags)
{
	struct pkt p = tu_pkt(src, "192.0.2.1", proto, port, flags);

	p.tcpseq = r->seq++;
	p.sport = (uint16_t)(40000 + r->seq % 20000);
	return p;
}

/* A knock: a packet to a knock port. */
static unsigned
hit(struct run *r, const char *src, uint8_t proto, uint16_t port,
    uint8_t flags, int64_t ms)
{
	struct pkt p = fresh(r, src, proto, port, flags);

	return feed(r, &p, ms);
}

/* The last packet again, as a retransmission. */
static unsigned
resend(struct run *r, int64_t ms)
{
	struct pkt p = r->last;

	return feed(r, &p, ms);
}

/* A SYN from src to a port that is no knock port (watched by
 * Scan_Guard). */
static unsigned
touch(struct run *r, const char *src, uint16_t port, int64_t ms)
{
	struct pkt p = fresh(r, src, TCP, port, SYN);

	return feed_at(r, &p, KNOCK_ELSEWHERE, ms);
}

/* Did the last packet produce event type for door with stage? */
static int
has(const struct run *r, int type, unsigned door, unsigned stage)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (r->ev[i].type == type && r->ev[i].door == door &&
		    r->ev[i].stage == stage)
			return 1;
	return 0;
}

static int
completes(const struct run *r)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (r->ev[i].type == KEV_COMPLETE)
			return 1;
	return 0;
}

START_TEST(full_sequence)
{
	struct run r;

	setup(&r, three, 16);
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 7000, SYN, 0), 1);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	ck_assert_int_eq(r.ev[0].len, 3);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 100);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 200);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	/* The source stays known for the hold window, for its
	 * retransmissions: one record, its history cell, no attempt. */
	ck_assert_uint_eq(r.t->st.used, 1);
	ck_assert_uint_eq(r.t->st.cells_used, 1);
	knock_free(r.t);
}
END_TEST

START_TEST(first_port_out_of_turn_is_ignored)
{
	struct run r;

	setup(&r, three, 16);
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 8000, SYN, 0), 0);
	ck_assert_uint_eq(r.t->st.used, 0);	/* nothing recorded */
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 1234, SYN, 0), 0);
	ck_assert_uint_eq(r.t->st.cells_used, 0);
	knock_free(r.t);
}
END_TEST

START_TEST(timeout_counts_from_first_knock)
{
	struct run r;

	setup(&r, three, 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 4000);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	/* 5.001 s after the first knock, though only 1 s after the last. */
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 5001);
	ck_assert(has(&r, KEV_TIMEOUT, 0, 2));
	ck_assert(!has(&r, KEV_COMPLETE, 0, 3));
	/* Exactly at the limit still counts. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 10000);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 12000);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 15000);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	knock_free(r.t);
}
END_TEST

START_TEST(wrong_port_resets)
{
	struct run r;

	setup(&r, three, 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 10);
	ck_assert(has(&r, KEV_RESET, 0, 1));
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 20);
	ck_assert_uint_eq(r.n, 0);		/* no progress left */
	/* The first port out of turn restarts the attempt at stage 1. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 30);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 40);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 50);
	ck_assert(has(&r, KEV_RESET, 0, 2));
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 60);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 70);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	knock_free(r.t);
}
END_TEST

START_TEST(another_doors_port_resets)
{
	struct run r;

	setup(&r, "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 7001:udp,8001:udp,9001:udp\nOpen_Ports = 23\n",
	    16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10);
	/* b's first knock in between: a starts over, b starts. */
	hit(&r, "10.0.0.1", UDP, 7001, 0, 20);
	ck_assert(has(&r, KEV_RESET, 0, 2) && has(&r, KEV_STAGE, 1, 1));
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 9000, SYN, 30), 1);
	ck_assert(has(&r, KEV_RESET, 1, 1));
	knock_free(r.t);
}
END_TEST

START_TEST(shared_prefix_in_parallel)
{
	struct run r;

	setup(&r, "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 7000,8000,9100\nOpen_Ports = 23\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	ck_assert(has(&r, KEV_STAGE, 0, 1) && has(&r, KEV_STAGE, 1, 1));
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10);
	ck_assert(has(&r, KEV_STAGE, 0, 2) && has(&r, KEV_STAGE, 1, 2));
	/* 9100 completes b and is no knock of a: a ends, no failure. */
	hit(&r, "10.0.0.1", TCP, 9100, SYN, 20);
	ck_assert_uint_eq(r.n, 2);
	ck_assert(has(&r, KEV_COMPLETE, 1, 3) && has(&r, KEV_RESET, 0, 2));
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 9000, SYN, 30), 0);
	knock_free(r.t);
}
END_TEST

START_TEST(protocols_must_match)
{
	struct run r;

	setup(&r, "[mix]\nSequence = 7000:udp,8000:tcp,9000:udp\n"
	    "Open_Ports = 22\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);		/* 7000/tcp: not ours */
	ck_assert_uint_eq(r.n, 0);
	hit(&r, "10.0.0.1", UDP, 7000, 0, 0);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 20);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 30);	/* 9000/tcp: wrong */
	ck_assert(has(&r, KEV_RESET, 0, 2));
	hit(&r, "10.0.0.1", UDP, 7000, 0, 40);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 50);
	hit(&r, "10.0.0.1", UDP, 9000, 0, 60);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	knock_free(r.t);
}
END_TEST

START_TEST(tcp_flags_filter)
{
	struct run r;

	setup(&r, "[d]\nSequence = 7000,8000\nTCPFlags = syn,!ack\n"
	    "Open_Ports = 22\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, TCPF_SYN | TCPF_ACK, 0);
	ck_assert_uint_eq(r.n, 0);		/* no knock */
	hit(&r, "10.0.0.1", TCP, 7000, TCPF_FIN, 0);
	ck_assert_uint_eq(r.n, 0);
	/* An ECN SYN is a SYN. */
	hit(&r, "10.0.0.1", TCP, 7000, TCPF_SYN | TCPF_ECE | TCPF_CWR, 0);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	/* A packet that does not match the flags is no knock: it resets. */
	hit(&r, "10.0.0.1", TCP, 8000, TCPF_SYN | TCPF_ACK, 5);
	ck_assert(has(&r, KEV_RESET, 0, 1));
	hit(&r, "10.0.0.1", TCP, 7000, TCPF_SYN, 10);
	hit(&r, "10.0.0.1", TCP, 8000, TCPF_SYN | TCPF_PSH, 10);
	ck_assert(has(&r, KEV_COMPLETE, 0, 2));
	knock_free(r.t);
}
END_TEST

/* Without TCPFlags only a plain SYN knocks: what every nmap scan type but
 * -sS/-sT sends is no knock and resets. */
START_TEST(default_flags_are_a_plain_syn)
{
	static const uint8_t not_syn[] = {
		0,					/* -sN */
		TCPF_FIN,				/* -sF */
		TCPF_FIN | TCPF_PSH | TCPF_URG,		/* -sX */
		TCPF_ACK,				/* -sA, -sW */
		TCPF_FIN | TCPF_ACK,			/* -sM */
		TCPF_SYN | TCPF_ACK, TCPF_RST, TCPF_SYN | TCPF_FIN,
		TCPF_SYN | TCPF_RST,
	};
	struct run r;
	unsigned i;

	setup(&r, "[options]\nLockout_After = 0\n"
	    "[d]\nSequence = 7000,8000\nOpen_Ports = 22\n", 16);
	for (i = 0; i < sizeof(not_syn); i++) {
		ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 7000, not_syn[i],
		    (int64_t)i * 10), 0);
		hit(&r, "10.0.0.2", TCP, 7000, SYN, (int64_t)i * 10);
		hit(&r, "10.0.0.2", TCP, 8000, not_syn[i], (int64_t)i * 10 + 1);
		ck_assert_msg(has(&r, KEV_RESET, 0, 1), "flags %#x",
		    not_syn[i]);
	}
	ck_assert_uint_eq(r.t->st.used, 1);
	hit(&r, "10.0.0.1", TCP, 7000, SYN | TCPF_ECE | TCPF_CWR, 100);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	knock_free(r.t);
}
END_TEST

START_TEST(sources_are_separate)
{
	struct run r;

	setup(&r, three, 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.2", TCP, 8000, SYN, 10);
	ck_assert_uint_eq(r.n, 0);
	hit(&r, "2001:db8::1", TCP, 7000, SYN, 10);
	hit(&r, "2001:db8::1", TCP, 8000, SYN, 20);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 30);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	hit(&r, "2001:db8::1", TCP, 9000, SYN, 40);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	ck_assert_uint_eq(r.t->st.used, 2);
	knock_free(r.t);
}
END_TEST

START_TEST(target_address)
{
	struct run r;
	struct pkt p;

	setup(&r, "[d]\nSequence = 7000,8000\nTarget = 192.0.2.9\n"
	    "Open_Ports = 22\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);	/* to 192.0.2.1 */
	ck_assert_uint_eq(r.n, 0);
	p = tu_pkt("10.0.0.1", "192.0.2.9", TCP, 7000, SYN);
	ck_assert_uint_eq(feed(&r, &p, 0), 1);
	ck_assert_int_eq(r.ev[0].type, KEV_STAGE);
	/* The right port to another address is no knock: it resets. */
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1);
	ck_assert(has(&r, KEV_RESET, 0, 1));
	knock_free(r.t);
}
END_TEST

START_TEST(one_knock_door)
{
	struct run r;
	/* The config refuses one-knock doors (any scan would open them);
	 * the table still handles one, should a door ever have it. */
	struct config *c = tu_config("[one]\nSequence = 7000,9000\n"
	    "Open_Ports = 22\n");

	c->door[0].seq_len = 1;
	r.seq = 1000;
	r.cfg = c;
	r.t = knock_new(16, c, &key);
	ck_assert_ptr_nonnull(r.t);
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 7000, SYN, 0), 1);
	ck_assert(has(&r, KEV_COMPLETE, 0, 1));
	/* Its retransmission is no second completion. */
	ck_assert_uint_eq(resend(&r, 1000), 0);
	knock_free(r.t);
}
END_TEST

static void
src_n(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "10.1.%u.%u", i / 256, i % 256);
}

START_TEST(full_table_evicts_least_advanced)
{
	struct run r;
	char s[32];
	unsigned i;

	setup(&r, three, 4);
	/* Oldest source is furthest along; it must survive the flood. */
	hit(&r, "10.9.9.9", TCP, 7000, SYN, 0);
	hit(&r, "10.9.9.9", TCP, 8000, SYN, 1);
	for (i = 0; i < 100; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, 2 + i);
		ck_assert_uint_le(r.t->st.used, 4);
	}
	ck_assert_uint_eq(r.t->st.used, 4);
	ck_assert_uint_eq(r.t->st.evicted, 97);
	hit(&r, "10.9.9.9", TCP, 9000, SYN, 200);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	knock_free(r.t);
}
END_TEST

/* Under a flood of spoofed first knocks into a full table, a first knock
 * stays for as many flood packets as the table holds sources (what
 * gatekeeper.conf(5) promises for Max_Sources), as with an LRU list. */
START_TEST(first_knock_outlives_a_table_of_flood)
{
	struct run r;
	struct addr a;
	struct knock_prog kp;
	char s[32];
	unsigned i, k;

	setup(&r, three, 100);
	for (i = 0; i < 300; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, 0);
	}
	addr_parse("10.9.9.9", &a);
	hit(&r, "10.9.9.9", TCP, 7000, SYN, 1);
	for (k = 0; knock_peek(r.t, &a, 0, &kp); k++) {
		src_n(s, sizeof(s), 300 + k);
		hit(&r, s, TCP, 7000, SYN, 2);
		ck_assert_uint_lt(k, 1000);
	}
	ck_assert_uint_eq(k, 100);
	knock_free(r.t);
}
END_TEST

START_TEST(stale_sources_are_reclaimed_not_evicted)
{
	struct run r;
	char s[32];
	unsigned i;

	setup(&r, three, 4);
	for (i = 0; i < 4; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, 0);
	}
	/* Seq_Timeout (5 s) later, their progress is dead weight. */
	for (i = 4; i < 8; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, 6000);
	}
	ck_assert_uint_eq(r.t->st.evicted, 0);
	ck_assert_uint_eq(r.t->st.reclaimed, 4);
	ck_assert_uint_eq(r.t->st.used, 4);
	knock_free(r.t);
}
END_TEST

/* Sources far along many doors at once use many cells: when the pool is
 * dry, other sources make room, and the tables stay bounded. */
START_TEST(cell_pool_is_bounded)
{
	char conf[4096], s[32];
	struct run r;
	size_t n = 0;
	unsigned i;

	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(conf + n, sizeof(conf) - n,
		    "[d%u]\nSequence = 7000,8000,%u\nOpen_Ports = %u\n", i,
		    9000 + 2 * i, 100 + i);
	setup(&r, conf, 16);		/* 16 sources, 64 cells */
	for (i = 0; i < 40; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, i);
		ck_assert_uint_le(r.t->st.cells_used, r.t->ncells);
		ck_assert_uint_le(r.t->st.used, 16);
	}
	/* Each holds 20 attempts and a history cell: three fit at once. */
	ck_assert_uint_le(r.t->st.used, 3);
	ck_assert_uint_gt(r.t->st.evicted, 30);
	/* The newest is intact and can finish any door. */
	src_n(s, sizeof(s), 39);
	hit(&r, s, TCP, 8000, SYN, 100);
	ck_assert_uint_eq(r.n, 20);
	hit(&r, s, TCP, 9000 + 2 * 7, SYN, 101);
	ck_assert(has(&r, KEV_COMPLETE, 7, 3));
	knock_free(r.t);
}
END_TEST

/* Memory follows use: a record and a cell (its progress) per first knock;
 * the knock's signature is kept in the record. */
START_TEST(memory_follows_use)
{
	struct run r;
	size_t base, used;
	char s[32];
	unsigned i;

	setup(&r, three, 65536);
	base = knock_memory(r.t);
	for (i = 0; i < 1000; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, i);
	}
	used = knock_memory(r.t) - base;
	ck_assert_uint_eq(used, 1000 * (64 + 16));
	ck_assert_uint_eq(r.t->st.cells_used, 1000);
	knock_free(r.t);
}
END_TEST

/* The table's slots under random traffic through a small table: every
 * slot is a source (found under its own address, in its bucket's chain),
 * a released slot (on the free list, once) or never used, and the counts
 * agree.  Knocks, wrong knocks, completions, scans, forgetting and
 * evictions all move slots between the three. */
static void
check_slots(const struct knock_table *t)
{
	unsigned i, used = 0, freed = 0, never = 0, chained = 0;
	uint32_t f, prev = 0, j;

	for (i = 0; i < t->cap; i++) {
		const struct knock_src *e = &t->ent[i];

		if (e->flags & KS_USED) {
			used++;
			ck_assert(!(e->flags & KS_FREE));
		} else if (e->flags & KS_FREE)
			freed++;
		else
			never++;
		/* Only buckets have chains (a new bucket starts empty). */
		if (i >= (1u << t->level) + t->split)
			ck_assert_uint_eq(e->head, 0);
		for (j = e->head; j; j = t->ent[j - 1].hnext) {
			ck_assert(t->ent[j - 1].flags & KS_USED);
			chained++;
		}
	}
	ck_assert_uint_eq(used, t->st.used);
	ck_assert_uint_eq(chained, used);	/* each in exactly one chain */
	ck_assert_uint_eq(used + freed + never, t->cap);
	ck_assert_uint_le(used + freed, t->top);
	for (i = t->top; i < t->cap; i++)	/* nothing above it touched */
		ck_assert(t->ent[i].flags == 0 && t->ent[i].head == 0);
	for (f = t->free_head, i = 0; f; f = t->ent[f - 1].hnext, i++) {
		ck_assert(t->ent[f - 1].flags & KS_FREE);
		ck_assert_uint_eq(t->ent[f - 1].attempts, prev);
		prev = f;
		ck_assert_uint_le(i, freed);
	}
	ck_assert_uint_eq(i, freed);
	/* A source its lookup missed would have been inserted twice. */
	for (i = 0; i < t->cap; i++)
		for (j = i + 1; j < t->cap; j++)
			ck_assert(!(t->ent[i].flags & t->ent[j].flags & KS_USED) ||
			    !addr_equal(&t->ent[i].src, &t->ent[j].src));
}

START_TEST(slots_stay_consistent)
{
	static const uint16_t ports[] = { 7000, 8000, 9000, 7100, 1234 };
	struct run r;
	struct addr a;
	char s[32];
	uint64_t x = 88172645463325252ULL;
	unsigned i, k;

	setup(&r, "[a]\nSequence = 7000,8000,9000\nSeq_Timeout = 2\n"
	    "Open_Ports = 22\n[b]\nSequence = 7100,8000\nSeq_Timeout = 1\n"
	    "Open_Ports = 23\n", 37);
	for (i = 0; i < 20000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		src_n(s, sizeof(s), (unsigned)(x % 97));
		k = (unsigned)(x >> 20) % 16;
		if (k == 15) {
			addr_parse(s, &a);
			knock_forget(r.t, &a);
		} else {
			struct pkt p = fresh(&r, s, TCP, ports[k % 5], SYN);

			feed_at(&r, &p, k < 12 ? KNOCK_AT_PORT :
			    KNOCK_ELSEWHERE, (int64_t)i * 3);
		}
		ck_assert_uint_le(r.t->st.used, 37);
		if (i % 97 == 0)
			check_slots(r.t);
	}
	check_slots(r.t);
	ck_assert_uint_gt(r.t->st.evicted + r.t->st.reclaimed, 100);
	knock_free(r.t);
}
END_TEST

START_TEST(forget_and_peek)
{
	struct run r;
	struct addr a;
	struct knock_prog kp;

	setup(&r, three, 8);
	addr_parse("10.0.0.1", &a);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 100);
	ck_assert(knock_peek(r.t, &a, 0, &kp));
	ck_assert_int_eq(kp.stage, 1);
	ck_assert_int_eq(kp.start_ms, 100);
	ck_assert(knock_live(&r.cfg->door[0], &kp, 5100));
	ck_assert(!knock_live(&r.cfg->door[0], &kp, 5101));
	knock_forget(r.t, &a);
	ck_assert(!knock_peek(r.t, &a, 0, &kp));
	ck_assert_uint_eq(r.t->st.used, 0);
	ck_assert_uint_eq(r.t->st.cells_used, 0);
	knock_free(r.t);
}
END_TEST

START_TEST(iterator_lists_live_attempts)
{
	struct run r;
	struct knock_iter it;
	struct knock_prog p;
	unsigned n = 0;

	setup(&r, "[a]\nSequence = 7000,8000,9000\nSeq_Timeout = 5\n"
	    "Open_Ports = 22\n[b]\nSequence = 7000,8100\nSeq_Timeout = 1\n"
	    "Open_Ports = 23\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.2", TCP, 7000, SYN, 10);
	knock_iter_init(&it);
	while (knock_iter_next(r.t, r.cfg, &it, 500, &p))
		n++;
	ck_assert_uint_eq(n, 4);
	/* b's attempts are over after a second; a's go on. */
	knock_iter_init(&it);
	n = 0;
	while (knock_iter_next(r.t, r.cfg, &it, 2000, &p)) {
		ck_assert_uint_eq(p.door, 0);
		n++;
	}
	ck_assert_uint_eq(n, 2);
	knock_free(r.t);
}
END_TEST

/* --- retransmissions ---------------------------------------------------- */

START_TEST(retransmission_is_not_a_wrong_knock)
{
	struct run r;

	setup(&r, three, 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	/* The kernel retries an unanswered SYN after 1 s: same port, same
	 * sequence number.  No event, no reset. */
	ck_assert_uint_eq(resend(&r, 1000), 0);
	ck_assert_uint_eq(r.t->st.duplicates, 1);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1100);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	ck_assert_uint_eq(resend(&r, 2100), 0);
	ck_assert_uint_eq(resend(&r, 4100), 0);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 4200);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	ck_assert_uint_eq(r.t->st.duplicates, 3);
	knock_free(r.t);
}
END_TEST

START_TEST(retransmission_keeps_no_ecn)
{
	struct run r;

	setup(&r, three, 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN | TCPF_ECE | TCPF_CWR, 0);
	/* Linux retries an ECN SYN without ECE and CWR. */
	r.last.tcpflags = SYN;
	ck_assert_uint_eq(resend(&r, 1000), 0);
	ck_assert_uint_eq(r.t->st.duplicates, 1);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1100);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	knock_free(r.t);
}
END_TEST

START_TEST(new_knock_to_same_port_is_wrong)
{
	struct run r;
	struct pkt p;

	setup(&r, three, 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10);
	/* A new connection to 8000: another sequence number. */
	p = r.last;
	p.tcpseq++;
	feed(&r, &p, 20);
	ck_assert(has(&r, KEV_RESET, 0, 2));
	/* Another source port is another connection too. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 30);
	p = r.last;
	p.sport++;
	feed(&r, &p, 40);
	ck_assert(has(&r, KEV_RESET, 0, 1));
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	ck_assert_uint_eq(r.t->st.duplicates, 0);
	knock_free(r.t);
}
END_TEST

/* Linux retries the SYN of an earlier knock after a later one went out:
 * a retransmission of any knock of the attempt is ignored. */
START_TEST(older_knock_repeated_is_a_duplicate)
{
	struct run r;
	struct pkt first, second;

	setup(&r, three, 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	first = r.last;
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10);
	second = r.last;
	ck_assert_uint_eq(feed(&r, &first, 1000), 0);
	ck_assert_uint_eq(feed(&r, &second, 1010), 0);
	ck_assert_uint_eq(r.t->st.duplicates, 2);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 1100);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	knock_free(r.t);
}
END_TEST

/* A whole round retransmitted after the sequence completed: no second
 * completion (and so no second Start_Command). */
START_TEST(retransmitted_round_completes_once)
{
	struct run r;
	struct pkt k[3];
	unsigned i, done = 0;

	setup(&r, three, 16);
	for (i = 0; i < 3; i++) {
		hit(&r, "10.0.0.1", TCP, (uint16_t)(7000 + 1000 * i), SYN, i);
		k[i] = r.last;
		done += completes(&r);
	}
	ck_assert_uint_eq(done, 1);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(feed(&r, &k[i], 1000 + i), 0);
		ck_assert_uint_eq(feed(&r, &k[i], 3000 + i), 0);
	}
	ck_assert_uint_eq(r.t->st.duplicates, 6);
	/* Past the hold window (the longest Seq_Timeout) it is history. */
	ck_assert_uint_eq(feed(&r, &k[0], 6000), 1);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	knock_free(r.t);
}
END_TEST

START_TEST(udp_retransmission_by_payload)
{
	static const uint8_t hello[] = "hello", world[] = "world";
	struct run r;
	struct pkt p;

	setup(&r, "[u]\nSequence = 7000:udp,7000:udp,8000:udp\n"
	    "Open_Ports = 22\n", 16);
	p = tu_pkt("10.0.0.1", "192.0.2.1", UDP, 7000, 0);
	p.payload = hello;
	p.payload_len = 5;
	feed(&r, &p, 0);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	/* The same datagram again: a duplicate. */
	ck_assert_uint_eq(feed(&r, &p, 10), 0);
	/* Same length, other bytes: a knock (the sequence repeats 7000). */
	p.payload = world;
	feed(&r, &p, 20);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	/* Same bytes, other length: a knock too (a wrong one here). */
	p.payload_len = 4;
	feed(&r, &p, 30);
	ck_assert(has(&r, KEV_RESET, 0, 2));
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	/* Empty datagrams from one port look alike. */
	p.payload = NULL;
	p.payload_len = 0;
	feed(&r, &p, 40);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	ck_assert_uint_eq(feed(&r, &p, 50), 0);
	ck_assert_uint_eq(r.t->st.duplicates, 2);
	knock_free(r.t);
}
END_TEST

/* --- elsewhere: Scan_Guard ---------------------------------------------- */

START_TEST(elsewhere_resets_every_door)
{
	struct run r;

	setup(&r, "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 6000,9100\nSeq_Timeout = 1\nOpen_Ports = 23\n"
	    "[c]\nSequence = 6000,6002\nOpen_Ports = 24\n", 16);
	hit(&r, "10.0.0.1", TCP, 6000, SYN, 0);
	ck_assert(has(&r, KEV_STAGE, 1, 1) && has(&r, KEV_STAGE, 2, 1));
	/* 7000 ends both (at their first knock: no failure) and starts a. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 5);
	ck_assert_uint_eq(r.n, 3);
	ck_assert(has(&r, KEV_RESET, 1, 1) && has(&r, KEV_RESET, 2, 1));
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	ck_assert_uint_eq(touch(&r, "10.0.0.1", 80, 2000), 1);
	ck_assert(has(&r, KEV_RESET, 0, 2));
	ck_assert_uint_eq(r.t->st.scan_resets, 1);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 2010);
	ck_assert_uint_eq(r.n, 0);
	/* Nothing left to reset. */
	ck_assert_uint_eq(touch(&r, "10.0.0.1", 80, 2020), 0);
	ck_assert_uint_eq(r.t->st.scan_resets, 1);
	/* b's attempt is dead by the time the packet comes: a timeout. */
	hit(&r, "10.0.0.2", TCP, 6000, SYN, 3000);
	ck_assert_uint_eq(touch(&r, "10.0.0.2", 22, 5000), 2);
	ck_assert(has(&r, KEV_TIMEOUT, 1, 1) && has(&r, KEV_RESET, 2, 1));
	knock_free(r.t);
}
END_TEST

START_TEST(elsewhere_adds_no_source)
{
	struct run r;

	setup(&r, three, 16);
	ck_assert_uint_eq(touch(&r, "10.0.0.1", 80, 0), 0);
	ck_assert_uint_eq(r.t->st.used, 0);
	/* Other sources are not touched. */
	hit(&r, "10.0.0.2", TCP, 7000, SYN, 0);
	ck_assert_uint_eq(touch(&r, "10.0.0.1", 80, 1), 0);
	hit(&r, "10.0.0.2", TCP, 8000, SYN, 2);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	knock_free(r.t);
}
END_TEST

/* The configurations the scans below run against: ascending, descending
 * and mixed orders, TCP, UDP and mixed, with and without TCPFlags. */
static const char *const scan_doors = "[options]\nLockout_After = 0\n"
    "[asc]\nSequence = 1000,2000,3000\nOpen_Ports = 22\n"
    "[desc]\nSequence = 6000,5000,4000\nOpen_Ports = 23\n"
    "[mixed]\nSequence = 7000,9000,8000\nOpen_Ports = 24\n"
    "[near]\nSequence = 10000,10002,10004\nOpen_Ports = 25\n"
    "[flags]\nSequence = 11000,12000\nTCPFlags = fin\nOpen_Ports = 26\n"
    "[xmas]\nSequence = 13000,14000\nTCPFlags = fin,psh,urg\n"
    "Open_Ports = 27\n"
    "[udp]\nSequence = 1000:udp,2000:udp,3000:udp\nOpen_Ports = 28\n"
    "[udpnear]\nSequence = 15000:udp,15002:udp\nOpen_Ports = 29\n"
    "[mix]\nSequence = 16000,16001:udp,16003\nOpen_Ports = 30\n";

static int
knock_port(const struct config *cfg, uint8_t proto, unsigned port)
{
	unsigned d;

	for (d = 0; d < cfg->ndoors; d++)
		if (config_door_in_seq(&cfg->door[d], proto, (uint16_t)port))
			return 1;
	return 0;
}

/* One probe of a scan: a knock port or a port elsewhere, as the daemon
 * would see it. */
static unsigned
probe(struct run *r, uint8_t proto, unsigned port, uint8_t flags, int64_t ms)
{
	struct pkt p = fresh(r, "10.0.0.1", proto, (uint16_t)port,
	    proto == TCP ? flags : 0);

	feed_at(r, &p, knock_port(r->cfg, proto, port) ? KNOCK_AT_PORT :
	    KNOCK_ELSEWHERE, ms);
	return (unsigned)completes(r);
}

/* Every nmap scan type, ordered up, ordered down and at random, over every
 * port, TCP, UDP and both at once: no scan completes any door. */
START_TEST(port_scans_never_complete)
{
	static const uint8_t types[] = {
		TCPF_SYN, 0, TCPF_FIN, TCPF_FIN | TCPF_PSH | TCPF_URG,
		TCPF_ACK, TCPF_FIN | TCPF_ACK,
	};
	struct run r;
	uint32_t x = 1;
	unsigned t, port, i, done = 0, advanced = 0;
	int64_t ms = 0;

	setup(&r, scan_doors, 64);
	for (t = 0; t < sizeof(types); t++) {
		for (port = 1; port < 65536; port++, ms++) {
			done += probe(&r, TCP, port, types[t], ms);
			advanced += r.n;
		}
		for (port = 65535; port > 0; port--, ms++)
			done += probe(&r, TCP, port, types[t], ms);
		for (i = 0; i < 65535; i++, ms++) {
			x = x * 1103515245 + 12345;
			done += probe(&r, TCP, 1 + (x >> 8) % 65535, types[t],
			    ms);
		}
	}
	for (port = 1; port < 65536; port++, ms++)
		done += probe(&r, UDP, port, 0, ms);
	for (port = 65535; port > 0; port--, ms++)
		done += probe(&r, UDP, port, 0, ms);
	/* -sSU: both protocols, port by port. */
	for (port = 1; port < 65536; port++, ms++) {
		done += probe(&r, TCP, port, TCPF_SYN, ms);
		done += probe(&r, UDP, port, 0, ms);
		done += probe(&r, UDP, port, 0, ms);
	}
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_gt(advanced, 0);		/* it did knock */
	ck_assert_uint_gt(r.t->st.scan_resets, 0);
	knock_free(r.t);
}
END_TEST

/* The same doors do open for the right knocks. */
START_TEST(scan_doors_open_for_knocks)
{
	static const struct {
		uint8_t proto, flags;
		uint16_t port;
	} k[] = {
		{ TCP, SYN, 1000 }, { TCP, SYN, 2000 }, { TCP, SYN, 3000 },
		{ TCP, SYN, 6000 }, { TCP, SYN, 5000 }, { TCP, SYN, 4000 },
		{ TCP, TCPF_FIN, 11000 }, { TCP, TCPF_FIN, 12000 },
		{ UDP, 0, 15000 }, { UDP, 0, 15002 },
		{ TCP, SYN, 16000 }, { UDP, 0, 16001 }, { TCP, SYN, 16003 },
	};
	struct run r;
	unsigned i, done = 0;

	setup(&r, scan_doors, 64);
	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		hit(&r, "10.0.0.1", k[i].proto, k[i].port, k[i].flags, i);
		done += completes(&r);
	}
	ck_assert_uint_eq(done, 5);
	knock_free(r.t);
}
END_TEST

START_TEST(reset_all_ends_every_attempt)
{
	struct run r;
	struct addr a;
	struct knock_prog kp;

	setup(&r, three, 16);
	addr_parse("10.0.0.1", &a);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1);
	knock_reset_all(r.t, 2);
	ck_assert(!knock_peek(r.t, &a, 0, &kp));
	/* The next knock finds nothing to go on from, and is no failure. */
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 9000, SYN, 3), 0);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 4);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	ck_assert_uint_eq(r.t->st.invalidated, 1);
	knock_free(r.t);
}
END_TEST

/* --- lockout ------------------------------------------------------------- */

static const char *const locking = "[options]\n"
    "Lockout_After = 3\n"
    "Lockout_Time = 10\n"
    "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
    "[b]\nSequence = 7000,8100,9000\nOpen_Ports = 23\n";

/* One failed attempt of src at ms: two right knocks of door a, then a
 * packet elsewhere (the failure, at ms + 2).  Only an attempt past its
 * first knock can fail: a first knock and a reset would tell a prober
 * which ports are some door's first knock. */
static void
fail_once(struct run *r, const char *src, int64_t ms)
{
	hit(r, src, TCP, 7000, SYN, ms);
	hit(r, src, TCP, 8000, SYN, ms + 1);
	touch(r, src, 9100, ms + 2);
}

START_TEST(lockout_after_failures)
{
	struct run r;
	struct addr a;
	int64_t until = 0;

	setup(&r, locking, 16);
	addr_parse("10.0.0.1", &a);
	/* Both doors end at 7000 again (at their first knock): no failure,
	 * just a fresh start; so is a first knock and a reset. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 1);
	ck_assert(has(&r, KEV_RESET, 0, 1) && has(&r, KEV_RESET, 1, 1));
	touch(&r, "10.0.0.1", 9100, 2);
	ck_assert(has(&r, KEV_RESET, 0, 1) && has(&r, KEV_RESET, 1, 1));
	for (int k = 0; k < 5; k++) {
		hit(&r, "10.0.0.1", TCP, 7000, SYN, 10 + 2 * k);
		touch(&r, "10.0.0.1", 9100, 11 + 2 * k);
	}
	ck_assert_uint_eq(r.t->st.lockouts, 0);
	fail_once(&r, "10.0.0.1", 0 + 30);
	ck_assert(has(&r, KEV_RESET, 0, 2));
	fail_once(&r, "10.0.0.1", 100);
	ck_assert_uint_eq(r.t->st.lockouts, 0);
	ck_assert(!knock_locked(r.t, &a, 103, &until));
	fail_once(&r, "10.0.0.1", 200);
	ck_assert_uint_eq(r.n, 2);
	ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	ck_assert_int_eq(r.ev[1].type, KEV_LOCKOUT);
	ck_assert_uint_eq(r.ev[1].len, 0);
	ck_assert_uint_eq(r.t->st.lockouts, 1);
	ck_assert(knock_locked(r.t, &a, 203, &until));
	ck_assert_int_eq(until, 202 + 10000);
	ck_assert(knock_locked(r.t, &a, 10201, NULL));

	/* Locked out: even the right sequence does nothing, silently. */
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 7000, SYN, 300), 0);
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 8000, SYN, 301), 0);
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 9000, SYN, 302), 0);
	ck_assert_uint_eq(r.t->st.locked, 3);
	ck_assert_uint_eq(r.t->st.lockouts, 1);
	/* Others are not. */
	hit(&r, "10.0.0.2", TCP, 7000, SYN, 303);
	ck_assert(has(&r, KEV_STAGE, 0, 1));

	/* Lockout_Time later, a fresh start: three failures again. */
	ck_assert(!knock_locked(r.t, &a, 10203, NULL));
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 10203);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10204);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 10205);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	fail_once(&r, "10.0.0.1", 10300);
	fail_once(&r, "10.0.0.1", 10400);
	ck_assert(!has(&r, KEV_LOCKOUT, 0, 0));
	knock_free(r.t);
}
END_TEST

START_TEST(lockout_stops_the_lockout_packet)
{
	struct run r;

	setup(&r, "[options]\nLockout_After = 1\n"
	    "[a]\nSequence = 7000,8000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 8000,9000,6000\nOpen_Ports = 23\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	/* 8000 is wrong for nobody here ... */
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1);
	ck_assert(has(&r, KEV_COMPLETE, 0, 2) && has(&r, KEV_STAGE, 1, 1));
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 2);
	/* ... 7000 is wrong for b, and locks the source out at once: the
	 * knock does not also start a's next attempt. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 3);
	ck_assert_uint_eq(r.n, 2);
	ck_assert(has(&r, KEV_RESET, 1, 2));
	ck_assert(has(&r, KEV_LOCKOUT, 1, 0));
	knock_free(r.t);
}
END_TEST

START_TEST(lockout_wipes_progress)
{
	struct run r;

	/* Locked out longer than nothing, shorter than Seq_Timeout. */
	setup(&r, "[options]\nLockout_After = 1\nLockout_Time = 1\n"
	    "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 6000,6002\nOpen_Ports = 23\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1);
	hit(&r, "10.0.0.1", TCP, 6000, SYN, 2);
	ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	ck_assert(!has(&r, KEV_STAGE, 1, 1));
	/* After the lockout, a's attempt does not carry on. */
	ck_assert_uint_eq(hit(&r, "10.0.0.1", TCP, 9000, SYN, 2000), 0);
	knock_free(r.t);
}
END_TEST

START_TEST(lockout_failures_must_be_recent)
{
	struct run r;

	setup(&r, locking, 16);
	/* Each failure within Lockout_Time (10 s) of the one before. */
	fail_once(&r, "10.0.0.1", 0);
	fail_once(&r, "10.0.0.1", 10000);
	fail_once(&r, "10.0.0.1", 20000);
	ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	/* Further apart, they do not add up. */
	fail_once(&r, "10.0.0.2", 0);
	fail_once(&r, "10.0.0.2", 10002);
	fail_once(&r, "10.0.0.2", 20004);
	ck_assert(!has(&r, KEV_LOCKOUT, 0, 0));
	ck_assert_uint_eq(r.t->st.lockouts, 1);
	knock_free(r.t);
}
END_TEST

START_TEST(lockout_counts_timeouts_and_scans)
{
	struct run r;

	setup(&r, "[options]\nLockout_After = 3\n"
	    "[a]\nSequence = 7000,8000,9000\nSeq_Timeout = 1\n"
	    "Open_Ports = 22\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 2000);	/* too late */
	ck_assert(has(&r, KEV_TIMEOUT, 0, 2));
	/* Starting over after a first knock that went stale is no failure. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 2001);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 4000);
	ck_assert(has(&r, KEV_TIMEOUT, 0, 1) && has(&r, KEV_STAGE, 0, 1));
	/* ... nor is a scan's reset of a first knock. */
	touch(&r, "10.0.0.1", 80, 4001);
	ck_assert(has(&r, KEV_RESET, 0, 1));
	/* A completed sequence does not wipe the slate. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 4002);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 4003);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 4004);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 4005);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 4006);
	touch(&r, "10.0.0.1", 81, 4007);
	ck_assert(has(&r, KEV_RESET, 0, 2) && !has(&r, KEV_LOCKOUT, 0, 0));
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 4008);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 4009);
	touch(&r, "10.0.0.1", 81, 4010);
	ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	/* A scan of a locked source finds nothing to reset. */
	ck_assert_uint_eq(touch(&r, "10.0.0.1", 82, 4011), 0);
	knock_free(r.t);
}
END_TEST

START_TEST(lockout_disabled)
{
	struct run r;
	unsigned i;

	setup(&r, "[options]\nLockout_After = 0\n" "[a]\nSequence = 7000,8000,"
	    "9000\nOpen_Ports = 22\n", 16);
	for (i = 0; i < 50; i++)
		fail_once(&r, "10.0.0.1", i * 10);
	ck_assert_uint_eq(r.t->st.lockouts, 0);
	/* With no lockout to count towards, a failure leaves only the
	 * source's recent packets (for their retransmissions). */
	ck_assert_uint_le(r.t->st.used, 1);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 1000);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1001);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 1002);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	knock_free(r.t);
}
END_TEST

START_TEST(failures_are_kept_while_recent)
{
	struct run r;
	char s[32];
	unsigned i;

	setup(&r, locking, 4);
	fail_once(&r, "10.9.9.9", 0);
	ck_assert_uint_eq(r.t->st.used, 1);	/* worth keeping */
	/* Recent failures weigh like a first knock: a flood of first knocks
	 * evicts older first knocks and the failures alike, never anything
	 * further along. */
	hit(&r, "10.8.8.8", TCP, 7000, SYN, 1);
	hit(&r, "10.8.8.8", TCP, 8000, SYN, 2);
	for (i = 0; i < 10; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, 3 + i);
	}
	hit(&r, "10.8.8.8", TCP, 9000, SYN, 20);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
	knock_free(r.t);
	/* Lockout_Time after the last failure, and past the hold window
	 * (the default Seq_Timeout, 25 s), the entry is stale. */
	setup(&r, locking, 4);
	fail_once(&r, "10.9.9.9", 0);
	for (i = 0; i < 4; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, 25003 + i);
	}
	ck_assert_uint_eq(r.t->st.reclaimed, 1);
	ck_assert_uint_eq(r.t->st.evicted, 0);
	knock_free(r.t);
}
END_TEST

START_TEST(locked_sources_survive_a_flood)
{
	struct run r;
	struct addr a;
	char s[32];
	unsigned i;

	setup(&r, locking, 8);
	addr_parse("10.9.9.9", &a);
	fail_once(&r, "10.9.9.9", 0);
	fail_once(&r, "10.9.9.9", 10);
	fail_once(&r, "10.9.9.9", 20);
	ck_assert(knock_locked(r.t, &a, 23, NULL));
	/* Spoofed first knocks and even sources further along go first. */
	hit(&r, "10.8.8.8", TCP, 7000, SYN, 23);
	hit(&r, "10.8.8.8", TCP, 8000, SYN, 24);
	for (i = 0; i < 1000; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, 25 + i);
	}
	ck_assert(knock_locked(r.t, &a, 2000, NULL));
	ck_assert_uint_eq(r.t->st.evicted_locked, 0);
	knock_free(r.t);

	/* A table full of lockouts stays bounded and keeps them: a newcomer
	 * is refused (its knocks count for nothing) until they run out. */
	setup(&r, locking, 4);
	for (i = 0; i < 4; i++) {
		src_n(s, sizeof(s), i);
		fail_once(&r, s, i * 10);
		fail_once(&r, s, i * 10 + 2);
		fail_once(&r, s, i * 10 + 4);
		ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	}
	src_n(s, sizeof(s), 4);
	ck_assert_uint_eq(hit(&r, s, TCP, 7000, SYN, 100), 0);
	ck_assert_uint_eq(r.t->st.used, 4);
	ck_assert_uint_eq(r.t->st.evicted_locked, 0);
	ck_assert_uint_ge(r.t->st.refused, 1);
	for (i = 0; i < 4; i++) {
		src_n(s, sizeof(s), i);
		addr_parse(s, &a);
		ck_assert(knock_locked(r.t, &a, 100, NULL));
	}
	/* Lockout_Time (10 s) and the hold window (25 s) later: room. */
	src_n(s, sizeof(s), 4);
	ck_assert_uint_ge(hit(&r, s, TCP, 7000, SYN, 40000), 1);
	ck_assert_uint_eq(r.t->st.reclaimed, 1);
	knock_free(r.t);

	/* Nor does a run of lockouts longer than an eviction's scan yield
	 * to a flood: its newcomers evict each other around it. */
	setup(&r, locking, 64);
	for (i = 0; i < 20; i++) {
		src_n(s, sizeof(s), i);
		fail_once(&r, s, 0);
		fail_once(&r, s, 2);
		fail_once(&r, s, 4);
	}
	for (i = 0; i < 5000; i++) {
		src_n(s, sizeof(s), 100 + i);
		hit(&r, s, TCP, 7000, SYN, 10 + i / 100);
	}
	ck_assert_uint_eq(r.t->st.evicted_locked, 0);
	for (i = 0; i < 20; i++) {
		src_n(s, sizeof(s), i);
		addr_parse(s, &a);
		ck_assert(knock_locked(r.t, &a, 60, NULL));
	}
	knock_free(r.t);
}
END_TEST

START_TEST(right_knock_for_one_door_is_no_failure)
{
	struct run r;
	unsigned i;

	/* b shares a's first port: every use of a ends b's attempt. */
	setup(&r, "[options]\nLockout_After = 2\n"
	    "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 7000,7500,8000\nOpen_Ports = 23\n"
	    "[c]\nSequence = 9000,5000\nOpen_Ports = 24\n", 16);
	for (i = 0; i < 5; i++) {
		hit(&r, "10.0.0.1", TCP, 7000, SYN, i * 10);
		hit(&r, "10.0.0.1", TCP, 8000, SYN, i * 10 + 1);
		ck_assert(has(&r, KEV_RESET, 1, 1));
		hit(&r, "10.0.0.1", TCP, 9000, SYN, i * 10 + 2);
		ck_assert(has(&r, KEV_COMPLETE, 0, 3));
		/* ... and leaves c started, which the next 9000 ends. */
		ck_assert(has(&r, KEV_STAGE, 2, 1));
	}
	ck_assert_uint_eq(r.t->st.lockouts, 0);
	/* A first knock again merely starts over: no failure. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 100);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 101);
	ck_assert(has(&r, KEV_RESET, 0, 1) && has(&r, KEV_STAGE, 0, 1));
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 102);
	ck_assert(!has(&r, KEV_LOCKOUT, 0, 0));
	/* A wrong knock past the first is. */
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 103);
	hit(&r, "10.0.0.1", TCP, 6000, SYN, 104);
	ck_assert(!has(&r, KEV_LOCKOUT, 0, 0));
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 105);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 106);
	hit(&r, "10.0.0.1", TCP, 6000, SYN, 107);
	ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	knock_free(r.t);
}
END_TEST

START_TEST(door_reset)
{
	struct run r;
	struct addr a;
	struct knock_prog kp;

	setup(&r, "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 7000,8000,9100\nOpen_Ports = 23\n", 16);
	addr_parse("10.0.0.1", &a);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.2", TCP, 7000, SYN, 0);
	knock_door_reset(r.t, 0);
	knock_door_reset(r.t, 99);		/* no such door: ignored */
	ck_assert(!knock_peek(r.t, &a, 0, &kp));
	ck_assert(knock_peek(r.t, &a, 1, &kp));
	ck_assert_uint_eq(kp.stage, 1);
	hit(&r, "10.0.0.2", TCP, 8000, SYN, 1);
	ck_assert_uint_eq(r.n, 1);
	ck_assert(has(&r, KEV_STAGE, 1, 2));
	knock_free(r.t);
}
END_TEST

START_TEST(inactive_door)
{
	struct run r;

	/* A spent One_Time_Sequences door has no sequence: never heard. */
	setup(&r, "[ot]\nOne_Time_Sequences = /x\nOpen_Ports = 22\n"
	    "[a]\nSequence = 7000,7100\nOpen_Ports = 23\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert(has(&r, KEV_STAGE, 1, 1));
	knock_free(r.t);
}
END_TEST

START_TEST(bad_capacity)
{
	ck_assert_ptr_null(knock_new(0, tu_config(three), &key));
}
END_TEST

Suite *
knock_suite(void)
{
	Suite *s = suite_create("knock");
	TCase *tc = tcase_create("knock");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, full_sequence);
	tcase_add_test(tc, first_port_out_of_turn_is_ignored);
	tcase_add_test(tc, timeout_counts_from_first_knock);
	tcase_add_test(tc, wrong_port_resets);
	tcase_add_test(tc, another_doors_port_resets);
	tcase_add_test(tc, shared_prefix_in_parallel);
	tcase_add_test(tc, protocols_must_match);
	tcase_add_test(tc, tcp_flags_filter);
	tcase_add_test(tc, default_flags_are_a_plain_syn);
	tcase_add_test(tc, sources_are_separate);
	tcase_add_test(tc, target_address);
	tcase_add_test(tc, one_knock_door);
	tcase_add_test(tc, full_table_evicts_least_advanced);
	tcase_add_test(tc, first_knock_outlives_a_table_of_flood);
	tcase_add_test(tc, stale_sources_are_reclaimed_not_evicted);
	tcase_add_test(tc, cell_pool_is_bounded);
	tcase_add_test(tc, memory_follows_use);
	tcase_add_test(tc, forget_and_peek);
	tcase_add_test(tc, iterator_lists_live_attempts);
	tcase_add_test(tc, bad_capacity);
	tcase_add_test(tc, retransmission_is_not_a_wrong_knock);
	tcase_add_test(tc, retransmission_keeps_no_ecn);
	tcase_add_test(tc, new_knock_to_same_port_is_wrong);
	tcase_add_test(tc, older_knock_repeated_is_a_duplicate);
	tcase_add_test(tc, retransmitted_round_completes_once);
	tcase_add_test(tc, udp_retransmission_by_payload);
	tcase_add_test(tc, elsewhere_resets_every_door);
	tcase_add_test(tc, elsewhere_adds_no_source);
	tcase_add_test(tc, port_scans_never_complete);
	tcase_add_test(tc, scan_doors_open_for_knocks);
	tcase_add_test(tc, reset_all_ends_every_attempt);
	tcase_add_test(tc, lockout_after_failures);
	tcase_add_test(tc, lockout_stops_the_lockout_packet);
	tcase_add_test(tc, lockout_wipes_progress);
	tcase_add_test(tc, lockout_failures_must_be_recent);
	tcase_add_test(tc, lockout_counts_timeouts_and_scans);
	tcase_add_test(tc, lockout_disabled);
	tcase_add_test(tc, right_knock_for_one_door_is_no_failure);
	tcase_add_test(tc, failures_are_kept_while_recent);
	tcase_add_test(tc, locked_sources_survive_a_flood);
	tcase_add_test(tc, slots_stay_consistent);
	tcase_add_test(tc, door_reset);
	tcase_add_test(tc, inactive_door);
	suite_add_tcase(s, tc);
	return s;
}
