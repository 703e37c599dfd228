/* SPDX-License-Identifier: MIT */
/*
 * wsbenchctl: the D-Bus client of wsbenchd. A verb table dispatches to
 * verb_*() functions; the output format (table or --json) is chosen once.
 * Conventions follow systemctl: --system (default), --user, -H user@host.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "bus-open.h"
#include "macro.h"
#include "wsbench-config.h"
#include "wsbench-dbus.h"

enum exit_status { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_RUN_FAILED = 3 };

static struct {
	enum { BUS_SYSTEM, BUS_USER, BUS_REMOTE, BUS_ADDRESS } bus;
	const char *host;
	const char *address;
	bool json;
	bool wait;
	const char *server;
	char **sets;
	size_t n_sets;
} arg = { .server = "" };

static volatile sig_atomic_t interrupted;

static const char usage[] =
    "usage: wsbenchctl [OPTIONS] VERB [ARGS]\n"
    "\n"
    "Verbs:\n"
    "  list-servers                       servers declared in the configuration\n"
    "  list-scenarios                     scenarios declared in the configuration\n"
    "  start SCENARIO [--server S] [--set KEY=VALUE]... [--wait]\n"
    "                                     queue a run; print its id\n"
    "  status [RUN]                       the daemon, or one run\n"
    "  wait RUN                           follow a run until it ends\n"
    "  cancel RUN                         cancel a queued or active run\n"
    "  runs                               runs and stored reports\n"
    "  report RUN                         the run's report (summary, or --json)\n"
    "  reload                             reload the configuration\n"
    "\n"
    "Options:\n"
    "      --system              talk to the system bus (default)\n"
    "      --user                talk to the user bus\n"
    "  -H, --host [USER@]HOST    talk to the system bus of HOST over ssh\n"
    "      --bus-address ADDR    talk to the bus at ADDR\n"
    "      --json                machine-readable output\n"
    "  -h, --help, --version\n"
    "\n"
    "Exit status: 0 success, 1 failure (the daemon's error is printed), 2 bad usage,\n"
    "3 the run waited for failed or was cancelled.\n";

static void on_sigint(int sig)
{
	interrupted = 1;
}

static int fail_bus(const char *what, const sd_bus_error *e, int r)
{
	if (sd_bus_error_is_set(e))
		fprintf(stderr, "wsbenchctl: %s: %s\n", what, e->message ? e->message : e->name);
	else
		fprintf(stderr, "wsbenchctl: %s: %s\n", what, strerror(-r));
	return EXIT_ERROR;
}

static int connect_bus(sd_bus **ret)
{
	int r;

	switch (arg.bus) {
	case BUS_USER:
		r = sd_bus_open_user(ret);
		break;
	case BUS_REMOTE:
		r = sd_bus_open_system_remote(ret, arg.host);
		break;
	case BUS_ADDRESS:
		r = bus_open_address(arg.address, ret);
		break;
	default:
		r = sd_bus_open_system(ret);
	}
	if (r < 0)
		fprintf(stderr, "wsbenchctl: cannot connect to the bus: %s\n", strerror(-r));
	return r;
}

static int call(sd_bus *bus, const char *method, sd_bus_message **reply, const char *types, ...)
{
	sd_bus_message *m = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
	                                   WSBENCH_MANAGER_IFACE, method);
	if (r >= 0 && types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &e, reply);
	sd_bus_message_unref(m);
	if (r < 0) {
		fail_bus(method, &e, r);
		sd_bus_error_free(&e);
	}
	return r;
}

static void print_json(cJSON *j)
{
	char *s = cJSON_Print(j);

	if (s)
		puts(s);
	free(s);
	cJSON_Delete(j);
}

/* Reads an a{sv} of basic values into a JSON object. */
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

