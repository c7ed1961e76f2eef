/* Unit tests: grant. */
#include <check.h>
#include <string.h>

#include "grant.h"
#include "suites.h"
#include "testutil.h"

static const struct siphash_key key = { 1, 2 };

START_TEST(add_find_expire)
{
	struct grant_table *t = grant_new(16, &key);
	struct addr a = tu_addr("192.0.2.1"), b = tu_addr("2001:db8::5");
	struct grant out[4];

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(grant_next_deadline(t), GRANT_NONE);
	grant_add(t, &a, 0, 30000, NULL);
	grant_add(t, &b, 1, 10000, NULL);
	ck_assert_int_eq(grant_next_deadline(t), 10000);
	ck_assert_ptr_nonnull(grant_find(t, &a, 0, 0));
	ck_assert_ptr_null(grant_find(t, &a, 1, 0));	/* other door */
	ck_assert_ptr_nonnull(grant_find(t, &b, 1, 9999));
	ck_assert_ptr_null(grant_find(t, &b, 1, 10000)); /* expiry is exclusive */
	/* Nothing expires early. */
	ck_assert_uint_eq(grant_expire(t, 9999, out, 4), 0);
	ck_assert_uint_eq(grant_expire(t, 10000, out, 4), 1);
	ck_assert(addr_equal(&out[0].src, &b));
	ck_assert_int_eq(out[0].door, 1);
	ck_assert_int_eq(grant_next_deadline(t), 30000);
	ck_assert_uint_eq(grant_expire(t, 40000, out, 4), 1);
	ck_assert_int_eq(grant_next_deadline(t), GRANT_NONE);
	ck_assert_uint_eq(t->st.used, 0);
	ck_assert_uint_eq(t->st.expired, 2);
	grant_free(t);
}
END_TEST

START_TEST(refresh_and_revoke)
{
	struct grant_table *t = grant_new(16, &key);
	struct addr a = tu_addr("192.0.2.1"), c = tu_addr("192.0.2.2");

	grant_add(t, &a, 0, 1000, NULL);
	grant_add(t, &a, 0, 5000, NULL);	/* re-knock extends */
	ck_assert_uint_eq(t->st.used, 1);
	ck_assert_uint_eq(t->st.refreshed, 1);
	ck_assert_ptr_nonnull(grant_find(t, &a, 0, 4000));
	grant_add(t, &a, 1, 5000, NULL);
	grant_add(t, &a, 2, 5000, NULL);
	grant_add(t, &c, 1, 5000, NULL);
	ck_assert_uint_eq(grant_revoke(t, &a, 1), 1);
	ck_assert_ptr_null(grant_find(t, &a, 1, 0));
	ck_assert_ptr_nonnull(grant_find(t, &c, 1, 0));
	ck_assert_uint_eq(grant_revoke(t, &a, -1), 2);
	ck_assert_uint_eq(t->st.used, 1);
	ck_assert_uint_eq(grant_revoke(t, &a, -1), 0);
	grant_free(t);
}
END_TEST

START_TEST(full_table_evicts_soonest)
{
	struct grant_table *t = grant_new(3, &key);
	struct addr a = tu_addr("10.0.0.1"), b = tu_addr("10.0.0.2"), c = tu_addr("10.0.0.3"),
	    d = tu_addr("10.0.0.4");
	struct grant ev;

	ck_assert_int_eq(grant_add(t, &a, 0, 3000, &ev), 0);
	ck_assert_int_eq(grant_add(t, &b, 0, 1000, &ev), 0);
	ck_assert_int_eq(grant_add(t, &c, 0, 2000, &ev), 0);
	ck_assert_int_eq(grant_add(t, &d, 0, 4000, &ev), 1);
	ck_assert(addr_equal(&ev.src, &b));
	ck_assert_ptr_null(grant_find(t, &b, 0, 0));
	ck_assert_ptr_nonnull(grant_find(t, &a, 0, 0));
	ck_assert_ptr_nonnull(grant_find(t, &d, 0, 0));
	ck_assert_uint_eq(t->st.evicted, 1);
	ck_assert_uint_eq(t->st.used, 3);
	grant_free(t);
}
END_TEST

