/* SPDX-License-Identifier: MIT */
/* Unit tests for echo/frame-guard.c: the unmasked-frame detector must follow
 * frame boundaries across any split of the byte stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "frame-guard.h"
#include "macro.h"

static const char http_head[] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n";

/* Encodes a client frame header (+ key, + zero payload) into buf. */
static size_t frame(uint8_t *buf, uint8_t opcode, uint64_t len, int masked)
{
	size_t n = 0;

	buf[n++] = 0x80 | opcode;
	if (len < 126) {
		buf[n++] = (masked ? 0x80 : 0) | (uint8_t)len;
	} else if (len < 65536) {
		buf[n++] = (masked ? 0x80 : 0) | 126;
		buf[n++] = (uint8_t)(len >> 8);
		buf[n++] = (uint8_t)len;
	} else {
		buf[n++] = (masked ? 0x80 : 0) | 127;
		for (int i = 7; i >= 0; i--)
			buf[n++] = (uint8_t)(len >> (8 * i));
	}
	if (masked) {
		memcpy(buf + n, "\x01\x02\x03\x04", 4);
		n += 4;
	}
	memset(buf + n, 'a', (size_t)len);
	return n + (size_t)len;
}

static uint8_t stream[300000];

static size_t build_stream(int last_masked)
{
	size_t n = 0;

	memcpy(stream, http_head, strlen(http_head));
	n += strlen(http_head);
	n += frame(stream + n, 1, 0, 1);
	n += frame(stream + n, 2, 125, 1);
	n += frame(stream + n, 2, 126, 1);
	n += frame(stream + n, 9, 5, 1);
	n += frame(stream + n, 2, 70000, 1);
	n += frame(stream + n, 1, 3, last_masked);
	return n;
}

static void feed_in_pieces(struct frame_guard *g, size_t total, size_t piece)
{
	for (size_t off = 0; off < total; off += piece) {
		size_t n = total - off < piece ? total - off : piece;

		frame_guard_feed(g, stream + off, n);
	}
}

static void test_masked_stream_passes_any_split(void **state)
{
	size_t total = build_stream(1);
	static const size_t pieces[] = { 1, 2, 3, 7, 126, 4096, 300000 };

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct frame_guard g;

		frame_guard_reset(&g);
		feed_in_pieces(&g, total, pieces[i]);
		assert_false(frame_guard_violated(&g));
		assert_int_equal(g.frames, 6);
		assert_int_equal(g.state, FRAME_GUARD_HEADER0);
	}
}

static void test_unmasked_frame_detected_any_split(void **state)
{
	size_t total = build_stream(0);
	static const size_t pieces[] = { 1, 5, 1000, 300000 };

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct frame_guard g;

		frame_guard_reset(&g);
		feed_in_pieces(&g, total, pieces[i]);
		assert_true(frame_guard_violated(&g));
		assert_int_equal(g.frames, 5);
	}
}

static void test_violation_is_sticky(void **state)
{
	struct frame_guard g;
	uint8_t buf[64];
	size_t n;

	frame_guard_reset(&g);
	frame_guard_feed(&g, (const uint8_t *)http_head, strlen(http_head));
	n = frame(buf, 1, 4, 0);
	assert_true(frame_guard_feed(&g, buf, n));
	n = frame(buf, 1, 4, 1);
	assert_true(frame_guard_feed(&g, buf, n));
}

static void test_payload_looking_like_header_is_skipped(void **state)
{
	struct frame_guard g;
	uint8_t buf[64];
	size_t n;

	/* A masked frame whose payload bytes would read as an unmasked header. */
	frame_guard_reset(&g);
	frame_guard_feed(&g, (const uint8_t *)http_head, strlen(http_head));
	n = frame(buf, 2, 4, 1);
	memcpy(buf + n - 4, "\x81\x05\x81\x05", 4);
	assert_false(frame_guard_feed(&g, buf, n));
	assert_int_equal(g.frames, 1);
}

