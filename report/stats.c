/* SPDX-License-Identifier: MIT */
/*
 * Statistics for repeated trials (see stats.h and docs/methodology.md): the
 * per-server summary, Welch's t-test on log values for one figure of two
 * servers, Holm's step-down correction across the figures of one pair, and
 * Student's t distribution they rest on, computed here from the regularized
 * incomplete beta function so that the report library needs nothing beyond
 * libm.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "stats.h"

const char STATS_METHOD[] =
    "Welch t-test on log values, 95% intervals, Holm-corrected across figures";

/* The continued fraction converges in O(sqrt(max(a, b))) steps: about 30 at
 * df = 1000, so the bound is only a guard against a non-finite argument. */
#define BETACF_MAX_ITER 1000
#define BETACF_EPS      1e-15
#define BETACF_TINY     1e-300

const char *stats_verdict_to_string(enum stats_verdict v)
{
	switch (v) {
	case STATS_SAME:
		return "same";
	case STATS_BETTER:
		return "better";
	case STATS_WORSE:
		return "worse";
	case STATS_UNDECIDED:
		return "undecided";
	}
	return "undecided";
}

/* Lentz's method keeps each partial denominator away from zero. */
static double lentz_guard(double v)
{
	return fabs(v) < BETACF_TINY ? BETACF_TINY : v;
}

/* The continued fraction of I_x(a, b) (Numerical Recipes, betacf), evaluated
 * by the modified Lentz method. */
static double betacf(double a, double b, double x)
{
	double qab = a + b, qap = a + 1, qam = a - 1;
	double c = 1, d = 1 / lentz_guard(1 - qab * x / qap);
	double h = d;

	for (int m = 1; m <= BETACF_MAX_ITER; m++) {
		int m2 = 2 * m;
		double aa, del;

		/* The even step. */
		aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1 / lentz_guard(1 + aa * d);
		c = lentz_guard(1 + aa / c);
		h *= d * c;

		/* The odd step. */
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1 / lentz_guard(1 + aa * d);
		c = lentz_guard(1 + aa / c);
		del = d * c;
		h *= del;
		if (fabs(del - 1) < BETACF_EPS)
			break;
	}
	return h;
}

/*
 * The regularized incomplete beta function I_x(a, b), with y = 1 - x passed
 * separately: the caller can often compute it without the cancellation of
 * 1 - x, which is what keeps small tail probabilities accurate.
 */
static double ibeta(double a, double b, double x, double y)
{
	double front;

	if (x <= 0)
		return 0;
	if (y <= 0)
		return 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(y));
	/* The fraction converges fast only below the mean of the beta
	 * distribution; above it, use the symmetry I_x(a, b) = 1 - I_y(b, a). */
	if (x < (a + 1) / (a + b + 2))
		return front * betacf(a, b, x) / a;
	return 1 - front * betacf(b, a, y) / b;
}

/* P(|T| > |t|) for T with @df degrees of freedom: I_{df/(df+t²)}(df/2, 1/2). */
static double t_two_sided(double t, double df)
{
	double t2 = t * t;

	if (isnan(t) || isnan(df) || df <= 0)
		return NAN;
	/* Written so that neither t² = ∞ nor t = 0 produces ∞/∞ or 0/0. */
	return ibeta(df / 2, 0.5, df / (df + t2), isinf(t2) ? 1 : t2 / (df + t2));
}

static double t_pdf(double t, double df)
{
	return exp(lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * log(df * M_PI) -
	           (df + 1) / 2 * log1p(t * t / df));
}

double stats_t_cdf(double t, double df)
{
	double tail = t_two_sided(t, df);

	return t > 0 ? 1 - tail / 2 : tail / 2;
}

/* The t > 0 with P(T > t) = @q, 0 < q < 1/2: Newton's method on the tail,
 * kept inside a bracket that bisection shrinks whenever a step leaves it. */