START_TEST(expire_in_batches)
{
	struct grant_table *t = grant_new(64, &key);
	struct grant out[4];
	struct addr a = tu_addr("10.0.0.0");
	unsigned i, n, total = 0;

	for (i = 0; i < 10; i++) {
		a.b[3] = (uint8_t)i;
		grant_add(t, &a, 0, 100 + i, NULL);
	}
	a.b[3] = 99;
	grant_add(t, &a, 0, 5000, NULL);
	while ((n = grant_expire(t, 1000, out, 4)) > 0)
		total += n;
	ck_assert_uint_eq(total, 10);
	ck_assert_int_eq(grant_next_deadline(t), 5000);
	ck_assert_uint_eq(t->st.used, 1);
	grant_free(t);
}
END_TEST

START_TEST(many_sources_one_chain_each)
{
	struct grant_table *t = grant_new(1024, &key);
	struct addr a = tu_addr("2001:db8::");
	unsigned i;

	for (i = 0; i < 1024; i++) {
		a.b[14] = (uint8_t)(i >> 8);
		a.b[15] = (uint8_t)i;
		ck_assert_int_eq(grant_add(t, &a, i % 3, 10000, NULL), 0);
	}
	for (i = 0; i < 1024; i++) {
		a.b[14] = (uint8_t)(i >> 8);
		a.b[15] = (uint8_t)i;
		ck_assert_ptr_nonnull(grant_find(t, &a, i % 3, 0));
		ck_assert_ptr_null(grant_find(t, &a, (i + 1) % 3, 0));
	}
	grant_free(t);
}
END_TEST

/* A knock never shortens a longer grant (an admin's grant --for 1d). */
START_TEST(never_shortened)
{
	struct grant_table *t = grant_new(16, &key);
	struct addr a = tu_addr("192.0.2.1");

	grant_add(t, &a, 0, 86400000, NULL);
	grant_add(t, &a, 0, 30000, NULL);
	ck_assert_int_eq(grant_find(t, &a, 0, 0)->expires_ms, 86400000);
	ck_assert_uint_eq(t->st.kept, 1);
	ck_assert_int_eq(grant_next_deadline(t), 86400000);
	grant_add(t, &a, 0, 90000000, NULL);
	ck_assert_int_eq(grant_find(t, &a, 0, 0)->expires_ms, 90000000);
	grant_free(t);
}
END_TEST

/* Eviction takes the grant that ends first: an expired one before any
 * live one, whatever order they came in, without scanning the table. */
START_TEST(eviction_prefers_expired_then_soonest)
{
	struct grant_table *t = grant_new(4, &key);
	struct addr a = tu_addr("10.0.0.0"), x;
	struct grant ev;
	int64_t when[4] = { 50000, 2000, 70000, 1000 };
	unsigned i;

	for (i = 0; i < 4; i++) {
		a.b[3] = (uint8_t)i;
		ck_assert_int_eq(grant_add(t, &a, 0, when[i], NULL), 0);
	}
	a.b[3] = 9;
	ck_assert_int_eq(grant_add(t, &a, 0, 60000, &ev), 1);
	ck_assert_int_eq(ev.expires_ms, 1000);		/* the expired one */
	x = tu_addr("10.0.0.10");
	ck_assert_int_eq(grant_add(t, &x, 0, 60000, &ev), 1);
	ck_assert_int_eq(ev.expires_ms, 2000);
	x = tu_addr("10.0.0.11");
	ck_assert_int_eq(grant_add(t, &x, 0, 80000, &ev), 1);
	ck_assert_int_eq(ev.expires_ms, 50000);
	ck_assert_uint_eq(t->st.used, 4);
	ck_assert_uint_eq(t->st.evicted, 3);
	grant_free(t);
}
END_TEST

/* Expiries across many seconds and far apart, in any insertion order,
 * come out in order, each when due and not before. */
