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
};

static void
setup(struct run *r, const char *conf, unsigned cap)
{
	r->cfg = tu_config(conf);
	r->t = knock_new(cap, r->cfg->ndoors, &key);
	ck_assert_ptr_nonnull(r->t);
}

/* Knock from src to port at time ms; keeps the events in r. */
static unsigned
hit(struct run *r, const char *src, uint8_t proto, uint16_t port,
    uint8_t flags, int64_t ms)
{
	struct pkt p = tu_pkt(src, "192.0.2.1", proto, port, flags);

	r->n = knock_feed(r->t, r->cfg, &p, ms, r->ev);
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
	suite_add_tcase(s, tc);
	return s;
}
