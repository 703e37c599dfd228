/* SPDX-License-Identifier: MIT */
/*
 * wsbench-load: the load generator. main() validates the run against the
 * machine's limits, starts one worker per thread on a shared timetable, and
 * once a second merges the workers' statistics into the timeline and the
 * progress output. It also runs the capacity search (--find-max-rate).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "load-options.h"
#include "load-protocol.h"
#include "load-report.h"
#include "load-worker.h"
#include "fdlimit.h"
#include "log.h"
#include "procstat.h"
#include "wsbench-config.h"

/* One source address reaches one server port through about 28,000
 * ephemeral ports (net.ipv4.ip_local_port_range 32768-60999). */
#define CLIENTS_PER_SOURCE 25000

/* "KEY": in a JSON line's format string. */
#define KEY(k) "\"" k "\":"

/* --format jsonl, once a second (common/load-protocol.h names the keys). */
// clang-format off
#define PROGRESS_LINE                                                                              \
	"{" KEY(LOAD_KEY_TYPE) "\"" LOAD_LINE_PROGRESS "\","                                        \
	KEY(LOAD_KEY_ELAPSED) "%.1f," KEY(LOAD_KEY_TOTAL) "%.1f," KEY(LOAD_KEY_PHASE) "\"%s\","     \
	KEY(LOAD_KEY_CONNECTED) "%u," KEY(LOAD_KEY_CLIENTS) "%u,"                                  \
	KEY(LOAD_KEY_SENT) "%llu," KEY(LOAD_KEY_RECEIVED) "%llu,"                                  \
	KEY(LOAD_KEY_RATE) "%.1f," KEY(LOAD_KEY_P99) "%.3f," KEY(LOAD_KEY_P99_SO_FAR) "%.3f,"      \
	KEY(LOAD_KEY_ERRORS) "%llu}\n"

/* --find-max-rate: a line per trial. */
#define TRIAL_LINE_START "{" KEY(LOAD_KEY_TYPE) "\"" LOAD_LINE_TRIAL "\","

/* The last line: the result, then "}". */
#define RESULT_LINE_START "{" KEY(LOAD_KEY_TYPE) "\"" LOAD_LINE_RESULT "\"," KEY(LOAD_KEY_RESULT)
// clang-format on

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static unsigned default_threads(unsigned clients)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return (unsigned)MIN((long)clients, MIN(n, (long)LOAD_MAX_THREADS));
}

/* Loopback targets with more clients than one source address can carry
 * get 127.0.0.1, 127.0.0.2, ... as source addresses. */
static char auto_sources_buf[LOAD_MAX_SOURCES][24];
static const char *auto_sources[LOAD_MAX_SOURCES];

static unsigned pick_sources(const struct load_options *o, const char *const **ret)
{
	unsigned n;

	if (o->n_sources) {
		*ret = o->sources;
		return o->n_sources;
	}
	if (o->clients <= CLIENTS_PER_SOURCE || strncmp(o->host, "127.", 4) != 0)
		return 0;
	n = MIN((o->clients + CLIENTS_PER_SOURCE - 1) / CLIENTS_PER_SOURCE, LOAD_MAX_SOURCES);
	for (unsigned i = 0; i < n; i++) {
		snprintf(auto_sources_buf[i], sizeof(auto_sources_buf[i]), "127.0.0.%u", i + 1);
		auto_sources[i] = auto_sources_buf[i];
	}
	*ret = auto_sources;
	return n;
}

struct run_ctx {
	const struct load_options *opts;
	struct load_result *result;
	struct load_worker *workers;
	unsigned threads;
	struct load_plan plan;
	bool tty;
	uint64_t prev_sent, prev_received;
	struct load_stats *tick_stats; /* scratch for tick() */
	struct histogram so_far;       /* corrected latency merged from the intervals */
	uint64_t prev_cpu_ns;
	int64_t prev_tick_ns;
};

static const char *phase_name(const struct run_ctx *ctx, int64_t now)
{
	if (now < ctx->plan.send_ns)
		return LOAD_PHASE_CONNECTING;
	if (now < ctx->plan.measure_ns)
		return LOAD_PHASE_WARMUP;
	if (now < ctx->plan.send_end_ns)
		return LOAD_PHASE_RUNNING;
	return LOAD_PHASE_DRAINING;
}

