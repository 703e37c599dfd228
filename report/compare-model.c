/* SPDX-License-Identifier: MIT */
/*
 * The comparison model (see compare-model.h): figures taken from each
 * report, summarized per arm and set against the baseline.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare-model.h"
#include "macro.h"
#include "report-read.h"
#include "stats.h"

/* A figure: what it is, and how to take it from one report. */
struct figure {
	const char *key, *label, *unit;
	enum stats_better better;
	bool count;  /* may be zero: compared as log(1 + x) */
	bool tested; /* given a verdict (issue: the figures that rank servers) */
	int (*get)(const cJSON *report, double *ret);
};

static int get_path(const cJSON *j, const char *path, double *ret)
{
	return report_get_number(j, path, ret);
}

static int get_rate(const cJSON *j, double *ret)
{
	return get_path(j, "throughput.receive_rate", ret);
}

static int get_p50(const cJSON *j, double *ret)
{
	return get_path(j, "latency.corrected.p50", ret);
}

static int get_p90(const cJSON *j, double *ret)
{
	return get_path(j, "latency.corrected.p90", ret);
}

static int get_p99(const cJSON *j, double *ret)
{
	return get_path(j, "latency.corrected.p99", ret);
}

static int get_p999(const cJSON *j, double *ret)
{
	return get_path(j, "latency.corrected.p99_9", ret);
}

static int get_max(const cJSON *j, double *ret)
{
	return get_path(j, "latency.corrected.max", ret);
}

/* Everything that went wrong: failed or dropped connections, messages not
 * sent, lost, corrupted, unexpected or mismatched. */
static int get_errors(const cJSON *j, double *ret)
{
	static const char *const paths[] = {
		"errors.connections.failed",  "errors.connections.dropped",
		"errors.messages.not_sent",   "errors.messages.lost",
		"errors.messages.corrupted",  "errors.messages.unexpected",
		"errors.messages.mismatched",
	};
	double sum = 0, v;
	bool any = false;

	for (size_t i = 0; i < ELEMENTSOF(paths); i++)
		if (get_path(j, paths[i], &v) == 0) {
			sum += v;
			any = true;
		}
	*ret = sum;
	return any ? 0 : -ENOENT;
}

static int get_server_cpu_mean(const cJSON *j, double *ret)
{
	return get_path(j, "resourceUsage.server_summary.cpu_percent_mean", ret);
}

static int get_server_cpu_max(const cJSON *j, double *ret)
{
	return get_path(j, "resourceUsage.server_summary.cpu_percent_max", ret);
}

static int get_rss_max(const cJSON *j, double *ret)
{
	int r = get_path(j, "resourceUsage.server_summary.rss_bytes_max", ret);

	*ret /= 1024.0 * 1024.0;
	return r;
}

/* Server CPU seconds over the run: the summary's own figure when the
 * report has one, else the samples' percentages times the interval. */
static int server_cpu_seconds(const cJSON *j, double *ret)
{
	const cJSON *samples = report_get(j, "resourceUsage.server"), *s;
	double interval_ms, sum = 0, v;

	if (get_path(j, "resourceUsage.server_summary.cpu_seconds", ret) == 0)
		return 0;
	if (get_path(j, "resourceUsage.interval_ms", &interval_ms) < 0 || !cJSON_IsArray(samples))
		return -ENOENT;
	cJSON_ArrayForEach(s, samples) if (get_path(s, "cpu_percent", &v) == 0) sum +=
	    v / 100.0 * interval_ms / 1000.0;
	*ret = sum;
	return 0;
}

static int get_server_us_per_echo(const cJSON *j, double *ret)
{
	double cpu, echoes;

	if (server_cpu_seconds(j, &cpu) < 0 ||
	    get_path(j, "throughput.messages_received", &echoes) < 0 || echoes <= 0 || cpu <= 0)
		return -ENOENT;
	*ret = cpu * 1e6 / echoes;
	return 0;
}

