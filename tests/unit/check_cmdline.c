/* Unit tests: cmdline (%IP% substitution, sh -c argv). */
#include <check.h>
#include <string.h>

#include "addr.h"
#include "cmdline.h"
#include "suites.h"

START_TEST(subst_v4)
{
	char out[CMDLINE_MAX];
	const char *t = "iptables -I INPUT -s %IP% -p tcp --dport 22 -j ACCEPT";
	const char *want =
	    "iptables -I INPUT -s 203.0.113.7 -p tcp --dport 22 -j ACCEPT";

	ck_assert_int_eq(cmdline_subst(t, "203.0.113.7", out, sizeof(out)),
	    (int)strlen(want));
	ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(subst_v6_from_addr)
{
	char out[CMDLINE_MAX], ip[ADDR_STRLEN];
	struct addr a;

	/* The runner's path: a struct addr through addr_format(). */
	ck_assert_int_eq(addr_parse("2001:DB8::a:1", &a), 0);
	addr_format(&a, ip, sizeof(ip));
	ck_assert(cmdline_ip_ok(ip));
	ck_assert_int_ge(cmdline_subst("ip6tables -D INPUT -s %IP% -j ACCEPT",
	    ip, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "ip6tables -D INPUT -s 2001:db8::a:1 -j ACCEPT");
	/* The longest text form fits too. */
	ck_assert_int_eq(addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:"
	    "255.255.255.255", &a), 0);
	addr_format(&a, ip, sizeof(ip));
	ck_assert(cmdline_ip_ok(ip));
	ck_assert_int_eq(addr_parse("::ffff:192.0.2.1", &a), 0);
	addr_format(&a, ip, sizeof(ip));
	ck_assert(cmdline_ip_ok(ip));
	ck_assert_int_ge(cmdline_subst("x %IP%", ip, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "x ::ffff:192.0.2.1");
}
END_TEST

START_TEST(subst_many)
{
	char out[CMDLINE_MAX];

	ck_assert_int_eq(cmdline_subst("%IP%;%IP% %IP%%IP%", "10.0.0.1",
	    out, sizeof(out)), 4 * 8 + 2);
	ck_assert_str_eq(out, "10.0.0.1;10.0.0.1 10.0.0.110.0.0.1");
	/* Only the exact token: case, partial and stray percents stay. */
	ck_assert_int_ge(cmdline_subst("%ip% %IP %I%IP%P% 100%", "::1",
	    out, sizeof(out)), 0);
	ck_assert_str_eq(out, "%ip% %IP %I::1P% 100%");
	/* The substituted text is not scanned again. */
	ck_assert_int_ge(cmdline_subst("%%IP%IP%", "1.2.3.4", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "%1.2.3.4IP%");
}
END_TEST

START_TEST(subst_none)
{
	char out[CMDLINE_MAX];

	ck_assert_int_eq(cmdline_subst("/usr/local/bin/notify", "1.2.3.4",
	    out, sizeof(out)), 21);
	ck_assert_str_eq(out, "/usr/local/bin/notify");
	ck_assert_int_eq(cmdline_subst("", "1.2.3.4", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(subst_bound)
{
	static char tmpl[CMDLINE_MAX * 2], out[CMDLINE_MAX];
	const char *ip = "2001:db8::1";		/* 11 characters */
	size_t n;

	/* Exactly CMDLINE_MAX - 1 bytes fit; one more does not. */
	memset(tmpl, 'a', CMDLINE_MAX - 1);
	tmpl[CMDLINE_MAX - 1] = '\0';
	ck_assert_int_eq(cmdline_subst(tmpl, ip, out, sizeof(out)),
	    CMDLINE_MAX - 1);
	strcat(tmpl, "b");
	ck_assert_int_eq(cmdline_subst(tmpl, ip, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "");
	/* A config-sized template (1020 bytes) whose %IP%s overflow with a
	 * long address, though they fit with a short one. */
	for (n = 0; n + 4 <= 1020; n += 4)
		memcpy(tmpl + n, "%IP%", 4);
	tmpl[n] = '\0';
	ck_assert_int_eq(cmdline_subst(tmpl, ip, out, sizeof(out)), 255 * 11);
	ck_assert_int_eq(cmdline_subst(tmpl,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", out, sizeof(out)), -1);
	ck_assert_str_eq(out, "");
	/* The boundary inside an address: room for all but its last byte. */
	memset(tmpl, 'a', CMDLINE_MAX - 11);
	strcpy(tmpl + CMDLINE_MAX - 11, "%IP%");
	ck_assert_int_eq(cmdline_subst(tmpl, ip, out, sizeof(out)), -1);
	strcpy(tmpl + CMDLINE_MAX - 12, "%IP%");
	ck_assert_int_eq(cmdline_subst(tmpl, ip, out, sizeof(out)),
	    CMDLINE_MAX - 1);
	/* Small buffers. */
	ck_assert_int_eq(cmdline_subst("abc", ip, out, 3), -1);
	ck_assert_int_eq(cmdline_subst("abc", ip, out, 4), 3);
	ck_assert_int_eq(cmdline_subst("abc", ip, out, 0), -1);
}
END_TEST

START_TEST(refuse_bad_ip)
{
	static const char *const bad[] = {
		"", "?", "1.2.3.4; rm -rf /", "1.2.3.4 ", " 1.2.3.4",
		"$(id)", "`id`", "1.2.3.4\n", "fe80::1%eth0", "1.2.3.4/24",
		"g::1", "example.org", "'1.2.3.4'",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:0",  /* 46 */
	};
	char out[CMDLINE_MAX];
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!cmdline_ip_ok(bad[i]), "accepted '%s'", bad[i]);
		strcpy(out, "junk");
		ck_assert_int_eq(cmdline_subst("echo %IP%", bad[i], out,
		    sizeof(out)), -1);
		ck_assert_str_eq(out, "");
		/* Refused even when the template has no %IP%. */
		ck_assert_int_eq(cmdline_subst("echo", bad[i], out,
		    sizeof(out)), -1);
	}
	ck_assert(cmdline_ip_ok("0.0.0.0"));
	ck_assert(cmdline_ip_ok("::"));
	ck_assert(cmdline_ip_ok("FE80::ABCD"));
}
END_TEST

START_TEST(exec_argv)
{
	struct cmdline_exec x;
	char line[] = "echo hi | tr a-z A-Z";

	cmdline_exec_init(&x, line);
	ck_assert_str_eq(x.path, "/bin/sh");
	ck_assert_str_eq(x.argv[0], "sh");
	ck_assert_str_eq(x.argv[1], "-c");
	ck_assert_ptr_eq(x.argv[2], line);
	ck_assert_ptr_null(x.argv[3]);
	ck_assert_str_eq(x.envp[0], "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	ck_assert_ptr_null(x.envp[1]);
}
END_TEST

Suite *
cmdline_suite(void)
{
	Suite *s = suite_create("cmdline");
	TCase *tc = tcase_create("cmdline");

	tcase_add_test(tc, subst_v4);
	tcase_add_test(tc, subst_v6_from_addr);
	tcase_add_test(tc, subst_many);
	tcase_add_test(tc, subst_none);
	tcase_add_test(tc, subst_bound);
	tcase_add_test(tc, refuse_bad_ip);
	tcase_add_test(tc, exec_argv);
	suite_add_tcase(s, tc);
	return s;
}
