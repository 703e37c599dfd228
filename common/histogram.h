/* SPDX-License-Identifier: MIT */
/*
 * A log-linear latency histogram in the manner of HdrHistogram: fixed memory,
 * values from 1 to HISTOGRAM_HIGHEST (1 µs to 1 h when recording
 * microseconds) kept to 3 significant digits (relative error below 0.05 %),
 * mergeable across threads and runs, and serializable to a compact text form.
 * Exact count, sum, sum of squares, minimum and maximum are kept beside the
 * buckets, so mean and standard deviation are exact.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_HIGHEST          3600000000ULL /* 1 h in µs */
#define HISTOGRAM_SIGNIFICANT      3
#define HISTOGRAM_SUB_BUCKET_BITS  11 /* 2^11 = 2048 >= 2 * 10^3 */
#define HISTOGRAM_SUB_BUCKET_COUNT (1u << HISTOGRAM_SUB_BUCKET_BITS)
#define HISTOGRAM_SUB_BUCKET_HALF  (HISTOGRAM_SUB_BUCKET_COUNT / 2)
#define HISTOGRAM_BUCKETS          22 /* 2048 << 21 > 3.6e9 */
#define HISTOGRAM_COUNTS_LEN       ((HISTOGRAM_BUCKETS + 1) * HISTOGRAM_SUB_BUCKET_HALF)

struct histogram {
	uint64_t total;
	uint64_t min, max; /* exact; min is UINT64_MAX while empty */
	uint64_t overflow; /* values above HISTOGRAM_HIGHEST, recorded as the highest */
	double sum, sumsq;
	uint64_t counts[HISTOGRAM_COUNTS_LEN];
};

void histogram_reset(struct histogram *h);

/* Records @value (clamped to HISTOGRAM_HIGHEST) @n times. */
void histogram_record_n(struct histogram *h, uint64_t value, uint64_t n);

static inline void histogram_record(struct histogram *h, uint64_t value)
{
	histogram_record_n(h, value, 1);
}

/* Adds @from into @to. */
void histogram_merge(struct histogram *to, const struct histogram *from);

/**
 * histogram_percentile() - the value at or below which @percentile % of the
 * recorded values lie, reported as the highest value equivalent to its
 * bucket (never below the true value) and never above the exact maximum.
 * Return: 0 when empty.
 */
uint64_t histogram_percentile(const struct histogram *h, double percentile);

double histogram_mean(const struct histogram *h);
double histogram_stddev(const struct histogram *h);
uint64_t histogram_min(const struct histogram *h);

/* Bucket arithmetic, exposed for tests and serialization. */
size_t histogram_index_of(uint64_t value);
uint64_t histogram_lowest_equivalent(size_t index);
uint64_t histogram_highest_equivalent(size_t index);

/**
 * histogram_encode() - text form: "hdr1 total min max overflow sum sumsq"
 * then " index:count" for every non-empty bucket. Lossless.
 * Return: a malloc'd string, or NULL on allocation failure.
 */
char *histogram_encode(const struct histogram *h);

/* Parses histogram_encode() output into @h. Text it could not have written
 * (signs, counts that do not add up or would wrap, buckets out of order,
 * non-finite sums) is refused. Return: 0, or -EINVAL with @h emptied. */
int histogram_decode(struct histogram *h, const char *s);