static int get_echoes_per_cpu_s(const cJSON *j, double *ret)
{
	int r = get_server_us_per_echo(j, ret);

	if (r == 0)
		*ret = 1e6 / *ret;
	return r;
}

static int get_client_us_per_echo(const cJSON *j, double *ret)
{
	return get_path(j, "client.cpu_us_per_message", ret);
}

/* What the server's memory grew by while the clients were connected, per
 * client (the first sample is taken before they connect). */
static int get_kib_per_connection(const cJSON *j, double *ret)
{
	double first, max, clients;

	if (get_path(j, "resourceUsage.server_summary.rss_bytes_max", &max) < 0 ||
	    get_path(j, "clientConfig.clients", &clients) < 0 || clients <= 0)
		return -ENOENT;
	if (get_path(j, "resourceUsage.server_summary.rss_bytes_first", &first) < 0) {
		const cJSON *s = report_get(j, "resourceUsage.server");

		if (!cJSON_IsArray(s) ||
		    get_path(cJSON_GetArrayItem(s, 0), "rss_bytes", &first) < 0)
			return -ENOENT;
	}
	*ret = MAX(max - first, 0.0) / clients / 1024.0;
	return 0;
}

static const struct figure figures[] = {
	{ "rate", "rate", "msg/s", STATS_HIGHER_IS_BETTER, false, true, get_rate },
	{ "p50", "p50", "ms", STATS_LOWER_IS_BETTER, false, true, get_p50 },
	{ "p90", "p90", "ms", STATS_LOWER_IS_BETTER, false, false, get_p90 },
	{ "p99", "p99", "ms", STATS_LOWER_IS_BETTER, false, true, get_p99 },
	{ "p99_9", "p99.9", "ms", STATS_LOWER_IS_BETTER, false, true, get_p999 },
	{ "max", "max", "ms", STATS_LOWER_IS_BETTER, false, false, get_max },
	{ "errors", "errors", "", STATS_LOWER_IS_BETTER, true, true, get_errors },
	{ "server_cpu_us_per_echo", "server CPU/echo", "µs", STATS_LOWER_IS_BETTER, false, true,
	  get_server_us_per_echo },
	{ "echoes_per_server_cpu_s", "echoes/server CPU-s", "", STATS_HIGHER_IS_BETTER, false,
	  false, get_echoes_per_cpu_s },
	{ "server_cpu_mean", "server CPU mean", "%", STATS_LOWER_IS_BETTER, false, false,
	  get_server_cpu_mean },
	{ "server_cpu_max", "server CPU max", "%", STATS_LOWER_IS_BETTER, false, false,
	  get_server_cpu_max },
	{ "rss_max", "server RSS max", "MiB", STATS_LOWER_IS_BETTER, false, false, get_rss_max },
	{ "kib_per_connection", "server RSS/connection", "KiB", STATS_LOWER_IS_BETTER, false, true,
	  get_kib_per_connection },
	{ "client_cpu_us_per_echo", "client CPU/echo", "µs", STATS_LOWER_IS_BETTER, false, true,
	  get_client_us_per_echo },
};

#define N_FIGURES ELEMENTSOF(figures)

/* ---- arms -------------------------------------------------------------------- */

int compare_model_arms(const cJSON *const *reports, size_t n, unsigned *arms, const char **names)
{
	const char *id0 = n ? report_get_string(reports[0], "metadata.compare.id") : NULL;
	bool one_compare = id0 != NULL;
	unsigned n_arms = 0;
	double a;

	for (size_t i = 0; i < n && one_compare; i++) {
		const char *id = report_get_string(reports[i], "metadata.compare.id");

		one_compare = id && strcmp(id, id0) == 0 &&
		              report_get_number(reports[i], "metadata.compare.arm", &a) == 0 &&
		              a >= 0 && a < COMPARE_MODEL_MAX_ARMS;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = report_get_string(reports[i], "metadata.server");
		unsigned k;

		if (!name)
			return -EINVAL;
		if (one_compare) {
			report_get_number(reports[i], "metadata.compare.arm", &a);
			arms[i] = (unsigned)a;
			for (; n_arms <= arms[i]; n_arms++)
				names[n_arms] = NULL;
			names[arms[i]] = name;
			continue;
		}
		for (k = 0; k < n_arms && strcmp(names[k], name) != 0; k++)
			;
		if (k == n_arms) {
			if (n_arms == COMPARE_MODEL_MAX_ARMS)
				return -EINVAL;
			names[n_arms++] = name;
		}
		arms[i] = k;
	}
	/* An arm none of the given reports is in (only some trials given). */
	for (unsigned k = 0; k < n_arms; k++)
		if (!names[k])
			names[k] = "?";
	return (int)n_arms;
}

