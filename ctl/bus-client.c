/* SPDX-License-Identifier: MIT */
/*
 * Calls to wsbenchd (see bus-client.h): bus messages in, cJSON models out.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-client.h"
#include "bus-open.h"
#include "json.h"
#include "macro.h"
#include "wsbench-dbus.h"

void client_error_done(struct client_error *e)
{
	sd_bus_error_free(&e->bus);
}

int client_connect(enum bus_kind kind, const char *where, sd_bus **ret)
{
	switch (kind) {
	case BUS_USER:
		return sd_bus_open_user(ret);
	case BUS_REMOTE:
		return sd_bus_open_system_remote(ret, where);
	case BUS_ADDRESS:
		return bus_open_address(where, ret);
	default:
		return sd_bus_open_system(ret);
	}
}

/* A Manager method; @types and what follows are its arguments. */
static int call(sd_bus *bus, const char *method, sd_bus_message **reply, struct client_error *e,
                const char *types, ...)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	va_list ap;
	int r;

	e->what = method;
	r = sd_bus_message_new_method_call(bus, &m, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
	                                   WSBENCH_MANAGER_IFACE, method);
	if (r >= 0 && types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &e->bus, reply);
	return r;
}

/* Reads an a{sv} of basic values (and string arrays) into @obj. */
static int read_props(sd_bus_message *m, cJSON *obj)
{
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");

	while (r > 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *contents;
		char type;

		r = sd_bus_message_read(m, "s", &key);
		if (r >= 0)
			r = sd_bus_message_peek_type(m, &type, &contents);
		if (r < 0)
			return r;
		r = sd_bus_message_enter_container(m, 'v', contents);
		if (r < 0)
			return r;
		if (strcmp(contents, "s") == 0) {
			const char *s;

			r = sd_bus_message_read(m, "s", &s);
			cJSON_AddStringToObject(obj, key, s);
		} else if (strcmp(contents, "d") == 0) {
			double d;

			r = sd_bus_message_read(m, "d", &d);
			cJSON_AddNumberToObject(obj, key, d);
		} else if (strcmp(contents, "b") == 0) {
			int b;

			r = sd_bus_message_read(m, "b", &b);
			cJSON_AddBoolToObject(obj, key, b);
		} else if (strcmp(contents, "u") == 0) {
			uint32_t u;

			r = sd_bus_message_read(m, "u", &u);
			cJSON_AddNumberToObject(obj, key, u);
		} else if (strcmp(contents, "t") == 0) {
			uint64_t t;

			r = sd_bus_message_read(m, "t", &t);
			cJSON_AddNumberToObject(obj, key, (double)t);
		} else if (strcmp(contents, "as") == 0) {
			char **strv = NULL;
			cJSON *a = cJSON_AddArrayToObject(obj, key);

			r = sd_bus_message_read_strv(m, &strv);
			for (char **p = strv; p && *p; p++) {
				cJSON_AddItemToArray(a, cJSON_CreateString(*p));
				free(*p);
			}
			free(strv);
		} else {
			r = sd_bus_message_skip(m, contents);
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = 1;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* A method returning a(sa{sv}), as a JSON array of objects with "name" first. */
static int named_list(sd_bus *bus, const char *method, cJSON **ret, struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_json_ cJSON *arr = NULL;
	int r = call(bus, method, &reply, e, NULL);

	if (r < 0)
		return r;
	arr = cJSON_CreateArray();
	if (!arr)
		return -ENOMEM;
	r = sd_bus_message_enter_container(reply, 'a', "(sa{sv})");
	while (r > 0 && (r = sd_bus_message_enter_container(reply, 'r', "sa{sv}")) > 0) {
		const char *name;
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToArray(arr, o);
		r = sd_bus_message_read(reply, "s", &name);
		if (r >= 0) {
			cJSON_AddStringToObject(o, "name", name);
			r = read_props(reply, o);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
		if (r >= 0)
			r = 1;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(arr);
	return 0;
}

int client_list_servers(sd_bus *bus, cJSON **ret, struct client_error *e)
{
	return named_list(bus, "ListServers", ret, e);
}

int client_list_scenarios(sd_bus *bus, cJSON **ret, struct client_error *e)
{
	return named_list(bus, "ListScenarios", ret, e);
}

int client_list_runs(sd_bus *bus, cJSON **ret, struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *id, *scenario, *server, *state, *report, *path;
	cJSON *arr;
	int r = call(bus, "ListRuns", &reply, e, NULL);

	if (r < 0)
		return r;
	arr = cJSON_CreateArray();
	if (!arr)
		return -ENOMEM;
	r = sd_bus_message_enter_container(reply, 'a', "(ssssso)");
	while (r > 0 && (r = sd_bus_message_read(reply, "(ssssso)", &id, &scenario, &server, &state,
	                                         &report, &path)) > 0) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "scenario", scenario);
		cJSON_AddStringToObject(o, "server", server);
		cJSON_AddStringToObject(o, "state", state);
		cJSON_AddStringToObject(o, "report", report);
		cJSON_AddStringToObject(o, "path", path);
		cJSON_AddItemToArray(arr, o);
	}
	*ret = arr;
	return 0;
}

static const char *row_string(const cJSON *row, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(row, key));

	return s ? s : "";
}

/* An ended run the daemon no longer keeps in memory: its row of ListRuns
 * (from the report directory) in the shape of the Run object's properties. */
static int stored_run_properties(sd_bus *bus, const char *id, cJSON **ret)
{
	_cleanup_(client_error_done) struct client_error ignored = CLIENT_ERROR_NULL;
	_cleanup_json_ cJSON *arr = NULL;
	const cJSON *o;
	cJSON *p;

	if (client_list_runs(bus, &arr, &ignored) < 0)
		return -EIO;
	cJSON_ArrayForEach(o, arr)
	{
		if (strcmp(row_string(o, "id"), id) != 0)
			continue;
		p = cJSON_CreateObject();
		if (!p)
			return -ENOMEM;
		cJSON_AddStringToObject(p, "Id", id);
		cJSON_AddStringToObject(p, "Scenario", row_string(o, "scenario"));
		cJSON_AddStringToObject(p, "Server", row_string(o, "server"));
		cJSON_AddStringToObject(p, "State", row_string(o, "state"));
		cJSON_AddStringToObject(p, "ReportPath", row_string(o, "report"));
		*ret = p;
		return 0;
	}
	return -ENOENT;
}

int client_run_properties(sd_bus *bus, const char *id, cJSON **ret, struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_json_ cJSON *o = NULL;
	char path[256];
	int r;

	e->what = "GetAll";
	snprintf(path, sizeof(path), "%s/%s", WSBENCH_RUN_PATH_PREFIX, id);
	r = sd_bus_call_method(bus, WSBENCH_BUS_NAME, path, "org.freedesktop.DBus.Properties",
	                       "GetAll", &e->bus, &reply, "s", WSBENCH_RUN_IFACE);
	if (r < 0 && sd_bus_error_has_name(&e->bus, SD_BUS_ERROR_UNKNOWN_OBJECT) &&
	    stored_run_properties(bus, id, ret) == 0) {
		sd_bus_error_free(&e->bus);
		return 0;
	}
	if (r < 0)
		return sd_bus_error_has_name(&e->bus, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
		               sd_bus_error_has_name(&e->bus, SD_BUS_ERROR_UNKNOWN_INTERFACE) ||
		               sd_bus_error_has_name(&e->bus, SD_BUS_ERROR_UNKNOWN_METHOD)
		           ? -ENOENT
		           : r;
	o = cJSON_CreateObject();
	if (!o)
		return -ENOMEM;
	r = read_props(reply, o);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}

/* A Manager property: @type 's' fills a malloc'd string, others a value. */
static int manager_property(sd_bus *bus, const char *name, char type, void *ret,
                            struct client_error *e)
{
	e->what = name;
	if (type == 's')
		return sd_bus_get_property_string(bus, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
		                                  WSBENCH_MANAGER_IFACE, name, &e->bus, ret);
	return sd_bus_get_property_trivial(bus, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
	                                   WSBENCH_MANAGER_IFACE, name, &e->bus, type, ret);
}

int client_daemon_status(sd_bus *bus, cJSON **ret, struct client_error *e)
{
	_cleanup_free_ char *active = NULL, *version = NULL, *config = NULL;
	uint32_t queued = 0;
	cJSON *o;
	int r;

	r = manager_property(bus, "Version", 's', &version, e);
	if (r >= 0)
		r = manager_property(bus, "ActiveRun", 's', &active, e);
	if (r >= 0)
		r = manager_property(bus, "QueuedRuns", 'u', &queued, e);
	if (r >= 0)
		r = manager_property(bus, "ConfigPath", 's', &config, e);
	if (r < 0)
		return r;
	o = cJSON_CreateObject();
	if (!o)
		return -ENOMEM;
	cJSON_AddStringToObject(o, "version", version);
	cJSON_AddStringToObject(o, "active_run", active);
	cJSON_AddNumberToObject(o, "queued_runs", queued);
	cJSON_AddStringToObject(o, "config", config);
	*ret = o;
	return 0;
}

int client_parse_set(const char *arg, struct client_set *ret)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(ret->key))
		return -EINVAL;
	memcpy(ret->key, arg, (size_t)(eq - arg));
	ret->key[eq - arg] = '\0';
	ret->value = eq + 1;
	return 0;
}

/* KEY=VALUE as {sv}: whole numbers as u, other numbers as d, the rest as s. */
static int append_set(sd_bus_message *m, const struct client_set *set)
{
	const char *v = set->value;
	char *end;
	double d;
	long long ll;

	ll = strtoll(v, &end, 10);
	if (*v && *end == '\0' && ll >= 0 && ll <= UINT32_MAX)
		return sd_bus_message_append(m, "{sv}", set->key, "u", (uint32_t)ll);
	d = strtod(v, &end);
	if (*v && *end == '\0' && isfinite(d))
		return sd_bus_message_append(m, "{sv}", set->key, "d", d);
	return sd_bus_message_append(m, "{sv}", set->key, "s", v);
}

int client_start_run(sd_bus *bus, const char *scenario, const char *server,
                     const struct client_set *sets, size_t n_sets, cJSON **ret,
                     struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	const char *id, *path;
	cJSON *o;
	int r;

	e->what = "StartRun";
	r = sd_bus_message_new_method_call(bus, &m, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
	                                   WSBENCH_MANAGER_IFACE, "StartRun");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", scenario, server);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	for (size_t i = 0; r >= 0 && i < n_sets; i++)
		r = append_set(m, &sets[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &e->bus, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "so", &id, &path);
	if (r < 0)
		return r;
	o = cJSON_CreateObject();
	if (!o)
		return -ENOMEM;
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "path", path);
	*ret = o;
	return 0;
}

/* A compare as StartCompare and GetCompare answer it, into cJSON. */
static int read_compare(sd_bus_message *reply, cJSON **ret)
{
	const char *id, *scenario, *state, *name, *run, *run_state;
	uint32_t repeat, arm, trial;
	int noisy, superseded, r;
	cJSON *o = cJSON_CreateObject(), *servers, *trials;

	if (!o)
		return -ENOMEM;
	r = sd_bus_message_read(reply, "sss", &id, &scenario, &state);
	if (r >= 0) {
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "scenario", scenario);
		cJSON_AddStringToObject(o, "state", state);
		r = sd_bus_message_enter_container(reply, 'a', "s");
	}
	servers = cJSON_AddArrayToObject(o, "servers");
	while (r >= 0 && (r = sd_bus_message_read(reply, "s", &name)) > 0)
		cJSON_AddItemToArray(servers, cJSON_CreateString(name));
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "u", &repeat);
	if (r >= 0) {
		cJSON_AddNumberToObject(o, "repeat", repeat);
		r = sd_bus_message_enter_container(reply, 'a', "(suusbb)");
	}
	trials = cJSON_AddArrayToObject(o, "trials");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(suusbb)", &run, &arm, &trial, &run_state,
	                                          &noisy, &superseded)) > 0) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "run", run);
		cJSON_AddNumberToObject(t, "arm", arm);
		cJSON_AddNumberToObject(t, "trial", trial);
		cJSON_AddStringToObject(t, "state", run_state);
		cJSON_AddBoolToObject(t, "noisy", noisy);
		cJSON_AddBoolToObject(t, "superseded", superseded);
		cJSON_AddItemToArray(trials, t);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r < 0) {
		cJSON_Delete(o);
		return r;
	}
	*ret = o;
	return 0;
}

