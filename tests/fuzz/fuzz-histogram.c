/* SPDX-License-Identifier: MIT */
/*
 * The histogram encoding (common/histogram.c), which wsbenchd reads from
 * wsbench-load's result and the report tools read from reports.
 *
 * Input: a mode byte, then the rest.
 *
 * Even mode: the rest is text for histogram_decode(). Whatever it accepts
 * must be a histogram it could have written: encoding it and decoding that
 * gives the same histogram, field for field and bit for bit.
 *
 * Odd mode: the rest is a list of records (a shift byte whose top bit picks
 * one of two histograms, an 8-byte value shifted right by the low six bits,
 * a 2-byte count) after a 2-byte percentile to check, recorded with histogram_record_n(); the
 * second histogram is merged into the first. Checked: decode(encode(h)) == h for both and for the
 * merge; the merge equals recording everything into one (counts, total, minimum, maximum,
 * overflow); every percentile lies between the minimum and the maximum, grows with the percentile,
 * and is never below the exact value at that rank nor more than one bucket above it (histogram.h: 3
 * significant digits).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "histogram.h"

#define MAX_RECORDS 4096

static struct histogram a, b, all, back;

struct rec {
	uint64_t value;
	uint64_t n;
};

static struct rec recs[MAX_RECORDS];

static void check_same(const struct histogram *x, const struct histogram *y, bool sums)
{
	fuzz_check(x->total == y->total);
	fuzz_check(x->min == y->min);
	fuzz_check(x->max == y->max);
	fuzz_check(x->overflow == y->overflow);
	if (sums) {
		fuzz_check(memcmp(&x->sum, &y->sum, sizeof(double)) == 0);
		fuzz_check(memcmp(&x->sumsq, &y->sumsq, sizeof(double)) == 0);
	}
	fuzz_check(memcmp(x->counts, y->counts, sizeof(x->counts)) == 0);
}

/* decode(encode(h)) == h, and the text is a fixed point. */
static void round_trip(const struct histogram *h)
{
	char *text = histogram_encode(h), *again;

	fuzz_check(text);
	fuzz_check(histogram_decode(&back, text) == 0);
	check_same(h, &back, true);
	again = histogram_encode(&back);
	fuzz_check(again && strcmp(text, again) == 0);
	free(again);
	free(text);
}

static int by_value(const void *x, const void *y)
{
	const struct rec *p = x, *q = y;

	return p->value < q->value ? -1 : p->value > q->value;
}

/* @pick: a percentile of the fuzzer's own, in 1/655.35 % steps. */
static void check_percentiles(const struct histogram *h, struct rec *r, size_t n, uint16_t pick)
{
	/* Each costs a pass over the 23,552 buckets: a few, in ascending order. */
	double pcts[] = { 0, 50, 99.9, 100, 100 };
	uint64_t prev = 0;

	/* Slot it in where it keeps the order. */
	pcts[3] = pick / 655.35;
	if (pcts[3] < pcts[2]) {
		pcts[3] = pcts[2];
		pcts[2] = pick / 655.35;
		if (pcts[2] < pcts[1]) {
			pcts[2] = pcts[1];
			pcts[1] = pick / 655.35;
		}
	}
	if (h->total == 0) {
		fuzz_check(histogram_percentile(h, 50) == 0 && histogram_min(h) == 0);
		fuzz_check(histogram_mean(h) == 0 && histogram_stddev(h) == 0);
		return;
	}
	/* The mean lies between the extremes and the spread within their
	 * distance, to rounding: sumsq / n - mean^2 loses the digits the two
	 * share (values all at 3.6e9 give 45, not 0: 1e-8 of the value). */
	fuzz_check(histogram_min(h) == h->min);
	fuzz_check(histogram_mean(h) >= (double)h->min * (1 - 1e-9) &&
	           histogram_mean(h) <= (double)h->max * (1 + 1e-9));
	fuzz_check(histogram_stddev(h) >= 0 &&
	           histogram_stddev(h) <= (double)(h->max - h->min) + 1e-7 * (double)h->max + 1);
	qsort(r, n, sizeof(*r), by_value);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		uint64_t v = histogram_percentile(h, pcts[i]), rank, seen = 0, exact = 0;

		fuzz_check(v >= h->min && v <= h->max && v >= prev);
		prev = v;
		/* The exact value at that rank, as histogram_percentile() counts. */
		rank = (uint64_t)ceil(pcts[i] / 100.0 * (double)h->total);
		if (rank == 0)
			rank = 1;
		for (size_t j = 0; j < n; j++) {
			seen += r[j].n;
			if (seen >= rank) {
				exact = r[j].value;
				break;
			}
		}
		if (pcts[i] == 0)
			exact = h->min;
		fuzz_check(v >= exact);
		fuzz_check(v <= histogram_highest_equivalent(histogram_index_of(exact)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t mode = fuzz_u8(&in);
	uint16_t pick;
	size_t n = 0;

	if (!(mode & 1)) {
		char *text = malloc(in.n + 1);

		fuzz_check(text);
		memcpy(text, in.p, in.n);
		text[in.n] = '\0';
		if (histogram_decode(&a, text) == 0) {
			fuzz_check(a.total == 0 || (a.min <= a.max && a.max <= HISTOGRAM_HIGHEST));
			fuzz_check(isfinite(a.sum) && isfinite(a.sumsq) && a.overflow <= a.total);
			round_trip(&a);
		} else {
			/* Refused: emptied. */
			fuzz_check(a.total == 0 && a.min == UINT64_MAX && a.max == 0);
		}
		free(text);
		return 0;
	}

	pick = (uint16_t)fuzz_uint(&in, 2);
	histogram_reset(&a);
	histogram_reset(&b);
	histogram_reset(&all);
	while (in.n >= 11 && n < MAX_RECORDS) {
		uint8_t shift = fuzz_u8(&in);
		uint64_t value = fuzz_uint(&in, 8) >> (shift & 63), count = fuzz_uint(&in, 2);

		histogram_record_n(shift & 0x80 ? &b : &a, value, count);
		histogram_record_n(&all, value, count);
		if (count) {
			recs[n].value = value > HISTOGRAM_HIGHEST ? HISTOGRAM_HIGHEST : value;
			recs[n++].n = count;
		}
	}
	round_trip(&a);
	round_trip(&b);
	histogram_merge(&a, &b);
	/* Sums may differ in the last bits: the additions came in another order. */
	check_same(&a, &all, false);
	fuzz_check(fabs(a.sum - all.sum) <= 1e-9 * all.sum);
	round_trip(&a);
	check_percentiles(&all, recs, n, pick);
	return 0;
}