/* a(sa{sv}) → JSON array of objects with "name" first. */
static int read_named_list(sd_bus_message *m, cJSON **ret)
{
	cJSON *arr = cJSON_CreateArray();
	int r = sd_bus_message_enter_container(m, 'a', "(sa{sv})");

	while (r > 0 && (r = sd_bus_message_enter_container(m, 'r', "sa{sv}")) > 0) {
		const char *name;
		cJSON *o = cJSON_CreateObject();

		r = sd_bus_message_read(m, "s", &name);
		cJSON_AddStringToObject(o, "name", name);
		if (r >= 0)
			r = read_props(m, o);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		cJSON_AddItemToArray(arr, o);
		if (r >= 0)
			r = 1;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0) {
		cJSON_Delete(arr);
		return r;
	}
	*ret = arr;
	return 0;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));

	return s ? s : "";
}

static double jnum(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(o, key));
}

/* ---- verbs ---------------------------------------------------------------- */

/* Calls a method returning a(sa{sv}); prints it as JSON with --json.
 * Return: 1 with *@ret set for the caller to print, 0 when printed, < 0. */
static int fetch_named_list(sd_bus *bus, const char *method, cJSON **ret)
{
	sd_bus_message *reply = NULL;
	cJSON *list;
	int r;

	if (call(bus, method, &reply, NULL) < 0)
		return -EIO;
	r = read_named_list(reply, &list);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	if (arg.json) {
		print_json(list);
		return 0;
	}
	*ret = list;
	return 1;
}

static int verb_list_servers(sd_bus *bus, int argc, char **argv)
{
	cJSON *list, *s;
	int r = fetch_named_list(bus, "ListServers", &list);

	if (r <= 0)
		return r < 0 ? EXIT_ERROR : EXIT_OK;
	printf("%-20s %-10s %-8s %s\n", "NAME", "LANGUAGE", "KIND", "WHERE");
	cJSON_ArrayForEach(s, list)
	{
		char where[256];

		if (strcmp(jstr(s, "kind"), "url") == 0)
			snprintf(where, sizeof(where), "%s", jstr(s, "url"));
		else
			snprintf(where, sizeof(where), "127.0.0.1:%.0f", jnum(s, "port"));
		printf("%-20s %-10s %-8s %s\n", jstr(s, "name"), jstr(s, "language"),
		       jstr(s, "kind"), where);
	}
	cJSON_Delete(list);
	return EXIT_OK;
}

static int verb_list_scenarios(sd_bus *bus, int argc, char **argv)
{
	cJSON *list, *s;
	int r = fetch_named_list(bus, "ListScenarios", &list);

	if (r <= 0)
		return r < 0 ? EXIT_ERROR : EXIT_OK;
	printf("%-16s %8s %9s %-7s %9s %9s %-7s %s\n", "NAME", "CLIENTS", "RATE/CL", "PATTERN",
	       "DURATION", "SIZE", "TYPE", "DESCRIPTION");
	cJSON_ArrayForEach(s, list)
	    printf("%-16s %8.0f %9g %-7s %8gs %9.0f %-7s %s\n", jstr(s, "name"), jnum(s, "clients"),
	           jnum(s, "rate"), jstr(s, "pattern"), jnum(s, "duration"),
	           jnum(s, "message_size"), jstr(s, "message_type"), jstr(s, "description"));
	cJSON_Delete(list);
	return EXIT_OK;
}

/* KEY=VALUE → {sv}: whole numbers as u, other numbers as d, the rest as s. */
static int append_set(sd_bus_message *m, const char *set)
{
	const char *eq = strchr(set, '=');
	char key[64], *end;
	double d;
	long long ll;

	if (!eq || eq == set || (size_t)(eq - set) >= sizeof(key)) {
		fprintf(stderr, "wsbenchctl: --set: expected KEY=VALUE, got '%s'\n", set);
		return -EINVAL;
	}
	memcpy(key, set, (size_t)(eq - set));
	key[eq - set] = '\0';
	eq++;
	ll = strtoll(eq, &end, 10);
	if (*eq && *end == '\0' && ll >= 0 && ll <= UINT32_MAX)
		return sd_bus_message_append(m, "{sv}", key, "u", (uint32_t)ll);
	d = strtod(eq, &end);
	if (*eq && *end == '\0' && isfinite(d))
		return sd_bus_message_append(m, "{sv}", key, "d", d);
	return sd_bus_message_append(m, "{sv}", key, "s", eq);
}

