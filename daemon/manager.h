/* SPDX-License-Identifier: MIT */
/*
 * The daemon's state: the current configuration, the runs (one active, the
 * rest queued or done), the report store, and the bus connection. Owned by
 * main(); every other module gets it as a pointer.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "run.h"

struct compare;
struct report_store;

/* Ended runs kept in memory, their Run objects still answering status and
 * wait; older ones are served from the report directory (ListRuns,
 * GetReport). More than max_queued_runs + 1 would ever need at once. */
#define MANAGER_KEEP_ENDED 64
/* Ended compares kept in memory for GetCompare; their reports stay. */
#define MANAGER_KEEP_COMPARES 16

struct manager {
	sd_event *event;
	sd_bus *bus;
	struct wsbench_config *config;
	char *config_path;
	struct tool_paths tools;
	struct report_store *reports;

	struct run **runs; /* queued, active, and the last ended ones; oldest first */
	size_t n_runs;
	struct run *active;
	unsigned run_counter;
	struct compare **compares; /* running and the last ended ones; oldest first */
	size_t n_compares;
	bool stopping; /* SIGTERM: no new runs */
	bool holding;  /* no run starts (while a compare is being cancelled) */

	sd_event_source *watchdog_timer;
	uint64_t watchdog_usec;
	char status[256]; /* the last STATUS= sent by manager_notify_status() */
};

int manager_new(sd_event *event, const char *config_path, struct manager **ret);
struct manager *manager_free(struct manager *m);

/**
 * manager_reload() - load the configuration file again, all or nothing.
 * @error: receives every problem (file:line: setting: problem) on failure.
 * Return: 0, or -EINVAL with the old configuration kept.
 */
int manager_reload(struct manager *m, char **error);

/**
 * manager_add_run() - queue a run of @scenario on @server for @owner; it
 * starts at once if nothing is active. The manager is the run's observer:
 * it stores the report, emits the bus signals and starts the next run.
 * @overrides: what the caller overrode, for the report.
 * Return: 0 with the run in *@ret, or a negative errno.
 */
int manager_add_run(struct manager *m, const struct server_config *server,
                    const struct scenario_config *scenario, const char *overrides, uid_t owner_uid,
                    const char *owner, struct run **ret);

/**
 * manager_add_part() - queue this daemon's part of a distributed run
 * (StartPart): @scenario against @server (a URL; the run takes it over,
 * also on failure), its wsbench-load started at @start_at_ns
 * (CLOCK_REALTIME). @settings: what the coordinator set, for the report.
 * Return: 0 with the run in *@ret, or a negative errno.
 */
int manager_add_part(struct manager *m, struct server_config *server,
                     const struct scenario_config *scenario, const char *settings,
                     int64_t start_at_ns, uid_t owner_uid, const char *owner, struct run **ret);

/* What StartCompare asked for, checked. */
struct compare_request {
	const struct scenario_config *scenario;     /* with the overrides applied */
	const char *overrides;                      /* what was overridden, for the reports */
	const struct server_config *const *servers; /* one per arm */
	unsigned n_arms, repeat;
	bool warmup, retry_noisy;
	uid_t owner_uid;
	const char *owner;
};

/**
 * manager_add_compare() - queue every trial of a compare (compare.h) at the
 * end of the queue, in its interleaved order.
 * Return: 0 with the compare in *@ret, -EINVAL for arms or repeat out of
 * range, or another negative errno (then nothing of it stays queued).
 */
int manager_add_compare(struct manager *m, const struct compare_request *req, struct compare **ret);

struct compare *manager_find_compare(struct manager *m, const char *id);

/* Cancels every trial of @c that has not ended. Return: 0, or -EALREADY
 * when none was left to cancel. */
int manager_cancel_compare(struct manager *m, struct compare *c);

/* SIGTERM: no new runs; the queued ones are dropped, the active one is
 * cancelled and its report written, then the event loop exits. */
void manager_stop(struct manager *m);

struct run *manager_find_run(struct manager *m, const char *id);

/* Number of runs waiting. */
unsigned manager_queued(const struct manager *m);

/* sd_notify STATUS= line describing what the daemon does now (sent when it
 * differs from the last one). */
void manager_notify_status(struct manager *m);

/* sd_notify @state (e.g. "RELOADING=1") with STATUS=@status. */
void manager_notify(struct manager *m, const char *state, const char *status);
