/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for report/stats.c: known answers for the t distribution, Welch,
 * the median and Holm; simulations with a fixed seed of the false-verdict
 * rate (A/A) and of the power; and the edge cases. The simulations also print
 * the table of docs/methodology.md ("how many trials a difference needs").
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stats.h"

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

static void assert_near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.12g, want %.12g (tolerance %g)", got, want, tol);
}

static void test_verdict_to_string(void **state)
{
	assert_string_equal(stats_verdict_to_string(STATS_SAME), "same");
	assert_string_equal(stats_verdict_to_string(STATS_BETTER), "better");
	assert_string_equal(stats_verdict_to_string(STATS_WORSE), "worse");
	assert_string_equal(stats_verdict_to_string(STATS_UNDECIDED), "undecided");
	assert_true(strstr(STATS_METHOD, "Welch") && strstr(STATS_METHOD, "Holm"));
}

/* The 97.5% quantiles of the usual tables. */
static void test_t_quantile_tables(void **state)
{
	assert_near(stats_t_quantile(0.975, 1), 12.706205, 1e-6);
	assert_near(stats_t_quantile(0.975, 4), 2.776445, 1e-6);
	assert_near(stats_t_quantile(0.975, 8), 2.306004, 1e-6);
	assert_near(stats_t_quantile(0.975, 30), 2.042272, 1e-6);
	assert_near(stats_t_quantile(0.975, 1000), 1.962339, 1e-6);
	assert_near(stats_t_quantile(0.025, 4), -2.776445, 1e-6);
	assert_true(stats_t_quantile(0.5, 3) == 0);
	assert_true(isnan(stats_t_quantile(0, 3)));
	assert_true(isnan(stats_t_quantile(1, 3)));
	assert_true(isnan(stats_t_quantile(0.9, 0)));
}

static double t_pdf(double t, double df)
{
	return exp(lgamma((df + 1) / 2) - lgamma(df / 2)) / sqrt(df * M_PI) *
	       pow(1 + t * t / df, -(df + 1) / 2);
}

/* ∫₀^q pdf by Simpson's rule: independent of the incomplete beta function. */
static double t_integral(double q, double df)
{
	const int n = 20000;
	double h = q / n, s = t_pdf(0, df) + t_pdf(q, df);

	for (int i = 1; i < n; i++)
		s += (i % 2 ? 4 : 2) * t_pdf(i * h, df);
	return s * h / 3;
}

/* A fractional df, as Welch gives: 3.574655 (mpmath: 3.574654842), checked
 * here by integrating the density, which gives 0.975 - 0.5. */
static void test_t_quantile_fractional_df(void **state)
{
	double q = stats_t_quantile(0.975, 2.5);

	assert_near(q, 3.574654842, 1e-6);
	assert_near(t_integral(q, 2.5), 0.475, 1e-9);
	assert_near(t_integral(stats_t_quantile(0.9, 7.3), 7.3), 0.4, 1e-9);
}

/* CDF against closed forms (df 1: Cauchy; df 2) and mpmath's betainc. */
static void test_t_cdf(void **state)
{
	for (double t = -50; t <= 50; t += 0.37) {
		assert_near(stats_t_cdf(t, 1), 0.5 + atan(t) / M_PI, 1e-12);
		assert_near(stats_t_cdf(t, 2), 0.5 + t / (2 * sqrt(2 + t * t)), 1e-12);
	}
	assert_true(stats_t_cdf(0, 5) == 0.5);
	assert_near(stats_t_cdf(1.5, 2.5), 0.876081773456852, 1e-12);
	assert_near(stats_t_cdf(-0.7, 7.3), 0.252808570093129, 1e-12);
	assert_near(stats_t_cdf(2.0, 1000), 0.977114826753374, 1e-12);
	assert_near(stats_t_cdf(3.0, 4), 0.980029015964141, 1e-12);
	assert_near(stats_t_cdf(10, 3), 0.998935800470793, 1e-12);
	assert_true(stats_t_cdf(INFINITY, 3) == 1);
	assert_true(stats_t_cdf(-INFINITY, 3) == 0);
}

/* The quantile inverts the CDF over the range Welch and --repeat use. */
static void test_t_round_trip(void **state)
{
	static const double dfs[] = { 1, 1.5, 2, 2.5, 3, 4.7, 8, 19, 50, 100, 333.3, 1000 };
	static const double ps[] = { 0.0005, 0.01, 0.2, 0.5, 0.6, 0.9, 0.975, 0.995, 0.9995 };

	for (size_t i = 0; i < ARRAY_SIZE(dfs); i++)
		for (size_t j = 0; j < ARRAY_SIZE(ps); j++)
			assert_near(stats_t_cdf(stats_t_quantile(ps[j], dfs[i]), dfs[i]), ps[j],
			            1e-10);
}

