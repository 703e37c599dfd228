/* SPDX-License-Identifier: MIT */
/*
 * The result of a load run: merged statistics, the per-second timeline, the
 * client's own resource use and its verdict on whether it was the limit.
 * load-report.c turns it into JSON or a readable summary.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "load-options.h"
#include "load-protocol.h"
#include "load-stats.h"
#include "tls-client.h"
#include "ws-deflate.h"

struct load_second {
	double t; /* seconds since the run started */
	uint64_t sent, received;
	double p99_ms; /* corrected latency of echoes received in this second */
	unsigned connected;
	double cpu_percent; /* this process */
};

struct load_result {
	const struct load_options *opts;
	int64_t start_wall_ns, end_wall_ns;
	double elapsed;
	double measured_seconds; /* the measured sending window */
	int64_t epoch_ns;        /* connections started (CLOCK_MONOTONIC) */
	unsigned threads;
	struct load_stats stats;

	struct load_second *timeline;
	unsigned n_timeline, cap_timeline;

	double cpu_seconds;            /* user + system of this process */
	double cpu_percent_mean;       /* over the run */
	double max_thread_cpu_percent; /* busiest worker thread, mean over the run */
	uint64_t rss_max_bytes;

	/* wss:// and permessage-deflate: what the first connection to get
	 * that far agreed, and the first TLS failure in words. */
	char tls_version[32];
	char tls_cipher[64];
	char tls_error[TLS_ERROR_MAX];
	struct ws_deflate_params pmd;
	bool pmd_seen;

	bool client_limited;  /* its own work made it late, or a thread saturated */
	bool machine_delayed; /* it slept past send times: timers, other processes */
	char verdict[512];
	bool interrupted;
};

void load_result_free(struct load_result *r);

/* Messages/s received in the measured window. */
double load_result_rate(const struct load_result *r);

/* The exit status the result earns: errors counted, interrupted, or clean. */
enum load_exit load_result_exit(const struct load_result *r);
