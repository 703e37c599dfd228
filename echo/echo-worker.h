/* SPDX-License-Identifier: MIT */
/*
 * A wsbench-echo worker: one thread, one libev loop (epoll) driving one
 * libwebsockets context, one SO_REUSEPORT listening socket adopted into it. lws contexts are
 * single-threaded, so the only call made on a worker from another thread is
 * echo_worker_stop(), which goes through lws_cancel_service().
 */
#pragma once

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "echo-options.h"

#define ECHO_PROTOCOL_NAME "wsbench-echo"

struct ev_loop;

/* Counts workers that finished creating their context, so main() prints
 * READY only when every worker can accept. */
struct echo_startup {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned ready;
};

#define ECHO_STARTUP_INIT                                                                          \
	{                                                                                          \
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0                             \
	}

/* Waits until @n workers have reported. */
void echo_startup_wait(struct echo_startup *s, unsigned n);

struct echo_worker {
	unsigned index;
	int listen_fd;
	int spare_fd; /* kept open so an fd-exhausted accept can still be refused */
	const struct echo_options *opts;
	pthread_t thread;

	struct ev_loop *loop; /* libev on epoll, lws's foreign loop */
	struct lws_context *context;
	struct lws_vhost *vhost;
	uint8_t *tx_buf;                   /* LWS_PRE + ECHO_DIRECT_MAX: echoes written at once */
	struct lws_protocols protocols[3]; /* echo, acceptor, end; see worker_protocols() */

	pthread_mutex_t lock; /* guards context against use after destroy */
	atomic_bool stop_requested;
	bool stopping; /* the service thread has begun closing connections */
	bool exit_loop;
	unsigned sessions; /* established WebSocket connections */
	/* --stats: this thread's counts, read by main() after the join. */
	uint64_t n_connections;          /* upgrades completed */
	uint64_t n_received;             /* whole messages received */
	uint64_t n_echoed;               /* whole messages echoed (their last byte handed to lws) */
	uint64_t n_closed;               /* established connections closed */
	lws_sorted_usec_list_t stop_sul; /* ends the shutdown grace period */
	int result;                      /* 0, or the negative errno that ended the worker */

	struct echo_startup *startup; /* told once the context exists (or failed) */
};

/* Starts the worker thread. Return: 0 or a negative errno. */
int echo_worker_start(struct echo_worker *w);

/* Asks the worker to close its connections with 1001 and exit. Thread-safe. */
void echo_worker_stop(struct echo_worker *w);

/* Waits for the thread. Return: the worker's result. */
int echo_worker_join(struct echo_worker *w);

/* Called by a worker that failed while running, from its thread. */
extern void (*echo_worker_on_failure)(void);
