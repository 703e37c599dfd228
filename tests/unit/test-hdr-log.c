/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for report/hdr-log.c: ZigZag LEB128-64b9B, base64, the V2
 * encoding and its compressed form against vectors HdrHistogram's own
 * implementations produced, the bucket layout against HdrHistogram's index
 * arithmetic, and the interval log's shape.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "hdr-log.h"
#include "histogram.h"

static void assert_zigzag(int64_t v, const char *hex)
{
	uint8_t buf[HDR_ZIGZAG_MAX];
	char got[2 * HDR_ZIGZAG_MAX + 1] = "";
	size_t n = hdr_zigzag_put(buf, v);

	for (size_t i = 0; i < n; i++)
		sprintf(got + 2 * i, "%02x", buf[i]);
	assert_string_equal(got, hex);
}

static void test_zigzag(void **state)
{
	assert_zigzag(0, "00");
	assert_zigzag(-1, "01");
	assert_zigzag(1, "02");
	assert_zigzag(63, "7e");
	assert_zigzag(-64, "7f");
	assert_zigzag(64, "8001");
	assert_zigzag(-42, "53"); /* a run of 42 empty buckets */
	assert_zigzag(300, "d804");
	/* 2^55: zigzag 2^56 needs the ninth byte. */
	assert_zigzag(INT64_C(1) << 55, "808080808080808001");
	/* The ninth byte carries 8 bits: 9 bytes, never 10. */
	assert_zigzag(INT64_MAX, "feffffffffffffffff");
	assert_zigzag(INT64_MIN, "ffffffffffffffffff");
}

static void test_base64(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = { { "", "" },
		  { "f", "Zg==" },
		  { "fo", "Zm8=" },
		  { "foo", "Zm9v" },
		  { "foob", "Zm9vYg==" },
		  { "fooba", "Zm9vYmE=" },
		  { "foobar", "Zm9vYmFy" } }; /* RFC 4648, section 10 */

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *s = hdr_base64((const uint8_t *)v[i].in, strlen(v[i].in));

		assert_non_null(s);
		assert_string_equal(s, v[i].out);
		free(s);
	}
}

/* HdrHistogram's counts_index_for() (hdr_histogram.c), written from its
 * definition for unit magnitude 0: the bucket is the position of the
 * highest bit above the sub-bucket mask. */
static size_t hdr_reference_index(uint64_t value, unsigned sub_bucket_half_magnitude)
{
	uint64_t mask = (UINT64_C(1) << (sub_bucket_half_magnitude + 1)) - 1;
	unsigned pow2ceiling = 64 - (unsigned)__builtin_clzll(value | mask);
	unsigned bucket = pow2ceiling - (sub_bucket_half_magnitude + 1);
	uint64_t sub = value >> bucket;

	return ((size_t)(bucket + 1) << sub_bucket_half_magnitude) +
	       (size_t)(sub - (UINT64_C(1) << sub_bucket_half_magnitude));
}

static void test_layout_is_hdrhistograms(void **state)
{
	struct hdr_layout small = { 1, 2, 3 }, java = { 1, INT64_C(9007199254740991), 2 },
	                  bad = { 0, 100, 3 };

	assert_int_equal(hdr_layout_counts_len(&hdr_layout_wsbench), HISTOGRAM_COUNTS_LEN);
	assert_int_equal(hdr_layout_counts_len(&small), 2048);
	assert_int_equal(hdr_layout_counts_len(&bad), 0);
	assert_true(hdr_layout_counts_len(&java) > 0);
	/* Every value lands where HdrHistogram would put it. */
	for (uint64_t v = 0; v < 100000; v++)
		assert_int_equal(histogram_index_of(v), hdr_reference_index(v, 10));
	for (uint64_t v = 100000; v <= HISTOGRAM_HIGHEST; v += v / 977 + 1)
		assert_int_equal(histogram_index_of(v), hdr_reference_index(v, 10));
	assert_int_equal(histogram_index_of(HISTOGRAM_HIGHEST),
	                 hdr_reference_index(HISTOGRAM_HIGHEST, 10));
	assert_true(histogram_index_of(HISTOGRAM_HIGHEST) < HISTOGRAM_COUNTS_LEN);
}

