/* SPDX-License-Identifier: MIT */
/*
 * Open-loop send schedules. Every client sends on its own timetable, whether
 * or not its echoes have come back; client phases are spread evenly over one
 * period so N clients do not fire in lockstep. Times are seconds from the
 * start of the sending phase.
 */
#pragma once

#include <stdint.h>

enum load_pattern { PATTERN_FIXED, PATTERN_BURST, PATTERN_RAMP };

struct schedule {
	enum load_pattern pattern;
	double rate;     /* fixed, ramp start: messages/s per client */
	double rate_end; /* ramp: messages/s per client at the end */
	unsigned burst;  /* burst: messages sent back to back each interval */
	double interval; /* burst: seconds between bursts */
	double duration; /* seconds of sending */
	unsigned clients;
};

/**
 * schedule_time() - when client @client sends its message number @n.
 * Return: seconds from the start of sending, or a negative value if that
 * message falls after the end of the schedule.
 */
double schedule_time(const struct schedule *s, unsigned client, uint64_t n);

/* Messages client @client sends over the whole schedule. */
uint64_t schedule_count(const struct schedule *s, unsigned client);

/* The schedule's total offered rate (all clients, messages/s), averaged. */
double schedule_total_rate(const struct schedule *s);

const char *pattern_to_string(enum load_pattern p);
int pattern_from_string(const char *s, enum load_pattern *ret);
