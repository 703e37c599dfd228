/* SPDX-License-Identifier: MIT */
/*
 * wsbench-load's side of a connection given arbitrary server replies:
 * load/ws-client.c's handshake-response parser and frame parser (bounded
 * reassembly), and common/message.c's echo verification, driven the way
 * load/load-worker.c drives them (consume_handshake(), consume_frames(),
 * on_message()).
 *
 * Input: a flags byte (bit 0: begin with the handshake response; bit 1:
 * binary messages; bit 2: structured mode), a byte choosing the message
 * size, the cuts (fuzz.h), then the rest.
 *
 * Raw mode: the rest is what the server sends. Checked: every call makes
 * progress; a message is reported oversized exactly when longer than the
 * parser keeps, and then without data; the reassembly buffer never grows
 * past that bound; parsing the reply whole and parsing it cut into reads
 * give the same events with the same payloads and end in the same way
 * (including the handshake's verdict); verifying any payload stays in its
 * bounds.
 *
 * Structured mode: the rest is a list of things a server does (an echo,
 * fragmented, with a ping between fragments or not; an echo with one byte
 * flipped; one cut short or padded; one of the wrong type; a ping; a pong; a
 * Close with any code). The stream they make is parsed in the cut reads and
 * every outcome must be the expected one: each intact echo verifies with
 * its id, every damaged one is counted corrupted, control frames arrive
 * with their payloads, a Close with a valid code is reported with it and
 * any other fails the connection (RFC 6455 section 7.4).
 *
 * Both modes also check what the client writes back against the server's
 * own reading of it: the upgrade request, each pong answering a ping and
 * the Close go through wsbench-echo's frame guard (echo/frame-guard.c),
 * which must find the head's end, every frame masked, and the Close.
 */
#include <errno.h>
#include <string.h>

#include "frame-guard.h"
#include "fuzz.h"
#include "message.h"
#include "ws-client.h"

#define KEY          0x5eedf00dcafe1234ULL
#define STREAM_MAX   (256 * 1024)
#define MAX_EVENTS   4096
#define MESSAGE_BASE 48 /* fits a text header for the ids the ops can make */

enum outcome {
	OUT_ECHO,    /* a message that verified */
	OUT_CORRUPT, /* a message counted corrupted */
	OUT_PING,
	OUT_PONG,
	OUT_CLOSE,
	OUT_PROTO,     /* -EPROTO: the connection fails with 1002 */
	OUT_NOMEM,     /* -ENOMEM */
	OUT_HS_REFUSED /* the handshake failed */
};

struct event {
	enum outcome what;
	uint64_t len;
	uint64_t digest; /* of the payload, or the message id */
	int code;        /* CLOSE: the code; HS_REFUSED: the HTTP status */
};

struct log {
	struct event ev[MAX_EVENTS];
	size_t n;
	bool ended; /* a Close, an error or a refused handshake: nothing follows */
};

struct setup {
	bool handshake;
	enum message_type type;
	size_t size;        /* the message size the run sends */
	size_t max_message; /* what the parser keeps */
};

static uint8_t scratch[MESSAGE_MAX_SIZE];

