/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for report/report-html.c: a page from a whole report, from
 * reports missing or mistyping any field (sections left out with a note,
 * never a failure), hostile strings shown as text, and the errors it
 * returns.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report-html.h"

/* A small report with every section daemon/report-build.c writes. */
static const char whole[] =
    "{\"metadata\":{\"id\":\"20260101T000000Z_1\",\"scenario\":\"burst-100\",\"server\":\"c-lws\","
    "\"language\":\"c\",\"state\":\"finished\",\"start\":\"2026-01-01T00:00:00.000Z\","
    "\"end\":\"2026-01-01T00:00:04.000Z\",\"duration_s\":4,\"host\":\"vm\","
    "\"wsbench_version\":\"0.1.0\",\"requested_by\":{\"user\":\"root\",\"uid\":0}},"
    "\"clientConfig\":{\"url\":\"ws://127.0.0.1:9001/\",\"clients\":10,\"ramp_up_s\":0,"
    "\"pattern\":\"fixed\",\"rate_per_client\":10,\"duration_s\":2,\"warmup_s\":1,"
    "\"message_size\":64,\"message_type\":\"text\"},"
    "\"serverConfig\":{\"name\":\"c-lws\",\"kind\":\"command\",\"port\":9001,"
    "\"command\":[\"/bin/echo-server\",\"--port\",\"{port}\"],\"sampled\":true},"
    "\"throughput\":{\"target_rate\":100,\"receive_rate\":100,\"measured_seconds\":2},"
    "\"latency\":{\"unit\":\"ms\",\"corrected\":{\"count\":3,\"min\":0.1,\"p50\":0.2,"
    "\"p90\":0.3,\"p99\":0.3,\"p99_9\":0.3,\"p99_99\":0.3,\"max\":0.3,\"mean\":0.2,"
    "\"stddev\":0.1},\"uncorrected\":{\"count\":3,\"p50\":0.1}},"
    "\"errors\":{\"connections\":{\"clients\":10,\"failed\":2,\"http_status\":{\"503\":2}},"
    "\"messages\":{\"sent\":300,\"lost\":1},\"error_rate\":0.0033},"
    "\"resourceUsage\":{\"interval_ms\":1000,"
    "\"server\":[{\"timestamp\":\"2026-01-01T00:00:00.500Z\",\"cpu_percent\":0,\"rss_bytes\":"
    "4194304},{\"timestamp\":\"2026-01-01T00:00:01.500Z\",\"cpu_percent\":3,\"rss_bytes\":"
    "5242880},{\"timestamp\":\"2026-01-01T00:00:02.500Z\",\"cpu_percent\":4,\"rss_bytes\":"
    "5242880}],\"server_summary\":{\"cpu_percent_mean\":3.5,\"cpu_percent_max\":4,"
    "\"rss_bytes_max\":5242880},"
    "\"client\":[{\"timestamp\":\"2026-01-01T00:00:01.000Z\",\"cpu_percent\":0,\"rss_bytes\":"
    "6291456},{\"timestamp\":\"2026-01-01T00:00:02.000Z\",\"cpu_percent\":5,\"rss_bytes\":"
    "6291456}]},"
    "\"client\":{\"cpu_seconds\":0.1,\"client_limited\":false,\"verdict\":\"the client kept up\"},"
    "\"timeline\":[{\"t\":1,\"sent\":100,\"received\":99,\"p99_ms\":0,\"connected\":10},"
    "{\"t\":2,\"sent\":100,\"received\":100,\"p99_ms\":0.3,\"connected\":10},"
    "{\"t\":3,\"sent\":100,\"received\":101,\"p99_ms\":0.25,\"connected\":10}],"
    "\"histogram\":{\"unit\":\"us\",\"corrected\":\"hdr1 3 100 300 0 600 140000 100:1 200:1 "
    "300:1\",\"uncorrected\":\"hdr1 3 90 110 0 300 30200 90:1 100:1 110:1\"}}";