static char *hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

static char *encode_one_42(const struct hdr_layout *layout, bool compressed)
{
	uint64_t counts[64] = { 0 };
	uint8_t *enc, *comp;
	size_t len, clen;
	char *out;

	counts[42] = 1;
	assert_int_equal(hdr_encode_v2(layout, counts, 64, &enc, &len), 0);
	if (!compressed) {
		out = hex(enc, len);
		free(enc);
		return out;
	}
	assert_int_equal(hdr_compress(enc, len, &comp, &clen), 0);
	out = hdr_base64(comp, clen);
	free(enc);
	free(comp);
	return out;
}

/*
 * Vectors from HdrHistogram.js's encoding tests (src/encoding.spec.ts),
 * written by the Java implementation: the value 42 recorded once.
 */
static void test_known_vectors(void **state)
{
	struct hdr_layout a = { 1, 2, 3 }, b = { 1, INT64_C(9007199254740991), 2 };
	char *s;

	/* Uncompressed: cookie, payload length 2, offset 0, digits, lowest,
	 * highest, ratio 1.0, then -42 (42 empty buckets) and 1. */
	s = encode_one_42(&a, false);
	assert_string_equal(s, "1c849313000000020000000000000003"
	                       "00000000000000010000000000000002"
	                       "3ff00000000000005302");
	free(s);
	/* Compressed at zlib's best compression, as the Java log writer does:
	 * byte for byte the same. */
	s = encode_one_42(&a, true);
	assert_string_equal(s, "HISTFAAAAB542pNpmSzMwMDAxAABzFCaEUoz2X+AMIKZAEARAtM=");
	free(s);
	s = encode_one_42(&b, true);
	assert_string_equal(s, "HISTFAAAACB42pNpmSzMwMDAxAABMJqRQf4/GNh/gAgEMwEAkp4I6Q==");
	free(s);
}

static void test_zero_runs_and_limits(void **state)
{
	uint64_t counts[8] = { 0, 0, 5, 0, 7, 0, 0, 0 }, empty[4] = { 0 };
	uint8_t *enc;
	size_t len;
	char *s;

	assert_int_equal(hdr_encode_v2(&hdr_layout_wsbench, counts, 8, &enc, &len), 0);
	/* -2 (two empty), 5, a lone 0 written as 0, 7; nothing after the last count. */
	s = hex(enc + HDR_V2_HEADER_SIZE, len - HDR_V2_HEADER_SIZE);
	assert_string_equal(s, "030a000e");
	assert_int_equal(enc[7], 4); /* payload length */
	free(s);
	free(enc);
	/* Empty: one 0, as HdrHistogram writes it. */
	assert_int_equal(hdr_encode_v2(&hdr_layout_wsbench, empty, 4, &enc, &len), 0);
	assert_int_equal(len, HDR_V2_HEADER_SIZE + 1);
	assert_int_equal(enc[HDR_V2_HEADER_SIZE], 0);
	free(enc);
	counts[3] = UINT64_MAX;
	assert_int_equal(hdr_encode_v2(&hdr_layout_wsbench, counts, 8, &enc, &len), -EINVAL);
}

/* Decodes a compressed V2 histogram (as a reader would) into counts. */
static void decode_v2(const char *b64, uint64_t *counts, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = strlen(b64), blen = 0, idx = 0;
	uint8_t *bin = malloc(len), *raw;
	uLongf raw_len = 1 << 20;
	uint32_t acc = 0, bits = 0, payload;

	for (size_t i = 0; i < len && b64[i] != '='; i++) {
		acc = (acc << 6) | (uint32_t)(strchr(alphabet, b64[i]) - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bin[blen++] = (uint8_t)(acc >> bits);
		}
	}
	assert_int_equal((bin[0] << 24 | bin[1] << 16 | bin[2] << 8 | bin[3]),
	                 HDR_V2_COMPRESSED_COOKIE);
	raw = malloc(raw_len);
	assert_int_equal(uncompress(raw, &raw_len, bin + 8, blen - 8), Z_OK);
	payload = (uint32_t)raw[4] << 24 | raw[5] << 16 | raw[6] << 8 | raw[7];
	memset(counts, 0, n * sizeof(*counts));
	for (size_t p = HDR_V2_HEADER_SIZE; p < HDR_V2_HEADER_SIZE + payload;) {
		uint64_t z = 0;
		int64_t v;
		unsigned shift = 0;

		for (int k = 0; k < 9; k++, shift += 7) {
			uint8_t byte = raw[p++];

			if (k == 8) {
				z |= (uint64_t)byte << 56;
				break;
			}
			z |= (uint64_t)(byte & 0x7f) << shift;
			if (!(byte & 0x80))
				break;
		}
		v = (z & 1) ? -(int64_t)(z >> 1) - 1 : (int64_t)(z >> 1);
		if (v < 0)
			idx += (size_t)-v;
		else
			counts[idx++] = (uint64_t)v;
	}
	free(raw);
	free(bin);
}

