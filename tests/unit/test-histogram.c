/* SPDX-License-Identifier: MIT */
/* Unit tests for common/histogram.c against known distributions. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "histogram.h"

static struct histogram *new_histogram(void)
{
	struct histogram *h = malloc(sizeof(*h));

	histogram_reset(h);
	return h;
}

/* Within the stated precision: 3 significant digits, never below the truth. */
static void assert_close(uint64_t got, uint64_t want)
{
	assert_true(got >= want);
	assert_true((double)(got - want) <= (double)want / 1000.0 + 1.0);
}

static void test_empty(void **state)
{
	struct histogram *h = new_histogram();

	assert_int_equal(histogram_percentile(h, 50), 0);
	assert_int_equal(histogram_min(h), 0);
	assert_true(histogram_mean(h) == 0.0);
	free(h);
}

static void test_uniform_1_to_100000(void **state)
{
	struct histogram *h = new_histogram();

	for (uint64_t v = 1; v <= 100000; v++)
		histogram_record(h, v);
	assert_int_equal(h->total, 100000);
	assert_int_equal(histogram_min(h), 1);
	assert_int_equal(h->max, 100000);
	assert_close(histogram_percentile(h, 50), 50000);
	assert_close(histogram_percentile(h, 90), 90000);
	assert_close(histogram_percentile(h, 99), 99000);
	assert_close(histogram_percentile(h, 99.9), 99900);
	assert_int_equal(histogram_percentile(h, 100), 100000);
	assert_true(fabs(histogram_mean(h) - 50000.5) < 1e-6);
	/* stddev of 1..n is sqrt((n^2 - 1) / 12) */
	assert_true(fabs(histogram_stddev(h) - sqrt((1e10 - 1) / 12.0)) < 0.01);
	free(h);
}

static void test_exact_below_2048(void **state)
{
	struct histogram *h = new_histogram();

	for (uint64_t v = 0; v < 2048; v++) {
		assert_int_equal(histogram_lowest_equivalent(histogram_index_of(v)), v);
		assert_int_equal(histogram_highest_equivalent(histogram_index_of(v)), v);
	}
	histogram_record_n(h, 7, 99);
	histogram_record(h, 1500);
	assert_int_equal(histogram_percentile(h, 99), 7);
	assert_int_equal(histogram_percentile(h, 99.5), 1500);
	free(h);
}

static void test_relative_error_across_range(void **state)
{
	for (uint64_t v = 2048; v < HISTOGRAM_HIGHEST; v = v * 3 / 2 + 7) {
		size_t i = histogram_index_of(v);

		assert_true(i < HISTOGRAM_COUNTS_LEN);
		assert_true(histogram_lowest_equivalent(i) <= v);
		assert_true(histogram_highest_equivalent(i) >= v);
		assert_true((double)(histogram_highest_equivalent(i) -
		                     histogram_lowest_equivalent(i)) <= (double)v / 1000.0);
	}
	assert_true(histogram_index_of(HISTOGRAM_HIGHEST) < HISTOGRAM_COUNTS_LEN);
}

static void test_clamp_and_overflow(void **state)
{
	struct histogram *h = new_histogram();

	histogram_record(h, HISTOGRAM_HIGHEST * 10);
	assert_int_equal(h->overflow, 1);
	assert_int_equal(h->max, HISTOGRAM_HIGHEST);
	free(h);
}

static void test_merge_equals_single(void **state)
{
	struct histogram *a = new_histogram(), *b = new_histogram(), *all = new_histogram();

	srand(42);
	for (int i = 0; i < 50000; i++) {
		uint64_t v = (uint64_t)(rand() % 5000000);

		histogram_record(i % 2 ? a : b, v);
		histogram_record(all, v);
	}
	histogram_merge(a, b);
	assert_int_equal(a->total, all->total);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->counts, all->counts, sizeof(a->counts));
	for (double p = 1; p < 100; p += 7.5)
		assert_int_equal(histogram_percentile(a, p), histogram_percentile(all, p));
	free(a);
	free(b);
	free(all);
}

