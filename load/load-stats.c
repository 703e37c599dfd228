/* SPDX-License-Identifier: MIT */
/* Merging of load statistics (see load-stats.h). */
#include <stddef.h>
#include <string.h>

#include "load-stats.h"
#include "macro.h"

void load_stats_init(struct load_stats *s)
{
	memset(s, 0, sizeof(*s));
	histogram_reset(&s->corrected);
	histogram_reset(&s->uncorrected);
	histogram_reset(&s->send_lag);
	histogram_reset(&s->lag_own);
	histogram_reset(&s->lag_wakeup);
	histogram_reset(&s->lag_backpressure);
	histogram_reset(&s->tcp_connect);
	histogram_reset(&s->connect_lag);
	histogram_reset(&s->tls_handshake);
	histogram_reset(&s->upgrade);
	histogram_reset(&s->interval);
}

void load_stats_clear(struct load_stats *s)
{
	struct histogram *h[] = { &s->corrected,   &s->uncorrected,   &s->send_lag,
		                  &s->lag_own,     &s->lag_wakeup,    &s->lag_backpressure,
		                  &s->tcp_connect, &s->tls_handshake, &s->upgrade,
		                  &s->connect_lag, &s->interval };

	for (size_t i = 0; i < ELEMENTSOF(h); i++)
		if (h[i]->total)
			histogram_reset(h[i]);
	memset(s, 0, offsetof(struct load_stats, corrected));
}

static void add_code(struct load_code_count *table, int code, uint64_t n)
{
	for (int i = 0; i < LOAD_STATS_CODES; i++) {
		if (table[i].count && table[i].code == code) {
			table[i].count += n;
			return;
		}
		if (!table[i].count) {
			table[i].code = code;
			table[i].count = n;
			return;
		}
	}
	/* Table full: fold into the last slot rather than lose the count. */
	table[LOAD_STATS_CODES - 1].count += n;
}

void load_stats_count_code(struct load_code_count *table, int code)
{
	add_code(table, code, 1);
}

static void merge_codes(struct load_code_count *to, const struct load_code_count *from)
{
	for (int i = 0; i < LOAD_STATS_CODES && from[i].count; i++)
		add_code(to, from[i].code, from[i].count);
}

void load_stats_merge(struct load_stats *to, const struct load_stats *from)
{
	load_stats_merge_counters(to, from);
	histogram_merge(&to->corrected, &from->corrected);
	histogram_merge(&to->uncorrected, &from->uncorrected);
	histogram_merge(&to->send_lag, &from->send_lag);
	histogram_merge(&to->lag_own, &from->lag_own);
	histogram_merge(&to->lag_wakeup, &from->lag_wakeup);
	histogram_merge(&to->lag_backpressure, &from->lag_backpressure);
	histogram_merge(&to->tcp_connect, &from->tcp_connect);
	histogram_merge(&to->connect_lag, &from->connect_lag);
	histogram_merge(&to->tls_handshake, &from->tls_handshake);
	histogram_merge(&to->upgrade, &from->upgrade);
	histogram_merge(&to->interval, &from->interval);
}

void load_stats_merge_counters(struct load_stats *to, const struct load_stats *from)
{
	to->conn_attempts += from->conn_attempts;
	to->conn_established += from->conn_established;
	to->conn_failed += from->conn_failed;
	to->conn_retries += from->conn_retries;
	to->conn_dropped += from->conn_dropped;
	to->fail_refused += from->fail_refused;
	to->fail_timeout += from->fail_timeout;
	to->fail_handshake += from->fail_handshake;
	to->fail_other += from->fail_other;
	merge_codes(to->http_status, from->http_status);
	merge_codes(to->close_codes, from->close_codes);
	to->connected += from->connected;
	to->scheduled += from->scheduled;
	to->sent += from->sent;
	to->received += from->received;
	to->corrupted += from->corrupted;
	to->unexpected += from->unexpected;
	to->bytes_sent += from->bytes_sent;
	to->bytes_received += from->bytes_received;
	to->measured_sent += from->measured_sent;
	to->measured_received += from->measured_received;
	to->uncorrected_missing += from->uncorrected_missing;
	to->fail_tls += from->fail_tls;
	to->tls_handshakes += from->tls_handshakes;
	to->tls_resumed += from->tls_resumed;
	to->tls_errors += from->tls_errors;
	to->protocol_errors += from->protocol_errors;
	to->deflate_errors += from->deflate_errors;
	to->deflate_accepted += from->deflate_accepted;
	to->wire_bytes_sent += from->wire_bytes_sent;
	to->wire_bytes_received += from->wire_bytes_received;
	to->backpressure_sends += from->backpressure_sends;
	to->last_established_ns = MAX(to->last_established_ns, from->last_established_ns);
}