static int timeline_append(struct load_result *r, const struct load_second *p)
{
	if (r->n_timeline == r->cap_timeline) {
		unsigned cap = r->cap_timeline ? r->cap_timeline * 2 : 64;
		struct load_second *t = realloc(r->timeline, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		r->timeline = t;
		r->cap_timeline = cap;
	}
	r->timeline[r->n_timeline++] = *p;
	return 0;
}

static void print_progress(struct run_ctx *ctx, const struct load_stats *s,
                           const struct load_second *p, int64_t now)
{
	const struct load_options *o = ctx->opts;
	double total = (double)(ctx->plan.send_end_ns - ctx->plan.epoch_ns) / 1e9;
	uint64_t errors = s->conn_failed + s->conn_dropped + s->corrupted + s->unexpected;

	if (o->format == FORMAT_JSONL) {
		printf(PROGRESS_LINE, p->t, total, phase_name(ctx, now), p->connected, o->clients,
		       (unsigned long long)s->sent, (unsigned long long)s->received,
		       (double)p->received, p->p99_ms,
		       histogram_percentile(&ctx->so_far, 99) / 1000.0, (unsigned long long)errors);
		fflush(stdout);
	} else if (ctx->tty) {
		fprintf(
		    stderr,
		    "\r\033[K%5.1f/%.1fs %-10s clients %u/%u  sent %llu  recv %llu  %.0f msg/s  "
		    "p99 %.2f ms  errors %llu",
		    p->t, total, phase_name(ctx, now), p->connected, o->clients,
		    (unsigned long long)s->sent, (unsigned long long)s->received,
		    (double)p->received, histogram_percentile(&ctx->so_far, 99) / 1000.0,
		    (unsigned long long)errors);
		fflush(stderr);
	}
}

static void tick(struct run_ctx *ctx, int64_t now, bool show)
{
	struct load_stats *s = ctx->tick_stats;
	struct load_second p = { 0 };
	struct procstat ps = { 0 };
	double dt = (double)(now - ctx->prev_tick_ns) / 1e9;

	load_stats_init(s);
	for (unsigned i = 0; i < ctx->threads; i++)
		load_worker_snapshot_interval(&ctx->workers[i], s);
	/* The latency so far, for progress output, from the intervals. */
	histogram_merge(&ctx->so_far, &s->interval);
	p.t = (double)(now - ctx->plan.epoch_ns) / 1e9;
	p.sent = s->sent - ctx->prev_sent;
	p.received = s->received - ctx->prev_received;
	p.p99_ms = histogram_percentile(&s->interval, 99) / 1000.0;
	p.connected = s->connected;
	if (procstat_read_process(getpid(), &ps) == 0) {
		if (dt > 0)
			p.cpu_percent = (double)(ps.cpu_ns - ctx->prev_cpu_ns) / 1e9 / dt * 100.0;
		ctx->prev_cpu_ns = ps.cpu_ns;
		ctx->result->rss_max_bytes = MAX(ctx->result->rss_max_bytes, ps.rss_bytes);
	}
	ctx->prev_sent = s->sent;
	ctx->prev_received = s->received;
	ctx->prev_tick_ns = now;
	timeline_append(ctx->result, &p);
	if (show)
		print_progress(ctx, s, &p, now);
}

static void judge_client(struct load_result *r)
{
	const struct load_options *o = r->opts;
	double lag_p99 = histogram_percentile(&r->stats.send_lag, 99) / 1e6;

	if (lag_p99 > o->lag_threshold) {
		r->client_limited = true;
		snprintf(
		    r->verdict, sizeof(r->verdict),
		    "CLIENT-LIMITED: sends lagged their schedule by %.3f ms at p99 (threshold %.3f "
		    "ms); the figures understate the server",
		    lag_p99 * 1e3, o->lag_threshold * 1e3);
	} else if (r->max_thread_cpu_percent > 90.0) {
		r->client_limited = true;
		snprintf(
		    r->verdict, sizeof(r->verdict),
		    "CLIENT-LIMITED: a load thread used %.0f%% of a CPU; add --threads or lower "
		    "the load",
		    r->max_thread_cpu_percent);
	} else {
		snprintf(r->verdict, sizeof(r->verdict),
		         "the client kept up: send lag p99 %.3f ms, busiest thread %.0f%% CPU",
		         lag_p99 * 1e3, r->max_thread_cpu_percent);
	}
}

static void finish_result(struct run_ctx *ctx, int64_t start_ns, uint64_t cpu_start)
{
	struct load_result *r = ctx->result;
	struct procstat ps;
	int64_t end = now_ns();

	load_stats_init(&r->stats);
	for (unsigned i = 0; i < ctx->threads; i++)
		load_worker_snapshot(&ctx->workers[i], &r->stats);
	r->end_wall_ns = wall_ns();
	r->elapsed = (double)(end - start_ns) / 1e9;
	r->threads = ctx->threads;
	r->measured_seconds =
	    (double)(MIN(end, ctx->plan.send_end_ns) - ctx->plan.measure_ns) / 1e9;
	if (r->measured_seconds < 0)
		r->measured_seconds = 0;
	if (procstat_read_process(getpid(), &ps) == 0) {
		r->cpu_seconds = (double)(ps.cpu_ns - cpu_start) / 1e9;
		r->cpu_percent_mean = r->elapsed > 0 ? r->cpu_seconds / r->elapsed * 100.0 : 0;
		r->rss_max_bytes = MAX(r->rss_max_bytes, ps.rss_bytes);
	}
	judge_client(r);
}

static bool all_finished(struct run_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->threads; i++)
		if (!atomic_load(&ctx->workers[i].finished))
			return false;
	return true;
}

