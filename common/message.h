/* SPDX-License-Identifier: MIT */
/*
 * Load messages: each carries its client id, sequence number and scheduled
 * send time; the rest is filler derived from those three values and a
 * per-run key, so an echo is verified byte for byte by regenerating it, and
 * nothing sent has to be stored. A corrupted header changes the expected
 * filler too, so corruption anywhere is caught.
 *
 * Text messages are JSON: {"c":CLIENT,"s":SEQ,"t":SCHED_US,"p":"FILLER"}.
 * Binary messages: u32 client, u64 seq, u64 sched_us (little-endian), then
 * filler bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum message_type { MESSAGE_TEXT, MESSAGE_BINARY };

/*
 * What the filler after the header is made of, which decides how well
 * permessage-deflate compresses it: random bytes (the default; text
 * messages draw from 64 safe characters), pseudo-English text from a fixed
 * corpus (corpus.h), or zeros (0x00 in binary messages, the character '0'
 * in text messages, which must stay valid JSON).
 */
enum message_payload { PAYLOAD_RANDOM, PAYLOAD_TEXT, PAYLOAD_ZEROS };

struct message_id {
	uint32_t client;
	uint64_t seq;
	uint64_t sched_us; /* scheduled send time, µs since the run's epoch */
};

#define MESSAGE_BINARY_HEADER 20
#define MESSAGE_MIN_FILLER    8 /* so a corrupted header cannot go unnoticed */
#define MESSAGE_MAX_SIZE      (16u * 1024 * 1024)

/**
 * message_min_size() - the smallest message that holds the header for @id
 * (use the largest client, seq and time a run can reach) plus the minimum
 * filler. Text headers grow with the numbers; binary ones are fixed.
 */
size_t message_min_size(enum message_type type, const struct message_id *id);

/**
 * message_min_size_for_run() - the smallest message size a run can use:
 * room for the header of the largest id it can reach plus the minimum
 * filler. The bound wsbench-load enforces and wsbenchd checks before it
 * starts a run, so both agree.
 * @clients: the run's connections.
 * @mean_rate: messages/s per client, averaged over the schedule.
 * @seconds: sending time, warm-up included.
 *
 * The largest id counted: the last client, twice the sequence numbers
 * @mean_rate reaches in @seconds plus 10^6, and a send time 1 s past the
 * end (margins for rounding and late sends).
 */
size_t message_min_size_for_run(enum message_type type, unsigned clients, double mean_rate,
                                double seconds);

/* "text" or "binary". */
const char *message_type_to_string(enum message_type type);
/* Return: 0 with *@ret set, or -EINVAL for another name. */
int message_type_from_string(const char *s, enum message_type *ret);

/* "random", "text" or "zeros". */
const char *message_payload_to_string(enum message_payload p);
/* Return: 0 with *@ret set, or -EINVAL for another name. */
int message_payload_from_string(const char *s, enum message_payload *ret);

/* message_encode() and message_verify() with filler of kind @payload. */
int message_encode_payload(enum message_type type, enum message_payload payload,
                           const struct message_id *id, uint64_t key, uint8_t *buf, size_t size);
int message_verify_payload(enum message_type type, enum message_payload payload, const uint8_t *buf,
                           size_t len, uint64_t key, uint8_t *scratch, struct message_id *id);

/**
 * message_encode() - write the message for @id, exactly @size bytes, to @buf.
 * Return: 0, or -EMSGSIZE if @size is below what this header needs.
 */
int message_encode(enum message_type type, const struct message_id *id, uint64_t key, uint8_t *buf,
                   size_t size);

/**
 * message_verify() - parse the header of a received message into @id and
 * check every byte against what message_encode() would have written.
 * @scratch: at least @len bytes of working space.
 * Return: 0 if it matches, -EBADMSG if the header cannot be parsed or any
 * byte differs.
 */
int message_verify(enum message_type type, const uint8_t *buf, size_t len, uint64_t key,
                   uint8_t *scratch, struct message_id *id);
