/* SPDX-License-Identifier: MIT */
/*
 * One load pass (see load-run.h): the timetable, one worker per thread, and
 * once a second the workers' statistics merged into the timeline and the
 * progress output; at the end the client's own resource use and its verdict
 * on whether it was the limit.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "load-report.h"
#include "load-run.h"
#include "load-worker.h"
#include "log.h"
#include "macro.h"
#include "procstat.h"

/* One source address reaches one server port through about 28,000
 * ephemeral ports (net.ipv4.ip_local_port_range 32768-60999), but the
 * kernel's search for a free one grows with those in use (it tries even
 * ports first, then odd): with 19,000 clients from 127.0.0.1, 65% of the
 * client's CPU went to __inet_hash_connect() and __inet_check_established()
 * (perf). A new source address every 5,000 clients keeps each range
 * mostly free. */
#define CLIENTS_PER_SOURCE 5000

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
		printf(LOAD_JSONL_PROGRESS, p->t, total, phase_name(ctx, now), p->connected,
		       o->clients, (unsigned long long)s->sent, (unsigned long long)s->received,
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

/*
 * Whether the client was the limit. Send lag has three causes (see
 * record_lag() in load-worker.c) and only one is the client's: its own work
 * past the time. A full socket is the server not reading; a late wakeup is
 * the machine (timers, other processes): both are reported, neither makes
 * the client "limited".
 */
static void judge_client(struct load_result *r)
{
	const struct load_options *o = r->opts;
	const struct load_stats *s = &r->stats;
	double own = histogram_percentile(&s->lag_own, 99) / 1e6;
	double wake = histogram_percentile(&s->lag_wakeup, 99) / 1e6;
	double bp = histogram_percentile(&s->lag_backpressure, 99) / 1e6;
	double all = histogram_percentile(&s->send_lag, 99) / 1e6;
	size_t n;

	r->machine_delayed = wake > o->lag_threshold;
	if (own > o->lag_threshold) {
		r->client_limited = true;
		n = (size_t)snprintf(
		    r->verdict, sizeof(r->verdict),
		    "CLIENT-LIMITED: its own work made sends lag their schedule by "
		    "%.3f ms at p99 (threshold %.3f ms; %.3f ms from all causes); "
		    "the figures understate the server",
		    own * 1e3, o->lag_threshold * 1e3, all * 1e3);
	} else if (r->max_thread_cpu_percent > 90.0) {
		r->client_limited = true;
		n = (size_t)snprintf(r->verdict, sizeof(r->verdict),
		                     "CLIENT-LIMITED: a load thread used %.0f%% of a CPU; add "
		                     "--threads or lower the load",
		                     r->max_thread_cpu_percent);
	} else {
		n = (size_t)snprintf(r->verdict, sizeof(r->verdict),
		                     "the client kept up: its own send lag p99 %.3f ms, busiest "
		                     "thread %.0f%% CPU",
		                     own * 1e3, r->max_thread_cpu_percent);
	}
	if (bp > o->lag_threshold && n < sizeof(r->verdict))
		n += (size_t)snprintf(
		    r->verdict + n, sizeof(r->verdict) - n,
		    "; the server held sends back (socket full) by %.3f ms at p99", bp * 1e3);
	if (r->machine_delayed && n < sizeof(r->verdict))
		snprintf(r->verdict + n, sizeof(r->verdict) - n,
		         "; the machine woke it late by %.3f ms at p99 (timers, other processes; "
		         "corrected latencies include it)",
		         wake * 1e3);
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
	r->epoch_ns = ctx->plan.epoch_ns;
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

int load_run(const struct load_options *o, struct load_result *r, bool show,
             const volatile sig_atomic_t *stop)
{
	struct run_ctx ctx = { .opts = o, .result = r };
	struct procstat ps = { 0 };
	int64_t start, next_tick;
	int k = 0;

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

	if (o->tls) {
		char err[256];

		k = tls_context_new(o->ca_file, o->insecure, &ctx.plan.tls, err, sizeof(err));
		if (k < 0) {
			log_error("%s", err);
			goto out;
		}
	}
	for (unsigned i = 0; i < ctx.threads; i++) {
		k = load_worker_init(&ctx.workers[i], i, &ctx.plan, i, ctx.threads, o->clients);
		if (k < 0)
			goto out;
	}
	if (procstat_read_process(getpid(), &ps) == 0)
		ctx.prev_cpu_ns = ps.cpu_ns;
	ctx.prev_tick_ns = ctx.plan.epoch_ns;
	for (unsigned i = 0; i < ctx.threads; i++) {
		k = load_worker_start(&ctx.workers[i]);
		if (k < 0) {
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

		if (*stop && !r->interrupted) {
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
		if (w->result < 0 && k == 0)
			k = w->result;
		if (!r->tls_version[0] && w->tls_version[0]) {
			snprintf(r->tls_version, sizeof(r->tls_version), "%s", w->tls_version);
			snprintf(r->tls_cipher, sizeof(r->tls_cipher), "%s", w->tls_cipher);
		}
		if (!r->tls_error[0] && w->tls_error[0])
			snprintf(r->tls_error, sizeof(r->tls_error), "%s", w->tls_error);
		if (!r->pmd_seen && w->pmd_seen) {
			r->pmd = w->pmd;
			r->pmd_seen = true;
		}
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
	if (ctx.plan.tls)
		tls_context_free(ctx.plan.tls);
	return k;
}
