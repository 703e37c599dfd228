/* SPDX-License-Identifier: MIT */
/*
 * The capacity search (see capacity.h): trials at doubling total rates until
 * one fails, then bisection to within 5 %. A trial passes when the corrected
 * p99 stays within --p99-max with nothing lost, mismatched or failed and at
 * least 95 % of the target received.
 */
#include <stdio.h>
#include <stdlib.h>

#include "capacity.h"
#include "load-report.h"
#include "load-run.h"
#include "log.h"
#include "macro.h"

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
		printf(LOAD_JSONL_TRIAL_START
		       "\"n\":%u,\"target_rate\":%.0f,\"receive_rate\":%.0f,"
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

int capacity_search(const struct load_options *base, const volatile sig_atomic_t *stop)
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
	while (n < ELEMENTSOF(trials) && !*stop) {
		struct trial *t = &trials[n];

		if (hi > 0 && (hi - lo) / hi < 0.05)
			break;
		*t = (struct trial){ .target = rate };
		o.schedule.rate = rate / o.clients;
		ret = load_run(&o, &r, false, stop);
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
		    o.format == FORMAT_JSONL ? LOAD_JSONL_RESULT_START : "", base->p99_max * 1e3,
		    lo, hi == 0 && lo > 0 ? "true" : "false");
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
	return *stop ? LOAD_EXIT_INTERRUPTED : lo > 0 ? LOAD_EXIT_OK : LOAD_EXIT_ERRORS;
}
