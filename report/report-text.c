/* SPDX-License-Identifier: MIT */
/*
 * The readable summary (see report-text.h). Sections both documents have are
 * written by the same code; only the head (who ran what) and the resources
 * (sampled by the daemon, or measured by wsbench-load itself) depend on
 * which document it is.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "report-text.h"

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItem(o, key);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(get(o, key));

	return s ? s : "";
}

/* NaN when missing: printed as such rather than as a made-up 0. */
static double jnum(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(get(o, key));
}

/* A stored report: the run, who ran it where, and the scenario. */
static void write_run_head(FILE *out, const cJSON *doc)
{
	const cJSON *meta = get(doc, "metadata"), *cc = get(doc, "clientConfig");

	fprintf(out, "Run %s: %s on %s (%s), %s\n", jstr(meta, "id"), jstr(meta, "scenario"),
	        jstr(meta, "server"), jstr(meta, "language"), jstr(meta, "state"));
	if (jstr(meta, "failure_reason")[0])
		fprintf(out, "  failed: %s\n", jstr(meta, "failure_reason"));
	fprintf(out, "  %s .. %s on %s, wsbench %s", jstr(meta, "start"), jstr(meta, "end"),
	        jstr(meta, "host"), jstr(meta, "wsbench_version"));
	if (jstr(meta, "git_revision")[0])
		fprintf(out, " (%s)", jstr(meta, "git_revision"));
	fprintf(out, "\n");
	if (cJSON_IsObject(get(meta, "machine"))) {
		const cJSON *m = get(meta, "machine");

		fprintf(out, "  machine: %s, %.0f CPUs, governor %s; kernel %s\n",
		        jstr(m, "cpu_model"), jnum(m, "cpus"), jstr(m, "governor"),
		        jstr(m, "kernel"));
	}
	fprintf(out,
	        "  %.0f clients, ramp-up %gs, %s %g msg/s per client, %.0f B %s, %gs after %gs "
	        "warm-up\n\n",
	        jnum(cc, "clients"), jnum(cc, "ramp_up_s"), jstr(cc, "pattern"),
	        jnum(cc, "rate_per_client"), jnum(cc, "message_size"), jstr(cc, "message_type"),
	        jnum(cc, "duration_s"), jnum(cc, "warmup_s"));
}

/* wsbench-load's own result: the tool, its target and its settings. */
static void write_load_head(FILE *out, const cJSON *doc)
{
	const cJSON *c = get(doc, "config"), *tp = get(doc, "throughput");

	fprintf(out, "wsbench-load %s -> %s\n", jstr(doc, "version"), jstr(c, "url"));
	fprintf(out,
	        "  %.0f clients over %.0f threads, ramp-up %.1fs, %s verified messages of %.0f B, "
	        "pattern %s\n",
	        jnum(c, "clients"), jnum(c, "threads"), jnum(c, "ramp_up_s"),
	        jstr(c, "message_type"), jnum(c, "message_size"), jstr(c, "pattern"));
	fprintf(out, "  measured %.1fs after %.1fs warm-up, send times on a %g ms tick%s\n\n",
	        jnum(tp, "measured_seconds"), jnum(c, "warmup_s"), jnum(c, "tick_ms"),
	        cJSON_IsTrue(get(doc, "interrupted")) ? "  (INTERRUPTED)" : "");
}

static void write_latency(FILE *out, const char *name, const cJSON *l)
{
	if (!cJSON_IsObject(l) || jnum(l, "count") == 0) {
		fprintf(out, "  %-12s (no samples)\n", name);
		return;
	}
	fprintf(out, "  %-12s%9.3f%9.3f%9.3f%9.3f%9.3f%9.3f%9.3f%9.3f%9.3f\n", name, jnum(l, "min"),
	        jnum(l, "p50"), jnum(l, "p90"), jnum(l, "p99"), jnum(l, "p99_9"), jnum(l, "p99_99"),
	        jnum(l, "max"), jnum(l, "mean"), jnum(l, "stddev"));
}

