/* SPDX-License-Identifier: MIT */
/*
 * permessage-deflate (RFC 7692) for the client: the offer it sends, the
 * check of what the server accepted (section 7.1), and per-message
 * compression and decompression over zlib's raw deflate with the
 * 0x00 0x00 0xff 0xff tail removed and restored (section 7.2). Pure
 * functions over caller buffers and one z_stream pair per connection;
 * load-worker.c decides when to call them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WS_DEFLATE_TOKEN     "permessage-deflate"
#define WS_DEFLATE_OFFER_MAX 160
/* zlib's raw deflate refuses an 8-bit window (it would use 9 and say so
 * in no header), so the client never compresses with less than 9. */
#define WS_DEFLATE_MIN_BITS 9
#define WS_DEFLATE_MAX_BITS 15
/* zlib level 1 (deflate_fast): for pseudo-English 64-byte messages level 6
 * spent 17 us of the client's 43 us per echo in longest_match() (perf,
 * 20k msg/s); level 1 keeps most of the ratio at a fraction of the cost.
 * The server's inflate does about the same work at any level. */
#define WS_DEFLATE_LEVEL_DEFAULT 1

/* What the client offers (wsbench-load --deflate and its switches). */
struct ws_deflate_offer {
	unsigned window_bits;            /* 0: no limits asked; else both directions' limit */
	bool client_no_context_takeover; /* we reset our compressor after each message */
	bool server_no_context_takeover; /* we ask the server to reset its own */
	int level;                       /* our zlib level, 1..9; 0: WS_DEFLATE_LEVEL_DEFAULT */
	bool literals_only;              /* Huffman coding only: for random payloads */
};

/* What the server's response settled (section 7.1), for both directions. */
struct ws_deflate_params {
	bool on;
	bool client_no_context_takeover;
	bool server_no_context_takeover;
	uint8_t client_max_window_bits; /* our compressor's window: 15 unless limited */
	uint8_t server_max_window_bits; /* the server's: 15 unless limited */
	int level;                      /* our compressor's zlib level (not negotiated) */
	bool literals_only;             /* Z_HUFFMAN_ONLY (not negotiated) */
};

/**
 * ws_deflate_offer_format() - the Sec-WebSocket-Extensions value to send.
 * Return: its length, or -ENOBUFS.
 */
int ws_deflate_offer_format(const struct ws_deflate_offer *o, char *out, size_t size);

/**
 * ws_deflate_accept() - check the server's Sec-WebSocket-Extensions value
 * against @o (section 7.1: one permessage-deflate element, known
 * parameters, each at most once, with valid values; client_max_window_bits
 * only when offered; a server_max_window_bits no larger than asked; a
 * requested server_no_context_takeover echoed).
 * @value: modified in place.
 * Return: 0 with @ret filled, or -EPROTO (the client must fail the
 * connection, section 7.1 / RFC 6455 section 9.1).
 */
int ws_deflate_accept(const struct ws_deflate_offer *o, char *value, struct ws_deflate_params *ret);

/* One connection's compressor and decompressor. */
struct ws_deflate {
	struct ws_deflate_params params;
	void *tx; /* z_stream, allocated on first use */
	void *rx;
};

void ws_deflate_init(struct ws_deflate *d, const struct ws_deflate_params *params);
void ws_deflate_free(struct ws_deflate *d);

/* The most bytes ws_deflate_compress() can produce for @len input. */
size_t ws_deflate_bound(size_t len);

/**
 * ws_deflate_compress() - one message's payload, compressed for a frame
 * with RSV1 set (section 7.2.1).
 * @out: at least ws_deflate_bound(@len) bytes.
 * Return: bytes written, or -ENOMEM / -EIO.
 */
ssize_t ws_deflate_compress(struct ws_deflate *d, const uint8_t *in, size_t len, uint8_t *out,
                            size_t size);

/**
 * ws_deflate_decompress() - one message's payload, decompressed (section
 * 7.2.2).
 * @size: the largest message worth keeping; output beyond it is dropped.
 * Return: the decompressed length (may exceed @size: then only @size bytes
 * are in @out), -EBADMSG for a corrupt deflate stream, -ENOMEM.
 */
ssize_t ws_deflate_decompress(struct ws_deflate *d, const uint8_t *in, size_t len, uint8_t *out,
                              size_t size);
