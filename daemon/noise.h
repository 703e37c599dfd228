/* SPDX-License-Identifier: MIT */
/*
 * How quiet the machine was during a run: the CPU used by processes other
 * than the run's own (the echo server, wsbench-load and wsbenchd), the steal
 * time of a virtual machine, and how much the CPU frequency moved. Sampled
 * with the run's other series (run.c's sampling timer); the arithmetic is
 * pure functions over counters (/proc/stat's "cpu" line, the processes'
 * utime + stime) so the unit tests check it without a machine; the readers
 * of /proc and /sys are separate. At the end, the series becomes a verdict,
 * "quiet" or "noisy" with its reasons, against the daemon section's
 * thresholds (config.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NOISE_SYSFS_CPU       "/sys/devices/system/cpu"
#define NOISE_MAX_PROCS       8 /* processes of ours followed per run */
#define NOISE_MAX_REASONS     4
#define NOISE_REASON_LEN      160
#define NOISE_VERDICT_QUIET   "quiet"
#define NOISE_VERDICT_NOISY   "noisy"
#define NOISE_VERDICT_UNKNOWN "unknown"

/* The machine's CPU time so far, summed over all CPUs, from /proc/stat. */
struct cpu_times {
	/* user + nice + system as /proc/stat says; run.c puts the other
	 * processes' CPU from noise_scan_delta() here instead (see below why
	 * /proc/stat's is not trusted). */
	uint64_t busy_ns;
	uint64_t steal_ns; /* time a hypervisor gave to someone else */
	uint64_t total_ns; /* every field: busy, idle, iowait, irq, softirq, steal */
};

/* One process of ours and its CPU time so far (utime + stime). */
struct noise_proc {
	pid_t pid;
	uint64_t cpu_ns;
};

/* One sampling interval, at its end. */
struct noise_sample {
	int64_t wall_ns;
	double other_cpu_percent; /* other processes, in percent of one core */
	double steal_percent;     /* of all CPU time */
	double freq_khz;          /* mean scaling_cur_freq of the CPUs, NAN: not available */
};

struct noise_thresholds {
	double other_cpu_percent;   /* mean, percent of one core */
	double steal_percent;       /* mean, percent of all CPU time */
	double freq_change_percent; /* (max - min) / max of the mean frequency */
};

/* The samples of one run so far. Zero-initialized is empty. */
struct noise_tracker {
	struct noise_sample *v;
	size_t n, cap;
	size_t skipped; /* intervals left out: a process of ours ended within them */
	struct cpu_times prev;
	int64_t prev_mono_ns;
	bool have_prev;
	struct noise_proc procs[NOISE_MAX_PROCS]; /* as at the previous sample */
	size_t n_procs;
	double freq_min_khz, freq_max_khz; /* over every reading */
	bool have_freq;
};

struct noise_summary {
	size_t intervals;
	double other_cpu_percent_mean, other_cpu_percent_max, steal_percent_mean;
	double freq_change_percent; /* NAN: the frequency is not available */
	const char *verdict;        /* NOISE_VERDICT_* */
	bool noisy;
	char reasons[NOISE_MAX_REASONS][NOISE_REASON_LEN];
	size_t n_reasons;
};

/**
 * noise_parse_cpu_times() - the "cpu" line of /proc/stat's text @text.
 * @ticks_per_second: USER_HZ (sysconf(_SC_CLK_TCK)).
 * Return: 0, or -EINVAL when there is no such line or it has fewer than
 * the eight fields up to steal.
 */
int noise_parse_cpu_times(const char *text, long ticks_per_second, struct cpu_times *ret);

/* /proc/stat, parsed. Return: 0 or a negative errno. */
int noise_read_cpu_times(struct cpu_times *ret);

/**
 * noise_read_freq_khz() - the mean of cpuN/cpufreq/scaling_cur_freq under
 * @cpu_dir (NOISE_SYSFS_CPU) over the CPUs that have one.
 * Return: 0, or -ENOENT when none has (a VM without cpufreq).
 */
int noise_read_freq_khz(const char *cpu_dir, double *ret);

/**
 * noise_interval() - one interval's figures.
 * @ours_ns: CPU time our processes used in it.
 * @elapsed_ns: its length.
 * *@ret_other: (busy - ours) / elapsed in percent of one core, at least 0;
 * *@ret_steal: steal / total in percent.
 */
void noise_interval(const struct cpu_times *prev, const struct cpu_times *now, uint64_t ours_ns,
                    int64_t elapsed_ns, double *ret_other, double *ret_steal);

/**
 * noise_tracker_add() - one sample: the machine's counters @now and the CPU
 * time of each of our processes running now (@procs, @n_procs, at most
 * NOISE_MAX_PROCS), at @wall_ns / @mono_ns; @freq_khz is NAN when not
 * available. The interval since the previous sample is recorded, unless a
 * process of ours ended within it (what it used since it was last read is
 * unknown). A process not seen before started within the interval: all
 * its CPU time is in it.
 * Return: 0, or -ENOMEM.
 */
int noise_tracker_add(struct noise_tracker *t, int64_t wall_ns, int64_t mono_ns,
                      const struct cpu_times *now, const struct noise_proc *procs, size_t n_procs,
                      double freq_khz);

void noise_tracker_clear(struct noise_tracker *t);

/*
 * Every process's CPU time, from /proc/PID/stat: utime + stime + cutime +
 * cstime (the last two: its children that ended and were waited for, so
 * that short-lived processes such as a build's compilers are counted when
 * their parent reaps them). Sorted by pid.
 *
 * Why not /proc/stat: in virtual machines its counters can be far off from
 * what the processes used (measured here: 3 ticks of system time on both
 * CPUs while the tasks used 150; another time twice what they used), and it
 * charges softirq work done in the idle task's context, invisible to
 * anyone, as system time.
 */
struct proc_cpu {
	pid_t pid;
	uint64_t cpu_ns;      /* utime + stime */
	uint64_t children_ns; /* cutime + cstime */
};

struct proc_scan {
	struct proc_cpu *v;
	size_t n, cap;
};

/* Scans /proc, leaving out @exclude (the run's processes and the daemon).
 * Return: 0 or a negative errno. */
int noise_scan_processes(const pid_t *exclude, size_t n_exclude, struct proc_scan *ret);

/*
 * What the processes of @now used in the @elapsed_ns since @prev: per pid,
 * the growth; a pid new in @now counts whole (it started within the
 * interval); one gone is lost until its parent reaps it. A growth of the
 * reaped children's time larger than @elapsed_ns on every one of @cpus is
 * a long-lived child that ended (a daemon stopped), not work of this
 * interval: it is left out.
 */
uint64_t noise_scan_delta(const struct proc_scan *prev, const struct proc_scan *now,
                          int64_t elapsed_ns, unsigned cpus);

void noise_scan_clear(struct proc_scan *s);

/**
 * noise_summarize() - the verdict of @t against @th: noisy when a mean is
 * above its threshold, one reason each ("other processes used 87% of a core
 * (threshold 25%)"); unknown when no interval was measured.
 */
void noise_summarize(const struct noise_tracker *t, const struct noise_thresholds *th,
                     struct noise_summary *ret);
