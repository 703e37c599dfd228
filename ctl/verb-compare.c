/* SPDX-License-Identifier: MIT */
/*
 * wsbenchctl compare (see verbs.h): start a compare and follow it, or take
 * existing runs; then fetch the reports, build the comparison
 * (report/compare-model.h) and show it as a table, Markdown, JSON or a web
 * page.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare-model.h"
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

/* Run and compare ids are "YYYYMMDDTHHMMSSZ_N"; scenario names are not. */
static bool looks_like_id(const char *s)
{
	size_t n = strlen(s);

	return n > 17 && s[8] == 'T' && s[15] == 'Z' && s[16] == '_' &&
	       strspn(s, "0123456789") == 8 && strspn(s + 17, "0123456789") == n - 17;
}

/* --servers a,b,c into names (pointing into a copy kept in *@buf). */
static int split_servers(const char *list, char **buf, char **names, size_t *n)
{
	char *save = NULL;

	*n = 0;
	if (!list)
		return 0;
	*buf = strdup(list);
	if (!*buf)
		return -ENOMEM;
	for (char *t = strtok_r(*buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == COMPARE_MODEL_MAX_ARMS) {
			print_error("--servers: at most %d servers", COMPARE_MODEL_MAX_ARMS);
			return -EINVAL;
		}
		names[(*n)++] = t;
	}
	if (*n == 0) {
		print_error("--servers: no server named");
		return -EINVAL;
	}
	return 0;
}

/* The trial being run, or the next one: "trial K/N SERVER" and its run. */
static const cJSON *current_trial(const cJSON *c, unsigned *k, unsigned *n)
{
	const cJSON *t, *found = NULL;

	*k = *n = 0;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "trials"))
	{
		(*n)++;
		if (!found && !cJSON_GetStringValue(cJSON_GetObjectItem(t, "state"))[0]) {
			found = t;
			*k = *n;
		}
	}
	return found;
}

static void show_progress(struct ctl *ctl, const cJSON *c)
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	_cleanup_json_ cJSON *props = NULL;
	unsigned k, n;
	const cJSON *t = current_trial(c, &k, &n);
	const cJSON *servers = cJSON_GetObjectItem(c, "servers");
	char prefix[128];
	int trial, arm;

	if (!t)
		return;
	arm = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "arm"));
	trial = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "trial"));
	if (client_run_properties(ctl->bus, cJSON_GetStringValue(cJSON_GetObjectItem(t, "run")),
	                          &props, &e) < 0)
		return;
	if (trial)
		snprintf(prefix, sizeof(prefix), "[%u/%u %s trial %d] ", k, n,
		         cJSON_GetStringValue(cJSON_GetArrayItem(servers, arm)), trial);
	else
		snprintf(prefix, sizeof(prefix), "[%u/%u %s warm-up] ", k, n,
		         cJSON_GetStringValue(cJSON_GetArrayItem(servers, arm)));
	print_compare_progress(prefix, props);
}

/* Follows a compare until every trial has ended; Ctrl-C stops watching. */
static int follow(struct ctl *ctl, const char *id, cJSON **ret)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	_cleanup_json_ cJSON *c = NULL;

	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
		int r;

		cJSON_Delete(c);
		c = NULL;
		r = client_get_compare(ctl->bus, id, &c, &e);
		if (r < 0) {
			print_client_error(&e, r);
			return r;
		}
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "state")), "running") != 0)
			break;
		if (interrupted) {
			print_compare_interrupted(id);
			return -EINTR;
		}
		show_progress(ctl, c);
		usleep(500000);
	}
	*ret = TAKE_PTR(c);
	return 0;
}

/* The report of run @id, parsed; NULL (printed) when there is none. */
static cJSON *fetch_report(struct ctl *ctl, const char *id, bool quiet)
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	_cleanup_free_ char *text = NULL;
	cJSON *j;
	int r = client_get_report(ctl->bus, id, &text, &e);

	if (r < 0) {
		if (!quiet)
			print_client_error(&e, r);
		return NULL;
	}
	j = cJSON_Parse(text);
	if (!j)
		print_error("the report of %s is not JSON", id);
	return j;
}

