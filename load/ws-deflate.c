/* SPDX-License-Identifier: MIT */
/*
 * permessage-deflate for wsbench-load (see ws-deflate.h), on zlib.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "ws-deflate.h"

/* Section 7.2.1: a message ends with an empty stored block's tail. */
static const uint8_t tail[4] = { 0x00, 0x00, 0xff, 0xff };

int ws_deflate_offer_format(const struct ws_deflate_offer *o, char *out, size_t size)
{
	int n;

	/* client_max_window_bits with no value: the server may limit our
	 * window too (section 7.1.2.2). */
	if (o->window_bits)
		n = snprintf(out, size,
		             WS_DEFLATE_TOKEN
		             "; client_max_window_bits=%u; server_max_window_bits=%u"
		             "%s%s",
		             o->window_bits, o->window_bits,
		             o->client_no_context_takeover ? "; client_no_context_takeover" : "",
		             o->server_no_context_takeover ? "; server_no_context_takeover" : "");
	else
		n = snprintf(out, size, WS_DEFLATE_TOKEN "; client_max_window_bits%s%s",
		             o->client_no_context_takeover ? "; client_no_context_takeover" : "",
		             o->server_no_context_takeover ? "; server_no_context_takeover" : "");
	return n < 0 || (size_t)n >= size ? -ENOBUFS : n;
}

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

/* A window size value: 8..15 in decimal, no sign, no leading zero
 * (section 7.1.2.1), maybe quoted (RFC 7230 quoted-string). */
static int window_bits(char *v, uint8_t *ret)
{
	size_t n;

	if (!v)
		return -EPROTO;
	v = trim(v);
	n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		v++;
		n -= 2;
	}
	if (n == 1 && v[0] >= '8' && v[0] <= '9')
		*ret = (uint8_t)(v[0] - '0');
	else if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
		*ret = (uint8_t)(10 + v[1] - '0');
	else
		return -EPROTO;
	return 0;
}

int ws_deflate_accept(const struct ws_deflate_offer *o, char *value, struct ws_deflate_params *ret)
{
	struct ws_deflate_params p = { .on = true,
		                       .client_max_window_bits = WS_DEFLATE_MAX_BITS,
		                       .server_max_window_bits = WS_DEFLATE_MAX_BITS,
		                       .level = o->level ? o->level : WS_DEFLATE_LEVEL_DEFAULT,
		                       .literals_only = o->literals_only };
	bool seen_cmwb = false, seen_smwb = false;
	char *save = NULL, *tok;

	/* One extension only: we offered one. */
	if (strchr(value, ','))
		return -EPROTO;
	tok = strtok_r(value, ";", &save);
	if (!tok || strcasecmp(trim(tok), WS_DEFLATE_TOKEN) != 0)
		return -EPROTO;
	while ((tok = strtok_r(NULL, ";", &save))) {
		char *eq = strchr(tok, '='), *name;

		if (eq)
			*eq = '\0';
		name = trim(tok);
		if (strcasecmp(name, "server_no_context_takeover") == 0) {
			if (eq || p.server_no_context_takeover)
				return -EPROTO;
			p.server_no_context_takeover = true;
		} else if (strcasecmp(name, "client_no_context_takeover") == 0) {
			if (eq || p.client_no_context_takeover)
				return -EPROTO;
			p.client_no_context_takeover = true;
		} else if (strcasecmp(name, "server_max_window_bits") == 0) {
			if (seen_smwb ||
			    window_bits(eq ? eq + 1 : NULL, &p.server_max_window_bits) < 0)
				return -EPROTO;
			/* Section 7.1.2.1: no more than we asked for. */
			if (o->window_bits && p.server_max_window_bits > o->window_bits)
				return -EPROTO;
			seen_smwb = true;
		} else if (strcasecmp(name, "client_max_window_bits") == 0) {
			/* Section 7.1.2.2: we offered it, so the server may set it. */
			if (seen_cmwb ||
			    window_bits(eq ? eq + 1 : NULL, &p.client_max_window_bits) < 0)
				return -EPROTO;
			seen_cmwb = true;
		} else {
			return -EPROTO;
		}
	}
	if (o->server_no_context_takeover && !p.server_no_context_takeover)
		return -EPROTO; /* section 7.1.1.1: the server must accept it or decline */
	/* What we asked for ourselves holds whatever the server said. */
	if (o->client_no_context_takeover)
		p.client_no_context_takeover = true;
	if (o->window_bits && p.client_max_window_bits > o->window_bits)
		p.client_max_window_bits = (uint8_t)o->window_bits;
	if (p.client_max_window_bits < WS_DEFLATE_MIN_BITS)
		p.client_max_window_bits = WS_DEFLATE_MIN_BITS; /* a smaller window is no harm */
	*ret = p;
	return 0;
}

