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

/*
 * The longest run: wsbench-load's result line carries one timeline entry per
 * second of the run (at most ~150 bytes) besides two histograms (at most
 * ~1 MiB), and wsbenchd reads lines of up to 16 MiB (child.c). 24 h make
 * at most ~14 MB.
 */
#define RUN_MAX_SECONDS 86400

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

struct scenario_config {
	char *name;
	char *description;
	unsigned clients;
	double ramp_up;
	char *pattern; /* fixed | burst | ramp */
	double rate;
	double rate_end; /* < 0: unset */
	unsigned burst;
	double interval;
	double duration;
	double warmup;
	unsigned message_size;
	char *message_type; /* text | binary */
	double drain_timeout;
	int line;
};

struct daemon_config {
	char *report_dir;
	unsigned keep_reports;
	unsigned sample_interval_ms;
	char *default_server;
	unsigned max_queued_runs;
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

/*
 * Scenario settings by name, shared by the file parser and the StartRun
 * overrides so both accept the same keys, types and ranges.
 */
enum scenario_value_type { VALUE_UINT, VALUE_DOUBLE, VALUE_STRING };

/**
 * scenario_set() - set one setting of @s from a number or a string.
 * @err: receives "must be ..." text on failure.
 * Return: 0, -ENOENT for an unknown key, -EINVAL for a bad type or value.
 */
int scenario_set_number(struct scenario_config *s, const char *key, double value, bool integral,
                        char *err, size_t errlen);
int scenario_set_string(struct scenario_config *s, const char *key, const char *value, char *err,
                        size_t errlen);

/* Cross-setting rules; returns 0 or -EINVAL with @err ("SETTING: problem"). */
int scenario_check(const struct scenario_config *s, char *err, size_t errlen);

/**
 * scenario_check_fd_limit() - whether wsbench-load can open @s's clients.
 * @fd_limit: the RLIMIT_NOFILE wsbench-load will have (fd_limit_inherited()).
 * Return: 0, or -EMFILE with @err saying how many descriptors are needed,
 * how many there are, and how many clients fit.
 */
int scenario_check_fd_limit(const struct scenario_config *s, size_t fd_limit, char *err,
                            size_t errlen);

/* Deep copy (for a run with overrides). Return: 0 or -ENOMEM. */
int scenario_copy(struct scenario_config *to, const struct scenario_config *from);
void scenario_free(struct scenario_config *s);
