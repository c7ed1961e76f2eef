/* Unit tests: addr. */
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "siphash.h"
#include "suites.h"
#include "testutil.h"

START_TEST(parse_and_format)
{
	struct addr a;
	char buf[ADDR_STRLEN];

	ck_assert_int_eq(addr_parse("192.0.2.7", &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_str_eq(addr_format(&a, buf, sizeof(buf)), "192.0.2.7");
	ck_assert_int_eq(addr_parse("2001:db8::1", &a), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_str_eq(addr_format(&a, buf, sizeof(buf)), "2001:db8::1");
	/* IPv4 is formatted by hand: every octet width, and a short buffer. */
	static const char *const v4[] = { "0.0.0.0", "255.255.255.255",
	    "10.0.100.9", "1.22.103.240" };
	for (unsigned i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		ck_assert_int_eq(addr_parse(v4[i], &a), 0);
		ck_assert_str_eq(addr_format(&a, buf, sizeof(buf)), v4[i]);
	}
	ck_assert_int_eq(addr_parse("192.0.2.7", &a), 0);
	ck_assert_str_eq(addr_format(&a, buf, 9), "?");
	ck_assert_str_eq(addr_format(&a, buf, 10), "192.0.2.7");
	ck_assert_int_eq(addr_parse("example.org", &a), -1);
	ck_assert_int_eq(addr_parse("", &a), -1);
	ck_assert_int_eq(addr_parse("1.2.3.4.5", &a), -1);
}
END_TEST

START_TEST(equality)
{
	struct addr a, b, c;

	addr_parse("10.1.2.3", &a);
	addr_parse("10.1.2.3", &b);
	addr_parse("::ffff:10.1.2.3", &c);
	ck_assert(addr_equal(&a, &b));
	ck_assert(!addr_equal(&a, &c));
	b.b[3] = 4;
	ck_assert(!addr_equal(&a, &b));
}
END_TEST

START_TEST(cidr)
{
	struct cidr c;
	struct addr a;

	ck_assert_int_eq(cidr_parse("10.0.0.0/8", &c), 0);
	addr_parse("10.200.1.1", &a);
	ck_assert(cidr_match(&c, &a));
	addr_parse("11.0.0.1", &a);
	ck_assert(!cidr_match(&c, &a));
	ck_assert_int_eq(cidr_parse("192.168.4.0/22", &c), 0);
	addr_parse("192.168.7.255", &a);
	ck_assert(cidr_match(&c, &a));
	addr_parse("192.168.8.0", &a);
	ck_assert(!cidr_match(&c, &a));
	ck_assert_int_eq(cidr_parse("2001:db8::/32", &c), 0);
	addr_parse("2001:db8:ffff::1", &a);
	ck_assert(cidr_match(&c, &a));
	addr_parse("10.0.0.1", &a);
	ck_assert(!cidr_match(&c, &a));		/* other family */
	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c), 0);
	ck_assert(cidr_match(&c, &a));
	ck_assert_int_eq(cidr_parse("203.0.113.9", &c), 0);
	ck_assert_int_eq(c.prefix, 32);
	/* Host bits set, bad prefixes, names. */
	ck_assert_int_eq(cidr_parse("10.0.0.1/8", &c), -1);
	ck_assert_int_eq(cidr_parse("10.0.0.0/33", &c), -1);
	ck_assert_int_eq(cidr_parse("10.0.0.0/", &c), -1);
	ck_assert_int_eq(cidr_parse("10.0.0.0/-1", &c), -1);
	ck_assert_int_eq(cidr_parse("10.0.0.0/8x", &c), -1);
	ck_assert_int_eq(cidr_parse("::/129", &c), -1);
	ck_assert_int_eq(cidr_parse("host/8", &c), -1);
}
END_TEST

/* Reference vector from the SipHash paper (appendix A). */
START_TEST(siphash_vector)
{
	struct siphash_key k = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	uint8_t msg[15];
	unsigned i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	ck_assert_uint_eq(siphash24(&k, msg, sizeof(msg)),
	    0xa129ca6149be45e5ULL);
	ck_assert_uint_eq(siphash24(&k, msg, 0), 0x726fdb47dd0e0e31ULL);
}
END_TEST

START_TEST(unicast)
{
	static const char *const yes[] = { "10.77.1.2", "192.0.2.1",
	    "223.255.255.254", "2001:db8::5", "fec0::1", "::2" };
	static const char *const no[] = { "0.0.0.0", "0.0.0.1", "127.0.0.1",
	    "224.0.0.1", "239.1.1.1", "240.0.0.1", "255.255.255.255", "::",
	    "::1", "ff02::1", "::ffff:10.77.1.2", "fe80::1", "febf::1" };
	struct addr a;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		a = tu_addr(yes[i]);
		ck_assert_msg(addr_is_unicast(&a), "%s", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		a = tu_addr(no[i]);
		ck_assert_msg(!addr_is_unicast(&a), "%s", no[i]);
	}
}
END_TEST

Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");

	tcase_add_test(tc, unicast);
	tcase_add_test(tc, parse_and_format);
	tcase_add_test(tc, equality);
	tcase_add_test(tc, cidr);
	tcase_add_test(tc, siphash_vector);
	suite_add_tcase(s, tc);
	return s;
}