static uint64_t digest(const uint8_t *p, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t id_digest(const struct message_id *id)
{
	return id->client ^ (id->seq << 20) ^ (id->sched_us << 40) ^ (id->sched_us >> 24);
}

static void add(struct log *log, struct event e)
{
	if (log->n < MAX_EVENTS)
		log->ev[log->n++] = e;
}

/* load-worker.c's on_message(): the right size and type, and every byte. */
static void on_message(const struct setup *su, const struct ws_parser *p, const struct ws_event *ev,
                       struct log *log)
{
	enum ws_opcode op = su->type == MESSAGE_TEXT ? WS_OP_TEXT : WS_OP_BINARY;
	struct message_id id;

	fuzz_check(ev->opcode == WS_OP_TEXT || ev->opcode == WS_OP_BINARY);
	fuzz_check(ev->oversized == (ev->len > p->max));
	fuzz_check(ev->data || ev->oversized || ev->len == 0);
	if (ev->data) {
		/* Whatever the server sent, verification stays in bounds. */
		int r = message_verify(su->type, ev->data, ev->len, KEY, scratch, &id);

		if (r == 0)
			fuzz_check(message_encode(su->type, &id, KEY, scratch, ev->len) == 0 &&
			           memcmp(scratch, ev->data, ev->len) == 0);
	}
	if (!ev->oversized && ev->len == su->size && ev->opcode == op &&
	    message_verify(su->type, ev->data, ev->len, KEY, scratch, &id) == 0)
		add(log, (struct event){ OUT_ECHO, ev->len, id_digest(&id), 0 });
	else
		add(log, (struct event){ OUT_CORRUPT, ev->len,
		                         ev->data ? digest(ev->data, ev->len) : 0, 0 });
}

struct conn {
	struct ws_handshake hs;
	struct ws_parser parser;
	bool open;
	struct frame_guard sent; /* wsbench-echo's view of what we write */
	struct ws_rng rng;
};

/* What the client writes, read by the server's frame guard. */
static void client_writes(struct conn *c, const uint8_t *p, size_t n)
{
	uint64_t frames = c->sent.frames;

	fuzz_check(frame_guard_scan(&c->sent, p, n, false) == n);
	fuzz_check(!frame_guard_violated(&c->sent));
	fuzz_check(c->sent.frames == frames + 1 && c->sent.state != FRAME_GUARD_PAYLOAD);
}

static void conn_init(struct conn *c, const struct setup *su)
{
	char req[512];
	int n;

	ws_handshake_init(&c->hs, (const uint8_t *)"the sample nonce");
	ws_parser_init(&c->parser, su->max_message);
	c->open = !su->handshake;
	c->rng.state = 42;
	frame_guard_reset(&c->sent);
	n = ws_handshake_request(&c->hs, "127.0.0.1:9001", "/", req, sizeof(req));
	fuzz_check(n > 0);
	fuzz_check(frame_guard_scan(&c->sent, (const uint8_t *)req, (size_t)n, false) == (size_t)n);
	fuzz_check(c->sent.state == FRAME_GUARD_HEADER0);
}

/* load-worker.c's consume_frames(). */
static void frames(const struct setup *su, struct conn *c, const uint8_t *buf, size_t len,
                   struct log *log)
{
	size_t off = 0;

	while (off < len && !log->ended) {
		struct ws_event ev;
		ssize_t r = ws_parser_next(&c->parser, buf + off, len - off, &ev);

		if (r < 0) {
			fuzz_check(r == -EPROTO || r == -ENOMEM);
			add(log, (struct event){ r == -EPROTO ? OUT_PROTO : OUT_NOMEM, 0, 0, 0 });
			log->ended = true;
			return;
		}
		fuzz_check(r > 0 && (size_t)r <= len - off);
		fuzz_check(c->parser.msg_cap <= c->parser.max);
		off += (size_t)r;
		switch (ev.type) {
		case WS_EVENT_MESSAGE:
			on_message(su, &c->parser, &ev, log);
			break;
		case WS_EVENT_PING: {
			/* load-worker.c answers with a pong carrying the same bytes. */
			uint8_t pong[WS_FRAME_HEADER_MAX + WS_CONTROL_MAX];

			fuzz_check(ev.len <= WS_CONTROL_MAX);
			client_writes(c, pong,
			              ws_frame_encode(pong, WS_OP_PONG, ev.data, ev.len,
			                              (uint32_t)ws_rng_next(&c->rng)));
		}
			/* fall through */
		case WS_EVENT_PONG:
			fuzz_check(ev.len <= WS_CONTROL_MAX);
			add(log, (struct event){ ev.type == WS_EVENT_PING ? OUT_PING : OUT_PONG,
			                         ev.len, digest(ev.data, ev.len), 0 });
			break;
		case WS_EVENT_CLOSE: {
			uint8_t close[WS_CLOSE_FRAME_LEN];

			/* Answered with the code (1005 becomes 1000), as load-worker.c. */
			client_writes(c, close,
			              ws_close_encode(close,
			                              ev.close_code == WS_CLOSE_NO_STATUS
			                                  ? WS_CLOSE_NORMAL
			                                  : ev.close_code,
			                              (uint32_t)ws_rng_next(&c->rng)));
			fuzz_check(frame_guard_closed(&c->sent));
			add(log, (struct event){ OUT_CLOSE, ev.len, 0, ev.close_code });
			log->ended = true;
			return;
		}
		case WS_EVENT_NONE:
			fuzz_check(off == len);
			break;
		}
	}
}

/* load-worker.c's consume_handshake(), then the frames after it. */
static void read_bytes(const struct setup *su, struct conn *c, const uint8_t *buf, size_t len,
                       struct log *log)
{
	if (log->ended)
		return;
	if (!c->open) {
		ssize_t r = ws_handshake_parse(&c->hs, buf, len);

		if (r < 0) {
			fuzz_check(r == -EPROTO);
			fuzz_check(c->hs.status == 0 ||
			           (c->hs.status >= 100 && c->hs.status <= 599));
			add(log, (struct event){ OUT_HS_REFUSED, 0, 0, c->hs.status });
			log->ended = true;
			return;
		}
		fuzz_check((size_t)r <= len);
		if (!c->hs.done) {
			fuzz_check((size_t)r == len);
			return;
		}
		c->open = true;
		buf += r;
		len -= (size_t)r;
	}
	frames(su, c, buf, len, log);
}

static void run(const struct setup *su, const uint8_t *s, const size_t *ends, size_t chunks,
                struct log *log)
{
	struct conn c;
	size_t start = 0;

	conn_init(&c, su);
	log->n = 0;
	log->ended = false;
	for (size_t i = 0; i < chunks; i++) {
		read_bytes(su, &c, s + start, ends[i] - start, log);
		start = ends[i];
	}
	ws_parser_free(&c.parser);
}

static bool same(const struct log *a, const struct log *b)
{
	if (a->n != b->n || a->ended != b->ended)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->ev[i].what != b->ev[i].what || a->ev[i].len != b->ev[i].len ||
		    a->ev[i].digest != b->ev[i].digest || a->ev[i].code != b->ev[i].code)
			return false;
	return true;
}

