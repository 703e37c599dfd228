/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for daemon/noise.c: /proc/stat's "cpu" line, one interval's
 * arithmetic, the tracker (our processes starting and ending between
 * samples), the verdict and its reasons, and cpufreq read from a made-up
 * sysfs directory.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "noise.h"

#define MS  1000000LL
#define SEC 1000000000LL

static const struct noise_thresholds defaults = { .other_cpu_percent = 25,
	                                          .steal_percent = 5,
	                                          .freq_change_percent = 10 };

static void test_parse_cpu_line(void **state)
{
	struct cpu_times t;

	/* user nice system idle iowait irq softirq steal guest guest_nice */
	assert_int_equal(noise_parse_cpu_times("cpu  100 20 30 400 5 6 7 8 9 10\n"
	                                       "cpu0 50 10 15 200 2 3 3 4 4 5\n",
	                                       100, &t),
	                 0);
	assert_int_equal(t.busy_ns, 150 * 10 * MS); /* user + nice + system */
	assert_int_equal(t.steal_ns, 8 * 10 * MS);
	assert_int_equal(t.total_ns, 576 * 10 * MS); /* guest is inside user */

	/* Not the first line, and per-CPU lines are not the sum. */
	assert_int_equal(
	    noise_parse_cpu_times("intr 5\ncpu0 1 1 1 1 1 1 1 1\ncpu  1 2 3 4 5 6 7 8\n", 100, &t),
	    0);
	assert_int_equal(t.busy_ns, 6 * 10 * MS);

	/* A kernel before steal (2.6.11) or garbage. */
	assert_int_equal(noise_parse_cpu_times("cpu  1 2 3 4 5 6 7\n", 100, &t), -EINVAL);
	assert_int_equal(noise_parse_cpu_times("cpu0 1 2 3 4 5 6 7 8\n", 100, &t), -EINVAL);
	assert_int_equal(noise_parse_cpu_times("", 100, &t), -EINVAL);
	assert_int_equal(noise_parse_cpu_times("cpu  1 2 3 4 5 6 7 8\n", 0, &t), -EINVAL);
}

static void test_read_cpu_times(void **state)
{
	struct cpu_times t;

	assert_int_equal(noise_read_cpu_times(&t), 0);
	assert_true(t.total_ns >= t.busy_ns + t.steal_ns);
}

static void test_interval(void **state)
{
	struct cpu_times a = { .busy_ns = 10 * SEC, .steal_ns = 1 * SEC, .total_ns = 100 * SEC };
	struct cpu_times b = { .busy_ns = 13 * SEC,
		               .steal_ns = 1 * SEC + 200 * MS,
		               .total_ns = 104 * SEC };
	double other, steal;

	/* 3 s busy in 2 s of wall time (two cores), 1 s of it ours: the
	 * others used one core. */
	noise_interval(&a, &b, 1 * SEC, 2 * SEC, &other, &steal);
	assert_float_equal(other, 100.0, 1e-9);
	assert_float_equal(steal, 5.0, 1e-9); /* 0.2 of 4 s */

	/* Ours a tick ahead of the machine's count: 0, not negative. */
	noise_interval(&a, &b, 3 * SEC + 10 * MS, 2 * SEC, &other, &steal);
	assert_float_equal(other, 0.0, 0);

	/* Counters that went backwards (a hot-unplugged CPU): nothing. */
	noise_interval(&b, &a, 0, 2 * SEC, &other, &steal);
	assert_float_equal(other, 0.0, 0);
	assert_float_equal(steal, 0.0, 0);
}

/* The machine's counters after @busy_s seconds of busy time at @t_s. */
static struct cpu_times at(double busy_s, double t_s)
{
	return (struct cpu_times){ .busy_ns = (uint64_t)(busy_s * SEC),
		                   .total_ns = (uint64_t)(t_s * 2 * SEC) };
}