static void write_measurements(FILE *out, const cJSON *doc)
{
	const cJSON *tp = get(doc, "throughput"), *lat = get(doc, "latency");
	const cJSON *err = get(doc, "errors"), *conn = get(err, "connections"),
	            *msg = get(err, "messages");

	if (cJSON_IsObject(tp))
		fprintf(out,
		        "Throughput\n  target %.0f msg/s   sent %.0f msg/s   received %.0f msg/s   "
		        "%.2f Mbit/s\n\n",
		        jnum(tp, "target_rate"), jnum(tp, "send_rate"), jnum(tp, "receive_rate"),
		        jnum(tp, "mbit_per_s_received"));
	fprintf(out, "Latency (ms)       min      p50      p90      p99    p99.9   p99.99      max "
	             "    mean   stddev\n");
	write_latency(out, "corrected", get(lat, "corrected"));
	write_latency(out, "uncorrected", get(lat, "uncorrected"));
	if (cJSON_IsObject(conn))
		fprintf(out,
		        "\nErrors\n  connections: %.0f/%.0f established, %.0f failed (refused "
		        "%.0f, timeout %.0f, handshake %.0f), %.0f dropped\n",
		        jnum(conn, "established"), jnum(conn, "clients"), jnum(conn, "failed"),
		        jnum(conn, "refused"), jnum(conn, "timeout"),
		        jnum(conn, "handshake_rejected"), jnum(conn, "dropped"));
	if (cJSON_IsObject(msg))
		fprintf(out,
		        "  messages: %.0f sent, %.0f received, %.0f lost, %.0f mismatched; error "
		        "rate %.4f%%\n",
		        jnum(msg, "sent"), jnum(msg, "received"), jnum(msg, "lost"),
		        jnum(msg, "mismatched"), jnum(err, "error_rate") * 100);
}

/* wss:// (wsbench-load's "tls") and permessage-deflate ("deflate"), when
 * the run used them: what was negotiated and what it cost on the wire. */
static void write_tls_deflate(FILE *out, const cJSON *doc)
{
	const cJSON *tls = get(doc, "tls"), *hs = get(tls, "handshake_ms"),
	            *d = get(doc, "deflate"), *tp = get(doc, "throughput");

	if (cJSON_IsObject(tls))
		fprintf(out,
		        "\nTLS\n  %s, %s, verification: %s; %.0f handshakes (%.0f resumed, %.0f "
		        "failed), handshake p50 %.3f ms p99 %.3f ms\n",
		        jstr(tls, "version"), jstr(tls, "cipher"), jstr(tls, "verify"),
		        jnum(tls, "handshakes"), jnum(tls, "resumed"), jnum(tls, "failed"),
		        jnum(hs, "p50"), jnum(hs, "p99"));
	if (cJSON_IsObject(d)) {
		fprintf(out, "\nDeflate\n");
		if (cJSON_IsTrue(get(d, "accepted")))
			fprintf(
			    out,
			    "  accepted on %.0f connections: window bits client %.0f server %.0f, "
			    "no context takeover client %s server %s; %.0f errors\n",
			    jnum(d, "connections"), jnum(d, "client_max_window_bits"),
			    jnum(d, "server_max_window_bits"),
			    cJSON_IsTrue(get(d, "client_no_context_takeover")) ? "yes" : "no",
			    cJSON_IsTrue(get(d, "server_no_context_takeover")) ? "yes" : "no",
			    jnum(d, "errors"));
		else
			fprintf(out, "  offered, not accepted by the server\n");
	}
	if ((cJSON_IsObject(tls) || cJSON_IsObject(d)) &&
	    cJSON_IsNumber(get(tp, "wire_bytes_per_message_sent")))
		fprintf(out,
		        "  bytes per message: payload %.0f, on the wire %.1f sent, %.1f received\n",
		        jnum(tp, "payload_bytes_per_message"),
		        jnum(tp, "wire_bytes_per_message_sent"),
		        jnum(tp, "wire_bytes_per_message_received"));
}

/* How quiet the machine was (reports from before it have no "noise"). */
static void write_noise(FILE *out, const cJSON *doc)
{
	const cJSON *noise = get(doc, "noise"), *th = get(noise, "thresholds"), *e;
	const char *verdict = jstr(noise, "verdict");
	bool first = true;

	if (!cJSON_IsObject(noise))
		return;
	if (strcmp(verdict, "noisy") == 0) {
		fprintf(out, "  NOISY: ");
		cJSON_ArrayForEach(e, get(noise, "reasons"))
		{
			fprintf(out, "%s%s", first ? "" : "; ", cJSON_GetStringValue(e) ?: "?");
			first = false;
		}
		fprintf(out, "\n");
		return;
	}
	if (strcmp(verdict, "quiet") != 0) {
		const cJSON *why = cJSON_GetArrayItem(get(noise, "reasons"), 0);

		fprintf(out, "  noise: %s%s%s%s\n", verdict[0] ? verdict : "?", why ? " (" : "",
		        why ? cJSON_GetStringValue(why) ?: "?" : "", why ? ")" : "");
		return;
	}
	fprintf(out,
	        "  the machine was quiet: other processes %.0f%% of a core (threshold %g%%), steal "
	        "%.1f%% (threshold %g%%), ",
	        jnum(noise, "other_cpu_percent_mean"), jnum(th, "other_cpu_percent"),
	        jnum(noise, "steal_percent_mean"), jnum(th, "steal_percent"));
	if (cJSON_IsNumber(get(noise, "freq_change_percent")))
		fprintf(out, "frequency changed %.0f%% (threshold %g%%)\n",
		        jnum(noise, "freq_change_percent"), jnum(th, "freq_change_percent"));
	else
		fprintf(out, "frequency: not available\n");
}

