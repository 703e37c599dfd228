/* SPDX-License-Identifier: MIT */
/*
 * Frame-header tracking for the unmasked-frame check (RFC 6455 section 5.1,
 * header layout in section 5.2). See frame-guard.h for why it exists.
 */
#include "frame-guard.h"
#include "macro.h"

/* "\r\n\r\n" ends the HTTP head (RFC 7230 section 3). */
#define HTTP_HEAD_END 0x0d0a0d0aU

void frame_guard_reset(struct frame_guard *g)
{
	*g = (struct frame_guard){ .state = FRAME_GUARD_HTTP };
}

void frame_guard_reset_outbound(struct frame_guard *g)
{
	*g = (struct frame_guard){ .state = FRAME_GUARD_HTTP, .outbound = true };
}

#define OPCODE_CLOSE 0x8
#define OPCODE_PING  0x9
#define OPCODE_PONG  0xa

/* The current frame's last byte has passed. */
static void frame_guard_end_frame(struct frame_guard *g)
{
	g->state = g->opcode == OPCODE_CLOSE ? FRAME_GUARD_CLOSED : FRAME_GUARD_HEADER0;
	g->ping_ended = g->opcode == OPCODE_PING;
	g->pings += g->opcode == OPCODE_PING;
	g->pongs += g->opcode == OPCODE_PONG;
}

static void frame_guard_end_header(struct frame_guard *g)
{
	g->frames++;
	if (g->remaining)
		g->state = FRAME_GUARD_PAYLOAD;
	else
		frame_guard_end_frame(g);
}

/* The length is complete: a masking key follows, or the header ends. */
static void frame_guard_end_length(struct frame_guard *g)
{
	if (g->masked) {
		g->need = 4;
		g->state = FRAME_GUARD_MASKKEY;
	} else {
		frame_guard_end_header(g);
	}
}

/* Consumes one header byte; returns false on a protocol violation. */
static bool frame_guard_header_byte(struct frame_guard *g, uint8_t c)
{
	switch (g->state) {
	case FRAME_GUARD_HTTP:
		g->http_tail = (g->http_tail << 8) | c;
		if (g->http_tail == HTTP_HEAD_END)
			g->state = FRAME_GUARD_HEADER0;
		return true;
	case FRAME_GUARD_HEADER0:
		g->opcode = c & 0x0f;
		g->code_bytes = 0;
		g->close_code = 0;
		g->state = FRAME_GUARD_HEADER1;
		return true;
	case FRAME_GUARD_HEADER1:
		/* Section 5.1: every client-to-server frame is masked. */
		g->masked = c & 0x80;
		if (!g->masked && !g->outbound)
			return false;
		g->remaining = c & 0x7f;
		if (g->remaining == 126 || g->remaining == 127) {
			g->need = g->remaining == 126 ? 2 : 8;
			g->remaining = 0;
			g->state = FRAME_GUARD_EXTLEN;
		} else {
			frame_guard_end_length(g);
		}
		return true;
	case FRAME_GUARD_EXTLEN:
		g->remaining = (g->remaining << 8) | c;
		if (--g->need == 0)
			frame_guard_end_length(g);
		return true;
	case FRAME_GUARD_MASKKEY:
		if (--g->need == 0)
			frame_guard_end_header(g);
		return true;
	default:
		return true;
	}
}

size_t frame_guard_scan(struct frame_guard *g, const uint8_t *p, size_t n, bool stop_after_ping)
{
	size_t i = 0;

	g->ping_ended = false;
	g->frame_start = 0;
	while (i < n && g->state != FRAME_GUARD_VIOLATION && g->state != FRAME_GUARD_CLOSED) {
		if (g->state == FRAME_GUARD_HEADER0)
			g->frame_start = i;
		if (g->state == FRAME_GUARD_PAYLOAD) {
			size_t skip = (size_t)MIN((uint64_t)(n - i), g->remaining);

			/* The status code of an unmasked (outbound) Close. */
			if (g->opcode == OPCODE_CLOSE && !g->masked && g->code_bytes < 2) {
				g->close_code = (uint16_t)((g->close_code << 8) | p[i]);
				g->code_bytes++;
				skip = 1;
			}
			i += skip;
			g->remaining -= skip;
			if (g->remaining == 0)
				frame_guard_end_frame(g);
		} else if (!frame_guard_header_byte(g, p[i++])) {
			g->state = FRAME_GUARD_VIOLATION;
		}
		if (g->ping_ended && stop_after_ping)
			return i;
		g->ping_ended = false;
	}
	return i;
}

bool frame_guard_feed(struct frame_guard *g, const uint8_t *p, size_t n)
{
	frame_guard_scan(g, p, n, false);
	return g->state == FRAME_GUARD_VIOLATION;
}