static void test_tracker(void **state)
{
	struct noise_tracker t = { 0 };
	struct cpu_times c;
	struct noise_proc server = { 100, 0 }, daemon = { 1, 5 * SEC };
	struct noise_proc procs[3];

	/* The first sample only sets the baseline. */
	c = at(50, 0);
	procs[0] = server;
	procs[1] = daemon;
	assert_int_equal(noise_tracker_add(&t, 1000, 0, &c, procs, 2, NAN), 0);
	assert_int_equal(t.n, 0);

	/* 1 s: 0.6 s busy, 0.3 s of it the server, 0.1 s the daemon; the load
	 * generator started within the interval and used 0.1 s. */
	c = at(50.6, 1);
	procs[0] = (struct noise_proc){ 100, 300 * MS };
	procs[1] = (struct noise_proc){ 1, 5 * SEC + 100 * MS };
	procs[2] = (struct noise_proc){ 200, 100 * MS };
	assert_int_equal(noise_tracker_add(&t, 2000, 1 * SEC, &c, procs, 3, NAN), 0);
	assert_int_equal(t.n, 1);
	assert_float_equal(t.v[0].other_cpu_percent, 10.0, 1e-6);
	assert_int_equal(t.v[0].wall_ns, 2000);

	/* The load generator ended within the next interval: what it used
	 * since it was last read is unknown, so the interval is left out. */
	c = at(52, 2);
	procs[0] = (struct noise_proc){ 100, 600 * MS };
	procs[1] = (struct noise_proc){ 1, 5 * SEC + 200 * MS };
	assert_int_equal(noise_tracker_add(&t, 3000, 2 * SEC, &c, procs, 2, NAN), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.skipped, 1);

	/* And from then on, without it: 1.5 s busy, 0.5 ours. */
	c = at(53.5, 3);
	procs[0] = (struct noise_proc){ 100, 1000 * MS };
	procs[1] = (struct noise_proc){ 1, 5 * SEC + 300 * MS };
	assert_int_equal(noise_tracker_add(&t, 4000, 3 * SEC, &c, procs, 2, NAN), 0);
	assert_int_equal(t.n, 2);
	assert_float_equal(t.v[1].other_cpu_percent, 100.0, 1e-6);
	assert_false(t.have_freq);

	noise_tracker_clear(&t);
	assert_null(t.v);
	assert_int_equal(t.n, 0);
	assert_false(t.have_prev);
}

/* A tracker with @n intervals of @other % and @steal %, frequencies @f. */
static void fill(struct noise_tracker *t, size_t n, const double *other, double steal,
                 const double *f)
{
	struct cpu_times c = { 0 };
	double busy = 0;

	*t = (struct noise_tracker){ 0 };
	noise_tracker_add(t, 0, 0, &c, NULL, 0, f ? f[0] : NAN);
	for (size_t i = 0; i < n; i++) {
		busy += other[i] / 100.0;
		c.busy_ns = (uint64_t)(busy * SEC + 0.5);
		c.steal_ns += (uint64_t)(steal / 100.0 * 2 * SEC + 0.5);
		c.total_ns += 2 * SEC;
		noise_tracker_add(t, (int64_t)(i + 1) * SEC, (int64_t)(i + 1) * SEC, &c, NULL, 0,
		                  f ? f[i + 1] : NAN);
	}
}

static void test_quiet(void **state)
{
	struct noise_tracker t;
	struct noise_summary s;
	const double other[] = { 3, 5, 4, 0 };

	fill(&t, 4, other, 0.5, NULL);
	noise_summarize(&t, &defaults, &s);
	assert_string_equal(s.verdict, NOISE_VERDICT_QUIET);
	assert_false(s.noisy);
	assert_int_equal(s.n_reasons, 0);
	assert_int_equal(s.intervals, 4);
	assert_float_equal(s.other_cpu_percent_mean, 3.0, 1e-6);
	assert_float_equal(s.other_cpu_percent_max, 5.0, 1e-6);
	assert_float_equal(s.steal_percent_mean, 0.5, 1e-6);
	assert_true(isnan(s.freq_change_percent)); /* not available: no invented 0 */
	noise_tracker_clear(&t);
}

