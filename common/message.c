/* SPDX-License-Identifier: MIT */
/*
 * Message encoding and verification (see message.h). The filler comes from
 * xorshift64* seeded by a mix of (client, seq, sched_us, key); text filler is
 * drawn from 64 characters that need no JSON escaping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "macro.h"
#include "message.h"

static const char filler_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The widest text header: {"c":4294967295,"s":<20 digits>,"t":<20 digits>,"p":"  "} */
#define TEXT_HEADER_MAX (5 + 10 + 5 + 20 + 5 + 20 + 6 + 2)

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finalizer */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t filler_seed(const struct message_id *id, uint64_t key)
{
	uint64_t s = mix64(key ^ mix64(id->client + 0x9e3779b97f4a7c15ULL));

	s = mix64(s ^ id->seq);
	s = mix64(s ^ id->sched_us);
	return s ? s : 1;
}

/* Filler from the corpus, starting at an offset the seed picks, wrapping. */
static void fill_corpus(uint8_t *p, size_t n, uint64_t seed)
{
	size_t len, off;
	const char *c = corpus_text(&len);

	off = (size_t)(seed % len);
	while (n > 0) {
		size_t k = MIN(n, len - off);

		memcpy(p, c + off, k);
		p += k;
		n -= k;
		off = 0;
	}
}

static void fill(uint8_t *p, size_t n, uint64_t seed, bool text, enum message_payload payload)
{
	uint64_t x = seed;

	if (payload == PAYLOAD_ZEROS) {
		memset(p, text ? '0' : 0, n);
		return;
	}
	if (payload == PAYLOAD_TEXT) {
		fill_corpus(p, n, seed);
		return;
	}

	while (n > 0) {
		uint64_t r;
		size_t k = n < 8 ? n : 8;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		r = x * 0x2545f4914f6cdd1dULL;
		if (text)
			for (size_t i = 0; i < k; i++, r >>= 8)
				*p++ = (uint8_t)filler_alphabet[r & 63];
		else {
			memcpy(p, &r, k); /* host byte order: encoder and verifier share a host */
			p += k;
		}
		n -= k;
	}
}

/* Appends @v in decimal. */
static char *put_decimal(char *p, uint64_t v)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = digits[--n];
	return p;
}

/* {"c":CLIENT,"s":SEQ,"t":SCHED_US,"p":" as snprintf() would write it, without
 * its cost: the load generator builds one per message. */
static int text_header(char *head, const struct message_id *id)
{
	char *p = head;

	memcpy(p, "{\"c\":", 5);
	p = put_decimal(p + 5, id->client);
	memcpy(p, ",\"s\":", 5);
	p = put_decimal(p + 5, id->seq);
	memcpy(p, ",\"t\":", 5);
	p = put_decimal(p + 5, id->sched_us);
	memcpy(p, ",\"p\":\"", 6);
	p += 6;
	*p = '\0';
	return (int)(p - head);
}

size_t message_min_size(enum message_type type, const struct message_id *id)
{
	char head[TEXT_HEADER_MAX + 1];

	if (type == MESSAGE_BINARY)
		return MESSAGE_BINARY_HEADER + MESSAGE_MIN_FILLER;
	return (size_t)text_header(head, id) + 2 + MESSAGE_MIN_FILLER;
}

size_t message_min_size_for_run(enum message_type type, unsigned clients, double mean_rate,
                                double seconds)
{
	/* Callers pass validated figures; the clamps keep the conversions
	 * below defined for any input. */
	double seq = MIN(MAX(mean_rate * 2 * seconds, 0), 1e18);
	double sched = MIN(MAX(seconds * 1e6, 0), 1e18);
	struct message_id worst = {
		.client = clients ? clients - 1 : 0,
		.seq = (uint64_t)seq + 1000000,
		.sched_us = (uint64_t)sched + 1000000,
	};

	return message_min_size(type, &worst);
}

static const char *const type_names[] = { [MESSAGE_TEXT] = "text", [MESSAGE_BINARY] = "binary" };

const char *message_type_to_string(enum message_type type)
{
	return type <= MESSAGE_BINARY ? type_names[type] : "unknown";
}

