/* SPDX-License-Identifier: MIT */
/*
 * Statistics for comparing servers over repeated trials (wsbenchctl compare
 * --repeat N): a summary of one server's trials of one figure (median and a
 * 95% interval), and the ratio of two servers' figures with its 95%
 * interval and a verdict, corrected for the several figures compared
 * between one pair (Holm). The method and its assumptions are explained in
 * docs/methodology.md; STATS_METHOD names it in reports.
 *
 * Figures are positive and noisy multiplicatively (rates, latencies, CPU
 * per echo), so the work is done on their logarithms. Counts that may be
 * zero (errors) are compared as log(1 + x): set @count.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* For reports: how intervals and verdicts were computed. */
extern const char STATS_METHOD[];

enum stats_better {
	STATS_HIGHER_IS_BETTER,
	STATS_LOWER_IS_BETTER,
};

enum stats_verdict {
	STATS_SAME,   /* no significant difference at this number of trials */
	STATS_BETTER, /* significantly better than the baseline */
	STATS_WORSE,
	STATS_UNDECIDED, /* too few trials (fewer than 2 on a side) to say */
};

const char *stats_verdict_to_string(enum stats_verdict v); /* "same", "better", ... */

/* One server's trials of one figure. */
struct stats_summary {
	size_t n;
	double median;
	double ci_low, ci_high; /* 95%; both = median when n < 2 */
	double min, max;
};

/**
 * stats_summarize() - summary of @x[0..@n).
 * Return: 0, or -EINVAL when @n is 0 or a value is negative (or not finite),
 * or zero without @count.
 */
int stats_summarize(const double *x, size_t n, bool count, struct stats_summary *ret);

/* One figure of a server against the baseline. */
struct stats_ratio {
	double ratio;               /* b over a (of the geometric means; of 1+x for counts) */
	double ci_low, ci_high;     /* 95% interval of the ratio, not corrected for multiplicity */
	double p_value;             /* two-sided, for "no difference"; 1 when undecided */
	enum stats_verdict verdict; /* set by stats_decide() */
};

/**
 * stats_compare() - the ratio of @b (the server) to @a (the baseline).
 * Sets @ret's verdict to STATS_UNDECIDED when @na or @nb is below 2 (the
 * interval is then the ratio itself), else to STATS_SAME until
 * stats_decide() has seen all the figures of the pair.
 * Return: 0, or -EINVAL as stats_summarize().
 */
int stats_compare(const double *a, size_t na, const double *b, size_t nb, bool count,
                  struct stats_ratio *ret);

/**
 * stats_decide() - the verdicts of the @m figures compared between one pair,
 * with Holm's correction so that the chance of any false "better" or
 * "worse" among them is at most @alpha (0.05). @better[i] says which
 * direction is better for figure i.
 */
void stats_decide(struct stats_ratio *r, const enum stats_better *better, size_t m, double alpha);

/* Student's t distribution: CDF and quantile (0 < p < 1), df > 0 (not
 * necessarily whole: Welch). */
double stats_t_cdf(double t, double df);
double stats_t_quantile(double p, double df);
