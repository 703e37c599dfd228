/* SPDX-License-Identifier: MIT */
/* Unit tests for load/schedule.c: open-loop timetables. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "schedule.h"

static void test_fixed_rate_and_phases(void **state)
{
	struct schedule s = { .pattern = PATTERN_FIXED, .rate = 10, .duration = 2, .clients = 4 };

	assert_true(fabs(schedule_time(&s, 0, 0) - 0.0) < 1e-9);
	assert_true(fabs(schedule_time(&s, 1, 0) - 0.025) < 1e-9); /* phase 1/4 of 100 ms */
	assert_true(fabs(schedule_time(&s, 0, 5) - 0.5) < 1e-9);
	assert_int_equal(schedule_count(&s, 0), 20);
	assert_int_equal(schedule_count(&s, 3), 20);
	assert_true(schedule_time(&s, 0, 20) < 0);
	assert_true(fabs(schedule_total_rate(&s) - 40) < 1e-9);
}

static void test_burst(void **state)
{
	struct schedule s = {
		.pattern = PATTERN_BURST, .burst = 5, .interval = 0.5, .duration = 2, .clients = 2
	};

	for (int n = 0; n < 5; n++)
		assert_true(fabs(schedule_time(&s, 0, (uint64_t)n) - 0.0) < 1e-9);
	assert_true(fabs(schedule_time(&s, 0, 5) - 0.5) < 1e-9);
	assert_true(fabs(schedule_time(&s, 1, 0) - 0.25) < 1e-9);
	assert_int_equal(schedule_count(&s, 0), 20);
	assert_true(fabs(schedule_total_rate(&s) - 20) < 1e-9);
}

static void test_ramp_counts_integral(void **state)
{
	/* 0 -> 100 msg/s over 10 s: 500 messages, times increasing. */
	struct schedule s = {
		.pattern = PATTERN_RAMP, .rate = 0, .rate_end = 100, .duration = 10, .clients = 1
	};
	double prev = -1;

	assert_int_equal(schedule_count(&s, 0), 500);
	for (uint64_t n = 0; n < 500; n++) {
		double t = schedule_time(&s, 0, n);

		assert_true(t > prev);
		prev = t;
	}
	/* Half the messages are sent in the last ~29% of the time. */
	assert_true(fabs(schedule_time(&s, 0, 250) - sqrt(0.5) * 10) < 0.01);
}

static void test_ramp_flat_equals_fixed(void **state)
{
	struct schedule r = {
		.pattern = PATTERN_RAMP, .rate = 7, .rate_end = 7, .duration = 3, .clients = 3
	};
	struct schedule f = { .pattern = PATTERN_FIXED, .rate = 7, .duration = 3, .clients = 3 };

	for (uint64_t n = 0; n < 20; n++)
		assert_true(fabs(schedule_time(&r, 2, n) - schedule_time(&f, 2, n)) < 1e-9);
}

static void test_pattern_names(void **state)
{
	enum load_pattern p;

	assert_int_equal(pattern_from_string("burst", &p), 0);
	assert_int_equal(p, PATTERN_BURST);
	assert_string_equal(pattern_to_string(PATTERN_RAMP), "ramp");
	assert_true(pattern_from_string("sine", &p) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_rate_and_phases),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_ramp_counts_integral),
		cmocka_unit_test(test_ramp_flat_equals_fixed),
		cmocka_unit_test(test_pattern_names),
	};

	return cmocka_run_group_tests_name("schedule", tests, NULL, NULL);
}
