/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer harnesses share: the entry points libFuzzer calls, a
 * check that aborts with its expression (a crash libFuzzer saves as an
 * input), and the split points a harness cuts a byte stream at, taken from
 * the input itself so the fuzzer explores them as it explores the bytes
 * (uWebSockets' makeChunked and Chromium's frame-parser fuzzer do the same).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define fuzz_check(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input, consumed from the front. */
struct fuzz_input {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

/* @bytes (at most 8) little-endian; zeros once the input runs out. */
static inline uint64_t fuzz_uint(struct fuzz_input *in, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)fuzz_u8(in) << (8 * i);
	return v;
}

#define FUZZ_MAX_CUTS 16

/**
 * fuzz_cuts() - read where to cut a stream: one byte, the number of cuts
 * (mod FUZZ_MAX_CUTS + 1), then two bytes per cut. Call before the stream is
 * known; fuzz_cuts_apply() places them once its length is.
 * Return: the number of raw cut values in @raw.
 */
static inline size_t fuzz_cuts(struct fuzz_input *in, uint16_t raw[FUZZ_MAX_CUTS])
{
	size_t k = fuzz_u8(in) % (FUZZ_MAX_CUTS + 1);

	for (size_t i = 0; i < k; i++)
		raw[i] = (uint16_t)fuzz_uint(in, 2);
	return k;
}

/* The chunk boundaries of a @len-byte stream: @k ascending offsets in
 * [0, @len] (equal offsets make empty chunks, which a reader may see too),
 * then @len itself. Return: the number of chunks, @k + 1. */
static inline size_t fuzz_cuts_apply(const uint16_t *raw, size_t k, size_t len,
                                     size_t ends[FUZZ_MAX_CUTS + 1])
{
	for (size_t i = 0; i < k; i++) {
		size_t v = len ? raw[i] % (len + 1) : 0, j = i;

		for (; j > 0 && ends[j - 1] > v; j--)
			ends[j] = ends[j - 1];
		ends[j] = v;
	}
	ends[k] = len;
	return k + 1;
}

#define FUZZ_MAX_ARGS 64

/**
 * fuzz_argv() - a command line from the rest of the input: @argv0, then the
 * input cut at NUL bytes (an empty input gives no arguments; a trailing NUL
 * gives a last empty one). The strings live in *@buf, to be freed.
 * Return: argc, at most FUZZ_MAX_ARGS.
 */
static inline int fuzz_argv(struct fuzz_input *in, const char *argv0, char **argv, char **buf)
{
	char *b = malloc(in->n + 1), *p = b;
	int argc = 0;

	fuzz_check(b);
	memcpy(b, in->p, in->n);
	b[in->n] = '\0';
	argv[argc++] = (char *)argv0;
	while (in->n && argc < FUZZ_MAX_ARGS) {
		size_t len = strlen(p);

		argv[argc++] = p;
		if (len >= in->n)
			break;
		p += len + 1;
		in->p += len + 1;
		in->n -= len + 1;
	}
	argv[argc] = NULL;
	*buf = b;
	return argc;
}
