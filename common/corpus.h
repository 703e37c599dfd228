/* SPDX-License-Identifier: MIT */
/*
 * A fixed pseudo-English corpus for message filler (--payload text): words
 * of a small English vocabulary, drawn with a skew like natural text's from
 * a generator with a fixed seed, in sentences. It compresses about as well
 * as chat or JSON prose does, and it is the same bytes on every run and
 * every machine, so compressed sizes and verification are repeatable.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CORPUS_SEED 0x77736265ULL /* "wsbe" */
#define CORPUS_SIZE (64u * 1024)

/**
 * corpus_generate() - write @size bytes of pseudo-English from @seed.
 * Only letters, spaces, commas and full stops: nothing a JSON string has to
 * escape.
 */
void corpus_generate(char *out, size_t size, uint64_t seed);

/**
 * corpus_text() - the corpus (CORPUS_SIZE bytes from CORPUS_SEED), built on
 * first use. Thread-safe.
 * @len: receives its length.
 */
const char *corpus_text(size_t *len);
