/* Unit tests: verdicts from raw packets, through knocks to grants. */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "suites.h"
#include "testutil.h"
#include "verdict.h"

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

static const struct siphash_key key = { 5, 6 };

/* One-knock doors and silent knocks keep these tests short; the scan
 * guard (which refuses one-knock doors) and the default Knock_Reply have
 * tests of their own below. */
#define PLAIN "[options]\nScan_Guard = no\nKnock_Reply = drop\n"

static const char *const conf =
    "[options]\n"
    "Scan_Guard = no\n"
    "Knock_Reply = drop\n"
    "Allow = 198.51.100.0/24, 2001:db8:ffff::/48\n"
    "[ssh]\n"
    "Sequence = 7000,8000:udp,9000\n"
    "Seq_Timeout = 10\n"
    "TCPFlags = syn\n"
    "Open_Ports = 22\n"
    "Open_Timeout = 30\n"
    "[vpn]\n"
    "Sequence = 6000:udp\n"
    "Open_Ports = 51820:udp, 2222\n"
    "Open_Timeout = 60\n"
    "[cmdonly]\n"
    "Sequence = 5000\n"
    "Start_Command = /bin/true %IP%\n";

struct fixture {
	struct gk_state s;
	struct knock_table *kt;
	struct grant_table *gt;
	struct scanwatch *sw;		/* NULL unless a test asks (watch()) */
	struct verdict v;
	/* What the last packet's completions did once settled: the fixture
	 * settles them at once (SW_SETTLE_MS on), unless manual is set. */
	int manual;
	unsigned nset, ngrants, ncloses;
	struct verdict_settled set[CFG_MAX_DOORS];
	struct verdict_grant grant[CFG_MAX_DOORS];
	struct verdict_close close[2 * CFG_MAX_DOORS];
	struct config cfg;		/* a copy: tests may change it */
	uint8_t last[128];		/* the last packet sent */
	size_t last_len;
	uint16_t sport;
};

static struct fixture *fx;

/* State for the configuration text c. */
static void
start(const char *c)
{
	knock_free(fx->kt);
	grant_free(fx->gt);
	fx->cfg = *tu_config(c);
	fx->kt = knock_new(64, &fx->cfg, &key);
	fx->gt = grant_new(64, &key);
	ck_assert(fx->kt != NULL && fx->gt != NULL);
	verdict_init(&fx->s, &fx->cfg, fx->kt, fx->gt, fx->sw);
}

/* Run the completions due by ms; what they did goes to fx->grant and
 * fx->close. */
static unsigned
settle(int64_t ms)
{
	struct verdict_settled *out = fx->set;
	unsigned i, j, n = verdict_settle(&fx->s, ms, out, CFG_MAX_DOORS);

	fx->nset = n;
	fx->ngrants = fx->ncloses = 0;
	for (i = 0; i < n; i++) {
		if (out[i].grant.made)
			fx->grant[fx->ngrants++] = out[i].grant;
		for (j = 0; j < out[i].ncloses; j++)
			fx->close[fx->ncloses++] = out[i].close[j];
	}
	return n;
}

static void
after_packet(int64_t ms)
{
	if (!fx->manual)
		settle(ms + SW_SETTLE_MS);
}

static void
setup(void)
{
	fx = calloc(1, sizeof(*fx));
	ck_assert_ptr_nonnull(fx);
	start(conf);
}

static void
teardown(void)
{
	knock_free(fx->kt);
	grant_free(fx->gt);
	sw_free(fx->sw);
	free(fx);
}

/* Run one packet, a new connection each time (its own source port);
 * returns 1 accepted, 0 dropped. */
static int
send_pkt(const char *src, uint8_t proto, uint16_t dport, uint8_t flags,
    int64_t ms)
{
	const char *dst = strchr(src, ':') ? "2001:db8::1" : "192.0.2.1";

	fx->last_len = tu_raw(fx->last, sizeof(fx->last), src, dst, proto,
	    (uint16_t)(40000 + fx->sport++ % 20000), dport, flags);
	verdict_decide(&fx->s, fx->last, fx->last_len, 0, ms, &fx->v);
	after_packet(ms);
	return fx->v.accept;
}

/* The last packet again, byte for byte. */
static int
resend(int64_t ms)
{
	verdict_decide(&fx->s, fx->last, fx->last_len, 0, ms, &fx->v);
	after_packet(ms);
	return fx->v.accept;
}

/* Did the last packet produce event type for door? */
static int
has_ev(int type, unsigned door)
{
	unsigned i;

	for (i = 0; i < fx->v.nev; i++)
		if (fx->v.ev[i].type == type && fx->v.ev[i].door == door)
			return 1;
	return 0;
}

static void
knock_ssh(const char *src, int64_t ms)
{
	ck_assert_int_eq(send_pkt(src, TCP, 7000, TCPF_SYN, ms), 0);
	ck_assert_int_eq(send_pkt(src, UDP, 8000, 0, ms + 1), 0);
	ck_assert_int_eq(send_pkt(src, TCP, 9000, TCPF_SYN, ms + 2), 0);
	ck_assert_int_eq(fx->v.reason, VR_KNOCK);
}

START_TEST(no_grant_drops)
{
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 0), 0);
	ck_assert_int_eq(fx->v.reason, VR_NO_GRANT);
	ck_assert_int_eq(fx->v.door, -1);
}
END_TEST

