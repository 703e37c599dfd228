/* SPDX-License-Identifier: MIT */
/*
 * wsbenchctl's side of the D-Bus contract (common/wsbench-dbus.h): one
 * function per thing it asks wsbenchd, answers as cJSON (the model the
 * printer shows as a table or as JSON). Nothing here prints: a failure is a
 * negative errno with, in struct client_error, what failed and the daemon's
 * error when it sent one.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

enum bus_kind { BUS_SYSTEM, BUS_USER, BUS_REMOTE, BUS_ADDRESS };

struct client_error {
	const char *what; /* the method or property that failed */
	sd_bus_error bus; /* the daemon's error (name, message), when there is one */
};

#define CLIENT_ERROR_NULL ((struct client_error){ .bus = SD_BUS_ERROR_NULL })

/* For _cleanup_(client_error_done). */
void client_error_done(struct client_error *e);

/**
 * client_connect() - the bus wsbenchd serves on.
 * @where: BUS_REMOTE: [USER@]HOST; BUS_ADDRESS: the address; else unused.
 * Return: 0 with *@ret set, or a negative errno.
 */
int client_connect(enum bus_kind kind, const char *where, sd_bus **ret);

/* ListServers, ListScenarios: [{"name": NAME, SETTING: VALUE...}...]. */
int client_list_servers(sd_bus *bus, cJSON **ret, struct client_error *e);
int client_list_scenarios(sd_bus *bus, cJSON **ret, struct client_error *e);

/* ListRuns: [{"id", "scenario", "server", "state", "report", "path"}...]. */
int client_list_runs(sd_bus *bus, cJSON **ret, struct client_error *e);

/**
 * client_run_properties() - a run's properties ({"Id": ..., "State": ...}):
 * the Run object's, or for an ended run the daemon no longer keeps in
 * memory, what ListRuns says of its stored report (Id, Scenario, Server,
 * State, ReportPath).
 * Return: 0, -ENOENT when there is no such run, or another negative errno.
 */
int client_run_properties(sd_bus *bus, const char *id, cJSON **ret, struct client_error *e);

/* The Manager's properties: {"version", "active_run", "queued_runs", "config"}. */
int client_daemon_status(sd_bus *bus, cJSON **ret, struct client_error *e);

/* One --set KEY=VALUE, checked before anything is sent. */
struct client_set {
	char key[64];
	const char *value;
};

/**
 * client_parse_set() - split "KEY=VALUE".
 * Return: 0, or -EINVAL when there is no KEY, no '=' or KEY is too long.
 */
int client_parse_set(const char *arg, struct client_set *ret);

/**
 * client_start_run() - StartRun. Each override's value goes as an unsigned
 * integer when it is a whole number, a double when it is another number,
 * a string otherwise; the daemon validates it.
 * @server: "" for the daemon's default.
 * Return: 0 with {"id", "path"} in *@ret, or a negative errno.
 */
int client_start_run(sd_bus *bus, const char *scenario, const char *server,
                     const struct client_set *sets, size_t n_sets, cJSON **ret,
                     struct client_error *e);

int client_cancel_run(sd_bus *bus, const char *id, struct client_error *e);

/* StartCompare's options; 0 / -1: the daemon's default. */
struct client_compare_options {
	unsigned repeat;
	int warmup, retry_noisy; /* -1, 0 or 1 */
};

/**
 * client_start_compare() - StartCompare (@n_servers 0: every server).
 * Return: 0 with the compare in *@ret: {"id", "scenario", "state",
 * "servers": [..], "repeat", "trials": [{"run", "arm", "trial", "state"
 * ("" until it ends), "noisy", "superseded"}...]}, or a negative errno.
 */
int client_start_compare(sd_bus *bus, const char *scenario, char *const *servers, size_t n_servers,
                         const struct client_set *sets, size_t n_sets,
                         const struct client_compare_options *opt, cJSON **ret,
                         struct client_error *e);

/* GetCompare, as client_start_compare() answers. Return: 0, -ENOENT when
 * the daemon has no such compare, or another negative errno. */
int client_get_compare(sd_bus *bus, const char *id, cJSON **ret, struct client_error *e);

int client_cancel_compare(sd_bus *bus, const char *id, struct client_error *e);

/* GetReport: the report's JSON text (malloc'd). */
int client_get_report(sd_bus *bus, const char *id, char **ret, struct client_error *e);

int client_reload(sd_bus *bus, struct client_error *e);
