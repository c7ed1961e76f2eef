/* Unit tests: ratelimit. */
#include <check.h>

#include "ratelimit.h"
#include "suites.h"
#include "testutil.h"

static const struct siphash_key key = { 7, 8 };

START_TEST(burst_then_rate)
{
	static struct ratelimit rl;
	struct addr a = tu_addr("192.0.2.1");
	unsigned i, ok = 0;

	rl_init(&rl, &key, (struct rl_rate){ 5, 1, 20 });
	for (i = 0; i < 50; i++)
		ok += (unsigned)rl_allow(&rl, &a, 1000);
	ck_assert_uint_eq(ok, 20);
	ck_assert_uint_eq(rl_take_suppressed(&rl), 30);
	ck_assert_uint_eq(rl_take_suppressed(&rl), 0);
	/* One second later: five more. */
	for (ok = 0, i = 0; i < 50; i++)
		ok += (unsigned)rl_allow(&rl, &a, 2000);
	ck_assert_uint_eq(ok, 5);
	ck_assert_uint_eq(rl.suppressed_total, 75);
}
END_TEST

START_TEST(per_minute)
{
	static struct ratelimit rl;
	struct addr a = tu_addr("2001:db8::1");
	unsigned ok = 0;
	int64_t t;

	rl_init(&rl, &key, (struct rl_rate){ 10, 60, 1 });
	/* 10 a minute, burst 1: one line every 6 s over two minutes. */
	for (t = 0; t < 120000; t += 100)
		ok += (unsigned)rl_allow(&rl, &a, t);
	ck_assert_uint_ge(ok, 20);
	ck_assert_uint_le(ok, 21);
}
END_TEST

START_TEST(sources_apart_and_global_cap)
{
	static struct ratelimit rl;
	struct addr a = tu_addr("10.0.0.0");
	unsigned i, ok = 0;

	rl_init(&rl, &key, (struct rl_rate){ 5, 1, 20 });
	/* Many sources, one line each: the overall bucket (400) binds. */
	for (i = 0; i < 1000; i++) {
		a.b[2] = (uint8_t)(i >> 8);
		a.b[3] = (uint8_t)i;
		ok += (unsigned)rl_allow(&rl, &a, 5000);
	}
	ck_assert_uint_eq(ok, RL_ALL_BURST);
}
END_TEST

START_TEST(rare_lines_have_their_own_bucket)
{
	struct ratelimit rl;
	unsigned i, ok = 0;

	rl_init(&rl, &key, (struct rl_rate){ 5, 1, 20 });
	for (i = 0; i < 5000; i++)
		ok += (unsigned)rl_allow_rare(&rl, 1000);
	ck_assert_uint_eq(ok, RL_RARE_BURST);
	ck_assert_uint_eq(rl_take_suppressed(&rl), 5000 - RL_RARE_BURST);
	/* A second later, RL_RARE_RATE more. */
	for (i = ok = 0; i < 5000; i++)
		ok += (unsigned)rl_allow_rare(&rl, 2000);
	ck_assert_uint_eq(ok, RL_RARE_RATE);
}
END_TEST

Suite *
ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, burst_then_rate);
	tcase_add_test(tc, per_minute);
	tcase_add_test(tc, sources_apart_and_global_cap);
	tcase_add_test(tc, rare_lines_have_their_own_bucket);
	suite_add_tcase(s, tc);
	return s;
}