START_TEST(knock_then_connect)
{
	knock_ssh("203.0.113.5", 0);
	ck_assert_uint_eq(fx->ngrants, 1);
	ck_assert_int_eq(fx->grant[0].door, 0);
	ck_assert_int_eq(fx->grant[0].expires_ms, 2 + 30000);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 100), 1);
	ck_assert_int_eq(fx->v.reason, VR_GRANT);
	ck_assert_int_eq(fx->v.door, 0);
	/* An ECN SYN too. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22,
	    TCPF_SYN | TCPF_ECE | TCPF_CWR, 200), 1);
	ck_assert_uint_eq(fx->s.st.grants, 1);
	ck_assert_uint_eq(fx->s.st.knocks, 3);
}
END_TEST

START_TEST(grant_is_per_source_and_per_door)
{
	knock_ssh("203.0.113.5", 0);
	ck_assert_int_eq(send_pkt("203.0.113.6", TCP, 22, TCPF_SYN, 10), 0);
	/* ssh opens 22 only, not vpn's 2222 or 51820/udp. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 2222, TCPF_SYN, 10), 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", UDP, 51820, 0, 10), 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", UDP, 6000, 0, 20), 0);
	ck_assert_uint_eq(fx->ngrants, 1);
	ck_assert_int_eq(fx->grant[0].door, 1);
	ck_assert_int_eq(send_pkt("203.0.113.5", UDP, 51820, 0, 30), 1);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 2222, TCPF_SYN, 30), 1);
	ck_assert_int_eq(fx->v.door, 1);
}
END_TEST

START_TEST(grant_expires)
{
	knock_ssh("203.0.113.5", 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 30001), 1);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 30002), 0);
	ck_assert_int_eq(fx->v.reason, VR_NO_GRANT);
}
END_TEST

START_TEST(ipv6_source)
{
	knock_ssh("2001:db8:1::7", 0);
	ck_assert_int_eq(send_pkt("2001:db8:1::7", TCP, 22, TCPF_SYN, 10), 1);
	ck_assert_int_eq(send_pkt("2001:db8:1::8", TCP, 22, TCPF_SYN, 10), 0);
}
END_TEST

START_TEST(allow_list)
{
	ck_assert_int_eq(send_pkt("198.51.100.77", TCP, 22, TCPF_SYN, 0), 1);
	ck_assert_int_eq(fx->v.reason, VR_ALLOW);
	ck_assert_int_eq(send_pkt("2001:db8:ffff:1::1", TCP, 22, TCPF_SYN, 0),
	    1);
	/* Allow does not make knock ports pass. */
	ck_assert_int_eq(send_pkt("198.51.100.77", TCP, 7000, TCPF_SYN, 0), 0);
}
END_TEST

START_TEST(command_only_door_makes_no_grant)
{
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 5000, TCPF_SYN, 0), 0);
	ck_assert_uint_eq(fx->v.nev, 1);
	ck_assert_int_eq(fx->v.ev[0].type, KEV_COMPLETE);
	ck_assert_uint_eq(fx->ngrants, 0);
}
END_TEST

START_TEST(malformed_is_dropped_and_counted)
{
	uint8_t buf[64] = { 0x45 };

	verdict_decide(&fx->s, buf, 10, 0, 0, &fx->v);
	ck_assert_int_eq(fx->v.accept, 0);
	ck_assert_int_eq(fx->v.reason, VR_MALFORMED);
	ck_assert_int_ne(fx->v.status, PKT_OK);
	ck_assert_uint_eq(fx->s.st.malformed[fx->v.status], 1);
	ck_assert_uint_eq(fx->s.st.reason[VR_MALFORMED], 1);
	ck_assert_uint_eq(fx->s.st.dropped, 1);
}
END_TEST

START_TEST(unwatched_port_passes)
{
	start("[options]\nScan_Guard = no\nKnock_Reply = drop\n[d]\nSequence = 7000,8000\n"
	    "Open_Ports = 22\n");
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 0), 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 80, TCPF_SYN, 1), 1);
	ck_assert_int_eq(fx->v.reason, VR_UNWATCHED);
	ck_assert_uint_eq(fx->v.nev, 0);
	/* Without the guard, the attempt goes on. */
	send_pkt("203.0.113.5", TCP, 8000, TCPF_SYN, 2);
	ck_assert(has_ev(KEV_COMPLETE, 0));
	ck_assert_uint_eq(fx->s.st.reason[VR_UNWATCHED], 1);
}
END_TEST