static void test_scan_stops_after_each_ping(void **state)
{
	struct frame_guard g;
	uint8_t buf[128];
	size_t n = 0, used, p1, p2;

	frame_guard_reset(&g);
	frame_guard_feed(&g, (const uint8_t *)http_head, strlen(http_head));
	n += frame(buf + n, 9, 3, 1);
	p1 = n;
	n += frame(buf + n, 9, 0, 1);
	p2 = n;
	n += frame(buf + n, 1, 5, 1);

	used = frame_guard_scan(&g, buf, n, true);
	assert_int_equal(used, p1);
	assert_true(g.ping_ended);
	used += frame_guard_scan(&g, buf + used, n - used, true);
	assert_int_equal(used, p2);
	assert_true(g.ping_ended);
	used += frame_guard_scan(&g, buf + used, n - used, true);
	assert_int_equal(used, n);
	assert_false(g.ping_ended);
	assert_int_equal(g.frames, 3);
}

static void test_violation_reports_where_the_frame_began(void **state)
{
	struct frame_guard g;
	uint8_t buf[128];
	size_t n = 0, bad, used;

	frame_guard_reset(&g);
	frame_guard_feed(&g, (const uint8_t *)http_head, strlen(http_head));
	n += frame(buf + n, 1, 5, 1);
	n += frame(buf + n, 2, 7, 1);
	bad = n;
	n += frame(buf + n, 9, 4, 0); /* an unmasked ping */
	used = frame_guard_scan(&g, buf, n, false);
	assert_true(frame_guard_violated(&g));
	assert_int_equal(used, bad + 2);
	assert_int_equal(g.frame_start, bad);
}

/* A server frame with a status code: 0x88, length, code, reason. */
static size_t server_close(uint8_t *buf, uint16_t code)
{
	buf[0] = 0x88;
	buf[1] = 4;
	buf[2] = (uint8_t)(code >> 8);
	buf[3] = (uint8_t)code;
	memcpy(buf + 4, "ab", 2);
	return 6;
}

static void test_outbound_stops_after_close_any_split(void **state)
{
	static const char response[] =
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
	uint8_t buf[400];
	size_t n = 0, end;

	memcpy(buf, response, strlen(response));
	n += strlen(response);
	n += frame(buf + n, 1, 200, 0); /* server frames are not masked */
	n += frame(buf + n, 10, 3, 0);
	n += server_close(buf + n, 1002);
	end = n;
	n += frame(buf + n, 1, 10, 0); /* must never be let through */
	for (size_t piece = 1; piece <= n; piece++) {
		struct frame_guard g;
		size_t used = 0;

		frame_guard_reset_outbound(&g);
		for (size_t off = 0; off < n && !frame_guard_closed(&g); off += piece)
			used += frame_guard_scan(&g, buf + off, MIN(piece, n - off), false);
		assert_true(frame_guard_closed(&g));
		assert_false(frame_guard_violated(&g));
		assert_int_equal(used, end);
		assert_int_equal(g.close_code, 1002);
		assert_int_equal(g.frames, 3);
	}
}

static void test_inbound_close_is_recognised(void **state)
{
	struct frame_guard g;
	uint8_t buf[64];
	size_t n = 0, end;

	frame_guard_reset(&g);
	frame_guard_feed(&g, (const uint8_t *)http_head, strlen(http_head));
	n += frame(buf + n, 1, 3, 1);
	n += frame(buf + n, 8, 2, 1);
	end = n;
	n += frame(buf + n, 1, 3, 1);
	assert_int_equal(frame_guard_scan(&g, buf, n, false), end);
	assert_true(frame_guard_closed(&g));
	/* Masked: the status code is not read. */
	assert_int_equal(g.close_code, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masked_stream_passes_any_split),
		cmocka_unit_test(test_unmasked_frame_detected_any_split),
		cmocka_unit_test(test_violation_is_sticky),
		cmocka_unit_test(test_payload_looking_like_header_is_skipped),
		cmocka_unit_test(test_scan_stops_after_each_ping),
		cmocka_unit_test(test_violation_reports_where_the_frame_began),
		cmocka_unit_test(test_outbound_stops_after_close_any_split),
		cmocka_unit_test(test_inbound_close_is_recognised),
	};

	return cmocka_run_group_tests_name("frame-guard", tests, NULL, NULL);
}
