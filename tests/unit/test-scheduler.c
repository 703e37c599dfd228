/* SPDX-License-Identifier: MIT */
/* Unit tests for load/scheduler.c: the worker's event heap and its send times on the tick. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "clock.h"
#include "scheduler.h"

#define N 1000

/* Events come out in time order, whatever order they went in. */
static void test_pops_in_time_order(void **state)
{
	static struct load_event ev[N];
	struct scheduler s;
	int64_t last = -1;
	unsigned n = 0;

	assert_int_equal(scheduler_init(&s, N), 0);
	srand(7);
	for (unsigned i = 0; i < N; i++) {
		ev[i] = scheduler_event((uint8_t)(i & 1));
		scheduler_add(&s, &ev[i], rand() % 100000);
	}
	assert_int_equal(s.len, N);
	for (struct load_event *e; (e = scheduler_pop_due(&s, INT64_MAX)); n++) {
		assert_true(e->at_ns >= last);
		assert_int_equal(e->heap_index, SCHEDULER_IDLE);
		last = e->at_ns;
	}
	assert_int_equal(n, N);
	assert_null(scheduler_next(&s));
	scheduler_free(&s);
}

/* Only what is due comes out; the rest waits, the earliest first in line. */
static void test_only_due_events(void **state)
{
	struct load_event a = scheduler_event(0), b = scheduler_event(0), c = scheduler_event(1);
	struct scheduler s;

	assert_int_equal(scheduler_init(&s, 3), 0);
	assert_null(scheduler_pop_due(&s, 1000));
	scheduler_add(&s, &a, 300);
	scheduler_add(&s, &b, 100);
	scheduler_add(&s, &c, 200);
	assert_ptr_equal(scheduler_next(&s), &b);
	assert_null(scheduler_pop_due(&s, 99));
	assert_ptr_equal(scheduler_pop_due(&s, 100), &b);
	assert_ptr_equal(scheduler_pop_due(&s, 250), &c);
	assert_null(scheduler_pop_due(&s, 250));
	assert_ptr_equal(scheduler_next(&s), &a);
	scheduler_free(&s);
}

/* Adding a queued event moves it (a retry replaces a deadline); removing
 * one that is not queued does nothing; each is queued at most once. */
static void test_move_and_remove(void **state)
{
	struct load_event a = scheduler_event(0), b = scheduler_event(0), c = scheduler_event(0);
	struct scheduler s;

	assert_int_equal(scheduler_init(&s, 3), 0);
	scheduler_add(&s, &a, 10);
	scheduler_add(&s, &b, 20);
	scheduler_add(&s, &c, 30);
	scheduler_add(&s, &a, 40); /* later */
	assert_int_equal(s.len, 3);
	assert_ptr_equal(scheduler_next(&s), &b);
	scheduler_add(&s, &c, 5); /* earlier */
	assert_ptr_equal(scheduler_next(&s), &c);
	scheduler_remove(&s, &c);
	assert_int_equal(c.heap_index, SCHEDULER_IDLE);
	scheduler_remove(&s, &c);
	assert_int_equal(s.len, 2);
	assert_ptr_equal(scheduler_pop_due(&s, 100), &b);
	assert_ptr_equal(scheduler_pop_due(&s, 100), &a);
	assert_int_equal(s.len, 0);
	scheduler_free(&s);
}

/* Removing from the middle keeps the heap ordered. */
static void test_remove_from_the_middle(void **state)
{
	static struct load_event ev[64];
	struct scheduler s;
	int64_t last = -1;

	assert_int_equal(scheduler_init(&s, 64), 0);
	for (unsigned i = 0; i < 64; i++) {
		ev[i] = scheduler_event(0);
		scheduler_add(&s, &ev[i], (int64_t)((i * 37) % 64));
	}
	for (unsigned i = 0; i < 64; i += 3)
		scheduler_remove(&s, &ev[i]);
	for (struct load_event *e; (e = scheduler_pop_due(&s, INT64_MAX));) {
		assert_true(e->at_ns > last);
		last = e->at_ns;
	}
	scheduler_free(&s);
}

/* Send times: the schedule's, rounded up to the tick, from the start. */
static void test_send_times_on_the_tick(void **state)
{
	/* 2 clients at 3 messages/s: client 0 at 0, 1/3, 2/3 s; client 1
	 * half a period later. */
	struct schedule sched = {
		.pattern = PATTERN_FIXED, .rate = 3, .duration = 1, .clients = 2
	};
	const int64_t start = 5 * NSEC_PER_SEC, ms = NSEC_PER_MSEC;

	assert_int_equal(scheduler_send_time(&sched, start, 1, 0, 0), start);
	assert_int_equal(scheduler_send_time(&sched, start, 1, 0, 1), start + 333333333);
	assert_int_equal(scheduler_send_time(&sched, start, ms, 0, 1), start + 334 * ms);
	assert_int_equal(scheduler_send_time(&sched, start, ms, 1, 0), start + 167 * ms);
	/* Exactly on a tick stays there; never before its time. */
	assert_int_equal(scheduler_send_time(&sched, start, 250 * ms, 0, 0), start);
	assert_int_equal(scheduler_send_time(&sched, start, 250 * ms, 0, 1), start + 500 * ms);
	for (uint64_t n = 0; n < 3; n++)
		assert_true(scheduler_send_time(&sched, start, ms, 1, n) >=
		            start + (int64_t)(schedule_time(&sched, 1, n) * 1e9));
	/* After the end: none. */
	assert_int_equal(scheduler_send_time(&sched, start, ms, 0, 3), -1);
	assert_int_equal(scheduler_send_time(&sched, start, ms, 1, 3), -1);
}

/* Bursts: the whole burst is due at once. */
static void test_burst_is_due_together(void **state)
{
	struct schedule sched = {
		.pattern = PATTERN_BURST, .burst = 4, .interval = 0.5, .duration = 1, .clients = 1
	};

	for (uint64_t n = 0; n < 4; n++)
		assert_int_equal(scheduler_send_time(&sched, 0, NSEC_PER_MSEC, 0, n), 0);
	for (uint64_t n = 4; n < 8; n++)
		assert_int_equal(scheduler_send_time(&sched, 0, NSEC_PER_MSEC, 0, n),
		                 500 * NSEC_PER_MSEC);
	assert_int_equal(scheduler_send_time(&sched, 0, NSEC_PER_MSEC, 0, 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pops_in_time_order),
		cmocka_unit_test(test_only_due_events),
		cmocka_unit_test(test_move_and_remove),
		cmocka_unit_test(test_remove_from_the_middle),
		cmocka_unit_test(test_send_times_on_the_tick),
		cmocka_unit_test(test_burst_is_due_together),
	};

	return cmocka_run_group_tests_name("scheduler", tests, NULL, NULL);
}
