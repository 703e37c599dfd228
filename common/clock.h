/* SPDX-License-Identifier: MIT */
/* Monotonic and wall-clock time in nanoseconds. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC  1000000000LL
#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_USEC 1000LL

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static inline int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* ISO 8601 UTC with milliseconds, e.g. 2026-11-28T09:13:24.123Z. */
void format_iso8601(int64_t wall_ns, char *buf, size_t len);