static void test_noisy_other_processes(void **state)
{
	struct noise_tracker t;
	struct noise_summary s;
	const double other[] = { 80, 90, 91 };

	fill(&t, 3, other, 0, NULL);
	noise_summarize(&t, &defaults, &s);
	assert_string_equal(s.verdict, NOISE_VERDICT_NOISY);
	assert_true(s.noisy);
	assert_int_equal(s.n_reasons, 1);
	assert_string_equal(s.reasons[0], "other processes used 87% of a core (threshold 25%)");
	noise_tracker_clear(&t);

	/* At the threshold is still quiet: only above it is noisy. */
	const double edge[] = { 25, 25 };

	fill(&t, 2, edge, 0, NULL);
	noise_summarize(&t, &defaults, &s);
	assert_false(s.noisy);
	noise_tracker_clear(&t);
}

static void test_noisy_steal_and_frequency(void **state)
{
	struct noise_tracker t;
	struct noise_summary s;
	const double other[] = { 1, 1 };
	const double freq[] = { 3000000, 2400000, 2900000 };
	const struct noise_thresholds loose = { .other_cpu_percent = 300,
		                                .steal_percent = 50,
		                                .freq_change_percent = 25 };

	fill(&t, 2, other, 8, freq);
	noise_summarize(&t, &defaults, &s);
	assert_true(s.noisy);
	assert_int_equal(s.n_reasons, 2);
	assert_string_equal(s.reasons[0], "steal time was 8.0% of the CPU time (threshold 5%)");
	assert_float_equal(s.freq_change_percent, 20.0, 1e-9);
	assert_string_equal(s.reasons[1], "the CPU frequency changed by 20% (threshold 10%)");
	/* The same run under looser thresholds. */
	noise_summarize(&t, &loose, &s);
	assert_false(s.noisy);
	assert_string_equal(s.verdict, NOISE_VERDICT_QUIET);
	noise_tracker_clear(&t);
}

static void test_unknown_without_an_interval(void **state)
{
	struct noise_tracker t = { 0 };
	struct noise_summary s;
	struct cpu_times c = { .busy_ns = 1, .total_ns = 2 };

	noise_summarize(&t, &defaults, &s);
	assert_string_equal(s.verdict, NOISE_VERDICT_UNKNOWN);
	assert_false(s.noisy);
	assert_true(isnan(s.other_cpu_percent_mean));
	noise_tracker_add(&t, 0, 0, &c, NULL, 0, NAN);
	noise_summarize(&t, &defaults, &s);
	assert_string_equal(s.verdict, NOISE_VERDICT_UNKNOWN);
	assert_int_equal(s.n_reasons, 1);
	noise_tracker_clear(&t);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_freq_from_sysfs(void **state)
{
	char dir[] = "/tmp/test-noise-XXXXXX", path[256];
	double khz;

	assert_non_null(mkdtemp(dir));
	/* No cpufreq at all (this VM): not available. */
	snprintf(path, sizeof(path), "%s/cpu0", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(noise_read_freq_khz(dir, &khz), -ENOENT);
	assert_int_equal(noise_read_freq_khz("/nonexistent", &khz), -ENOENT);

	/* Two CPUs with it, and directories that are not CPUs. */
	snprintf(path, sizeof(path), "%s/cpu0/cpufreq", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/cpu0/cpufreq/scaling_cur_freq", dir);
	write_file(path, "2000000\n");
	snprintf(path, sizeof(path), "%s/cpu1", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/cpu1/cpufreq", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/cpu1/cpufreq/scaling_cur_freq", dir);
	write_file(path, "3000000\n");
	snprintf(path, sizeof(path), "%s/cpufreq", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(noise_read_freq_khz(dir, &khz), 0);
	assert_float_equal(khz, 2500000, 0);

	snprintf(path, sizeof(path), "rm -r %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_cpu_line),
		cmocka_unit_test(test_read_cpu_times),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_tracker),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_noisy_other_processes),
		cmocka_unit_test(test_noisy_steal_and_frequency),
		cmocka_unit_test(test_unknown_without_an_interval),
		cmocka_unit_test(test_freq_from_sysfs),
	};

	return cmocka_run_group_tests_name("noise", tests, NULL, NULL);
}
