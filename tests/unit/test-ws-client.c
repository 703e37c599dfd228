/* SPDX-License-Identifier: MIT */
/* Unit tests for load/ws-client.c: the handshake and its accept check, masked
 * frames, and the server-frame parser under every split of the byte stream. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ws-client.h"

/* ---- handshake ------------------------------------------------------------------ */

static void test_accept_key_rfc_example(void **state)
{
	char accept[WS_ACCEPT_LEN + 1];

	/* RFC 6455 section 1.3. */
	ws_accept_for_key("dGhlIHNhbXBsZSBub25jZQ==", accept);
	assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_key_from_nonce(void **state)
{
	/* The RFC's key is base64 of "the sample nonce". */
	struct ws_handshake h;
	char req[512];
	int n;

	ws_handshake_init(&h, (const uint8_t *)"the sample nonce");
	assert_string_equal(h.key, "dGhlIHNhbXBsZSBub25jZQ==");
	assert_string_equal(h.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	n = ws_handshake_request(&h, "127.0.0.1:9000", "/chat", req, sizeof(req));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(req));
	assert_non_null(strstr(req, "GET /chat HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "\r\nHost: 127.0.0.1:9000\r\n"));
	assert_non_null(strstr(req, "\r\nUpgrade: websocket\r\n"));
	assert_non_null(strstr(req, "\r\nConnection: Upgrade\r\n"));
	assert_non_null(strstr(req, "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
	assert_non_null(strstr(req, "\r\nSec-WebSocket-Version: 13\r\n"));
	assert_int_equal(memcmp(req + n - 4, "\r\n\r\n", 4), 0);
	assert_int_equal(ws_handshake_request(&h, "127.0.0.1:9000", "/chat", req, 40), -ENOBUFS);
}

static const char good_response[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                    "upgrade: WebSocket\r\n"
                                    "Server: some server with a long header line that goes on "
                                    "and on past what the parser keeps of a line, "
                                    "Sec-WebSocket-Accept: bogus\r\n"
                                    "Connection: keep-alive, Upgrade\r\n"
                                    "Sec-WebSocket-Accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n"
                                    "\r\n";

static void test_handshake_split_everywhere(void **state)
{
	/* The response, then a frame that arrived in the same read. */
	uint8_t buf[sizeof(good_response) + 8];
	size_t resp = strlen(good_response), total = resp + 7;

	memcpy(buf, good_response, resp);
	memcpy(buf + resp, "\x81\x05hello", 7);
	for (size_t cut = 0; cut <= total; cut++) {
		struct ws_handshake h;
		ssize_t a, b = 0;

		ws_handshake_init(&h, (const uint8_t *)"the sample nonce");
		a = ws_handshake_parse(&h, buf, cut);
		assert_true(a >= 0);
		if (!h.done) {
			assert_int_equal(a, (ssize_t)cut);
			b = ws_handshake_parse(&h, buf + cut, total - cut);
			assert_true(b >= 0);
		}
		assert_true(h.done);
		assert_int_equal(h.status, 101);
		/* Exactly the response is consumed; the frame is left. */
		assert_int_equal((size_t)(a + b), resp);
	}
}

static void expect_refusal(const char *response, int status)
{
	struct ws_handshake h;

	ws_handshake_init(&h, (const uint8_t *)"the sample nonce");
	assert_int_equal(ws_handshake_parse(&h, (const uint8_t *)response, strlen(response)),
	                 -EPROTO);
	assert_false(h.done);
	assert_int_equal(h.status, status);
}

static void test_handshake_refusals(void **state)
{
	struct ws_handshake h;

	expect_refusal("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404);
	expect_refusal("HTTP/1.1 503 Service Unavailable\r\n", 503);
	expect_refusal("HTTP/1.1 200 OK\r\n\r\n", 200);
	expect_refusal("SSH-2.0-OpenSSH_9.2\r\n", 0);
	/* A wrong accept key, a missing Upgrade or Connection, things we did not ask for. */
	expect_refusal("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOx=\r\n\r\n",
	               101);
	expect_refusal("HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n"
	               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
	               101);
	expect_refusal("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: close\r\n"
	               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
	               101);
	expect_refusal("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	               "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
	               101);
	/* No end of headers within the bound. */
	ws_handshake_init(&h, (const uint8_t *)"the sample nonce");
	assert_int_equal(ws_handshake_parse(&h, (const uint8_t *)"HTTP/1.1 101 OK\r\n", 17), 17);
	for (int i = 0; i < 1000; i++) {
		ssize_t r = ws_handshake_parse(&h, (const uint8_t *)"X-Filler: 1234\r\n", 16);

		if (r < 0) {
			assert_int_equal(r, -EPROTO);
			return;
		}
	}
	fail_msg("an endless response was accepted");
}

/* ---- masked frames ------------------------------------------------------------------- */

static void test_mask_matches_naive(void **state)
{
	uint8_t buf[64], ref[64];
	const uint32_t mask = 0xa1b2c3d4;
	const uint8_t *key = (const uint8_t *)&mask;

	for (size_t start = 0; start < 8; start++) {
		for (size_t len = 0; start + len <= sizeof(buf); len++) {
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = ref[i] = (uint8_t)(i * 7 + 3);
			ws_mask(buf + start, len, mask);
			for (size_t i = 0; i < len; i++)
				ref[start + i] ^= key[i % 4];
			assert_memory_equal(buf, ref, sizeof(buf));
		}
	}
}

/* Decodes one masked client frame from @buf into @payload. Return: its size. */
static size_t unmask_frame(const uint8_t *buf, uint8_t *opcode, bool *fin, uint8_t *payload,
                           uint64_t *len)
{
	size_t n = 2;
	uint64_t l = buf[1] & 0x7f;
	uint8_t key[4];

	assert_true(buf[1] & 0x80);
	assert_int_equal(buf[0] & 0x70, 0);
	if (l == 126) {
		l = (uint64_t)buf[2] << 8 | buf[3];
		n = 4;
	} else if (l == 127) {
		l = 0;
		for (int i = 2; i < 10; i++)
			l = l << 8 | buf[i];
		n = 10;
	}
	memcpy(key, buf + n, 4);
	n += 4;
	for (uint64_t i = 0; i < l; i++)
		payload[i] = buf[n + i] ^ key[i % 4];
	*opcode = buf[0] & 0x0f;
	*fin = buf[0] & 0x80;
	*len = l;
	return n + (size_t)l;
}

static void test_frame_encode_lengths(void **state)
{
	static uint8_t payload[70000], frame[70100], back[70000];
	const size_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536, 70000 };
	struct ws_rng rng;

	ws_rng_seed(&rng);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t opcode;
		bool fin;
		uint64_t len;
		size_t n = ws_frame_encode(frame, WS_OP_BINARY, payload, lens[i],
		                           (uint32_t)ws_rng_next(&rng));

		assert_int_equal(n, ws_frame_header_len(lens[i]) + lens[i]);
		assert_int_equal(unmask_frame(frame, &opcode, &fin, back, &len), n);
		assert_int_equal(opcode, WS_OP_BINARY);
		assert_true(fin);
		assert_int_equal(len, lens[i]);
		assert_memory_equal(back, payload, lens[i]);
	}
	{
		uint8_t opcode;
		bool fin;
		uint64_t len;

		assert_int_equal(ws_close_encode(frame, 1000, 0x12345678), WS_CLOSE_FRAME_LEN);
		unmask_frame(frame, &opcode, &fin, back, &len);
		assert_int_equal(opcode, WS_OP_CLOSE);
		assert_int_equal(len, 2);
		assert_int_equal(back[0] << 8 | back[1], 1000);
	}
}

static void test_rng_differs(void **state)
{
	struct ws_rng a, b;
	uint64_t x = 0, y = 0;

	assert_int_equal(ws_rng_seed(&a), 0);
	assert_int_equal(ws_rng_seed(&b), 0);
	for (int i = 0; i < 4; i++) {
		x ^= ws_rng_next(&a);
		y ^= ws_rng_next(&b);
	}
	assert_true(x != y);
}

/* ---- the server's frames ---------------------------------------------------------------- */

static size_t server_frame(uint8_t *buf, uint8_t b0, const void *payload, uint64_t len)
{
	size_t n = 0;

	buf[n++] = b0;
	if (len < 126) {
		buf[n++] = (uint8_t)len;
	} else if (len < 65536) {
		buf[n++] = 126;
		buf[n++] = (uint8_t)(len >> 8);
		buf[n++] = (uint8_t)len;
	} else {
		buf[n++] = 127;
		for (int i = 7; i >= 0; i--)
			buf[n++] = (uint8_t)(len >> (8 * i));
	}
	if (len)
		memcpy(buf + n, payload, (size_t)len);
	return n + (size_t)len;
}

struct seen {
	enum ws_event_type type;
	enum ws_opcode opcode;
	uint64_t len;
	uint32_t sum; /* of the payload bytes */
	bool oversized;
	int close_code;
};

#define MAX_SEEN 32

struct feed {
	struct ws_parser p;
	struct seen seen[MAX_SEEN];
	unsigned n;
};

static uint32_t sum(const uint8_t *p, uint64_t len)
{
	uint32_t s = 0;

	for (uint64_t i = 0; i < len; i++)
		s = s * 31 + p[i];
	return s;
}

/* Feeds @len bytes; Return: 0 or the parser's error. */
static int feed(struct feed *f, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		struct ws_event ev;
		ssize_t r = ws_parser_next(&f->p, buf + off, len - off, &ev);

		if (r < 0)
			return (int)r;
		assert_true(r > 0);
		off += (size_t)r;
		if (ev.type == WS_EVENT_NONE) {
			assert_int_equal(off, len);
			continue;
		}
		assert_true(f->n < MAX_SEEN);
		f->seen[f->n++] = (struct seen){ .type = ev.type,
			                         .opcode = ev.opcode,
			                         .len = ev.len,
			                         .sum = ev.data ? sum(ev.data, ev.len) : 0,
			                         .oversized = ev.oversized,
			                         .close_code = ev.close_code };
	}
	return 0;
}

static uint8_t big[70000];
static uint8_t stream[80000];

/* Text, binary (16- and 64-bit lengths), a fragmented message with a ping
 * and an empty continuation among its fragments, a pong, an empty message,
 * a close. */
static size_t build_stream(void)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 5);
	n += server_frame(stream + n, 0x81, "hello", 5);
	n += server_frame(stream + n, 0x82, big, 300);
	n += server_frame(stream + n, 0x82, big, 70000);
	n += server_frame(stream + n, 0x01, "frag", 4);
	n += server_frame(stream + n, 0x89, "ping!", 5);
	n += server_frame(stream + n, 0x00, "", 0);
	n += server_frame(stream + n, 0x00, "men", 3);
	n += server_frame(stream + n, 0x80, "ted", 3);
	n += server_frame(stream + n, 0x8a, "", 0);
	n += server_frame(stream + n, 0x82, "", 0);
	n += server_frame(stream + n, 0x88,
	                  "\x03\xe8"
	                  "bye",
	                  5);
	return n;
}

static void check_stream_events(const struct feed *f)
{
	assert_int_equal(f->n, 7);
	assert_int_equal(f->seen[0].type, WS_EVENT_MESSAGE);
	assert_int_equal(f->seen[0].opcode, WS_OP_TEXT);
	assert_int_equal(f->seen[0].len, 5);
	assert_int_equal(f->seen[0].sum, sum((const uint8_t *)"hello", 5));
	assert_int_equal(f->seen[1].opcode, WS_OP_BINARY);
	assert_int_equal(f->seen[1].len, 300);
	assert_int_equal(f->seen[1].sum, sum(big, 300));
	assert_int_equal(f->seen[2].len, 70000);
	assert_int_equal(f->seen[2].sum, sum(big, 70000));
	assert_false(f->seen[2].oversized);
	/* The ping arrives between the fragments, before the message completes. */
	assert_int_equal(f->seen[3].type, WS_EVENT_PING);
	assert_int_equal(f->seen[3].sum, sum((const uint8_t *)"ping!", 5));
	assert_int_equal(f->seen[4].type, WS_EVENT_MESSAGE);
	assert_int_equal(f->seen[4].opcode, WS_OP_TEXT);
	assert_int_equal(f->seen[4].len, 10);
	assert_int_equal(f->seen[4].sum, sum((const uint8_t *)"fragmented", 10));
	assert_int_equal(f->seen[5].type, WS_EVENT_PONG);
	assert_int_equal(f->seen[5].len, 0);
	assert_int_equal(f->seen[6].type, WS_EVENT_MESSAGE);
	assert_int_equal(f->seen[6].len, 0);
	assert_int_equal(f->seen[6].opcode, WS_OP_BINARY);
	/* and the close; seen[] holds 7 + 1 */
}

static void test_parser_split_at_every_byte(void **state)
{
	size_t n = build_stream();
	struct feed *f = malloc(sizeof(*f));

	/* Every byte outside the 70000-byte payload, every 97th inside it. */
	for (size_t cut = 0; cut <= n; cut += cut > 400 && cut + 400 < n ? 97 : 1) {
		ws_parser_init(&f->p, 100000);
		f->n = 0;
		assert_int_equal(feed(f, stream, cut), 0);
		assert_int_equal(feed(f, stream + cut, n - cut), 0);
		f->n--; /* the close, checked below */
		check_stream_events(f);
		assert_int_equal(f->seen[7].type, WS_EVENT_CLOSE);
		assert_int_equal(f->seen[7].close_code, 1000);
		assert_int_equal(f->seen[7].len, 5);
		ws_parser_free(&f->p);
	}
	free(f);
}

static void test_parser_byte_by_byte(void **state)
{
	size_t n = build_stream();
	struct feed *f = malloc(sizeof(*f));

	ws_parser_init(&f->p, 100000);
	f->n = 0;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(feed(f, stream + i, 1), 0);
	f->n--;
	check_stream_events(f);
	assert_int_equal(f->seen[7].close_code, 1000);
	ws_parser_free(&f->p);
	free(f);
}

static void test_parser_oversized(void **state)
{
	uint8_t buf[200];
	size_t n = 0;
	struct feed f;

	/* Bound 10: 10 bytes pass, 11 in one frame or 15 in three fragments do
	 * not, and the buffer never grows past the bound. */
	n += server_frame(buf + n, 0x82, "0123456789", 10);
	n += server_frame(buf + n, 0x82, "0123456789A", 11);
	n += server_frame(buf + n, 0x02, "01234", 5);
	n += server_frame(buf + n, 0x00, "56789", 5);
	n += server_frame(buf + n, 0x80, "ABCDE", 5);
	n += server_frame(buf + n, 0x81, "ok", 2);
	for (size_t step = 1; step <= n; step++) {
		ws_parser_init(&f.p, 10);
		f.n = 0;
		for (size_t off = 0; off < n; off += step)
			assert_int_equal(feed(&f, buf + off, off + step <= n ? step : n - off), 0);
		assert_int_equal(f.n, 4);
		assert_false(f.seen[0].oversized);
		assert_int_equal(f.seen[0].sum, sum((const uint8_t *)"0123456789", 10));
		assert_true(f.seen[1].oversized);
		assert_int_equal(f.seen[1].len, 11);
		assert_true(f.seen[2].oversized);
		assert_int_equal(f.seen[2].len, 15);
		assert_false(f.seen[3].oversized);
		assert_int_equal(f.seen[3].len, 2);
		assert_true(f.p.msg_cap <= 10);
		ws_parser_free(&f.p);
	}
}

static void expect_protocol_error(const uint8_t *buf, size_t len)
{
	struct feed f;

	/* Whole, and one byte at a time. */
	ws_parser_init(&f.p, 1000);
	f.n = 0;
	assert_int_equal(feed(&f, buf, len), -EPROTO);
	ws_parser_free(&f.p);
	ws_parser_init(&f.p, 1000);
	f.n = 0;
	for (size_t i = 0; i < len; i++) {
		int r = feed(&f, buf + i, 1);

		if (r < 0) {
			assert_int_equal(r, -EPROTO);
			ws_parser_free(&f.p);
			return;
		}
	}
	fail_msg("no protocol error");
}

static void test_parser_protocol_errors(void **state)
{
	uint8_t buf[300];
	size_t n;

	/* A masked frame from the server (section 5.1), whose bytes would
	 * otherwise parse as two good frames. */
	expect_protocol_error((const uint8_t *)"\x82\x84\x01\x02\x03\x04\x81\x02hi", 10);
	/* RSV1, RSV3; reserved opcodes 3 and 0xb. */
	expect_protocol_error((const uint8_t *)"\xc1\x02hi", 4);
	expect_protocol_error((const uint8_t *)"\x91\x02hi", 4);
	expect_protocol_error((const uint8_t *)"\x83\x02hi", 4);
	expect_protocol_error((const uint8_t *)"\x8b\x00", 2);
	/* A fragmented ping; a ping with 126 bytes. */
	expect_protocol_error((const uint8_t *)"\x09\x02hi", 4);
	n = server_frame(buf, 0x89, big, 126);
	expect_protocol_error(buf, n);
	/* A continuation with nothing to continue; a new message inside one. */
	expect_protocol_error((const uint8_t *)"\x80\x02hi", 4);
	expect_protocol_error((const uint8_t *)"\x01\x02hi\x81\x02hi", 8);
	/* A close with one byte, or a code that must not be sent. */
	expect_protocol_error((const uint8_t *)"\x88\x01\x03", 3);
	expect_protocol_error((const uint8_t *)"\x88\x02\x03\xed", 4); /* 1005 */
	expect_protocol_error((const uint8_t *)"\x88\x02\x03\xe7", 4); /* 999 */
	/* A 64-bit length with the top bit set. */
	expect_protocol_error((const uint8_t *)"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10);
}

static void test_parser_close_without_code(void **state)
{
	struct feed f;

	ws_parser_init(&f.p, 100);
	f.n = 0;
	assert_int_equal(feed(&f, (const uint8_t *)"\x88\x00", 2), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.seen[0].type, WS_EVENT_CLOSE);
	assert_int_equal(f.seen[0].close_code, WS_CLOSE_NO_STATUS);
	ws_parser_init(&f.p, 100);
	f.n = 0;
	assert_int_equal(feed(&f, (const uint8_t *)"\x88\x02\x0f\xa0", 4), 0);
	assert_int_equal(f.seen[0].close_code, 4000);
}

static void test_parser_in_place(void **state)
{
	/* A whole message in the buffer is handed out where it lies. */
	uint8_t buf[16];
	struct ws_parser p;
	struct ws_event ev;
	size_t n = server_frame(buf, 0x81, "abc", 3);

	ws_parser_init(&p, 100);
	assert_int_equal(ws_parser_next(&p, buf, n, &ev), (ssize_t)n);
	assert_int_equal(ev.type, WS_EVENT_MESSAGE);
	assert_ptr_equal(ev.data, buf + 2);
	assert_null(p.msg);
	ws_parser_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_key_rfc_example),
		cmocka_unit_test(test_key_from_nonce),
		cmocka_unit_test(test_handshake_split_everywhere),
		cmocka_unit_test(test_handshake_refusals),
		cmocka_unit_test(test_mask_matches_naive),
		cmocka_unit_test(test_frame_encode_lengths),
		cmocka_unit_test(test_rng_differs),
		cmocka_unit_test(test_parser_split_at_every_byte),
		cmocka_unit_test(test_parser_byte_by_byte),
		cmocka_unit_test(test_parser_oversized),
		cmocka_unit_test(test_parser_protocol_errors),
		cmocka_unit_test(test_parser_close_without_code),
		cmocka_unit_test(test_parser_in_place),
	};

	return cmocka_run_group_tests_name("ws-client", tests, NULL, NULL);
}
