/* SPDX-License-Identifier: MIT */
/* Unit tests for common/parse.c: strict numbers, sizes and durations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "parse.h"

static void test_u64_accepts_range(void **state)
{
	uint64_t v = 0;

	assert_int_equal(parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("65535", 0, 65535, &v), 0);
	assert_int_equal(v, 65535);
}

static void test_u64_rejects_garbage(void **state)
{
	uint64_t v = 42;

	assert_int_equal(parse_u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("12abc", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_u64("+3", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64(NULL, 0, 10, &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_u64_range(void **state)
{
	uint64_t v;

	assert_int_equal(parse_u64("11", 0, 10, &v), -ERANGE);
	assert_int_equal(parse_u64("0", 1, 10, &v), -ERANGE);
	assert_int_equal(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
}

static void test_size_suffixes(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("16M", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 16u << 20);
	assert_int_equal(parse_size("4KiB", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("1G", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 1u << 30);
	assert_int_equal(parse_size("7", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse_size("7X", 1, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_size("2G", 1, 1u << 30, &v), -ERANGE);
	assert_int_equal(parse_size("0", 1, 10, &v), -ERANGE);
}

static void test_seconds_units(void **state)
{
	double v;

	assert_int_equal(parse_seconds("1.5", 0, 100, &v), 0);
	assert_true(v == 1.5);
	assert_int_equal(parse_seconds("250ms", 0, 100, &v), 0);
	assert_true(v > 0.2499 && v < 0.2501);
	assert_int_equal(parse_seconds("2m", 0, 1000, &v), 0);
	assert_true(v == 120.0);
	assert_int_equal(parse_seconds("3parsecs", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_seconds("-1", -10, 100, &v), -EINVAL);
	assert_int_equal(parse_seconds("101", 0, 100, &v), -ERANGE);
	assert_int_equal(parse_seconds("nan", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_seconds("1e999", 0, 100, &v), -EINVAL);
	/* Below the smallest normal double: a number all the same (wsbenchd
	 * prints a --set drain_timeout=1e-320 so, found by fuzz-overrides). */
	assert_int_equal(parse_seconds("1e-320", 0, 100, &v), 0);
	assert_true(v > 0 && v < 1e-300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_accepts_range),
		cmocka_unit_test(test_u64_rejects_garbage),
		cmocka_unit_test(test_u64_range),
		cmocka_unit_test(test_size_suffixes),
		cmocka_unit_test(test_seconds_units),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