START_TEST(scan_guard_resets)
{
	start("[options]\nKnock_Reply = drop\n"
	    "[ssh]\nSequence = 7000,8000:udp,9000\nOpen_Ports = 22\n");
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 0), 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", UDP, 8000, 0, 1), 0);
	/* Any other port: accepted, and the attempt is over. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 80, TCPF_SYN, 2), 1);
	ck_assert_int_eq(fx->v.reason, VR_OBSERVED);
	ck_assert_uint_eq(fx->v.nev, 1);
	ck_assert(has_ev(KEV_RESET, 0));
	ck_assert_uint_eq(fx->s.st.scan_resets, 1);
	send_pkt("203.0.113.5", TCP, 9000, TCPF_SYN, 3);
	ck_assert_uint_eq(fx->ngrants, 0);
	ck_assert_uint_eq(fx->v.nev, 0);
	/* Nothing to reset: observed all the same, not counted. */
	ck_assert_int_eq(send_pkt("203.0.113.5", UDP, 53, 0, 4), 1);
	ck_assert_int_eq(fx->v.reason, VR_OBSERVED);
	ck_assert_uint_eq(fx->s.st.scan_resets, 1);
	ck_assert_uint_eq(fx->s.st.reason[VR_OBSERVED], 2);
	/* A protected port is left out: it comes on another queue, in no
	 * fixed order with the knocks.  The attempt goes on. */
	send_pkt("203.0.113.6", TCP, 7000, TCPF_SYN, 10);
	ck_assert_int_eq(send_pkt("203.0.113.6", TCP, 22, TCPF_SYN, 11), 0);
	ck_assert_int_eq(fx->v.reason, VR_NO_GRANT);
	ck_assert_uint_eq(fx->v.nev, 0);
	send_pkt("203.0.113.6", UDP, 8000, 0, 12);
	send_pkt("203.0.113.6", TCP, 9000, TCPF_SYN, 13);
	ck_assert_uint_eq(fx->ngrants, 1);
	/* Whatever its flags: a FIN scan's probe ends it as well. */
	send_pkt("203.0.113.7", TCP, 7000, TCPF_SYN, 20);
	ck_assert_int_eq(send_pkt("203.0.113.7", TCP, 81, TCPF_FIN, 21), 1);
	ck_assert(has_ev(KEV_RESET, 0));
}
END_TEST

/* By default a knock is answered like a closed port: accepted, for the
 * host to answer; the verdict is a knock all the same. */
START_TEST(knocks_answered_as_closed_ports)
{
	start("[d]\nSequence = 7000,8000:udp\nOpen_Ports = 22\n");
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 0), 1);
	ck_assert_int_eq(fx->v.reason, VR_KNOCK);
	ck_assert(has_ev(KEV_STAGE, 0));
	ck_assert_int_eq(send_pkt("203.0.113.5", UDP, 8000, 0, 1), 1);
	ck_assert(has_ev(KEV_COMPLETE, 0));
	/* Not a knock, to a knock port: also answered as closed. */
	ck_assert_int_eq(send_pkt("203.0.113.6", TCP, 7000, TCPF_FIN, 2), 1);
	ck_assert_int_eq(fx->v.reason, VR_KNOCK);
	/* The protected port is the one that stays silent. */
	ck_assert_int_eq(send_pkt("203.0.113.6", TCP, 22, TCPF_SYN, 3), 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 4), 1);
}
END_TEST

/* Whatever the flags, a packet to a protected port passes only with a
 * grant: an ACK or a FIN cannot slip through. */
START_TEST(protected_port_any_flags)
{
	static const uint8_t flags[] = { 0, TCPF_FIN, TCPF_ACK, TCPF_RST,
	    TCPF_SYN | TCPF_ACK, TCPF_FIN | TCPF_PSH | TCPF_URG,
	    TCPF_SYN | TCPF_FIN };
	unsigned i;

	for (i = 0; i < sizeof(flags); i++) {
		ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, flags[i],
		    (int64_t)i), 0);
		ck_assert_int_eq(fx->v.reason, VR_NO_GRANT);
	}
}
END_TEST

/* A packet longer than the copy range is judged on its headers. */
START_TEST(cut_packets_are_judged_on_headers)
{
	knock_ssh("203.0.113.5", 0);
	fx->last_len = tu_raw(fx->last, sizeof(fx->last), "203.0.113.5",
	    "192.0.2.1", UDP, 4000, 51820, 0);
	verdict_decide(&fx->s, fx->last, fx->last_len, 3000, 10, &fx->v);
	ck_assert_int_eq(fx->v.reason, VR_NO_GRANT);
	fx->last[2] = 3000 >> 8;		/* IPv4 total length 3000 */
	fx->last[3] = 3000 & 0xff;
	fx->last[24] = 2980 >> 8;		/* UDP length */
	fx->last[25] = 2980 & 0xff;
	verdict_decide(&fx->s, fx->last, fx->last_len, 3000, 11, &fx->v);
	ck_assert_int_eq(fx->v.reason, VR_NO_GRANT);
	ck_assert_int_eq(fx->v.pkt.truncated, 1);
	/* ... the same bytes claiming more than the packet is: malformed. */
	verdict_decide(&fx->s, fx->last, fx->last_len, 0, 12, &fx->v);
	ck_assert_int_eq(fx->v.reason, VR_MALFORMED);
	knock_ssh("203.0.113.9", 20);
	fx->last_len = tu_raw(fx->last, sizeof(fx->last), "203.0.113.9",
	    "192.0.2.1", TCP, 4000, 22, TCPF_SYN);
	fx->last[2] = 3000 >> 8;
	fx->last[3] = 3000 & 0xff;
	verdict_decide(&fx->s, fx->last, fx->last_len, 3000, 30, &fx->v);
	ck_assert_int_eq(fx->v.accept, 1);
	ck_assert_int_eq(fx->v.reason, VR_GRANT);
}
END_TEST

/* Packets of the knock queue went by unseen: every attempt ends. */
START_TEST(lost_packets_end_attempts)
{
	send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 0);
	send_pkt("203.0.113.5", UDP, 8000, 0, 1);
	verdict_lost(&fx->s, 2);
	send_pkt("203.0.113.5", TCP, 9000, TCPF_SYN, 3);
	ck_assert_uint_eq(fx->ngrants, 0);
	ck_assert_uint_eq(fx->s.st.lost_resets, 1);
	knock_ssh("203.0.113.5", 10);
	ck_assert_uint_eq(fx->ngrants, 1);
}
END_TEST