struct inputs {
	cJSON *reports[COMPARE_MODEL_MAX_ARMS * 101];
	struct compare_input in[COMPARE_MODEL_MAX_ARMS * 101];
	size_t n;
	const char *names[COMPARE_MODEL_MAX_ARMS];
	unsigned n_arms;
	unsigned missing; /* trials that ran but whose report is gone */
	bool cancelled;   /* the compare was cancelled */
};

static void inputs_done(struct inputs *x)
{
	for (size_t i = 0; i < x->n; i++)
		cJSON_Delete(x->reports[i]);
}

static void add_input(struct inputs *x, cJSON *report, unsigned arm)
{
	if (x->n == ELEMENTSOF(x->reports)) {
		cJSON_Delete(report);
		return;
	}
	x->reports[x->n] = report;
	x->in[x->n] = (struct compare_input){ .report = report, .arm = arm };
	x->n++;
}

/* The counted trials of compare @c: not warm-ups, not superseded by a
 * retry; a trial that never started has no report and is left out. */
static int inputs_from_compare(struct ctl *ctl, const cJSON *c, struct inputs *x)
{
	const cJSON *t, *s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItem(c, "servers")) x->names[x->n_arms++] =
	    cJSON_GetStringValue(s);
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "trials"))
	{
		const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(t, "state"));
		cJSON *report;

		if (cJSON_GetNumberValue(cJSON_GetObjectItem(t, "trial")) == 0 ||
		    cJSON_IsTrue(cJSON_GetObjectItem(t, "superseded")))
			continue;
		report = fetch_report(ctl, cJSON_GetStringValue(cJSON_GetObjectItem(t, "run")),
		                      strcmp(state, WSBENCH_STATE_CANCELLED) == 0);
		if (report)
			add_input(x, report,
			          (unsigned)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "arm")));
		else if (strcmp(state, WSBENCH_STATE_CANCELLED) != 0)
			x->missing++;
	}
	x->cancelled = !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "state")), "cancelled");
	return 0;
}

static int inputs_from_runs(struct ctl *ctl, int argc, char **argv, struct inputs *x)
{
	const cJSON *reports[ELEMENTSOF(x->reports)];
	unsigned arms[ELEMENTSOF(x->reports)];
	int n;

	for (int i = 1; i < argc; i++) {
		cJSON *report = fetch_report(ctl, argv[i], false);

		if (!report)
			return -ENOENT;
		add_input(x, report, 0);
	}
	for (size_t i = 0; i < x->n; i++)
		reports[i] = x->reports[i];
	n = compare_model_arms(reports, x->n, arms, x->names);
	if (n < 0) {
		print_error("cannot group these runs by server (at most %d servers, each report "
		            "naming its server)",
		            COMPARE_MODEL_MAX_ARMS);
		return n;
	}
	x->n_arms = (unsigned)n;
	for (size_t i = 0; i < x->n; i++)
		x->in[i].arm = arms[i];
	return 0;
}

/* The page: the comparison, then the latency, timeline and resource charts
 * of one trial per server (its median-rate one). */
static int write_html(const char *path, const cJSON *model, const struct inputs *x)
{
	const cJSON *shown[REPORT_HTML_MAX];
	size_t n = 0;
	FILE *f = fopen(path, "we");
	int r;

	if (!f) {
		print_error("cannot write the HTML comparison to %s: %s", path, strerror(errno));
		return -errno;
	}
	for (unsigned a = 0; a < x->n_arms && n < REPORT_HTML_MAX; a++) {
		const cJSON *best = NULL;
		double median = compare_model_median(model, a, "rate"), dist = 0;

		for (size_t i = 0; i < x->n; i++) {
			double v;

			if (x->in[i].arm != a || !compare_model_counted(x->in[i].report) ||
			    compare_model_value(x->in[i].report, "rate", &v) < 0)
				continue;
			if (!best || fabs(v - median) < dist) {
				best = x->in[i].report;
				dist = fabs(v - median);
			}
		}
		if (best)
			shown[n++] = best;
	}
	r = compare_html_write(f, model, shown, n);
	if (fclose(f) != 0 && r >= 0)
		r = -errno;
	if (r < 0) {
		print_error("cannot write the HTML comparison to %s: %s", path, strerror(-r));
		unlink(path);
	}
	return r;
}