/*
 * By hand, on the log scale: log a = {0, 1, 2}, log b = {2, 3, 4, 5, 6}.
 *   means 1 and 4, diff = 3, ratio = e³ = 20.085537
 *   variances s²a = (1 + 0 + 1) / 2 = 1, s²b = (4 + 1 + 0 + 1 + 4) / 4 = 2.5
 *   va = 1/3, vb = 2.5/5 = 1/2, se² = 5/6, se = 0.912871, t = 3/se = 3.286335
 *   df = (5/6)² / ((1/3)²/2 + (1/2)²/4) = (25/36) / (17/144) = 100/17 = 5.882353
 *   t_{0.975, 100/17} = 2.458824 (mpmath), so the interval is
 *   exp(3 ± 2.458824 · 0.912871) = [2.128487, 189.537839]
 *   p = 2 (1 - F(3.286335; 100/17)) = 0.017177851 (mpmath)
 */
static void test_welch_by_hand(void **state)
{
	const double a[] = { 1, M_E, M_E * M_E };
	const double b[] = { exp(2), exp(3), exp(4), exp(5), exp(6) };
	struct stats_ratio r;

	assert_int_equal(stats_compare(a, 3, b, 5, false, &r), 0);
	assert_near(r.ratio, exp(3), 1e-9);
	assert_near(r.ci_low, 2.12848682284353, 1e-7);
	assert_near(r.ci_high, 189.537839352831, 1e-5);
	assert_near(r.p_value, 0.0171778506671691, 1e-9);
	assert_int_equal(r.verdict, STATS_SAME);

	/* Swapped: the reciprocal ratio and interval, the same p. */
	assert_int_equal(stats_compare(b, 5, a, 3, false, &r), 0);
	assert_near(r.ratio, exp(-3), 1e-12);
	assert_near(r.ci_low, 1 / 189.537839352831, 1e-9);
	assert_near(r.ci_high, 1 / 2.12848682284353, 1e-9);
	assert_near(r.p_value, 0.0171778506671691, 1e-9);
}

static void test_summarize(void **state)
{
	const double odd[] = { 3, 1, 2 }, even[] = { 4, 1, 3, 2 }, ties[] = { 5, 5, 5, 1 };
	const double logs[] = { 1, M_E, M_E * M_E };
	const double zeros[] = { 0, 0, 0 };
	struct stats_summary s;

	assert_int_equal(stats_summarize(odd, 3, false, &s), 0);
	assert_true(s.n == 3 && s.median == 2 && s.min == 1 && s.max == 3);
	assert_int_equal(stats_summarize(even, 4, false, &s), 0);
	assert_true(s.median == 2.5 && s.min == 1 && s.max == 4);
	assert_int_equal(stats_summarize(ties, 4, false, &s), 0);
	assert_true(s.median == 5 && s.min == 1 && s.max == 5);

	/* The geometric mean's: exp(1 ± t_{0.975,2} · 1/√3), t = 4.302653. */
	assert_int_equal(stats_summarize(logs, 3, false, &s), 0);
	assert_true(s.median == M_E);
	assert_near(s.ci_low, 0.226697735214457, 1e-9);
	assert_near(s.ci_high, 32.5943092988582, 1e-7);

	/* Counts: all zero has a zero-width interval at zero; one trial has
	 * the value itself. */
	assert_int_equal(stats_summarize(zeros, 3, true, &s), 0);
	assert_true(s.median == 0 && s.ci_low == 0 && s.ci_high == 0);
	assert_int_equal(stats_summarize(odd, 1, false, &s), 0);
	assert_true(s.n == 1 && s.median == 3 && s.ci_low == 3 && s.ci_high == 3);
}

/* Counts: the interval of 1 + x, brought back, never below zero. */
static void test_summarize_counts(void **state)
{
	const double x[] = { 0, 3, 0, 1 };
	struct stats_summary s;

	assert_int_equal(stats_summarize(x, 4, true, &s), 0);
	assert_true(s.median == 0.5 && s.min == 0 && s.max == 3);
	assert_true(s.ci_low >= 0 && s.ci_low < s.ci_high);
}

static void set_ratio(struct stats_ratio *r, double p, double ratio)
{
	*r = (struct stats_ratio){ .ratio = ratio,
		                   .ci_low = ratio,
		                   .ci_high = ratio,
		                   .p_value = p,
		                   .verdict = STATS_SAME };
}