static int wait_for(sd_bus *bus, const char *id);

static int verb_start(sd_bus *bus, int argc, char **argv)
{
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *id, *path;
	char *id_copy;
	int r;

	if (argc != 2) {
		fprintf(stderr, "wsbenchctl: start needs one SCENARIO\n");
		return EXIT_USAGE;
	}
	r = sd_bus_message_new_method_call(bus, &m, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
	                                   WSBENCH_MANAGER_IFACE, "StartRun");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", argv[1], arg.server);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	for (size_t i = 0; r >= 0 && i < arg.n_sets; i++)
		r = append_set(m, arg.sets[i]);
	if (r == -EINVAL) {
		sd_bus_message_unref(m);
		return EXIT_USAGE;
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &e, &reply);
	sd_bus_message_unref(m);
	if (r < 0) {
		fail_bus("StartRun", &e, r);
		sd_bus_error_free(&e);
		return EXIT_ERROR;
	}
	r = sd_bus_message_read(reply, "so", &id, &path);
	if (r < 0) {
		sd_bus_message_unref(reply);
		return EXIT_ERROR;
	}
	id_copy = strdup(id);
	if (arg.json && !arg.wait) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "path", path);
		print_json(o);
	} else if (!arg.json) {
		printf("%s\n", id);
		fflush(stdout);
	}
	sd_bus_message_unref(reply);
	r = arg.wait ? wait_for(bus, id_copy) : EXIT_OK;
	free(id_copy);
	return r;
}

static int list_runs(sd_bus *bus, cJSON **ret);

/* An ended run the daemon no longer keeps in memory: its row of ListRuns
 * (from the report directory) in the shape of the Run object's properties. */
static int stored_run_properties(sd_bus *bus, const char *id, cJSON **ret)
{
	cJSON *arr, *o, *p = NULL;

	if (list_runs(bus, &arr) < 0)
		return -EIO;
	cJSON_ArrayForEach(o, arr)
	{
		if (strcmp(jstr(o, "id"), id) != 0)
			continue;
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "Id", id);
		cJSON_AddStringToObject(p, "Scenario", jstr(o, "scenario"));
		cJSON_AddStringToObject(p, "Server", jstr(o, "server"));
		cJSON_AddStringToObject(p, "State", jstr(o, "state"));
		cJSON_AddStringToObject(p, "ReportPath", jstr(o, "report"));
		break;
	}
	cJSON_Delete(arr);
	if (!p)
		return -ENOENT;
	*ret = p;
	return 0;
}

/* GetAll of a run's properties as a JSON object; for an ended run that is
 * no longer in the daemon's memory, what its stored report says. */
static int run_properties(sd_bus *bus, const char *id, cJSON **ret, bool quiet)
{
	sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char path[256];
	cJSON *o;
	int r;

	snprintf(path, sizeof(path), "%s/%s", WSBENCH_RUN_PATH_PREFIX, id);
	r = sd_bus_call_method(bus, WSBENCH_BUS_NAME, path, "org.freedesktop.DBus.Properties",
	                       "GetAll", &e, &reply, "s", WSBENCH_RUN_IFACE);
	if (r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_OBJECT) &&
	    stored_run_properties(bus, id, ret) == 0) {
		sd_bus_error_free(&e);
		return 0;
	}
	if (r < 0) {
		if (!quiet) {
			if (sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
			    sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_INTERFACE) ||
			    sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_METHOD))
				fprintf(stderr,
				        "wsbenchctl: no active or queued run \"%s\" (see "
				        "wsbenchctl runs)\n",
				        id);
			else
				fail_bus("status", &e, r);
		}
		sd_bus_error_free(&e);
		return r;
	}
	o = cJSON_CreateObject();
	r = read_props(reply, o);
	sd_bus_message_unref(reply);
	if (r < 0) {
		cJSON_Delete(o);
		return r;
	}
	*ret = o;
	return 0;
}