static int show(struct ctl *ctl, struct inputs *x)
{
	_cleanup_json_ cJSON *model = NULL;
	int r = compare_model_build(x->in, x->n, x->names, x->n_arms, &model);

	if (r < 0) {
		print_error("cannot build the comparison: %s", strerror(-r));
		return CTL_EXIT_ERROR;
	}
	print_compare(model, ctl->markdown);
	if (ctl->html && write_html(ctl->html, model, x) < 0)
		return CTL_EXIT_ERROR;
	if (x->missing)
		print_error("%u trials have no report any more (daemon.keep_reports pruned them?): "
		            "the table is of the others",
		            x->missing);
	return compare_model_complete(model) && !x->missing && !x->cancelled ? CTL_EXIT_OK
	                                                                     : CTL_EXIT_RUN_FAILED;
}

static int start(struct ctl *ctl, const char *scenario, cJSON **ret)
{
	_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;
	_cleanup_free_ char *buf = NULL;
	char *names[COMPARE_MODEL_MAX_ARMS];
	size_t n;
	int r = split_servers(ctl->servers, &buf, names, &n);

	if (r < 0)
		return r;
	r = client_start_compare(ctl->bus, scenario, names, n, ctl->sets, ctl->n_sets,
	                         &ctl->compare, ret, &e);
	if (r < 0)
		print_client_error(&e, r);
	return r;
}

int verb_compare(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_(inputs_done) struct inputs x = { .n = 0 };
	_cleanup_json_ cJSON *c = NULL, *done = NULL;
	int r;

	if (!looks_like_id(argv[1])) {
		if (argc > 2) {
			print_error("compare takes one SCENARIO, or RUN ids (got '%s')", argv[2]);
			return CTL_EXIT_USAGE;
		}
		if (start(ctl, argv[1], &c) < 0)
			return CTL_EXIT_ERROR;
		print_compare_started(c);
		r = follow(ctl, cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")), &done);
		if (r < 0)
			return CTL_EXIT_ERROR;
		inputs_from_compare(ctl, done, &x);
	} else if (argc == 2 && !ctl->started_options) {
		/* One id: a compare the daemon still knows, else a single run. */
		_cleanup_(client_error_done) struct client_error e = CLIENT_ERROR_NULL;

		r = client_get_compare(ctl->bus, argv[1], &c, &e);
		if (r >= 0 &&
		    strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "state")), "running") == 0)
			r = follow(ctl, argv[1], &done) < 0 ? -EINTR : 0;
		if (r == -EINTR)
			return CTL_EXIT_ERROR;
		if (r >= 0)
			inputs_from_compare(ctl, done ? done : c, &x);
		else if (r != -ENOENT) {
			print_client_error(&e, r);
			return CTL_EXIT_ERROR;
		} else if (inputs_from_runs(ctl, argc, argv, &x) < 0)
			return CTL_EXIT_ERROR;
	} else {
		if (ctl->started_options) {
			print_error("--servers, --repeat, --retry-noisy and --no-warmup apply to "
			            "compare SCENARIO, not to existing runs");
			return CTL_EXIT_USAGE;
		}
		if (inputs_from_runs(ctl, argc, argv, &x) < 0)
			return CTL_EXIT_ERROR;
	}
	if (x.n == 0) {
		print_error("no trial has a report to compare");
		return CTL_EXIT_RUN_FAILED;
	}
	return show(ctl, &x);
}
