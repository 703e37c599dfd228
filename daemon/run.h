/* SPDX-License-Identifier: MIT */
/*
 * One benchmark run: a scenario against a server. Its state machine is
 * queued → starting → connecting → running → draining → finished | failed |
 * cancelled, with "stopping" between any active state and failed or
 * cancelled while the children are being stopped. It starts the echo server
 * (unless the server is only a URL), waits for readiness, starts
 * wsbench-load with --format jsonl, follows its progress, samples both
 * processes from /proc, and tells its observer (struct run_ops) what
 * happens; the observer stores the report. A run holds a reference to the
 * configuration it began with, so a reload never changes a run in progress.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "noise.h"

struct child;
struct remote_load;
struct run;

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

/* Where the programs a run starts live. */
struct tool_paths {
	char *echo;        /* wsbench-echo */
	char *load;        /* wsbench-load */
	char *servers_dir; /* reference servers, for "{servers_dir}" in commands */
};

/* What a run works in; both must outlive it. */
struct run_env {
	sd_event *event;
	const struct tool_paths *tools;
};

/*
 * The run's observer (the manager): how a run tells the rest of the daemon
 * what happens to it, so that it knows nothing of the bus, the queue or the
 * report store. Called on the event loop, from inside the run's own
 * callbacks: none may free the run.
 */
struct run_ops {
	/* Its state (not yet final) or its live figures changed. */
	void (*changed)(struct run *r, void *userdata);
	/* It left the queue: the state is starting. */
	void (*started)(struct run *r, void *userdata);
	/*
	 * It ended: the state is final and was not announced yet. Called once.
	 * The observer stores the report (run_report_failed() if it cannot),
	 * announces the end and may start the next run. The run's processes
	 * and buffers are released on the next loop iteration
	 * (run_released() says when the observer may free it).
	 */
	void (*finished)(struct run *r, void *userdata);
};

/* What to run, for whom. */
struct run_request {
	const char *id;
	struct wsbench_config *config; /* referenced by the run */
	const struct server_config *server;
	const struct scenario_config *scenario; /* copied */
	const char *overrides;                  /* what was overridden, for the report */
	uid_t owner_uid;
	const char *owner;
	/* A part of a distributed run (StartPart): wsbench-load starts at this
	 * CLOCK_REALTIME instant (0: at once), against @server, which the run
	 * takes over (freed with it). */
	int64_t start_at_ns;
	struct server_config *own_server;
};

struct resource_sample {
	int64_t wall_ns;
	double cpu_percent;
	uint64_t cpu_ns; /* utime + stime so far */
	uint64_t rss_bytes;
};

struct sample_series {
	struct resource_sample *v;
	size_t n, cap;
	uint64_t prev_cpu_ns;
	int64_t prev_mono_ns;
	bool have_prev;
	/* The server when the load starts (it is ready): what CPU per echo and
	 * memory per connection count from, not from before its runtime's own
	 * start-up. */
	uint64_t base_cpu_ns, base_rss_bytes;
	bool have_base;
};

struct run {
	struct run_env env;
	const struct run_ops *ops;
	void *userdata;

	char *id;
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
	/* Per-second entries built from the progress lines: what the report
	 * keeps when wsbench-load dies before printing its result. */
	cJSON *progress_timeline;
	int load_exit; /* exit status, or 128 + signal */
	bool load_done;
	struct sample_series server_samples, client_samples;
	sd_event_source *sample_timer, *ready_timer, *probe_timer;
	sd_event_source *release_source; /* pending release of what an ended run no longer needs */
	char *report_path;               /* set by the observer once the report is stored */

	/* Distributed runs (remote-load.h): the load on agents instead of a
	 * local wsbench-load; as an agent, when our part starts. */
	struct remote_load *remote;
	/* Other processes' CPU (noise.h): the last two scans of /proc and
	 * their growth so far. */
	struct proc_scan scan_prev, scan_now;
	int64_t scan_mono_ns; /* when scan_prev was taken */
	uint64_t others_ns;
	int64_t start_at_ns;
	sd_event_source *start_timer;
	struct server_config *own_server;

	/* The compare this run is a trial of (see compare.h), or NULL. */
	char *compare_id;
	unsigned compare_arm;   /* index of its server in the compare's list */
	unsigned compare_trial; /* 1..N; 0 for the uncounted warm-up trial */
	char *compare_retry_of; /* the noisy trial this one runs again, or NULL */

	/* How quiet the machine was during the run (noise.h); set before
	 * ops->finished. */
	bool noisy;
	char *noise_reason;         /* why it is noisy, or NULL */
	struct noise_tracker noise; /* its samples, with the other series */
};

/**
 * run_new() - a queued run of @req.
 * @env: copied; what it points to must outlive the run.
 * @ops, @userdata: the observer.
 * Return: 0 with *@ret set, or -ENOMEM.
 */
int run_new(const struct run_env *env, const struct run_request *req, const struct run_ops *ops,
            void *userdata, struct run **ret);
struct run *run_free(struct run *r);

/* Starts a queued run. */
void run_start(struct run *r);

/* Cancels the run in whatever state it is. Return: 0, or -EALREADY if final. */
int run_cancel(struct run *r);

/**
 * run_report_failed() - the observer could not store the report of @r (from
 * within ops->finished): a run that finished fails with "cannot write the
 * report to @dir: REASON"; a cancelled one records that reason; a failed
 * one keeps its first reason.
 */
void run_report_failed(struct run *r, const char *dir, int error);

const char *run_state_to_string(enum run_state s);

static inline bool run_is_final(const struct run *r)
{
	return r->state >= RUN_FINISHED;
}

/* Whether the run ever left the queue (only such a run has a report). */
static inline bool run_was_started(const struct run *r)
{
	return r->start_wall_ns != 0;
}

/* Whether an ended run has released its processes: nothing of it can call
 * back any more, so its observer may free it. */
static inline bool run_released(const struct run *r)
{
	return run_is_final(r) && !r->release_source;
}
