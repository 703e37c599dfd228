/* SPDX-License-Identifier: MIT */
/* Unit tests for load/load-options.c: values, cross-option rules, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "load-options.h"

static int parse(struct load_options *o, char *err, const char *args)
{
	static char buf[1024];
	char *argv[32] = { (char *)"wsbench-load" };
	int argc = 1;

	strcpy(buf, args);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	load_options_init(o);
	return load_options_parse(o, argc, argv, err, 512);
}

static void test_a_whole_command_line(void **state)
{
	struct load_options o;
	char err[512];

	assert_int_equal(parse(&o, err,
	                       "--url ws://127.0.0.1:9001/ --clients 100 --ramp-up 1 --rate 10 "
	                       "--duration 30 --pattern fixed --size 64 --type text"),
	                 0);
	assert_string_equal(o.host, "127.0.0.1");
	assert_int_equal(o.port, 9001);
	assert_string_equal(o.path, "/");
	assert_int_equal(o.clients, 100);
	assert_true(o.ramp_up == 1.0);
	assert_true(o.schedule.rate == 10.0);
	assert_true(o.schedule.duration == 30.0);
	assert_int_equal(o.size, 64);
	assert_int_equal(o.type, MESSAGE_TEXT);
	load_options_free(&o);
}

static void test_url_forms(void **state)
{
	struct load_options o;
	char err[512];

	assert_int_equal(parse(&o, err, "--url ws://localhost:80/echo?x=1"), 0);
	assert_string_equal(o.host, "127.0.0.1");
	assert_string_equal(o.path, "/echo?x=1");
	assert_int_equal(parse(&o, err, "--url ws://[::1]:9001"), 0);
	assert_string_equal(o.host, "::1");
	assert_string_equal(o.path, "/");
	assert_false(o.tls);
	/* wss://: TLS, port 443 by default, the name kept for SNI. */
	assert_int_equal(parse(&o, err, "--url wss://localhost/"), 0);
	assert_true(o.tls);
	assert_int_equal(o.port, 443);
	assert_string_equal(o.host, "127.0.0.1");
	assert_string_equal(o.server_name, "localhost");
	assert_int_equal(parse(&o, err, "--url http://127.0.0.1/"), -EINVAL);
	assert_non_null(strstr(err, "--url"));
	assert_int_equal(parse(&o, err, "--url ws://no-such-host.invalid/"), -EINVAL);
	assert_non_null(strstr(err, "resolve"));
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:0/"), -EINVAL);
}

static void test_tls_and_deflate(void **state)
{
	struct load_options o;
	char err[512];

	assert_int_equal(parse(&o, err, "--url wss://127.0.0.1:1/ --insecure"), 0);
	assert_true(o.insecure);
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --insecure"), -EINVAL);
	assert_string_equal(err, "--insecure applies only to wss:// URLs");
	assert_int_equal(parse(&o, err, "--url wss://127.0.0.1:1/ --ca /nonexistent.pem"), -EINVAL);
	assert_non_null(strstr(err, "--ca: cannot read '/nonexistent.pem'"));
	assert_int_equal(parse(&o, err, "--url wss://127.0.0.1:1/ --ca /dev/null --insecure"),
	                 -EINVAL);
	assert_int_equal(parse(&o, err,
	                       "--url ws://127.0.0.1:1/ --deflate --deflate-window 10 "
	                       "--deflate-server-no-context-takeover --payload text"),
	                 0);
	assert_true(o.deflate);
	assert_int_equal(o.deflate_offer.window_bits, 10);
	assert_true(o.deflate_offer.server_no_context_takeover);
	assert_false(o.deflate_offer.client_no_context_takeover);
	assert_int_equal(o.payload, PAYLOAD_TEXT);
	assert_int_equal(o.deflate_offer.level, 0); /* WS_DEFLATE_LEVEL_DEFAULT */
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --deflate --deflate-level 6"), 0);
	assert_int_equal(o.deflate_offer.level, 6);
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --deflate --deflate-level 0"),
	                 -EINVAL);
	assert_non_null(strstr(err, "--deflate-level: must be 1..9"));
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --deflate-level 6"), -EINVAL);
	assert_non_null(strstr(err, "need --deflate"));
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --deflate --deflate-window 8"),
	                 -EINVAL);
	assert_non_null(strstr(err, "--deflate-window: must be 9..15"));
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --deflate-window 12"), -EINVAL);
	assert_non_null(strstr(err, "need --deflate"));
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --payload lorem"), -EINVAL);
	assert_non_null(strstr(err, "--payload"));
}