static bool is_final(const char *state)
{
	return strcmp(state, WSBENCH_STATE_FINISHED) == 0 ||
	       strcmp(state, WSBENCH_STATE_FAILED) == 0 ||
	       strcmp(state, WSBENCH_STATE_CANCELLED) == 0;
}

static void progress_line(const cJSON *p, char *buf, size_t len)
{
	snprintf(buf, len,
	         "%s %-10s %5.1f/%.0fs  clients %.0f/%.0f  sent %.0f  recv %.0f  %.0f msg/s  "
	         "p99 %.2f ms  errors %.0f",
	         jstr(p, "Id"), jstr(p, "State"), jnum(p, "ElapsedSeconds"),
	         jnum(p, "TotalSeconds"), jnum(p, "ClientsConnected"), jnum(p, "Clients"),
	         jnum(p, "MessagesSent"), jnum(p, "MessagesReceived"), jnum(p, "Rate"),
	         jnum(p, "LatencyP99Ms"), jnum(p, "Errors"));
}

static int wait_for(sd_bus *bus, const char *id)
{
	bool tty = isatty(STDOUT_FILENO) && !arg.json;
	struct sigaction sa = { .sa_handler = on_sigint };
	time_t last_plain = 0;
	cJSON *p = NULL;
	char line[512];
	int status;

	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		cJSON_Delete(p);
		p = NULL;
		if (run_properties(bus, id, &p, false) < 0)
			return EXIT_ERROR;
		progress_line(p, line, sizeof(line));
		if (is_final(jstr(p, "State")))
			break;
		if (interrupted) {
			/* Ctrl-C stops watching; the run goes on (documented). */
			fprintf(stderr,
			        "%s\nwsbenchctl: stopped watching; run %s continues "
			        "(wsbenchctl cancel %s to stop it)\n",
			        tty ? "" : "", id, id);
			cJSON_Delete(p);
			return EXIT_ERROR;
		}
		if (tty) {
			printf("\r\033[K%s", line);
			fflush(stdout);
		} else if (!arg.json && time(NULL) - last_plain >= 5) {
			printf("%s\n", line);
			fflush(stdout);
			last_plain = time(NULL);
		}
		usleep(500000);
	}
	status = strcmp(jstr(p, "State"), WSBENCH_STATE_FINISHED) == 0 ? EXIT_OK : EXIT_RUN_FAILED;
	if (arg.json)
		print_json(p);
	else {
		printf("%s%s\n", tty ? "\r\033[K" : "", line);
		if (jstr(p, "FailureReason")[0])
			printf("failed: %s\n", jstr(p, "FailureReason"));
		if (jstr(p, "ReportPath")[0])
			printf("report: %s\n", jstr(p, "ReportPath"));
		cJSON_Delete(p);
	}
	return status;
}

static int verb_wait(sd_bus *bus, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "wsbenchctl: wait needs one RUN id\n");
		return EXIT_USAGE;
	}
	return wait_for(bus, argv[1]);
}

static int manager_property(sd_bus *bus, const char *name, char type, void *ret)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	if (type == 's')
		r = sd_bus_get_property_string(bus, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
		                               WSBENCH_MANAGER_IFACE, name, &e, ret);
	else
		r = sd_bus_get_property_trivial(bus, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
		                                WSBENCH_MANAGER_IFACE, name, &e, type, ret);
	if (r < 0)
		fail_bus(name, &e, r);
	sd_bus_error_free(&e);
	return r;
}

