/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/config.c: the file parsed, every error collected, reference counts. */
#include <errno.h>
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
	assert_int_equal(config_find_scenario(c, "x")->pattern, PATTERN_FIXED);
	assert_int_equal(s.pattern, PATTERN_RAMP);
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

/* The normal form names every setting that applies, in the table's order. */
static void test_dump(void **state)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c = load(base, &errors);
	char *dump;

	assert_non_null(c);
	dump = config_dump(c);
	assert_non_null(strstr(dump,
	                       "{ name = \"x\"; clients = 4; ramp_up = 0; pattern = \"fixed\"; "
	                       "rate = 2.5; duration = 30; warmup = 0; message_size = 64; "
	                       "message_type = \"text\"; drain_timeout = 5; payload = \"random\"; "
	                       "tls = false; deflate = false; }"));
	free(dump);
	config_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overrides_share_the_rules),
		cmocka_unit_test(test_all_errors_collected),
		cmocka_unit_test(test_refcount_keeps_config_alive),
		cmocka_unit_test(test_dump),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
