/* SPDX-License-Identifier: MIT */
/*
 * The machine's noise during a run (see noise.h): /proc/stat and cpufreq
 * readers, the interval arithmetic and the verdict.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "noise.h"

int noise_parse_cpu_times(const char *text, long ticks_per_second, struct cpu_times *ret)
{
	unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
	const char *line = text;
	uint64_t tick_ns;

	if (ticks_per_second <= 0)
		return -EINVAL;
	/* The first line is the sum over all CPUs: "cpu  user nice ...". */
	while (line && strncmp(line, "cpu ", 4) != 0) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line || sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
	                    &system, &idle, &iowait, &irq, &softirq, &steal) != 8)
		return -EINVAL;
	tick_ns = 1000000000ULL / (uint64_t)ticks_per_second;
	ret->busy_ns = (uint64_t)(user + nice + system) * tick_ns;
	ret->steal_ns = (uint64_t)steal * tick_ns;
	ret->total_ns =
	    (uint64_t)(user + nice + system + idle + iowait + irq + softirq + steal) * tick_ns;
	return 0;
}

static int read_text(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return 0;
}

int noise_read_cpu_times(struct cpu_times *ret)
{
	/* The "cpu" line comes first; the per-CPU lines after it are not needed. */
	char buf[512];
	int r = read_text("/proc/stat", buf, sizeof(buf));

	if (r < 0)
		return r;
	return noise_parse_cpu_times(buf, sysconf(_SC_CLK_TCK), ret);
}

/* "cpu" followed by digits only: cpu0, cpu17 (not cpufreq, cpuidle). */
static bool is_cpu_dir(const char *name)
{
	if (strncmp(name, "cpu", 3) != 0 || !name[3])
		return false;
	for (const char *p = name + 3; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

int noise_read_freq_khz(const char *cpu_dir, double *ret)
{
	DIR *d = opendir(cpu_dir);
	struct dirent *de;
	double sum = 0;
	unsigned n = 0;

	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		char path[512], buf[64], *end;
		double khz;

		if (!is_cpu_dir(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/cpufreq/scaling_cur_freq", cpu_dir, de->d_name);
		if (read_text(path, buf, sizeof(buf)) < 0)
			continue;
		khz = strtod(buf, &end);
		if (end == buf || !isfinite(khz) || khz <= 0)
			continue;
		sum += khz;
		n++;
	}
	closedir(d);
	if (!n)
		return -ENOENT;
	*ret = sum / n;
	return 0;
}

void noise_interval(const struct cpu_times *prev, const struct cpu_times *now, uint64_t ours_ns,
                    int64_t elapsed_ns, double *ret_other, double *ret_steal)
{
	uint64_t busy = now->busy_ns > prev->busy_ns ? now->busy_ns - prev->busy_ns : 0;
	uint64_t steal = now->steal_ns > prev->steal_ns ? now->steal_ns - prev->steal_ns : 0;
	uint64_t total = now->total_ns > prev->total_ns ? now->total_ns - prev->total_ns : 0;

	/* Both sides count in clock ticks, accounted at different moments:
	 * our processes can show a tick more than the machine has yet. */
	*ret_other = elapsed_ns > 0 && busy > ours_ns
	                 ? (double)(busy - ours_ns) / (double)elapsed_ns * 100.0
	                 : 0.0;
	*ret_steal = total > 0 ? (double)steal / (double)total * 100.0 : 0.0;
}

static const struct noise_proc *find_proc(const struct noise_proc *v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].pid == pid)
			return &v[i];
	return NULL;
}

/* What our processes used since the previous sample. Return: false when
 * one of them has ended since (its last share is unknown). */
static bool ours_since(const struct noise_tracker *t, const struct noise_proc *procs,
                       size_t n_procs, uint64_t *ret)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < t->n_procs; i++)
		if (!find_proc(procs, n_procs, t->procs[i].pid))
			return false;
	for (size_t i = 0; i < n_procs; i++) {
		const struct noise_proc *p = find_proc(t->procs, t->n_procs, procs[i].pid);

		if (!p)
			sum += procs[i].cpu_ns; /* started within the interval */
		else if (procs[i].cpu_ns > p->cpu_ns)
			sum += procs[i].cpu_ns - p->cpu_ns;
	}
	*ret = sum;
	return true;
}

int noise_tracker_add(struct noise_tracker *t, int64_t wall_ns, int64_t mono_ns,
                      const struct cpu_times *now, const struct noise_proc *procs, size_t n_procs,
                      double freq_khz)
{
	uint64_t ours;

	n_procs = MIN(n_procs, (size_t)NOISE_MAX_PROCS);
	if (isfinite(freq_khz)) {
		t->freq_min_khz = t->have_freq ? MIN(t->freq_min_khz, freq_khz) : freq_khz;
		t->freq_max_khz = t->have_freq ? MAX(t->freq_max_khz, freq_khz) : freq_khz;
		t->have_freq = true;
	}
	if (t->have_prev && mono_ns > t->prev_mono_ns) {
		if (!ours_since(t, procs, n_procs, &ours)) {
			t->skipped++;
		} else {
			struct noise_sample *s;

			if (t->n == t->cap) {
				size_t cap = t->cap ? t->cap * 2 : 64;

				s = realloc(t->v, cap * sizeof(*s));
				if (!s)
					return -ENOMEM;
				t->v = s;
				t->cap = cap;
			}
			s = &t->v[t->n++];
			s->wall_ns = wall_ns;
			s->freq_khz = freq_khz;
			noise_interval(&t->prev, now, ours, mono_ns - t->prev_mono_ns,
			               &s->other_cpu_percent, &s->steal_percent);
		}
	}
	t->prev = *now;
	t->prev_mono_ns = mono_ns;
	t->have_prev = true;
	if (n_procs) /* memcpy() from NULL is undefined, even of 0 bytes */
		memcpy(t->procs, procs, n_procs * sizeof(*procs));
	t->n_procs = n_procs;
	return 0;
}

