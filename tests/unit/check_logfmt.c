/* Unit tests: logfmt lines, field by field and whole. */
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "logfmt.h"
#include "suites.h"
#include "testutil.h"

static char line[LOGFMT_LINE_MAX];
static struct lf l;

static void
fresh(void)
{
	memset(line, 'x', sizeof(line));
	lf_init(&l, line, sizeof(line));
}

/* A verdict about src -> dport, as verdict_decide() leaves it. */
static struct verdict *
verdict_for(const char *src, uint8_t proto, uint16_t dport, int accept,
    enum verdict_reason reason)
{
	static struct verdict v;

	memset(&v, 0, sizeof(v));
	v.pkt = tu_pkt(src, "192.0.2.1", proto, dport, TCPF_SYN);
	v.accept = v.would_accept = accept;
	v.reason = reason;
	v.door = -1;
	return &v;
}

static struct config *
cfg_plain(void)
{
	return tu_config("[openSSH]\nSequence = 7000,8000:udp,9000\n"
	    "Open_Ports = 22, 51820:udp\n[closeSSH]\nSequence = 9000,7000\n"
	    "Close = openSSH\n[options]\nLockout_After = 4\n"
	    "Lockout_Time = 90\n");
}

START_TEST(fields)
{
	struct addr a;

	fresh();
	ck_assert_str_eq(line, "");
	lf_str(&l, "a", "plain");
	lf_str(&l, "b", "two words");
	lf_str(&l, "c", "");
	lf_str(&l, "d", "say \"hi\" \\o/");
	lf_str(&l, "e", "x=y");
	lf_str(&l, "f", "tab\there\x01\x7f");
	ck_assert_str_eq(line, "a=plain b=\"two words\" c=\"\" "
	    "d=\"say \\\"hi\\\" \\\\o/\" e=\"x=y\" f=\"tab\\x09here\\x01\\x7f\"");
	ck_assert_uint_eq(l.len, strlen(line));

	fresh();
	lf_u64(&l, "n", 18446744073709551615ull);
	lf_i64(&l, "i", -42);
	lf_port(&l, "p", 51820, IPPROTO_UDP);
	ck_assert_int_eq(addr_parse("2001:db8::7", &a), 0);
	lf_addr(&l, "src", &a);
	ck_assert_str_eq(line, "n=18446744073709551615 i=-42 p=51820/udp "
	    "src=2001:db8::7");
}
END_TEST

START_TEST(cut_lines)
{
	char small[24];
	size_t i;

	lf_init(&l, small, sizeof(small));
	lf_str(&l, "event", "verdict");
	lf_str(&l, "reason", "no-grant");
	ck_assert_str_eq(small, "event=verdict ...");
	/* Once cut, nothing more is added, nor a second mark. */
	lf_str(&l, "x", "y");
	ck_assert_str_eq(small, "event=verdict ...");
	ck_assert_uint_eq(l.len, strlen(small));

	/* Whatever is logged, the line stays in its buffer. */
	for (i = 0; i < 300; i++)
		lf_str(&l, "k", "a long value with spaces");
	ck_assert_uint_lt(strlen(small), sizeof(small));

	/* A buffer too small for anything stays empty. */
	lf_init(&l, small, 4);
	lf_str(&l, "event", "x");
	ck_assert_str_eq(small, "");
	lf_init(&l, small, 0);
	lf_str(&l, "event", "x");
}
END_TEST

START_TEST(verdict_lines)
{
	const struct config *cfg = cfg_plain();
	struct verdict *v;

	fresh();
	v = verdict_for("198.51.100.9", IPPROTO_TCP, 22, 0, VR_NO_GRANT);
	logfmt_verdict(&l, cfg, v);
	ck_assert_str_eq(line, "event=verdict verdict=drop src=198.51.100.9 "
	    "dport=22/tcp reason=no-grant");

	fresh();
	v = verdict_for("203.0.113.7", IPPROTO_UDP, 51820, 1, VR_GRANT);
	v->door = 0;
	logfmt_verdict(&l, cfg, v);
	ck_assert_str_eq(line, "event=verdict verdict=accept src=203.0.113.7 "
	    "dport=51820/udp door=openSSH reason=grant");

	fresh();
	v = verdict_for("203.0.113.7", IPPROTO_TCP, 7000, 0, VR_KNOCK);
	v->locked = 1;
	logfmt_verdict(&l, cfg, v);
	ck_assert_str_eq(line, "event=verdict verdict=drop src=203.0.113.7 "
	    "dport=7000/tcp reason=knock locked=yes");

	fresh();
	v = verdict_for("203.0.113.7", IPPROTO_TCP, 80, 1, VR_OBSERVED);
	logfmt_verdict(&l, cfg, v);
	ck_assert_str_eq(line, "event=verdict verdict=accept src=203.0.113.7 "
	    "dport=80/tcp reason=observed");

	fresh();
	v = verdict_for("203.0.113.7", IPPROTO_TCP, 80, 0, VR_MALFORMED);
	v->status = PKT_EL4SHORT;
	logfmt_verdict(&l, cfg, v);
	ck_assert_str_eq(line, "event=verdict verdict=drop reason=malformed "
	    "error=l4-short");
}
END_TEST

