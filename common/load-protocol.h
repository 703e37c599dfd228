/* SPDX-License-Identifier: MIT */
/*
 * The contract between wsbenchd and wsbench-load: what the daemon may ask of
 * the load generator on its command line. wsbench-load refuses what lies
 * outside these ranges, and wsbenchd refuses it already when a scenario is
 * loaded or a run requested, so a run it accepts is never refused later.
 */
#pragma once

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
