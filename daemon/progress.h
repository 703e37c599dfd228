/* SPDX-License-Identifier: MIT */
/*
 * wsbench-load's progress lines (--format jsonl), read defensively: the
 * numbers come from another process, and cJSON reports a missing field as
 * NaN and "1e400" as infinity. A number becomes an integer only after a
 * range check, since converting NaN or an out-of-range double to an integer
 * is undefined behaviour.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdint.h>

struct load_progress {
	const char *phase; /* points into the line; NULL when missing */
	double elapsed_s, total_s, rate, p99_ms;
	unsigned connected;
	uint64_t sent, received, errors;
};

/* Fills @ret from one progress line; fields that are not valid read as 0. */
void load_progress_read(const cJSON *line, struct load_progress *ret);

/**
 * json_count() - a whole count from @key of @o.
 * Return: the value, or 0 when it is missing, not a number, not finite,
 * negative, or above @max (the fraction of a valid number is dropped).
 */
uint64_t json_count(const cJSON *o, const char *key, uint64_t max);

/* A finite, non-negative number from @key of @o, or 0. */
double json_amount(const cJSON *o, const char *key);
