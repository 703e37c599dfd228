/* SPDX-License-Identifier: MIT */
/*
 * Log-linear histogram (see histogram.h). Values below 2048 have their own
 * bucket; above, each power of two is split into 1024 equal sub-buckets, so a
 * bucket's width is at most 1/1024 of its lowest value.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

void histogram_reset(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static unsigned bucket_of(uint64_t value)
{
	/* Position of the highest set bit of value | (2048 - 1), minus 11. */
	uint64_t v = value | (HISTOGRAM_SUB_BUCKET_COUNT - 1);

	return (unsigned)(64 - __builtin_clzll(v)) - HISTOGRAM_SUB_BUCKET_BITS;
}

size_t histogram_index_of(uint64_t value)
{
	unsigned b = bucket_of(value);
	uint64_t sub = value >> b;

	return ((size_t)(b + 1) << (HISTOGRAM_SUB_BUCKET_BITS - 1)) +
	       (size_t)(sub - HISTOGRAM_SUB_BUCKET_HALF);
}

uint64_t histogram_lowest_equivalent(size_t index)
{
	long b = (long)(index >> (HISTOGRAM_SUB_BUCKET_BITS - 1)) - 1;
	uint64_t sub = (index & (HISTOGRAM_SUB_BUCKET_HALF - 1)) + HISTOGRAM_SUB_BUCKET_HALF;

	if (b < 0) {
		sub -= HISTOGRAM_SUB_BUCKET_HALF;
		b = 0;
	}
	return sub << b;
}

uint64_t histogram_highest_equivalent(size_t index)
{
	long b = (long)(index >> (HISTOGRAM_SUB_BUCKET_BITS - 1)) - 1;

	if (b < 0)
		b = 0;
	return histogram_lowest_equivalent(index) + (1ULL << b) - 1;
}

void histogram_record_n(struct histogram *h, uint64_t value, uint64_t n)
{
	if (n == 0)
		return;
	if (value > HISTOGRAM_HIGHEST) {
		value = HISTOGRAM_HIGHEST;
		h->overflow += n;
	}
	h->counts[histogram_index_of(value)] += n;
	h->total += n;
	h->sum += (double)value * (double)n;
	h->sumsq += (double)value * (double)value * (double)n;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
}

void histogram_merge(struct histogram *to, const struct histogram *from)
{
	if (from->total == 0)
		return;
	for (size_t i = 0; i < HISTOGRAM_COUNTS_LEN; i++)
		to->counts[i] += from->counts[i];
	to->total += from->total;
	to->overflow += from->overflow;
	to->sum += from->sum;
	to->sumsq += from->sumsq;
	if (from->min < to->min)
		to->min = from->min;
	if (from->max > to->max)
		to->max = from->max;
}

uint64_t histogram_percentile(const struct histogram *h, double percentile)
{
	uint64_t target, seen = 0;

	if (h->total == 0)
		return 0;
	if (percentile <= 0)
		return h->min;
	if (percentile > 100)
		percentile = 100;
	/* The rank of the p-th percentile is ceil(p * total / 100). Multiply
	 * first, and forgive rounding just above a whole rank: 99.9 / 100 *
	 * 10000 is 9990.000000000002 in doubles, whose ceiling would take the
	 * 9991st value where HdrHistogram (and the definition) take the 9990th. */
	target = (uint64_t)ceil(percentile * (double)h->total / 100.0 - 1e-9);
	if (target == 0)
		target = 1;
	for (size_t i = 0; i < HISTOGRAM_COUNTS_LEN; i++) {
		seen += h->counts[i];
		if (seen >= target) {
			uint64_t v = histogram_highest_equivalent(i);

			return v > h->max ? h->max : v < h->min ? h->min : v;
		}
	}
	return h->max;
}

double histogram_mean(const struct histogram *h)
{
	return h->total ? h->sum / (double)h->total : 0.0;
}

double histogram_stddev(const struct histogram *h)
{
	double mean, var;

	if (h->total < 2)
		return 0.0;
	mean = histogram_mean(h);
	var = h->sumsq / (double)h->total - mean * mean;
	return var > 0 ? sqrt(var) : 0.0;
}

