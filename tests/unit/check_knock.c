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
	r->t = knock_new(cap, r->cfg->ndoors, &key);
	ck_assert_ptr_nonnull(r->t);
}

static unsigned
feed(struct run *r, const struct pkt *p, int64_t ms)
{
	r->last = *p;
	r->n = knock_feed(r->t, r->cfg, p, ms, r->ev);
	return r->n;
}

/* Knock from src to port at time ms, as a new connection (a new TCP
 * sequence number, a new UDP source port); keeps the events in r. */
static unsigned
hit(struct run *r, const char *src, uint8_t proto, uint16_t port,
    uint8_t flags, int64_t ms)
{
	struct pkt p = tu_pkt(src, "192.0.2.1", proto, port, flags);

	p.tcpseq = r->seq++;
	p.sport = (uint16_t)(40000 + r->seq % 20000);
	return feed(r, &p, ms);
}

/* The last packet again, as a retransmission. */
static unsigned
resend(struct run *r, int64_t ms)
{
	struct pkt p = r->last;

	return feed(r, &p, ms);
}

/* A packet from src to a port that is no knock port. */
static unsigned
touch(struct run *r, const char *src, uint16_t port, int64_t ms)
{
	struct pkt p = tu_pkt(src, "192.0.2.1", TCP, port, SYN);

	r->n = knock_observe(r->t, r->cfg, &p, ms, r->ev);
	return r->n;
}

/* Did the last knock produce event type for door with stage? */
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
	/* A completed attempt frees its slot. */
	ck_assert_uint_eq(r.t->st.used, 0);
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

START_TEST(shared_prefix_in_parallel)
{
	struct run r;

	setup(&r, "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 7000,8000,9100\nOpen_Ports = 23\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	ck_assert(has(&r, KEV_STAGE, 0, 1) && has(&r, KEV_STAGE, 1, 1));
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10);
	ck_assert(has(&r, KEV_STAGE, 0, 2) && has(&r, KEV_STAGE, 1, 2));
	/* 9100 is not a port of door a: a keeps its progress. */
	hit(&r, "10.0.0.1", TCP, 9100, SYN, 20);
	ck_assert_uint_eq(r.n, 1);
	ck_assert(has(&r, KEV_COMPLETE, 1, 3));
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 30);
	ck_assert(has(&r, KEV_COMPLETE, 0, 3));
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
	hit(&r, "10.0.0.1", UDP, 8000, 0, 10);	/* 8000/udp: not ours */
	ck_assert_uint_eq(r.n, 0);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 20);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	hit(&r, "10.0.0.1", UDP, 9000, 0, 30);
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
	ck_assert_uint_eq(r.n, 0);		/* ignored, as knockd does */
	hit(&r, "10.0.0.1", TCP, 7000, TCPF_FIN, 0);
	ck_assert_uint_eq(r.n, 0);
	/* An ECN SYN is a SYN. */
	hit(&r, "10.0.0.1", TCP, 7000, TCPF_SYN | TCPF_ECE | TCPF_CWR, 0);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	/* A filtered packet on a sequence port does not reset either. */
	hit(&r, "10.0.0.1", TCP, 7000, TCPF_RST | TCPF_ACK, 5);
	ck_assert_uint_eq(r.n, 0);
	hit(&r, "10.0.0.1", TCP, 8000, TCPF_SYN, 10);
	ck_assert(has(&r, KEV_COMPLETE, 0, 2));
	knock_free(r.t);
}
END_TEST