static double t_upper_quantile(double q, double df)
{
	double target = 2 * q, lo = 0, hi = 1, t;

	while (t_two_sided(hi, df) > target) {
		lo = hi;
		hi *= 2;
		if (isinf(hi))
			return INFINITY;
	}
	t = (lo + hi) / 2;
	for (int i = 0; i < 200; i++) {
		double f = t_two_sided(t, df) - target, next;

		if (f == 0)
			return t;
		if (f > 0)
			lo = t;
		else
			hi = t;
		/* d/dt P(|T| > t) = -2 pdf(t). */
		next = t + f / (2 * t_pdf(t, df));
		if (!(next > lo && next < hi))
			next = (lo + hi) / 2;
		if (fabs(next - t) <= 1e-14 * fmax(1, next) || hi - lo <= 1e-14 * fmax(1, hi))
			return next;
		t = next;
	}
	return t;
}

double stats_t_quantile(double p, double df)
{
	if (!(p > 0 && p < 1) || !(df > 0))
		return NAN;
	if (p == 0.5)
		return 0;
	if (p < 0.5)
		return -t_upper_quantile(p, df);
	return t_upper_quantile(1 - p, df);
}

/* The mean and sample variance of the log values of one side. */
struct log_moments {
	double mean;
	double var; /* 0 when n < 2 */
};

static bool value_valid(double x, bool count)
{
	return isfinite(x) && x >= 0 && (count || x > 0);
}

static double to_log(double x, bool count)
{
	return count ? log1p(x) : log(x);
}

/*
 * Deviations are taken from the first log value before averaging, so that
 * identical values give a variance of exactly 0 (and not 1e-33 from the
 * rounding of the mean): the zero-variance cases of stats_compare() depend on
 * it.
 */
static int log_moments(const double *x, size_t n, bool count, struct log_moments *ret)
{
	double y0, sum = 0, ss = 0, dmean;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!value_valid(x[i], count))
			return -EINVAL;

	y0 = to_log(x[0], count);
	for (size_t i = 0; i < n; i++)
		sum += to_log(x[i], count) - y0;
	dmean = sum / n;
	for (size_t i = 0; i < n; i++) {
		double d = to_log(x[i], count) - y0 - dmean;

		ss += d * d;
	}
	ret->mean = y0 + dmean;
	ret->var = n > 1 ? ss / (n - 1) : 0;
	return 0;
}

/* The k-th smallest of @x (0-based). Quadratic, but n is a number of trials
 * (3..20), and it needs neither a copy nor an allocation that could fail. */
static double kth_smallest(const double *x, size_t n, size_t k)
{
	for (size_t i = 0; i < n; i++) {
		size_t less = 0, not_greater = 0;

		for (size_t j = 0; j < n; j++) {
			less += x[j] < x[i];
			not_greater += x[j] <= x[i];
		}
		if (less <= k && k < not_greater)
			return x[i];
	}
	return NAN; /* not reached: the values are finite */
}

static double median(const double *x, size_t n)
{
	if (n % 2)
		return kth_smallest(x, n, n / 2);
	return (kth_smallest(x, n, n / 2 - 1) + kth_smallest(x, n, n / 2)) / 2;
}

/* Back from the log scale; a count's interval cannot go below zero even where
 * that of 1 + x goes below one. */
static double from_log(double y, bool count)
{
	return count ? fmax(0, expm1(y)) : exp(y);
}

/*
 * The interval is the t-interval of the geometric mean (of 1 + x for counts),
 * not of the median: a distribution-free interval for the median from order
 * statistics reaches 95% only from n = 6 on, and --repeat is typically 5.
 */
int stats_summarize(const double *x, size_t n, bool count, struct stats_summary *ret)
{
	struct log_moments lm;
	double h;
	int r;

	r = log_moments(x, n, count, &lm);
	if (r < 0)
		return r;

	*ret = (struct stats_summary){
		.n = n,
		.median = median(x, n),
		.min = kth_smallest(x, n, 0),
		.max = kth_smallest(x, n, n - 1),
	};
	if (n < 2) {
		ret->ci_low = ret->ci_high = ret->median;
		return 0;
	}
	h = stats_t_quantile(0.975, n - 1) * sqrt(lm.var / n);
	ret->ci_low = from_log(lm.mean - h, count);
	ret->ci_high = from_log(lm.mean + h, count);
	return 0;
}

/*
 * Welch–Satterthwaite degrees of freedom, from the variances of the two
 * means; normalised by their sum first so that neither the squares nor their
 * quotient can underflow or overflow.
 */
