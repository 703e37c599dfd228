/* SPDX-License-Identifier: MIT */
/*
 * The verbs (see verbs.h): ask, then show. Each failure is printed once,
 * here, where it is handled.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hdr-log.h"
#include "json.h"
#include "macro.h"
#include "print.h"
#include "report-html.h"
#include "verbs.h"
#include "wsbench-dbus.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

/* Prints the failure of a call. Return: CTL_EXIT_ERROR. */
static int failed(const struct client_error *e, int r)
{
	print_client_error(e, r);
	return CTL_EXIT_ERROR;
}

/* A verb that lists: ask with @fetch, show with @show. */
static int list(struct ctl *ctl, int (*fetch)(sd_bus *, cJSON **, struct client_error *),
                void (*show)(const cJSON *))
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	_cleanup_json_ cJSON *items = NULL;
	int r = fetch(ctl->bus, &items, &e);

	if (r < 0)
		return failed(&e, r);
	show(items);
	return CTL_EXIT_OK;
}

int verb_list_servers(struct ctl *ctl, int argc, char **argv)
{
	return list(ctl, client_list_servers, print_servers);
}

int verb_list_scenarios(struct ctl *ctl, int argc, char **argv)
{
	return list(ctl, client_list_scenarios, print_scenarios);
}

static bool is_final(const char *state)
{
	return strcmp(state, WSBENCH_STATE_FINISHED) == 0 ||
	       strcmp(state, WSBENCH_STATE_FAILED) == 0 ||
	       strcmp(state, WSBENCH_STATE_CANCELLED) == 0;
}

static const char *state_of(const cJSON *props)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(props, "State"));

	return s ? s : "";
}

/* A run's properties; a failure is printed. */
static int run_properties(struct ctl *ctl, const char *id, cJSON **ret)
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	int r = client_run_properties(ctl->bus, id, ret, &e);

	if (r == -ENOENT) {
		print_error("no active or queued run \"%s\" (see wsbenchctl runs)", id);
	} else if (r < 0) {
		e.what = "status";
		print_client_error(&e, r);
	}
	return r;
}

/* Follows a run until it ends; Ctrl-C stops watching, the run goes on. */
static int wait_for(struct ctl *ctl, const char *id)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	_cleanup_json_ cJSON *p = NULL;

	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		cJSON_Delete(p);
		p = NULL;
		if (run_properties(ctl, id, &p) < 0)
			return CTL_EXIT_ERROR;
		if (is_final(state_of(p)))
			break;
		if (interrupted) {
			print_wait_interrupted(id);
			return CTL_EXIT_ERROR;
		}
		print_progress(p);
		usleep(500000);
	}
	print_wait_end(p);
	return strcmp(state_of(p), WSBENCH_STATE_FINISHED) == 0 ? CTL_EXIT_OK : CTL_EXIT_RUN_FAILED;
}

int verb_start(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	_cleanup_json_ cJSON *run = NULL;
	int r = client_start_run(ctl->bus, argv[1], ctl->server, ctl->sets, ctl->n_sets, &run, &e);

	if (r < 0)
		return failed(&e, r);
	print_started(run, ctl->wait);
	if (!ctl->wait)
		return CTL_EXIT_OK;
	return wait_for(ctl, cJSON_GetStringValue(cJSON_GetObjectItem(run, "id")));
}

int verb_wait(struct ctl *ctl, int argc, char **argv)
{
	return wait_for(ctl, argv[1]);
}

int verb_status(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	_cleanup_json_ cJSON *props = NULL, *status = NULL, *active = NULL;
	const char *id;
	int r;

	if (argc == 2) {
		if (run_properties(ctl, argv[1], &props) < 0)
			return CTL_EXIT_ERROR;
		print_run_status(props);
		return CTL_EXIT_OK;
	}
	r = client_daemon_status(ctl->bus, &status, &e);
	if (r < 0)
		return failed(&e, r);
	id = cJSON_GetStringValue(cJSON_GetObjectItem(status, "active_run"));
	/* The active run may end meanwhile: then it is left out. */
	if (id && id[0]) {
		_cleanup_(client_error_done) struct client_error ignored = CLIENT_ERROR_NULL;

		(void)client_run_properties(ctl->bus, id, &active, &ignored);
	}
	print_daemon_status(status, active);
	return CTL_EXIT_OK;
}

/* A compare id cancels every trial of the compare; a run id, the run. */
int verb_cancel(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	_cleanup_json_ cJSON *compare = NULL;
	int r = client_get_compare(ctl->bus, argv[1], &compare, &e);

	client_error_done(&e);
	e = CLIENT_ERROR_NULL;
	if (r >= 0)
		r = client_cancel_compare(ctl->bus, argv[1], &e);
	else
		r = client_cancel_run(ctl->bus, argv[1], &e);
	return r < 0 ? failed(&e, r) : CTL_EXIT_OK;
}

int verb_runs(struct ctl *ctl, int argc, char **argv)
{
	return list(ctl, client_list_runs, print_runs);
}

/* Writes @report rendered by @render to @path; a failure is printed and the
 * partial file removed. */
static int write_rendering(const char *path, const char *what, const char *id, const cJSON *report,
                           int (*render)(FILE *, const cJSON *))
{
	FILE *f = fopen(path, "we");
	int r;

	if (!f) {
		r = -errno;
		print_error("cannot write %s to %s: %s", what, path, strerror(-r));
		return r;
	}
	r = render(f, report);
	if (fclose(f) != 0 && r >= 0)
		r = -errno;
	if (r >= 0)
		return 0;
	unlink(path);
	if (r == -ENOENT)
		print_error("run %s has no latency histogram for %s (it measured nothing)", id,
		            what);
	else
		print_error("cannot write %s to %s: %s", what, path, strerror(-r));
	return r;
}

static int render_html(FILE *f, const cJSON *report)
{
	return report_html_write(f, &report, 1);
}

static int render_hdr_log(FILE *f, const cJSON *report)
{
	return hdr_log_write(f, report);
}

int verb_report(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ cJSON *report = NULL;
	int r = client_get_report(ctl->bus, argv[1], &text, &e);

	if (r < 0)
		return failed(&e, r);
	if (!ctl->html && !ctl->hdr_log) {
		print_report(text);
		return CTL_EXIT_OK;
	}
	/* Rendered here, from the report as stored. */
	report = cJSON_Parse(text);
	if (!report) {
		print_error("the report of %s is not JSON", argv[1]);
		return CTL_EXIT_ERROR;
	}
	if (ctl->html &&
	    write_rendering(ctl->html, "the HTML report", argv[1], report, render_html) < 0)
		return CTL_EXIT_ERROR;
	if (ctl->hdr_log && write_rendering(ctl->hdr_log, "the HdrHistogram log", argv[1], report,
	                                    render_hdr_log) < 0)
		return CTL_EXIT_ERROR;
	return CTL_EXIT_OK;
}

int verb_reload(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	int r = client_reload(ctl->bus, &e);

	return r < 0 ? failed(&e, r) : CTL_EXIT_OK;
}
