/* SPDX-License-Identifier: MIT */
/*
 * Schedule arithmetic (see schedule.h). Each function is closed-form, so a
 * client's n-th send time never accumulates rounding error over a long run.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "schedule.h"

static double phase(const struct schedule *s, unsigned client)
{
	return s->clients ? (double)client / (double)s->clients : 0.0;
}

/* Ramp: the rate rises linearly, so the count of messages sent by time t is
 * M(t) = r0 t + (r1 - r0) t^2 / (2 T). Message n goes at M(t) = n + phase. */
static double ramp_time(const struct schedule *s, double k)
{
	double a = (s->rate_end - s->rate) / (2.0 * s->duration), b = s->rate;

	if (fabs(a) < 1e-12)
		return b > 0 ? k / b : -1.0;
	double disc = b * b + 4.0 * a * k;

	if (disc < 0)
		return -1.0; /* a falling ramp that never reaches k */
	return (-b + sqrt(disc)) / (2.0 * a);
}

double schedule_time(const struct schedule *s, unsigned client, uint64_t n)
{
	double t;

	switch (s->pattern) {
	case PATTERN_FIXED:
		t = (phase(s, client) + (double)n) / s->rate;
		break;
	case PATTERN_BURST:
		t = (phase(s, client) + (double)(n / s->burst)) * s->interval;
		break;
	case PATTERN_RAMP:
		t = ramp_time(s, (double)n + phase(s, client));
		break;
	default:
		return -1.0;
	}
	return t >= 0 && t < s->duration ? t : -1.0;
}

uint64_t schedule_count(const struct schedule *s, unsigned client)
{
	uint64_t lo = 0, hi = 1;

	/* Send times rise with n: find the first n past the end. */
	while (schedule_time(s, client, hi) >= 0)
		hi *= 2;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (schedule_time(s, client, mid) >= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

double schedule_total_rate(const struct schedule *s)
{
	switch (s->pattern) {
	case PATTERN_FIXED:
		return s->rate * s->clients;
	case PATTERN_BURST:
		return s->burst / s->interval * s->clients;
	case PATTERN_RAMP:
		return (s->rate + s->rate_end) / 2.0 * s->clients;
	}
	return 0;
}

const char *pattern_to_string(enum load_pattern p)
{
	static const char *const names[] = { "fixed", "burst", "ramp" };

	return p <= PATTERN_RAMP ? names[p] : "unknown";
}

int pattern_from_string(const char *s, enum load_pattern *ret)
{
	for (enum load_pattern p = PATTERN_FIXED; p <= PATTERN_RAMP; p++)
		if (strcmp(s, pattern_to_string(p)) == 0) {
			*ret = p;
			return 0;
		}
	return -EINVAL;
}
