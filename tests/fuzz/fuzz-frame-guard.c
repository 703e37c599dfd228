/* SPDX-License-Identifier: MIT */
/*
 * wsbench-echo's frame guard (echo/frame-guard.c) over arbitrary byte
 * streams, inbound (the client's frames, where an unmasked one is a
 * violation) and outbound (what lws sends for us), cut at points the input
 * chooses.
 *
 * Input: a flags byte (bit 0: outbound; bit 1: start after the HTTP head, so
 * the fuzzer need not find "\r\n\r\n" to reach the frames), the cuts
 * (fuzz.h), then the stream.
 *
 * Checked: a scan never consumes more than it is given, and consumes all of
 * it unless it stopped after a ping (stop_after_ping), a Close or a
 * violation; VIOLATION and CLOSED are sticky (later scans consume nothing);
 * fed whole, fed in pieces with frame_guard_feed() (as send() and the
 * stash-free recv() path do) and scanned piece by piece stopping after each
 * ping (as recv() does once the WebSocket is established), the guard ends
 * in the same state with the same counts; the violation is reported at the
 * same stream offset, with frame_start pointing at the offending frame's
 * first byte when that lies in the same read; a violation only ever happens
 * inbound.
 */
#include <string.h>

#include "frame-guard.h"
#include "fuzz.h"

/* The fields that describe the stream so far (not the last scan's). */
static void check_same(const struct frame_guard *a, const struct frame_guard *b)
{
	fuzz_check(a->state == b->state);
	fuzz_check(a->need == b->need);
	fuzz_check(a->http_tail == b->http_tail);
	fuzz_check(a->remaining == b->remaining);
	fuzz_check(a->frames == b->frames);
	fuzz_check(a->pings == b->pings);
	fuzz_check(a->pongs == b->pongs);
	fuzz_check(a->opcode == b->opcode);
	fuzz_check(a->masked == b->masked);
	fuzz_check(a->code_bytes == b->code_bytes);
	fuzz_check(a->close_code == b->close_code);
}

static bool sticky(const struct frame_guard *g)
{
	return g->state == FRAME_GUARD_VIOLATION || g->state == FRAME_GUARD_CLOSED;
}

static void reset(struct frame_guard *g, bool outbound, bool after_http)
{
	static const uint8_t head_end[] = "\r\n\r\n";

	if (outbound)
		frame_guard_reset_outbound(g);
	else
		frame_guard_reset(g);
	if (after_http)
		fuzz_check(frame_guard_scan(g, head_end, 4, false) == 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	bool outbound = flags & 1, after_http = flags & 2;
	struct frame_guard whole, fed, stepped;
	size_t ends[FUZZ_MAX_CUTS + 1], chunks, whole_used, start = 0, stepped_at = 0;
	uint16_t raw[FUZZ_MAX_CUTS];
	size_t k = fuzz_cuts(&in, raw);
	const uint8_t *s = in.p;
	size_t n = in.n;
	uint64_t pings_seen = 0;

	chunks = fuzz_cuts_apply(raw, k, n, ends);

	/* Whole. */
	reset(&whole, outbound, after_http);
	whole_used = frame_guard_scan(&whole, s, n, false);
	fuzz_check(whole_used <= n);
	fuzz_check(whole_used == n || sticky(&whole));
	if (outbound)
		fuzz_check(whole.state != FRAME_GUARD_VIOLATION);
	if (whole.state == FRAME_GUARD_VIOLATION) {
		/* The violation shows at the frame's second header byte. */
		fuzz_check(whole_used >= 2 && whole.frame_start + 2 == whole_used);
	}

	/* In pieces, with frame_guard_feed(). */
	reset(&fed, outbound, after_http);
	for (size_t c = 0; c < chunks; c++) {
		size_t len = ends[c] - start;
		bool was_sticky = sticky(&fed);
		struct frame_guard before = fed;
		bool violated = frame_guard_feed(&fed, s + start, len);

		fuzz_check(violated == (fed.state == FRAME_GUARD_VIOLATION));
		if (was_sticky)
			check_same(&before, &fed);
		start = ends[c];
	}
	check_same(&whole, &fed);

	/* In pieces, stopping after every ping, as recv() does. */
	reset(&stepped, outbound, after_http);
	start = 0;
	for (size_t c = 0; c < chunks; c++) {
		size_t off = start, end = ends[c];

		do {
			uint64_t pings = stepped.pings;
			bool was_sticky = sticky(&stepped);
			size_t used = frame_guard_scan(&stepped, s + off, end - off, true);

			fuzz_check(used <= end - off);
			if (was_sticky) {
				fuzz_check(used == 0);
				break;
			}
			if (stepped.state == FRAME_GUARD_VIOLATION) {
				size_t at = off + used;

				fuzz_check(at == whole_used);
				/* frame_start: where the frame began in this read. */
				if (whole_used >= 2 && whole_used - 2 >= off)
					fuzz_check(stepped.frame_start == whole_used - 2 - off);
				else
					fuzz_check(stepped.frame_start == 0);
				stepped_at = at;
			}
			if (stepped.ping_ended) {
				fuzz_check(stepped.pings == pings + 1);
				pings_seen++;
			} else if (!sticky(&stepped)) {
				/* Only a ping, a Close or a violation stops a scan. */
				fuzz_check(used == end - off);
				fuzz_check(stepped.pings == pings);
			}
			off += used;
		} while (off < end);
		start = end;
	}
	check_same(&whole, &stepped);
	fuzz_check(pings_seen == stepped.pings);
	if (stepped.state == FRAME_GUARD_VIOLATION)
		fuzz_check(stepped_at == whole_used);

	/* Sticky: nothing more is consumed once closed or violated. */
	if (sticky(&whole)) {
		struct frame_guard again = whole;

		fuzz_check(frame_guard_scan(&again, s, n, true) == 0);
		check_same(&whole, &again);
	}
	return 0;
}
