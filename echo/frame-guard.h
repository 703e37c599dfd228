/* SPDX-License-Identifier: MIT */
/*
 * A minimal RFC 6455 frame-header tracker over a connection's inbound byte
 * stream. It exists because libwebsockets 4.1.6 accepts unmasked client
 * frames, which RFC 6455 section 5.1 says a server MUST fail (lws checks this
 * only from v5.0). It reads headers and skips payloads by count, so its cost
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
	FRAME_GUARD_VIOLATION, /* an unmasked frame was seen; sticky */
};

struct frame_guard {
	enum frame_guard_state state;
	uint8_t need;       /* bytes left in EXTLEN or MASKKEY */
	uint32_t http_tail; /* last four bytes of the HTTP head */
	uint64_t remaining; /* payload bytes left in the current frame */
	uint64_t frames;    /* complete frame headers seen */
	uint8_t opcode;     /* opcode of the current frame */
	bool ping_ended;    /* the last byte consumed completed a ping frame */
};

/* Starts tracking a new connection at its HTTP upgrade request. */
void frame_guard_reset(struct frame_guard *g);

/**
 * frame_guard_feed() - account for @n bytes received in order.
 * Return: true once an unmasked frame has been seen (and from then on).
 */
bool frame_guard_feed(struct frame_guard *g, const uint8_t *p, size_t n);

/**
 * frame_guard_scan() - like frame_guard_feed(), but stops right after the
 * last byte of a ping frame when @stop_after_ping is set (ping_ended then
 * tells so).
 * Return: the number of bytes consumed.
 */
size_t frame_guard_scan(struct frame_guard *g, const uint8_t *p, size_t n, bool stop_after_ping);

static inline bool frame_guard_violated(const struct frame_guard *g)
{
	return g->state == FRAME_GUARD_VIOLATION;
}
