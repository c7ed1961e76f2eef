/* Unit tests: the SPA replay cache. */
#include <check.h>
#include <string.h>

#include "replay.h"
#include "suites.h"

static void
digest(uint8_t d[SPA_DIGEST_LEN], unsigned i)
{
	memset(d, 0, SPA_DIGEST_LEN);
	memcpy(d, &i, sizeof(i));
	d[8] = (uint8_t)(i * 37);
}

START_TEST(seen_until)
{
	struct replay r;
	uint8_t d[SPA_DIGEST_LEN];

	ck_assert_int_eq(replay_init(&r, 64), 0);
	digest(d, 1);
	ck_assert_int_eq(replay_seen(&r, d, 100), 0);
	ck_assert_int_eq(replay_add(&r, d, 200, 100), 0);
	ck_assert_int_eq(replay_seen(&r, d, 199), 1);
	ck_assert_int_eq(replay_seen(&r, d, 200), 0);	/* until is exclusive */
	replay_free(&r);
}
END_TEST

/* A reload that widens the age window keeps entries longer. */
START_TEST(copy_extends)
{
	struct replay a, b;
	int64_t lu;
	uint8_t d[SPA_DIGEST_LEN];

	ck_assert_int_eq(replay_init(&a, 64), 0);
	ck_assert_int_eq(replay_init(&b, 64), 0);
	digest(d, 7);
	replay_add(&a, d, 200, 100);
	ck_assert_uint_eq(replay_copy(&b, &a, 150, 600, &lu), 0);
	ck_assert_int_eq(replay_seen(&b, d, 799), 1);
	ck_assert_int_eq(replay_seen(&b, d, 800), 0);
	replay_free(&a);
	replay_free(&b);
}
END_TEST

/* Into a smaller cache, what does not fit is counted, never silent. */
START_TEST(copy_counts_lost)
{
	struct replay a, b;
	int64_t lu;
	uint8_t d[SPA_DIGEST_LEN];
	unsigned added = 0, lost, kept = 0;

	ck_assert_int_eq(replay_init(&a, 4096), 0);
	ck_assert_int_eq(replay_init(&b, 16), 0);
	for (unsigned i = 0; i < 1000; i++) {
		digest(d, i);
		added += replay_add(&a, d, 500, 100) == 0;
	}
	lost = replay_copy(&b, &a, 100, 0, &lu);
	ck_assert_int_eq(lu, 500);
	for (unsigned i = 0; i < 1000; i++) {
		digest(d, i);
		kept += (unsigned)replay_seen(&b, d, 100);
	}
	ck_assert_uint_gt(lost, 0);
	ck_assert_uint_eq(kept + lost, added);
	replay_free(&a);
	replay_free(&b);
}
END_TEST

Suite *
replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");

	tcase_add_test(tc, seen_until);
	tcase_add_test(tc, copy_extends);
	tcase_add_test(tc, copy_counts_lost);
	suite_add_tcase(s, tc);
	return s;
}