static void test_histogram_round_trip(void **state)
{
	struct histogram *h = malloc(sizeof(*h));
	uint64_t *back = malloc(sizeof(h->counts)), x = 88172645463325252ULL;
	char *b64;

	histogram_reset(h);
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		histogram_record(h, (x % 5000000) * (x % 3 ? 1 : 700));
	}
	histogram_record_n(h, 7, UINT64_C(1) << 40); /* a count past 32 bits */
	assert_int_equal(hdr_histogram_base64(h, &b64), 0);
	assert_true(strncmp(b64, "HISTF", 5) == 0);
	decode_v2(b64, back, HISTOGRAM_COUNTS_LEN);
	assert_memory_equal(back, h->counts, sizeof(h->counts));
	free(b64);
	free(back);
	free(h);
}

static char *log_of(const char *json, int *ret)
{
	cJSON *j = cJSON_Parse(json);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*ret = hdr_log_write(f, j);
	fclose(f);
	cJSON_Delete(j);
	return buf;
}

static void test_log(void **state)
{
	char *s;
	int r;

	s = log_of(
	    "{\"metadata\":{\"id\":\"r1\\n0.0,1.0,2.0,HISTx\",\"scenario\":\"s\","
	    "\"server\":\"x\",\"state\":\"finished\",\"start\":\"2026-01-02T03:04:05.250Z\"},"
	    "\"clientConfig\":{\"ramp_up_s\":1,\"warmup_s\":0.5},"
	    "\"throughput\":{\"measured_seconds\":10},"
	    "\"histogram\":{\"unit\":\"us\",\"corrected\":\"hdr1 2 100 2000 0 2100 4010000 "
	    "100:1 1512:1\",\"uncorrected\":\"hdr1 1 90 90 0 90 8100 90:1\"}}",
	    &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "#[Histogram log format version 1.3]\n"
	                          "#[StartTime: 1767323045.250 (seconds since epoch), Fri Jan 02 "
	                          "03:04:05 UTC 2026]\n#[BaseTime: 1767323045.250 (seconds since "
	                          "epoch)]\n"));
	/* A line break in a name cannot start a line of its own. */
	assert_non_null(strstr(s, "#[wsbench run r1?0.0,1.0,2.0,HISTx: scenario s,"));
	assert_non_null(strstr(s, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
	                          "\"Interval_Compressed_Histogram\"\n1.500,10.000,2.000,HISTF"));
	assert_non_null(strstr(s, "\nTag=uncorrected,1.500,10.000,0.090,HISTF"));
	free(s);

	s = log_of("{\"metadata\":{}}", &r);
	assert_int_equal(r, -ENOENT);
	free(s);
	s = log_of("{\"histogram\":{\"corrected\":\"hdr1 garbage\"}}", &r);
	assert_int_equal(r, -EINVAL);
	free(s);
	s = log_of("[1,2]", &r);
	assert_int_equal(r, -EINVAL);
	free(s);
	/* Only the corrected histogram, no start: still a log. */
	s = log_of("{\"histogram\":{\"corrected\":\"hdr1 1 5 5 0 5 25 5:1\"}}", &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "\n0.000,0.000,0.005,HISTF"));
	assert_null(strstr(s, "\nTag="));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zigzag),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_layout_is_hdrhistograms),
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_zero_runs_and_limits),
		cmocka_unit_test(test_histogram_round_trip),
		cmocka_unit_test(test_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
