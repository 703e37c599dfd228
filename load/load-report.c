/* SPDX-License-Identifier: MIT */
/*
 * Presentation of a load result: the JSON document (the same sections the
 * daemon's reports use: config, throughput, latency, errors, client,
 * timeline, histogram) and the readable summary. cJSON stays in this file.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "load-protocol.h"
#include "load-report.h"
#include "macro.h"
#include "wsbench-config.h"

void load_result_free(struct load_result *r)
{
	free(r->timeline);
	r->timeline = NULL;
	r->n_timeline = r->cap_timeline = 0;
}

double load_result_rate(const struct load_result *r)
{
	return r->measured_seconds > 0 ? (double)r->stats.measured_received / r->measured_seconds
	                               : 0.0;
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

struct percentile_spec {
	const char *name;
	double p;
};

static const struct percentile_spec percentiles[] = {
	{ "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p99_9", 99.9 }, { "p99_99", 99.99 },
};

static cJSON *latency_json(const struct histogram *h)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "count", (double)h->total);
	cJSON_AddNumberToObject(o, "min", ms(histogram_min(h)));
	for (size_t i = 0; i < ELEMENTSOF(percentiles); i++)
		cJSON_AddNumberToObject(o, percentiles[i].name,
		                        ms(histogram_percentile(h, percentiles[i].p)));
	cJSON_AddNumberToObject(o, "max", ms(h->max));
	cJSON_AddNumberToObject(o, "mean", histogram_mean(h) / 1000.0);
	cJSON_AddNumberToObject(o, "stddev", histogram_stddev(h) / 1000.0);
	return o;
}

static cJSON *codes_json(const struct load_code_count *table)
{
	cJSON *o = cJSON_CreateObject();
	char key[16];

	for (int i = 0; i < LOAD_STATS_CODES && table[i].count; i++) {
		snprintf(key, sizeof(key), "%d", table[i].code);
		cJSON_AddNumberToObject(o, key, (double)table[i].count);
	}
	return o;
}

static cJSON *config_json(const struct load_result *r)
{
	const struct load_options *o = r->opts;
	const struct schedule *s = &o->schedule;
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "url", o->url);
	cJSON_AddNumberToObject(c, "clients", o->clients);
	cJSON_AddNumberToObject(c, "threads", r->threads);
	cJSON_AddNumberToObject(c, "ramp_up_s", o->ramp_up);
	cJSON_AddStringToObject(c, "pattern", pattern_to_string(s->pattern));
	cJSON_AddNumberToObject(c, "rate_per_client", s->rate);
	if (s->pattern == PATTERN_RAMP)
		cJSON_AddNumberToObject(c, "rate_end_per_client", s->rate_end);
	if (s->pattern == PATTERN_BURST) {
		cJSON_AddNumberToObject(c, "burst", s->burst);
		cJSON_AddNumberToObject(c, "interval_s", s->interval);
	}
	cJSON_AddNumberToObject(c, "target_rate", schedule_total_rate(s));
	cJSON_AddNumberToObject(c, "duration_s", s->duration - o->warmup);
	cJSON_AddNumberToObject(c, "warmup_s", o->warmup);
	cJSON_AddNumberToObject(c, "drain_timeout_s", o->drain_timeout);
	cJSON_AddNumberToObject(c, "tick_ms", o->tick * 1e3);
	cJSON_AddNumberToObject(c, "message_size", (double)o->size);
	cJSON_AddStringToObject(c, "message_type", message_type_to_string(o->type));
	cJSON_AddNumberToObject(c, "connect_timeout_s", o->connect_timeout);
	cJSON_AddNumberToObject(c, "retries", o->retries);
	return c;
}

static cJSON *throughput_json(const struct load_result *r)
{
	const struct load_stats *s = &r->stats;
	cJSON *t = cJSON_CreateObject();
	double secs = r->measured_seconds > 0 ? r->measured_seconds : 1;

	cJSON_AddNumberToObject(t, "target_rate", schedule_total_rate(&r->opts->schedule));
	cJSON_AddNumberToObject(t, "send_rate", (double)s->measured_sent / secs);
	cJSON_AddNumberToObject(t, "receive_rate", load_result_rate(r));
	cJSON_AddNumberToObject(t, "measured_seconds", r->measured_seconds);
	cJSON_AddNumberToObject(t, "messages_sent", (double)s->sent);
	cJSON_AddNumberToObject(t, "messages_received", (double)s->received);
	cJSON_AddNumberToObject(t, "bytes_sent", (double)s->bytes_sent);
	cJSON_AddNumberToObject(t, "bytes_received", (double)s->bytes_received);
	cJSON_AddNumberToObject(t, "mbit_per_s_received",
	                        (double)s->measured_received * (double)r->opts->size * 8 / secs /
	                            1e6);
	return t;
}

static cJSON *errors_json(const struct load_result *r)
{
	const struct load_stats *s = &r->stats;
	cJSON *e = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(e, "connections"),
	      *m = cJSON_AddObjectToObject(e, "messages");
	uint64_t lost = load_stats_lost(s);

	cJSON_AddNumberToObject(c, "clients", r->opts->clients);
	cJSON_AddNumberToObject(c, "attempted", (double)s->conn_attempts);
	cJSON_AddNumberToObject(c, "established", (double)s->conn_established);
	cJSON_AddNumberToObject(c, "failed", (double)s->conn_failed);
	cJSON_AddNumberToObject(c, "retries", (double)s->conn_retries);
	cJSON_AddNumberToObject(c, "dropped", (double)s->conn_dropped);
	cJSON_AddNumberToObject(c, "refused", (double)s->fail_refused);
	cJSON_AddNumberToObject(c, "timeout", (double)s->fail_timeout);
	cJSON_AddNumberToObject(c, "handshake_rejected", (double)s->fail_handshake);
	cJSON_AddNumberToObject(c, "other", (double)s->fail_other);
	cJSON_AddItemToObject(c, "http_status", codes_json(s->http_status));
	cJSON_AddItemToObject(c, "closed_by_peer", codes_json(s->close_codes));
	cJSON_AddNumberToObject(m, "scheduled", (double)s->scheduled);
	cJSON_AddNumberToObject(m, "sent", (double)s->sent);
	cJSON_AddNumberToObject(m, "not_sent",
	                        (double)(s->scheduled > s->sent ? s->scheduled - s->sent : 0));
	cJSON_AddNumberToObject(m, "received", (double)s->received);
	cJSON_AddNumberToObject(m, "lost", (double)lost);
	cJSON_AddNumberToObject(m, "corrupted", (double)s->corrupted);
	cJSON_AddNumberToObject(m, "unexpected", (double)s->unexpected);
	cJSON_AddNumberToObject(m, "mismatched", (double)(s->corrupted + s->unexpected));
	cJSON_AddNumberToObject(
	    e, "error_rate",
	    s->sent ? (double)(lost + s->corrupted + s->unexpected) / (double)s->sent : 0.0);
	return e;
}

static cJSON *client_json(const struct load_result *r)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddNumberToObject(c, "cpu_seconds", r->cpu_seconds);
	cJSON_AddNumberToObject(c, "cpu_percent_mean", r->cpu_percent_mean);
	cJSON_AddNumberToObject(c, "max_thread_cpu_percent", r->max_thread_cpu_percent);
	cJSON_AddNumberToObject(c, "rss_max_bytes", (double)r->rss_max_bytes);
	cJSON_AddNumberToObject(c, "send_lag_p99_ms",
	                        ms(histogram_percentile(&r->stats.send_lag, 99)));
	cJSON_AddNumberToObject(c, "send_lag_max_ms", ms(r->stats.send_lag.max));
	cJSON_AddNumberToObject(c, "cpu_us_per_message",
	                        r->stats.received ? r->cpu_seconds * 1e6 / (double)r->stats.received
	                                          : 0);
	cJSON_AddBoolToObject(c, "client_limited", r->client_limited);
	cJSON_AddStringToObject(c, "verdict", r->verdict);
	return c;
}

static cJSON *timeline_json(const struct load_result *r)
{
	cJSON *a = cJSON_CreateArray();

	for (unsigned i = 0; i < r->n_timeline; i++) {
		const struct load_second *p = &r->timeline[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "t", p->t);
		cJSON_AddNumberToObject(o, "sent", (double)p->sent);
		cJSON_AddNumberToObject(o, "received", (double)p->received);
		cJSON_AddNumberToObject(o, "p99_ms", p->p99_ms);
		cJSON_AddNumberToObject(o, "connected", p->connected);
		cJSON_AddNumberToObject(o, "cpu_percent", p->cpu_percent);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static int add_histogram(cJSON *parent, const char *name, const struct histogram *h)
{
	char *enc = histogram_encode(h);

	if (!enc)
		return -ENOMEM;
	cJSON_AddStringToObject(parent, name, enc);
	free(enc);
	return 0;
}

char *load_report_json(const struct load_result *r, bool pretty)
{
	cJSON *root = cJSON_CreateObject(), *lat, *hist;
	char start[80], end[80], *out;

	format_iso8601(r->start_wall_ns, start, sizeof(start));
	format_iso8601(r->end_wall_ns, end, sizeof(end));
	cJSON_AddStringToObject(root, "tool", "wsbench-load");
	cJSON_AddStringToObject(root, "version", WSBENCH_VERSION);
	cJSON_AddStringToObject(root, "start", start);
	cJSON_AddStringToObject(root, "end", end);
	cJSON_AddNumberToObject(root, "elapsed_s", r->elapsed);
	cJSON_AddBoolToObject(root, "interrupted", r->interrupted);
	cJSON_AddItemToObject(root, "config", config_json(r));
	cJSON_AddItemToObject(root, LOAD_RESULT_THROUGHPUT, throughput_json(r));
	lat = cJSON_AddObjectToObject(root, LOAD_RESULT_LATENCY);
	cJSON_AddStringToObject(lat, "unit", "ms");
	cJSON_AddItemToObject(lat, "corrected", latency_json(&r->stats.corrected));
	cJSON_AddItemToObject(lat, "uncorrected", latency_json(&r->stats.uncorrected));
	cJSON_AddNumberToObject(lat, "uncorrected_missing", (double)r->stats.uncorrected_missing);
	cJSON_AddItemToObject(root, LOAD_RESULT_ERRORS, errors_json(r));
	cJSON_AddItemToObject(root, LOAD_RESULT_CLIENT, client_json(r));
	cJSON_AddItemToObject(root, LOAD_RESULT_TIMELINE, timeline_json(r));
	hist = cJSON_AddObjectToObject(root, LOAD_RESULT_HISTOGRAM);
	cJSON_AddStringToObject(hist, "unit", "us");
	if (add_histogram(hist, "corrected", &r->stats.corrected) < 0 ||
	    add_histogram(hist, "uncorrected", &r->stats.uncorrected) < 0) {
		cJSON_Delete(root);
		return NULL;
	}
	out = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static void print_latency_row(FILE *f, const char *name, const struct histogram *h)
{
	fprintf(f, "  %-12s", name);
	if (!h->total) {
		fprintf(f, " (no samples)\n");
		return;
	}
	fprintf(f, "%9.3f", ms(histogram_min(h)));
	for (size_t i = 0; i < ELEMENTSOF(percentiles); i++)
		fprintf(f, "%9.3f", ms(histogram_percentile(h, percentiles[i].p)));
	fprintf(f, "%9.3f%9.3f%9.3f\n", ms(h->max), histogram_mean(h) / 1000.0,
	        histogram_stddev(h) / 1000.0);
}

void load_report_text(FILE *f, const struct load_result *r)
{
	const struct load_options *o = r->opts;
	const struct load_stats *s = &r->stats;
	uint64_t lost = load_stats_lost(s);

	fprintf(f, "wsbench-load %s -> %s\n", WSBENCH_VERSION, o->url);
	fprintf(
	    f, "  %u clients over %u threads, ramp-up %.1fs, %s %s messages of %zu B, pattern %s\n",
	    o->clients, r->threads, o->ramp_up, message_type_to_string(o->type), "verified",
	    o->size, pattern_to_string(o->schedule.pattern));
	fprintf(f, "  measured %.1fs after %.1fs warm-up, send times on a %g ms tick%s\n\n",
	        r->measured_seconds, o->warmup, o->tick * 1e3,
	        r->interrupted ? "  (INTERRUPTED)" : "");
	fprintf(f, "Throughput\n");
	fprintf(f, "  target %.0f msg/s   sent %.0f msg/s   received %.0f msg/s   %.2f Mbit/s\n\n",
	        schedule_total_rate(&o->schedule),
	        r->measured_seconds > 0 ? (double)s->measured_sent / r->measured_seconds : 0,
	        load_result_rate(r),
	        r->measured_seconds > 0
	            ? (double)s->measured_received * (double)o->size * 8 / r->measured_seconds / 1e6
	            : 0);
	fprintf(f, "Latency (ms)       min      p50      p90      p99    p99.9   p99.99      max   "
	           "  mean   stddev\n");
	print_latency_row(f, "corrected", &s->corrected);
	print_latency_row(f, "uncorrected", &s->uncorrected);
	print_latency_row(f, "send lag", &s->send_lag);
	fprintf(f, "\nConnections\n");
	fprintf(f,
	        "  established %" PRIu64 "/%u   failed %" PRIu64 " (refused %" PRIu64
	        ", timeout %" PRIu64 ", handshake %" PRIu64 ", other %" PRIu64
	        ")   retries %" PRIu64 "   dropped %" PRIu64 "\n",
	        s->conn_established, o->clients, s->conn_failed, s->fail_refused, s->fail_timeout,
	        s->fail_handshake, s->fail_other, s->conn_retries, s->conn_dropped);
	for (int i = 0; i < LOAD_STATS_CODES && s->http_status[i].count; i++)
		fprintf(f, "  handshake answered HTTP %d: %" PRIu64 "\n", s->http_status[i].code,
		        s->http_status[i].count);
	for (int i = 0; i < LOAD_STATS_CODES && s->close_codes[i].count; i++)
		fprintf(f, "  closed by the server with %d: %" PRIu64 "\n", s->close_codes[i].code,
		        s->close_codes[i].count);
	fprintf(f, "\nMessages\n");
	fprintf(f,
	        "  sent %" PRIu64 "   received %" PRIu64 "   lost %" PRIu64 "   corrupted %" PRIu64
	        "   unexpected %" PRIu64 "   not sent %" PRIu64 "\n\n",
	        s->sent, s->received, lost, s->corrupted, s->unexpected,
	        s->scheduled > s->sent ? s->scheduled - s->sent : 0);
	fprintf(f, "Client\n");
	fprintf(f,
	        "  CPU %.2fs (%.0f%% mean, busiest thread %.0f%%), %.1f us/message, RSS %.1f MiB\n",
	        r->cpu_seconds, r->cpu_percent_mean, r->max_thread_cpu_percent,
	        s->received ? r->cpu_seconds * 1e6 / (double)s->received : 0,
	        (double)r->rss_max_bytes / (1024.0 * 1024.0));
	fprintf(f, "  %s\n", r->verdict);
}
