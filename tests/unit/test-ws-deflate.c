/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for load/ws-deflate.c (RFC 7692: the offer, the checks of the
 * server's answer, per-message compression with context takeover or not,
 * corrupt streams) and for the payload generator (common/corpus.c and the
 * filler kinds of common/message.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "corpus.h"
#include "message.h"
#include "ws-deflate.h"

static int accept_str(const struct ws_deflate_offer *o, const char *answer,
                      struct ws_deflate_params *p)
{
	char buf[256];

	strcpy(buf, answer);
	return ws_deflate_accept(o, buf, p);
}

static void test_offer(void **state)
{
	struct ws_deflate_offer o = { 0 };
	char buf[WS_DEFLATE_OFFER_MAX];

	assert_true(ws_deflate_offer_format(&o, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "permessage-deflate; client_max_window_bits");
	o = (struct ws_deflate_offer){ .window_bits = 10, .server_no_context_takeover = true };
	assert_true(ws_deflate_offer_format(&o, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "permessage-deflate; client_max_window_bits=10; "
	                         "server_max_window_bits=10; server_no_context_takeover");
	assert_int_equal(ws_deflate_offer_format(&o, buf, 10), -ENOBUFS);
}

static void test_accept(void **state)
{
	struct ws_deflate_offer o = { 0 }, limited = { .window_bits = 12 },
	                        snct = { .server_no_context_takeover = true };
	struct ws_deflate_params p;

	/* What gorilla, ws, .NET and lws answer. */
	assert_int_equal(accept_str(&o, "permessage-deflate", &p), 0);
	assert_true(p.on);
	assert_int_equal(p.client_max_window_bits, 15);
	assert_int_equal(
	    accept_str(&o,
	               "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	               &p),
	    0);
	assert_true(p.server_no_context_takeover && p.client_no_context_takeover);
	assert_int_equal(accept_str(&o, "Permessage-Deflate; client_max_window_bits=\"9\"", &p), 0);
	assert_int_equal(p.client_max_window_bits, 9);
	/* An 8-bit window for us becomes 9: zlib cannot compress with 8. */
	assert_int_equal(accept_str(&o, "permessage-deflate; client_max_window_bits=8", &p), 0);
	assert_int_equal(p.client_max_window_bits, WS_DEFLATE_MIN_BITS);
	assert_int_equal(accept_str(&limited, "permessage-deflate; server_max_window_bits=12", &p),
	                 0);
	assert_int_equal(p.server_max_window_bits, 12);
	assert_int_equal(p.client_max_window_bits, 12);

	/* Section 7.1: answers a client must fail. */
	assert_int_equal(accept_str(&o, "x-webkit-deflate-frame", &p), -EPROTO);
	assert_int_equal(accept_str(&o, "permessage-deflate, permessage-deflate", &p), -EPROTO);
	assert_int_equal(accept_str(&o, "permessage-deflate; foo", &p), -EPROTO);
	assert_int_equal(
	    accept_str(&o,
	               "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
	               &p),
	    -EPROTO);
	assert_int_equal(accept_str(&o, "permessage-deflate; server_no_context_takeover=1", &p),
	                 -EPROTO);
	assert_int_equal(accept_str(&o, "permessage-deflate; server_max_window_bits=16", &p),
	                 -EPROTO);
	assert_int_equal(accept_str(&o, "permessage-deflate; server_max_window_bits=08", &p),
	                 -EPROTO);
	assert_int_equal(accept_str(&o, "permessage-deflate; server_max_window_bits", &p), -EPROTO);
	assert_int_equal(accept_str(&limited, "permessage-deflate; server_max_window_bits=13", &p),
	                 -EPROTO);
	assert_int_equal(accept_str(&snct, "permessage-deflate", &p), -EPROTO);
}

/* A server's side of the stream: raw deflate, sync flush, tail removed. */
static size_t server_compress(z_stream *z, const uint8_t *in, size_t len, uint8_t *out, size_t size)
{
	z->next_in = (Bytef *)in;
	z->avail_in = (uInt)len;
	z->next_out = out;
	z->avail_out = (uInt)size;
	assert_int_equal(deflate(z, Z_SYNC_FLUSH), Z_OK);
	len = size - z->avail_out;
	assert_memory_equal(out + len - 4, "\x00\x00\xff\xff", 4);
	return len - 4;
}

static void round_trip(bool no_context_takeover)
{
	struct ws_deflate_params params = { .on = true,
		                            .client_max_window_bits = 15,
		                            .server_max_window_bits = 15,
		                            .client_no_context_takeover = no_context_takeover };
	struct ws_deflate d;
	z_stream peer = { 0 };
	size_t len;
	const char *text = corpus_text(&len);
	uint8_t out[8192], back[4096];
	ssize_t first = 0;

	assert_int_equal(inflateInit2(&peer, -15), Z_OK);
	ws_deflate_init(&d, &params);
	for (int i = 0; i < 3; i++) {
		ssize_t n = ws_deflate_compress(&d, (const uint8_t *)text, 4096, out, sizeof(out));
		uint8_t tail[4] = { 0, 0, 0xff, 0xff };

		assert_true(n > 0 && n < 4096);
		/* With context takeover the same message compresses to a back
		 * reference the second time; without, it costs the same. */
		if (i == 0)
			first = n;
		else if (no_context_takeover)
			assert_int_equal(n, first);
		else
			assert_true(n < first / 4);
		/* Section 7.2.2: append the tail, inflate. */
		peer.next_in = out;
		peer.avail_in = (uInt)n;
		peer.next_out = back;
		peer.avail_out = sizeof(back);
		assert_int_equal(inflate(&peer, Z_SYNC_FLUSH), Z_OK);
		peer.next_in = tail;
		peer.avail_in = 4;
		inflate(&peer, Z_SYNC_FLUSH);
		assert_int_equal(sizeof(back) - peer.avail_out, 4096);
		assert_memory_equal(back, text, 4096);
	}
	inflateEnd(&peer);
	ws_deflate_free(&d);
}

static void test_compress_context_takeover(void **state)
{
	round_trip(false);
}

static void test_compress_no_context_takeover(void **state)
{
	round_trip(true);
}

static void test_decompress(void **state)
{
	struct ws_deflate_params params = { .on = true,
		                            .client_max_window_bits = 15,
		                            .server_max_window_bits = 15 };
	struct ws_deflate d;
	z_stream server = { 0 };
	size_t len;
	const char *text = corpus_text(&len);
	uint8_t z[8192], out[4097];
	size_t n;

	assert_int_equal(deflateInit2(&server, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	ws_deflate_init(&d, &params);
	for (int i = 0; i < 3; i++) {
		n = server_compress(&server, (const uint8_t *)text + i, 4096, z, sizeof(z));
		assert_int_equal(ws_deflate_decompress(&d, z, n, out, sizeof(out)), 4096);
		assert_memory_equal(out, text + i, 4096);
	}
	/* Longer than the caller keeps: the length is still told. */
	n = server_compress(&server, (const uint8_t *)text, 4096, z, sizeof(z));
	assert_int_equal(ws_deflate_decompress(&d, z, n, out, 100), 4096);
	assert_memory_equal(out, text, 100);
	/* A corrupt stream: a reserved block type (BTYPE 11). */
	z[0] = 0x07;
	assert_int_equal(ws_deflate_decompress(&d, z, n, out, sizeof(out)), -EBADMSG);
	deflateEnd(&server);
	ws_deflate_free(&d);
}

static void test_decompress_final_block(void **state)
{
	struct ws_deflate_params params = { .on = true,
		                            .client_max_window_bits = 15,
		                            .server_max_window_bits = 15 };
	struct ws_deflate d;
	z_stream server = { 0 };
	uint8_t z[256], out[64];
	size_t n;

	/* Section 7.2.3.3: a message may end with a BFINAL block. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(deflateInit2(&server, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY),
		                 Z_OK);
		server.next_in = (Bytef *)"hello hello hello";
		server.avail_in = 17;
		server.next_out = z;
		server.avail_out = sizeof(z);
		assert_int_equal(deflate(&server, Z_FINISH), Z_STREAM_END);
		n = sizeof(z) - server.avail_out;
		deflateEnd(&server);
		if (i == 0)
			ws_deflate_init(&d, &params);
		assert_int_equal(ws_deflate_decompress(&d, z, n, out, sizeof(out)), 17);
		assert_memory_equal(out, "hello hello hello", 17);
	}
	ws_deflate_free(&d);
}

static void test_corpus(void **state)
{
	size_t len, len2;
	const char *c = corpus_text(&len);
	char again[4096];
	uLongf zlen = compressBound(len);
	uint8_t *z = malloc(zlen);

	assert_int_equal(len, CORPUS_SIZE);
	assert_ptr_equal(corpus_text(&len2), c);
	/* The same bytes from the same seed, and text a JSON string holds. */
	corpus_generate(again, sizeof(again), CORPUS_SEED);
	assert_memory_equal(again, c, sizeof(again));
	for (size_t i = 0; i < len; i++)
		assert_true((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
		            c[i] == ' ' || c[i] == ',' || c[i] == '.');
	/* Compresses like prose: between 2x and 6x. */
	assert_int_equal(compress2(z, &zlen, (const Bytef *)c, len, 6), Z_OK);
	assert_true(zlen * 2 < len && zlen * 6 > len);
	free(z);
}

static void test_payload_kinds(void **state)
{
	struct message_id id = { .client = 7, .seq = 42, .sched_us = 123456 }, got;
	uint8_t buf[512], scratch[512];
	enum message_payload p;

	for (enum message_type t = MESSAGE_TEXT; t <= MESSAGE_BINARY; t++)
		for (p = PAYLOAD_RANDOM; p <= PAYLOAD_ZEROS; p++) {
			assert_int_equal(message_encode_payload(t, p, &id, 99, buf, sizeof(buf)),
			                 0);
			assert_int_equal(
			    message_verify_payload(t, p, buf, sizeof(buf), 99, scratch, &got), 0);
			assert_int_equal(got.seq, 42);
			/* The kind is part of what is checked. */
			assert_int_equal(
			    message_verify_payload(t, (enum message_payload)((p + 1) % 3), buf,
			                           sizeof(buf), 99, scratch, &got),
			    -EBADMSG);
		}
	assert_int_equal(message_encode_payload(MESSAGE_BINARY, PAYLOAD_ZEROS, &id, 1, buf, 64), 0);
	for (int i = MESSAGE_BINARY_HEADER; i < 64; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(message_payload_from_string("text", &p), 0);
	assert_int_equal(p, PAYLOAD_TEXT);
	assert_string_equal(message_payload_to_string(PAYLOAD_ZEROS), "zeros");
	assert_int_equal(message_payload_from_string("lorem", &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_compress_context_takeover),
		cmocka_unit_test(test_compress_no_context_takeover),
		cmocka_unit_test(test_decompress),
		cmocka_unit_test(test_decompress_final_block),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_payload_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
