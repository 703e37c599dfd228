/* SPDX-License-Identifier: MIT */
/*
 * The client side of one WebSocket connection (RFC 6455), as pure functions
 * over the caller's buffers: the opening handshake (the request with a
 * random Sec-WebSocket-Key, an incremental parse of the response, the
 * Sec-WebSocket-Accept check), masked frame encoding, and an incremental
 * parser of the server's frames that reassembles messages up to a bound.
 * No sockets and no I/O policy: load-worker.c owns those.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ws-deflate.h"

enum ws_opcode {
	WS_OP_CONTINUATION = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* Close codes (RFC 6455 section 7.4.1). */
#define WS_CLOSE_NORMAL         1000
#define WS_CLOSE_PROTOCOL_ERROR 1002
#define WS_CLOSE_INVALID_DATA   1007 /* also a corrupt deflate stream (RFC 7692 section 8) */
#define WS_CLOSE_NO_STATUS      1005 /* reported when a Close frame carries no code */

#define WS_FRAME_HEADER_MAX 14  /* 2 + 8 (64-bit length) + 4 (mask key) */
#define WS_CONTROL_MAX      125 /* control frame payload (section 5.5) */

/* ---- mask keys ------------------------------------------------------------ */

/*
 * Mask keys come from a splitmix64 generator seeded once with getrandom():
 * section 10.3 asks that they be unpredictable to the page's script, which a
 * load generator does not have; reading /dev/urandom per frame (as lws
 * does) costs a syscall per message. One generator per thread.
 */
struct ws_rng {
	uint64_t state;
};

/* Seeds @r from getrandom(). Return: 0, or a negative errno (then @r is
 * seeded from the clock and still usable). */
int ws_rng_seed(struct ws_rng *r);

