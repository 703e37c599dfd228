/* SPDX-License-Identifier: MIT */
/*
 * The pseudo-English corpus (see corpus.h): sentences of 4 to 17 words from
 * a vocabulary ordered by frequency, each word picked as the smaller of two
 * uniform draws so that common words dominate, as in real text.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "corpus.h"

static const char *const words[] = {
	"the",     "of",      "and",     "to",      "a",       "in",      "is",       "that",
	"for",     "it",      "as",      "was",     "with",    "be",      "by",       "on",
	"not",     "he",      "this",    "are",     "or",      "his",     "from",     "at",
	"which",   "but",     "have",    "an",      "had",     "they",    "you",      "were",
	"their",   "one",     "all",     "we",      "can",     "her",     "has",      "there",
	"been",    "if",      "more",    "when",    "will",    "would",   "who",      "so",
	"no",      "she",     "other",   "its",     "time",    "into",    "than",     "some",
	"could",   "them",    "only",    "new",     "these",   "may",     "first",    "then",
	"do",      "any",     "like",    "my",      "now",     "over",    "such",     "our",
	"man",     "me",      "even",    "most",    "made",    "after",   "also",     "did",
	"many",    "before",  "must",    "through", "years",   "where",   "much",     "your",
	"way",     "well",    "down",    "should",  "because", "each",    "just",     "those",
	"people",  "how",     "too",     "little",  "state",   "good",    "very",     "make",
	"world",   "still",   "own",     "see",     "men",     "work",    "long",     "get",
	"here",    "between", "both",    "life",    "being",   "under",   "never",    "day",
	"same",    "another", "know",    "while",   "last",    "might",   "us",       "great",
	"old",     "year",    "off",     "come",    "since",   "against", "go",       "came",
	"right",   "used",    "take",    "three",   "message", "server",  "network",  "latency",
	"request", "answer",  "morning", "window",  "river",   "garden",  "question", "number",
};

static uint64_t next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

void corpus_generate(char *out, size_t size, uint64_t seed)
{
	const size_t n_words = sizeof(words) / sizeof(words[0]);
	uint64_t x = seed ? seed : 1;
	size_t pos = 0;
	unsigned left = 0;
	bool start = true;

	while (pos < size) {
		uint64_t r = next(&x);
		size_t a = (size_t)(r % n_words), b = (size_t)((r >> 32) % n_words);
		const char *w = words[a < b ? a : b];
		char buf[24];
		size_t len = strlen(w);

		if (left == 0) {
			left = 4 + (unsigned)((r >> 20) % 14);
			start = true;
		}
		memcpy(buf, w, len);
		if (start && buf[0] >= 'a' && buf[0] <= 'z')
			buf[0] = (char)(buf[0] - 'a' + 'A');
		start = false;
		if (--left == 0)
			buf[len++] = '.';
		else if ((r >> 56) < 12)
			buf[len++] = ',';
		buf[len++] = ' ';
		for (size_t i = 0; i < len && pos < size; i++)
			out[pos++] = buf[i];
	}
}

static char corpus[CORPUS_SIZE];
static pthread_once_t corpus_once = PTHREAD_ONCE_INIT;

static void corpus_build(void)
{
	corpus_generate(corpus, sizeof(corpus), CORPUS_SEED);
}

const char *corpus_text(size_t *len)
{
	pthread_once(&corpus_once, corpus_build);
	*len = sizeof(corpus);
	return corpus;
}
