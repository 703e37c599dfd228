/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/config.c: scenario settings shared with StartRun. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "fdlimit.h"

static struct wsbench_config *load(const char *text, struct config_errors *errors)
{
	char path[] = "/tmp/wsbench-test-config-XXXXXX";
	int fd = mkstemp(path);
	struct wsbench_config *c = NULL;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_load(path, &c, errors);
	unlink(path);
	return c;
}

static const char base[] = "servers = ( { name = \"s\"; builtin = true; port = 9001; } );\n"
                           "scenarios = ( { name = \"x\"; clients = 4; rate = 2.5; } );\n";

static void test_overrides_share_the_rules(void **state)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c = load(base, &errors);
	struct scenario_config s;
	char err[256];

	assert_non_null(c);
	assert_int_equal(scenario_copy(&s, config_find_scenario(c, "x")), 0);
	assert_int_equal(scenario_set_number(&s, "clients", 10, true, err, sizeof(err)), 0);
	assert_int_equal(s.clients, 10);
	assert_int_equal(scenario_set_number(&s, "clients", 0, true, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be 1..100000, got 0");
	assert_int_equal(scenario_set_number(&s, "clients", 2.5, false, err, sizeof(err)), -EINVAL);
	assert_int_equal(scenario_set_number(&s, "speed", 1, true, err, sizeof(err)), -ENOENT);
	assert_int_equal(scenario_set_string(&s, "pattern", "ramp", err, sizeof(err)), 0);
	assert_int_equal(scenario_check(&s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rate_end: pattern \"ramp\" needs rate_end");
	assert_int_equal(scenario_set_number(&s, "rate_end", 50, true, err, sizeof(err)), 0);
	assert_int_equal(scenario_check(&s, err, sizeof(err)), 0);
	assert_int_equal(scenario_set_string(&s, "message_type", "xml", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "must be one of text binary, got \"xml\"");
	/* The copy is independent of the configuration. */
	assert_string_equal(config_find_scenario(c, "x")->pattern, "fixed");
	scenario_free(&s);
	config_unref(c);
}

static void test_all_errors_collected(void **state)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c =
	    load("servers = ( { name = \"s\"; builtin = true; port = 1; } );\n"
	         "scenarios = ( { name = \"x\"; clients = 0; }, { name = \"y\"; rate = -1; } );\n",
	         &errors);

	assert_null(c);
	assert_int_equal(errors.n, 3);
	assert_non_null(
	    strstr(errors.lines[0], ":1: servers.[0].port: must be 1024..65535, got 1"));
	assert_non_null(strstr(errors.lines[1], ":2: scenarios.[0].clients:"));
	assert_non_null(strstr(errors.lines[2], ":2: scenarios.[1].rate:"));
	config_errors_clear(&errors);
}

static void test_refcount_keeps_config_alive(void **state)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c = load(base, &errors), *held;

	held = config_ref(c);
	config_unref(c);
	assert_string_equal(config_find_server(held, "s")->name, "s");
	config_unref(held);
}

/* Numbers any D-Bus client can send: refused by range, never converted. */
static void test_hostile_numbers(void **state)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c = load(base, &errors);
	struct scenario_config s;
	char err[256];

	assert_non_null(c);
	assert_int_equal(scenario_copy(&s, config_find_scenario(c, "x")), 0);
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
	assert_int_equal(s.clients, 4);
	assert_true(s.rate == 2.5);
	scenario_free(&s);
	config_unref(c);
}

static void test_fd_limit(void **state)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c = load(base, &errors);
	const struct scenario_config *s = config_find_scenario(c, "x"); /* 4 clients */
	char err[512];

	assert_non_null(c);
	assert_int_equal(scenario_check_fd_limit(s, 4 + LOAD_FD_OVERHEAD, err, sizeof(err)), 0);
	assert_int_equal(scenario_check_fd_limit(s, 3 + LOAD_FD_OVERHEAD, err, sizeof(err)),
	                 -EMFILE);
	assert_string_equal(err, "clients=4 needs 580 file descriptors in wsbench-load, but it may "
	                         "open only 579 (the hard RLIMIT_NOFILE of wsbenchd, LimitNOFILE= "
	                         "in its unit): at most 3 clients");
	assert_int_equal(scenario_check_fd_limit(s, 100, err, sizeof(err)), -EMFILE);
	assert_non_null(strstr(err, "at most 0 clients"));
	config_unref(c);
}

/* wsbench-load prints one timeline entry a second in its result line, which
 * must fit the daemon's line limit: a run lasts at most 24 hours. */
static void test_run_length_bound(void **state)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c = load(base, &errors);
	struct scenario_config s;
	char err[256];

	assert_non_null(c);
	assert_int_equal(scenario_copy(&s, config_find_scenario(c, "x")), 0);
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
	scenario_free(&s);
	config_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overrides_share_the_rules),
		cmocka_unit_test(test_all_errors_collected),
		cmocka_unit_test(test_refcount_keeps_config_alive),
		cmocka_unit_test(test_hostile_numbers),
		cmocka_unit_test(test_fd_limit),
		cmocka_unit_test(test_run_length_bound),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
