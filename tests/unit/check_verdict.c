/* Unit tests: verdicts from raw packets, through knocks to grants. */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "testutil.h"
#include "verdict.h"

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

static const struct siphash_key key = { 5, 6 };

static const char *const conf =
    "[options]\n"
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
	struct verdict v;
};

static struct fixture *fx;

static void
setup(void)
{
	const struct config *cfg = tu_config(conf);

	fx = calloc(1, sizeof(*fx));
	ck_assert_ptr_nonnull(fx);
	fx->kt = knock_new(64, cfg->ndoors, &key);
	fx->gt = grant_new(64, &key);
	verdict_init(&fx->s, cfg, fx->kt, fx->gt);
}

static void
teardown(void)
{
	knock_free(fx->kt);
	grant_free(fx->gt);
	free(fx);
}

/* Run one packet; returns 1 accepted, 0 dropped. */
static int
send_pkt(const char *src, uint8_t proto, uint16_t dport, uint8_t flags,
    int64_t ms)
{
	uint8_t buf[128];
	const char *dst = strchr(src, ':') ? "2001:db8::1" : "192.0.2.1";
	size_t n = tu_raw(buf, sizeof(buf), src, dst, proto, 40000, dport,
	    flags);

	verdict_decide(&fx->s, buf, n, ms, &fx->v);
	return fx->v.accept;
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
	ck_assert_uint_eq(fx->v.ngrants, 1);
	ck_assert_int_eq(fx->v.grant[0].door, 0);
	ck_assert_int_eq(fx->v.grant[0].expires_ms, 2 + 30000);
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
	ck_assert_uint_eq(fx->v.ngrants, 1);
	ck_assert_int_eq(fx->v.grant[0].door, 1);
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
	ck_assert_uint_eq(fx->v.ngrants, 0);
}
END_TEST

START_TEST(malformed_is_dropped_and_counted)
{
	uint8_t buf[64] = { 0x45 };

	verdict_decide(&fx->s, buf, 10, 0, &fx->v);
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
	ck_assert_int_eq(send_pkt("203.0.113.5", TCP, 80, TCPF_SYN, 0), 1);
	ck_assert_int_eq(fx->v.reason, VR_UNWATCHED);
}
END_TEST

START_TEST(reason_names)
{
	ck_assert_str_eq(verdict_reason_name(VR_NO_GRANT), "no-grant");
	ck_assert_str_eq(verdict_reason_name(VR_GRANT), "grant");
	ck_assert_str_eq(verdict_reason_name(VR_NREASONS), "?");
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
	tcase_add_test(tc, grant_is_per_source_and_per_door);
	tcase_add_test(tc, grant_expires);
	tcase_add_test(tc, ipv6_source);
	tcase_add_test(tc, allow_list);
	tcase_add_test(tc, command_only_door_makes_no_grant);
	tcase_add_test(tc, malformed_is_dropped_and_counted);
	tcase_add_test(tc, unwatched_port_passes);
	tcase_add_test(tc, reason_names);
	suite_add_tcase(s, tc);
	return s;
}
