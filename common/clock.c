/* SPDX-License-Identifier: MIT */
/* Time formatting shared by the load generator's and the daemon's reports. */
#include <stdio.h>

#include "clock.h"

void format_iso8601(int64_t wall_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(wall_ns / NSEC_PER_SEC);
	struct tm tm;
	char base[32];

	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)(wall_ns / NSEC_PER_MSEC % 1000));
}
