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

struct run;
struct report_store;

/* Ended runs kept in memory, their Run objects still answering status and
 * wait; older ones are served from the report directory (ListRuns,
 * GetReport). More than max_queued_runs + 1 would ever need at once. */
#define MANAGER_KEEP_ENDED 64

/* Where the programs a run starts live. */
struct tool_paths {
	char *echo;        /* wsbench-echo */
	char *load;        /* wsbench-load */
	char *servers_dir; /* reference servers, for "{servers_dir}" in commands */
};

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
	bool stopping; /* SIGTERM: no new runs */

	sd_event_source *watchdog_timer;
	uint64_t watchdog_usec;
};

int manager_new(sd_event *event, const char *config_path, struct manager **ret);
struct manager *manager_free(struct manager *m);

/**
 * manager_reload() - load the configuration file again, all or nothing.
 * @error: receives every problem (file:line: setting: problem) on failure.
 * Return: 0, or -EINVAL with the old configuration kept.
 */
int manager_reload(struct manager *m, char **error);

/* Queues a run; starts it if nothing is active. Return: 0 or negative errno. */
int manager_add_run(struct manager *m, struct run *r);

/* Called by a run when it reaches a final state: starts the next one. */
void manager_run_done(struct manager *m, struct run *r);

/* Called by a run when it has released its processes: drops the oldest
 * ended runs beyond MANAGER_KEEP_ENDED from memory. */
void manager_prune_runs(struct manager *m);

struct run *manager_find_run(struct manager *m, const char *id);

/* Number of runs waiting. */
unsigned manager_queued(const struct manager *m);

/* sd_notify STATUS= line describing what the daemon does now. */
void manager_notify_status(struct manager *m);
