/* SPDX-License-Identifier: MIT */
/*
 * HdrHistogram interval logs: a report's latency histograms in the format
 * HdrHistogram's own tools read (HistogramLogProcessor, HistogramLogAnalyzer,
 * HdrHistogram.js's HistogramLogReader).
 *
 * Each histogram is written in HdrHistogram's V2 encoding: a 40-byte
 * big-endian header (cookie 0x1c849313, payload length, normalizing index
 * offset 0, significant digits, lowest discernible and highest trackable
 * value, integer-to-double ratio 1.0) and the counts array as ZigZag
 * LEB128-64b9B numbers, where a negative number -n stands for n empty
 * buckets. That is deflated (zlib), prefixed with the compressed cookie
 * 0x1c849314 and the deflated length, and base64-encoded ("HISTF...").
 *
 * common/histogram.h's bucket layout is HdrHistogram's for lowest
 * discernible value 1, highest trackable 3,600,000,000 and 3 significant
 * digits (sub-bucket count 2048, 22 buckets, 23,552 counts), so the counts
 * go over unchanged: the log is lossless. Values are microseconds. One
 * exception: values above 1 h were already clamped to 1 h when recorded.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cJSON;
struct histogram;

#define HDR_V2_ENCODING_COOKIE   0x1c849313u /* 0x1c849303 | word size 1 (LEB128) << 4 */
#define HDR_V2_COMPRESSED_COOKIE 0x1c849314u /* 0x1c849304 | 0x10 */
#define HDR_V2_HEADER_SIZE       40
#define HDR_ZIGZAG_MAX           9 /* bytes: LEB128-64b9B, the ninth byte carries 8 bits */

/* What fixes an HdrHistogram's bucket layout. */
struct hdr_layout {
	int64_t lowest;      /* lowest discernible value, >= 1 */
	int64_t highest;     /* highest trackable value, >= 2 * lowest */
	int32_t significant; /* significant value digits, 0..5 */
};

/* The layout common/histogram.h uses (values in µs). */
extern const struct hdr_layout hdr_layout_wsbench;

/**
 * hdr_layout_counts_len() - the length of HdrHistogram's counts array for
 * @layout, computed the way HdrHistogram does (hdr_init()).
 * Return: the length, or 0 for a layout HdrHistogram refuses.
 */
size_t hdr_layout_counts_len(const struct hdr_layout *layout);

/**
 * hdr_zigzag_put() - @value as ZigZag LEB128-64b9B.
 * @buf: room for HDR_ZIGZAG_MAX bytes.
 * Return: the number of bytes written.
 */
size_t hdr_zigzag_put(uint8_t *buf, int64_t value);

/**
 * hdr_encode_v2() - the uncompressed V2 encoding of @counts.
 * @counts: HdrHistogram's counts array for @layout; only the part up to the
 *          last non-empty count is written, as HdrHistogram does.
 * @ret, @ret_len: the malloc'd encoding.
 * Return: 0, -EINVAL for a count above INT64_MAX, or -ENOMEM.
 */
int hdr_encode_v2(const struct hdr_layout *layout, const uint64_t *counts, size_t n_counts,
                  uint8_t **ret, size_t *ret_len);

/**
 * hdr_compress() - deflate @encoded (best compression, as HdrHistogram's log
 * writers do) behind the compressed cookie and length.
 * Return: 0 with the malloc'd result, -ENOMEM, or -EIO when zlib fails.
 */
int hdr_compress(const uint8_t *encoded, size_t len, uint8_t **ret, size_t *ret_len);

/* Standard base64 with padding. Return: a malloc'd string, or NULL. */
char *hdr_base64(const uint8_t *data, size_t len);

/**
 * hdr_histogram_base64() - @h (common/histogram.h) as a compressed V2
 * histogram in base64, the last field of an interval log line.
 * Return: 0 with the malloc'd string in *@ret, or a negative errno.
 */
int hdr_histogram_base64(const struct histogram *h, char **ret);

/**
 * hdr_log_write() - @report's latency histograms as an interval log.
 *
 * The log has StartTime and BaseTime (the run's start), comments naming the
 * run and the unit, the legend, and one interval line per histogram: the
 * corrected one untagged (what the tools show by default), the uncorrected
 * one tagged "uncorrected". A report holds the measured period's
 * histograms, not per-second ones, so the interval is the measured period:
 * it starts ramp-up + warm-up after the run's start (to within the server's
 * start-up time) and lasts throughput.measured_seconds. Interval_Max is in
 * milliseconds.
 *
 * Return: 0; -ENOENT when the report has no histogram; -EINVAL when it is
 * not a report or a histogram does not decode; -ENOMEM; -EIO on a write
 * error.
 */
int hdr_log_write(FILE *out, const struct cJSON *report);
