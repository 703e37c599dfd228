/* SPDX-License-Identifier: MIT */
/* Unit tests for echo/echo-options.c: defaults, values and error messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "echo-options.h"

static int parse(struct echo_options *o, char *err, const char *a, const char *b, const char *c)
{
	char *argv[] = { (char *)"wsbench-echo", (char *)a, (char *)b, (char *)c, NULL };
	int argc = 1 + (a != NULL) + (b != NULL) + (c != NULL);

	echo_options_init(o);
	return echo_options_parse(o, argc, argv, err, 256);
}

static void test_defaults(void **state)
{
	struct echo_options o;
	char err[256];

	assert_int_equal(parse(&o, err, NULL, NULL, NULL), ECHO_OPTIONS_RUN);
	assert_string_equal(o.host, "127.0.0.1");
	assert_int_equal(o.port, 9001);
	assert_int_equal(o.threads, 1);
	assert_int_equal(o.max_message_size, 16u << 20);
	assert_int_equal(o.max_connections, 0);
	assert_int_equal(o.rx_buffer, 512);
}

static void test_values(void **state)
{
	struct echo_options o;
	char err[256];

	assert_int_equal(parse(&o, err, "--port=0", "--threads=4", "--max-message-size=1K"), 0);
	assert_int_equal(o.port, 0);
	assert_int_equal(o.threads, 4);
	assert_int_equal(o.max_message_size, 1024);
	assert_int_equal(parse(&o, err, "--rx-buffer=4K", NULL, NULL), 0);
	assert_int_equal(o.rx_buffer, 4096);
	assert_int_equal(parse(&o, err, "--host", "::1", "-v"), 0);
	assert_string_equal(o.host, "::1");
	assert_int_equal(o.verbose, 1);
}

static void test_errors_name_the_option(void **state)
{
	struct echo_options o;
	char err[256];

	assert_int_equal(parse(&o, err, "--port", "70000", NULL), -EINVAL);
	assert_string_equal(err, "--port: must be 0..65535, got '70000'");
	assert_int_equal(parse(&o, err, "--rx-buffer", "64", NULL), -EINVAL);
	assert_string_equal(err, "--rx-buffer: must be 128..1M bytes, got '64'");
	assert_int_equal(parse(&o, err, "--threads", "many", NULL), -EINVAL);
	assert_string_equal(err, "--threads: not a number: 'many'");
	assert_int_equal(parse(&o, err, "--bogus", NULL, NULL), -EINVAL);
	assert_string_equal(err, "unknown option '--bogus'");
	assert_int_equal(parse(&o, err, "--port", NULL, NULL), -EINVAL);
	assert_string_equal(err, "option '--port' needs a value");
	assert_int_equal(parse(&o, err, "extra", NULL, NULL), -EINVAL);
	assert_string_equal(err, "unexpected argument 'extra'");
}

static void test_help_and_version(void **state)
{
	struct echo_options o;
	char err[256];

	assert_int_equal(parse(&o, err, "--help", NULL, NULL), ECHO_OPTIONS_HELP);
	assert_int_equal(parse(&o, err, "--version", NULL, NULL), ECHO_OPTIONS_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors_name_the_option),
		cmocka_unit_test(test_help_and_version),
	};

	return cmocka_run_group_tests_name("echo-options", tests, NULL, NULL);
}
