/* Unit tests: scanwatch. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>

#include "scanwatch.h"
#include "suites.h"
#include "testutil.h"

static const struct siphash_key key = { 11, 12 };

static void
probe(struct scanwatch *sw, const char *src, unsigned nports, int64_t ms)
{
	struct addr a = tu_addr(src);
	unsigned i;

	for (i = 0; i < nports; i++)
		sw_note(sw, &a, IPPROTO_TCP, (uint16_t)(1000 + i), 1, ms);
}

/* Ten ports make a scanner (the set may count two ports as one, so it
 * takes ten at least, and far fewer than thirty). */
START_TEST(scanner_after_ten_ports)
{
	struct scanwatch *sw = sw_new(0, &key);
	struct addr a = tu_addr("192.0.2.1"), b = tu_addr("192.0.2.2");
	unsigned i;

	ck_assert_ptr_nonnull(sw);
	for (i = 0; i < 9; i++) {
		sw_note(sw, &a, IPPROTO_TCP, (uint16_t)(2000 + i), 1, 0);
		ck_assert_int_ne(sw_check(sw, &a, 1000), SW_SCANNER);
	}
	for (; i < 30 && sw_check(sw, &a, 1000) != SW_SCANNER; i++)
		sw_note(sw, &a, IPPROTO_TCP, (uint16_t)(2000 + i), 1, 0);
	ck_assert_int_eq(sw_check(sw, &a, 1000), SW_SCANNER);
	ck_assert_uint_ge(sw_ports(sw, &a, 1000), SW_SCAN_PORTS);
	ck_assert_uint_eq(sw->st.scanners, 1);
	/* Nobody else is. */
	ck_assert_int_eq(sw_check(sw, &b, 1000), SW_OK);
	/* TCP and UDP ports are different ports. */
	for (i = 0; i < 100; i++)
		sw_note(sw, &b, i % 2 ? IPPROTO_UDP : IPPROTO_TCP, 53, 0, 0);
	ck_assert_uint_le(sw_ports(sw, &b, 0), 2);
	ck_assert_int_ne(sw_check(sw, &b, 1000), SW_SCANNER);
	sw_free(sw);
}
END_TEST

/* A scanner is remembered while it goes on, and for SW_MEMORY_MS after. */
START_TEST(scanner_memory)
{
	struct scanwatch *sw = sw_new(0, &key);
	struct addr a = tu_addr("2001:db8::1");

	probe(sw, "2001:db8::1", 40, 0);
	ck_assert_int_eq(sw_check(sw, &a, SW_MEMORY_MS), SW_SCANNER);
	ck_assert_int_eq(sw_check(sw, &a, SW_MEMORY_MS + 1), SW_OK);
	/* A slow scan: one probe a minute keeps it known. */
	probe(sw, "2001:db8::1", 40, 0);
	sw_note(sw, &a, IPPROTO_TCP, 5, 0, 9 * 60 * 1000);
	ck_assert_int_eq(sw_check(sw, &a, 18 * 60 * 1000), SW_SCANNER);
	sw_free(sw);
}
END_TEST

/* A knock within SW_SETTLE_MS of a reset, on either side of it in time,
 * is void; a packet to a protected port is no reset, and does not move
 * the reset's time either. */
START_TEST(recent_reset)
{
	struct scanwatch *sw = sw_new(0, &key);
	struct addr a = tu_addr("192.0.2.1");

	ck_assert_int_eq(sw_check(sw, &a, 0), SW_OK);
	sw_note(sw, &a, IPPROTO_TCP, 7001, 1, 1000);
	ck_assert_int_eq(sw_check(sw, &a, 1000), SW_RECENT);
	ck_assert_int_eq(sw_check(sw, &a, 1000 + SW_SETTLE_MS), SW_RECENT);
	ck_assert_int_eq(sw_check(sw, &a, 1001 + SW_SETTLE_MS), SW_OK);
	sw_note(sw, &a, IPPROTO_TCP, 22, 0, 1010);
	ck_assert_int_eq(sw_check(sw, &a, 1000 + SW_SETTLE_MS), SW_RECENT);
	ck_assert_int_eq(sw_check(sw, &a, 1001 + SW_SETTLE_MS), SW_OK);
	sw_note(sw, &a, IPPROTO_TCP, 22, 0, 5000);
	ck_assert_int_eq(sw_check(sw, &a, 5000), SW_OK);
	/* Only a protected port: never a reset. */
	a = tu_addr("192.0.2.9");
	sw_note(sw, &a, IPPROTO_TCP, 22, 0, 1000);
	ck_assert_int_eq(sw_check(sw, &a, 1000), SW_OK);
	sw_free(sw);
}
END_TEST

/* A flood of spoofed sources, one port each, many times the table, does
 * not wash out a scanner: a full bucket gives up who saw fewest ports. */
START_TEST(flood_keeps_scanners)
{
	struct scanwatch *sw = sw_new(0, &key);
	struct addr a = tu_addr("198.51.100.7"), s;
	char text[32];
	unsigned i;

	probe(sw, "198.51.100.7", 30, 0);
	ck_assert_int_eq(sw_check(sw, &a, 1), SW_SCANNER);
	for (i = 0; i < 100000; i++) {
		snprintf(text, sizeof(text), "10.%u.%u.%u", i >> 16,
		    (i >> 8) & 255, i & 255);
		s = tu_addr(text);
		sw_note(sw, &s, IPPROTO_TCP, 80, 1, 1 + i / 1000);
	}
	ck_assert_uint_gt(sw->st.replaced, 50000);
	ck_assert_int_eq(sw_check(sw, &a, 200), SW_SCANNER);
	sw_free(sw);
}
END_TEST

START_TEST(sizes)
{
	struct scanwatch *sw = sw_new(0, &key);

	ck_assert_uint_eq(sw->nbuckets * SW_WAYS, SW_MIN_ENTRIES);
	/* The entries, and the table with its memo of a burst's hashes. */
	ck_assert_uint_le(sw_memory(sw), SW_MIN_ENTRIES * 32 + 256 +
	    sizeof(struct srchash_memo));
	sw_free(sw);
	sw = sw_new(16384, &key);
	ck_assert_uint_eq(sw->nbuckets * SW_WAYS, 16384);
	sw_free(sw);
	sw = sw_new(1u << 24, &key);
	ck_assert_uint_eq(sw->nbuckets * SW_WAYS, SW_MAX_ENTRIES);
	sw_free(sw);
}
END_TEST

Suite *
scanwatch_suite(void)
{
	Suite *s = suite_create("scanwatch");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, scanner_after_ten_ports);
	tcase_add_test(tc, scanner_memory);
	tcase_add_test(tc, recent_reset);
	tcase_add_test(tc, flood_keeps_scanners);
	tcase_add_test(tc, sizes);
	suite_add_tcase(s, tc);
	return s;
}
