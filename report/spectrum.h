/* SPDX-License-Identifier: MIT */
/*
 * The latency percentile spectrum of a histogram: latency against
 * percentile p, with p on the axis HdrHistogram's plots use, x =
 * log10(1 / (1 - p)): 0 % at 0, 90 % at 1, 99 % at 2 ... 99.999 % at 5, so
 * each further "nine" gets the same room as the body of the distribution.
 */
#pragma once

#include <stddef.h>

struct histogram;

#define SPECTRUM_DECADES 5    /* the axis ends at 99.999 % */
#define SPECTRUM_STEP    0.01 /* decades between samples */
#define SPECTRUM_MAX_POINTS                                                                        \
	((size_t)(SPECTRUM_DECADES / SPECTRUM_STEP) + 16) /* grid, named percentiles, the max */

/* x for a percentile @pct in % (< 100). */
double spectrum_x(double pct);

/* The percentile in % at @x. */
double spectrum_percentile(double x);

/**
 * spectrum_compute() - the curve of @h in ms: histogram_percentile() every
 * SPECTRUM_STEP and at 50, 90, 99, 99.9, 99.99 and 99.999 % exactly (so the
 * curve passes through the report's own figures), up to the last percentile
 * the count can resolve, 1 - 1/count (at most 99.999 %). A curve that ends
 * before 99.999 % ends with the maximum, drawn at 1 - 1/count.
 * @xs, @ys: room for SPECTRUM_MAX_POINTS each.
 * Return: the number of points; 0 for an empty histogram.
 */
size_t spectrum_compute(const struct histogram *h, double *xs, double *ys);
