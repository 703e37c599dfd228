/* SPDX-License-Identifier: MIT */
/*
 * wsbenchctl's output. The format (tables and lines, or --json) is chosen
 * once, by print_init(); every verb shows what it got through these
 * functions and never looks at the format itself. Errors go to stderr as
 * "wsbenchctl: WHAT: PROBLEM".
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "bus-client.h"

void print_init(bool json);

/* "wsbenchctl: " and the message, on stderr. */
void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A failed call: "wsbenchctl: WHAT: the daemon's message (or strerror(-r))". */
void print_client_error(const struct client_error *e, int r);

void print_servers(const cJSON *list);
void print_scenarios(const cJSON *list);
void print_runs(const cJSON *runs);

/* A run was queued: its id (text), or {"id", "path"} unless @more follows. */
void print_started(const cJSON *run, bool more);

/* One run's properties (status RUN). */
void print_run_status(const cJSON *props);

/* The daemon's status; @active: the active run's properties, or NULL. */
void print_daemon_status(const cJSON *status, const cJSON *active);

/*
 * Following a run (wait): print_progress() as the run goes (on a terminal,
 * one line updated in place; otherwise a line every 5 seconds; nothing with
 * --json), print_wait_end() once it ended, print_wait_interrupted() when
 * the user stopped watching.
 */
void print_progress(const cJSON *props);
/* The same, after @prefix (e.g. "trial 3/12 c-lws: "). */
void print_compare_progress(const char *prefix, const cJSON *props);
void print_wait_end(const cJSON *props);
void print_wait_interrupted(const char *id);

/* A stored report: its summary, or with --json the report itself. */
void print_report(const char *json_text);

/* A compare was queued (compare.h's model of it): one line, nothing with --json. */
void print_compare_started(const cJSON *compare);
void print_compare_interrupted(const char *id);

/* The comparison (report/compare-model.h): a table, Markdown, or --json the model. */
void print_compare(const cJSON *model, bool markdown);
