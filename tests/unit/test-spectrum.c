/* SPDX-License-Identifier: MIT */
/* Unit tests for report/spectrum.c: the percentile axis and the curve. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "histogram.h"
#include "spectrum.h"

static void test_axis(void **state)
{
	assert_true(fabs(spectrum_x(0)) < 1e-12);
	assert_true(fabs(spectrum_x(90) - 1) < 1e-12);
	assert_true(fabs(spectrum_x(99) - 2) < 1e-12);
	assert_true(fabs(spectrum_x(99.999) - 5) < 1e-9);
	assert_true(fabs(spectrum_x(50) - log10(2)) < 1e-12);
	assert_true(fabs(spectrum_percentile(3) - 99.9) < 1e-12);
}

/* The curve's value at @pct, which must be one of its points. */
static double value_at(const double *xs, const double *ys, size_t n, double pct)
{
	for (size_t i = 0; i < n; i++)
		if (fabs(xs[i] - spectrum_x(pct)) < 1e-12)
			return ys[i];
	fail_msg("no point at %g %%", pct);
	return NAN;
}

static void test_curve(void **state)
{
	struct histogram *h = malloc(sizeof(*h));
	double xs[SPECTRUM_MAX_POINTS], ys[SPECTRUM_MAX_POINTS];
	static const double named[] = { 50, 90, 99, 99.9, 99.99 };
	size_t n;

	histogram_reset(h);
	assert_int_equal(spectrum_compute(h, xs, ys), 0);

	for (uint64_t v = 1; v <= 1000000; v++)
		histogram_record(h, v);
	n = spectrum_compute(h, xs, ys);
	assert_true(n > 500 && n <= SPECTRUM_MAX_POINTS);
	/* Through the report's own figures, exactly. */
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		assert_true(value_at(xs, ys, n, named[i]) ==
		            (double)histogram_percentile(h, named[i]) / 1000.0);
	for (size_t i = 1; i < n; i++) {
		assert_true(xs[i] >= xs[i - 1]);
		assert_true(ys[i] >= ys[i - 1]);
	}
	assert_true(xs[0] == 0 && ys[0] == 0.001); /* the minimum, 1 µs */
	/* A million values resolve 99.999 %: the curve ends there, not at the max. */
	assert_true(fabs(xs[n - 1] - 5) < 1e-9);
	assert_true(xs[n - 2] < xs[n - 1]);
	free(h);
}

static void test_short_curve_ends_at_the_max(void **state)
{
	struct histogram *h = malloc(sizeof(*h));
	double xs[SPECTRUM_MAX_POINTS], ys[SPECTRUM_MAX_POINTS];
	size_t n;

	histogram_reset(h);
	for (uint64_t v = 1; v <= 1000; v++)
		histogram_record(h, v * 10);
	n = spectrum_compute(h, xs, ys);
	/* 1000 values resolve 99.9 % (x = 3), then the maximum. */
	assert_true(fabs(xs[n - 1] - 3) < 1e-9);
	assert_true(ys[n - 1] == 10.0);
	assert_true(fabs(xs[n - 2] - 3) < 1e-9);
	for (size_t i = 0; i < n; i++)
		assert_true(xs[i] <= 3 + 1e-9);

	histogram_reset(h);
	histogram_record(h, 1500);
	n = spectrum_compute(h, xs, ys);
	assert_int_equal(n, 2);
	assert_true(xs[0] == 0 && xs[1] == 0 && ys[0] == 1.5 && ys[1] == 1.5);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_axis),
		cmocka_unit_test(test_curve),
		cmocka_unit_test(test_short_curve_ends_at_the_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