/* Runs one load pass with @o and fills @r. Return: 0 or a negative errno. */
static int run_load(const struct load_options *o, struct load_result *r, bool show)
{
	struct run_ctx ctx = { .opts = o, .result = r };
	struct procstat ps = { 0 };
	int64_t start, next_tick;
	int r_ = 0;

	memset(r, 0, sizeof(*r));
	r->opts = o;
	ctx.threads = o->threads ? MIN(o->threads, o->clients) : default_threads(o->clients);
	ctx.tty = show && o->format == FORMAT_TEXT && o->progress_tty && isatty(STDERR_FILENO);
	ctx.workers = calloc(ctx.threads, sizeof(*ctx.workers));
	ctx.tick_stats = malloc(sizeof(*ctx.tick_stats));
	if (!ctx.workers || !ctx.tick_stats) {
		free(ctx.workers);
		free(ctx.tick_stats);
		return -ENOMEM;
	}
	histogram_reset(&ctx.so_far);

	start = now_ns();
	r->start_wall_ns = wall_ns();
	ctx.plan = (struct load_plan){ .opts = o };
	ctx.plan.n_sources = pick_sources(o, (const char *const **)&ctx.plan.sources);
	if (getrandom(&ctx.plan.key, sizeof(ctx.plan.key), 0) != sizeof(ctx.plan.key))
		ctx.plan.key = (uint64_t)start ^ 0x5bd1e995ULL;
	/* Leave the workers a moment to create their contexts. */
	ctx.plan.epoch_ns = start + 50 * NSEC_PER_MSEC;
	ctx.plan.send_ns = ctx.plan.epoch_ns + (int64_t)llround(o->ramp_up * 1e9);
	ctx.plan.measure_ns = ctx.plan.send_ns + (int64_t)llround(o->warmup * 1e9);
	ctx.plan.send_end_ns = ctx.plan.send_ns + (int64_t)llround(o->schedule.duration * 1e9);
	ctx.plan.drain_end_ns = ctx.plan.send_end_ns + (int64_t)llround(o->drain_timeout * 1e9);

	for (unsigned i = 0; i < ctx.threads; i++) {
		r_ = load_worker_init(&ctx.workers[i], i, &ctx.plan, i, ctx.threads, o->clients);
		if (r_ < 0)
			goto out;
	}
	if (procstat_read_process(getpid(), &ps) == 0)
		ctx.prev_cpu_ns = ps.cpu_ns;
	ctx.prev_tick_ns = ctx.plan.epoch_ns;
	for (unsigned i = 0; i < ctx.threads; i++) {
		r_ = load_worker_start(&ctx.workers[i]);
		if (r_ < 0) {
			for (unsigned j = 0; j < i; j++)
				load_worker_stop(&ctx.workers[j]);
			for (unsigned j = 0; j < i; j++)
				load_worker_join(&ctx.workers[j]);
			goto out;
		}
	}

	next_tick = ctx.plan.epoch_ns + NSEC_PER_SEC;
	while (!all_finished(&ctx)) {
		int64_t now = now_ns();

		if (interrupted && !r->interrupted) {
			r->interrupted = true;
			for (unsigned i = 0; i < ctx.threads; i++)
				load_worker_stop(&ctx.workers[i]);
		}
		if (now >= next_tick) {
			tick(&ctx, now, show);
			next_tick += NSEC_PER_SEC;
		}
		usleep(20000);
	}
	for (unsigned i = 0; i < ctx.threads; i++) {
		struct load_worker *w = &ctx.workers[i];

		load_worker_join(w);
		if (w->result < 0 && r_ == 0)
			r_ = w->result;
		if (w->wall_ns)
			r->max_thread_cpu_percent =
			    MAX(r->max_thread_cpu_percent,
			        (double)w->cpu_ns / (double)w->wall_ns * 100.0);
	}
	if (ctx.tty)
		fputs("\r\033[K", stderr);
	finish_result(&ctx, start, ps.cpu_ns);
out:
	for (unsigned i = 0; i < ctx.threads; i++)
		load_worker_free(&ctx.workers[i]);
	free(ctx.workers);
	free(ctx.tick_stats);
	return r_;
}

