/* SPDX-License-Identifier: MIT */
/* Unit tests for report/compare-model.c: figures taken from reports, arms,
 * what is counted, medians, and verdicts against the baseline. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "compare-model.h"

/* A report with the figures the model reads; @scale multiplies latency and
 * CPU (a slower server), @jitter varies them a little per trial. */
static cJSON *report(const char *id, const char *server, const char *state, double scale,
                     double jitter, int arm, int trial)
{
	char text[2048];

	snprintf(text, sizeof(text),
	         "{\"metadata\": {\"id\": \"%s\", \"server\": \"%s\", \"scenario\": \"s\", "
	         "\"state\": \"%s\"%s},"
	         "\"clientConfig\": {\"clients\": 100},"
	         "\"throughput\": {\"receive_rate\": %.17g, \"messages_received\": 10000},"
	         "\"latency\": {\"corrected\": {\"p50\": %.17g, \"p90\": %.17g, \"p99\": %.17g, "
	         "\"p99_9\": %.17g, \"max\": %.17g}},"
	         "\"errors\": {\"connections\": {\"failed\": 1, \"dropped\": 0}, "
	         "\"messages\": {\"lost\": 2, \"corrupted\": 0, \"not_sent\": 0}},"
	         "\"resourceUsage\": {\"interval_ms\": 1000, \"server_summary\": "
	         "{\"cpu_percent_mean\": 10, \"cpu_percent_max\": 20, \"rss_bytes_max\": %.17g, "
	         "\"rss_bytes_first\": 1048576, \"cpu_seconds\": %.17g}},"
	         "\"client\": {\"cpu_us_per_message\": 20, \"client_limited\": %s},"
	         "\"noise\": {\"verdict\": \"%s\"}}",
	         id, server, state,
	         arm >= 0 ? (trial ? ", \"compare\": {\"id\": \"c1\", \"arm\": 0, \"trial\": 1, "
	                             "\"warmup\": false}"
	                           : ", \"compare\": {\"id\": \"c1\", \"arm\": 0, \"trial\": 0, "
	                             "\"warmup\": true}")
	                  : "",
	         1000.0 * (1 + jitter), 0.1 * scale * (1 + jitter), 0.2 * scale * (1 + jitter),
	         1.0 * scale * (1 + jitter), 2.0 * scale * (1 + jitter), 5.0 * scale,
	         1048576.0 + 100 * 1024.0 * scale, 0.2 * scale * (1 + jitter),
	         scale > 1 ? "true" : "false", jitter > 0.04 ? "noisy" : "quiet");
	return cJSON_Parse(text);
}

static const cJSON *figure(const cJSON *model, int arm, const char *key)
{
	const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(model, "servers"), arm);

	return cJSON_GetObjectItem(cJSON_GetObjectItem(s, "figures"), key);
}

static const char *verdict(const cJSON *model, int arm, const char *key)
{
	const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(model, "servers"), arm);

	return cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(s, "vs_baseline"), key), "verdict"));
}

/* Five trials each, the second server twice as slow: its latency and CPU
 * figures are worse, its rate the same; figures are read as documented. */
static void test_two_x_slower(void **state)
{
	static const double jitter[5] = { 0.0, 0.03, -0.02, 0.01, -0.03 };
	struct compare_input in[10];
	cJSON *r[10], *model;
	const char *names[] = { "fast", "slow" };
	char id[16];

	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "run%d", i);
		r[i] =
		    report(id, names[i % 2], "finished", i % 2 ? 2.0 : 1.0, jitter[i / 2], -1, 0);
		assert_non_null(r[i]);
		in[i] = (struct compare_input){ r[i], (unsigned)(i % 2) };
	}
	assert_int_equal(compare_model_build(in, 10, names, 2, &model), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(model, "baseline")), "fast");
	assert_float_equal(
	    cJSON_GetNumberValue(cJSON_GetObjectItem(figure(model, 0, "p99"), "median")), 1.0,
	    1e-9);
	/* 0.2 s of CPU for 10,000 echoes; 1 failed connection + 2 lost; 100
	 * KiB over 100 clients. */
	assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(
	                       figure(model, 0, "server_cpu_us_per_echo"), "median")),
	                   20.0, 1e-9);
	assert_float_equal(
	    cJSON_GetNumberValue(cJSON_GetObjectItem(figure(model, 0, "errors"), "median")), 3,
	    1e-9);
	assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(
	                       figure(model, 0, "kib_per_connection"), "median")),
	                   1.0, 1e-9);
	assert_string_equal(verdict(model, 1, "p99"), "worse");
	assert_string_equal(verdict(model, 1, "p50"), "worse");
	assert_string_equal(verdict(model, 1, "server_cpu_us_per_echo"), "worse");
	assert_string_equal(verdict(model, 1, "rate"), "same");
	assert_string_equal(verdict(model, 1, "errors"), "same");
	/* Not a ranking figure: a ratio, no verdict. */
	assert_null(verdict(model, 1, "p90"));
	assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(
	                       cJSON_GetObjectItem(
	                           cJSON_GetObjectItem(
	                               cJSON_GetArrayItem(cJSON_GetObjectItem(model, "servers"), 1),
	                               "vs_baseline"),
	                           "p90"),
	                       "ratio")),
	                   2.0, 1e-9);
	assert_true(compare_model_complete(model));
	cJSON_Delete(model);
	for (int i = 0; i < 10; i++)
		cJSON_Delete(r[i]);
}

