/* SPDX-License-Identifier: MIT */
/*
 * HdrHistogram interval logs (see hdr-log.h). The encoding follows
 * HdrHistogram's Java reference (AbstractHistogram.encodeIntoByteBuffer(),
 * ZigZagEncoding, HistogramLogWriter); HdrHistogram_c and HdrHistogram.js
 * read and write the same bytes.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "hdr-log.h"
#include "histogram.h"
#include "macro.h"
#include "report-read.h"

const struct hdr_layout hdr_layout_wsbench = {
	.lowest = 1,
	.highest = (int64_t)HISTOGRAM_HIGHEST,
	.significant = HISTOGRAM_SIGNIFICANT,
};

size_t hdr_layout_counts_len(const struct hdr_layout *layout)
{
	int64_t largest_single_unit = 2, smallest_untrackable;
	unsigned sub_bucket_count_magnitude = 0, half_magnitude, unit_magnitude;
	size_t buckets = 1, sub_bucket_count;

	if (layout->lowest < 1 || layout->significant < 1 || layout->significant > 5 ||
	    layout->lowest > layout->highest / 2)
		return 0;
	for (int32_t i = 0; i < layout->significant; i++)
		largest_single_unit *= 10;
	while ((INT64_C(1) << sub_bucket_count_magnitude) < largest_single_unit)
		sub_bucket_count_magnitude++;
	half_magnitude = (sub_bucket_count_magnitude > 1 ? sub_bucket_count_magnitude : 1) - 1;
	unit_magnitude = 63u - (unsigned)__builtin_clzll((unsigned long long)layout->lowest);
	if (unit_magnitude + half_magnitude > 61)
		return 0;
	sub_bucket_count = (size_t)1 << (half_magnitude + 1);
	smallest_untrackable = (int64_t)sub_bucket_count << unit_magnitude;
	while (smallest_untrackable <= layout->highest) {
		if (smallest_untrackable > INT64_MAX / 2) {
			buckets++;
			break;
		}
		smallest_untrackable <<= 1;
		buckets++;
	}
	return (buckets + 1) * (sub_bucket_count / 2);
}

size_t hdr_zigzag_put(uint8_t *buf, int64_t value)
{
	/* ZigZag: 0, -1, 1, -2... become 0, 1, 2, 3... */
	uint64_t v = value < 0 ? ~((uint64_t)value << 1) : (uint64_t)value << 1;
	size_t n = 0;

	for (int i = 0; i < 8; i++) {
		if ((v >> 7) == 0) {
			buf[n++] = (uint8_t)v;
			return n;
		}
		buf[n++] = (uint8_t)((v & 0x7f) | 0x80);
		v >>= 7;
	}
	buf[n++] = (uint8_t)v; /* the ninth byte: the remaining 8 bits, no continuation */
	return n;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int hdr_encode_v2(const struct hdr_layout *layout, const uint64_t *counts, size_t n_counts,
                  uint8_t **ret, size_t *ret_len)
{
	size_t limit = 1, payload = 0;
	uint8_t *buf, *p;
	double one = 1.0;
	uint64_t one_bits;

	/* Up to the last non-empty count; an empty histogram writes one 0. */
	for (size_t i = n_counts; i > 0; i--)
		if (counts[i - 1]) {
			limit = i;
			break;
		}
	for (size_t i = 0; i < n_counts; i++)
		if (counts[i] > (uint64_t)INT64_MAX)
			return -EINVAL;
	if (limit > SIZE_MAX / HDR_ZIGZAG_MAX - HDR_V2_HEADER_SIZE)
		return -ENOMEM;
	buf = malloc(HDR_V2_HEADER_SIZE + limit * HDR_ZIGZAG_MAX);
	if (!buf)
		return -ENOMEM;
	p = buf + HDR_V2_HEADER_SIZE;
	for (size_t i = 0; i < limit;) {
		uint64_t count = i < n_counts ? counts[i] : 0;
		size_t zeros = 0;

		i++;
		if (count == 0) {
			zeros = 1;
			while (i < limit && counts[i] == 0) {
				zeros++;
				i++;
			}
		}
		/* A run of empty buckets is one negative number; a single one is 0. */
		payload +=
		    hdr_zigzag_put(p + payload, zeros > 1 ? -(int64_t)zeros : (int64_t)count);
	}
	memcpy(&one_bits, &one, sizeof(one_bits));
	put_be32(buf, HDR_V2_ENCODING_COOKIE);
	put_be32(buf + 4, (uint32_t)payload);
	put_be32(buf + 8, 0); /* normalizing index offset */
	put_be32(buf + 12, (uint32_t)layout->significant);
	put_be64(buf + 16, (uint64_t)layout->lowest);
	put_be64(buf + 24, (uint64_t)layout->highest);
	put_be64(buf + 32, one_bits); /* integer to double value conversion ratio */
	*ret = buf;
	*ret_len = HDR_V2_HEADER_SIZE + payload;
	return 0;
}

