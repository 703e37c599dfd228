/* SPDX-License-Identifier: MIT */
/*
 * Counters and histograms of a load run. Each worker keeps one privately,
 * updated on its thread without a lock, and adds it every 100 ms into a
 * shared one under its lock; the main thread takes snapshots of those and
 * merges them.
 */
#pragma once

#include <stdint.h>

#include "histogram.h"

#define LOAD_STATS_CODES 8 /* distinct close codes / HTTP statuses tracked */

struct load_code_count {
	int code;
	uint64_t count;
};

struct load_stats {
	/* connections */
	uint64_t conn_attempts;    /* every connect attempt, retries included */
	uint64_t conn_established; /* clients that completed the handshake */
	uint64_t conn_failed;      /* clients that never connected after all retries */
	uint64_t conn_retries;
	uint64_t conn_dropped; /* established connections lost before the end */
	uint64_t fail_refused, fail_timeout, fail_handshake, fail_other; /* per attempt */
	struct load_code_count http_status[LOAD_STATS_CODES];            /* handshake rejections */
	struct load_code_count close_codes[LOAD_STATS_CODES];            /* closes by the peer */
	unsigned connected;                                              /* open right now */

	/* messages, over the whole run (warm-up included) */
	uint64_t scheduled; /* messages whose send time has come */
	uint64_t sent;
	uint64_t received;   /* verified echoes of messages we sent */
	uint64_t corrupted;  /* echoes that failed verification */
	uint64_t unexpected; /* duplicates and echoes of messages never sent */
	uint64_t bytes_sent, bytes_received;

	/* the measured window (after warm-up) */
	uint64_t measured_sent, measured_received;
	uint64_t uncorrected_missing; /* echoes too late to find their send time */

	/* TLS and permessage-deflate */
	uint64_t fail_tls;         /* connect attempts whose TLS handshake failed (per attempt) */
	uint64_t tls_handshakes;   /* completed */
	uint64_t tls_resumed;      /* of which resumed an earlier session */
	uint64_t tls_errors;       /* open connections ended by an alert or a bad record */
	uint64_t protocol_errors;  /* connections we failed with 1002 */
	uint64_t deflate_errors;   /* connections we failed with 1007: corrupt deflate data */
	uint64_t deflate_accepted; /* connections on which permessage-deflate was agreed */
	/* Every byte that crossed the socket (TLS records, frame headers,
	 * handshakes, control frames): what the payload cost on the wire. */
	uint64_t wire_bytes_sent, wire_bytes_received;

	/* Send lag by cause (see encode_due()): sends held back by a full
	 * socket send buffer (the server not reading), and when the last
	 * connection of the run got through its upgrade (CLOCK_MONOTONIC ns;
	 * merged as a maximum). */
	uint64_t backpressure_sends;
	int64_t last_established_ns;

	/* Histograms last: load_stats_clear() clears everything before them. */
	struct histogram corrected;        /* µs from the scheduled send time */
	struct histogram uncorrected;      /* µs from the actual send time */
	struct histogram send_lag;         /* µs from scheduled to actual send */
	struct histogram lag_own;          /* of which the worker was busy: the client's own */
	struct histogram lag_wakeup;       /* of which it slept past the time: the machine's */
	struct histogram lag_backpressure; /* of which the socket would not take more */
	struct histogram tcp_connect;      /* µs from connect() to TCP established */
	struct histogram tls_handshake;    /* µs from TCP connected to TLS established */
	struct histogram upgrade;          /* µs from upgrade request to the 101 response */
	struct histogram connect_lag;      /* µs a first connect attempt started after its time */

	/* since the last snapshot, for the per-second timeline */
	struct histogram interval;
};

void load_stats_init(struct load_stats *s);

/* Like load_stats_init(), but leaves empty histograms' memory untouched:
 * cheap enough to call every 100 ms. */
void load_stats_clear(struct load_stats *s);

/* Adds @from into @to (the interval histogram included). */
void load_stats_merge(struct load_stats *to, const struct load_stats *from);

/* Adds only the counters of @from into @to: cheap enough for every second. */
void load_stats_merge_counters(struct load_stats *to, const struct load_stats *from);

void load_stats_count_code(struct load_code_count *table, int code);

/* Lost: sent and never echoed (correctly). */
static inline uint64_t load_stats_lost(const struct load_stats *s)
{
	uint64_t done = s->received + s->corrupted;

	return s->sent > done ? s->sent - done : 0;
}