static int append_bool_option(sd_bus_message *m, const char *key, int value)
{
	return value < 0 ? 0 : sd_bus_message_append(m, "{sv}", key, "b", value);
}

int client_start_compare(sd_bus *bus, const char *scenario, char *const *servers, size_t n_servers,
                         const struct client_set *sets, size_t n_sets,
                         const struct client_compare_options *opt, cJSON **ret,
                         struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	int r;

	e->what = "StartCompare";
	r = sd_bus_message_new_method_call(bus, &m, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
	                                   WSBENCH_MANAGER_IFACE, "StartCompare");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", scenario);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "s");
	for (size_t i = 0; r >= 0 && i < n_servers; i++)
		r = sd_bus_message_append(m, "s", servers[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	for (size_t i = 0; r >= 0 && i < n_sets; i++)
		r = append_set(m, &sets[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0 && opt->repeat)
		r = sd_bus_message_append(m, "{sv}", "repeat", "u", opt->repeat);
	if (r >= 0)
		r = append_bool_option(m, "warmup", opt->warmup);
	if (r >= 0)
		r = append_bool_option(m, "retry_noisy", opt->retry_noisy);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &e->bus, &reply);
	return r < 0 ? r : read_compare(reply, ret);
}

int client_get_compare(sd_bus *bus, const char *id, cJSON **ret, struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r = call(bus, "GetCompare", &reply, e, "s", id);

	if (r < 0)
		return sd_bus_error_has_name(&e->bus, WSBENCH_ERROR_NOT_FOUND) ? -ENOENT : r;
	return read_compare(reply, ret);
}

int client_cancel_compare(sd_bus *bus, const char *id, struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

	return call(bus, "CancelCompare", &reply, e, "s", id);
}

int client_cancel_run(sd_bus *bus, const char *id, struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

	return call(bus, "CancelRun", &reply, e, "s", id);
}

int client_get_report(sd_bus *bus, const char *id, char **ret, struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *text;
	int r = call(bus, "GetReport", &reply, e, "s", id);

	if (r >= 0)
		r = sd_bus_message_read(reply, "s", &text);
	if (r < 0)
		return r;
	*ret = strdup(text);
	return *ret ? 0 : -ENOMEM;
}

int client_reload(sd_bus *bus, struct client_error *e)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

	return call(bus, "Reload", &reply, e, NULL);
}
