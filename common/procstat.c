/* SPDX-License-Identifier: MIT */
/*
 * /proc parsing. The comm field of stat may contain spaces and parentheses,
 * so fields are counted from the last ')' (proc(5)).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "procstat.h"

static int read_small_file(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Fields 14 (utime), 15 (stime) and 20 (num_threads) of a stat line. */
static int parse_stat(const char *buf, uint64_t *cpu_ns, unsigned *threads)
{
	const char *p = strrchr(buf, ')');
	unsigned long long utime, stime;
	long nthreads;
	long tck = sysconf(_SC_CLK_TCK);

	if (!p || tck <= 0)
		return -EINVAL;
	/* After ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime(14) stime(15) cutime cstime priority nice
	 * num_threads(20) */
	if (sscanf(p + 1,
	           " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %ld",
	           &utime, &stime, &nthreads) != 3)
		return -EINVAL;
	*cpu_ns = (uint64_t)(utime + stime) * (1000000000ULL / (uint64_t)tck);
	if (threads)
		*threads = (unsigned)nthreads;
	return 0;
}

int procstat_read_process(pid_t pid, struct procstat *ret)
{
	char path[64], buf[1024];
	unsigned long long size, resident;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = read_small_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	r = parse_stat(buf, &ret->cpu_ns, &ret->threads);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	r = read_small_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return -EINVAL;
	ret->rss_bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

int procstat_read_thread(pid_t pid, pid_t tid, uint64_t *ret_cpu_ns)
{
	char path[80], buf[1024];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	r = read_small_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	return parse_stat(buf, ret_cpu_ns, NULL);
}
