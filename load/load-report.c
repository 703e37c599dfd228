/* SPDX-License-Identifier: MIT */
/*
 * Presentation of a load result: the JSON document (the same sections the
 * daemon's reports use: config, throughput, latency, errors, client,
 * timeline, histogram), which is also what the readable summary is rendered
 * from (report/report-text.c, the same summary wsbenchctl prints). cJSON
 * stays in this file.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"
#include "load-protocol.h"
#include "histogram-json.h"
#include "load-report.h"
#include "macro.h"
#include "report-text.h"
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
	cJSON_AddStringToObject(c, "payload", message_payload_to_string(o->payload));
	cJSON_AddBoolToObject(c, "tls", o->tls);
	if (o->tls) {
		/* How the server's certificate was checked: against --ca, the
		 * system's trust store, or not at all (--insecure). */
		cJSON_AddStringToObject(c, "tls_verify",
		                        o->insecure  ? "none"
		                        : o->ca_file ? "ca"
		                                     : "system");
		if (o->ca_file)
			cJSON_AddStringToObject(c, "tls_ca", o->ca_file);
		cJSON_AddBoolToObject(c, "insecure", o->insecure);
		cJSON_AddStringToObject(c, "tls_server_name", o->server_name);
	}
	cJSON_AddBoolToObject(c, "deflate", o->deflate);
	if (o->deflate) {
		char offer[WS_DEFLATE_OFFER_MAX];

		if (ws_deflate_offer_format(&o->deflate_offer, offer, sizeof(offer)) > 0)
			cJSON_AddStringToObject(c, "deflate_offer", offer);
	}
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
	/* What a message cost on the wire, each way: frame headers, TLS
	 * records, compression, and the handshakes and control frames spread
	 * over the messages. */
	cJSON_AddNumberToObject(t, "payload_bytes_per_message", (double)r->opts->size);
	cJSON_AddNumberToObject(t, "wire_bytes_sent", (double)s->wire_bytes_sent);
	cJSON_AddNumberToObject(t, "wire_bytes_received", (double)s->wire_bytes_received);
	cJSON_AddNumberToObject(t, "wire_bytes_per_message_sent",
	                        s->sent ? (double)s->wire_bytes_sent / (double)s->sent : 0);
	cJSON_AddNumberToObject(t, "wire_bytes_per_message_received",
	                        s->received + s->corrupted
	                            ? (double)s->wire_bytes_received /
	                                  (double)(s->received + s->corrupted)
	                            : 0);
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
	cJSON_AddNumberToObject(c, "tls_failed", (double)s->fail_tls);
	cJSON_AddNumberToObject(c, "tls_errors", (double)s->tls_errors);
	cJSON_AddNumberToObject(c, "protocol_errors", (double)s->protocol_errors);
	cJSON_AddNumberToObject(c, "deflate_errors", (double)s->deflate_errors);
	if (r->tls_error[0])
		cJSON_AddStringToObject(c, "tls_first_error", r->tls_error);
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
	/* The send lag by cause: only the first is the client's. */
	cJSON_AddNumberToObject(c, "own_lag_p99_ms",
	                        ms(histogram_percentile(&r->stats.lag_own, 99)));
	cJSON_AddNumberToObject(c, "wakeup_lag_p99_ms",
	                        ms(histogram_percentile(&r->stats.lag_wakeup, 99)));
	cJSON_AddNumberToObject(c, "backpressure_lag_p99_ms",
	                        ms(histogram_percentile(&r->stats.lag_backpressure, 99)));
	cJSON_AddNumberToObject(c, "backpressure_sends", (double)r->stats.backpressure_sends);
	cJSON_AddBoolToObject(c, "machine_delayed", r->machine_delayed);
	cJSON_AddNumberToObject(c, "cpu_us_per_message",
	                        r->stats.received ? r->cpu_seconds * 1e6 / (double)r->stats.received
	                                          : 0);
	cJSON_AddBoolToObject(c, "client_limited", r->client_limited);
	cJSON_AddStringToObject(c, "verdict", r->verdict);
	return c;
}

/*
 * The "ramp" section: how fast connections were set up against the
 * configured rate (clients / ramp-up; all at once when the ramp-up is 0),
 * and how late the first attempts started against their timetable.
 */
static cJSON *ramp_json(const struct load_result *r)
{
	const struct load_stats *s = &r->stats;
	cJSON *j = cJSON_CreateObject();
	double span = s->last_established_ns > r->epoch_ns
	                  ? (double)(s->last_established_ns - r->epoch_ns) / 1e9
	                  : 0;

	cJSON_AddNumberToObject(j, "clients", r->opts->clients);
	cJSON_AddNumberToObject(j, "ramp_up_s", r->opts->ramp_up);
	if (r->opts->ramp_up > 0)
		cJSON_AddNumberToObject(j, "configured_per_s", r->opts->clients / r->opts->ramp_up);
	else
		cJSON_AddNullToObject(j, "configured_per_s");
	cJSON_AddNumberToObject(j, "established", (double)s->conn_established);
	cJSON_AddNumberToObject(j, "last_established_s", span);
	cJSON_AddNumberToObject(j, "achieved_per_s",
	                        span > 0 ? (double)s->conn_established / span : 0);
	cJSON_AddItemToObject(j, "attempt_lag_ms", histogram_latency_json(&s->connect_lag));
	return j;
}

/* The "tls" section: what was agreed, how often, and how long the
 * handshakes took (apart from the WebSocket upgrade). */