START_TEST(public_ports_pass)
{
	start("[options]\nPublic_Ports = 80, 53:udp\n"
	    "[d]\nSequence = 7000,8000\nOpen_Ports = 22\n");
	send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 80, TCPF_SYN, 1), 1);
	ck_assert_int_eq(fx->v.reason, VR_PUBLIC);
	ck_assert_int_eq(send_pkt("203.0.113.5", UDP, 53, 0, 2), 1);
	ck_assert_int_eq(fx->v.reason, VR_PUBLIC);
	ck_assert_uint_eq(fx->v.nev, 0);
	/* Public ports are no scan: the attempt goes on. */
	send_pkt("203.0.113.5", TCP, 8000, TCPF_SYN, 3);
	ck_assert(has_ev(KEV_COMPLETE, 0));
	/* 80/udp is not public. */
	ck_assert_int_eq(send_pkt("203.0.113.5", UDP, 80, 0, 4), 1);
	ck_assert_int_eq(fx->v.reason, VR_OBSERVED);
	ck_assert_uint_eq(fx->s.st.reason[VR_PUBLIC], 2);
}
END_TEST

START_TEST(retransmitted_knock_is_ignored)
{
	send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 0);
	ck_assert_int_eq(resend(1000), 0);
	ck_assert_int_eq(fx->v.reason, VR_KNOCK);
	ck_assert_uint_eq(fx->v.nev, 0);
	ck_assert_uint_eq(fx->s.st.duplicates, 1);
	send_pkt("203.0.113.5", UDP, 8000, 0, 1001);
	ck_assert_int_eq(resend(1002), 0);
	send_pkt("203.0.113.5", TCP, 9000, TCPF_SYN, 1003);
	ck_assert_uint_eq(fx->ngrants, 1);
	ck_assert_uint_eq(fx->s.st.duplicates, 2);
	ck_assert_uint_eq(fx->s.st.knocks, 3);
}
END_TEST

/* The burst hint changes nothing: two states with tables large enough
 * for it (a 1M scan table, a knock table past 4 MiB), the same packets,
 * one told of each burst first (with odd and short buffers among them):
 * the same verdicts, reasons and events. */
static struct gk_state *
big_state(const struct config *cfg, struct knock_table **kt,
    struct grant_table **gt, struct scanwatch **sw)
{
	struct gk_state *st = calloc(1, sizeof(*st));

	*kt = knock_new(1u << 17, cfg, &key);
	*gt = grant_new(1024, &key);
	*sw = sw_new(1u << 20, &key);
	ck_assert(st != NULL && *kt != NULL && *gt != NULL && *sw != NULL);
	verdict_init(st, cfg, *kt, *gt, *sw);
	return st;
}

START_TEST(burst_hint_changes_nothing)
{
	static const uint16_t ports[] = { 7000, 8000, 9000, 22, 6000, 1234 };
	struct knock_table *kt[2];
	struct grant_table *gt[2];
	struct scanwatch *sw[2];
	struct gk_state *st[2];
	struct verdict v[2];
	struct config cfg = *tu_config("[options]\nScan_Guard = yes\n"
	    "[ssh]\nSequence = 7000,8000:udp,9000\nOpen_Ports = 22\n");
	uint8_t pkt[8][128], junk[40];
	size_t len[8];
	char src[48];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned i, k, j;

	st[0] = big_state(&cfg, &kt[0], &gt[0], &sw[0]);
	st[1] = big_state(&cfg, &kt[1], &gt[1], &sw[1]);
	for (i = 0; i < 70000; i++) {	/* past 4 MiB of knock table */
		snprintf(src, sizeof(src), "10.%u.%u.%u", i >> 16 & 255,
		    i >> 8 & 255, i & 255);
		len[0] = tu_raw(pkt[0], sizeof(pkt[0]), src, "192.0.2.1", TCP,
		    40000, 7000, TCPF_SYN);
		for (k = 0; k < 2; k++)
			verdict_decide(st[k], pkt[0], len[0], 0, 1000, &v[k]);
	}
	ck_assert_uint_ge(knock_memory(kt[0]), 4u << 20);
	memset(junk, 0x45, sizeof(junk));
	for (i = 0; i < 3000; i++) {
		for (j = 0; j < 8; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			snprintf(src, sizeof(src), x & 1 ? "10.0.%u.%u" :
			    "2001:db8::%x:%x", (unsigned)(x >> 8) % 3,
			    (unsigned)(x >> 20) % 256);
			k = (unsigned)(x >> 32) % 6;
			len[j] = tu_raw(pkt[j], sizeof(pkt[j]), src, strchr(src,
			    ':') ? "2001:db8::1" : "192.0.2.1", k == 1 ? UDP :
			    TCP, (uint16_t)(40000 + x % 1000), ports[k], TCPF_SYN);
		}
		for (j = 0; j < 8; j++)
			verdict_prefetch(st[0], pkt[j], len[j]);
		verdict_prefetch(st[0], junk, (size_t)(i % 41));
		verdict_prefetch(st[0], pkt[0], 0);
		for (j = 0; j < 8; j++) {
			for (k = 0; k < 2; k++)
				verdict_decide(st[k], pkt[j], len[j], 0,
				    2000 + i, &v[k]);
			ck_assert_int_eq(v[0].accept, v[1].accept);
			ck_assert_int_eq(v[0].reason, v[1].reason);
			ck_assert_uint_eq(v[0].nev, v[1].nev);
			ck_assert(memcmp(v[0].ev, v[1].ev,
			    v[0].nev * sizeof(v[0].ev[0])) == 0);
		}
	}
	ck_assert_uint_eq(kt[0]->st.used, kt[1]->st.used);
	for (k = 0; k < 2; k++) {
		knock_free(kt[k]);
		grant_free(gt[k]);
		sw_free(sw[k]);
		free(st[k]);
	}
}
END_TEST

