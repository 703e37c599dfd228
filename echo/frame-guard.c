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

#define OPCODE_PING 0x9

static void frame_guard_end_header(struct frame_guard *g)
{
	g->frames++;
	g->state = g->remaining ? FRAME_GUARD_PAYLOAD : FRAME_GUARD_HEADER0;
	g->ping_ended = g->state == FRAME_GUARD_HEADER0 && g->opcode == OPCODE_PING;
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
		g->state = FRAME_GUARD_HEADER1;
		return true;
	case FRAME_GUARD_HEADER1:
		/* Section 5.1: every client-to-server frame is masked. */
		if (!(c & 0x80))
			return false;
		g->remaining = c & 0x7f;
		if (g->remaining == 126 || g->remaining == 127) {
			g->need = g->remaining == 126 ? 2 : 8;
			g->remaining = 0;
			g->state = FRAME_GUARD_EXTLEN;
		} else {
			g->need = 4;
			g->state = FRAME_GUARD_MASKKEY;
		}
		return true;
	case FRAME_GUARD_EXTLEN:
		g->remaining = (g->remaining << 8) | c;
		if (--g->need == 0) {
			g->need = 4;
			g->state = FRAME_GUARD_MASKKEY;
		}
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
	while (i < n && g->state != FRAME_GUARD_VIOLATION) {
		if (g->state == FRAME_GUARD_PAYLOAD) {
			size_t skip = (size_t)MIN((uint64_t)(n - i), g->remaining);

			i += skip;
			g->remaining -= skip;
			if (g->remaining == 0) {
				g->state = FRAME_GUARD_HEADER0;
				g->ping_ended = g->opcode == OPCODE_PING;
			}
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
