/* SPDX-License-Identifier: MIT */
/*
 * CPU time and memory of a process or thread, read from /proc (proc(5)).
 * Used by wsbench-load to measure itself and by wsbenchd to sample the echo
 * server and the load generator of a run.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct procstat {
	uint64_t cpu_ns; /* utime + stime */
	uint64_t rss_bytes;
	unsigned threads;
};

/* Reads /proc/PID/stat (and statm). Return: 0 or a negative errno. */
int procstat_read_process(pid_t pid, struct procstat *ret);

/* Reads /proc/PID/task/TID/stat: CPU time of one thread. */
int procstat_read_thread(pid_t pid, pid_t tid, uint64_t *ret_cpu_ns);