START_TEST(lockout)
{
	start("[options]\nLockout_After = 2\nLockout_Time = 5\n"
	    "Knock_Reply = drop\nScan_Guard = no\n"
	    "[d]\nSequence = 7000,8000,9000\nOpen_Ports = 22\n");
	/* Two wrong knocks past the first (7000 again), two failures. */
	send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 0);
	send_pkt("203.0.113.5", TCP, 8000, TCPF_SYN, 1);
	send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 2);
	ck_assert(has_ev(KEV_RESET, 0));
	ck_assert(!has_ev(KEV_LOCKOUT, 0));
	send_pkt("203.0.113.5", TCP, 8000, TCPF_SYN, 3);
	send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 4);
	ck_assert_int_eq(fx->v.accept, 0);
	ck_assert_int_eq(fx->v.reason, VR_KNOCK);
	ck_assert(has_ev(KEV_LOCKOUT, 0));
	ck_assert_int_eq(fx->v.locked, 0);	/* this one counted */
	ck_assert_uint_eq(fx->s.st.lockouts, 1);
	/* Locked out: knocks are dropped and ignored, and say so. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 100),
	    0);
	ck_assert_int_eq(fx->v.locked, 1);
	ck_assert_uint_eq(fx->v.nev, 0);
	send_pkt("203.0.113.5", TCP, 8000, TCPF_SYN, 101);
	ck_assert_int_eq(fx->v.locked, 1);
	ck_assert_uint_eq(fx->ngrants, 0);
	ck_assert_uint_eq(fx->s.st.locked, 2);
	/* The lockout holds no grant back: other ports are as they were. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 102), 0);
	ck_assert_int_eq(fx->v.locked, 0);
	/* Lockout_Time after it began, knocking works again. */
	send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 5003);
	ck_assert_int_eq(fx->v.locked, 1);
	send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 5004);
	ck_assert_int_eq(fx->v.locked, 0);
	send_pkt("203.0.113.5", TCP, 8000, TCPF_SYN, 5005);
	send_pkt("203.0.113.5", TCP, 9000, TCPF_SYN, 5006);
	ck_assert_uint_eq(fx->ngrants, 1);
	ck_assert_uint_eq(fx->s.st.lockouts, 1);
}
END_TEST

static const char *const closing = PLAIN
    "[ssh]\nSequence = 7000\nOpen_Ports = 22\n"
    "[vpn]\nSequence = 6000\nOpen_Ports = 51820:udp\n"
    "[close]\nSequence = 9000\nClose = ssh, vpn\n"
    "[close2]\nSequence = 9000, 9001\nClose = vpn\n"
    "[both]\nSequence = 5000\nOpen_Ports = 2222\nClose = both2\n"
    "[both2]\nSequence = 5000\nOpen_Ports = 2223\n";

START_TEST(close_revokes)
{
	start(closing);
	send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 0);
	send_pkt("203.0.113.6", TCP, 7000, TCPF_SYN, 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 1), 1);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 9000, TCPF_SYN, 2), 0);
	ck_assert_uint_eq(fx->ngrants, 0);
	ck_assert_uint_eq(fx->ncloses, 2);
	ck_assert_uint_eq(fx->close[0].door, 0);
	ck_assert_uint_eq(fx->close[0].by, 2);
	ck_assert_uint_eq(fx->close[0].revoked, 1);
	ck_assert_uint_eq(fx->close[1].door, 1);
	ck_assert_uint_eq(fx->close[1].revoked, 0);	/* had none */
	ck_assert_uint_eq(fx->s.st.closes, 1);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 3), 0);
	ck_assert_int_eq(fx->v.reason, VR_NO_GRANT);
	/* Only the knocking source's grants. */
	ck_assert_int_eq(send_pkt("203.0.113.6", TCP, 22, TCPF_SYN, 3), 1);
}
END_TEST

START_TEST(close_once_per_packet)
{
	/* c1 (9001) and c2 (9000, 9001) complete on one packet, and both
	 * close vpn: it is closed, and reported, once. */
	start(PLAIN "[vpn]\nSequence = 6000\nOpen_Ports = 51820:udp\n"
	    "[c1]\nSequence = 9001\nClose = vpn\n"
	    "[c2]\nSequence = 9000, 9001\nClose = vpn\n");
	send_pkt("203.0.113.5", TCP, 6000, TCPF_SYN, 0);
	send_pkt("203.0.113.5", TCP, 9000, TCPF_SYN, 1);
	send_pkt("203.0.113.5", TCP, 9001, TCPF_SYN, 2);
	ck_assert_uint_eq(fx->v.ndone, 2);
	ck_assert_uint_eq(fx->ncloses, 1);
	ck_assert_uint_eq(fx->close[0].door, 0);
	ck_assert(fx->close[0].by == 1 || fx->close[0].by == 2);
	ck_assert_uint_eq(fx->close[0].revoked, 1);
	ck_assert_int_eq(send_pkt("203.0.113.5", UDP, 51820, 0, 3), 0);
}
END_TEST