START_TEST(wheel_keeps_time_order)
{
	struct grant_table *t = grant_new(4096, &key);
	struct addr a = tu_addr("2001:db8::");
	struct grant out[8];
	int64_t last = -1, base = 5000000000LL;	/* a long uptime */
	unsigned i, n, total = 0;
	uint32_t x = 7;

	for (i = 0; i < 4000; i++) {
		x = x * 1103515245 + 12345;
		a.b[14] = (uint8_t)(i >> 8);
		a.b[15] = (uint8_t)i;
		/* Up to a day ahead, milliseconds apart or hours. */
		grant_add(t, &a, 0, base + (x >> 5) % 86400000, NULL);
	}
	ck_assert_uint_eq(t->st.used, 4000);
	while (total < 4000) {
		int64_t now = grant_next_deadline(t);

		ck_assert_int_ne(now, GRANT_NONE);
		ck_assert_uint_eq(grant_expire(t, now - 1, out, 8), 0);
		while ((n = grant_expire(t, now, out, 8)) > 0)
			for (i = 0; i < n; i++) {
				ck_assert_int_le(out[i].expires_ms, now);
				ck_assert_int_ge(out[i].expires_ms, last);
				last = out[i].expires_ms;
				total++;
			}
	}
	ck_assert_int_eq(grant_next_deadline(t), GRANT_NONE);
	/* An empty table starts a new window anywhere. */
	grant_add(t, &a, 1, 1000, NULL);
	ck_assert_int_eq(grant_next_deadline(t), 1000);
	grant_free(t);
}
END_TEST

/* An earlier grant after a later one moves the window back; one more
 * than the wheel past the earliest is cut to the wheel. */
START_TEST(window_moves)
{
	struct grant_table *t = grant_new(16, &key);
	struct addr a = tu_addr("10.0.0.1"), b = tu_addr("10.0.0.2"), c = tu_addr("10.0.0.3");
	struct grant out[4];

	grant_add(t, &a, 0, 100000000, NULL);
	grant_add(t, &b, 0, 50000000, NULL);
	ck_assert_int_eq(grant_next_deadline(t), 50000000);
	ck_assert_uint_eq(grant_expire(t, 60000000, out, 4), 1);
	ck_assert(addr_equal(&out[0].src, &b));
	grant_add(t, &c, 0, 100000000 + (int64_t)GRANT_WHEEL * 1000 * 2,
	    NULL);
	ck_assert_int_le(grant_find(t, &c, 0, 0)->expires_ms,
	    100000000 + (int64_t)GRANT_WHEEL * 1000);
	ck_assert_uint_eq(grant_expire(t, 100000000, out, 4), 1);
	ck_assert(addr_equal(&out[0].src, &a));
	grant_free(t);
}
END_TEST

/* A million grants go in and out in linear time (the old table scanned
 * itself on every addition once full). */
START_TEST(million_grants_linear)
{
	struct grant_table *t = grant_new(1u << 20, &key);
	struct addr a = tu_addr("10.0.0.0");
	struct grant ev, out[64];
	unsigned i, n, total = 0;

	ck_assert_ptr_nonnull(t);
	for (i = 0; i < (1u << 20) + 1000; i++) {
		memcpy(a.b, &i, 4);
		grant_add(t, &a, 0, 1000000 + (int64_t)(i % 3600) * 1000, &ev);
	}
	ck_assert_uint_eq(t->st.used, 1u << 20);
	ck_assert_uint_eq(t->st.evicted, 1000);
	while ((n = grant_expire(t, 1000000 + 3600 * 1000, out, 64)) > 0)
		total += n;
	ck_assert_uint_eq(total, 1u << 20);
	grant_free(t);
}
END_TEST

Suite *
grant_suite(void)
{
	Suite *s = suite_create("grant");
	TCase *tc = tcase_create("grant");

	tcase_add_test(tc, add_find_expire);
	tcase_add_test(tc, refresh_and_revoke);
	tcase_add_test(tc, full_table_evicts_soonest);
	tcase_add_test(tc, expire_in_batches);
	tcase_add_test(tc, many_sources_one_chain_each);
	tcase_add_test(tc, never_shortened);
	tcase_add_test(tc, eviction_prefers_expired_then_soonest);
	tcase_add_test(tc, wheel_keeps_time_order);
	tcase_add_test(tc, window_moves);
	tcase_add_test(tc, million_grants_linear);
	suite_add_tcase(s, tc);
	return s;
}
