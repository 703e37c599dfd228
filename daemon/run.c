/* SPDX-License-Identifier: MIT */
/*
 * The run state machine (see run.h). Everything happens in sd-event
 * callbacks on the daemon's one thread: child output lines, child exits, the
 * readiness and sampling timers. No per-message work happens here; the load
 * generator aggregates and reports once a second.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "load-protocol.h"
#include "log.h"
#include "macro.h"
#include "noise.h"
#include "procstat.h"
#include "progress.h"
#include "remote-load.h"
#include "run.h"
#include "wsbench-dbus.h"

#define STOP_GRACE_USEC     (5 * 1000000ULL)
#define PROBE_INTERVAL_USEC (100 * 1000ULL)

static const char *const state_names[] = {
	[RUN_QUEUED] = WSBENCH_STATE_QUEUED,         [RUN_STARTING] = WSBENCH_STATE_STARTING,
	[RUN_CONNECTING] = WSBENCH_STATE_CONNECTING, [RUN_RUNNING] = WSBENCH_STATE_RUNNING,
	[RUN_DRAINING] = WSBENCH_STATE_DRAINING,     [RUN_STOPPING] = WSBENCH_STATE_STOPPING,
	[RUN_FINISHED] = WSBENCH_STATE_FINISHED,     [RUN_FAILED] = WSBENCH_STATE_FAILED,
	[RUN_CANCELLED] = WSBENCH_STATE_CANCELLED,
};

const char *run_state_to_string(enum run_state s)
{
	return s <= RUN_CANCELLED ? state_names[s] : "unknown";
}

static void set_state(struct run *r, enum run_state s)
{
	if (r->state == s)
		return;
	log_info("run %s: %s -> %s", r->id, run_state_to_string(r->state), run_state_to_string(s));
	r->state = s;
	if (!run_is_final(r)) /* the end is announced by ops->finished */
		r->ops->changed(r, r->userdata);
}

/* Cancelled or failed: nothing may start any more (a late READY line, a
 * probe that connects), and the state says so until the children are gone. */
static bool stopping(const struct run *r)
{
	return r->cancel_requested || r->failure;
}

static void begin_stopping(struct run *r)
{
	if (r->state >= RUN_STARTING && r->state < RUN_STOPPING)
		set_state(r, RUN_STOPPING);
}

_printf_(2, 3) static void fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (r->failure)
		return; /* the first reason is the real one */
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	r->failure = msg ? msg : strdup("failed");
	log_warning("run %s: %s", r->id, msg ? msg : "failed");
	begin_stopping(r);
}