START_TEST(close_wins_over_grant)
{
	start(closing);
	/* both opens 2222 and closes both2, which the same knock opens. */
	send_pkt("203.0.113.5", TCP, 5000, TCPF_SYN, 0);
	ck_assert_uint_eq(fx->ngrants, 2);
	ck_assert_uint_eq(fx->ncloses, 1);
	ck_assert_uint_eq(fx->close[0].door, 5);
	ck_assert_uint_eq(fx->close[0].revoked, 1);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 2222, TCPF_SYN, 1), 1);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 2223, TCPF_SYN, 1), 0);
}
END_TEST

START_TEST(done_doors)
{
	start(PLAIN "[cmd]\nSequence = 5000\nStart_Command = run %IP%\n"
	    "Start_Command_6 =\n"
	    "[ot]\nOne_Time_Sequences = /etc/gk/ot\nOpen_Ports = 22\n"
	    "Monitor = yes\n"
	    "[open]\nSequence = 5000\nOpen_Ports = 23\n");
	send_pkt("203.0.113.5", TCP, 5000, TCPF_SYN, 0);
	ck_assert_uint_eq(fx->v.ndone, 2);
	ck_assert_uint_eq(fx->v.done[0].door, 0);
	ck_assert_uint_eq(fx->v.done[0].one_time, 0);
	ck_assert_uint_eq(fx->v.done[0].settling, 1);
	ck_assert_uint_eq(fx->v.done[1].door, 2);
	/* Settled: what main runs. */
	ck_assert_uint_eq(fx->nset, 2);
	ck_assert_uint_eq(fx->set[0].door + fx->set[1].door, 2);
	ck_assert_uint_eq(fx->set[fx->set[0].door == 0 ? 0 : 1].command, 1);
	ck_assert_uint_eq(fx->set[fx->set[0].door == 0 ? 1 : 0].command, 0);
	ck_assert_uint_eq(fx->set[0].monitor, 0);
	ck_assert_uint_eq(fx->ngrants, 1);
	/* No IPv6 command: nothing to run for an IPv6 source. */
	send_pkt("2001:db8:1::5", TCP, 5000, TCPF_SYN, 1);
	ck_assert_uint_eq(fx->v.ndone, 2);
	ck_assert_uint_eq(fx->set[0].command + fx->set[1].command, 0);
	/* A one-time door, once it has a sequence: its line is used at the
	 * completing knock, not when it settles. */
	ck_assert_int_eq(config_door_set_sequence(&fx->cfg.door[1], "4000",
	    4, NULL, 0), 0);
	verdict_door_changed(&fx->s, 1);
	send_pkt("203.0.113.5", TCP, 4000, TCPF_SYN, 2);
	ck_assert_uint_eq(fx->v.ndone, 1);
	ck_assert_uint_eq(fx->v.done[0].door, 1);
	ck_assert_uint_eq(fx->v.done[0].one_time, 1);
	ck_assert_uint_eq(fx->set[0].monitor, 1);
	ck_assert_uint_eq(fx->ngrants, 1);
}
END_TEST

START_TEST(one_time_sequence_changes)
{
	struct cfg_door *ot;

	start("[options]\nKnock_Reply = drop\n"
	    "[ot]\nOne_Time_Sequences = /etc/gk/ot\nOpen_Ports = 22\n"
	    "[a]\nSequence = 7000,7100\nOpen_Ports = 23\n");
	ot = &fx->cfg.door[0];
	/* No sequence yet: the door is shut, its ports unwatched. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 3000, TCPF_SYN, 0), 1);
	ck_assert_int_eq(fx->v.reason, VR_OBSERVED);
	ck_assert_int_eq(config_door_set_sequence(ot, "3000,3001", 9, NULL,
	    0), 0);
	verdict_door_changed(&fx->s, 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 3000, TCPF_SYN, 1), 0);
	ck_assert_int_eq(fx->v.reason, VR_KNOCK);
	ck_assert(has_ev(KEV_STAGE, 0));
	/* Used up: the next sequence, and the old progress is gone. */
	ck_assert_int_eq(config_door_set_sequence(ot, "3001,3002", 9, NULL,
	    0), 0);
	verdict_door_changed(&fx->s, 0);
	send_pkt("203.0.113.5", TCP, 3001, TCPF_SYN, 2);
	ck_assert(has_ev(KEV_STAGE, 0));
	ck_assert_uint_eq(fx->ngrants, 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 3000, TCPF_SYN, 3), 1);
	ck_assert_int_eq(fx->v.reason, VR_OBSERVED);
	/* The counters run on. */
	ck_assert_uint_eq(fx->s.st.packets, 4);
}
END_TEST

START_TEST(monitor_global)
{
	uint8_t buf[64] = { 0x45 };

	start("[options]\nMonitor = yes\nScan_Guard = no\nKnock_Reply = drop\n"
	    "[d]\nSequence = 7000,8000\nOpen_Ports = 22\n");
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 0), 1);
	ck_assert_int_eq(fx->v.monitor, 1);
	ck_assert_int_eq(fx->v.would_accept, 0);
	ck_assert_int_eq(fx->v.reason, VR_NO_GRANT);
	ck_assert(verdict_refused(&fx->v));
	/* Knocks pass too, and still count. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 1), 1);
	ck_assert_int_eq(fx->v.monitor, 1);
	ck_assert_int_eq(fx->v.reason, VR_KNOCK);
	send_pkt("203.0.113.5", TCP, 8000, TCPF_SYN, 2);
	ck_assert_uint_eq(fx->ngrants, 1);
	/* What would pass anyway is no monitor verdict. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 3), 1);
	ck_assert_int_eq(fx->v.monitor, 0);
	ck_assert_int_eq(fx->v.would_accept, 1);
	ck_assert_int_eq(fx->v.reason, VR_GRANT);
	ck_assert(!verdict_refused(&fx->v));
	/* Even garbage passes. */
	verdict_decide(&fx->s, buf, 10, 0, 4, &fx->v);
	ck_assert_int_eq(fx->v.accept, 1);
	ck_assert_int_eq(fx->v.monitor, 1);
	ck_assert_int_eq(fx->v.reason, VR_MALFORMED);
	ck_assert_uint_eq(fx->s.st.monitored, 4);
	ck_assert_uint_eq(fx->s.st.accepted, 5);
	ck_assert_uint_eq(fx->s.st.dropped, 0);
	ck_assert_uint_eq(fx->s.st.reason[VR_NO_GRANT], 1);
}
END_TEST

