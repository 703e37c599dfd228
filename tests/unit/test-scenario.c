/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/scenario.c: the settings table, its ranges and the cross-setting rules. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fdlimit.h"
#include "load-protocol.h"
#include "scenario.h"

static void defaults(struct scenario_config *s)
{
	scenario_init(s);
	s->clients = 4;
	s->rate = 2.5;
}

/* Every row is whole: a unique name, report key and option; a default in
 * range (rate_end's -1 means unset); choices with names. */
static void test_table(void **state)
{
	struct scenario_config s;

	scenario_init(&s);
	assert_int_equal(scenario_n_fields, 15);
	for (size_t i = 0; i < scenario_n_fields; i++) {
		const struct scenario_field *f = &scenario_fields[i];
		struct scenario_value v;

		assert_ptr_equal(scenario_find_field(f->name), f);
		assert_non_null(f->doc);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(f->report_key, scenario_fields[j].report_key);
			if (f->load_option && scenario_fields[j].load_option)
				assert_string_not_equal(f->load_option,
				                        scenario_fields[j].load_option);
		}
		if (f->type == SCENARIO_CHOICE) {
			assert_true(f->n_choices >= 2);
			assert_true(f->def < f->n_choices);
			for (unsigned c = 0; c < f->n_choices; c++)
				assert_string_not_equal(f->choice_name(c), "unknown");
		} else if (f->type != SCENARIO_BOOL && strcmp(f->name, "rate_end") != 0) {
			assert_true(f->min <= f->def && f->def <= f->max);
		}
		if (scenario_get(&s, i, &v)) {
			assert_ptr_equal(v.field, f);
			if (f->type == SCENARIO_DOUBLE)
				assert_true(v.d == f->def);
		}
	}
	assert_null(scenario_find_field("description"));
	assert_null(scenario_find_field("name"));
}