static int verb_status(sd_bus *bus, int argc, char **argv)
{
	char *active = NULL, *version = NULL, *config = NULL, line[512];
	uint32_t queued = 0;
	cJSON *p;

	if (argc > 2) {
		fprintf(stderr, "wsbenchctl: status takes at most one RUN id\n");
		return EXIT_USAGE;
	}
	if (argc == 2) {
		if (run_properties(bus, argv[1], &p, false) < 0)
			return EXIT_ERROR;
		if (arg.json) {
			print_json(p);
			return EXIT_OK;
		}
		progress_line(p, line, sizeof(line));
		printf("%s\n  scenario %s on %s, requested by %s\n", line, jstr(p, "Scenario"),
		       jstr(p, "Server"), jstr(p, "RequestedBy"));
		if (jstr(p, "FailureReason")[0])
			printf("  failed: %s\n", jstr(p, "FailureReason"));
		if (jstr(p, "ReportPath")[0])
			printf("  report: %s\n", jstr(p, "ReportPath"));
		cJSON_Delete(p);
		return EXIT_OK;
	}
	if (manager_property(bus, "Version", 's', &version) < 0 ||
	    manager_property(bus, "ActiveRun", 's', &active) < 0 ||
	    manager_property(bus, "QueuedRuns", 'u', &queued) < 0 ||
	    manager_property(bus, "ConfigPath", 's', &config) < 0) {
		free(version);
		free(active);
		free(config);
		return EXIT_ERROR;
	}
	if (arg.json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "version", version);
		cJSON_AddStringToObject(o, "active_run", active);
		cJSON_AddNumberToObject(o, "queued_runs", queued);
		cJSON_AddStringToObject(o, "config", config);
		print_json(o);
	} else {
		printf("wsbenchd %s, configuration %s\n", version, config);
		printf("active run: %s, %u queued\n", active[0] ? active : "none", queued);
		if (active[0] && run_properties(bus, active, &p, true) == 0) {
			progress_line(p, line, sizeof(line));
			printf("  %s\n", line);
			cJSON_Delete(p);
		}
	}
	free(version);
	free(active);
	free(config);
	return EXIT_OK;
}

static int verb_cancel(sd_bus *bus, int argc, char **argv)
{
	sd_bus_message *reply = NULL;

	if (argc != 2) {
		fprintf(stderr, "wsbenchctl: cancel needs one RUN id\n");
		return EXIT_USAGE;
	}
	if (call(bus, "CancelRun", &reply, "s", argv[1]) < 0)
		return EXIT_ERROR;
	sd_bus_message_unref(reply);
	return EXIT_OK;
}

/* ListRuns as a JSON array of {id, scenario, server, state, report, path}. */
static int list_runs(sd_bus *bus, cJSON **ret)
{
	sd_bus_message *reply = NULL;
	const char *id, *scenario, *server, *state, *report, *path;
	cJSON *arr;
	int r;

	if (call(bus, "ListRuns", &reply, NULL) < 0)
		return -EIO;
	arr = cJSON_CreateArray();
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
	sd_bus_message_unref(reply);
	*ret = arr;
	return 0;
}

static int verb_runs(sd_bus *bus, int argc, char **argv)
{
	cJSON *arr, *o;

	if (list_runs(bus, &arr) < 0)
		return EXIT_ERROR;
	if (arg.json) {
		print_json(arr);
		return EXIT_OK;
	}
	printf("%-24s %-16s %-18s %-10s %s\n", "ID", "SCENARIO", "SERVER", "STATE", "REPORT");
	cJSON_ArrayForEach(o, arr)
	    printf("%-24s %-16s %-18s %-10s %s\n", jstr(o, "id"), jstr(o, "scenario"),
	           jstr(o, "server"), jstr(o, "state"), jstr(o, "report"));
	cJSON_Delete(arr);
	return EXIT_OK;
}

static void print_latency(const char *name, const cJSON *l)
{
	if (!cJSON_IsObject(l) || jnum(l, "count") == 0) {
		printf("  %-12s (no samples)\n", name);
		return;
	}
	printf("  %-12s%9.3f%9.3f%9.3f%9.3f%9.3f%9.3f%9.3f%9.3f%9.3f\n", name, jnum(l, "min"),
	       jnum(l, "p50"), jnum(l, "p90"), jnum(l, "p99"), jnum(l, "p99_9"), jnum(l, "p99_99"),
	       jnum(l, "max"), jnum(l, "mean"), jnum(l, "stddev"));
}

