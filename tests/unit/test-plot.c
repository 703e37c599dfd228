/* SPDX-License-Identifier: MIT */
/* Unit tests for report/plot.c: scales, ticks, paths and the SVG's parts. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plot.h"

static void test_scale(void **state)
{
	struct plot_scale x = { 0, 10, 100, 300 }, y = { 0, 5, 250, 50 }, flat = { 3, 3, 7, 9 };

	assert_true(plot_scale_map(&x, 0) == 100);
	assert_true(plot_scale_map(&x, 5) == 200);
	assert_true(plot_scale_map(&x, 10) == 300);
	assert_true(plot_scale_map(&y, 5) == 50); /* SVG's y grows downwards */
	assert_true(plot_scale_map(&y, 2.5) == 150);
	assert_true(plot_scale_map(&flat, 100) == 7);
}

static void assert_ticks(double lo, double hi, unsigned target, double want_lo, double want_hi,
                         double want_step, unsigned want_n)
{
	struct plot_ticks t;

	assert_int_equal(plot_ticks_nice(lo, hi, target, &t), 0);
	assert_true(fabs(t.lo - want_lo) < 1e-9);
	assert_true(fabs(t.hi - want_hi) < 1e-9);
	assert_true(fabs(t.step - want_step) < 1e-12);
	assert_int_equal(t.n, want_n);
}

static void test_ticks(void **state)
{
	struct plot_ticks t;

	assert_ticks(0, 13.635, 5, 0, 15, 5, 4);
	assert_ticks(0, 1004, 5, 0, 1200, 200, 7);
	assert_ticks(0, 1, 5, 0, 1, 0.2, 6);
	assert_ticks(0, 0.0047, 5, 0, 0.005, 0.001, 6);
	assert_ticks(0, 11.2, 8, 0, 12, 2, 7);
	assert_ticks(-3, 7, 5, -4, 8, 2, 7);
	assert_ticks(0, 7.3e6, 5, 0, 8e6, 2e6, 5);
	/* One value: still an axis, from 0. */
	assert_ticks(5, 5, 5, 0, 8, 2, 5);
	assert_ticks(0, 0, 5, 0, 1, 0.2, 6);
	assert_int_equal(plot_ticks_nice(1, 0, 5, &t), -EINVAL);
	assert_int_equal(plot_ticks_nice(0, NAN, 5, &t), -EINVAL);
	assert_int_equal(plot_ticks_nice(-INFINITY, 0, 5, &t), -EINVAL);
}

static char *path_of(const double *xs, const double *ys, size_t n, size_t *drawn)
{
	struct plot_scale x = { 0, 10, 0, 100 }, y = { 0, 10, 100, 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*drawn = plot_path(f, &x, &y, xs, ys, n);
	fclose(f);
	return buf;
}

static void test_path(void **state)
{
	double xs[] = { 0, 1, 2, NAN, 4, 5, 6 }, ys[] = { 0, 5, 10, 3, 2, INFINITY, 1.25 };
	size_t drawn;
	char *s = path_of(xs, ys, 7, &drawn);

	/* A point that is not finite lifts the pen. */
	assert_string_equal(s, "M0.0 100.0 L10.0 50.0 L20.0 0.0 M40.0 80.0 M60.0 87.5");
	assert_int_equal(drawn, 5);
	free(s);
	s = path_of(xs, ys, 0, &drawn);
	assert_string_equal(s, "");
	assert_int_equal(drawn, 0);
	free(s);
}

static char *render(const struct plot *p, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*ret = plot_render(f, p);
	fclose(f);
	return buf;
}

static void test_render(void **state)
{
	double x[] = { 0, 1, 2 }, y[] = { 1, 4, 2 }, lone_x[] = { 1 }, lone_y[] = { 3 },
	       nan_y[] = { NAN, NAN, NAN };
	struct plot_series series[] = {
		{ x, y, 3, 0, PLOT_SOLID, "<b>a</b>" },
		{ x, y, 3, 1, PLOT_DASHED, "b" },
		{ lone_x, lone_y, 1, 2, PLOT_SOLID, "c" },
	};
	struct plot_legend legend[] = { { "<script>x</script>", 0, PLOT_SOLID },
		                        { "dashed", PLOT_NEUTRAL, PLOT_DASHED } };
	struct plot p = {
		.id = "t",
		.title = "T & U",
		.x = { .title = "time (s)" },
		.y = { .title = "rate (msg/s)" },
		.series = series,
		.n_series = 3,
		.legend = legend,
		.n_legend = 2,
	};
	int r;
	char *s = render(&p, &r);

	assert_int_equal(r, 0);
	assert_true(strncmp(s, "<svg class=\"chart\" data-chart=\"t\" ", 34) == 0);
	assert_non_null(strstr(s, "<title>T &amp; U</title>"));
	assert_non_null(strstr(s, "<g class=\"axis x\">"));
	assert_non_null(strstr(s, "<g class=\"axis y\">"));
	assert_non_null(strstr(s, "class=\"axis-title\""));
	assert_non_null(strstr(s, ">time (s)</text>"));
	assert_non_null(strstr(s, ">rate (msg/s)</text>"));
	assert_non_null(strstr(s, "<g class=\"legend\">"));
	assert_non_null(strstr(s, "&lt;script&gt;x&lt;/script&gt;"));
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "<b>"));
	assert_non_null(strstr(s, "stroke-dasharray=\"7 4\""));
	assert_non_null(strstr(s, "<circle ")); /* the lone point */
	assert_non_null(strstr(s, "#0072B2"));
	assert_non_null(strstr(s, "</svg>\n"));
	/* y ticks 0..4 by 1 (nice), x 0..2 */
	assert_non_null(strstr(s, ">4</text>"));
	free(s);

	/* Nothing to draw: nothing written. */
	series[0].y = nan_y;
	p.n_series = 1;
	s = render(&p, &r);
	assert_int_equal(r, -ENODATA);
	assert_string_equal(s, "");
	free(s);
	p.n_series = 0;
	s = render(&p, &r);
	assert_int_equal(r, -ENODATA);
	free(s);
}

static void test_colours(void **state)
{
	assert_string_equal(plot_colour(0), "#0072B2");
	assert_string_equal(plot_colour(PLOT_NEUTRAL), "#444444");
	assert_string_equal(plot_colour(PLOT_COLOURS), plot_colour(0));
	assert_string_equal(plot_colour(PLOT_COLOURS + 1), plot_colour(1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale),   cmocka_unit_test(test_ticks),
		cmocka_unit_test(test_path),    cmocka_unit_test(test_render),
		cmocka_unit_test(test_colours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
