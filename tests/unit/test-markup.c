/* SPDX-License-Identifier: MIT */
/* Unit tests for report/markup.c: escaping and number formats. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "markup.h"

static char *escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	markup_escape(f, s);
	fclose(f);
	return buf;
}

static void test_escape(void **state)
{
	char *s = escaped("<script>alert(\"x\" & 'y')</script>");

	assert_string_equal(s,
	                    "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
	free(s);
	s = escaped("tab\tnl\nbell\x07 del\x7f \xc3\xa9");
	assert_string_equal(s, "tab\tnl\nbell\xef\xbf\xbd del\xef\xbf\xbd \xc3\xa9");
	free(s);
	s = escaped(NULL);
	assert_string_equal(s, "");
	free(s);
}

static void assert_number(double v, const char *want)
{
	char buf[64];

	assert_string_equal(markup_number(v, buf, sizeof(buf)), want);
}

static void test_number(void **state)
{
	assert_number(0, "0");
	assert_number(11000, "11,000");
	assert_number(1234567, "1,234,567");
	assert_number(999, "999");
	assert_number(4.271, "4.271");
	assert_number(2.990020996200643, "2.99");
	assert_number(13.635, "13.635");
	assert_number(1234.5678, "1,234.568");
	assert_number(0.0001, "0");
	assert_number(-5, "\xe2\x88\x92"
	                  "5");
	assert_number(-0.25, "\xe2\x88\x92"
	                     "0.25");
	assert_number(1e20, "1e+20");
	assert_number(NAN, "n/a");
	assert_number(INFINITY, "n/a");
}

static void assert_tick(double v, double step, const char *want)
{
	char buf[32];

	assert_string_equal(markup_tick(v, step, buf, sizeof(buf)), want);
}

static void test_tick(void **state)
{
	assert_tick(0, 5, "0");
	assert_tick(15, 5, "15");
	assert_tick(0.5, 0.5, "0.5");
	assert_tick(0.25, 0.05, "0.25");
	assert_tick(1000, 500, "1000");
	assert_tick(20000, 5000, "20k");
	assert_tick(2500, 500, "2500");
	assert_tick(3000000, 1000000, "3M");
	assert_tick(1e-17, 0.2, "0"); /* no "-0" from rounding */
	assert_tick(-10, 5,
	            "\xe2\x88\x92"
	            "10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_tick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