static void print_report(const cJSON *rep)
{
	const cJSON *meta = cJSON_GetObjectItem(rep, "metadata");
	const cJSON *cc = cJSON_GetObjectItem(rep, "clientConfig");
	const cJSON *tp = cJSON_GetObjectItem(rep, "throughput");
	const cJSON *lat = cJSON_GetObjectItem(rep, "latency");
	const cJSON *err = cJSON_GetObjectItem(rep, "errors");
	const cJSON *conn = cJSON_GetObjectItem(err, "connections");
	const cJSON *msg = cJSON_GetObjectItem(err, "messages");
	const cJSON *use = cJSON_GetObjectItem(rep, "resourceUsage");
	const cJSON *ss = cJSON_GetObjectItem(use, "server_summary");
	const cJSON *cs = cJSON_GetObjectItem(use, "client_summary");
	const cJSON *cl = cJSON_GetObjectItem(rep, "client");

	printf("Run %s: %s on %s (%s), %s\n", jstr(meta, "id"), jstr(meta, "scenario"),
	       jstr(meta, "server"), jstr(meta, "language"), jstr(meta, "state"));
	if (jstr(meta, "failure_reason")[0])
		printf("  failed: %s\n", jstr(meta, "failure_reason"));
	printf("  %s .. %s on %s, wsbench %s\n", jstr(meta, "start"), jstr(meta, "end"),
	       jstr(meta, "host"), jstr(meta, "wsbench_version"));
	printf("  %.0f clients, ramp-up %gs, %s %g msg/s per client, %.0f B %s, %gs after %gs "
	       "warm-up\n\n",
	       jnum(cc, "clients"), jnum(cc, "ramp_up_s"), jstr(cc, "pattern"),
	       jnum(cc, "rate_per_client"), jnum(cc, "message_size"), jstr(cc, "message_type"),
	       jnum(cc, "duration_s"), jnum(cc, "warmup_s"));
	if (cJSON_IsObject(tp))
		printf("Throughput\n  target %.0f msg/s   sent %.0f msg/s   received %.0f msg/s   "
		       "%.2f "
		       "Mbit/s\n\n",
		       jnum(tp, "target_rate"), jnum(tp, "send_rate"), jnum(tp, "receive_rate"),
		       jnum(tp, "mbit_per_s_received"));
	printf("Latency (ms)       min      p50      p90      p99    p99.9   p99.99      max     "
	       "mean   stddev\n");
	print_latency("corrected", cJSON_GetObjectItem(lat, "corrected"));
	print_latency("uncorrected", cJSON_GetObjectItem(lat, "uncorrected"));
	if (cJSON_IsObject(conn))
		printf("\nErrors\n  connections: %.0f/%.0f established, %.0f failed (refused %.0f, "
		       "timeout %.0f, handshake %.0f), %.0f dropped\n",
		       jnum(conn, "established"), jnum(conn, "clients"), jnum(conn, "failed"),
		       jnum(conn, "refused"), jnum(conn, "timeout"),
		       jnum(conn, "handshake_rejected"), jnum(conn, "dropped"));
	if (cJSON_IsObject(msg))
		printf(
		    "  messages: %.0f sent, %.0f received, %.0f lost, %.0f mismatched; error rate "
		    "%.4f%%\n",
		    jnum(msg, "sent"), jnum(msg, "received"), jnum(msg, "lost"),
		    jnum(msg, "mismatched"), jnum(err, "error_rate") * 100);
	printf("\nResources (sampled every %.0f ms)\n", jnum(use, "interval_ms"));
	if (cJSON_IsObject(ss) && jnum(ss, "samples") > 0)
		printf("  server: CPU mean %.1f%% max %.1f%%, RSS max %.1f MiB\n",
		       jnum(ss, "cpu_percent_mean"), jnum(ss, "cpu_percent_max"),
		       jnum(ss, "rss_bytes_max") / 1048576.0);
	else
		printf("  server: not sampled\n");
	if (cJSON_IsObject(cs))
		printf("  client: CPU mean %.1f%% max %.1f%%, RSS max %.1f MiB\n",
		       jnum(cs, "cpu_percent_mean"), jnum(cs, "cpu_percent_max"),
		       jnum(cs, "rss_bytes_max") / 1048576.0);
	if (cJSON_IsObject(cl))
		printf("  %s\n", jstr(cl, "verdict"));
}