static void test_errors_name_the_flag(void **state)
{
	struct load_options o;
	char err[512];

	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --clients 0"), -EINVAL);
	assert_string_equal(err, "--clients: must be 1..100000, got '0'");
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --duration soon"), -EINVAL);
	assert_non_null(strstr(err, "--duration"));
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --type xml"), -EINVAL);
	assert_string_equal(err, "--type: must be text or binary, got 'xml'");
	assert_int_equal(parse(&o, err, "--clients 3"), -EINVAL);
	assert_non_null(strstr(err, "--url is required"));
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --pattern ramp"), -EINVAL);
	assert_string_equal(err, "--pattern ramp needs --rate-end");
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --size 10 --type text"), -EINVAL);
	assert_non_null(strstr(err, "--size"));
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --size 17M"), -EINVAL);
}

/* The ranges wsbenchd checks too (common/load-protocol.h): a rate per client
 * up to one message a microsecond; a total rate to search up to 10^7. */
static void test_shared_ranges(void **state)
{
	struct load_options o;
	char err[512];

	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --rate 1000000"), 0);
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --rate 1000001"), -EINVAL);
	assert_string_equal(err, "--rate: must be 0..1000000 messages/s, got '1000001'");
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --max-rate 5000000"), 0);
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --clients 100001"), -EINVAL);
	/* A ramp's header bound counts its mean rate, as wsbenchd does. */
	assert_int_equal(parse(&o, err,
	                       "--url ws://127.0.0.1:1/ --pattern ramp --rate 0 --rate-end 1000000 "
	                       "--duration 600 --size 50"),
	                 0);
	assert_int_equal(parse(&o, err,
	                       "--url ws://127.0.0.1:1/ --pattern ramp --rate 0 --rate-end 1000000 "
	                       "--duration 600 --size 49"),
	                 -EINVAL);
	assert_string_equal(err, "--size: 49 bytes cannot hold a text message header for this run; "
	                         "the minimum is 50");
}

static void test_warmup_extends_sending(void **state)
{
	struct load_options o;
	char err[512];

	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --duration 10 --warmup 2"), 0);
	assert_true(o.schedule.duration == 12.0);
	assert_true(o.warmup == 2.0);
}

static void test_tick(void **state)
{
	struct load_options o;
	char err[512];

	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/"), 0);
	assert_true(o.tick == 0.001);
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --tick 250us"), 0);
	assert_true(o.tick > 0.000249 && o.tick < 0.000251);
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --tick 0"), 0);
	assert_true(o.tick == 0);
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --tick 2s"), -EINVAL);
	assert_non_null(strstr(err, "--tick"));
}

static void test_sources(void **state)
{
	struct load_options o;
	char err[512];

	assert_int_equal(
	    parse(&o, err, "--url ws://127.0.0.1:1/ --source-addresses 127.0.0.1,127.0.0.2"), 0);
	assert_int_equal(o.n_sources, 2);
	assert_string_equal(o.sources[1], "127.0.0.2");
	load_options_free(&o);
	assert_int_equal(parse(&o, err, "--url ws://127.0.0.1:1/ --source-addresses 127.0.0.300"),
	                 -EINVAL);
	load_options_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_whole_command_line),
		cmocka_unit_test(test_url_forms),
		cmocka_unit_test(test_tls_and_deflate),
		cmocka_unit_test(test_errors_name_the_flag),
		cmocka_unit_test(test_shared_ranges),
		cmocka_unit_test(test_warmup_extends_sending),
		cmocka_unit_test(test_tick),
		cmocka_unit_test(test_sources),
	};

	return cmocka_run_group_tests_name("load-options", tests, NULL, NULL);
}