static void test_holm(void **state)
{
	const enum stats_better better[] = { STATS_HIGHER_IS_BETTER, STATS_LOWER_IS_BETTER,
		                             STATS_LOWER_IS_BETTER, STATS_HIGHER_IS_BETTER,
		                             STATS_LOWER_IS_BETTER };
	struct stats_ratio r[5];

	/* m = 4: sorted 0.005 ≤ 0.05/4 and 0.01 ≤ 0.05/3 are rejected; 0.03 >
	 * 0.05/2 stops it, so 0.04 stays too. The undecided one (p = 1e-4 would
	 * pass) is not counted in m and stays undecided. */
	set_ratio(&r[0], 0.01, 1.5); /* higher, higher is better */
	set_ratio(&r[1], 0.04, 1.5);
	set_ratio(&r[2], 0.03, 0.5);
	set_ratio(&r[3], 0.005, 0.8); /* lower, higher is better */
	set_ratio(&r[4], 1e-4, 2);
	r[4].verdict = STATS_UNDECIDED;
	stats_decide(r, better, 5, 0.05);
	assert_int_equal(r[0].verdict, STATS_BETTER);
	assert_int_equal(r[1].verdict, STATS_SAME);
	assert_int_equal(r[2].verdict, STATS_SAME);
	assert_int_equal(r[3].verdict, STATS_WORSE);
	assert_int_equal(r[4].verdict, STATS_UNDECIDED);

	/* Where Holm gains on Bonferroni (0.05/4 = 0.0125 for all): 0.012 ≤
	 * 0.0125, 0.016 ≤ 0.0167, 0.024 ≤ 0.025, 0.04 ≤ 0.05, all rejected. */
	set_ratio(&r[0], 0.04, 0.9);
	set_ratio(&r[1], 0.016, 0.9); /* lower, lower is better */
	set_ratio(&r[2], 0.024, 1.1);
	set_ratio(&r[3], 0.012, 1.1);
	stats_decide(r, better, 4, 0.05);
	assert_int_equal(r[0].verdict, STATS_WORSE);
	assert_int_equal(r[1].verdict, STATS_BETTER);
	assert_int_equal(r[2].verdict, STATS_WORSE);
	assert_int_equal(r[3].verdict, STATS_BETTER);

	/* Stops at the first failure: 0.04 ≤ 0.05 would pass on its own. A
	 * second call starts over from the p-values. */
	set_ratio(&r[0], 0.001, 2);
	set_ratio(&r[1], 0.03, 2);
	set_ratio(&r[2], 0.04, 2);
	stats_decide(r, better, 3, 0.05);
	assert_int_equal(r[0].verdict, STATS_BETTER);
	assert_int_equal(r[1].verdict, STATS_SAME);
	assert_int_equal(r[2].verdict, STATS_SAME);
	r[0].p_value = 0.5;
	stats_decide(r, better, 3, 0.05);
	assert_int_equal(r[0].verdict, STATS_SAME);

	/* Ties in p keep every entry in the order exactly once. */
	set_ratio(&r[0], 0.01, 2);
	set_ratio(&r[1], 0.01, 2);
	set_ratio(&r[2], 0.01, 2);
	stats_decide(r, better, 3, 0.05);
	assert_int_equal(r[0].verdict, STATS_BETTER);
	assert_int_equal(r[1].verdict, STATS_WORSE);
	assert_int_equal(r[2].verdict, STATS_WORSE);
}

static void test_edge_cases(void **state)
{
	const double zeros[] = { 0, 0, 0, 0, 0 }, three[] = { 3, 3, 3 }, five[] = { 5, 5, 5 };
	const double one[] = { 7 }, some[] = { 1, 2, 3 };
	const enum stats_better higher[] = { STATS_HIGHER_IS_BETTER };
	struct stats_ratio r;

	/* No errors on either side: the same, exactly. */
	assert_int_equal(stats_compare(zeros, 5, zeros, 5, true, &r), 0);
	assert_true(r.ratio == 1 && r.ci_low == 1 && r.ci_high == 1 && r.p_value == 1);
	stats_decide(&r, higher, 1, 0.05);
	assert_int_equal(r.verdict, STATS_SAME);

	/* No variance, different means: a deterministic difference. */
	assert_int_equal(stats_compare(three, 3, five, 3, false, &r), 0);
	assert_near(r.ratio, 5.0 / 3, 1e-12);
	assert_true(r.ci_low == r.ratio && r.ci_high == r.ratio && r.p_value == 0);
	stats_decide(&r, higher, 1, 0.05);
	assert_int_equal(r.verdict, STATS_BETTER);

	/* Counts: errors 0 against 3 on every trial, the ratio of 1 + x. */
	assert_int_equal(stats_compare(zeros, 5, three, 3, true, &r), 0);
	assert_near(r.ratio, 4, 1e-12);
	assert_true(r.p_value == 0);

	/* One trial on a side: the ratio, but no verdict. */
	assert_int_equal(stats_compare(one, 1, some, 3, false, &r), 0);
	assert_int_equal(r.verdict, STATS_UNDECIDED);
	assert_near(r.ratio, cbrt(6) / 7, 1e-12);
	assert_true(r.ci_low == r.ratio && r.ci_high == r.ratio);
	stats_decide(&r, higher, 1, 0.05);
	assert_int_equal(r.verdict, STATS_UNDECIDED);
	assert_int_equal(stats_compare(some, 3, one, 1, false, &r), 0);
	assert_int_equal(r.verdict, STATS_UNDECIDED);
}