/* ---- structured mode: a server's actions and what they must produce ---------------- */

struct stream {
	uint8_t *p;
	size_t n;
};

static bool frame(struct stream *s, uint8_t opcode, bool fin, const uint8_t *payload, size_t len)
{
	uint8_t *o = s->p + s->n;

	if (s->n + len + 10 > STREAM_MAX)
		return false;
	*o++ = (uint8_t)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		*o++ = (uint8_t)len;
	} else if (len < 65536) {
		*o++ = 126;
		*o++ = (uint8_t)(len >> 8);
		*o++ = (uint8_t)len;
	} else {
		*o++ = 127;
		for (int i = 7; i >= 0; i--)
			*o++ = (uint8_t)((uint64_t)len >> (8 * i));
	}
	if (len)
		memcpy(o, payload, len);
	s->n = (size_t)(o - s->p) + len;
	return true;
}

/* A data message in @frags fragments, maybe with a ping after the first. */
static bool message(struct stream *s, uint8_t opcode, const uint8_t *payload, size_t len,
                    unsigned frags, bool ping_between, struct log *expect)
{
	size_t off = 0;

	for (unsigned f = 0; f < frags; f++) {
		size_t piece = f + 1 == frags ? len - off : len / frags;

		if (!frame(s, f == 0 ? opcode : WS_OP_CONTINUATION, f + 1 == frags, payload + off,
		           piece))
			return false;
		off += piece;
		if (f == 0 && ping_between && frags > 1) {
			if (!frame(s, WS_OP_PING, true, (const uint8_t *)"mid", 3))
				return false;
			add(expect,
			    (struct event){ OUT_PING, 3, digest((const uint8_t *)"mid", 3), 0 });
		}
	}
	return true;
}

static bool close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

static uint8_t stream_buf[STREAM_MAX];
static uint8_t payload[MESSAGE_BASE + 4096 + 16];
static struct log expect, got, whole;