void ws_deflate_init(struct ws_deflate *d, const struct ws_deflate_params *params)
{
	memset(d, 0, sizeof(*d));
	d->params = *params;
}

void ws_deflate_free(struct ws_deflate *d)
{
	if (d->tx) {
		deflateEnd(d->tx);
		free(d->tx);
	}
	if (d->rx) {
		inflateEnd(d->rx);
		free(d->rx);
	}
	d->tx = d->rx = NULL;
}

size_t ws_deflate_bound(size_t len)
{
	/* deflateBound()'s worst case for raw deflate at any window, plus
	 * the sync flush's empty stored block, which we then strip. */
	return len + (len >> 12) + (len >> 14) + (len >> 25) + 13 + 5 + 6;
}

ssize_t ws_deflate_compress(struct ws_deflate *d, const uint8_t *in, size_t len, uint8_t *out,
                            size_t size)
{
	z_stream *z = d->tx;
	int r;

	if (!z) {
		z = calloc(1, sizeof(*z));
		if (!z)
			return -ENOMEM;
		/* memLevel 8 is zlib's default; 256 KiB per connection at a
		 * 15-bit window (--deflate-window lowers it). */
		if (deflateInit2(z, d->params.level ? d->params.level : WS_DEFLATE_LEVEL_DEFAULT,
		                 Z_DEFLATED, -(int)d->params.client_max_window_bits, 8,
		                 d->params.literals_only ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY) !=
		    Z_OK) {
			free(z);
			return -ENOMEM;
		}
		d->tx = z;
	}
	z->next_in = (Bytef *)in;
	z->avail_in = (uInt)len;
	z->next_out = out;
	z->avail_out = (uInt)size;
	r = deflate(z, Z_SYNC_FLUSH);
	if ((r != Z_OK && r != Z_BUF_ERROR) || z->avail_in || z->avail_out == 0)
		return -EIO; /* @out was smaller than ws_deflate_bound() */
	len = size - z->avail_out;
	if (d->params.client_no_context_takeover)
		deflateReset(z);
	/* Section 7.2.1: remove the 4-byte tail the sync flush ends with. */
	if (len < 4 || memcmp(out + len - 4, tail, 4) != 0)
		return -EIO;
	return (ssize_t)(len - 4);
}

/* Inflates @len bytes of @in, appending to @out past *@have (counting,
 * not storing, what does not fit @size). Return: 1 when the stream ended
 * (a block with BFINAL set, section 7.2.3.3: the rest is ignored and the
 * next message starts a new stream), 0, or a negative errno. */
static int inflate_some(z_stream *z, const uint8_t *in, size_t len, uint8_t *out, size_t size,
                        size_t *have)
{
	uint8_t sink[4096];

	z->next_in = (Bytef *)in;
	z->avail_in = (uInt)len;
	for (;;) {
		bool to_sink = *have >= size;
		size_t room = to_sink ? sizeof(sink) : size - *have, made;
		int r;

		z->next_out = to_sink ? sink : out + *have;
		z->avail_out = (uInt)room;
		r = inflate(z, Z_SYNC_FLUSH);
		made = room - z->avail_out;
		*have += made;
		if (r == Z_STREAM_END) {
			inflateReset(z);
			return 1;
		}
		if (r == Z_BUF_ERROR && made == 0)
			return 0; /* nothing more to do with this input */
		if (r != Z_OK && r != Z_BUF_ERROR)
			return r == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
		if (z->avail_in == 0 && z->avail_out != 0)
			return 0;
	}
}

ssize_t ws_deflate_decompress(struct ws_deflate *d, const uint8_t *in, size_t len, uint8_t *out,
                              size_t size)
{
	z_stream *z = d->rx;
	size_t have = 0;
	int r;

	if (!z) {
		z = calloc(1, sizeof(*z));
		if (!z)
			return -ENOMEM;
		/* 15 bits whatever the server's limit: a window as large as any
		 * the server may use costs 32 KiB and cannot be too small. */
		if (inflateInit2(z, -WS_DEFLATE_MAX_BITS) != Z_OK) {
			free(z);
			return -ENOMEM;
		}
		d->rx = z;
	}
	r = inflate_some(z, in, len, out, size, &have);
	if (r == 0)
		r = inflate_some(z, tail, sizeof(tail), out, size, &have);
	if (r == 1)
		return (ssize_t)have;
	if (r < 0) {
		inflateReset(z); /* the connection is failed anyway */
		return r;
	}
	if (d->params.server_no_context_takeover)
		inflateReset(z);
	return (ssize_t)have;
}