START_TEST(monitor_lines)
{
	const struct config *cfg = cfg_plain();
	struct verdict *v;

	fresh();
	v = verdict_for("198.51.100.9", IPPROTO_TCP, 22, 1, VR_NO_GRANT);
	v->monitor = 1;
	v->would_accept = 0;
	logfmt_verdict(&l, cfg, v);
	ck_assert_str_eq(line, "event=verdict verdict=accept would=drop "
	    "monitor=yes src=198.51.100.9 dport=22/tcp reason=no-grant");

	fresh();
	v = verdict_for("198.51.100.9", IPPROTO_TCP, 9000, 1, VR_KNOCK);
	v->monitor = 1;
	v->would_accept = 0;
	logfmt_verdict(&l, cfg, v);
	ck_assert_str_eq(line, "event=verdict verdict=accept would=drop "
	    "monitor=yes src=198.51.100.9 dport=9000/tcp reason=knock");
}
END_TEST

START_TEST(prefix_on_refused_lines)
{
	const struct config *cfg = tu_config("[options]\n"
	    "Log_Prefix = GK refused:\n"
	    "[d]\nSequence = 7000,49000\nOpen_Ports = 22\n");
	struct verdict *v;

	fresh();
	v = verdict_for("198.51.100.9", IPPROTO_TCP, 22, 0, VR_NO_GRANT);
	logfmt_verdict(&l, cfg, v);
	ck_assert_str_eq(line, "event=verdict prefix=\"GK refused:\" "
	    "verdict=drop src=198.51.100.9 dport=22/tcp reason=no-grant");
	/* Also when Monitor let it through: it was refused all the same. */
	fresh();
	v->accept = v->monitor = 1;
	logfmt_verdict(&l, cfg, v);
	ck_assert_str_eq(line, "event=verdict prefix=\"GK refused:\" "
	    "verdict=accept would=drop monitor=yes src=198.51.100.9 "
	    "dport=22/tcp reason=no-grant");
	/* Not on other lines. */
	fresh();
	v = verdict_for("198.51.100.9", IPPROTO_TCP, 7000, 0, VR_KNOCK);
	logfmt_verdict(&l, cfg, v);
	ck_assert_ptr_null(strstr(line, "prefix="));
	fresh();
	v = verdict_for("198.51.100.9", IPPROTO_TCP, 22, 1, VR_GRANT);
	v->door = 0;
	logfmt_verdict(&l, cfg, v);
	ck_assert_ptr_null(strstr(line, "prefix="));
}
END_TEST

START_TEST(knock_lines)
{
	const struct config *cfg = cfg_plain();
	struct knock_event ev = { KEV_STAGE, 0, 2, 3 };
	struct addr a;

	ck_assert_int_eq(addr_parse("203.0.113.7", &a), 0);
	fresh();
	logfmt_knock(&l, cfg, &a, &ev);
	ck_assert_str_eq(line, "event=knock src=203.0.113.7 door=openSSH "
	    "stage=2/3");
	fresh();
	ev.type = KEV_RESET;
	logfmt_knock(&l, cfg, &a, &ev);
	ck_assert_str_eq(line, "event=knock-reset src=203.0.113.7 "
	    "door=openSSH stage=2/3");
	fresh();
	ev.type = KEV_TIMEOUT;
	logfmt_knock(&l, cfg, &a, &ev);
	ck_assert_str_eq(line, "event=knock-timeout src=203.0.113.7 "
	    "door=openSSH stage=2/3");
	fresh();
	ev.type = KEV_COMPLETE;
	ev.door = 1;
	ev.stage = ev.len = 2;
	logfmt_knock(&l, cfg, &a, &ev);
	ck_assert_str_eq(line, "event=knock-complete src=203.0.113.7 "
	    "door=closeSSH stage=2/2");
	fresh();
	ev.type = KEV_LOCKOUT;
	ev.door = 0;
	ev.stage = ev.len = 0;
	logfmt_knock(&l, cfg, &a, &ev);
	ck_assert_str_eq(line, "event=lockout src=203.0.113.7 door=openSSH "
	    "failures=4 expires_in=90");
	fresh();
	ev.type = 99;
	ev.door = 200;
	logfmt_knock(&l, cfg, &a, &ev);
	ck_assert_str_eq(line, "event=knock-? src=203.0.113.7 door=? "
	    "stage=0/0");
}
END_TEST

START_TEST(grant_expire_close_lines)
{
	const struct config *cfg = cfg_plain();
	struct verdict_close c = { 0, 1, 1 };
	struct grant g;
	struct addr a;

	ck_assert_int_eq(addr_parse("203.0.113.7", &a), 0);
	fresh();
	logfmt_grant(&l, cfg, &a, 0, 29001);
	ck_assert_str_eq(line, "event=grant src=203.0.113.7 door=openSSH "
	    "ports=22/tcp,51820/udp expires_in=30");

	memset(&g, 0, sizeof(g));
	g.src = a;
	g.door = 0;
	fresh();
	logfmt_expire(&l, cfg, &g);
	ck_assert_str_eq(line, "event=expire src=203.0.113.7 door=openSSH");

	fresh();
	logfmt_close(&l, cfg, &a, &c);
	ck_assert_str_eq(line, "event=close src=203.0.113.7 door=openSSH "
	    "by=closeSSH revoked=yes");
	fresh();
	c.revoked = 0;
	c.door = 77;
	logfmt_close(&l, cfg, &a, &c);
	ck_assert_str_eq(line, "event=close src=203.0.113.7 door=? "
	    "by=closeSSH revoked=no");
}
END_TEST

Suite *
logfmt_suite(void)
{
	Suite *s = suite_create("logfmt");
	TCase *tc = tcase_create("logfmt");

	tcase_add_test(tc, fields);
	tcase_add_test(tc, cut_lines);
	tcase_add_test(tc, verdict_lines);
	tcase_add_test(tc, monitor_lines);
	tcase_add_test(tc, prefix_on_refused_lines);
	tcase_add_test(tc, knock_lines);
	tcase_add_test(tc, grant_expire_close_lines);
	suite_add_tcase(s, tc);
	return s;
}
