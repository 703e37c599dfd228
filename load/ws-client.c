/* SPDX-License-Identifier: MIT */
/*
 * The client side of RFC 6455 (see ws-client.h): handshake, masking,
 * framing and an incremental frame parser, over caller buffers. SHA-1 and
 * base64 are here too, for Sec-WebSocket-Accept alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "ws-client.h"

int ws_rng_seed(struct ws_rng *r)
{
	struct timespec ts;

	if (getrandom(&r->state, sizeof(r->state), 0) == sizeof(r->state))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r->state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)r;
	return -EIO;
}

/* ---- frames ------------------------------------------------------------------ */

size_t ws_frame_header(uint8_t *out, enum ws_opcode opcode, bool fin, uint64_t len, uint32_t mask)
{
	size_t n = 0;

	out[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		out[n++] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		out[n++] = 0x80 | 126;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	} else {
		out[n++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			out[n++] = (uint8_t)(len >> (8 * i));
	}
	memcpy(out + n, &mask, 4);
	return n + 4;
}

void ws_mask(uint8_t *buf, size_t len, uint32_t mask)
{
	/* Both halves hold the key, so memory order is right on any host. */
	uint64_t m8 = (uint64_t)mask | ((uint64_t)mask << 32);
	const uint8_t *key = (const uint8_t *)&mask;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v;

		memcpy(&v, buf + i, 8);
		v ^= m8;
		memcpy(buf + i, &v, 8);
	}
	for (; i < len; i++)
		buf[i] ^= key[i & 3];
}

size_t ws_frame_encode(uint8_t *out, enum ws_opcode opcode, const void *payload, size_t len,
                       uint32_t mask)
{
	size_t n = ws_frame_header(out, opcode, true, len, mask);

	if (len)
		memcpy(out + n, payload, len);
	ws_mask(out + n, len, mask);
	return n + len;
}