/* The daemon sampled both processes from /proc. */
static void write_resource_usage(FILE *out, const cJSON *doc)
{
	const cJSON *use = get(doc, "resourceUsage"), *ss = get(use, "server_summary"),
	            *cs = get(use, "client_summary"), *cl = get(doc, "client");

	fprintf(out, "\nResources (sampled every %.0f ms)\n", jnum(use, "interval_ms"));
	if (cJSON_IsObject(ss) && jnum(ss, "samples") > 0)
		fprintf(out, "  server: CPU mean %.1f%% max %.1f%%, RSS max %.1f MiB\n",
		        jnum(ss, "cpu_percent_mean"), jnum(ss, "cpu_percent_max"),
		        jnum(ss, "rss_bytes_max") / 1048576.0);
	else
		fprintf(out, "  server: not sampled\n");
	if (cJSON_IsArray(get(doc, "agents")))
		fprintf(out, "  client: on %d agents, %.2f CPU-s in all, %.1f us/message\n",
		        cJSON_GetArraySize(get(doc, "agents")), jnum(cl, "cpu_seconds"),
		        jnum(cl, "cpu_us_per_message"));
	else if (cJSON_IsObject(cs))
		fprintf(out, "  client: CPU mean %.1f%% max %.1f%%, RSS max %.1f MiB\n",
		        jnum(cs, "cpu_percent_mean"), jnum(cs, "cpu_percent_max"),
		        jnum(cs, "rss_bytes_max") / 1048576.0);
	if (cJSON_IsObject(cl))
		fprintf(out, "  %s\n", jstr(cl, "verdict"));
	write_noise(out, doc);
}

/* wsbench-load measured itself. */
static void write_client(FILE *out, const cJSON *doc)
{
	const cJSON *cl = get(doc, "client");

	if (!cJSON_IsObject(cl))
		return;
	fprintf(out, "\nClient\n");
	fprintf(out,
	        "  CPU %.2fs (%.0f%% mean, busiest thread %.0f%%), %.1f us/message, RSS %.1f MiB; "
	        "send lag p99 %.3f ms, max %.3f ms\n",
	        jnum(cl, "cpu_seconds"), jnum(cl, "cpu_percent_mean"),
	        jnum(cl, "max_thread_cpu_percent"), jnum(cl, "cpu_us_per_message"),
	        jnum(cl, "rss_max_bytes") / 1048576.0, jnum(cl, "send_lag_p99_ms"),
	        jnum(cl, "send_lag_max_ms"));
	if (get(cl, "own_lag_p99_ms"))
		fprintf(out,
		        "  send lag p99 by cause: own %.3f ms, late wakeups %.3f ms, "
		        "backpressure %.3f ms\n",
		        jnum(cl, "own_lag_p99_ms"), jnum(cl, "wakeup_lag_p99_ms"),
		        jnum(cl, "backpressure_lag_p99_ms"));
	fprintf(out, "  %s\n", jstr(cl, "verdict"));
}

/* A distributed run: each agent's share and its own figures. */
static void write_agents(FILE *out, const cJSON *doc)
{
	const cJSON *agents = get(doc, "agents"), *a;

	if (!cJSON_IsArray(agents))
		return;
	fprintf(out, "\nAgents (figures above merged from all of them)\n");
	cJSON_ArrayForEach(a, agents)
	{
		const cJSON *t = get(a, "throughput"), *l = get(get(a, "latency"), "corrected");

		fprintf(out, "  %s: %.0f clients, clock %+.3f ms (round trip %.3f ms), part %s %s",
		        jstr(a, "agent"), jnum(a, "clients"), jnum(a, "clock_offset_ms"),
		        jnum(a, "round_trip_ms"), jstr(a, "run"), jstr(a, "state"));
		if (cJSON_IsObject(t))
			fprintf(out, ": %.0f msg/s, p99 %.3f ms%s", jnum(t, "receive_rate"),
			        jnum(l, "p99"),
			        cJSON_IsTrue(get(get(a, "client"), "client_limited"))
			            ? ", CLIENT-LIMITED"
			            : "");
		fputc('\n', out);
	}
}

void report_text_write(FILE *out, const cJSON *doc)
{
	bool stored = cJSON_IsObject(get(doc, "metadata"));

	if (stored)
		write_run_head(out, doc);
	else
		write_load_head(out, doc);
	write_measurements(out, doc);
	write_tls_deflate(out, doc);
	if (stored)
		write_resource_usage(out, doc);
	else
		write_client(out, doc);
	write_agents(out, doc);
}