static double welch_df(double va, size_t na, double vb, size_t nb)
{
	double wa = va / (va + vb), wb = vb / (va + vb);

	return 1 / (wa * wa / (na - 1) + wb * wb / (nb - 1));
}

int stats_compare(const double *a, size_t na, const double *b, size_t nb, bool count,
                  struct stats_ratio *ret)
{
	struct log_moments la, lb;
	double diff, va, vb, se, df, h;
	int r;

	r = log_moments(a, na, count, &la);
	if (r < 0)
		return r;
	r = log_moments(b, nb, count, &lb);
	if (r < 0)
		return r;

	diff = lb.mean - la.mean;
	*ret = (struct stats_ratio){
		.ratio = exp(diff),
		.ci_low = exp(diff),
		.ci_high = exp(diff),
		.p_value = 1,
		.verdict = STATS_SAME,
	};

	/* One trial gives no variance: the ratio is reported, but nothing can
	 * be said about it. p stays 1 (no evidence) and stats_decide() leaves
	 * the figure alone. */
	if (na < 2 || nb < 2) {
		ret->verdict = STATS_UNDECIDED;
		return 0;
	}

	va = la.var / na;
	vb = lb.var / nb;
	/* Both sides identical within themselves (all errors 0, say): the
	 * t statistic is 0/0. Equal means are the same (p = 1, the ratio 1);
	 * different ones are a deterministic difference (p = 0), with the
	 * interval collapsed on the ratio. */
	if (va == 0 && vb == 0) {
		ret->p_value = diff == 0 ? 1 : 0;
		return 0;
	}

	se = sqrt(va + vb);
	df = welch_df(va, na, vb, nb);
	h = stats_t_quantile(0.975, df) * se;
	ret->ci_low = exp(diff - h);
	ret->ci_high = exp(diff + h);
	ret->p_value = t_two_sided(diff / se, df);
	return 0;
}

/* The verdict of a rejected "no difference": by the side the ratio is on. */
static enum stats_verdict direction(double ratio, enum stats_better better)
{
	bool higher;

	if (ratio == 1)
		return STATS_SAME;
	higher = ratio > 1;
	return higher == (better == STATS_HIGHER_IS_BETTER) ? STATS_BETTER : STATS_WORSE;
}

/* Holm's order: ascending p, ties by position, so that the order is total. */
static bool holm_before(const struct stats_ratio *r, size_t i, size_t j)
{
	return r[i].p_value < r[j].p_value || (r[i].p_value == r[j].p_value && i < j);
}

/* The tested figure that follows @last in Holm's order (the first when @last
 * is SIZE_MAX), or SIZE_MAX. A selection rather than a sort: m is the number
 * of figures (about 8), and the caller's array keeps its order. */
static size_t holm_next(const struct stats_ratio *r, size_t m, size_t last)
{
	size_t next = SIZE_MAX;

	for (size_t i = 0; i < m; i++) {
		if (r[i].verdict == STATS_UNDECIDED)
			continue;
		if (last != SIZE_MAX && !holm_before(r, last, i))
			continue;
		if (next == SIZE_MAX || holm_before(r, i, next))
			next = i;
	}
	return next;
}

/*
 * Holm–Bonferroni: the k-th smallest of the m p-values (k from 1) is compared
 * with alpha / (m - k + 1), and the first that fails stops it, leaving it and
 * every larger one "same". The chance of any false verdict among the m is at
 * most alpha whatever the dependence between the figures. Undecided figures
 * were not tested, so they do not count in m.
 */
void stats_decide(struct stats_ratio *r, const enum stats_better *better, size_t m, double alpha)
{
	size_t tested = 0, last = SIZE_MAX;

	for (size_t i = 0; i < m; i++)
		if (r[i].verdict != STATS_UNDECIDED) {
			r[i].verdict = STATS_SAME;
			tested++;
		}

	for (size_t k = 1; k <= tested; k++) {
		size_t i = holm_next(r, m, last);

		/* Written as !(p <= …) so that a NaN p rejects nothing. */
		if (i == SIZE_MAX || !(r[i].p_value <= alpha / (tested - k + 1)))
			break;
		r[i].verdict = direction(r[i].ratio, better[i]);
		last = i;
	}
}
