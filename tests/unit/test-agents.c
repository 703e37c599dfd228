/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/agents.c: agent specs, the split of clients, the
 * clock offset, and merging parts losslessly (histograms added bucket by
 * bucket: the merged percentiles are those of all the values together). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "agents.h"
#include "histogram.h"

static void test_specs(void **state)
{
	struct agent_spec a;
	char err[256];

	assert_int_equal(agent_spec_parse("lab2", &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, AGENT_SSH);
	assert_string_equal(a.where, "lab2");
	assert_true(a.weight == 1);
	assert_int_equal(agent_spec_parse("bench@lab3.example*2.5", &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, AGENT_SSH);
	assert_string_equal(a.where, "bench@lab3.example");
	assert_true(a.weight == 2.5);
	assert_int_equal(agent_spec_parse("unix:path=/run/x/bus", &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, AGENT_ADDRESS);
	assert_int_equal(agent_spec_parse("lab2*0", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "weight"));
	assert_int_equal(agent_spec_parse("lab 2", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(agent_spec_parse("", &a, err, sizeof(err)), -EINVAL);
}

static void test_list(void **state)
{
	struct agent_list l = { 0 }, c;
	char err[256], buf[128];

	assert_int_equal(agent_list_parse(&l, "a, b*2,c", err, sizeof(err)), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[1], "b*2");
	assert_int_equal(agent_list_copy(&c, &l), 0);
	agent_list_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "a, b*2, c");
	agent_list_free(&c);
	agent_list_free(&l);
	assert_int_equal(agent_list_parse(&l, "local", err, sizeof(err)), 0);
	assert_true(l.local);
	assert_int_equal(l.n, 0);
	assert_int_equal(agent_list_parse(&l, "x*y", err, sizeof(err)), -EINVAL);
	agent_list_free(&l);
}

static void test_split(void **state)
{
	const double even[3] = { 1, 1, 1 }, weighted[2] = { 1, 3 };
	unsigned out[3];

	assert_int_equal(agents_split(100, even, 3, out), 0);
	assert_int_equal(out[0] + out[1] + out[2], 100);
	assert_true(out[0] >= 33 && out[1] >= 33 && out[2] >= 33);
	assert_int_equal(agents_split(10, weighted, 2, out), 0);
	assert_int_equal(out[0] + out[1], 10);
	assert_int_equal(out[0], 3); /* 1 + 8/4 = 3, 1 + 6 = 7 */
	assert_int_equal(out[1], 7);
	assert_int_equal(agents_split(2, even, 3, out), -EINVAL);
}

/* The reading with the shortest round trip wins; the offset is the remote
 * time less the middle of that round trip. */
static void test_clock_offset(void **state)
{
	const struct clock_sample s[3] = {
		{ .sent_ns = 0, .remote_ns = 5000, .received_ns = 4000 },
		{ .sent_ns = 10000, .remote_ns = 12500, .received_ns = 11000 }, /* rtt 1000 */
		{ .sent_ns = 20000, .remote_ns = 30000, .received_ns = 30000 },
	};
	int64_t off, rtt;

	assert_int_equal(clock_offset(s, 3, &off, &rtt), 0);
	assert_int_equal(rtt, 1000);
	assert_int_equal(off, 12500 - 10500);
	assert_int_equal(clock_offset(s, 0, &off, &rtt), -EINVAL);
}

static cJSON *part(uint64_t from_us, uint64_t n, unsigned limited)
{
	struct histogram *h = calloc(1, sizeof(*h));
	char *enc, *text = malloc(1 << 20);
	cJSON *j;

	histogram_reset(h);
	for (uint64_t i = 0; i < n; i++)
		histogram_record(h, from_us + i);
	enc = histogram_encode(h);
	snprintf(text, 1 << 20,
	         "{\"throughput\": {\"receive_rate\": %llu, \"messages_received\": %llu, "
	         "\"measured_seconds\": 10, \"payload_bytes_per_message\": 64, "
	         "\"wire_bytes_received\": %llu, \"wire_bytes_per_message_received\": 66},"
	         "\"errors\": {\"messages\": {\"sent\": %llu, \"lost\": 1, \"corrupted\": 0, "
	         "\"unexpected\": 0}, \"connections\": {\"closed_by_peer\": {\"1001\": 2}}},"
	         "\"client\": {\"cpu_seconds\": 1.5, \"client_limited\": %s, \"verdict\": \"v\","
	         "\"send_lag_p99_ms\": %u},"
	         "\"timeline\": [{\"t\": 1, \"sent\": 10, \"received\": 9, \"p99_ms\": %u, "
	         "\"connected\": 5}],"
	         "\"histogram\": {\"corrected\": \"%s\", \"uncorrected\": \"%s\"}}",
	         (unsigned long long)n / 10, (unsigned long long)n, (unsigned long long)n * 66,
	         (unsigned long long)n + 1, limited ? "true" : "false", limited, limited + 1, enc,
	         enc);
	free(enc);
	free(h);
	j = cJSON_Parse(text);
	free(text);
	assert_non_null(j);
	return j;
}

static double at(const cJSON *j, const char *a, const char *b)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, a), b));
}

/* 1000 values 1..1000 µs on one agent and 3000 values 1001..4000 on the
 * other: the merged p50 is the 2000th value, 2000 µs, not the mean of the
 * two parts' medians (500 and 2500). */
static void test_merge(void **state)
{
	cJSON *p[2] = { part(1, 1000, 0), part(1001, 3000, 1) }, *m, *lat;
	const char *names[2] = { "a", "b" };

	assert_int_equal(agents_merge((const cJSON *const *)p, names, 2, &m), 0);
	lat = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "latency"), "corrected");
	assert_int_equal((int)at(cJSON_GetObjectItem(m, "latency"), "corrected", "count"), 4000);
	assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(lat, "p50")), 2.0, 0.002);
	assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(lat, "max")), 4.0, 0.004);
	assert_float_equal(at(m, "throughput", "messages_received"), 4000, 0);
	assert_float_equal(at(m, "throughput", "receive_rate"), 400, 0);
	assert_float_equal(at(m, "throughput", "measured_seconds"), 10, 0);
	assert_float_equal(at(m, "throughput", "payload_bytes_per_message"), 64, 0);
	assert_float_equal(at(m, "throughput", "wire_bytes_per_message_received"), 66, 1e-9);
	assert_float_equal(at(cJSON_GetObjectItem(m, "errors"), "messages", "lost"), 2, 0);
	assert_float_equal(at(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "errors"), "connections"),
	                      "closed_by_peer", "1001"),
	                   4, 0);
	assert_float_equal(at(m, "client", "cpu_seconds"), 3.0, 1e-9);
	assert_float_equal(at(m, "client", "send_lag_p99_ms"), 1, 0);
	assert_true(
	    cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "client"), "client_limited")));
	assert_non_null(strstr(
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "client"), "verdict")),
	    "agent b"));
	{
		const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "timeline"), 0);

		assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(t, "sent")), 20, 0);
		assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(t, "p99_ms")), 2, 0);
	}
	cJSON_Delete(m);
	/* A part without a histogram cannot be merged. */
	cJSON_DeleteItemFromObject(p[1], "histogram");
	assert_int_equal(agents_merge((const cJSON *const *)p, names, 2, &m), -EINVAL);
	cJSON_Delete(p[0]);
	cJSON_Delete(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_specs), cmocka_unit_test(test_list),
		cmocka_unit_test(test_split), cmocka_unit_test(test_clock_offset),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
