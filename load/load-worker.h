/* SPDX-License-Identifier: MIT */
/*
 * A wsbench-load worker: one thread, one client-only libwebsockets context
 * on its own libev loop (epoll; lws's poll backend costs O(connections) per
 * wakeup, and an open-loop client wakes for every message),
 * a share of the clients, and a timerfd that wakes it exactly when the next
 * connect or send is due (lws's own timers are millisecond-grained and spin
 * below 1 ms on the poll backend). Statistics are updated under the worker's
 * lock so the main thread can take snapshots.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "load-options.h"
#include "load-stats.h"

struct load_client;
struct load_event;
struct lws_context;
struct lws_vhost;
struct ev_loop;

/* The timetable all workers share (CLOCK_MONOTONIC ns). */
struct load_plan {
	const struct load_options *opts;
	int64_t epoch_ns;     /* connections start */
	int64_t send_ns;      /* sending starts: epoch + ramp-up */
	int64_t measure_ns;   /* statistics start: send + warm-up */
	int64_t send_end_ns;  /* sending ends */
	int64_t drain_end_ns; /* echoes still missing then are lost */
	uint64_t key;         /* per-run message key */
	const char *const *sources;
	unsigned n_sources;
};

struct load_worker {
	unsigned index;
	const struct load_plan *plan;
	pthread_t thread;

	struct ev_loop *loop; /* libev (epoll): lws's poll backend scans every fd per wakeup */
	struct lws_context *context;
	struct lws_vhost *vhost;
	int timer_fd;

	struct load_client *clients; /* this worker's share */
	unsigned n_clients;
	struct load_event **heap;
	unsigned heap_len, heap_cap;

	uint8_t *tx_buf; /* LWS_PRE + message */
	uint8_t *scratch;
	unsigned open_clients; /* connecting or established */
	bool closing;
	bool exit_loop;
	int64_t last_housekeeping_ns;

	pthread_mutex_t lock;
	struct load_stats stats;
	atomic_bool stop_requested;
	atomic_bool finished;
	int result;
	uint64_t cpu_ns;  /* CPU time of the worker thread, set when it ends */
	uint64_t wall_ns; /* its lifetime */
};

/* Sets up @w for clients first, first+step, ... below @total. */
int load_worker_init(struct load_worker *w, unsigned index, const struct load_plan *plan,
                     unsigned first, unsigned step, unsigned total);
void load_worker_free(struct load_worker *w);

int load_worker_start(struct load_worker *w);

/* Asks the worker to close its connections now (Ctrl-C). Thread-safe. */
void load_worker_stop(struct load_worker *w);

void load_worker_join(struct load_worker *w);

/* Merges the worker's statistics into @to. Thread-safe. */
void load_worker_snapshot(struct load_worker *w, struct load_stats *to);

/* The once-a-second snapshot: merges the counters and the interval
 * histogram into @to, then clears the worker's interval histogram. Holds the
 * worker's lock only briefly. Thread-safe. */
void load_worker_snapshot_interval(struct load_worker *w, struct load_stats *to);
