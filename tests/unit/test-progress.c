/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/progress.c: wsbench-load's progress lines, hostile ones included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "progress.h"

static void test_good_line(void **state)
{
	cJSON *j = cJSON_Parse("{\"type\":\"progress\",\"phase\":\"running\",\"elapsed_s\":3.5,"
	                       "\"total_s\":10,\"connected\":100,\"sent\":123456789012,"
	                       "\"received\":123456789000,\"rate\":1000.5,"
	                       "\"p99_so_far_ms\":1.25,\"errors\":2}");
	struct load_progress p;

	load_progress_read(j, &p);
	assert_string_equal(p.phase, "running");
	assert_true(p.elapsed_s == 3.5 && p.total_s == 10 && p.rate == 1000.5 && p.p99_ms == 1.25);
	assert_int_equal(p.connected, 100);
	assert_true(p.sent == 123456789012ULL && p.received == 123456789000ULL);
	assert_int_equal(p.errors, 2);
	cJSON_Delete(j);
}

/* Missing fields are NaN to cJSON_GetNumberValue(); before the range check
 * they were cast to integers (undefined; 2^63 on x86-64). */
static void test_missing_fields_read_as_zero(void **state)
{
	cJSON *j = cJSON_Parse("{\"type\":\"progress\"}");
	struct load_progress p;

	load_progress_read(j, &p);
	assert_null(p.phase);
	assert_int_equal(p.connected, 0);
	assert_int_equal(p.sent, 0);
	assert_int_equal(p.received, 0);
	assert_int_equal(p.errors, 0);
	assert_true(p.elapsed_s == 0 && p.total_s == 0 && p.rate == 0 && p.p99_ms == 0);
	cJSON_Delete(j);
}

static void test_out_of_range_reads_as_zero(void **state)
{
	/* 1e400 parses as infinity. */
	cJSON *j = cJSON_Parse("{\"connected\":4294967296,\"sent\":-5,\"received\":1e300,"
	                       "\"errors\":\"many\",\"elapsed_s\":1e400,\"rate\":-1,"
	                       "\"p99_so_far_ms\":-1e400,\"phase\":7}");
	struct load_progress p;

	load_progress_read(j, &p);
	assert_null(p.phase);
	assert_int_equal(p.connected, 0);
	assert_int_equal(p.sent, 0);
	assert_int_equal(p.received, 0);
	assert_int_equal(p.errors, 0);
	assert_true(p.elapsed_s == 0 && p.rate == 0 && p.p99_ms == 0);
	cJSON_Delete(j);
}

static void test_json_count_bounds(void **state)
{
	cJSON *j = cJSON_Parse("{\"max32\":4294967295,\"frac\":7.9,\"big\":18446744073709549568,"
	                       "\"two64\":18446744073709551616}");

	assert_int_equal(json_count(j, "max32", UINT32_MAX), UINT32_MAX);
	assert_int_equal(json_count(j, "max32", 100), 0);
	assert_int_equal(json_count(j, "frac", UINT32_MAX), 7);
	/* The largest double below 2^64 converts; 2^64 itself does not. */
	assert_true(json_count(j, "big", UINT64_MAX) == 18446744073709549568ULL);
	assert_int_equal(json_count(j, "two64", UINT64_MAX), 0);
	assert_int_equal(json_count(j, "absent", UINT64_MAX), 0);
	assert_int_equal(json_count(NULL, "absent", UINT64_MAX), 0);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_line),
		cmocka_unit_test(test_missing_fields_read_as_zero),
		cmocka_unit_test(test_out_of_range_reads_as_zero),
		cmocka_unit_test(test_json_count_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