static inline uint64_t ws_rng_next(struct ws_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- frames (client to server: always masked, section 5.3) ---------------- */

/* Bytes of a masked frame's header for a payload of @len bytes. */
static inline size_t ws_frame_header_len(uint64_t len)
{
	return (len < 126 ? 2 : len < 65536 ? 4 : 10) + 4;
}

/**
 * ws_frame_header() - write the header of one masked frame.
 * @mask: the key as it goes on the wire (its bytes in memory order).
 * Return: bytes written, ws_frame_header_len(@len).
 */
size_t ws_frame_header(uint8_t *out, enum ws_opcode opcode, bool fin, uint64_t len, uint32_t mask);

/* XORs @buf with @mask (section 5.3), eight bytes at a time. */
void ws_mask(uint8_t *buf, size_t len, uint32_t mask);

/**
 * ws_frame_encode() - write one complete masked frame (FIN set) carrying a
 * copy of @payload: for control frames and tests; messages are encoded in
 * place with ws_frame_header() and ws_mask().
 * @out: at least ws_frame_header_len(@len) + @len bytes.
 * Return: bytes written.
 */
size_t ws_frame_encode(uint8_t *out, enum ws_opcode opcode, const void *payload, size_t len,
                       uint32_t mask);

/* A masked Close frame carrying @code and no reason: 8 bytes. */
#define WS_CLOSE_FRAME_LEN 8
size_t ws_close_encode(uint8_t *out, int code, uint32_t mask);

/* ---- opening handshake (section 4.1) ------------------------------------------ */

#define WS_KEY_LEN      24  /* base64 of 16 random bytes */
#define WS_ACCEPT_LEN   28  /* base64 of a SHA-1 */
#define WS_LINE_KEEP    176 /* bytes of each response line kept; the ones we check are shorter */
#define WS_RESPONSE_MAX 8192
/* Request bytes beyond host and path. */
#define WS_REQUEST_EXTRA (160 + 32 + WS_DEFLATE_OFFER_MAX)

struct ws_handshake {
	char key[WS_KEY_LEN + 1];
	char accept[WS_ACCEPT_LEN + 1]; /* the Sec-WebSocket-Accept we expect */
	char line[WS_LINE_KEEP];        /* the start of the response line being read */
	uint16_t line_len;
	uint16_t total; /* response bytes so far */
	int status;     /* HTTP status code, 0 until the status line has been read */
	bool upgrade;   /* Upgrade: websocket */
	bool connection;
	bool accept_ok;
	bool unrequested; /* an extension or subprotocol we did not offer, or a bad answer */
	bool done;        /* the server accepted the upgrade */
	/* permessage-deflate: what to offer (NULL: nothing; set after
	 * ws_handshake_init()) and what the server accepted. */
	const struct ws_deflate_offer *deflate;
	struct ws_deflate_params pmd;
};

/* Starts a handshake with a key made from the 16 bytes of @nonce. */
void ws_handshake_init(struct ws_handshake *h, const uint8_t nonce[16]);

/**
 * ws_handshake_request() - the upgrade request.
 * @host: the Host header's value (with the port, IPv6 in brackets).
 * @path: the request target, starting with '/'.
 * @out: at least strlen(@host) + strlen(@path) + WS_REQUEST_EXTRA bytes.
 * Return: its length, or -ENOBUFS if @size is too small.
 */
int ws_handshake_request(const struct ws_handshake *h, const char *host, const char *path,
                         char *out, size_t size);

/**
 * ws_handshake_parse() - read response bytes.
 * Return: the bytes of @buf that belong to the response; once @h->done is
 * set the server has accepted and the rest of @buf holds frames. -EPROTO
 * when the response refuses or botches the upgrade: @h->status is then the
 * HTTP status (101 with a bad header; 0 when the reply was not HTTP).
 */
ssize_t ws_handshake_parse(struct ws_handshake *h, const uint8_t *buf, size_t len);

/* The Sec-WebSocket-Accept for @key: base64(SHA-1(key + GUID)). */
void ws_accept_for_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* ---- the server's frames ---------------------------------------------------------- */

enum ws_event_type {
	WS_EVENT_NONE,    /* @buf ran out inside a frame */
	WS_EVENT_MESSAGE, /* a complete text or binary message */
	WS_EVENT_PING,
	WS_EVENT_PONG,
	WS_EVENT_CLOSE,
};

struct ws_event {
	enum ws_event_type type;
	enum ws_opcode opcode; /* MESSAGE: WS_OP_TEXT or WS_OP_BINARY */
	/* The payload: in the caller's buffer when the whole message arrived in
	 * one frame within it, else in the parser's. Valid until the next call.
	 * NULL when the message was longer than the parser keeps. */
	const uint8_t *data;
	uint64_t len;    /* the payload's true length */
	bool oversized;  /* longer than the parser's bound; its bytes were dropped */
	bool compressed; /* MESSAGE: RSV1 was set on its first frame (RFC 7692 section 6) */
	int close_code;  /* CLOSE: the code, WS_CLOSE_NO_STATUS when none was sent */
};

struct ws_parser {
	uint8_t head[WS_FRAME_HEADER_MAX]; /* the frame header being collected */
	uint8_t head_len;
	uint8_t opcode; /* of the current frame */
	bool fin;
	bool in_payload;
	bool emitted; /* the last event's data is in @msg: start over */
	bool deflate; /* permessage-deflate was negotiated: RSV1 allowed */
	bool msg_compressed;
	uint8_t msg_opcode; /* the data message being reassembled, 0 if none */
	uint8_t ctl_len;
	uint64_t remaining; /* payload bytes of the current frame still to come */
	uint64_t msg_len;   /* bytes of the message so far, kept or not */
	size_t max;         /* longest message worth keeping */
	uint8_t *msg;       /* reassembly: at most @max bytes, allocated on first need */
	size_t msg_cap;
	uint8_t ctl[WS_CONTROL_MAX];
};

/* @max_message: reassembled messages keep at most this many bytes; longer
 * ones are reported oversized, without growing memory. */
void ws_parser_init(struct ws_parser *p, size_t max_message);
void ws_parser_free(struct ws_parser *p);

/**
 * ws_parser_next() - parse @buf up to the next event.
 * Return: bytes consumed, with @ev->type WS_EVENT_NONE when all of @buf was
 * consumed without completing an event; -EPROTO on a protocol violation
 * (the connection should fail with 1002: a masked frame, RSV bits, an
 * unknown opcode, a fragmented or long control frame, a continuation out of
 * place, a bad Close code, RSV1 without permessage-deflate or on a
 * continuation or control frame); -ENOMEM.
 */
ssize_t ws_parser_next(struct ws_parser *p, const uint8_t *buf, size_t len, struct ws_event *ev);
