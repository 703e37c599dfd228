/* SPDX-License-Identifier: MIT */
/*
 * What wsbenchd and its children say to each other, written down once:
 *
 *  - an echo server (ours or any other) prints SERVER_READY_PREFIX and its
 *    URL on stdout once it accepts connections;
 *  - wsbenchd starts wsbench-load with options within the ranges below
 *    (wsbench-load refuses what lies outside them, and wsbenchd refuses it
 *    already when a scenario is loaded or a run requested, so a run it
 *    accepts is never refused later);
 *  - with --format jsonl, wsbench-load prints one JSON object a line on
 *    stdout: a progress line a second, then the result (LOAD_LINE_*,
 *    LOAD_KEY_*), and ends with one of the LOAD_EXIT_* statuses.
 *
 * wsbench-load (load/main.c, load-report.c) writes with these names and
 * wsbenchd (daemon/run.c, progress.c, report-build.c) reads with them. The run
 * states wsbenchd derives from the phases are the D-Bus contract's
 * (wsbench-dbus.h).
 */
#pragma once

/* ---- an echo server is ready ------------------------------------------- */

/* "READY ws://HOST:PORT/", one line on stdout. */
#define SERVER_READY_PREFIX "READY "

/* ---- the command line: ranges both sides check ------------------------- */

/* Connections. */
#define LOAD_MAX_CLIENTS 100000

/* Messages/s per client (fixed, burst, either end of a ramp): one a
 * microsecond, the resolution of a message's scheduled send time. */
#define LOAD_MAX_RATE 1000000

/* Burst: messages sent back to back each interval. */
#define LOAD_MAX_BURST 100000

/* Burst interval, seconds. */
#define LOAD_MIN_INTERVAL 0.001

/* Ramp-up, warm-up, burst interval and drain timeout, seconds. */
#define LOAD_MAX_PHASE_SECONDS 3600

/* Measured sending time, seconds (wsbenchd bounds a whole run tighter:
 * RUN_MAX_SECONDS). */
#define LOAD_MIN_DURATION 0.1
#define LOAD_MAX_DURATION (7 * 24 * 3600)

/* ---- --format jsonl: the lines ------------------------------------------ */

/* Every line: {"type": LOAD_LINE_*, ...}. */
#define LOAD_KEY_TYPE "type"

/* Once a second: where the run stands (the keys below). */
#define LOAD_LINE_PROGRESS "progress"
/* --find-max-rate: one line per trial. */
#define LOAD_LINE_TRIAL "trial"
/* Last: {"type":"result","result":{...}}, the whole result. */
#define LOAD_LINE_RESULT "result"
#define LOAD_KEY_RESULT  "result"

/* A progress line's keys: seconds since the start and of the whole run,
 * the phase, clients connected (of all), messages sent and received so
 * far, echoes received in the last second, its p99 and the p99 so far
 * (ms), errors so far. */
#define LOAD_KEY_ELAPSED    "elapsed_s"
#define LOAD_KEY_TOTAL      "total_s"
#define LOAD_KEY_PHASE      "phase"
#define LOAD_KEY_CONNECTED  "connected"
#define LOAD_KEY_CLIENTS    "clients"
#define LOAD_KEY_SENT       "sent"
#define LOAD_KEY_RECEIVED   "received"
#define LOAD_KEY_RATE       "rate"
#define LOAD_KEY_P99        "p99_ms"
#define LOAD_KEY_P99_SO_FAR "p99_so_far_ms"
#define LOAD_KEY_ERRORS     "errors"

/* The phases, in order. */
#define LOAD_PHASE_CONNECTING "connecting"
#define LOAD_PHASE_WARMUP     "warmup"
#define LOAD_PHASE_RUNNING    "running"
#define LOAD_PHASE_DRAINING   "draining"

/* The result's sections wsbenchd copies into its report as they are. */
#define LOAD_RESULT_THROUGHPUT "throughput"
#define LOAD_RESULT_LATENCY    "latency"
#define LOAD_RESULT_ERRORS     "errors"
#define LOAD_RESULT_CLIENT     "client"
#define LOAD_RESULT_TIMELINE   "timeline"
#define LOAD_RESULT_HISTOGRAM  "histogram"

/* ---- how wsbench-load ends ---------------------------------------------- */

enum load_exit {
	LOAD_EXIT_OK = 0,
	LOAD_EXIT_FAILURE = 1,       /* it could not run (resources, the network) */
	LOAD_EXIT_USAGE = 2,         /* bad options */
	LOAD_EXIT_ERRORS = 3,        /* it ran, with errors counted in the result */
	LOAD_EXIT_INTERRUPTED = 130, /* SIGINT or SIGTERM: the result covers the run so far */
};