void noise_tracker_clear(struct noise_tracker *t)
{
	free(t->v);
	*t = (struct noise_tracker){ 0 };
}

_printf_(2, 3) static void add_reason(struct noise_summary *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n_reasons == NOISE_MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(s->reasons[s->n_reasons++], NOISE_REASON_LEN, fmt, ap);
	va_end(ap);
}

void noise_summarize(const struct noise_tracker *t, const struct noise_thresholds *th,
                     struct noise_summary *ret)
{
	double other = 0, other_max = 0, steal = 0;

	*ret = (struct noise_summary){ .intervals = t->n,
		                       .freq_change_percent = NAN,
		                       .verdict = NOISE_VERDICT_UNKNOWN };
	if (t->have_freq && t->freq_max_khz > 0)
		ret->freq_change_percent =
		    (t->freq_max_khz - t->freq_min_khz) / t->freq_max_khz * 100.0;
	for (size_t i = 0; i < t->n; i++) {
		other += t->v[i].other_cpu_percent;
		other_max = MAX(other_max, t->v[i].other_cpu_percent);
		steal += t->v[i].steal_percent;
	}
	if (!t->n) {
		add_reason(ret, "not measured: the run ended before a whole sampling interval");
		ret->other_cpu_percent_mean = ret->steal_percent_mean = NAN;
		ret->other_cpu_percent_max = NAN;
		return;
	}
	ret->other_cpu_percent_mean = other / (double)t->n;
	ret->other_cpu_percent_max = other_max;
	ret->steal_percent_mean = steal / (double)t->n;
	if (ret->other_cpu_percent_mean > th->other_cpu_percent)
		add_reason(ret, "other processes used %.0f%% of a core (threshold %g%%)",
		           ret->other_cpu_percent_mean, th->other_cpu_percent);
	if (ret->steal_percent_mean > th->steal_percent)
		add_reason(ret, "steal time was %.1f%% of the CPU time (threshold %g%%)",
		           ret->steal_percent_mean, th->steal_percent);
	if (isfinite(ret->freq_change_percent) &&
	    ret->freq_change_percent > th->freq_change_percent)
		add_reason(ret, "the CPU frequency changed by %.0f%% (threshold %g%%)",
		           ret->freq_change_percent, th->freq_change_percent);
	ret->noisy = ret->n_reasons > 0;
	ret->verdict = ret->noisy ? NOISE_VERDICT_NOISY : NOISE_VERDICT_QUIET;
}

/* ---- other processes ----------------------------------------------------- */

static bool excluded(pid_t pid, const pid_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

/* utime + stime and cutime + cstime of /proc/PID/stat, in ticks. */
static int read_proc_ticks(const char *pid, unsigned long long *ret,
                           unsigned long long *ret_children)
{
	char path[64], buf[1024];
	unsigned long long ut, st;
	long long cut, cst;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	/* After the command name, which may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
	                 &ut, &st, &cut, &cst) != 4)
		return -EINVAL;
	*ret = ut + st;
	*ret_children = (unsigned long long)MAX(cut, 0) + (unsigned long long)MAX(cst, 0);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = ((const struct proc_cpu *)a)->pid, y = ((const struct proc_cpu *)b)->pid;

	return (x > y) - (x < y);
}

int noise_scan_processes(const pid_t *exclude, size_t n_exclude, struct proc_scan *ret)
{
	uint64_t tick_ns = 1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK);
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return -errno;
	ret->n = 0;
	while ((e = readdir(d))) {
		unsigned long long ticks, children;
		pid_t pid;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = (pid_t)atoi(e->d_name);
		if (excluded(pid, exclude, n_exclude) ||
		    read_proc_ticks(e->d_name, &ticks, &children) < 0)
			continue;
		if (ret->n == ret->cap) {
			size_t cap = ret->cap ? ret->cap * 2 : 256;
			struct proc_cpu *v = realloc(ret->v, cap * sizeof(*v));

			if (!v) {
				closedir(d);
				return -ENOMEM;
			}
			ret->v = v;
			ret->cap = cap;
		}
		ret->v[ret->n++] = (struct proc_cpu){ .pid = pid,
			                              .cpu_ns = ticks * tick_ns,
			                              .children_ns = children * tick_ns };
	}
	closedir(d);
	qsort(ret->v, ret->n, sizeof(*ret->v), cmp_pid);
	return 0;
}

static uint64_t growth(uint64_t before, uint64_t after)
{
	return after > before ? after - before : 0;
}

uint64_t noise_scan_delta(const struct proc_scan *prev, const struct proc_scan *now,
                          int64_t elapsed_ns, unsigned cpus)
{
	uint64_t sum = 0, cap = elapsed_ns > 0 ? (uint64_t)elapsed_ns * MAX(cpus, 1u) : 0;
	size_t j = 0;

	for (size_t i = 0; i < now->n; i++) {
		const struct proc_cpu *p = &now->v[i], *q = NULL;
		uint64_t children;

		while (j < prev->n && prev->v[j].pid < p->pid)
			j++;
		if (j < prev->n && prev->v[j].pid == p->pid)
			q = &prev->v[j];
		sum += q ? growth(q->cpu_ns, p->cpu_ns) : p->cpu_ns;
		children = q ? growth(q->children_ns, p->children_ns) : p->children_ns;
		if (children <= cap)
			sum += children;
	}
	return sum;
}

void noise_scan_clear(struct proc_scan *s)
{
	free(s->v);
	*s = (struct proc_scan){ 0 };
}
