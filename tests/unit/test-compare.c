/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/compare.c: the interleaved plan of a compare's trials
 * and the record of how each ended, retries of noisy trials included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "compare.h"

/* Warm-ups first, then rounds, each starting one arm later than the last:
 * every arm is first, second and third equally often. */
static void test_plan_interleaves_and_rotates(void **state)
{
	struct compare_slot plan[12];
	static const unsigned want_arm[12] = { 0, 1, 2, 0, 1, 2, 1, 2, 0, 2, 0, 1 };
	static const unsigned want_trial[12] = { 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3 };
	size_t n = compare_plan(3, 3, true, plan);

	assert_int_equal(n, 12);
	assert_int_equal(compare_plan_size(3, 3, true), 12);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(plan[i].arm, want_arm[i]);
		assert_int_equal(plan[i].trial, want_trial[i]);
	}
}

/* Each arm gets every trial number once, without warm-up too. */
static void test_plan_counts(void **state)
{
	struct compare_slot plan[5 * 4];
	unsigned seen[4][6] = { 0 };
	size_t n = compare_plan(4, 5, false, plan);

	assert_int_equal(n, 20);
	for (size_t i = 0; i < n; i++)
		seen[plan[i].arm][plan[i].trial]++;
	for (unsigned a = 0; a < 4; a++) {
		assert_int_equal(seen[a][0], 0);
		for (unsigned t = 1; t <= 5; t++)
			assert_int_equal(seen[a][t], 1);
	}
}

static struct compare *two_arms(bool retry_noisy)
{
	char *servers[] = { "c-lws", "c-lws" }; /* A/A */
	struct compare *c;
	struct compare_slot plan[4];
	char id[16];

	assert_int_equal(
	    compare_new("cmp", "steady", servers, 2, 2, false, retry_noisy, 0, "root", &c), 0);
	compare_plan(2, 2, false, plan);
	for (unsigned i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "run%u", i);
		assert_int_equal(compare_add(c, c->n, id, plan[i], false), 0);
	}
	return c;
}

/* Done once every trial has ended; finished unless cancelled. */
static void test_record(void **state)
{
	struct compare *c = two_arms(false);

	assert_false(compare_done(c));
	assert_string_equal(compare_state(c), "running");
	assert_false(compare_run_ended(c, "run0", "finished", false));
	assert_false(compare_run_ended(c, "run1", "failed", false));
	/* A noisy trial is not run again unless asked. */
	assert_false(compare_run_ended(c, "run2", "finished", true));
	assert_false(compare_done(c));
	assert_false(compare_run_ended(c, "run3", "finished", false));
	assert_true(compare_done(c));
	assert_string_equal(compare_state(c), "finished");
	/* Ending twice or an unknown run changes nothing. */
	assert_false(compare_run_ended(c, "run3", "failed", false));
	assert_string_equal(compare_find(c, "run3")->state, "finished");
	assert_false(compare_run_ended(c, "nope", "finished", false));
	compare_free(c);
}

/* A noisy trial is run once more, right after it; the retry is not retried. */
static void test_retry_noisy(void **state)
{
	struct compare *c = two_arms(true);
	struct compare_entry *e;

	assert_true(compare_run_ended(c, "run0", "finished", true));
	e = compare_find(c, "run0");
	assert_true(e->superseded);
	assert_int_equal(compare_add(c, 0, "retry0", e->slot, true), 0);
	assert_string_equal(c->v[1].run_id, "retry0");
	assert_string_equal(c->v[2].run_id, "run1");
	assert_int_equal(c->v[1].slot.arm, 0);
	assert_int_equal(c->v[1].slot.trial, 1);
	assert_false(compare_run_ended(c, "retry0", "finished", true));
	assert_false(compare_find(c, "retry0")->superseded);
	/* A failed or cancelled trial is not a noisy one. */
	assert_false(compare_run_ended(c, "run1", "failed", true));
	c->cancelled = true;
	assert_false(compare_run_ended(c, "run2", "finished", true));
	assert_false(compare_run_ended(c, "run3", "cancelled", false));
	assert_string_equal(compare_state(c), "cancelled");
	compare_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_interleaves_and_rotates),
		cmocka_unit_test(test_plan_counts),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_retry_noisy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