/* ---- building ------------------------------------------------------------------ */

/* Why a report is not counted, or NULL. A trial that received nothing is
 * left out whole, with the reason, rather than only from the figures it
 * has no value for: that would flatter a failing server. */
static const char *excluded_why(const cJSON *report)
{
	const cJSON *warmup = report_get(report, "metadata.compare.warmup");
	const char *state = report_get_string(report, "metadata.state");
	double received;

	if (cJSON_IsTrue(warmup))
		return "warm-up";
	if (!state || strcmp(state, "finished") != 0)
		return state ? state : "no state";
	if (report_get_number(report, "throughput.messages_received", &received) == 0 &&
	    received <= 0)
		return "received nothing";
	return NULL;
}

/* Whether another of the @n reports is the retry of this noisy one. */
static const char *superseded_by(const struct compare_input *in, size_t n, const cJSON *report)
{
	const char *id = report_get_string(report, "metadata.id");

	for (size_t i = 0; id && i < n; i++) {
		const char *of = report_get_string(in[i].report, "metadata.compare.retry_of");

		if (of && strcmp(of, id) == 0)
			return report_get_string(in[i].report, "metadata.id");
	}
	return NULL;
}

/* The values of each figure over the counted trials of one arm. */
struct arm_values {
	double *v[N_FIGURES];
	size_t n[N_FIGURES];
};

static cJSON *figures_json(void)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t f = 0; f < N_FIGURES; f++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "key", figures[f].key);
		cJSON_AddStringToObject(o, "label", figures[f].label);
		cJSON_AddStringToObject(o, "unit", figures[f].unit);
		cJSON_AddStringToObject(
		    o, "better", figures[f].better == STATS_HIGHER_IS_BETTER ? "higher" : "lower");
		cJSON_AddBoolToObject(o, "tested", figures[f].tested);
		/* Compared as log(1 + x): its ratio is that of 1 + x. */
		cJSON_AddBoolToObject(o, "count", figures[f].count);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *summary_json(const struct figure *f, const double *v, size_t n)
{
	struct stats_summary s;
	cJSON *o;

	if (n == 0 || stats_summarize(v, n, f->count, &s) < 0)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "median", s.median);
	cJSON_AddNumberToObject(o, "ci_low", s.ci_low);
	cJSON_AddNumberToObject(o, "ci_high", s.ci_high);
	cJSON_AddNumberToObject(o, "min", s.min);
	cJSON_AddNumberToObject(o, "max", s.max);
	cJSON_AddItemToObject(o, "values", cJSON_CreateDoubleArray(v, (int)n));
	return o;
}

/* Each figure of @b against the baseline @a, the tested ones decided
 * together. */
