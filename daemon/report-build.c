/* SPDX-License-Identifier: MIT */
/*
 * Building a run's report (see report-build.h): wsbench-load's result
 * (throughput, latency, errors, client, timeline, histogram) with the
 * daemon's own sections around it: metadata (with the machine and the
 * software), clientConfig, serverConfig, resourceUsage (the server's and
 * the client's CPU and RSS over time) and noise (how quiet the machine was).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "load-protocol.h"
#include "machine.h"
#include "macro.h"
#include "noise.h"
#include "remote-load.h"
#include "report-build.h"
#include "report-html.h"
#include "run.h"
#include "wsbench-config.h"

/* ---- composing ------------------------------------------------------------ */

static cJSON *samples_json(const struct sample_series *s)
{
	cJSON *a = cJSON_CreateArray();
	char ts[40];

	for (size_t i = 0; i < s->n; i++) {
		cJSON *o = cJSON_CreateObject();

		format_iso8601(s->v[i].wall_ns, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "timestamp", ts);
		cJSON_AddNumberToObject(o, "cpu_percent", s->v[i].cpu_percent);
		cJSON_AddNumberToObject(o, "rss_bytes", (double)s->v[i].rss_bytes);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *series_summary(const struct sample_series *s)
{
	cJSON *o = cJSON_CreateObject();
	double cpu_sum = 0, cpu_max = 0;
	uint64_t rss_max = 0;
	size_t n = 0;

	for (size_t i = 1; i < s->n; i++, n++) { /* the first sample has no CPU delta */
		cpu_sum += s->v[i].cpu_percent;
		cpu_max = MAX(cpu_max, s->v[i].cpu_percent);
	}
	for (size_t i = 0; i < s->n; i++)
		rss_max = MAX(rss_max, s->v[i].rss_bytes);
	cJSON_AddNumberToObject(o, "samples", (double)s->n);
	cJSON_AddNumberToObject(o, "cpu_percent_mean", n ? cpu_sum / (double)n : 0);
	cJSON_AddNumberToObject(o, "cpu_percent_max", cpu_max);
	cJSON_AddNumberToObject(o, "rss_bytes_max", (double)rss_max);
	/* From the cumulative counters, not the rounded percentages: what
	 * CPU per echo and memory per connection are computed from. */
	{
		/* From the server ready (have_base), else from the first sample. */
		uint64_t cpu0 = s->have_base ? s->base_cpu_ns : s->n ? s->v[0].cpu_ns : 0;
		uint64_t rss0 = s->have_base ? s->base_rss_bytes : s->n ? s->v[0].rss_bytes : 0;

		cJSON_AddNumberToObject(o, "cpu_seconds",
		                        s->n && s->v[s->n - 1].cpu_ns > cpu0
		                            ? (double)(s->v[s->n - 1].cpu_ns - cpu0) / 1e9
		                            : 0);
		cJSON_AddNumberToObject(o, "rss_bytes_first", (double)rss0);
		cJSON_AddBoolToObject(o, "from_ready", s->have_base);
	}
	return o;
}

static cJSON *machine_json(void)
{
	struct machine_info info;
	cJSON *o = cJSON_CreateObject();

	machine_get(&info);
	cJSON_AddStringToObject(o, "kernel", info.kernel);
	cJSON_AddStringToObject(o, "cpu_model", info.cpu_model);
	cJSON_AddNumberToObject(o, "cpus", info.cpus);
	cJSON_AddStringToObject(o, "governor", info.governor);
	return o;
}

static cJSON *metadata_json(const struct run *r)
{
	cJSON *m = cJSON_CreateObject(), *by;
	char ts[40], host[256] = "";

	cJSON_AddStringToObject(m, "id", r->id);
	cJSON_AddStringToObject(m, "scenario", r->scenario.name);
	cJSON_AddStringToObject(m, "server", r->server->name);
	cJSON_AddStringToObject(m, "language", r->server->language);
	cJSON_AddStringToObject(m, "state", run_state_to_string(r->state));
	if (r->failure)
		cJSON_AddStringToObject(m, "failure_reason", r->failure);
	format_iso8601(r->start_wall_ns, ts, sizeof(ts));
	cJSON_AddStringToObject(m, "start", ts);
	format_iso8601(r->end_wall_ns, ts, sizeof(ts));
	cJSON_AddStringToObject(m, "end", ts);
	cJSON_AddNumberToObject(m, "duration_s", (double)(r->end_wall_ns - r->start_wall_ns) / 1e9);
	gethostname(host, sizeof(host) - 1);
	cJSON_AddStringToObject(m, "host", host);
	cJSON_AddStringToObject(m, "wsbench_version", WSBENCH_VERSION);
	cJSON_AddStringToObject(m, "git_revision", machine_git_revision());
	cJSON_AddStringToObject(m, "lws_version", machine_lws_version());
	cJSON_AddItemToObject(m, "machine", machine_json());
	cJSON_AddStringToObject(m, "config_file", r->config->path);
	if (r->overrides[0])
		cJSON_AddStringToObject(m, "overrides", r->overrides);
	by = cJSON_AddObjectToObject(m, "requested_by");
	cJSON_AddStringToObject(by, "user", r->owner);
	cJSON_AddNumberToObject(by, "uid", r->owner_uid);
	if (r->compare_id) {
		cJSON *c = cJSON_AddObjectToObject(m, "compare");

		cJSON_AddStringToObject(c, "id", r->compare_id);
		cJSON_AddNumberToObject(c, "arm", r->compare_arm);
		cJSON_AddNumberToObject(c, "trial", r->compare_trial);
		cJSON_AddBoolToObject(c, "warmup", r->compare_trial == 0);
		/* The noisy trial this one runs again: it no longer counts. */
		if (r->compare_retry_of)
			cJSON_AddStringToObject(c, "retry_of", r->compare_retry_of);
	}
	return m;
}

/* The URL, then every setting that applies (scenario.c's table). */
static cJSON *client_config_json(const struct run *r)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "url", r->url ? r->url : "");
	if (r->remote) {
		char agents[2048];

		agent_list_format(r->scenario.agents.n ? &r->scenario.agents
		                                       : &r->config->daemon.agents,
		                  agents, sizeof(agents));
		cJSON_AddStringToObject(c, "agents", agents);
	}
	for (size_t i = 0; i < scenario_n_fields; i++) {
		struct scenario_value v;
		const char *key;

		if (!scenario_get(&r->scenario, i, &v))
			continue;
		key = v.field->report_key;
		if (v.field->type == SCENARIO_UINT)
			cJSON_AddNumberToObject(c, key, v.u);
		else if (v.field->type == SCENARIO_DOUBLE)
			cJSON_AddNumberToObject(c, key, v.d);
		else if (v.field->type == SCENARIO_BOOL)
			cJSON_AddBoolToObject(c, key, v.b);
		else
			cJSON_AddStringToObject(c, key, v.choice);
	}
	return c;
}