/* noinline: GCC 12 sees a dangling pointer in the inlined copy (-Wdangling-pointer) */
__attribute__((noinline)) static char *page_of(cJSON **reports, size_t n, int *ret)
{
	char *s = NULL;

	*ret = report_html_render((const cJSON *const *)reports, n, &s, NULL);
	return s;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void test_whole_report(void **state)
{
	cJSON *j = cJSON_Parse(whole);
	int r;
	char *s = page_of(&j, 1, &r);

	assert_int_equal(r, 0);
	assert_true(strncmp(s, "<!DOCTYPE html>", 15) == 0);
	assert_non_null(strstr(s, "<title>wsbench: burst-100 on c-lws</title>"));
	assert_int_equal(count(s, "<svg class=\"chart\""), 5);
	assert_non_null(strstr(s, "data-chart=\"latency-spectrum\""));
	assert_non_null(strstr(s, "data-chart=\"throughput\""));
	assert_non_null(strstr(s, "data-chart=\"p99-per-second\""));
	assert_non_null(strstr(s, "data-chart=\"cpu\""));
	assert_non_null(strstr(s, "data-chart=\"rss\""));
	assert_non_null(strstr(s, ">99.99%</text>"));
	assert_non_null(strstr(s, "@media print"));
	/* Nothing from elsewhere, nothing that runs. */
	assert_null(strstr(s, "<script"));
	assert_int_equal(count(s, "http://"), count(s, "xmlns=\"http://www.w3.org/2000/svg\""));
	assert_null(strstr(s, "https:"));
	assert_null(strstr(s, "src="));
	assert_null(strstr(s, "href="));
	assert_null(strstr(s, "<link"));
	assert_null(strstr(s, "<img"));
	assert_null(strstr(s, "class=\"note\"")); /* nothing left out */
	/* Error counts marked, totals not; the command line as one cell. */
	assert_non_null(strstr(s, "<code>failed</code></th><td class=\"bad\">2</td>"));
	assert_non_null(strstr(s, "<code>http_status.503</code></th><td class=\"bad\">2</td>"));
	assert_non_null(strstr(s, "<code>clients</code></th><td>10</td>"));
	assert_non_null(strstr(s, "<code>/bin/echo-server --port {port}</code>"));
	assert_non_null(strstr(s, "<code>port</code></th><td>9001</td>"));
	assert_non_null(strstr(s, "Error rate 0.33 %"));
	free(s);
	cJSON_Delete(j);
}

static void test_hostile_strings(void **state)
{
	cJSON *j = cJSON_Parse(whole), *m = cJSON_GetObjectItem(j, "metadata");
	int r;
	char *s;

	cJSON_ReplaceItemInObject(m, "server",
	                          cJSON_CreateString("<script>alert(1)</script><img src=x "
	                                             "onerror=alert(2)>\"'&"));
	cJSON_ReplaceItemInObject(m, "state", cJSON_CreateString("<b>failed</b>"));
	cJSON_AddStringToObject(m, "failure_reason", "</div><script>x()</script>");
	cJSON_AddStringToObject(cJSON_GetObjectItem(j, "clientConfig"), "<evil key>", "<v>");
	s = page_of(&j, 1, &r);
	assert_int_equal(r, 0);
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "<img"));
	assert_null(strstr(s, "<b>"));
	assert_null(strstr(s, "<evil"));
	assert_null(strstr(s, "<v>"));
	assert_non_null(strstr(s, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x "
	                          "onerror=alert(2)&gt;&quot;&#39;&amp;"));
	assert_non_null(strstr(s, "&lt;/div&gt;&lt;script&gt;x()&lt;/script&gt;"));
	free(s);
	cJSON_Delete(j);
}

/* Every field of the whole report, in turn, removed or replaced by each of
 * a set of wrong values, in a fresh copy: the page is always written. */
#define MAX_DEPTH 8