static void test_invalid(void **state)
{
	const double good[] = { 1, 2, 3 };
	const double bad[][3] = {
		{ 1, -1, 3 },
		{ 1, NAN, 3 },
		{ 1, INFINITY, 3 },
		{ 1, -0.5, 0 },
	};
	const double with_zero[] = { 1, 0, 3 };
	struct stats_summary s;
	struct stats_ratio r;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		for (int count = 0; count < 2; count++) {
			assert_int_equal(stats_summarize(bad[i], 3, count, &s), -EINVAL);
			assert_int_equal(stats_compare(bad[i], 3, good, 3, count, &r), -EINVAL);
			assert_int_equal(stats_compare(good, 3, bad[i], 3, count, &r), -EINVAL);
		}
	/* Zero is a count, not a rate or a latency. */
	assert_int_equal(stats_summarize(with_zero, 3, false, &s), -EINVAL);
	assert_int_equal(stats_compare(with_zero, 3, good, 3, false, &r), -EINVAL);
	assert_int_equal(stats_summarize(with_zero, 3, true, &s), 0);
	assert_int_equal(stats_compare(with_zero, 3, good, 3, true, &r), 0);
	/* No trials. */
	assert_int_equal(stats_summarize(good, 0, false, &s), -EINVAL);
	assert_int_equal(stats_compare(good, 0, good, 3, false, &r), -EINVAL);
	assert_int_equal(stats_compare(good, 3, good, 0, true, &r), -EINVAL);
}

/* The simulations: splitmix64, Box–Muller, lognormal noise of 15% CV. */

#define SIM_SEED        UINT64_C(0x5eed2024)
#define SIM_EXPERIMENTS 1000
#define SIM_FIGURES     8
#define SIM_MAX_TRIALS  20
#define SIM_CV          0.15

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* In (0, 1): never 0, whose log Box–Muller takes. */
static double uniform(uint64_t *s)
{
	return ((splitmix64(s) >> 11) + 0.5) * 0x1p-53;
}