static int exit_status_of(const struct load_result *r)
{
	const struct load_stats *s = &r->stats;

	if (r->interrupted)
		return LOAD_EXIT_INTERRUPTED;
	if (s->conn_failed || s->conn_dropped || load_stats_lost(s) || s->corrupted ||
	    s->unexpected || s->scheduled > s->sent)
		return LOAD_EXIT_ERRORS;
	return LOAD_EXIT_OK;
}

static int print_result(const struct load_options *o, const struct load_result *r)
{
	char *json;

	if (o->format == FORMAT_TEXT)
		return load_report_text(stdout, r);
	json = load_report_json(r, o->format == FORMAT_JSON);
	if (!json)
		return -ENOMEM;
	if (o->format == FORMAT_JSONL)
		printf(RESULT_LINE_START "%s}\n", json);
	else
		printf("%s\n", json);
	free(json);
	return 0;
}

/* ---- capacity search --------------------------------------------------- */

struct trial {
	double target, received_rate, p50_ms, p99_ms;
	uint64_t lost, mismatched, failed;
	bool client_limited, pass;
};

static bool trial_passes(const struct load_options *o, const struct load_result *r, struct trial *t)
{
	const struct load_stats *s = &r->stats;

	t->received_rate = load_result_rate(r);
	t->p50_ms = histogram_percentile(&s->corrected, 50) / 1000.0;
	t->p99_ms = histogram_percentile(&s->corrected, 99) / 1000.0;
	t->lost = load_stats_lost(s);
	t->mismatched = s->corrupted + s->unexpected;
	t->failed = s->conn_failed + s->conn_dropped;
	t->client_limited = r->client_limited;
	t->pass = s->corrected.total > 0 && t->p99_ms <= o->p99_max * 1e3 && t->lost == 0 &&
	          t->mismatched == 0 && t->failed == 0 && t->received_rate >= 0.95 * t->target;
	return t->pass;
}

static void print_trial(const struct load_options *o, const struct trial *t, unsigned n)
{
	if (o->format == FORMAT_JSONL) {
		printf(TRIAL_LINE_START "\"n\":%u,\"target_rate\":%.0f,\"receive_rate\":%.0f,"
		                        "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"lost\":%llu,\"pass\":%s,"
		                        "\"client_limited\":%s}\n",
		       n, t->target, t->received_rate, t->p50_ms, t->p99_ms,
		       (unsigned long long)t->lost, t->pass ? "true" : "false",
		       t->client_limited ? "true" : "false");
		fflush(stdout);
	} else if (o->format == FORMAT_TEXT) {
		printf("  trial %2u  target %9.0f msg/s  received %9.0f msg/s  p50 %8.3f ms  p99 "
		       "%8.3f ms"
		       "  lost %llu  %s%s\n",
		       n, t->target, t->received_rate, t->p50_ms, t->p99_ms,
		       (unsigned long long)t->lost, t->pass ? "pass" : "FAIL",
		       t->client_limited ? " (client-limited)" : "");
		fflush(stdout);
	}
}