static cJSON *server_config_json(const struct run *r)
{
	const struct server_config *s = r->server;
	cJSON *c = cJSON_CreateObject();
	_cleanup_free_ char *toolchain = machine_server_toolchain(s);

	cJSON_AddStringToObject(c, "name", s->name);
	cJSON_AddStringToObject(c, "language", s->language);
	cJSON_AddStringToObject(c, "kind", server_kind_to_string(s->kind));
	/* null: not known (a server given by URL, a command of unknown make) */
	cJSON_AddItemToObject(c, "toolchain",
	                      toolchain ? cJSON_CreateString(toolchain) : cJSON_CreateNull());
	if (s->kind == SERVER_URL) {
		cJSON_AddStringToObject(c, "url", s->url);
		cJSON_AddBoolToObject(c, "sampled", false);
		return c;
	}
	cJSON_AddNumberToObject(c, "port", s->port);
	if (s->kind == SERVER_BUILTIN)
		cJSON_AddNumberToObject(c, "threads", s->threads);
	else {
		cJSON *cmd = cJSON_AddArrayToObject(c, "command");

		for (char **a = s->command; *a; a++)
			cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
	}
	cJSON_AddBoolToObject(c, "sampled", true);
	return c;
}

/* A figure, or null when there is none (NAN). */
static void add_figure(cJSON *o, const char *key, double v)
{
	cJSON_AddItemToObject(o, key, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

/* How quiet the machine was: the verdict, its reasons, the means against
 * the thresholds, and the series (noise.h). */
static cJSON *noise_json(const struct run *r)
{
	const struct noise_thresholds *th = &r->config->daemon.noise;
	const struct noise_tracker *t = &r->noise;
	struct noise_summary sum;
	cJSON *o = cJSON_CreateObject(), *reasons, *thr, *series;
	char ts[40];

	noise_summarize(t, th, &sum);
	cJSON_AddStringToObject(o, "verdict", sum.verdict);
	reasons = cJSON_AddArrayToObject(o, "reasons");
	for (size_t i = 0; i < sum.n_reasons; i++)
		cJSON_AddItemToArray(reasons, cJSON_CreateString(sum.reasons[i]));
	add_figure(o, "other_cpu_percent_mean", sum.other_cpu_percent_mean);
	add_figure(o, "other_cpu_percent_max", sum.other_cpu_percent_max);
	add_figure(o, "steal_percent_mean", sum.steal_percent_mean);
	add_figure(o, "freq_change_percent", sum.freq_change_percent);
	if (t->have_freq) {
		cJSON_AddNumberToObject(o, "freq_min_mhz", t->freq_min_khz / 1000);
		cJSON_AddNumberToObject(o, "freq_max_mhz", t->freq_max_khz / 1000);
	}
	cJSON_AddNumberToObject(o, "intervals", (double)sum.intervals);
	cJSON_AddNumberToObject(o, "skipped_intervals", (double)t->skipped);
	thr = cJSON_AddObjectToObject(o, "thresholds");
	cJSON_AddNumberToObject(thr, "other_cpu_percent", th->other_cpu_percent);
	cJSON_AddNumberToObject(thr, "steal_percent", th->steal_percent);
	cJSON_AddNumberToObject(thr, "freq_change_percent", th->freq_change_percent);
	series = cJSON_AddArrayToObject(o, "series");
	for (size_t i = 0; i < t->n; i++) {
		cJSON *e = cJSON_CreateObject();

		format_iso8601(t->v[i].wall_ns, ts, sizeof(ts));
		cJSON_AddStringToObject(e, "timestamp", ts);
		cJSON_AddNumberToObject(e, "other_cpu_percent", t->v[i].other_cpu_percent);
		cJSON_AddNumberToObject(e, "steal_percent", t->v[i].steal_percent);
		if (isfinite(t->v[i].freq_khz))
			cJSON_AddNumberToObject(e, "freq_mhz", t->v[i].freq_khz / 1000);
		cJSON_AddItemToArray(series, e);
	}
	return o;
}

static void copy_section(cJSON *to, const cJSON *from, const char *name)
{
	const cJSON *item = cJSON_GetObjectItem(from, name);

	cJSON_AddItemToObject(to, name, item ? cJSON_Duplicate(item, true) : cJSON_CreateNull());
}

/*
 * wsbench-load died before printing its result (killed, crashed): the report
 * keeps what its progress lines said each second, the counts so far and the
 * per-second timeline, marked partial. Latency percentiles and histograms
 * exist only in the result and stay null.
 */
static void add_partial_result(cJSON *root, const struct run *r)
{
	cJSON *errors = cJSON_GetObjectItem(root, LOAD_RESULT_ERRORS), *m;

	if (!cJSON_IsObject(errors)) {
		cJSON_DeleteItemFromObject(root, LOAD_RESULT_ERRORS);
		errors = cJSON_AddObjectToObject(root, LOAD_RESULT_ERRORS);
	}
	if (!errors)
		return;
	cJSON_AddStringToObject(errors, "partial",
	                        "wsbench-load printed no result: counts and timeline are from its "
	                        "progress lines, up to its last one");
	m = cJSON_AddObjectToObject(errors, "messages");
	if (m) {
		cJSON_AddNumberToObject(m, LOAD_KEY_SENT, (double)r->sent);
		cJSON_AddNumberToObject(m, LOAD_KEY_RECEIVED, (double)r->received);
		cJSON_AddNumberToObject(m, LOAD_KEY_ERRORS, (double)r->errors);
	}
	cJSON_AddNumberToObject(errors, "connected", r->connected);
	if (r->failure && !cJSON_GetObjectItem(errors, "run_failure"))
		cJSON_AddStringToObject(errors, "run_failure", r->failure);
}

char *report_build(const struct run *r)
{
	cJSON *root = cJSON_CreateObject(), *usage, *errors;
	char *text;

	cJSON_AddItemToObject(root, "metadata", metadata_json(r));
	cJSON_AddItemToObject(root, "clientConfig", client_config_json(r));
	cJSON_AddItemToObject(root, "serverConfig", server_config_json(r));
	copy_section(root, r->result, LOAD_RESULT_THROUGHPUT);
	copy_section(root, r->result, LOAD_RESULT_LATENCY);
	copy_section(root, r->result, LOAD_RESULT_ERRORS);
	errors = cJSON_GetObjectItem(root, LOAD_RESULT_ERRORS);
	if (cJSON_IsObject(errors) && r->failure)
		cJSON_AddStringToObject(errors, "run_failure", r->failure);
	usage = cJSON_AddObjectToObject(root, "resourceUsage");
	cJSON_AddNumberToObject(usage, "interval_ms", r->config->daemon.sample_interval_ms);
	cJSON_AddItemToObject(usage, "server", samples_json(&r->server_samples));
	cJSON_AddItemToObject(usage, "server_summary", series_summary(&r->server_samples));
	cJSON_AddItemToObject(usage, "client", samples_json(&r->client_samples));
	cJSON_AddItemToObject(usage, "client_summary", series_summary(&r->client_samples));
	cJSON_AddItemToObject(root, "noise", noise_json(r));
	copy_section(root, r->result, LOAD_RESULT_CLIENT);
	/* A wss:// run's TLS (version, cipher, verification, handshakes) and
	 * what the server accepted of permessage-deflate, when there were any. */
	copy_section(root, r->result, "tls");
	copy_section(root, r->result, "deflate");
	/* A distributed run: each agent's part, its clock and its own figures
	 * beside the merged ones (remote-load.h). */
	if (r->remote)
		cJSON_AddItemToObject(root, "agents", remote_load_agents_json(r->remote));
	if (!r->result && r->progress_timeline) {
		add_partial_result(root, r);
		cJSON_AddItemToObject(root, LOAD_RESULT_TIMELINE,
		                      cJSON_Duplicate(r->progress_timeline, true));
	} else {
		copy_section(root, r->result, LOAD_RESULT_TIMELINE);
	}
	copy_section(root, r->result, LOAD_RESULT_HISTOGRAM);
	text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

int report_build_page(const char *report, char **ret)
{
	cJSON *j = cJSON_Parse(report);
	const cJSON *reports[1] = { j };
	int r;

	if (!j)
		return -EINVAL;
	r = report_html_render(reports, 1, ret, NULL);
	cJSON_Delete(j);
	return r;
}
