/* SPDX-License-Identifier: MIT */
/* The latency percentile spectrum (see spectrum.h). */
#include <math.h>
#include <stdlib.h>

#include "histogram.h"
#include "macro.h"
#include "spectrum.h"

double spectrum_x(double pct)
{
	return -log10(1.0 - pct / 100.0);
}

double spectrum_percentile(double x)
{
	return 100.0 - 100.0 * pow(10, -x);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

size_t spectrum_compute(const struct histogram *h, double *xs, double *ys)
{
	static const double named[] = { 50, 90, 99, 99.9, 99.99, 99.999 };
	double pcts[SPECTRUM_MAX_POINTS], x_end, pct_end;
	size_t n = 0, out = 0;

	if (h->total == 0)
		return 0;
	x_end = fmin(SPECTRUM_DECADES, log10((double)h->total));
	pct_end = h->total > 100000 ? 99.999 : 100.0 - 100.0 / (double)h->total;
	for (size_t k = 0; (double)k * SPECTRUM_STEP < x_end - 1e-9; k++)
		pcts[n++] = spectrum_percentile((double)k * SPECTRUM_STEP);
	for (size_t i = 0; i < ELEMENTSOF(named); i++)
		if (named[i] < pct_end)
			pcts[n++] = named[i];
	pcts[n++] = pct_end;
	qsort(pcts, n, sizeof(pcts[0]), cmp_double);
	for (size_t i = 0; i < n; i++) {
		if (out > 0 && pcts[i] == pcts[i - 1])
			continue;
		xs[out] = i + 1 == n ? x_end : spectrum_x(pcts[i]);
		ys[out] = (double)histogram_percentile(h, pcts[i]) / 1000.0;
		out++;
	}
	if (h->total <= 100000) {
		xs[out] = x_end;
		ys[out] = (double)h->max / 1000.0;
		out++;
	}
	return out;
}