static int find_max_rate(const struct load_options *base)
{
	struct load_options o = *base;
	struct load_result best = { 0 }, r;
	struct trial trials[40];
	unsigned n = 0;
	double lo = 0, hi = 0, rate = base->schedule.rate * base->clients;
	int ret;

	o.schedule.duration = base->search_duration + 1.0;
	o.warmup = 1.0;
	o.drain_timeout = MIN(base->drain_timeout, 2.0);
	if (o.format == FORMAT_TEXT)
		printf(
		    "wsbench-load: highest total rate with p99 <= %.3f ms, %u clients, %zu B %s\n",
		    base->p99_max * 1e3, base->clients, base->size,
		    message_type_to_string(base->type));
	while (n < ELEMENTSOF(trials) && !interrupted) {
		struct trial *t = &trials[n];

		if (hi > 0 && (hi - lo) / hi < 0.05)
			break;
		*t = (struct trial){ .target = rate };
		o.schedule.rate = rate / o.clients;
		ret = run_load(&o, &r, false);
		if (ret < 0)
			return log_error_errno(ret, "trial at %.0f msg/s failed", rate);
		trial_passes(base, &r, t);
		print_trial(base, t, ++n);
		if (t->pass) {
			lo = rate;
			load_result_free(&best);
			best = r;
			best.opts = base;
		} else {
			hi = rate;
			load_result_free(&r);
		}
		if (hi == 0) {
			if (rate >= base->max_total_rate)
				break;
			rate = MIN(rate * 2, base->max_total_rate);
		} else {
			rate = (lo + hi) / 2;
		}
	}
	if (o.format == FORMAT_TEXT) {
		if (lo > 0)
			printf("\nmax rate: %.0f msg/s with p99 <= %.3f ms%s\n\n", lo,
			       base->p99_max * 1e3, hi == 0 ? " (the search's upper bound)" : "");
		else
			printf("\nno tried rate kept p99 <= %.3f ms\n", base->p99_max * 1e3);
		if (lo > 0) {
			best.opts = &o;
			o.schedule.rate = lo / o.clients;
			if (load_report_text(stdout, &best) < 0)
				log_error("out of memory for the summary");
		}
	} else {
		char *json = lo > 0 ? (best.opts = &o, o.schedule.rate = lo / o.clients,
		                       load_report_json(&best, false))
		                    : NULL;

		printf(
		    "%s{\"tool\":\"wsbench-load\",\"mode\":\"find-max-rate\",\"p99_max_ms\":%.3f,"
		    "\"max_rate\":%.0f,\"upper_bound_reached\":%s,\"trials\":[",
		    o.format == FORMAT_JSONL ? RESULT_LINE_START : "", base->p99_max * 1e3, lo,
		    hi == 0 && lo > 0 ? "true" : "false");
		for (unsigned i = 0; i < n; i++)
			printf("%s{\"target_rate\":%.0f,\"receive_rate\":%.0f,\"p50_ms\":%.3f,"
			       "\"p99_ms\":%.3f,\"lost\":%llu,\"mismatched\":%llu,\"pass\":%s,"
			       "\"client_limited\":%s}",
			       i ? "," : "", trials[i].target, trials[i].received_rate,
			       trials[i].p50_ms, trials[i].p99_ms,
			       (unsigned long long)trials[i].lost,
			       (unsigned long long)trials[i].mismatched,
			       trials[i].pass ? "true" : "false",
			       trials[i].client_limited ? "true" : "false");
		printf("],\"best\":%s}%s\n", json ? json : "null",
		       o.format == FORMAT_JSONL ? "}" : "");
		free(json);
	}
	load_result_free(&best);
	return interrupted ? LOAD_EXIT_INTERRUPTED : lo > 0 ? LOAD_EXIT_OK : LOAD_EXIT_ERRORS;
}

int main(int argc, char **argv)
{
	struct load_options opts;
	struct load_result result;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512];
	long fd_limit, fds_needed;
	int r, status;

	log_set_program("wsbench-load");
	load_options_init(&opts);
	r = load_options_parse(&opts, argc, argv, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "wsbench-load: %s\n(see wsbench-load --help)\n", err);
		load_options_free(&opts);
		return LOAD_EXIT_USAGE;
	}
	if (r == LOAD_OPTIONS_HELP) {
		fputs(load_usage, stdout);
		return LOAD_EXIT_OK;
	}
	if (r == LOAD_OPTIONS_VERSION) {
		printf("wsbench-load %s\n", WSBENCH_VERSION);
		return LOAD_EXIT_OK;
	}

	fd_limit = (long)fd_limit_raise();
	fds_needed = (long)opts.clients + LOAD_FD_OVERHEAD; /* wsbenchd checks the same */
	if (fds_needed > fd_limit) {
		fprintf(
		    stderr,
		    "wsbench-load: --clients %u needs about %ld file descriptors, but this process "
		    "may open only %ld (the hard limit of ulimit -n); lower --clients or raise the "
		    "limit\n",
		    opts.clients, fds_needed, fd_limit);
		load_options_free(&opts);
		return LOAD_EXIT_USAGE;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (opts.find_max_rate) {
		status = find_max_rate(&opts);
		load_options_free(&opts);
		return status;
	}
	r = run_load(&opts, &result, true);
	if (r < 0) {
		log_error_errno(r, "load run failed");
		load_options_free(&opts);
		return LOAD_EXIT_FAILURE;
	}
	if (print_result(&opts, &result) < 0)
		status = LOAD_EXIT_FAILURE;
	else
		status = exit_status_of(&result);
	load_result_free(&result);
	load_options_free(&opts);
	return status;
}