static void test_set_and_get(void **state)
{
	struct scenario_config s;
	struct scenario_value v;
	char err[256];

	defaults(&s);
	assert_int_equal(scenario_set_number(&s, "clients", 10, true, err, sizeof(err)), 0);
	assert_int_equal(s.clients, 10);
	assert_int_equal(scenario_set_number(&s, "clients", 0, true, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be 1..100000, got 0");
	assert_int_equal(scenario_set_number(&s, "clients", 2.5, false, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be a whole number, got 2.5");
	assert_int_equal(scenario_set_number(&s, "speed", 1, true, err, sizeof(err)), -ENOENT);
	assert_int_equal(scenario_set_string(&s, "speed", "x", err, sizeof(err)), -ENOENT);
	assert_int_equal(scenario_set_number(&s, "pattern", 1, true, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be a string");
	assert_int_equal(scenario_set_string(&s, "duration", "long", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be a number, got \"long\"");
	assert_int_equal(scenario_set_string(&s, "pattern", "sine", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be one of fixed burst ramp, got \"sine\"");
	assert_int_equal(scenario_set_string(&s, "message_type", "binary", err, sizeof(err)), 0);
	assert_int_equal(s.message_type, MESSAGE_BINARY);

	/* Burst settings apply to bursts only, rate_end once set. */
	assert_false(scenario_get(&s, 5, &v)); /* burst */
	assert_false(scenario_get(&s, 4, &v)); /* rate_end */
	assert_int_equal(scenario_set_string(&s, "pattern", "burst", err, sizeof(err)), 0);
	assert_int_equal(s.pattern, PATTERN_BURST);
	assert_true(scenario_get(&s, 5, &v));
	assert_string_equal(v.field->name, "burst");
	assert_int_equal(v.u, 10);
	assert_true(scenario_get(&s, 2, &v));
	assert_string_equal(v.choice, "burst");
	assert_int_equal(scenario_set_number(&s, "rate_end", 5, true, err, sizeof(err)), 0);
	assert_true(scenario_get(&s, 4, &v));
	assert_true(v.d == 5);
}

/* tls and deflate: booleans, from the file (true), the bus (b) or --set ("true"). */
static void test_bool_settings(void **state)
{
	struct scenario_config s;
	struct scenario_value v;
	char err[256];

	scenario_init(&s);
	assert_false(s.tls);
	assert_int_equal(s.payload, PAYLOAD_RANDOM);
	assert_int_equal(scenario_set_bool(&s, "tls", true, err, sizeof(err)), 0);
	assert_true(s.tls);
	assert_int_equal(scenario_set_string(&s, "deflate", "true", err, sizeof(err)), 0);
	assert_true(s.deflate);
	assert_int_equal(scenario_set_string(&s, "deflate", "yes", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be true or false, got \"yes\"");
	assert_int_equal(scenario_set_number(&s, "tls", 1, true, err, sizeof(err)), -EINVAL);
	assert_int_equal(scenario_set_bool(&s, "clients", true, err, sizeof(err)), -EINVAL);
	assert_int_equal(scenario_set_bool(&s, "speed", true, err, sizeof(err)), -ENOENT);
	assert_int_equal(scenario_set_string(&s, "payload", "text", err, sizeof(err)), 0);
	assert_int_equal(s.payload, PAYLOAD_TEXT);
	for (size_t i = 0; i < scenario_n_fields; i++)
		if (strcmp(scenario_fields[i].name, "tls") == 0) {
			assert_true(scenario_get(&s, i, &v));
			assert_true(v.b);
			assert_string_equal(v.choice, "true");
			assert_null(v.field->load_option);
		}
	scenario_free(&s);
}

static void test_names(void **state)
{
	char names[256];

	scenario_names(names, sizeof(names));
	assert_string_equal(names, "clients, ramp_up, pattern, rate, rate_end, burst, interval, "
	                           "duration, warmup, message_size, message_type, drain_timeout, "
	                           "payload, tls, deflate");
}

static void test_rules(void **state)
{
	struct scenario_config s;
	char err[256];

	defaults(&s);
	assert_int_equal(scenario_check(&s, err, sizeof(err)), 0);
	s.pattern = PATTERN_RAMP;
	assert_int_equal(scenario_check(&s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rate_end: pattern \"ramp\" needs rate_end");
	s.rate_end = 50;
	assert_int_equal(scenario_check(&s, err, sizeof(err)), 0);
	s.pattern = PATTERN_FIXED;
	assert_int_equal(scenario_check(&s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rate_end: applies only to pattern \"ramp\"");
	s.rate_end = -1;
	s.rate = 0;
	assert_int_equal(scenario_check(&s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rate: must be above 0 for pattern \"fixed\"");
	s.pattern = PATTERN_RAMP;
	s.rate_end = 0;
	assert_int_equal(scenario_check(&s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rate: a ramp needs a rate above 0 at one end");
}

/* The header bound is wsbench-load's: the sequence numbers a client reaches
 * at its mean rate. A ramp from 0 to R reaches half of what R would. */
static void test_message_size_bound(void **state)
{
	struct scenario_config s;
	struct schedule schedule;
	char err[256];
	size_t ramp_min, fixed_min;

	defaults(&s);
	s.clients = 1000;
	s.message_size = 20;
	assert_int_equal(scenario_check(&s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "message_size: must be at least 49 for a text message in this "
	                         "scenario, got 20");
	s.message_type = MESSAGE_BINARY;
	s.message_size = MESSAGE_BINARY_HEADER + MESSAGE_MIN_FILLER;
	assert_int_equal(scenario_check(&s, err, sizeof(err)), 0);

	/* A ramp from 0 to 10^6 a second over 600 s: sequence numbers reach
	 * 2 * 5 * 10^5 * 600 + 10^6, 9 digits, where its end rate would make
	 * 10 (the bound the daemon used before, refusing what wsbench-load ran). */
	defaults(&s);
	s.rate = 0;
	s.rate_end = 1000000;
	s.pattern = PATTERN_RAMP;
	s.duration = 600;
	scenario_schedule(&s, &schedule);
	assert_true(schedule_total_rate(&schedule) / s.clients == 500000);
	ramp_min = message_min_size_for_run(MESSAGE_TEXT, s.clients, 500000, 600);
	fixed_min = message_min_size_for_run(MESSAGE_TEXT, s.clients, 1000000, 600);
	assert_int_equal(ramp_min, fixed_min - 1);
	s.message_size = (unsigned)ramp_min;
	assert_int_equal(scenario_check(&s, err, sizeof(err)), 0);
	s.message_size = (unsigned)ramp_min - 1;
	assert_int_equal(scenario_check(&s, err, sizeof(err)), -EINVAL);
}

/* Numbers any D-Bus client can send: refused by range, never converted. */
static void test_hostile_numbers(void **state)
{
	struct scenario_config s;
	char err[256];

	defaults(&s);
	assert_int_equal(scenario_set_number(&s, "clients", NAN, false, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be 1..100000, got nan");
	assert_int_equal(scenario_set_number(&s, "clients", 1e300, true, err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "must be 1..100000, got 1e+300");
	assert_int_equal(scenario_set_number(&s, "clients", -1e300, true, err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(scenario_set_number(&s, "clients", 4294967296.0, true, err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(scenario_set_number(&s, "duration", INFINITY, false, err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "must be 0.1..86400, got inf");
	assert_int_equal(scenario_set_number(&s, "rate", -INFINITY, false, err, sizeof(err)),
	                 -EINVAL);
	assert_int_equal(
	    scenario_set_number(&s, "rate", LOAD_MAX_RATE + 1.0, false, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be 0..1000000, got 1000001");
	assert_int_equal(s.clients, 4);
	assert_true(s.rate == 2.5);
}

static void test_fd_limit(void **state)
{
	struct scenario_config s;
	char err[512];

	defaults(&s); /* 4 clients */
	assert_int_equal(scenario_check_fd_limit(&s, 4 + LOAD_FD_OVERHEAD, err, sizeof(err)), 0);
	assert_int_equal(scenario_check_fd_limit(&s, 3 + LOAD_FD_OVERHEAD, err, sizeof(err)),
	                 -EMFILE);
	assert_string_equal(err, "clients=4 needs 580 file descriptors in wsbench-load, but it may "
	                         "open only 579 (the hard RLIMIT_NOFILE of wsbenchd, LimitNOFILE= "
	                         "in its unit): at most 3 clients");
	assert_int_equal(scenario_check_fd_limit(&s, 100, err, sizeof(err)), -EMFILE);
	assert_non_null(strstr(err, "at most 0 clients"));
}

/* wsbench-load prints one timeline entry a second in its result line, which
 * must fit the daemon's line limit: a run lasts at most 24 hours. */
static void test_run_length_bound(void **state)
{
	struct scenario_config s;
	char err[256];

	defaults(&s);
	assert_int_equal(scenario_set_number(&s, "duration", 172800, false, err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "must be 0.1..86400, got 172800");
	assert_int_equal(
	    scenario_set_number(&s, "duration", 86400 - 3600 - 5, false, err, sizeof(err)), 0);
	assert_int_equal(scenario_set_number(&s, "warmup", 3600, false, err, sizeof(err)), 0);
	assert_int_equal(scenario_check(&s, err, sizeof(err)), 0); /* + 5 s drain_timeout */
	assert_int_equal(scenario_set_number(&s, "ramp_up", 0.5, false, err, sizeof(err)), 0);
	assert_int_equal(scenario_check(&s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "duration: ramp_up + warmup + duration + drain_timeout must be at "
	                         "most 86400 s (24 h), got 86400.5: wsbench-load's result must fit "
	                         "wsbenchd's 16 MiB line");
	assert_true(scenario_total_seconds(&s) == 86400 - 5 + 0.5);
}

static void test_copy(void **state)
{
	struct scenario_config s, t;

	defaults(&s);
	s.name = strdup("x");
	s.description = strdup("about x");
	assert_int_equal(scenario_copy(&t, &s), 0);
	assert_ptr_not_equal(t.name, s.name);
	assert_string_equal(t.description, "about x");
	assert_int_equal(t.clients, 4);
	scenario_free(&s);
	assert_string_equal(t.name, "x");
	scenario_free(&t);
	assert_null(t.name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_set_and_get),
		cmocka_unit_test(test_bool_settings),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_message_size_bound),
		cmocka_unit_test(test_hostile_numbers),
		cmocka_unit_test(test_fd_limit),
		cmocka_unit_test(test_run_length_bound),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}