static cJSON *vs_baseline_json(const struct arm_values *a, const struct arm_values *b)
{
	struct stats_ratio r[N_FIGURES];
	enum stats_better better[N_FIGURES];
	size_t idx[N_FIGURES] = { 0 }, m = 0;
	bool have[N_FIGURES];
	cJSON *o = cJSON_CreateObject();

	for (size_t f = 0; f < N_FIGURES; f++) {
		have[f] =
		    a->n[f] && b->n[f] &&
		    stats_compare(a->v[f], a->n[f], b->v[f], b->n[f], figures[f].count, &r[m]) == 0;
		if (!have[f])
			continue;
		better[m] = figures[f].better;
		idx[f] = m++;
	}
	/* Decide on the tested figures only: the family Holm corrects over. */
	{
		struct stats_ratio t[N_FIGURES];
		enum stats_better tb[N_FIGURES];
		size_t nt = 0;

		for (size_t f = 0; f < N_FIGURES; f++)
			if (have[f] && figures[f].tested) {
				t[nt] = r[idx[f]];
				tb[nt++] = better[idx[f]];
			}
		stats_decide(t, tb, nt, 0.05);
		nt = 0;
		for (size_t f = 0; f < N_FIGURES; f++)
			if (have[f] && figures[f].tested)
				r[idx[f]] = t[nt++];
	}
	for (size_t f = 0; f < N_FIGURES; f++) {
		const struct stats_ratio *x;
		cJSON *e;

		if (!have[f]) {
			cJSON_AddNullToObject(o, figures[f].key);
			continue;
		}
		x = &r[idx[f]];
		e = cJSON_AddObjectToObject(o, figures[f].key);
		cJSON_AddNumberToObject(e, "ratio", x->ratio);
		cJSON_AddNumberToObject(e, "ci_low", x->ci_low);
		cJSON_AddNumberToObject(e, "ci_high", x->ci_high);
		cJSON_AddNumberToObject(e, "p_value", x->p_value);
		if (figures[f].tested)
			cJSON_AddStringToObject(e, "verdict", stats_verdict_to_string(x->verdict));
	}
	return o;
}

static int collect(const struct compare_input *in, size_t n, unsigned arm, struct arm_values *av,
                   cJSON *server)
{
	cJSON *runs = cJSON_AddArrayToObject(server, "runs");
	cJSON *excluded = cJSON_AddArrayToObject(server, "excluded");
	unsigned trials = 0, limited = 0, noisy = 0;

	for (size_t f = 0; f < N_FIGURES; f++) {
		av->v[f] = calloc(n ? n : 1, sizeof(double));
		if (!av->v[f])
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const cJSON *j = in[i].report;
		const char *id = report_get_string(j, "metadata.id"), *why;
		const char *noise = report_get_string(j, "noise.verdict");

		if (in[i].arm != arm)
			continue;
		why = superseded_by(in, n, j) ? "noisy, run again" : excluded_why(j);
		if (why) {
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "id", id ? id : "?");
			cJSON_AddStringToObject(x, "why", why);
			cJSON_AddItemToArray(excluded, x);
			continue;
		}
		cJSON_AddItemToArray(runs, cJSON_CreateString(id ? id : "?"));
		trials++;
		limited += cJSON_IsTrue(report_get(j, "client.client_limited"));
		noisy += noise && strcmp(noise, "noisy") == 0;
		for (size_t f = 0; f < N_FIGURES; f++) {
			double v;

			if (figures[f].get(j, &v) == 0 && isfinite(v) && v >= 0 &&
			    (v > 0 || figures[f].count))
				av->v[f][av->n[f]++] = v;
		}
	}
	cJSON_AddNumberToObject(server, "trials", trials);
	cJSON_AddNumberToObject(server, "client_limited", limited);
	cJSON_AddNumberToObject(server, "noisy", noisy);
	return 0;
}

static void arm_values_free(struct arm_values *av)
{
	for (size_t f = 0; f < N_FIGURES; f++)
		free(av->v[f]);
}