int hdr_compress(const uint8_t *encoded, size_t len, uint8_t **ret, size_t *ret_len)
{
	uLongf deflated = compressBound((uLong)len);
	uint8_t *buf;

	if (len > UINT32_MAX / 2)
		return -ENOMEM;
	buf = malloc(8 + deflated);
	if (!buf)
		return -ENOMEM;
	if (compress2(buf + 8, &deflated, encoded, (uLong)len, Z_BEST_COMPRESSION) != Z_OK) {
		free(buf);
		return -EIO;
	}
	put_be32(buf, HDR_V2_COMPRESSED_COOKIE);
	put_be32(buf + 4, (uint32_t)deflated);
	*ret = buf;
	*ret_len = 8 + deflated;
	return 0;
}

char *hdr_base64(const uint8_t *data, size_t len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *s, *p;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	s = malloc((len + 2) / 3 * 4 + 1);
	if (!s)
		return NULL;
	p = s;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)data[i + 1] << 8;
		if (left > 2)
			v |= data[i + 2];
		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = left > 1 ? alphabet[(v >> 6) & 63] : '=';
		*p++ = left > 2 ? alphabet[v & 63] : '=';
	}
	*p = '\0';
	return s;
}

int hdr_histogram_base64(const struct histogram *h, char **ret)
{
	_cleanup_free_ uint8_t *encoded = NULL, *compressed = NULL;
	size_t encoded_len, compressed_len;
	char *text;
	int r;

	r = hdr_encode_v2(&hdr_layout_wsbench, h->counts, HISTOGRAM_COUNTS_LEN, &encoded,
	                  &encoded_len);
	if (r < 0)
		return r;
	r = hdr_compress(encoded, encoded_len, &compressed, &compressed_len);
	if (r < 0)
		return r;
	text = hdr_base64(compressed, compressed_len);
	if (!text)
		return -ENOMEM;
	*ret = text;
	return 0;
}

/* Text for a "#" comment line: no line breaks or other control characters,
 * which would end the comment and start a line a reader parses. */
static void put_comment_text(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static int write_interval(FILE *out, const char *tag, const struct histogram *h, double start,
                          double length)
{
	_cleanup_free_ char *b64 = NULL;
	int r = hdr_histogram_base64(h, &b64);

	if (r < 0)
		return r;
	if (tag)
		fprintf(out, "Tag=%s,", tag);
	fprintf(out, "%.3f,%.3f,%.3f,%s\n", start, length, (double)h->max / 1000.0, b64);
	return 0;
}

static double number_or(const cJSON *report, const char *path, double fallback)
{
	double v;

	return report_get_number(report, path, &v) == 0 && v >= 0 ? v : fallback;
}

int hdr_log_write(FILE *out, const struct cJSON *report)
{
	_cleanup_free_ struct histogram *corrected = NULL, *uncorrected = NULL;
	double start = 0, offset, length;
	bool have_uncorrected;
	char date[64] = "";
	int r;

	if (!cJSON_IsObject(report))
		return -EINVAL;
	corrected = malloc(sizeof(*corrected));
	uncorrected = malloc(sizeof(*uncorrected));
	if (!corrected || !uncorrected)
		return -ENOMEM;
	r = report_get_histogram(report, "corrected", corrected);
	if (r < 0)
		return r;
	have_uncorrected = report_get_histogram(report, "uncorrected", uncorrected) == 0;

	if (report_parse_time(report_get_string(report, "metadata.start"), &start) == 0) {
		time_t secs = (time_t)start;
		struct tm tm;

		if (gmtime_r(&secs, &tm))
			strftime(date, sizeof(date), "%a %b %d %H:%M:%S UTC %Y", &tm);
	}
	offset = number_or(report, "clientConfig.ramp_up_s", 0) +
	         number_or(report, "clientConfig.warmup_s", 0);
	length = number_or(report, "throughput.measured_seconds", 0);

	fprintf(out, "#[Histogram log format version 1.3]\n");
	fprintf(out, "#[StartTime: %.3f (seconds since epoch), %s]\n", start, date);
	fprintf(out, "#[BaseTime: %.3f (seconds since epoch)]\n", start);
	fputs("#[wsbench run ", out);
	put_comment_text(out, report_get_string(report, "metadata.id"));
	fputs(": scenario ", out);
	put_comment_text(out, report_get_string(report, "metadata.scenario"));
	fputs(", server ", out);
	put_comment_text(out, report_get_string(report, "metadata.server"));
	fputs(", state ", out);
	put_comment_text(out, report_get_string(report, "metadata.state"));
	fputs("]\n", out);
	fprintf(out, "#[Values are latencies in microseconds (HistogramLogProcessor: "
	             "-outputValueUnitRatio 1000 for milliseconds); Interval_Max is in "
	             "milliseconds]\n");
	fprintf(out, "#[Untagged: corrected for coordinated omission (from the scheduled send "
	             "time); Tag=uncorrected: from the actual send time]\n");
	fprintf(out, "#[One interval: the measured period, after ramp-up and warm-up]\n");
	fprintf(out,
	        "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_"
	        "Histogram\"\n");
	r = write_interval(out, NULL, corrected, offset, length);
	if (r == 0 && have_uncorrected)
		r = write_interval(out, "uncorrected", uncorrected, offset, length);
	if (r < 0)
		return r;
	return ferror(out) ? -EIO : 0;
}