uint64_t histogram_min(const struct histogram *h)
{
	return h->total ? h->min : 0;
}

char *histogram_encode(const struct histogram *h)
{
	size_t cap = 256, len;
	char *s = malloc(cap), *grown;
	int n;

	if (!s)
		return NULL;
	n = snprintf(s, cap, "hdr1 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %.17g %.17g",
	             h->total, histogram_min(h), h->max, h->overflow, h->sum, h->sumsq);
	len = (size_t)n;
	for (size_t i = 0; i < HISTOGRAM_COUNTS_LEN; i++) {
		if (!h->counts[i])
			continue;
		if (cap - len < 48) {
			cap *= 2;
			grown = realloc(s, cap);
			if (!grown) {
				free(s);
				return NULL;
			}
			s = grown;
		}
		len += (size_t)snprintf(s + len, cap - len, " %zu:%" PRIu64, i, h->counts[i]);
	}
	return s;
}

/* One unsigned decimal: digits only, since strtoull() and SCNu64 take a
 * sign and whitespace, and turn "-1" into UINT64_MAX; overflow refused. */
static int parse_u64(const char **s, uint64_t *ret)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - digit) / 10)
			return -EINVAL;
		v = v * 10 + digit;
	}
	*s = p;
	*ret = v;
	return 0;
}

/* A finite, non-negative double (a sum of values or of their squares). */
static int parse_amount(const char **s, double *ret)
{
	char *end;
	double d;

	/* strtod() would skip leading whitespace and take a sign. */
	if (**s < '0' || **s > '9')
		return -EINVAL;
	d = strtod(*s, &end);
	if (end == *s || !isfinite(d))
		return -EINVAL;
	*s = end;
	*ret = d;
	return 0;
}

static int expect(const char **s, char c)
{
	if (**s != c)
		return -EINVAL;
	(*s)++;
	return 0;
}

/* "hdr1 total min max overflow sum sumsq" */
static int parse_header(const char **s, struct histogram *h)
{
	uint64_t *fields[] = { &h->total, &h->min, &h->max, &h->overflow };

	if (strncmp(*s, "hdr1", 4) != 0)
		return -EINVAL;
	*s += 4;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (expect(s, ' ') < 0 || parse_u64(s, fields[i]) < 0)
			return -EINVAL;
	if (expect(s, ' ') < 0 || parse_amount(s, &h->sum) < 0 || expect(s, ' ') < 0 ||
	    parse_amount(s, &h->sumsq) < 0)
		return -EINVAL;
	return 0;
}

/* " index:count" in ascending index order, as histogram_encode() writes
 * them: each bucket once, never empty, and counts that cannot wrap. */
static int parse_buckets(const char *s, struct histogram *h, uint64_t *ret_sum)
{
	uint64_t idx, count, sum = 0, next = 0;

	while (*s) {
		if (expect(&s, ' ') < 0 || parse_u64(&s, &idx) < 0 || expect(&s, ':') < 0 ||
		    parse_u64(&s, &count) < 0)
			return -EINVAL;
		if (idx < next || idx >= HISTOGRAM_COUNTS_LEN || count == 0 ||
		    count > UINT64_MAX - sum)
			return -EINVAL;
		h->counts[idx] = count;
		sum += count;
		next = idx + 1;
	}
	*ret_sum = sum;
	return 0;
}

int histogram_decode(struct histogram *h, const char *s)
{
	uint64_t sum_counts;

	histogram_reset(h);
	if (parse_header(&s, h) < 0 || parse_buckets(s, h, &sum_counts) < 0)
		goto invalid;
	/* What histogram_record_n() can produce, and nothing else. */
	if (sum_counts != h->total || h->overflow > h->total || h->max > HISTOGRAM_HIGHEST ||
	    (h->total && h->min > h->max) || (!h->total && (h->min || h->max)))
		goto invalid;
	if (!h->total)
		h->min = UINT64_MAX;
	return 0;
invalid:
	histogram_reset(h);
	return -EINVAL;
}