static unsigned mutate_at(const int *path, size_t depth)
{
	static const char *const wrong[] = {
		NULL, "null", "\"x\"",        "-1",   "1e308",
		"[]", "{}",   "[1,\"a\",{}]", "true", "\"hdr1 9 9 9\""
	};
	unsigned pages = 0;

	for (size_t w = 0; w < sizeof(wrong) / sizeof(wrong[0]); w++) {
		cJSON *root = cJSON_Parse(whole), *parent = root, *child;
		char *page;
		int r;

		for (size_t d = 0; d + 1 < depth; d++)
			parent = cJSON_GetArrayItem(parent, path[d]);
		child = cJSON_GetArrayItem(parent, path[depth - 1]);
		assert_non_null(child);
		if (wrong[w])
			cJSON_ReplaceItemViaPointer(parent, child, cJSON_Parse(wrong[w]));
		else
			cJSON_Delete(cJSON_DetachItemViaPointer(parent, child));
		page = page_of(&root, 1, &r);
		assert_int_equal(r, 0);
		assert_non_null(strstr(page, "</html>"));
		free(page);
		cJSON_Delete(root);
		pages++;
	}
	return pages;
}

static unsigned mutate_all(const cJSON *node, int *path, size_t depth)
{
	unsigned pages = 0;
	int i = 0;

	for (const cJSON *child = node->child; child; child = child->next, i++) {
		path[depth] = i;
		pages += mutate_at(path, depth + 1);
		if ((cJSON_IsObject(child) || cJSON_IsArray(child)) && depth + 1 < MAX_DEPTH)
			pages += mutate_all(child, path, depth + 1);
	}
	return pages;
}

static void test_tolerates_every_missing_or_wrong_field(void **state)
{
	cJSON *j = cJSON_Parse(whole);
	int path[MAX_DEPTH];

	assert_true(mutate_all(j, path, 0) > 1000);
	cJSON_Delete(j);
}

static void test_empty_report_leaves_sections_out(void **state)
{
	cJSON *j = cJSON_Parse("{}");
	int r;
	char *s = page_of(&j, 1, &r);

	assert_int_equal(r, 0);
	assert_int_equal(count(s, "<svg"), 0);
	assert_non_null(strstr(s, "class=\"note\""));
	assert_non_null(strstr(s, "</html>"));
	free(s);
	cJSON_Delete(j);
}

static void test_comparison(void **state)
{
	cJSON *j[3] = { cJSON_Parse(whole), cJSON_Parse(whole), cJSON_Parse(whole) };
	int r;
	char *s;

	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(j[1], "metadata"), "server",
	                          cJSON_CreateString("go-gorilla"));
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(j[2], "metadata"), "id",
	                          cJSON_CreateString("20260101T000000Z_9"));
	s = page_of(j, 3, &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "<title>wsbench: burst-100 on c-lws (20260101T000000Z_1), "
	                          "go-gorilla and c-lws (20260101T000000Z_9)</title>"));
	/* A colour each, in legends and tables. */
	assert_non_null(strstr(s, "#0072B2"));
	assert_non_null(strstr(s, "#D55E00"));
	assert_non_null(strstr(s, "#009E73"));
	assert_int_equal(count(s, "<svg class=\"chart\""), 5);
	free(s);
	for (int i = 0; i < 3; i++)
		cJSON_Delete(j[i]);
}

static void test_errors(void **state)
{
	cJSON *j[REPORT_HTML_MAX + 1], *arr = cJSON_Parse("[]");
	FILE *full = fopen("/dev/full", "w");
	int r;
	char *s = NULL;

	for (size_t i = 0; i <= REPORT_HTML_MAX; i++)
		j[i] = cJSON_Parse("{}");
	assert_int_equal(report_html_render((const cJSON *const *)j, 0, &s, NULL), -EINVAL);
	assert_int_equal(report_html_render((const cJSON *const *)j, REPORT_HTML_MAX + 1, &s, NULL),
	                 -EINVAL);
	assert_int_equal(report_html_render((const cJSON *const *)&arr, 1, &s, NULL), -EINVAL);
	s = page_of(j, REPORT_HTML_MAX, &r);
	assert_int_equal(r, 0);
	free(s);
	if (full) {
		setvbuf(full, NULL, _IONBF, 0);
		assert_int_equal(report_html_write(full, (const cJSON *const *)j, 1), -EIO);
		fclose(full);
	}
	for (size_t i = 0; i <= REPORT_HTML_MAX; i++)
		cJSON_Delete(j[i]);
	cJSON_Delete(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_report),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_tolerates_every_missing_or_wrong_field),
		cmocka_unit_test(test_empty_report_leaves_sections_out),
		cmocka_unit_test(test_comparison),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
