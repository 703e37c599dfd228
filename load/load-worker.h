/* SPDX-License-Identifier: MIT */
/*
 * A wsbench-load worker: one thread, one epoll instance, a share of the
 * clients, and a timerfd that wakes it exactly when the next connect, send
 * or deadline is due. The WebSocket client side is ws-client.c over plain
 * non-blocking sockets: every message due on a connection at a wakeup goes
 * out in one write(), and every read is parsed where it landed. Statistics
 * are kept per thread without a lock and published into the shared copy
 * under the lock every 100 ms, for the main thread's snapshots.
 */
#pragma once

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "load-options.h"
#include "load-stats.h"
#include "scheduler.h"
#include "tls-client.h"
#include "ws-client.h"

struct load_client;

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
	SSL_CTX *tls; /* wss://: the context all connections share; else NULL */
};

/* An address to connect to or bind. */
struct load_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct load_worker {
	unsigned index;
	const struct load_plan *plan;
	pthread_t thread;

	int epoll_fd; /* what the worker sleeps on: the timer, and io_fd when it should wake */
	int timer_fd;
	int io_fd; /* the sockets */
	bool io_wakes;
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, for receive timestamps */
	int64_t timer_armed_ns;     /* the deadline the timerfd holds; 0: none */
	int64_t sleep_ns, wake_ns;  /* the last epoll_wait(): send lag slept, not worked */
	int64_t tick_ns;            /* send times are rounded up to multiples of this */
	struct ws_rng rng;          /* mask keys and handshake nonces */

	struct load_addr server;
	struct load_addr *sources; /* --source-addresses, parsed */
	char host_header[280];     /* HOST:PORT, IPv6 in brackets */

	struct load_client *clients; /* this worker's share */
	unsigned n_clients;
	struct scheduler scheduler; /* their connects, deadlines and sends, by time */

	uint8_t *rx_buf; /* every read lands here and is parsed in place */
	size_t rx_size;
	uint8_t *tx_buf; /* the frames due on one connection, written at once */
	size_t tx_size;
	uint8_t *scratch;  /* message_verify()'s working space; a message before compression */
	uint8_t *wire_buf; /* TLS: ciphertext read, and ciphertext on its way to the socket */
	size_t wire_size;
	uint8_t *zbuf; /* permessage-deflate: one message compressed or decompressed */
	size_t zsize;

	/* What the first connection that got that far agreed, for the report. */
	char tls_version[32];
	char tls_cipher[64];
	char tls_error[TLS_ERROR_MAX]; /* the first TLS failure, in words */
	struct ws_deflate_params pmd;
	bool pmd_seen;

	unsigned open_clients; /* not yet done: idle, connecting, open or closing */
	unsigned connected;    /* open right now (a gauge, published as is) */
	bool closing;
	bool exit_loop;
	int64_t last_housekeeping_ns;

	/* This thread's statistics since the last publish: no lock. */
	struct load_stats local;

	pthread_mutex_t lock; /* guards @stats */
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

/* Merges the worker's published statistics into @to. Thread-safe. */
void load_worker_snapshot(struct load_worker *w, struct load_stats *to);

/* The once-a-second snapshot: merges the counters and the interval
 * histogram into @to, then clears the worker's interval histogram. Holds the
 * worker's lock only briefly. Thread-safe. */
void load_worker_snapshot_interval(struct load_worker *w, struct load_stats *to);