START_TEST(no_tcpflags_means_any_tcp_packet)
{
	struct run r;

	setup(&r, "[d]\nSequence = 7000,8000\nOpen_Ports = 22\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, TCPF_FIN | TCPF_ACK, 0);
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
	ck_assert_uint_eq(r.t->st.used, 1);
	knock_free(r.t);
}
END_TEST

START_TEST(target_address)
{
	struct run r;
	struct pkt p;

	setup(&r, "[d]\nSequence = 7000\nTarget = 192.0.2.9\nOpen_Ports = 22\n",
	    16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);	/* to 192.0.2.1 */
	ck_assert_uint_eq(r.n, 0);
	p = tu_pkt("10.0.0.1", "192.0.2.9", TCP, 7000, SYN);
	ck_assert_uint_eq(knock_feed(r.t, r.cfg, &p, 0, r.ev), 1);
	ck_assert_int_eq(r.ev[0].type, KEV_COMPLETE);
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

START_TEST(forget_and_peek)
{
	struct run r;
	struct addr a;
	const struct knock_prog *kp;

	setup(&r, three, 8);
	addr_parse("10.0.0.1", &a);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 100);
	kp = knock_peek(r.t, &a, 0);
	ck_assert_ptr_nonnull(kp);
	ck_assert_int_eq(kp->stage, 1);
	ck_assert_int_eq(kp->start_ms, 100);
	ck_assert(knock_live(&r.cfg->door[0], kp, 5100));
	ck_assert(!knock_live(&r.cfg->door[0], kp, 5101));
	knock_forget(r.t, &a);
	ck_assert_ptr_null(knock_peek(r.t, &a, 0));
	ck_assert_uint_eq(r.t->st.used, 0);
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

START_TEST(older_knock_repeated_is_wrong)
{
	struct run r;
	struct pkt first;

	setup(&r, three, 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	first = r.last;
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10);
	/* Only the last counted knock is remembered: the first one, late,
	 * breaks the attempt and starts a new one, as before. */
	feed(&r, &first, 1000);
	ck_assert(has(&r, KEV_RESET, 0, 2));
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	ck_assert_uint_eq(r.t->st.duplicates, 0);
	/* ... and is now the last one. */
	ck_assert_uint_eq(resend(&r, 1100), 0);
	ck_assert_uint_eq(r.t->st.duplicates, 1);
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

/* --- scan guard ---------------------------------------------------------- */

START_TEST(observe_resets_every_door)
{
	struct run r;

	setup(&r, "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 7000,9100\nSeq_Timeout = 1\nOpen_Ports = 23\n"
	    "[c]\nSequence = 6000,6001\nOpen_Ports = 24\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10);
	ck_assert(has(&r, KEV_STAGE, 0, 2));
	/* b's attempt is dead by now: a timeout, not a reset. */
	ck_assert_uint_eq(touch(&r, "10.0.0.1", 80, 2000), 2);
	ck_assert(has(&r, KEV_RESET, 0, 2));
	ck_assert(has(&r, KEV_TIMEOUT, 1, 1));
	ck_assert_uint_eq(r.t->st.scan_resets, 1);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 2010);
	ck_assert_uint_eq(r.n, 0);
	/* Nothing left to reset. */
	ck_assert_uint_eq(touch(&r, "10.0.0.1", 80, 2020), 0);
	ck_assert_uint_eq(r.t->st.scan_resets, 1);
	knock_free(r.t);
}
END_TEST

START_TEST(observe_adds_no_source)
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

/* A scanner walks the ports in order or at random, and every port between
 * two knock ports resets it: it can never complete a sequence.  (Unless
 * the sequence climbs port by port, like 7000,7001,7002: no guard can
 * tell that from an ordered scan.) */
START_TEST(port_scan_never_completes)
{
	struct run r;
	uint32_t x = 1;
	unsigned port, i, completes = 0, stages = 0;
	int64_t ms = 0;

	setup(&r, "[options]\nLockout_After = 0\n"
	    "[a]\nSequence = 7000,7100,7002\nOpen_Ports = 22\n"
	    "[b]\nSequence = 100:udp,101:udp\nOpen_Ports = 23\n", 16);
	for (port = 1; port < 65536; port++, ms++) {
		if (port == 7000 || port == 7100 || port == 7002)
			hit(&r, "10.0.0.1", TCP, (uint16_t)port, SYN, ms);
		else {
			touch(&r, "10.0.0.1", (uint16_t)port, ms);
			continue;
		}
		completes += has(&r, KEV_COMPLETE, 0, 3);
		stages += r.n;
	}
	for (i = 0; i < 200000; i++, ms++) {
		x = x * 1103515245 + 12345;
		port = 1 + (x >> 8) % 8000;
		if (port == 7000 || port == 7100 || port == 7002)
			hit(&r, "10.0.0.1", TCP, (uint16_t)port, SYN, ms);
		else if (port == 100 || port == 101)
			hit(&r, "10.0.0.1", UDP, (uint16_t)port, 0, ms);
		else {
			touch(&r, "10.0.0.1", (uint16_t)port, ms);
			continue;
		}
		completes += has(&r, KEV_COMPLETE, 0, 3) +
		    has(&r, KEV_COMPLETE, 1, 2);
	}
	ck_assert_uint_eq(completes, 0);
	ck_assert_uint_gt(stages, 0);		/* it did knock */
	ck_assert_uint_gt(r.t->st.scan_resets, 0);
	knock_free(r.t);
}
END_TEST

/* --- lockout ------------------------------------------------------------- */

static const char *const locking = "[options]\n"
    "Lockout_After = 3\n"
    "Lockout_Time = 10\n"
    "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
    "[b]\nSequence = 7000,8100,9000\nOpen_Ports = 23\n";

/* One failed attempt of src at ms: two knocks, the second wrong for both
 * doors. */
static void
fail_once(struct run *r, const char *src, int64_t ms)
{
	hit(r, src, TCP, 7000, SYN, ms);
	hit(r, src, TCP, 9000, SYN, ms + 1);
}

START_TEST(lockout_after_failures)
{
	struct run r;
	struct addr a;
	int64_t until = 0;

	setup(&r, locking, 16);
	addr_parse("10.0.0.1", &a);
	fail_once(&r, "10.0.0.1", 0);
	/* Both doors reset, but one packet is one failure. */
	ck_assert(has(&r, KEV_RESET, 0, 1) && has(&r, KEV_RESET, 1, 1));
	fail_once(&r, "10.0.0.1", 100);
	ck_assert_uint_eq(r.t->st.lockouts, 0);
	ck_assert(!knock_locked(r.t, &a, 102, &until));
	fail_once(&r, "10.0.0.1", 200);
	ck_assert_uint_eq(r.n, 3);
	ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	ck_assert_int_eq(r.ev[2].type, KEV_LOCKOUT);
	ck_assert_uint_eq(r.ev[2].len, 0);
	ck_assert_uint_eq(r.t->st.lockouts, 1);
	ck_assert(knock_locked(r.t, &a, 201, &until));
	ck_assert_int_eq(until, 201 + 10000);
	ck_assert(knock_locked(r.t, &a, 10200, NULL));

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
	ck_assert(!knock_locked(r.t, &a, 10201, NULL));
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 10201);
	ck_assert(has(&r, KEV_STAGE, 0, 1));
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 10202);
	hit(&r, "10.0.0.1", TCP, 9000, SYN, 10203);
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
	    "[b]\nSequence = 8000,9000,7000\nOpen_Ports = 23\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	/* 8000 is wrong for nobody here ... */
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1);
	ck_assert(has(&r, KEV_COMPLETE, 0, 2) && has(&r, KEV_STAGE, 1, 1));
	/* ... 7000 is wrong for b, and locks the source out at once: the
	 * knock does not also start a's next attempt. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 2);
	ck_assert_uint_eq(r.n, 2);
	ck_assert(has(&r, KEV_RESET, 1, 1));
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
	    "[b]\nSequence = 6000,6001\nOpen_Ports = 23\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 1);
	hit(&r, "10.0.0.1", TCP, 6000, SYN, 2);
	hit(&r, "10.0.0.1", TCP, 6000, SYN, 3);
	ck_assert(has(&r, KEV_LOCKOUT, 1, 0));
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
	    "[a]\nSequence = 7000,8000\nSeq_Timeout = 1\nOpen_Ports = 22\n",
	    16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 2000);	/* too late */
	ck_assert(has(&r, KEV_TIMEOUT, 0, 1) && has(&r, KEV_STAGE, 0, 1));
	touch(&r, "10.0.0.1", 80, 2001);
	ck_assert(has(&r, KEV_RESET, 0, 1));
	/* A completed sequence does not wipe the slate. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 2002);
	hit(&r, "10.0.0.1", TCP, 8000, SYN, 2003);
	ck_assert(has(&r, KEV_COMPLETE, 0, 2));
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 2004);
	touch(&r, "10.0.0.1", 81, 2005);
	ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	/* A scan of a locked source finds nothing to reset. */
	ck_assert_uint_eq(touch(&r, "10.0.0.1", 82, 2006), 0);
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
	/* With no lockout to count towards, a failure leaves nothing. */
	ck_assert_uint_eq(r.t->st.used, 0);
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
	/* Lockout_Time after the last failure, the entry is stale. */
	setup(&r, locking, 4);
	fail_once(&r, "10.9.9.9", 0);
	for (i = 0; i < 4; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, 10002 + i);
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
	fail_once(&r, "10.9.9.9", 1);
	fail_once(&r, "10.9.9.9", 2);
	ck_assert(knock_locked(r.t, &a, 3, NULL));
	/* Spoofed first knocks and even sources further along go first. */
	hit(&r, "10.8.8.8", TCP, 7000, SYN, 3);
	hit(&r, "10.8.8.8", TCP, 8000, SYN, 4);
	for (i = 0; i < 1000; i++) {
		src_n(s, sizeof(s), i);
		hit(&r, s, TCP, 7000, SYN, 5 + i);
	}
	ck_assert(knock_locked(r.t, &a, 2000, NULL));
	ck_assert_uint_eq(r.t->st.evicted_locked, 0);
	knock_free(r.t);

	/* But a table of locked sources stays bounded: the oldest goes. */
	setup(&r, locking, 4);
	for (i = 0; i < 5; i++) {
		src_n(s, sizeof(s), i);
		fail_once(&r, s, i * 10);
		fail_once(&r, s, i * 10 + 2);
		fail_once(&r, s, i * 10 + 4);
		ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	}
	ck_assert_uint_eq(r.t->st.used, 4);
	ck_assert_uint_eq(r.t->st.evicted_locked, 1);
	src_n(s, sizeof(s), 0);
	addr_parse(s, &a);
	ck_assert(!knock_locked(r.t, &a, 100, NULL));
	src_n(s, sizeof(s), 4);
	addr_parse(s, &a);
	ck_assert(knock_locked(r.t, &a, 100, NULL));
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
	/* A wrong knock that merely starts a door over is a failure. */
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 100);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 101);
	ck_assert(has(&r, KEV_RESET, 0, 1) && has(&r, KEV_STAGE, 0, 1));
	ck_assert(!has(&r, KEV_LOCKOUT, 0, 0));
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 102);
	ck_assert(has(&r, KEV_LOCKOUT, 0, 0));
	knock_free(r.t);
}
END_TEST

