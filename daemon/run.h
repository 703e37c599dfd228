/* SPDX-License-Identifier: MIT */
/*
 * One benchmark run: a scenario against a server. Its state machine is
 * queued → starting → connecting → running → draining → finished | failed |
 * cancelled, with "stopping" between any active state and failed or
 * cancelled while the children are being stopped. It starts the echo server (unless the server is
 * only a URL), waits for readiness, starts wsbench-load with --format jsonl, follows its progress,
 * samples both processes from /proc, and hands the result to the report store. A run holds a
 * reference to the configuration it began with, so a reload never changes a run in progress.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"

struct manager;
struct child;
struct caller;

enum run_state {
	RUN_QUEUED,
	RUN_STARTING,
	RUN_CONNECTING,
	RUN_RUNNING,
	RUN_DRAINING,
	RUN_STOPPING, /* cancelled or failed; its processes are being stopped */
	RUN_FINISHED,
	RUN_FAILED,
	RUN_CANCELLED,
};

struct resource_sample {
	int64_t wall_ns;
	double cpu_percent;
	uint64_t rss_bytes;
};

struct sample_series {
	struct resource_sample *v;
	size_t n, cap;
	uint64_t prev_cpu_ns;
	int64_t prev_mono_ns;
	bool have_prev;
};

struct run {
	struct manager *manager;
	char *id;
	char *object_path;
	struct wsbench_config *config; /* the configuration the run began with */
	const struct server_config *server;
	struct scenario_config scenario; /* with the StartRun overrides applied */
	char *overrides;                 /* what was overridden, for the report */
	uid_t owner_uid;                 /* who requested the run (StartRun's caller) */
	char *owner;                     /* their user name */

	enum run_state state;
	char *failure;
	bool cancel_requested;

	struct child *server_child, *load_child;
	char *url;
	int64_t start_wall_ns, end_wall_ns;

	/* live figures from wsbench-load's progress lines */
	double progress, elapsed;
	unsigned connected;
	uint64_t sent, received, errors;
	double rate, p99_ms;

	cJSON *result; /* wsbench-load's result, once it has printed it */
	int load_exit; /* exit status, or 128 + signal */
	bool load_done;
	struct sample_series server_samples, client_samples;
	sd_event_source *sample_timer, *ready_timer, *probe_timer;
	sd_event_source *release_source; /* pending release of what an ended run no longer needs */
	char *report_path;
};

int run_new(struct manager *m, const struct server_config *server,
            const struct scenario_config *scenario, const char *overrides,
            const struct caller *requester, struct run **ret);
struct run *run_free(struct run *r);

/* Starts a queued run. */
void run_start(struct run *r);

/* Cancels the run in whatever state it is. Return: 0, or -EALREADY if final. */
int run_cancel(struct run *r);

const char *run_state_to_string(enum run_state s);

static inline bool run_is_final(const struct run *r)
{
	return r->state >= RUN_FINISHED;
}