static cJSON *tls_json(const struct load_result *r)
{
	const struct load_stats *s = &r->stats;
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "version", r->tls_version);
	cJSON_AddStringToObject(t, "cipher", r->tls_cipher);
	cJSON_AddStringToObject(t, "verify",
	                        r->opts->insecure  ? "none (--insecure)"
	                        : r->opts->ca_file ? "ca"
	                                           : "system");
	cJSON_AddNumberToObject(t, "handshakes", (double)s->tls_handshakes);
	cJSON_AddNumberToObject(t, "resumed", (double)s->tls_resumed);
	cJSON_AddNumberToObject(t, "failed", (double)s->fail_tls);
	cJSON_AddNumberToObject(t, "errors", (double)s->tls_errors);
	if (r->tls_error[0])
		cJSON_AddStringToObject(t, "first_error", r->tls_error);
	cJSON_AddItemToObject(t, "handshake_ms", histogram_latency_json(&s->tls_handshake));
	return t;
}

/* The "deflate" section: what the server accepted (RFC 7692 section 7). */
static cJSON *deflate_json(const struct load_result *r)
{
	const struct load_stats *s = &r->stats;
	cJSON *d = cJSON_CreateObject();

	cJSON_AddBoolToObject(d, "accepted", r->pmd_seen);
	cJSON_AddNumberToObject(d, "connections", (double)s->deflate_accepted);
	if (r->pmd_seen) {
		cJSON_AddBoolToObject(d, "client_no_context_takeover",
		                      r->pmd.client_no_context_takeover);
		cJSON_AddBoolToObject(d, "server_no_context_takeover",
		                      r->pmd.server_no_context_takeover);
		cJSON_AddNumberToObject(d, "client_max_window_bits", r->pmd.client_max_window_bits);
		cJSON_AddNumberToObject(d, "server_max_window_bits", r->pmd.server_max_window_bits);
		cJSON_AddNumberToObject(d, "client_level", r->pmd.level);
		cJSON_AddStringToObject(d, "client_strategy",
		                        r->pmd.literals_only ? "huffman-only" : "default");
	}
	cJSON_AddNumberToObject(d, "errors", (double)s->deflate_errors);
	return d;
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

/* The result as a JSON tree. Return: NULL on allocation failure. */
static cJSON *result_json(const struct load_result *r)
{
	_cleanup_json_ cJSON *root = cJSON_CreateObject();
	cJSON *lat, *hist;
	char start[80], end[80];

	if (!root)
		return NULL;
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
	cJSON_AddItemToObject(lat, "corrected", histogram_latency_json(&r->stats.corrected));
	cJSON_AddItemToObject(lat, "uncorrected", histogram_latency_json(&r->stats.uncorrected));
	cJSON_AddNumberToObject(lat, "uncorrected_missing", (double)r->stats.uncorrected_missing);
	/* Connection set-up, each step on its own: connect() to TCP
	 * established (read at most a tick late), the TLS handshake, the
	 * upgrade request to its 101 (timed by the kernel's receive stamp). */
	cJSON_AddItemToObject(lat, "tcp_connect", histogram_latency_json(&r->stats.tcp_connect));
	cJSON_AddItemToObject(lat, "upgrade", histogram_latency_json(&r->stats.upgrade));
	if (r->opts->tls)
		cJSON_AddItemToObject(lat, "tls_handshake",
		                      histogram_latency_json(&r->stats.tls_handshake));
	cJSON_AddItemToObject(root, "ramp", ramp_json(r));
	cJSON_AddItemToObject(root, LOAD_RESULT_ERRORS, errors_json(r));
	if (r->opts->tls)
		cJSON_AddItemToObject(root, "tls", tls_json(r));
	if (r->opts->deflate)
		cJSON_AddItemToObject(root, "deflate", deflate_json(r));
	cJSON_AddItemToObject(root, LOAD_RESULT_CLIENT, client_json(r));
	cJSON_AddItemToObject(root, LOAD_RESULT_TIMELINE, timeline_json(r));
	hist = cJSON_AddObjectToObject(root, LOAD_RESULT_HISTOGRAM);
	cJSON_AddStringToObject(hist, "unit", "us");
	if (add_histogram(hist, "corrected", &r->stats.corrected) < 0 ||
	    add_histogram(hist, "uncorrected", &r->stats.uncorrected) < 0)
		return NULL;
	return TAKE_PTR(root);
}

char *load_report_json(const struct load_result *r, bool pretty)
{
	_cleanup_json_ cJSON *root = result_json(r);

	if (!root)
		return NULL;
	return pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
}

int load_report_text(FILE *f, const struct load_result *r)
{
	_cleanup_json_ cJSON *root = result_json(r);

	if (!root)
		return -ENOMEM;
	report_text_write(f, root);
	return 0;
}

int load_report_print(const struct load_result *r, enum load_format format)
{
	char *json;

	if (format == FORMAT_TEXT)
		return load_report_text(stdout, r);
	json = load_report_json(r, format == FORMAT_JSON);
	if (!json)
		return -ENOMEM;
	if (format == FORMAT_JSONL)
		printf(LOAD_JSONL_RESULT_START "%s}\n", json);
	else
		printf("%s\n", json);
	free(json);
	return 0;
}

enum load_exit load_result_exit(const struct load_result *r)
{
	const struct load_stats *s = &r->stats;

	if (r->interrupted)
		return LOAD_EXIT_INTERRUPTED;
	if (s->conn_failed || s->conn_dropped || load_stats_lost(s) || s->corrupted ||
	    s->unexpected || s->scheduled > s->sent)
		return LOAD_EXIT_ERRORS;
	return LOAD_EXIT_OK;
}