size_t ws_close_encode(uint8_t *out, int code, uint32_t mask)
{
	uint8_t payload[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	return ws_frame_encode(out, WS_OP_CLOSE, payload, sizeof(payload), mask);
}

/* ---- SHA-1 (FIPS 180-4) and base64, for the accept key -------------------------------- */

struct sha1 {
	uint32_t h[5];
	uint64_t bytes;
	uint8_t block[64];
	size_t used;
};

static uint32_t rol32(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(struct sha1 *s, const uint8_t *p)
{
	uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = t;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
	*s = (struct sha1){ .h = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 } };
}

static void sha1_update(struct sha1 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->bytes += len;
	while (len) {
		size_t k = 64 - s->used < len ? 64 - s->used : len;

		memcpy(s->block + s->used, p, k);
		s->used += k;
		p += k;
		len -= k;
		if (s->used == 64) {
			sha1_block(s, s->block);
			s->used = 0;
		}
	}
}

static void sha1_final(struct sha1 *s, uint8_t out[20])
{
	uint64_t bits = s->bytes * 8;
	uint8_t pad = 0x80, zero = 0, len[8];

	sha1_update(s, &pad, 1);
	while (s->used != 56)
		sha1_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(s, len, 8);
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64_encode(const uint8_t *in, size_t len, char *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0, o = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* ---- opening handshake ----------------------------------------------------------------- */

void ws_accept_for_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; /* section 1.3 */
	struct sha1 s;
	uint8_t md[20];

	sha1_init(&s);
	sha1_update(&s, key, strlen(key));
	sha1_update(&s, guid, sizeof(guid) - 1);
	sha1_final(&s, md);
	base64_encode(md, sizeof(md), out);
}

void ws_handshake_init(struct ws_handshake *h, const uint8_t nonce[16])
{
	memset(h, 0, sizeof(*h));
	base64_encode(nonce, 16, h->key);
	ws_accept_for_key(h->key, h->accept);
}

int ws_handshake_request(const struct ws_handshake *h, const char *host, const char *path,
                         char *out, size_t size)
{
	char ext[WS_DEFLATE_OFFER_MAX + 32] = "";
	int n;

	if (h->deflate) {
		char offer[WS_DEFLATE_OFFER_MAX];

		if (ws_deflate_offer_format(h->deflate, offer, sizeof(offer)) < 0)
			return -ENOBUFS;
		snprintf(ext, sizeof(ext), "Sec-WebSocket-Extensions: %s\r\n", offer);
	}
	n = snprintf(out, size,
	             "GET %s HTTP/1.1\r\n"
	             "Host: %s\r\n"
	             "Upgrade: websocket\r\n"
	             "Connection: Upgrade\r\n"
	             "Sec-WebSocket-Key: %s\r\n"
	             "Sec-WebSocket-Version: 13\r\n"
	             "%s"
	             "\r\n",
	             path, host, h->key, ext);

	return n < 0 || (size_t)n >= size ? -ENOBUFS : n;
}

/* @s with the spaces and tabs around it removed, in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Whether the comma-separated @list holds @token (case-insensitive). */
static bool has_token(char *list, const char *token)
{
	char *save = NULL;

	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (strcasecmp(trim(t), token) == 0)
			return true;
	return false;
}

static int status_line(struct ws_handshake *h, const char *line)
{
	/* "HTTP/1.1 101 Switching Protocols" */
	const char *p = strchr(line, ' ');

	if (strncmp(line, "HTTP/", 5) != 0 || !p || p[1] < '1' || p[1] > '5' || p[2] < '0' ||
	    p[2] > '9' || p[3] < '0' || p[3] > '9' || (p[4] != ' ' && p[4] != '\0'))
		return -EPROTO;
	h->status = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
	/* Section 4.1: any status other than 101 ends the handshake here. */
	return h->status == 101 ? 0 : -EPROTO;
}

static void header_line(struct ws_handshake *h, char *line)
{
	char *colon = strchr(line, ':'), *value;

	if (!colon)
		return;
	*colon = '\0';
	value = trim(colon + 1);
	line = trim(line);
	if (strcasecmp(line, "Upgrade") == 0)
		h->upgrade = strcasecmp(value, "websocket") == 0;
	else if (strcasecmp(line, "Connection") == 0)
		h->connection = has_token(value, "Upgrade");
	else if (strcasecmp(line, "Sec-WebSocket-Accept") == 0)
		h->accept_ok = strcmp(value, h->accept) == 0;
	else if (strcasecmp(line, "Sec-WebSocket-Extensions") == 0 && h->deflate && !h->pmd.on &&
	         *value)
		/* RFC 7692 section 7.1: a bad answer fails the connection. */
		h->unrequested |= ws_deflate_accept(h->deflate, value, &h->pmd) < 0;
	else if (strcasecmp(line, "Sec-WebSocket-Extensions") == 0 ||
	         strcasecmp(line, "Sec-WebSocket-Protocol") == 0)
		h->unrequested |= *value != '\0';
}

/* A complete response line (without its line ending). */
static int end_of_line(struct ws_handshake *h)
{
	char *line = h->line;

	h->line[h->line_len] = '\0';
	h->line_len = 0;
	if (!h->status)
		return status_line(h, line);
	if (*line == '\0') {
		/* Section 4.1, the client's checks of the server's response. */
		if (!h->upgrade || !h->connection || !h->accept_ok || h->unrequested)
			return -EPROTO;
		h->done = true;
		return 0;
	}
	header_line(h, line);
	return 0;
}

ssize_t ws_handshake_parse(struct ws_handshake *h, const uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len && !h->done) {
		uint8_t ch = buf[i++];

		if (++h->total > WS_RESPONSE_MAX)
			return -EPROTO;
		if (ch == '\n') {
			int r;

			if (h->line_len && h->line[h->line_len - 1] == '\r')
				h->line_len--;
			r = end_of_line(h);
			if (r < 0)
				return r;
		} else if (h->line_len < sizeof(h->line) - 1) {
			h->line[h->line_len++] = (char)ch;
		}
	}
	return (ssize_t)i;
}

/* ---- the server's frames (section 5.2) --------------------------------------------- */

void ws_parser_init(struct ws_parser *p, size_t max_message)
{
	memset(p, 0, sizeof(*p));
	p->max = max_message;
}

void ws_parser_free(struct ws_parser *p)
{
	free(p->msg);
	p->msg = NULL;
	p->msg_cap = 0;
}

/* Bytes of the header that starts with @b1 as its second byte. */
static size_t head_size(uint8_t b1)
{
	uint8_t len7 = b1 & 0x7f;

	return len7 == 127 ? 10 : len7 == 126 ? 4 : 2;
}

static bool close_code_valid(int code)
{
	/* Section 7.4: 1004-1006 and 1015 never go on the wire; 1012-1014 are
	 * registered since. */
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

/* The header in p->head is complete: check it and start the frame. */
static int frame_begin(struct ws_parser *p)
{
	uint8_t b0 = p->head[0], b1 = p->head[1], op = b0 & 0x0f;
	uint64_t len = b1 & 0x7f;

	if (b0 & 0x30)
		return -EPROTO; /* RSV2/3: no extension defines them */
	/* RFC 7692 section 6: RSV1 marks a compressed message, on its first
	 * frame only, and only once permessage-deflate was negotiated. */
	if ((b0 & 0x40) && (!p->deflate || (op != WS_OP_TEXT && op != WS_OP_BINARY)))
		return -EPROTO;
	if (b1 & 0x80)
		return -EPROTO; /* section 5.1: a server must not mask */
	if (len == 126) {
		len = (uint64_t)p->head[2] << 8 | p->head[3];
	} else if (len == 127) {
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | p->head[i];
		if (len >> 63)
			return -EPROTO;
	}
	switch (op) {
	case WS_OP_CONTINUATION:
		if (!p->msg_opcode)
			return -EPROTO;
		break;
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (p->msg_opcode)
			return -EPROTO; /* a new message inside a fragmented one */
		p->msg_opcode = op;
		p->msg_len = 0;
		p->msg_compressed = b0 & 0x40;
		break;
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		if (!(b0 & 0x80) || len > WS_CONTROL_MAX)
			return -EPROTO; /* section 5.5 */
		p->ctl_len = 0;
		break;
	default:
		return -EPROTO;
	}
	p->opcode = op;
	p->fin = b0 & 0x80;
	p->remaining = len;
	p->in_payload = true;
	p->head_len = 0;
	return 0;
}

/* Keeps what fits under p->max of a message's bytes; counts them all. */
static int message_append(struct ws_parser *p, const uint8_t *data, size_t n)
{
	uint64_t kept = p->msg_len < p->max ? p->msg_len : p->max;
	size_t keep = p->max - kept < n ? (size_t)(p->max - kept) : n;

	if (keep) {
		if (kept + keep > p->msg_cap) {
			size_t cap = p->msg_cap ? p->msg_cap * 2 : 256;
			uint8_t *m;

			if (cap < kept + keep)
				cap = kept + keep;
			if (cap > p->max)
				cap = p->max;
			m = realloc(p->msg, cap);
			if (!m)
				return -ENOMEM;
			p->msg = m;
			p->msg_cap = cap;
		}
		memcpy(p->msg + kept, data, keep);
	}
	p->msg_len += n;
	return 0;
}

static void message_event(struct ws_parser *p, const uint8_t *data, uint64_t len,
                          struct ws_event *ev)
{
	ev->type = WS_EVENT_MESSAGE;
	ev->opcode = p->msg_opcode;
	ev->len = len;
	ev->oversized = len > p->max;
	ev->compressed = p->msg_compressed;
	ev->data = ev->oversized ? NULL : data;
	p->msg_opcode = 0;
}

static int control_event(struct ws_parser *p, struct ws_event *ev)
{
	ev->data = p->ctl;
	ev->len = p->ctl_len;
	switch (p->opcode) {
	case WS_OP_PING:
		ev->type = WS_EVENT_PING;
		return 0;
	case WS_OP_PONG:
		ev->type = WS_EVENT_PONG;
		return 0;
	default:
		ev->type = WS_EVENT_CLOSE;
		ev->close_code = WS_CLOSE_NO_STATUS;
		if (p->ctl_len == 1)
			return -EPROTO;
		if (p->ctl_len >= 2) {
			ev->close_code = p->ctl[0] << 8 | p->ctl[1];
			if (!close_code_valid(ev->close_code))
				return -EPROTO;
		}
		return 0;
	}
}

ssize_t ws_parser_next(struct ws_parser *p, const uint8_t *buf, size_t len, struct ws_event *ev)
{
	size_t off = 0;

	*ev = (struct ws_event){ .type = WS_EVENT_NONE };
	if (p->emitted) {
		p->emitted = false;
		p->msg_len = 0;
		if (p->msg_cap > 64 * 1024) /* a large message: give the memory back */
			ws_parser_free(p);
	}
	while (off < len) {
		size_t n;
		int r;

		if (!p->in_payload) {
			size_t want = p->head_len < 2 ? 2 : head_size(p->head[1]);

			n = want - p->head_len < len - off ? want - p->head_len : len - off;
			memcpy(p->head + p->head_len, buf + off, n);
			p->head_len += (uint8_t)n;
			off += n;
			if (p->head_len == 2 && head_size(p->head[1]) > 2)
				continue;
			if (p->head_len < want)
				break;
			r = frame_begin(p);
			if (r < 0)
				return r;
			/* The common case: a whole unfragmented message in @buf. */
			if (p->opcode != WS_OP_CONTINUATION && !(p->opcode & 0x8) && p->fin &&
			    p->remaining <= len - off) {
				message_event(p, buf + off, p->remaining, ev);
				off += p->remaining;
				p->in_payload = false;
				return (ssize_t)off;
			}
		}
		n = p->remaining < len - off ? (size_t)p->remaining : len - off;
		if (p->opcode & 0x8) {
			memcpy(p->ctl + p->ctl_len, buf + off, n);
			p->ctl_len += (uint8_t)n;
		} else if ((r = message_append(p, buf + off, n)) < 0) {
			return r;
		}
		off += n;
		p->remaining -= n;
		if (p->remaining)
			break;
		p->in_payload = false;
		if (p->opcode & 0x8) {
			r = control_event(p, ev);
			return r < 0 ? r : (ssize_t)off;
		}
		if (p->fin) {
			message_event(p, p->msg, p->msg_len, ev);
			p->emitted = true;
			return (ssize_t)off;
		}
	}
	return (ssize_t)off;
}
