/* SPDX-License-Identifier: MIT */
/*
 * wsbenchd's configuration: parsed from a libconfig file into plain structs
 * filled from defaults, then validated as a whole. Every error names the
 * file, the line and the setting, and all of them are reported, not just the
 * first. A configuration is immutable once loaded: a reload builds a new one
 * and swaps it in only if it is valid; a run keeps the one it started with
 * (configs are reference-counted).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "noise.h"
#include "scenario.h"

enum server_kind { SERVER_BUILTIN, SERVER_COMMAND, SERVER_URL };

struct server_config {
	char *name;
	char *language;
	enum server_kind kind;
	char **command; /* NULL-terminated; "{port}" and "{servers_dir}" expanded at start */
	char *url;      /* SERVER_URL: a server we neither start nor sample */
	unsigned port;
	unsigned threads; /* builtin only */
	double ready_timeout;
	int line;
};

struct daemon_config {
	char *report_dir;
	unsigned keep_reports;
	unsigned sample_interval_ms;
	char *default_server;
	unsigned max_queued_runs;
	/* Above which a run is noisy (noise.h): noise_other_cpu_percent,
	 * noise_steal_percent, noise_freq_change_percent. */
	struct noise_thresholds noise;
	bool html_reports; /* an HTML page beside each JSON report */
	/* Distributed runs (agents.h): the agents of a scenario that names
	 * none; the clock skew above which a run is refused; the host agents
	 * reach this machine's servers by (NULL: 127.0.0.1, agents on this
	 * machine only). */
	struct agent_list agents;
	unsigned max_clock_skew_ms;
	char *agent_url_host;
};

struct wsbench_config {
	unsigned refs;
	char *path;
	struct daemon_config daemon;
	struct server_config *servers;
	size_t n_servers;
	struct scenario_config *scenarios;
	size_t n_scenarios;
};

/* Error lines collected while loading: "FILE:LINE: SETTING: problem". */
struct config_errors {
	char **lines;
	size_t n;
};

void config_errors_clear(struct config_errors *e);
/* All lines joined with newlines (malloc'd), or NULL when there are none. */
char *config_errors_join(const struct config_errors *e);

/**
 * config_load() - read and validate @path.
 * @errors: receives every problem found.
 * Return: 0 with *@ret set (refcount 1), -EINVAL when the file is invalid
 * (see @errors), or another negative errno.
 */
int config_load(const char *path, struct wsbench_config **ret, struct config_errors *errors);

struct wsbench_config *config_ref(struct wsbench_config *c);
struct wsbench_config *config_unref(struct wsbench_config *c);

const struct server_config *config_find_server(const struct wsbench_config *c, const char *name);
const struct scenario_config *config_find_scenario(const struct wsbench_config *c,
                                                   const char *name);

/* The configuration in normal form (every value explicit). Return: malloc'd. */
char *config_dump(const struct wsbench_config *c);

const char *server_kind_to_string(enum server_kind k);