static void structured(const struct setup *su, struct fuzz_input *in, const uint16_t *raw, size_t k)
{
	uint8_t op_data = su->type == MESSAGE_TEXT ? WS_OP_TEXT : WS_OP_BINARY;
	struct stream s = { stream_buf, 0 };
	size_t ends[FUZZ_MAX_CUTS + 1], chunks;

	expect.n = 0;
	expect.ended = false;
	while (in->n && !expect.ended) {
		uint8_t op = fuzz_u8(in), kind = op % 8;
		unsigned frags = 1 + (op >> 4) % 4;
		bool ping_between = op & 0x08;
		struct message_id id = {
			.client = fuzz_u8(in),
			.seq = fuzz_uint(in, 2),
			.sched_us = fuzz_uint(in, 3),
		};
		size_t len = su->size;
		uint8_t opcode = op_data;
		bool ok = true;

		fuzz_check(message_encode(su->type, &id, KEY, payload, su->size) == 0);
		switch (kind) {
		case 0: /* an echo */
			break;
		case 1: { /* one byte flipped */
			size_t at = fuzz_uint(in, 2) % su->size;

			payload[at] ^= fuzz_u8(in) | 1;
			ok = false;
			break;
		}
		case 2: /* cut short or padded */
			len = su->size + fuzz_u8(in) % 16 - 8;
			if (len == su->size)
				len++;
			if (len > su->size)
				memset(payload + su->size, 'x', len - su->size);
			ok = false;
			break;
		case 3: /* the other type */
			opcode = op_data == WS_OP_TEXT ? WS_OP_BINARY : WS_OP_TEXT;
			ok = false;
			break;
		case 4:
		case 5: { /* a ping or a pong */
			size_t n = fuzz_u8(in) % (WS_CONTROL_MAX + 1);

			if (!frame(&s, kind == 4 ? WS_OP_PING : WS_OP_PONG, true, payload, n))
				goto done;
			add(&expect, (struct event){ kind == 4 ? OUT_PING : OUT_PONG, n,
			                             digest(payload, n), 0 });
			continue;
		}
		case 6: { /* a Close */
			unsigned code = (unsigned)fuzz_uint(in, 2);
			uint8_t body[2] = { (uint8_t)(code >> 8), (uint8_t)code };

			if (!frame(&s, WS_OP_CLOSE, true, body, 2))
				goto done;
			add(&expect, close_code_valid(code)
			                 ? (struct event){ OUT_CLOSE, 2, 0, (int)code }
			                 : (struct event){ OUT_PROTO, 0, 0, 0 });
			expect.ended = true;
			continue;
		}
		default: /* a Close without a code */
			if (!frame(&s, WS_OP_CLOSE, true, NULL, 0))
				goto done;
			add(&expect, (struct event){ OUT_CLOSE, 0, 0, WS_CLOSE_NO_STATUS });
			expect.ended = true;
			continue;
		}
		if (!message(&s, opcode, payload, len, frags, ping_between, &expect))
			goto done;
		if (ok)
			add(&expect, (struct event){ OUT_ECHO, len, id_digest(&id), 0 });
		else
			add(&expect,
			    (struct event){ OUT_CORRUPT, len,
			                    len > su->max_message ? 0 : digest(payload, len), 0 });
	}
done:
	chunks = fuzz_cuts_apply(raw, k, s.n, ends);
	run(su, s.p, ends, chunks, &got);
	expect.ended = got.ended; /* ops that did not fit the stream */
	fuzz_check(same(&expect, &got));
}

static const size_t max_choices[] = { 0, 1, 2, 7, 28, 125, 126, 127, 4096, 65535, 65536, 65537 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t flags = fuzz_u8(&in), sel = fuzz_u8(&in);
	struct setup su = {
		.handshake = flags & 1,
		.type = flags & 2 ? MESSAGE_BINARY : MESSAGE_TEXT,
	};
	size_t ends[FUZZ_MAX_CUTS + 1], chunks, one[1];
	uint16_t raw[FUZZ_MAX_CUTS];
	size_t k = fuzz_cuts(&in, raw);

	if (flags & 4) {
		/* As load-worker.c: keep the message size + 1. */
		su.handshake = false;
		su.size = MESSAGE_BASE + (sel * 16u) % 4096;
		su.max_message = su.size + 1;
		structured(&su, &in, raw, k);
		return 0;
	}
	su.size = MESSAGE_BASE + sel;
	su.max_message = sel < 128
	                     ? su.size + 1
	                     : max_choices[sel % (sizeof(max_choices) / sizeof(max_choices[0]))];
	chunks = fuzz_cuts_apply(raw, k, in.n, ends);
	run(&su, in.p, ends, chunks, &got);
	one[0] = in.n;
	run(&su, in.p, one, 1, &whole);
	fuzz_check(same(&got, &whole));
	return 0;
}