START_TEST(door_reset)
{
	struct run r;
	struct addr a;

	setup(&r, "[a]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 7000,8000,9100\nOpen_Ports = 23\n", 16);
	addr_parse("10.0.0.1", &a);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	hit(&r, "10.0.0.2", TCP, 7000, SYN, 0);
	knock_door_reset(r.t, 0);
	knock_door_reset(r.t, 99);		/* no such door: ignored */
	ck_assert_uint_eq(knock_peek(r.t, &a, 0)->stage, 0);
	ck_assert_uint_eq(knock_peek(r.t, &a, 1)->stage, 1);
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
	    "[a]\nSequence = 7000\nOpen_Ports = 23\n", 16);
	hit(&r, "10.0.0.1", TCP, 7000, SYN, 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert(has(&r, KEV_COMPLETE, 1, 1));
	knock_free(r.t);
}
END_TEST

START_TEST(bad_capacity)
{
	ck_assert_ptr_null(knock_new(0, 1, &key));
}
END_TEST

Suite *
knock_suite(void)
{
	Suite *s = suite_create("knock");
	TCase *tc = tcase_create("knock");

	tcase_add_test(tc, full_sequence);
	tcase_add_test(tc, first_port_out_of_turn_is_ignored);
	tcase_add_test(tc, timeout_counts_from_first_knock);
	tcase_add_test(tc, wrong_port_resets);
	tcase_add_test(tc, shared_prefix_in_parallel);
	tcase_add_test(tc, protocols_must_match);
	tcase_add_test(tc, tcp_flags_filter);
	tcase_add_test(tc, no_tcpflags_means_any_tcp_packet);
	tcase_add_test(tc, sources_are_separate);
	tcase_add_test(tc, target_address);
	tcase_add_test(tc, full_table_evicts_least_advanced);
	tcase_add_test(tc, stale_sources_are_reclaimed_not_evicted);
	tcase_add_test(tc, forget_and_peek);
	tcase_add_test(tc, bad_capacity);
	tcase_add_test(tc, retransmission_is_not_a_wrong_knock);
	tcase_add_test(tc, retransmission_keeps_no_ecn);
	tcase_add_test(tc, new_knock_to_same_port_is_wrong);
	tcase_add_test(tc, older_knock_repeated_is_wrong);
	tcase_add_test(tc, udp_retransmission_by_payload);
	tcase_add_test(tc, observe_resets_every_door);
	tcase_add_test(tc, observe_adds_no_source);
	tcase_add_test(tc, port_scan_never_completes);
	tcase_add_test(tc, lockout_after_failures);
	tcase_add_test(tc, lockout_stops_the_lockout_packet);
	tcase_add_test(tc, lockout_wipes_progress);
	tcase_add_test(tc, lockout_failures_must_be_recent);
	tcase_add_test(tc, lockout_counts_timeouts_and_scans);
	tcase_add_test(tc, lockout_disabled);
	tcase_add_test(tc, right_knock_for_one_door_is_no_failure);
	tcase_add_test(tc, failures_are_kept_while_recent);
	tcase_add_test(tc, locked_sources_survive_a_flood);
	tcase_add_test(tc, door_reset);
	tcase_add_test(tc, inactive_door);
	suite_add_tcase(s, tc);
	return s;
}
