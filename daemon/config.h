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

/* What a server can do besides plain ws:// echoes; bit (1 << cap) of caps. */
enum server_cap { SERVER_CAP_TLS, SERVER_CAP_DEFLATE, SERVER_N_CAPS };

/* tls = { cert = "..."; key = "..."; ca = "..."; }: a server we start gets
 * --tls-cert/--tls-key for a scenario with tls = true; wsbench-load
 * verifies it with --ca (ca, or else cert: a self-signed certificate).
 * A url server takes ca only. */
struct server_tls {
	char *cert, *key, *ca;
	int line;
};

struct server_config {
	char *name;
	char *language;
	enum server_kind kind;
	char **command; /* NULL-terminated; "{port}" and "{servers_dir}" expanded at start */
	char *url;      /* SERVER_URL: a server we neither start nor sample */
	unsigned port;
	unsigned threads; /* builtin only */
	double ready_timeout;
	unsigned caps; /* enum server_cap bits */
	struct server_tls tls;
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

/* Error lines collected while loading: "FILE:LINE: SETTING: problem";
 * warnings the same way (the configuration is valid with them: a key file
 * others may read). */
struct config_errors {
	char **lines;
	size_t n;
	char **warnings;
	size_t n_warnings;
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

/* What a server entry holds; _free() also the struct (a run's own server,
 * StartPart's). NULL is fine. */
void server_config_clear(struct server_config *s);
void server_config_free(struct server_config *s);

const struct server_config *config_find_server(const struct wsbench_config *c, const char *name);
const struct scenario_config *config_find_scenario(const struct wsbench_config *c,
                                                   const char *name);

/*
 * Whether the agent of @spec is one the file names (daemon.agents or a
 * scenario's agents). A caller on the bus may pick among those (and change
 * weights), never name another: a D-Bus address is a command to run
 * (unixexec:) and a host is reached with the daemon's ssh identity.
 */
bool config_agent_allowed(const struct wsbench_config *c, const char *spec);

/* The configuration in normal form (every value explicit). Return: malloc'd. */
char *config_dump(const struct wsbench_config *c);

const char *server_kind_to_string(enum server_kind k);
const char *server_cap_to_string(enum server_cap c);

/**
 * server_check_scenario() - whether @s can serve a run of @sc: a tls or
 * deflate scenario needs the capability, and a tls run of a server we start
 * its certificate and key; a wss:// url server cannot serve a plain run.
 * Return: 0, or -EOPNOTSUPP with @err naming the server and the capability.
 */
int server_check_scenario(const struct server_config *s, const struct scenario_config *sc,
                          char *err, size_t errlen);