static double normal(uint64_t *s)
{
	double u1 = uniform(s), u2 = uniform(s);

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static double lognormal(uint64_t *s, double median)
{
	/* The sigma of the log whose lognormal has this coefficient of
	 * variation: CV² = exp(sigma²) - 1. */
	double sigma = sqrt(log(1 + SIM_CV * SIM_CV));

	return median * exp(sigma * normal(s));
}

struct sim_result {
	double any_false; /* experiments with a verdict on a figure that does not differ */
	double found;     /* experiments where figure 0 (effect != 1) got the right verdict */
};

/*
 * @experiments pairs, each with @m figures of @n trials a side, figure 0 of
 * B being @effect times A's (higher is better: the right verdict is BETTER
 * for an effect above 1), the others equal.
 */
static struct sim_result simulate(uint64_t seed, size_t m, size_t n, double effect)
{
	enum stats_better better[SIM_FIGURES];
	struct stats_ratio r[SIM_FIGURES];
	double a[SIM_MAX_TRIALS], b[SIM_MAX_TRIALS];
	size_t any_false = 0, found = 0;
	uint64_t s = seed;

	assert_true(m <= SIM_FIGURES && n <= SIM_MAX_TRIALS);
	for (size_t i = 0; i < m; i++)
		better[i] = i % 2 ? STATS_LOWER_IS_BETTER : STATS_HIGHER_IS_BETTER;

	for (int e = 0; e < SIM_EXPERIMENTS; e++) {
		bool false_verdict = false;

		for (size_t f = 0; f < m; f++) {
			double scale = f == 0 ? effect : 1;

			for (size_t i = 0; i < n; i++) {
				a[i] = lognormal(&s, 100);
				b[i] = lognormal(&s, 100 * scale);
			}
			assert_int_equal(stats_compare(a, n, b, n, false, &r[f]), 0);
		}
		stats_decide(r, better, m, 0.05);
		for (size_t f = 0; f < m; f++) {
			bool differs = f == 0 && effect != 1;

			if (!differs && r[f].verdict != STATS_SAME)
				false_verdict = true;
		}
		any_false += false_verdict;
		if (effect != 1 && r[0].verdict == (effect > 1 ? STATS_BETTER : STATS_WORSE))
			found++;
	}
	return (struct sim_result){ .any_false = (double)any_false / SIM_EXPERIMENTS,
		                    .found = (double)found / SIM_EXPERIMENTS };
}

/* A/A: no difference anywhere, so every better/worse is false. Holm keeps
 * the chance of any among the 8 at 5%; the binomial error of 1000 trials of
 * p = 0.05 is 0.007, hence 0.065. */
static void test_simulation_false_verdicts(void **state)
{
	struct sim_result r8 = simulate(SIM_SEED, SIM_FIGURES, 5, 1);
	struct sim_result r1 = simulate(SIM_SEED + 1, 1, 5, 1);

	print_message("A/A, N=5, 15%% CV: any false verdict among 8 figures in %.1f%% of %d "
	              "experiments; with 1 figure in %.1f%%\n",
	              100 * r8.any_false, SIM_EXPERIMENTS, 100 * r1.any_false);
	assert_true(r8.any_false <= 0.065);
	assert_true(r1.any_false <= 0.065);
}

/* B = 2x A on one figure of 8: found in the right direction. */
static void test_simulation_power(void **state)
{
	struct sim_result r2 = simulate(SIM_SEED + 2, SIM_FIGURES, 5, 2);
	struct sim_result half = simulate(SIM_SEED + 3, SIM_FIGURES, 5, 0.5);
	struct sim_result r12_5 = simulate(SIM_SEED + 4, SIM_FIGURES, 5, 1.2);
	struct sim_result r12_10 = simulate(SIM_SEED + 5, SIM_FIGURES, 10, 1.2);

	print_message("2x on 1 of 8 figures, N=5: found in %.1f%% (0.5x: %.1f%%); false "
	              "verdicts on the other 7 in %.1f%%\n",
	              100 * r2.found, 100 * half.found, 100 * r2.any_false);
	print_message("1.2x on 1 of 8 figures: found in %.1f%% at N=5, %.1f%% at N=10\n",
	              100 * r12_5.found, 100 * r12_10.found);
	assert_true(r2.found >= 0.9);
	assert_true(half.found >= 0.9);
	assert_true(r2.any_false <= 0.065);
}

/* The table of docs/methodology.md: the chance that a difference of a given
 * size is found, against the number of trials, at 15% CV. Printed only. */
static void test_simulation_table(void **state)
{
	static const double effects[] = { 1.1, 1.2, 1.5, 2 };
	static const size_t trials[] = { 3, 5, 10, 20 };
	uint64_t seed = SIM_SEED + 100;

	print_message("found (1 of 8 figures, Holm; in brackets 1 figure), 15%% CV, %d "
	              "experiments:\n",
	              SIM_EXPERIMENTS);
	print_message("effect  N=3           N=5           N=10          N=20\n");
	for (size_t i = 0; i < ARRAY_SIZE(effects); i++) {
		char line[256];
		int len = snprintf(line, sizeof(line), "%.1fx  ", effects[i]);

		for (size_t j = 0; j < ARRAY_SIZE(trials); j++) {
			struct sim_result r8 = simulate(seed++, SIM_FIGURES, trials[j], effects[i]);
			struct sim_result r1 = simulate(seed++, 1, trials[j], effects[i]);

			len += snprintf(line + len, sizeof(line) - len, "  %5.1f%% (%5.1f%%)",
			                100 * r8.found, 100 * r1.found);
		}
		print_message("%s\n", line);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_to_string),
		cmocka_unit_test(test_t_quantile_tables),
		cmocka_unit_test(test_t_quantile_fractional_df),
		cmocka_unit_test(test_t_cdf),
		cmocka_unit_test(test_t_round_trip),
		cmocka_unit_test(test_welch_by_hand),
		cmocka_unit_test(test_summarize),
		cmocka_unit_test(test_summarize_counts),
		cmocka_unit_test(test_holm),
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_simulation_false_verdicts),
		cmocka_unit_test(test_simulation_power),
		cmocka_unit_test(test_simulation_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