static void test_encode_decode_round_trip(void **state)
{
	struct histogram *h = new_histogram(), *back = new_histogram();
	char *text;

	for (uint64_t v = 100; v < 10000000; v = v * 11 / 10)
		histogram_record_n(h, v, v % 7 + 1);
	text = histogram_encode(h);
	assert_non_null(text);
	assert_int_equal(histogram_decode(back, text), 0);
	assert_int_equal(back->total, h->total);
	assert_int_equal(back->min, h->min);
	assert_int_equal(back->max, h->max);
	assert_true(back->sum == h->sum);
	assert_memory_equal(back->counts, h->counts, sizeof(h->counts));
	free(text);
	assert_int_equal(histogram_decode(back, "hdr1 2 1 1 0 1 1 5:1"), -EINVAL);
	assert_int_equal(histogram_decode(back, "garbage"), -EINVAL);
	free(h);
	free(back);
}

/* Text from another process: signs, wrapping sums and non-numbers are refused. */
static void test_decode_rejects_hostile_text(void **state)
{
	static const char *const bad[] = {
		/* "-1" through SCNu64 is UINT64_MAX; here it balanced the count. */
		"hdr1 -1 1 1 0 1 1 1:-1",
		/* 2 + (2^64 - 1) wraps to 1, the total. */
		"hdr1 1 1 1 0 1 1 1:2 2:18446744073709551615",
		"hdr1 18446744073709551616 1 1 0 1 1 1:1", /* above UINT64_MAX */
		"hdr1 1 -1 1 0 1 1 1:1",
		"hdr1 1 +1 1 0 1 1 1:1",
		"hdr1 1 1 1 0 1 1 +1:1",
		"hdr1 1 1 1 0 nan 1 1:1",
		"hdr1 1 1 1 0 1 inf 1:1",
		"hdr1 1 1 1 0 -1 1 1:1",
		"hdr1 2 1 1 0 2 2 1:1 1:1",      /* an index twice */
		"hdr1 2 1 2 0 3 5 2:1 1:1",      /* indices out of order */
		"hdr1 1 1 1 0 1 1 1:0 1:1",      /* an empty bucket listed */
		"hdr1 1 5 1 0 1 1 1:1",          /* min above max */
		"hdr1 1 1 1 2 1 1 1:1",          /* more overflows than values */
		"hdr1 1 1 3600000001 0 1 1 1:1", /* max above the highest trackable */
		"hdr1 1 1 1 0 1 1 1:1 ",
		"hdr1 1 1 1 0 1 1 1: 1",
		"hdr1  1 1 1 0 1 1 1:1",
	};
	struct histogram *h = new_histogram();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(histogram_decode(h, bad[i]), -EINVAL);
	}
	/* The empty histogram and a one-value one still decode. */
	assert_int_equal(histogram_decode(h, "hdr1 0 0 0 0 0 0"), 0);
	assert_int_equal(h->total, 0);
	assert_int_equal(histogram_decode(h, "hdr1 1 1 1 0 1 1 1:1"), 0);
	assert_int_equal(h->total, 1);
	free(h);
}

/* The p-th percentile is the ceil(p * n / 100)-th value: for the values
 * 1..1000 (exact: below 2048), p99.9 is the 999th, not the 1000th, however
 * 0.999 * 1000 rounds in doubles. */
static void test_percentile_rank_is_exact(void **state)
{
	struct histogram *h = new_histogram();

	for (uint64_t v = 1; v <= 1000; v++)
		histogram_record(h, v);
	assert_int_equal(histogram_percentile(h, 99.9), 999);
	assert_int_equal(histogram_percentile(h, 99.91), 1000);
	assert_int_equal(histogram_percentile(h, 10), 100);
	assert_int_equal(histogram_percentile(h, 0.1), 1);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_uniform_1_to_100000),
		cmocka_unit_test(test_exact_below_2048),
		cmocka_unit_test(test_relative_error_across_range),
		cmocka_unit_test(test_clamp_and_overflow),
		cmocka_unit_test(test_merge_equals_single),
		cmocka_unit_test(test_encode_decode_round_trip),
		cmocka_unit_test(test_decode_rejects_hostile_text),
		cmocka_unit_test(test_percentile_rank_is_exact),
	};

	return cmocka_run_group_tests_name("histogram", tests, NULL, NULL);
}