START_TEST(monitor_per_door)
{
	uint8_t buf[64] = { 0x45 };

	start(PLAIN "[watch]\nSequence = 7000,8000\nOpen_Ports = 22, 25\n"
	    "Monitor = yes\n"
	    "[enforce]\nSequence = 8000,9000\nOpen_Ports = 25, 26\n");
	/* 22 concerns only a monitored door. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 0), 1);
	ck_assert_int_eq(fx->v.monitor, 1);
	ck_assert_int_eq(fx->v.reason, VR_NO_GRANT);
	/* 25 and 26 concern an enforcing door too. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 25, TCPF_SYN, 1), 0);
	ck_assert_int_eq(fx->v.monitor, 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 26, TCPF_SYN, 1), 0);
	/* Knock ports likewise. */
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 2), 1);
	ck_assert_int_eq(fx->v.monitor, 1);
	ck_assert(has_ev(KEV_STAGE, 0));
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 8000, TCPF_SYN, 3), 0);
	ck_assert_int_eq(fx->v.reason, VR_KNOCK);
	ck_assert_uint_eq(fx->ngrants, 1);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 9000, TCPF_SYN, 4), 0);
	/* Garbage concerns no door: dropped. */
	verdict_decide(&fx->s, buf, 10, 0, 5, &fx->v);
	ck_assert_int_eq(fx->v.accept, 0);
	ck_assert_int_eq(fx->v.monitor, 0);
	ck_assert_uint_eq(fx->s.st.monitored, 2);
}
END_TEST

START_TEST(reason_names)
{
	ck_assert_str_eq(verdict_reason_name(VR_NO_GRANT), "no-grant");
	ck_assert_str_eq(verdict_reason_name(VR_GRANT), "grant");
	ck_assert_str_eq(verdict_reason_name(VR_PUBLIC), "public");
	ck_assert_str_eq(verdict_reason_name(VR_OBSERVED), "observed");
	ck_assert_str_eq(verdict_reason_name(VR_UNWATCHED), "unwatched");
	ck_assert_str_eq(verdict_reason_name(VR_NREASONS), "?");
}
END_TEST

/* --- the scan checks and the settle window ------------------------------ */

/* The daemon's setup: Scan_Guard, a scanwatch, completions settled by
 * hand (settle()). */
static const char *const guarded = "[options]\nKnock_Reply = drop\n"
    "[ssh]\nSequence = 7000,8000:udp,9000\nOpen_Ports = 22\n";

static void
watch(const char *c)
{
	sw_free(fx->sw);
	fx->sw = sw_new(0, &key);
	ck_assert_ptr_nonnull(fx->sw);
	start(c);
	fx->manual = 1;
}

static void
knock3(const char *src, int64_t ms)
{
	send_pkt(src, TCP, 7000, TCPF_SYN, ms);
	send_pkt(src, UDP, 8000, 0, ms + 1);
	send_pkt(src, TCP, 9000, TCPF_SYN, ms + 2);
}

/* A completion grants SW_SETTLE_MS after its last knock; a connection in
 * between waits for it (hold), and is then let in. */
START_TEST(completion_settles_then_grants)
{
	struct pkt held;

	watch(guarded);
	knock3("203.0.113.5", 0);
	ck_assert(has_ev(KEV_COMPLETE, 0));
	ck_assert_uint_eq(fx->v.done[0].settling, 1);
	ck_assert_int_eq(verdict_next_settle(&fx->s), 2 + SW_SETTLE_MS);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 3), 0);
	ck_assert_int_eq(fx->v.hold, 1);
	ck_assert_int_eq(fx->v.hold_until, 2 + SW_SETTLE_MS);
	held = fx->v.pkt;
	/* Another source's SYN does not wait. */
	ck_assert_int_eq(send_pkt("203.0.113.6", TCP, 22, TCPF_SYN, 3), 0);
	ck_assert_int_eq(fx->v.hold, 0);
	ck_assert_uint_eq(settle(1 + SW_SETTLE_MS), 0);
	ck_assert_uint_eq(settle(2 + SW_SETTLE_MS), 1);
	ck_assert_uint_eq(fx->ngrants, 1);
	/* Open_Timeout (default 30 s) counts from the last knock. */
	ck_assert_int_eq(fx->grant[0].expires_ms, 2 + 30000);
	verdict_recheck(&fx->s, &held, 2 + SW_SETTLE_MS, &fx->v);
	ck_assert_int_eq(fx->v.accept, 1);
	ck_assert_int_eq(fx->v.reason, VR_GRANT);
	ck_assert_int_eq(fx->v.waited, 1);
	ck_assert_uint_eq(fx->s.st.held, 1);
	ck_assert_uint_eq(fx->s.st.settled, 1);
}
END_TEST