/* Warm-ups and runs that did not finish are listed, not counted; then the
 * compare is not complete. */
static void test_excluded(void **state)
{
	cJSON *r[3] = { report("w", "a", "finished", 1, 0, 0, 0),
		        report("t1", "a", "finished", 1, 0, 0, 1),
		        report("t2", "a", "failed", 1, 0, 0, 1) };
	struct compare_input in[3] = { { r[0], 0 }, { r[1], 0 }, { r[2], 0 } };
	const char *names[] = { "a" };
	const cJSON *s, *x;
	cJSON *model;

	assert_int_equal(compare_model_build(in, 3, names, 1, &model), 0);
	s = cJSON_GetArrayItem(cJSON_GetObjectItem(model, "servers"), 0);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(s, "trials")), 1);
	x = cJSON_GetObjectItem(s, "excluded");
	assert_int_equal(cJSON_GetArraySize(x), 2);
	assert_string_equal(
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(x, 0), "why")), "warm-up");
	assert_string_equal(
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(x, 1), "why")), "failed");
	assert_false(compare_model_complete(model));
	assert_false(compare_model_counted(r[0]));
	assert_true(compare_model_counted(r[1]));
	cJSON_Delete(model);
	for (int i = 0; i < 3; i++)
		cJSON_Delete(r[i]);
}

/* A noisy trial run again: the retry counts, the one it replaces does not;
 * a trial that received nothing is left out whole. */
static void test_retry_and_nothing(void **state)
{
	cJSON *r[3] = { report("t1", "a", "finished", 1, 0, 0, 1),
		        report("t1b", "a", "finished", 1, 0, 0, 1),
		        report("t2", "a", "finished", 1, 0, 0, 1) };
	struct compare_input in[3] = { { r[0], 0 }, { r[1], 0 }, { r[2], 0 } };
	const char *names[] = { "a" };
	const cJSON *s;
	cJSON *model;

	cJSON_AddStringToObject(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r[1], "metadata"), "compare"), "retry_of",
	    "t1");
	cJSON_SetNumberValue(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r[2], "throughput"), "messages_received"), 0);
	assert_int_equal(compare_model_build(in, 3, names, 1, &model), 0);
	s = cJSON_GetArrayItem(cJSON_GetObjectItem(model, "servers"), 0);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(s, "trials")), 1);
	assert_string_equal(
	    cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "runs"), 0)), "t1b");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
	                        cJSON_GetArrayItem(cJSON_GetObjectItem(s, "excluded"), 0), "why")),
	                    "noisy, run again");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
	                        cJSON_GetArrayItem(cJSON_GetObjectItem(s, "excluded"), 1), "why")),
	                    "received nothing");
	assert_false(compare_model_complete(model));
	cJSON_Delete(model);
	for (int i = 0; i < 3; i++)
		cJSON_Delete(r[i]);
}

/* Runs given one by one: arms by server name, in order of appearance; an
 * A/A compare's trials keep their arms. */
static void test_arms(void **state)
{
	cJSON *r[3] = { report("1", "b", "finished", 1, 0, -1, 0),
		        report("2", "a", "finished", 1, 0, -1, 0),
		        report("3", "b", "finished", 1, 0, -1, 0) };
	const cJSON *rs[3] = { r[0], r[1], r[2] };
	unsigned arms[3];
	const char *names[COMPARE_MODEL_MAX_ARMS];

	assert_int_equal(compare_model_arms(rs, 3, arms, names), 2);
	assert_string_equal(names[0], "b");
	assert_string_equal(names[1], "a");
	assert_int_equal(arms[0], 0);
	assert_int_equal(arms[1], 1);
	assert_int_equal(arms[2], 0);
	for (int i = 0; i < 3; i++)
		cJSON_Delete(r[i]);
}

/* The same values on both sides: every verdict "same", every ratio 1. */
static void test_identical(void **state)
{
	static const double jitter[3] = { 0.0, 0.02, -0.01 };
	cJSON *r[6], *model;
	struct compare_input in[6];
	const char *names[] = { "x", "x" };

	for (int i = 0; i < 6; i++) {
		r[i] = report("r", "x", "finished", 1, jitter[i / 2], -1, 0);
		in[i] = (struct compare_input){ r[i], (unsigned)(i % 2) };
	}
	assert_int_equal(compare_model_build(in, 6, names, 2, &model), 0);
	assert_string_equal(verdict(model, 1, "p99"), "same");
	assert_string_equal(verdict(model, 1, "rate"), "same");
	cJSON_Delete(model);
	assert_int_equal(compare_model_build(in, 6, names, 0, &model), -EINVAL);
	for (int i = 0; i < 6; i++)
		cJSON_Delete(r[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_x_slower),      cmocka_unit_test(test_excluded),
		cmocka_unit_test(test_retry_and_nothing), cmocka_unit_test(test_arms),
		cmocka_unit_test(test_identical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