int compare_model_build(const struct compare_input *in, size_t n, const char *const *arm_names,
                        unsigned n_arms, cJSON **ret)
{
	struct arm_values av[COMPARE_MODEL_MAX_ARMS] = { 0 };
	const char *compare_id = n ? report_get_string(in[0].report, "metadata.compare.id") : NULL;
	const char *scenario = n ? report_get_string(in[0].report, "metadata.scenario") : NULL;
	cJSON *model, *servers;
	int r = 0;

	if (n_arms < 1 || n_arms > COMPARE_MODEL_MAX_ARMS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (in[i].arm >= n_arms)
			return -EINVAL;
	model = cJSON_CreateObject();
	cJSON_AddStringToObject(model, "scenario", scenario ? scenario : "");
	if (compare_id)
		cJSON_AddStringToObject(model, "compare_id", compare_id);
	else
		cJSON_AddNullToObject(model, "compare_id");
	cJSON_AddStringToObject(model, "method", STATS_METHOD);
	cJSON_AddStringToObject(model, "baseline", arm_names[0]);
	cJSON_AddItemToObject(model, "figures", figures_json());
	servers = cJSON_AddArrayToObject(model, "servers");
	for (unsigned a = 0; a < n_arms && r == 0; a++) {
		cJSON *s = cJSON_CreateObject(), *fig;

		cJSON_AddItemToArray(servers, s);
		cJSON_AddStringToObject(s, "name", arm_names[a]);
		cJSON_AddNumberToObject(s, "arm", a);
		r = collect(in, n, a, &av[a], s);
		if (r < 0)
			break;
		fig = cJSON_AddObjectToObject(s, "figures");
		for (size_t f = 0; f < N_FIGURES; f++)
			cJSON_AddItemToObject(fig, figures[f].key,
			                      summary_json(&figures[f], av[a].v[f], av[a].n[f]));
		if (a > 0)
			cJSON_AddItemToObject(s, "vs_baseline", vs_baseline_json(&av[0], &av[a]));
	}
	for (unsigned a = 0; a < n_arms; a++)
		arm_values_free(&av[a]);
	if (r < 0) {
		cJSON_Delete(model);
		return r;
	}
	*ret = model;
	return 0;
}

/* ---- queries ------------------------------------------------------------------ */

bool compare_model_counted(const cJSON *report)
{
	return excluded_why(report) == NULL;
}

int compare_model_value(const cJSON *report, const char *key, double *ret)
{
	for (size_t f = 0; f < N_FIGURES; f++)
		if (strcmp(figures[f].key, key) == 0)
			return figures[f].get(report, ret);
	return -ENOENT;
}

double compare_model_median(const cJSON *model, unsigned arm, const char *key)
{
	const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(model, "servers"), (int)arm);
	const cJSON *m = cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(s, "figures"), key), "median");

	return cJSON_IsNumber(m) ? m->valuedouble : NAN;
}

bool compare_model_complete(const cJSON *model)
{
	const cJSON *s, *x;

	cJSON_ArrayForEach(s, cJSON_GetObjectItem(model, "servers"))
	{
		if (cJSON_GetNumberValue(cJSON_GetObjectItem(s, "trials")) < 1)
			return false;
		cJSON_ArrayForEach(x, cJSON_GetObjectItem(s, "excluded"))
		{
			const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(x, "why"));

			if (strcmp(why, "warm-up") != 0 && strcmp(why, "noisy, run again") != 0)
				return false;
		}
	}
	return true;
}

int compare_model_best(const cJSON *model, const cJSON *figure)
{
	const cJSON *better = cJSON_GetObjectItem(figure, "better");
	const char *key = cJSON_GetStringValue(cJSON_GetObjectItem(figure, "key"));
	bool higher = cJSON_IsString(better) && strcmp(better->valuestring, "higher") == 0;
	bool tie = false;
	int best = -1, have = 0;
	double best_v = 0;

	if (!key)
		return -1;
	for (int i = 0; i < cJSON_GetArraySize(cJSON_GetObjectItem(model, "servers")); i++) {
		double v = compare_model_median(model, (unsigned)i, key);

		if (isnan(v))
			continue;
		have++;
		if (best < 0 || (higher ? v > best_v : v < best_v)) {
			best = i;
			best_v = v;
			tie = false;
		} else if (v == best_v) {
			tie = true;
		}
	}
	return have >= 2 && !tie ? best : -1;
}