int message_type_from_string(const char *s, enum message_type *ret)
{
	for (enum message_type t = MESSAGE_TEXT; t <= MESSAGE_BINARY; t++)
		if (strcmp(s, type_names[t]) == 0) {
			*ret = t;
			return 0;
		}
	return -EINVAL;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static const char *const payload_names[] = {
	[PAYLOAD_RANDOM] = "random", [PAYLOAD_TEXT] = "text", [PAYLOAD_ZEROS] = "zeros"
};

const char *message_payload_to_string(enum message_payload p)
{
	return p <= PAYLOAD_ZEROS ? payload_names[p] : "unknown";
}

int message_payload_from_string(const char *s, enum message_payload *ret)
{
	for (enum message_payload p = PAYLOAD_RANDOM; p <= PAYLOAD_ZEROS; p++)
		if (strcmp(s, payload_names[p]) == 0) {
			*ret = p;
			return 0;
		}
	return -EINVAL;
}

int message_encode(enum message_type type, const struct message_id *id, uint64_t key, uint8_t *buf,
                   size_t size)
{
	return message_encode_payload(type, PAYLOAD_RANDOM, id, key, buf, size);
}

int message_encode_payload(enum message_type type, enum message_payload payload,
                           const struct message_id *id, uint64_t key, uint8_t *buf, size_t size)
{
	uint64_t seed = filler_seed(id, key);
	char head[TEXT_HEADER_MAX + 1];
	int n;

	if (type == MESSAGE_BINARY) {
		if (size < MESSAGE_BINARY_HEADER + MESSAGE_MIN_FILLER)
			return -EMSGSIZE;
		put_le(buf, id->client, 4);
		put_le(buf + 4, id->seq, 8);
		put_le(buf + 12, id->sched_us, 8);
		fill(buf + MESSAGE_BINARY_HEADER, size - MESSAGE_BINARY_HEADER, seed, false,
		     payload);
		return 0;
	}
	n = text_header(head, id);
	if (n < 0 || (size_t)n + 2 + MESSAGE_MIN_FILLER > size)
		return -EMSGSIZE;
	memcpy(buf, head, (size_t)n);
	fill(buf + n, size - (size_t)n - 2, seed, true, payload);
	buf[size - 2] = '"';
	buf[size - 1] = '}';
	return 0;
}

/* Parses a decimal field "<name>":<digits> at *p; advances *p past it. */
static int parse_field(const uint8_t **p, const uint8_t *end, char name, uint64_t *ret)
{
	const uint8_t *q = *p;
	uint64_t v = 0;
	int digits = 0;

	if (end - q < 5 || q[0] != '"' || q[1] != name || q[2] != '"' || q[3] != ':')
		return -EBADMSG;
	q += 4;
	while (q < end && *q >= '0' && *q <= '9' && digits < 20) {
		v = v * 10 + (uint64_t)(*q++ - '0');
		digits++;
	}
	if (digits == 0)
		return -EBADMSG;
	*ret = v;
	*p = q;
	return 0;
}

static int parse_text_header(const uint8_t *buf, size_t len, struct message_id *id)
{
	const uint8_t *p = buf, *end = buf + len;
	uint64_t c, s, t;

	if (len < 2 || *p++ != '{')
		return -EBADMSG;
	if (parse_field(&p, end, 'c', &c) < 0 || c > UINT32_MAX || p >= end || *p++ != ',')
		return -EBADMSG;
	if (parse_field(&p, end, 's', &s) < 0 || p >= end || *p++ != ',')
		return -EBADMSG;
	if (parse_field(&p, end, 't', &t) < 0)
		return -EBADMSG;
	*id = (struct message_id){ .client = (uint32_t)c, .seq = s, .sched_us = t };
	return 0;
}

int message_verify(enum message_type type, const uint8_t *buf, size_t len, uint64_t key,
                   uint8_t *scratch, struct message_id *id)
{
	return message_verify_payload(type, PAYLOAD_RANDOM, buf, len, key, scratch, id);
}

int message_verify_payload(enum message_type type, enum message_payload payload, const uint8_t *buf,
                           size_t len, uint64_t key, uint8_t *scratch, struct message_id *id)
{
	if (type == MESSAGE_BINARY) {
		if (len < MESSAGE_BINARY_HEADER + MESSAGE_MIN_FILLER)
			return -EBADMSG;
		id->client = (uint32_t)get_le(buf, 4);
		id->seq = get_le(buf + 4, 8);
		id->sched_us = get_le(buf + 12, 8);
	} else if (parse_text_header(buf, len, id) < 0) {
		return -EBADMSG;
	}
	if (message_encode_payload(type, payload, id, key, scratch, len) < 0)
		return -EBADMSG;
	return memcmp(buf, scratch, len) == 0 ? 0 : -EBADMSG;
}