/* A packet that resets, read within the window after the last knock (it
 * may have come before it on the wire), undoes the completion. */
START_TEST(reset_in_the_window_cancels)
{
	struct pkt held;

	watch(guarded);
	knock3("203.0.113.5", 0);
	send_pkt("203.0.113.5", TCP, 22, TCPF_SYN, 3);
	held = fx->v.pkt;
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 9001, TCPF_SYN, 4), 1);
	ck_assert_int_eq(fx->v.reason, VR_OBSERVED);
	ck_assert_uint_eq(fx->v.ncancel, 1);
	ck_assert_uint_eq(fx->v.cancel[0], 0);
	ck_assert_uint_eq(settle(1000), 0);
	verdict_recheck(&fx->s, &held, 2 + SW_SETTLE_MS, &fx->v);
	ck_assert_int_eq(fx->v.accept, 0);
	ck_assert_uint_eq(fx->s.st.cancelled, 1);
	/* A wrong knock does it too; a packet to the protected port, sent
	 * again, does not. */
	knock3("203.0.113.7", 2000);
	send_pkt("203.0.113.7", TCP, 22, TCPF_SYN, 2003);
	resend(2004);
	ck_assert_uint_eq(fx->v.ncancel, 0);
	send_pkt("203.0.113.7", UDP, 8000, 0, 2005);
	ck_assert_uint_eq(fx->v.ncancel, 1);
	/* So does the loss of packets (a reset may be among them). */
	knock3("203.0.113.8", 3000);
	verdict_lost(&fx->s, 3003);
	ck_assert_uint_eq(settle(4000), 0);
}
END_TEST

/* A knock within SW_SETTLE_MS after a reset counts for nothing, even if
 * it came first on the wire: RSS reorders a scan's probes. */
START_TEST(knock_after_reset_is_void)
{
	watch(guarded);
	send_pkt("203.0.113.5", TCP, 6999, TCPF_SYN, 0);
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 7000, TCPF_SYN, 10), 0);
	ck_assert_int_eq(fx->v.ignored, SW_RECENT);
	ck_assert(!has_ev(KEV_STAGE, 0));
	ck_assert_uint_eq(fx->s.st.knocks_recent, 1);
	/* Later it counts. */
	knock3("203.0.113.5", 11 + SW_SETTLE_MS);
	ck_assert(has_ev(KEV_COMPLETE, 0));
}
END_TEST

/* A source that probed ten ports or more is a scanner: its knocks, even
 * the right ones, open nothing, while others' do. */
START_TEST(scanner_knocks_are_ignored)
{
	unsigned i;

	watch(guarded);
	for (i = 0; i < 40; i++)
		send_pkt("203.0.113.5", TCP, (uint16_t)(100 + i), TCPF_SYN, i);
	knock3("203.0.113.5", 5000);
	ck_assert_int_eq(fx->v.ignored, SW_SCANNER);
	ck_assert(!has_ev(KEV_COMPLETE, 0));
	ck_assert_uint_eq(fx->s.st.knocks_scanner, 3);
	knock3("203.0.113.6", 5000);
	ck_assert(has_ev(KEV_COMPLETE, 0));
	/* Probes of protected ports count too. */
	for (i = 0; i < 40; i++)
		send_pkt("203.0.113.9", TCP, 22, TCPF_SYN, 6000 + i);
	knock3("203.0.113.9", 7000);
	ck_assert(has_ev(KEV_COMPLETE, 0));	/* one port, forty times */
}
END_TEST

Suite *
verdict_suite(void)
{
	Suite *s = suite_create("verdict");
	TCase *tc = tcase_create("verdict");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_grant_drops);
	tcase_add_test(tc, knock_then_connect);
	tcase_add_test(tc, knocks_answered_as_closed_ports);
	tcase_add_test(tc, protected_port_any_flags);
	tcase_add_test(tc, cut_packets_are_judged_on_headers);
	tcase_add_test(tc, lost_packets_end_attempts);
	tcase_add_test(tc, grant_is_per_source_and_per_door);
	tcase_add_test(tc, grant_expires);
	tcase_add_test(tc, ipv6_source);
	tcase_add_test(tc, allow_list);
	tcase_add_test(tc, command_only_door_makes_no_grant);
	tcase_add_test(tc, malformed_is_dropped_and_counted);
	tcase_add_test(tc, unwatched_port_passes);
	tcase_add_test(tc, scan_guard_resets);
	tcase_add_test(tc, public_ports_pass);
	tcase_add_test(tc, retransmitted_knock_is_ignored);
	tcase_add_test(tc, lockout);
	tcase_add_test(tc, burst_hint_changes_nothing);
	tcase_add_test(tc, close_revokes);
	tcase_add_test(tc, close_once_per_packet);
	tcase_add_test(tc, close_wins_over_grant);
	tcase_add_test(tc, done_doors);
	tcase_add_test(tc, completion_settles_then_grants);
	tcase_add_test(tc, reset_in_the_window_cancels);
	tcase_add_test(tc, knock_after_reset_is_void);
	tcase_add_test(tc, scanner_knocks_are_ignored);
	tcase_add_test(tc, one_time_sequence_changes);
	tcase_add_test(tc, monitor_global);
	tcase_add_test(tc, monitor_per_door);
	tcase_add_test(tc, reason_names);
	suite_add_tcase(s, tc);
	return s;
}