static int verb_report(sd_bus *bus, int argc, char **argv)
{
	sd_bus_message *reply = NULL;
	const char *text;
	cJSON *rep;

	if (argc != 2) {
		fprintf(stderr, "wsbenchctl: report needs one RUN id\n");
		return EXIT_USAGE;
	}
	if (call(bus, "GetReport", &reply, "s", argv[1]) < 0)
		return EXIT_ERROR;
	if (sd_bus_message_read(reply, "s", &text) < 0) {
		sd_bus_message_unref(reply);
		return EXIT_ERROR;
	}
	if (arg.json) {
		puts(text);
	} else {
		rep = cJSON_Parse(text);
		if (rep)
			print_report(rep);
		cJSON_Delete(rep);
	}
	sd_bus_message_unref(reply);
	return EXIT_OK;
}

static int verb_reload(sd_bus *bus, int argc, char **argv)
{
	sd_bus_message *reply = NULL;

	if (call(bus, "Reload", &reply, NULL) < 0)
		return EXIT_ERROR;
	sd_bus_message_unref(reply);
	return EXIT_OK;
}

static const struct verb {
	const char *name;
	int (*fn)(sd_bus *bus, int argc, char **argv);
} verbs[] = {
	{ "list-servers", verb_list_servers },
	{ "list-scenarios", verb_list_scenarios },
	{ "start", verb_start },
	{ "status", verb_status },
	{ "wait", verb_wait },
	{ "cancel", verb_cancel },
	{ "runs", verb_runs },
	{ "report", verb_report },
	{ "reload", verb_reload },
};

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "system", no_argument, NULL, 'S' },
		{ "user", no_argument, NULL, 'U' },
		{ "host", required_argument, NULL, 'H' },
		{ "bus-address", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "wait", no_argument, NULL, 'w' },
		{ "server", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hH:", longopts, NULL)) >= 0) {
		switch (c) {
		case 'S':
			arg.bus = BUS_SYSTEM;
			break;
		case 'U':
			arg.bus = BUS_USER;
			break;
		case 'H':
			arg.bus = BUS_REMOTE;
			arg.host = optarg;
			break;
		case 'A':
			arg.bus = BUS_ADDRESS;
			arg.address = optarg;
			break;
		case 'j':
			arg.json = true;
			break;
		case 'w':
			arg.wait = true;
			break;
		case 's':
			arg.server = optarg;
			break;
		case 'e':
			arg.sets = realloc(arg.sets, (arg.n_sets + 1) * sizeof(char *));
			if (!arg.sets)
				return -ENOMEM;
			arg.sets[arg.n_sets++] = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(EXIT_OK);
		case 'V':
			printf("wsbenchctl %s\n", WSBENCH_VERSION);
			exit(EXIT_OK);
		case ':':
			fprintf(stderr, "wsbenchctl: option '%s' needs a value\n",
			        argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "wsbenchctl: unknown option '%s'\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	sd_bus *bus = NULL;
	int status = EXIT_USAGE;

	if (parse_args(argc, argv) < 0) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fprintf(stderr, "wsbenchctl: a verb is needed\n%s", usage);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
		if (strcmp(verbs[i].name, argv[0]) != 0)
			continue;
		if (connect_bus(&bus) < 0)
			return EXIT_ERROR;
		status = verbs[i].fn(bus, argc, argv);
		sd_bus_flush_close_unref(bus);
		free(arg.sets);
		return status;
	}
	fprintf(stderr, "wsbenchctl: unknown verb '%s'\n%s", argv[0], usage);
	return EXIT_USAGE;
}
