/* SPDX-License-Identifier: MIT */
/*
 * A scenario: what wsbench-load is asked to do in a run. Its settings are one
 * table (scenario_fields[]: name, type, range, default, doc, and what the
 * report and wsbench-load call it) that drives everything that handles them:
 * the configuration file (config.c), the StartRun overrides (bus.c), the
 * normal-form dump, ListScenarios, the report's clientConfig (report-build.c) and
 * wsbench-load's command line (run.c). A new setting is one new row.
 * The ranges are wsbench-load's own (common/load-protocol.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "agents.h"
#include "message.h"
#include "schedule.h"

/*
 * The longest run: wsbench-load's result line carries one timeline entry per
 * second of the run (at most ~150 bytes) besides two histograms (at most
 * ~1 MiB), and wsbenchd reads lines of up to 16 MiB (child.c). 24 h make
 * at most ~14 MB.
 */
#define RUN_MAX_SECONDS 86400

struct scenario_config {
	char *name;
	char *description;
	/* the settings, one per row of scenario_fields[] */
	unsigned clients;
	double ramp_up;
	enum load_pattern pattern;
	double rate;
	double rate_end; /* < 0: unset */
	unsigned burst;
	double interval;
	double duration;
	double warmup;
	unsigned message_size;
	enum message_type message_type;
	double drain_timeout;
	enum message_payload payload; /* wsbench-load --payload */
	bool tls;                     /* wss://, verified (config.h: server_tls) */
	bool deflate;                 /* offer permessage-deflate (RFC 7692) */
	/* Load agents (agents.h); none: the load runs on this machine, unless
	 * the daemon section names default agents. Not in the settings table:
	 * a list, not a number or a name. */
	struct agent_list agents;
	int line; /* where it was declared */
};

enum scenario_type {
	SCENARIO_UINT,   /* unsigned, whole numbers only */
	SCENARIO_DOUBLE, /* double */
	SCENARIO_CHOICE, /* an enum, set and shown by name */
	SCENARIO_BOOL,   /* bool: true or false ("true"/"false" as a string) */
};

struct scenario_field {
	const char *name; /* in wsbench.conf, --set and ListScenarios */
	const char *doc;  /* what it means, with its unit */
	enum scenario_type type;
	double min, max; /* SCENARIO_UINT, SCENARIO_DOUBLE */
	double def;      /* the default; for SCENARIO_CHOICE the enum value */
	/* SCENARIO_CHOICE: the names of the values 0..n_choices - 1 */
	const char *(*choice_name)(unsigned value);
	unsigned n_choices;
	const char *report_key; /* in the report's clientConfig */
	/* wsbench-load's option, without "--"; a SCENARIO_BOOL's is a flag
	 * given when true. NULL: not an option (tls: the URL's scheme). */
	const char *load_option;
	size_t offset; /* in struct scenario_config */
	/* Whether it means anything for @s (NULL: always); a setting that does
	 * not is left out of the dump, the bus, the report and the command line. */
	bool (*applies)(const struct scenario_config *s);
};

extern const struct scenario_field scenario_fields[];
extern const size_t scenario_n_fields;

/* The setting named @key, or NULL. */
const struct scenario_field *scenario_find_field(const char *key);

/* One setting of a scenario, as it applies. */
struct scenario_value {
	const struct scenario_field *field;
	unsigned u;         /* SCENARIO_UINT */
	double d;           /* SCENARIO_DOUBLE */
	const char *choice; /* SCENARIO_CHOICE: the value's name; SCENARIO_BOOL: "true"/"false" */
	bool b;             /* SCENARIO_BOOL */
};

/**
 * scenario_get() - setting number @i (of scenario_n_fields) of @s.
 * Return: true with *@ret filled in, false when it does not apply to @s.
 */
bool scenario_get(const struct scenario_config *s, size_t i, struct scenario_value *ret);

/* Every setting at its default; name and description unset. */
void scenario_init(struct scenario_config *s);

/**
 * scenario_set_number() - set one setting of @s from a number.
 * @integral: whether the number was written as a whole number.
 * @err: receives "must be ..." text on failure.
 * Return: 0, -ENOENT for an unknown key, -EINVAL for a bad type or value.
 */
int scenario_set_number(struct scenario_config *s, const char *key, double value, bool integral,
                        char *err, size_t errlen);

/* The same from a string (a choice's name, or "true"/"false"). */
int scenario_set_string(struct scenario_config *s, const char *key, const char *value, char *err,
                        size_t errlen);

/* The same from a boolean (a SCENARIO_BOOL setting). */
int scenario_set_bool(struct scenario_config *s, const char *key, bool value, char *err,
                      size_t errlen);

/* The settings' names, comma-separated, for "unknown setting" messages. */
void scenario_names(char *buf, size_t len);

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

/* @s's send schedule, as wsbench-load computes it (warm-up included). */
void scenario_schedule(const struct scenario_config *s, struct schedule *ret);

/* Seconds from the first connection to the end of sending. */
double scenario_total_seconds(const struct scenario_config *s);

/* Deep copy (for a run with overrides). Return: 0 or -ENOMEM. */
int scenario_copy(struct scenario_config *to, const struct scenario_config *from);
void scenario_free(struct scenario_config *s);
