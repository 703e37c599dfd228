/* SPDX-License-Identifier: MIT */
/*
 * A minimal RFC 6455 frame-header tracker over one direction of a
 * connection's byte stream. Inbound, it exists because libwebsockets 4.1.6
 * accepts unmasked client frames, which RFC 6455 section 5.1 says a server
 * MUST fail (lws checks this only from v5.0). Outbound, it tells when our
 * Close frame has gone out, after which nothing may follow (section 5.5.1)
 * and, once the peer's Close has arrived too, the server ends TCP itself
 * (section 7.1.1). It reads headers and skips payloads by count, so its cost
 * per frame is a handful of byte operations.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum frame_guard_state {
	FRAME_GUARD_HTTP,      /* still in the HTTP upgrade request */
	FRAME_GUARD_HEADER0,   /* FIN, RSV, opcode */
	FRAME_GUARD_HEADER1,   /* MASK bit and 7-bit length */
	FRAME_GUARD_EXTLEN,    /* 16- or 64-bit extended length */
	FRAME_GUARD_MASKKEY,   /* 4-byte masking key */
	FRAME_GUARD_PAYLOAD,   /* skipping payload bytes */
	FRAME_GUARD_VIOLATION, /* inbound: an unmasked frame was seen; sticky */
	FRAME_GUARD_CLOSED,    /* a whole Close frame has passed; sticky */
};

struct frame_guard {
	enum frame_guard_state state;
	uint8_t need;        /* bytes left in EXTLEN or MASKKEY */
	uint32_t http_tail;  /* last four bytes of the HTTP head */
	uint64_t remaining;  /* payload bytes left in the current frame */
	uint64_t frames;     /* complete frame headers seen */
	uint64_t pings;      /* complete ping frames */
	uint64_t pongs;      /* complete pong frames */
	uint8_t opcode;      /* opcode of the current frame */
	bool outbound;       /* server-to-client: frames are not masked */
	bool masked;         /* the current frame has a masking key */
	bool ping_ended;     /* the last byte consumed completed a ping frame */
	uint8_t code_bytes;  /* bytes of close_code seen */
	uint16_t close_code; /* an unmasked Close frame's status code, 0 if none */
	size_t frame_start;  /* where the current frame began in the last scan
	                      * (0 when it began in an earlier one) */
};

/* Starts tracking a new connection's inbound stream at its HTTP upgrade
 * request. */
void frame_guard_reset(struct frame_guard *g);

/* Starts tracking a new connection's outbound stream at its HTTP response. */
void frame_guard_reset_outbound(struct frame_guard *g);

/**
 * frame_guard_feed() - account for @n bytes received in order.
 * Return: true once an unmasked frame has been seen (and from then on).
 */
bool frame_guard_feed(struct frame_guard *g, const uint8_t *p, size_t n);

/**
 * frame_guard_scan() - like frame_guard_feed(), but stops right after the
 * last byte of a ping frame when @stop_after_ping is set (ping_ended then
 * tells so), right after a Close frame, and right after the header byte that
 * showed a violation (frame_start then tells where the offending frame
 * began).
 * Return: the number of bytes consumed.
 */
size_t frame_guard_scan(struct frame_guard *g, const uint8_t *p, size_t n, bool stop_after_ping);

static inline bool frame_guard_violated(const struct frame_guard *g)
{
	return g->state == FRAME_GUARD_VIOLATION;
}

static inline bool frame_guard_closed(const struct frame_guard *g)
{
	return g->state == FRAME_GUARD_CLOSED;
}