int run_new(const struct run_env *env, const struct run_request *req, const struct run_ops *ops,
            void *userdata, struct run **ret)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r) {
		server_config_free(req->own_server); /* ours either way */
		return -ENOMEM;
	}
	r->env = *env;
	r->ops = ops;
	r->userdata = userdata;
	r->config = config_ref(req->config);
	r->server = req->own_server ? req->own_server : req->server;
	r->own_server = req->own_server;
	r->start_at_ns = req->start_at_ns;
	r->state = RUN_QUEUED;
	r->id = strdup(req->id);
	r->overrides = strdup(req->overrides ? req->overrides : "");
	r->owner_uid = req->owner_uid;
	r->owner = strdup(req->owner);
	if (!r->id || !r->overrides || !r->owner ||
	    scenario_copy(&r->scenario, req->scenario) < 0) {
		run_free(r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

/* What only a run in progress needs: its children (and with them their
 * pipes and pidfds), the samples and the load generator's result, both
 * already in the report. The Run object keeps its final figures. */
static void release_resources(struct run *r)
{
	r->release_source = sd_event_source_disable_unref(r->release_source);
	r->server_child = child_free(r->server_child);
	r->load_child = child_free(r->load_child);
	r->remote = remote_load_free(r->remote);
	noise_scan_clear(&r->scan_prev);
	noise_scan_clear(&r->scan_now);
	r->start_timer = sd_event_source_disable_unref(r->start_timer);
	cJSON_Delete(r->result);
	r->result = NULL;
	cJSON_Delete(r->progress_timeline);
	r->progress_timeline = NULL;
	free(r->server_samples.v);
	free(r->client_samples.v);
	r->server_samples = (struct sample_series){ 0 };
	r->client_samples = (struct sample_series){ 0 };
	noise_tracker_clear(&r->noise);
}

struct run *run_free(struct run *r)
{
	if (!r)
		return NULL;
	release_resources(r);
	sd_event_source_disable_unref(r->sample_timer);
	sd_event_source_disable_unref(r->ready_timer);
	sd_event_source_disable_unref(r->probe_timer);
	scenario_free(&r->scenario);
	config_unref(r->config);
	free(r->id);
	free(r->overrides);
	free(r->owner);
	free(r->failure);
	free(r->url);
	free(r->report_path);
	free(r->compare_id);
	free(r->compare_retry_of);
	free(r->noise_reason);
	server_config_free(r->own_server);
	free(r);
	return NULL;
}

/* ---- finishing --------------------------------------------------------- */

void run_report_failed(struct run *r, const char *dir, int error)
{
	if (r->failure) {
		log_error_errno(error, "run %s: cannot write the report to %s", r->id, dir);
		return;
	}
	fail(r, "cannot write the report to %s: %s", dir, strerror(-error));
	/* A cancelled run stays cancelled, with the reason recorded; a result
	 * nobody can read is no result. */
	if (r->state == RUN_FINISHED)
		set_state(r, RUN_FAILED);
}

static int on_release(sd_event_source *s, void *userdata)
{
	release_resources(userdata);
	return 0;
}

/* Deferred to the next loop iteration: finalize() can run inside a child's
 * own callback (its exit, or a line it printed), where that child must not
 * be freed yet. */
static void release_later(struct run *r)
{
	int k = sd_event_add_defer(r->env.event, &r->release_source, on_release, r);

	if (k >= 0)
		k = sd_event_source_set_enabled(r->release_source, SD_EVENT_ONESHOT);
	if (k < 0) {
		/* Kept until the daemon exits; one run's worth, logged. */
		r->release_source = sd_event_source_disable_unref(r->release_source);
		log_error_errno(k, "run %s: cannot schedule the release of its processes", r->id);
	}
}

/* The noise verdict (noise.h), before the end is announced: the observer
 * (a compare) may run a noisy trial again. */
static void judge_noise(struct run *r)
{
	struct noise_summary sum;
	_cleanup_free_ char *reason = NULL;

	noise_summarize(&r->noise, &r->config->daemon.noise, &sum);
	r->noisy = sum.noisy;
	free(r->noise_reason);
	r->noise_reason = NULL;
	if (!sum.noisy)
		return;
	for (size_t i = 0; i < sum.n_reasons; i++) {
		char *joined;

		if (asprintf(&joined, "%s%s%s", reason ? reason : "", reason ? "; " : "",
		             sum.reasons[i]) < 0)
			break;
		free(reason);
		reason = joined;
	}
	r->noise_reason = TAKE_PTR(reason);
	log_info("run %s: noisy: %s", r->id, r->noise_reason ? r->noise_reason : "?");
}

static void finalize(struct run *r)
{
	enum run_state final;

	if (run_is_final(r))
		return;
	r->end_wall_ns = wall_ns();
	r->sample_timer = sd_event_source_disable_unref(r->sample_timer);
	r->ready_timer = sd_event_source_disable_unref(r->ready_timer);
	r->probe_timer = sd_event_source_disable_unref(r->probe_timer);
	r->start_timer = sd_event_source_disable_unref(r->start_timer);
	if (r->failure)
		final = RUN_FAILED;
	else if (r->cancel_requested)
		final = RUN_CANCELLED;
	else
		final = RUN_FINISHED;
	set_state(r, final);
	if (run_was_started(r))
		judge_noise(r);
	release_later(r);
	r->ops->finished(r, r->userdata);
}

/* The load, local or on agents, still going. */
static bool load_running(const struct run *r)
{
	return child_running(r->load_child) || remote_load_running(r->remote);
}

/* Stops the load; it reports what it measured (a local wsbench-load prints
 * a partial result on SIGTERM; agents' parts are cancelled and merged). */
static void stop_load(struct run *r)
{
	r->start_timer = sd_event_source_disable_unref(r->start_timer);
	if (child_running(r->load_child))
		child_stop(r->load_child, STOP_GRACE_USEC);
	if (remote_load_running(r->remote))
		remote_load_cancel(r->remote);
}

/* Both children gone (or never started): the run is over. */
static void maybe_finalize(struct run *r)
{
	if (load_running(r) || child_running(r->server_child))
		return;
	finalize(r);
}

static void stop_server(struct run *r)
{
	if (child_running(r->server_child))
		child_stop(r->server_child, STOP_GRACE_USEC);
	else
		maybe_finalize(r);
}

static int exit_code(const siginfo_t *si)
{
	return si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
}

/* ---- the load generator ------------------------------------------------- */

/* One timeline entry from a progress line, in the result's form (counts
 * of that second), kept in case no result ever comes. */
static void timeline_add(struct run *r, const struct load_progress *p)
{
	cJSON *e;

	if (!r->progress_timeline)
		r->progress_timeline = cJSON_CreateArray();
	e = cJSON_CreateObject();
	if (!r->progress_timeline || !e) {
		cJSON_Delete(e);
		return;
	}
	cJSON_AddNumberToObject(e, "t", p->elapsed_s);
	cJSON_AddNumberToObject(e, LOAD_KEY_SENT, (double)(p->sent - MIN(p->sent, r->sent)));
	cJSON_AddNumberToObject(e, LOAD_KEY_RECEIVED,
	                        (double)(p->received - MIN(p->received, r->received)));
	cJSON_AddNumberToObject(e, LOAD_KEY_P99, p->p99_ms);
	cJSON_AddNumberToObject(e, LOAD_KEY_CONNECTED, p->connected);
	cJSON_AddItemToArray(r->progress_timeline, e);
}

static void on_progress(struct run *r, cJSON *j)
{
	struct load_progress p;
	const char *phase;

	load_progress_read(j, &p);
	timeline_add(r, &p);
	phase = p.phase;
	r->elapsed = p.elapsed_s;
	r->progress = p.total_s > 0 ? MIN(1.0, p.elapsed_s / p.total_s) : 0;
	r->connected = p.connected;
	r->sent = p.sent;
	r->received = p.received;
	r->rate = p.rate;
	r->p99_ms = p.p99_ms;
	r->errors = p.errors;
	/* The phase is the state, but for the warm-up: running, unmeasured. */
	if (phase && !stopping(r)) {
		if (strcmp(phase, LOAD_PHASE_CONNECTING) == 0)
			set_state(r, RUN_CONNECTING);
		else if (strcmp(phase, LOAD_PHASE_DRAINING) == 0)
			set_state(r, RUN_DRAINING);
		else
			set_state(r, RUN_RUNNING);
	}
	r->ops->changed(r, r->userdata);
}

static void load_line(struct child *c, bool is_stderr, const char *line, void *userdata)
{
	struct run *r = userdata;
	cJSON *j, *result;
	const char *type;

	if (is_stderr) {
		log_info("run %s: wsbench-load: %s", r->id, line);
		return;
	}
	j = cJSON_Parse(line);
	type = cJSON_GetStringValue(cJSON_GetObjectItem(j, LOAD_KEY_TYPE));
	if (!type) {
		log_warning("run %s: unexpected line from wsbench-load (%zu bytes): %.200s", r->id,
		            strlen(line), line);
	} else if (strcmp(type, LOAD_LINE_PROGRESS) == 0) {
		on_progress(r, j);
	} else if (strcmp(type, LOAD_LINE_RESULT) == 0) {
		result = cJSON_DetachItemFromObject(j, LOAD_KEY_RESULT);
		cJSON_Delete(r->result);
		r->result = result;
	}
	cJSON_Delete(j);
}

static void load_exited(struct child *c, const siginfo_t *si, void *userdata)
{
	struct run *r = userdata;

	r->load_exit = exit_code(si);
	r->load_done = true;
	/* Errors are counted in the report; an interruption is ours (a
	 * cancel, or the server failed) and its result covers the run so far. */
	if (r->load_exit != LOAD_EXIT_OK && r->load_exit != LOAD_EXIT_ERRORS &&
	    !(r->load_exit == LOAD_EXIT_INTERRUPTED && (r->cancel_requested || r->failure)))
		fail(r, "wsbench-load exited with status %d", r->load_exit);
	else if (!r->result && !r->cancel_requested)
		fail(r, "wsbench-load printed no result");
	stop_server(r);
}

/* Return: 1 with the process's CPU time so far in *@proc, 0 when it could
 * not be read (it has just ended), or -ENOMEM (*@proc set, the sample not
 * kept). */
static int sample_one(struct sample_series *s, pid_t pid, int64_t wall, int64_t mono,
                      struct noise_proc *proc)
{
	struct procstat ps;
	struct resource_sample *v;

	if (procstat_read_process(pid, &ps) < 0)
		return 0;
	*proc = (struct noise_proc){ .pid = pid, .cpu_ns = ps.cpu_ns };
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	v = &s->v[s->n++];
	v->wall_ns = wall;
	v->cpu_ns = ps.cpu_ns;
	v->rss_bytes = ps.rss_bytes;
	v->cpu_percent =
	    s->have_prev && mono > s->prev_mono_ns
	        ? (double)(ps.cpu_ns - s->prev_cpu_ns) / (double)(mono - s->prev_mono_ns) * 100.0
	        : 0.0;
	s->prev_cpu_ns = ps.cpu_ns;
	s->prev_mono_ns = mono;
	s->have_prev = true;
	return 1;
}

/*
 * The machine's noise over the same interval: its CPU counters, ours (the
 * server, the load generator and wsbenchd itself; @procs holds the first
 * two as read by sample_one()) and the CPU frequency where cpufreq exists.
 */
static void sample_noise(struct run *r, int64_t wall, int64_t mono, struct noise_proc *procs,
                         size_t n)
{
	struct cpu_times times;
	struct proc_scan swap;
	pid_t ours[NOISE_MAX_PROCS + 1];
	double khz;
	int k;

	if (noise_read_cpu_times(&times) < 0)
		return; /* the next sample covers this interval too */
	/* Other processes' CPU from their own counters (noise.h says why not
	 * /proc/stat's busy time); /proc/stat still gives the steal time. */
	for (size_t i = 0; i < n && i < NOISE_MAX_PROCS; i++)
		ours[i] = procs[i].pid;
	ours[MIN(n, (size_t)NOISE_MAX_PROCS)] = getpid();
	if (noise_scan_processes(ours, MIN(n, (size_t)NOISE_MAX_PROCS) + 1, &r->scan_now) < 0)
		return;
	if (r->scan_prev.v)
		r->others_ns +=
		    noise_scan_delta(&r->scan_prev, &r->scan_now, mono - r->scan_mono_ns,
		                     (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	r->scan_mono_ns = mono;
	swap = r->scan_prev;
	r->scan_prev = r->scan_now;
	r->scan_now = swap;
	times.busy_ns = r->others_ns;
	if (noise_read_freq_khz(NOISE_SYSFS_CPU, &khz) < 0)
		khz = NAN;
	k = noise_tracker_add(&r->noise, wall, mono, &times, NULL, 0, khz);
	if (k < 0)
		log_error_errno(k, "run %s: cannot record the noise sample", r->id);
}

static int on_sample(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *r = userdata;
	int64_t wall = wall_ns(), mono = now_ns();
	struct noise_proc procs[3];
	size_t n = 0;

	if (child_running(r->server_child) &&
	    sample_one(&r->server_samples, child_pid(r->server_child), wall, mono, &procs[n]) != 0)
		n++;
	if (child_running(r->load_child) &&
	    sample_one(&r->client_samples, child_pid(r->load_child), wall, mono, &procs[n]) != 0)
		n++;
	sample_noise(r, wall, mono, procs, n);
	sd_event_source_set_time(s, usec + r->config->daemon.sample_interval_ms * 1000ULL);
	return 0;
}

static void start_sampling(struct run *r)
{
	uint64_t now;

	sd_event_now(r->env.event, CLOCK_MONOTONIC, &now);
	if (sd_event_add_time(r->env.event, &r->sample_timer, CLOCK_MONOTONIC, now, 0, on_sample,
	                      r) >= 0)
		sd_event_source_set_enabled(r->sample_timer, SD_EVENT_ON);
}

_printf_(3, 4) static void add_arg(char **argv, int *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&argv[*n], fmt, ap) >= 0)
		(*n)++;
	va_end(ap);
}

static const struct child_ops load_ops = { .line = load_line, .exited = load_exited };

/* The scenario's settings (scenario.c's table) as wsbench-load options. */
static void add_scenario_args(char **argv, int *n, const struct scenario_config *s)
{
	for (size_t i = 0; i < scenario_n_fields; i++) {
		struct scenario_value v;
		const char *opt;

		if (!scenario_get(s, i, &v))
			continue;
		opt = v.field->load_option;
		if (!opt)
			continue;
		if (v.field->type == SCENARIO_BOOL) {
			if (v.b)
				add_arg(argv, n, "--%s", opt);
		} else if (v.field->type == SCENARIO_UINT)
			add_arg(argv, n, "--%s=%u", opt, v.u);
		else if (v.field->type == SCENARIO_DOUBLE)
			add_arg(argv, n, "--%s=%.15g", opt, v.d);
		else
			add_arg(argv, n, "--%s=%s", opt, v.choice);
	}
}

static void spawn_load(struct run *r)
{
	char *argv[48] = { 0 };
	int n = 0, k;

	add_arg(argv, &n, "%s", r->env.tools->load);
	add_arg(argv, &n, "--url=%s", r->url);
	add_scenario_args(argv, &n, &r->scenario);
	/* Verified against the server's CA, or its own certificate (a
	 * self-signed one); a url server without ca: the system's trust store. */
	if (r->scenario.tls && (r->server->tls.ca || r->server->tls.cert))
		add_arg(argv, &n, "--ca=%s",
		        r->server->tls.ca ? r->server->tls.ca : r->server->tls.cert);
	add_arg(argv, &n, "--format=jsonl");
	set_state(r, RUN_CONNECTING);
	k = child_start(r->env.event, "wsbench-load", argv, &load_ops, r, &r->load_child);
	for (int i = 0; i < n; i++)
		free(argv[i]);
	if (k < 0) {
		fail(r, "cannot start %s: %s", r->env.tools->load, strerror(-k));
		stop_server(r);
		return;
	}
	if (!r->sample_timer)
		start_sampling(r);
}

/* ---- the load on agents (remote-load.h) ------------------------------------ */

static void on_remote_progress(const struct remote_progress *p, void *userdata)
{
	struct run *r = userdata;

	r->elapsed = p->elapsed;
	r->progress = p->total > 0 ? MIN(1.0, p->elapsed / p->total) : 0;
	r->connected = p->connected;
	r->sent = p->sent;
	r->received = p->received;
	r->errors = p->errors;
	r->rate = p->rate;
	r->p99_ms = p->p99_ms;
	if (p->running && r->state == RUN_CONNECTING)
		set_state(r, RUN_RUNNING);
	else
		r->ops->changed(r, r->userdata);
}

static void on_remote_ended(cJSON *result, const char *failure, void *userdata)
{
	struct run *r = userdata;

	cJSON_Delete(r->result);
	r->result = result;
	r->load_done = true;
	if (failure)
		fail(r, "%s", failure);
	else if (!result && !r->cancel_requested)
		fail(r, "the agents' parts left no result");
	stop_server(r);
}

static const struct remote_load_ops remote_ops = {
	.progress = on_remote_progress,
	.ended = on_remote_ended,
};

/* The agents of this run: the scenario's (or its override's), else the
 * daemon's default ones; "local" means none. */
static const struct agent_list *run_agents(const struct run *r)
{
	if (r->scenario.agents.n || r->scenario.agents.local)
		return &r->scenario.agents;
	return &r->config->daemon.agents;
}

/* The URL as agents see it: with daemon.agent_url_host for 127.0.0.1. */
static char *agent_url(const struct run *r)
{
	const char *host = r->config->daemon.agent_url_host, *lo = strstr(r->url, "127.0.0.1");
	char *url;

	if (!host || !lo || r->server->kind == SERVER_URL)
		return strdup(r->url);
	/* An IPv6 address goes in brackets in a URL. */
	if (asprintf(&url, "%.*s%s%s%s%s", (int)(lo - r->url), r->url, strchr(host, ':') ? "[" : "",
	             host, strchr(host, ':') ? "]" : "", lo + strlen("127.0.0.1")) < 0)
		return NULL;
	return url;
}

static void start_remote(struct run *r)
{
	_cleanup_free_ char *url = agent_url(r);
	char err[512] = "";
	int k = url ? remote_load_start(r->env.event,
	                                &(const struct remote_load_request){
	                                    .scenario = &r->scenario,
	                                    .agents = run_agents(r),
	                                    .url = url,
	                                    .max_skew_ms = r->config->daemon.max_clock_skew_ms },
	                                &remote_ops, r, &r->remote, err, sizeof(err))
	            : -ENOMEM;

	set_state(r, RUN_CONNECTING);
	if (k < 0) {
		fail(r, "%s", err[0] ? err : strerror(-k));
		stop_server(r);
		return;
	}
	if (!r->sample_timer)
		start_sampling(r);
}

static int on_start_at(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *r = userdata;

	r->start_timer = sd_event_source_disable_unref(r->start_timer);
	if (!stopping(r))
		spawn_load(r);
	return 0;
}

/* The server's CPU and memory now that it is ready, before any load. */
static void take_server_base(struct run *r)
{
	struct procstat ps;

	if (child_running(r->server_child) &&
	    procstat_read_process(child_pid(r->server_child), &ps) == 0) {
		r->server_samples.base_cpu_ns = ps.cpu_ns;
		r->server_samples.base_rss_bytes = ps.rss_bytes;
		r->server_samples.have_base = true;
	}
}

static void start_load(struct run *r)
{
	int64_t now = wall_ns();

	/* Never against a server we are already stopping. */
	if (stopping(r))
		return;
	take_server_base(r);
	r->ready_timer = sd_event_source_disable_unref(r->ready_timer);
	r->probe_timer = sd_event_source_disable_unref(r->probe_timer);
	if (run_agents(r)->n) {
		start_remote(r);
		return;
	}
	/* A part of a distributed run: the coordinator chose the instant. */
	if (r->start_at_ns > now &&
	    sd_event_add_time(r->env.event, &r->start_timer, CLOCK_REALTIME,
	                      (uint64_t)(r->start_at_ns / 1000), 0, on_start_at, r) >= 0) {
		log_info("run %s: part of a distributed run, starts in %.3f s", r->id,
		         (double)(r->start_at_ns - now) / 1e9);
		return;
	}
	spawn_load(r);
}

/* ---- the echo server ---------------------------------------------------- */

/* The URL of a READY line, or NULL for another line. */
static const char *ready_url(const char *line)
{
	size_t n = strlen(SERVER_READY_PREFIX);

	return strncmp(line, SERVER_READY_PREFIX, n) == 0 ? line + n : NULL;
}

static void server_line(struct child *c, bool is_stderr, const char *line, void *userdata)
{
	struct run *r = userdata;
	const char *ready = is_stderr ? NULL : ready_url(line);

	if (ready && stopping(r)) {
		log_info("run %s: %s: %s (ignored: the run is being stopped)", r->id,
		         r->server->name, line);
		return;
	}
	if (ready && r->state == RUN_STARTING) {
		log_info("run %s: %s ready (%s)", r->id, r->server->name, ready);
		start_load(r);
		return;
	}
	log_info("run %s: %s: %s", r->id, r->server->name, line);
}

static void server_exited(struct child *c, const siginfo_t *si, void *userdata)
{
	struct run *r = userdata;
	int code = exit_code(si);

	if (r->cancel_requested)
		; /* we stopped it */
	else if (r->state == RUN_STARTING)
		fail(r, "server %s exited with status %d before it was ready", r->server->name,
		     code);
	else if (!r->load_done)
		fail(r, "server %s exited with status %d during the run", r->server->name, code);
	else if (code != 0 && r->load_done && !r->failure)
		log_warning("run %s: server %s exited with status %d when stopped", r->id,
		            r->server->name, code);
	stop_load(r);
	maybe_finalize(r);
}

static int on_ready_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *r = userdata;

	if (r->state == RUN_STARTING) {
		fail(r, "server %s was not ready within %g s", r->server->name,
		     r->server->ready_timeout);
		stop_server(r);
	}
	return 0;
}

/* For command servers that print no READY line: a TCP connect to the port
 * succeeding while our child still runs. */
static int on_probe(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *r = userdata;
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_port = htons((uint16_t)r->server->port) };
	int fd, k;

	if (r->state != RUN_STARTING || stopping(r) || !child_running(r->server_child))
		return 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	k = fd >= 0 ? connect(fd, (struct sockaddr *)&sa, sizeof(sa)) : -1;
	if (fd >= 0)
		close(fd);
	if (k == 0) {
		log_info("run %s: %s accepts connections on port %u", r->id, r->server->name,
		         r->server->port);
		start_load(r);
		return 0;
	}
	sd_event_source_set_time(s, usec + PROBE_INTERVAL_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* "{port}" and "{servers_dir}" in a command. */
static char *expand(const char *arg, const struct run *r)
{
	static const char *const keys[] = { "{port}", "{servers_dir}" };
	char port[16], *out = strdup(arg), *p;
	const char *vals[2] = { port, r->env.tools->servers_dir };

	snprintf(port, sizeof(port), "%u", r->server->port);
	for (size_t k = 0; out && k < ELEMENTSOF(keys); k++)
		while ((p = strstr(out, keys[k]))) {
			char *next;

			if (asprintf(&next, "%.*s%s%s", (int)(p - out), out, vals[k],
			             p + strlen(keys[k])) < 0) {
				free(out);
				return NULL;
			}
			free(out);
			out = next;
		}
	return out;
}

static const struct child_ops server_ops = { .line = server_line, .exited = server_exited };

static int start_server(struct run *r)
{
	const struct server_config *s = r->server;
	char *argv[64] = { 0 };
	uint64_t now;
	int n = 0, k;

	if (s->kind == SERVER_BUILTIN) {
		add_arg(argv, &n, "%s", r->env.tools->echo);
		/* Agents on other machines reach it by daemon.agent_url_host. */
		add_arg(argv, &n, "--host=%s",
		        r->config->daemon.agent_url_host && run_agents(r)->n ? "0.0.0.0"
		                                                             : "127.0.0.1");
		add_arg(argv, &n, "--port=%u", s->port);
		add_arg(argv, &n, "--threads=%u", s->threads);
	} else {
		for (char **a = s->command; *a && n < 58; a++)
			if ((argv[n] = expand(*a, r)))
				n++;
	}
	/* The same flags for wsbench-echo and every reference server
	 * (servers/README.md), only for a run that needs them: a plain run
	 * measures the server without TLS or compression. */
	if (r->scenario.tls) {
		add_arg(argv, &n, "--tls-cert");
		add_arg(argv, &n, "%s", s->tls.cert);
		add_arg(argv, &n, "--tls-key");
		add_arg(argv, &n, "%s", s->tls.key);
	}
	if (r->scenario.deflate)
		add_arg(argv, &n, "--deflate");
	k = child_start(r->env.event, s->name, argv, &server_ops, r, &r->server_child);
	if (k < 0)
		fail(r, "cannot start server %s (%s): %s", s->name, argv[0] ? argv[0] : "?",
		     strerror(-k));
	for (int i = 0; i < n; i++)
		free(argv[i]);
	if (k < 0)
		return k;
	sd_event_now(r->env.event, CLOCK_MONOTONIC, &now);
	sd_event_add_time(r->env.event, &r->ready_timer, CLOCK_MONOTONIC,
	                  now + (uint64_t)(s->ready_timeout * 1e6), 0, on_ready_timeout, r);
	if (s->kind == SERVER_COMMAND)
		sd_event_add_time(r->env.event, &r->probe_timer, CLOCK_MONOTONIC,
		                  now + 2 * PROBE_INTERVAL_USEC, 0, on_probe, r);
	start_sampling(r);
	return 0;
}

void run_start(struct run *r)
{
	r->start_wall_ns = wall_ns();
	set_state(r, RUN_STARTING);
	r->ops->started(r, r->userdata);
	if (r->server->kind == SERVER_URL) {
		r->url = strdup(r->server->url);
		start_load(r);
		return;
	}
	if (asprintf(&r->url, "%s://127.0.0.1:%u/", r->scenario.tls ? "wss" : "ws",
	             r->server->port) < 0 ||
	    start_server(r) < 0) {
		if (!r->failure)
			fail(r, "out of memory");
		maybe_finalize(r);
	}
}

int run_cancel(struct run *r)
{
	if (run_is_final(r))
		return -EALREADY;
	r->cancel_requested = true;
	log_info("run %s: cancel requested in state %s", r->id, run_state_to_string(r->state));
	if (r->state == RUN_QUEUED) {
		finalize(r);
		return 0;
	}
	begin_stopping(r);
	if (load_running(r))
		stop_load(r); /* it reports what it measured, then the server stops */
	else
		stop_server(r);
	return 0;
}
