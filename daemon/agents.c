/* SPDX-License-Identifier: MIT */
/*
 * Distributed runs, the arithmetic (see agents.h).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents.h"
#include "histogram.h"
#include "histogram-json.h"
#include "load-protocol.h"
#include "macro.h"

/* ---- specs --------------------------------------------------------------- */

int agent_spec_parse(const char *s, struct agent_spec *ret, char *err, size_t errlen)
{
	const char *star = strrchr(s, '*');
	size_t len = star ? (size_t)(star - s) : strlen(s);
	struct agent_spec a = { .weight = 1 };

	if (star) {
		char *end;

		a.weight = strtod(star + 1, &end);
		if (end == star + 1 || *end || !isfinite(a.weight) || a.weight <= 0 ||
		    a.weight > 1000) {
			snprintf(err, errlen,
			         "\"%s\": the weight after '*' must be a number above 0", s);
			return -EINVAL;
		}
	}
	if (len == 0 || len >= sizeof(a.where)) {
		snprintf(err, errlen, "\"%s\": expected [USER@]HOST or a D-Bus address", s);
		return -EINVAL;
	}
	memcpy(a.where, s, len);
	a.where[len] = '\0';
	/* A D-Bus address is "transport:key=value,..."; a host has neither. */
	a.kind = strchr(a.where, ':') && strchr(a.where, '=') ? AGENT_ADDRESS : AGENT_SSH;
	if (a.kind == AGENT_SSH &&
	    strspn(a.where, "abcdefghijklmnopqrstuvwxyz"
	                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@:[]") != len) {
		snprintf(err, errlen, "\"%s\": expected [USER@]HOST or a D-Bus address", s);
		return -EINVAL;
	}
	*ret = a;
	return 0;
}

int agent_list_add(struct agent_list *l, const char *spec, char *err, size_t errlen)
{
	struct agent_spec a;
	char **grown, *copy;
	int r = agent_spec_parse(spec, &a, err, errlen);

	if (r < 0)
		return r;
	if (l->n == AGENTS_MAX) {
		snprintf(err, errlen, "at most %d agents", AGENTS_MAX);
		return -EINVAL;
	}
	grown = realloc(l->v, (l->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	l->v = grown;
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	l->v[l->n++] = copy;
	return 0;
}

int agent_list_parse(struct agent_list *l, const char *csv, char *err, size_t errlen)
{
	_cleanup_free_ char *buf = strdup(csv);
	char *save = NULL;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	if (strcmp(csv, "local") == 0) {
		l->local = true;
		return 0;
	}
	for (char *t = strtok_r(buf, ",", &save); t && r >= 0; t = strtok_r(NULL, ",", &save))
		r = agent_list_add(l, t + strspn(t, " "), err, errlen);
	return r;
}

int agent_list_copy(struct agent_list *to, const struct agent_list *from)
{
	char err[8];

	*to = (struct agent_list){ .local = from->local };
	for (size_t i = 0; i < from->n; i++)
		if (agent_list_add(to, from->v[i], err, sizeof(err)) < 0) {
			agent_list_free(to);
			return -ENOMEM;
		}
	return 0;
}

void agent_list_free(struct agent_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct agent_list){ 0 };
}

bool agent_list_names(const struct agent_list *l, const char *spec)
{
	struct agent_spec want, have;
	char err[256];

	if (agent_spec_parse(spec, &want, err, sizeof(err)) < 0)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (agent_spec_parse(l->v[i], &have, err, sizeof(err)) == 0 &&
		    have.kind == want.kind && strcmp(have.where, want.where) == 0)
			return true;
	return false;
}

void agent_list_format(const struct agent_list *l, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", l->v[i]);
}

int agents_split(unsigned clients, const double *weights, size_t n, unsigned *out)
{
	double total = 0, rem[AGENTS_MAX];
	unsigned given = 0;

	if (n == 0 || n > AGENTS_MAX || clients < n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		total += weights[i];
	/* One each first, so that no agent is idle; the rest by weight. */
	for (size_t i = 0; i < n; i++) {
		double share = (double)(clients - n) * weights[i] / total;

		out[i] = 1 + (unsigned)floor(share);
		rem[i] = share - floor(share);
		given += out[i];
	}
	while (given < clients) {
		size_t best = 0;

		for (size_t i = 1; i < n; i++)
			if (rem[i] > rem[best])
				best = i;
		out[best]++;
		rem[best] = -1;
		given++;
	}
	return 0;
}

int clock_offset(const struct clock_sample *s, size_t n, int64_t *offset_ns, int64_t *rtt_ns)
{
	size_t best = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 1; i < n; i++)
		if (s[i].received_ns - s[i].sent_ns < s[best].received_ns - s[best].sent_ns)
			best = i;
	*rtt_ns = s[best].received_ns - s[best].sent_ns;
	*offset_ns = s[best].remote_ns - (s[best].sent_ns + *rtt_ns / 2);
	return 0;
}

/* ---- merging ------------------------------------------------------------- */

static double num(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(j) ? j->valuedouble : 0;
}

/* Every number in @from added to the same place in @to (objects recursively;
 * a key @to lacks is copied). */
static void add_numbers(cJSON *to, const cJSON *from)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, from)
	{
		cJSON *t = cJSON_GetObjectItemCaseSensitive(to, f->string);

		if (!t)
			cJSON_AddItemToObject(to, f->string, cJSON_Duplicate(f, true));
		else if (cJSON_IsNumber(t) && cJSON_IsNumber(f))
			cJSON_SetNumberValue(t, t->valuedouble + f->valuedouble);
		else if (cJSON_IsObject(t) && cJSON_IsObject(f))
			add_numbers(t, f);
	}
}

static void set_number(cJSON *o, const char *key, double v)
{
	cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsNumber(j))
		cJSON_SetNumberValue(j, v);
	else
		cJSON_AddNumberToObject(o, key, v);
}

/* Counts and rates add up: every part measured the same window (they
 * started at one instant), so their rates are rates of the same seconds. */
static cJSON *merge_sums(const cJSON *const *parts, size_t n, const char *section)
{
	cJSON *sum = cJSON_CreateObject();

	for (size_t i = 0; i < n; i++)
		add_numbers(sum, cJSON_GetObjectItemCaseSensitive(parts[i], section));
	return sum;
}

/*
 * A per-message figure is not a sum: "X_per_message_sent" is recomputed as
 * X_sent / messages_sent (and so for _received) when both are there; any
 * other (the payload size) is every part's own, the first part's kept.
 */
static void fix_per_message(cJSON *t, const cJSON *first)
{
	cJSON *item;

	cJSON_ArrayForEach(item, t)
	{
		const char *key = item->string, *at = strstr(key, "_per_message");
		char num_key[128], den_key[64];
		const char *dir;

		if (!at || !cJSON_IsNumber(item))
			continue;
		dir = at + strlen("_per_message"); /* "_sent", "_received" or "" */
		snprintf(num_key, sizeof(num_key), "%.*s%s", (int)(at - key), key, dir);
		snprintf(den_key, sizeof(den_key), "messages%s", dir);
		if (dir[0] && num(t, den_key) > 0 && cJSON_GetObjectItem(t, num_key))
			cJSON_SetNumberValue(item, num(t, num_key) / num(t, den_key));
		else
			cJSON_SetNumberValue(item, num(first, key));
	}
}

static cJSON *merge_throughput(const cJSON *const *parts, size_t n)
{
	cJSON *t = merge_sums(parts, n, LOAD_RESULT_THROUGHPUT);
	double secs = 0;

	fix_per_message(t, cJSON_GetObjectItem(parts[0], LOAD_RESULT_THROUGHPUT));

	for (size_t i = 0; i < n; i++)
		secs = MAX(secs, num(cJSON_GetObjectItem(parts[i], LOAD_RESULT_THROUGHPUT),
		                     "measured_seconds"));
	set_number(t, "measured_seconds", secs);
	return t;
}

static cJSON *merge_errors(const cJSON *const *parts, size_t n)
{
	cJSON *e = merge_sums(parts, n, LOAD_RESULT_ERRORS);
	const cJSON *m = cJSON_GetObjectItem(e, "messages");
	double sent = num(m, "sent");

	set_number(e, "error_rate",
	           sent > 0 ? (num(m, "lost") + num(m, "corrupted") + num(m, "unexpected")) / sent
	                    : 0);
	return e;
}

/* The client: CPU summed over the agents; send lag and RSS the worst; the
 * verdict each limited part's, with its name. */
static cJSON *merge_client(const cJSON *const *parts, const char *const *names, size_t n,
                           double received)
{
	cJSON *c = cJSON_CreateObject();
	double cpu = 0, lag = 0, lag_max = 0, rss = 0, thread = 0;
	char verdict[1024] = "";
	bool limited = false;

	for (size_t i = 0; i < n; i++) {
		const cJSON *p = cJSON_GetObjectItem(parts[i], LOAD_RESULT_CLIENT);
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(p, "verdict"));
		size_t used = strlen(verdict);

		cpu += num(p, "cpu_seconds");
		lag = MAX(lag, num(p, "send_lag_p99_ms"));
		lag_max = MAX(lag_max, num(p, "send_lag_max_ms"));
		rss = MAX(rss, num(p, "rss_max_bytes"));
		thread = MAX(thread, num(p, "max_thread_cpu_percent"));
		if (cJSON_IsTrue(cJSON_GetObjectItem(p, "client_limited"))) {
			limited = true;
			snprintf(verdict + used, sizeof(verdict) - used, "%sagent %s: %s",
			         used ? "; " : "", names[i], v ? v : "client-limited");
		}
	}
	cJSON_AddNumberToObject(c, "cpu_seconds", cpu);
	cJSON_AddNumberToObject(c, "max_thread_cpu_percent", thread);
	cJSON_AddNumberToObject(c, "rss_max_bytes", rss);
	cJSON_AddNumberToObject(c, "send_lag_p99_ms", lag);
	cJSON_AddNumberToObject(c, "send_lag_max_ms", lag_max);
	cJSON_AddNumberToObject(c, "cpu_us_per_message", received > 0 ? cpu * 1e6 / received : 0);
	cJSON_AddBoolToObject(c, "client_limited", limited);
	cJSON_AddStringToObject(
	    c, "verdict", limited ? verdict : "not client-limited: no agent lagged its schedule");
	cJSON_AddStringToObject(c, "merged",
	                        "cpu_seconds summed over the agents; send lag, RSS and thread CPU "
	                        "the worst agent's");
	return c;
}

/* Second by second: counts and connections summed, CPU summed (percent of
 * one core on each machine), p99 the worst agent's. */
static cJSON *merge_timeline(const cJSON *const *parts, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	int len = 0;

	for (size_t i = 0; i < n; i++)
		len = MAX(len,
		          cJSON_GetArraySize(cJSON_GetObjectItem(parts[i], LOAD_RESULT_TIMELINE)));
	for (int s = 0; s < len; s++) {
		cJSON *o = cJSON_CreateObject();
		double t = 0, sent = 0, recv = 0, conn = 0, cpu = 0, p99 = 0;

		for (size_t i = 0; i < n; i++) {
			const cJSON *e = cJSON_GetArrayItem(
			    cJSON_GetObjectItem(parts[i], LOAD_RESULT_TIMELINE), s);

			if (!e)
				continue;
			t = MAX(t, num(e, "t"));
			sent += num(e, LOAD_KEY_SENT);
			recv += num(e, LOAD_KEY_RECEIVED);
			conn += num(e, LOAD_KEY_CONNECTED);
			cpu += num(e, "cpu_percent");
			p99 = MAX(p99, num(e, LOAD_KEY_P99));
		}
		cJSON_AddNumberToObject(o, "t", t);
		cJSON_AddNumberToObject(o, LOAD_KEY_SENT, sent);
		cJSON_AddNumberToObject(o, LOAD_KEY_RECEIVED, recv);
		cJSON_AddNumberToObject(o, LOAD_KEY_P99, p99);
		cJSON_AddNumberToObject(o, LOAD_KEY_CONNECTED, conn);
		cJSON_AddNumberToObject(o, "cpu_percent", cpu);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* The histograms of every part, added. */
static int merge_histograms(const cJSON *const *parts, size_t n, const char *which,
                            struct histogram *out)
{
	struct histogram *h = malloc(sizeof(*h));

	if (!h)
		return -ENOMEM;
	histogram_reset(out);
	for (size_t i = 0; i < n; i++) {
		const char *enc = cJSON_GetStringValue(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(parts[i], LOAD_RESULT_HISTOGRAM), which));

		if (!enc || histogram_decode(h, enc) < 0) {
			free(h);
			return -EINVAL;
		}
		histogram_merge(out, h);
	}
	free(h);
	return 0;
}

static int merge_latency(const cJSON *const *parts, size_t n, cJSON *root)
{
	static const char *const which[2] = { "corrected", "uncorrected" };
	cJSON *lat = cJSON_AddObjectToObject(root, LOAD_RESULT_LATENCY);
	cJSON *hist = cJSON_AddObjectToObject(root, LOAD_RESULT_HISTOGRAM);
	struct histogram *h = malloc(sizeof(*h));
	double missing = 0;
	int r = h ? 0 : -ENOMEM;

	cJSON_AddStringToObject(lat, "unit", "ms");
	cJSON_AddStringToObject(hist, "unit", "us");
	for (size_t w = 0; w < 2 && r == 0; w++) {
		_cleanup_free_ char *enc = NULL;

		r = merge_histograms(parts, n, which[w], h);
		if (r < 0)
			break;
		cJSON_AddItemToObject(lat, which[w], histogram_latency_json(h));
		enc = histogram_encode(h);
		if (!enc)
			r = -ENOMEM;
		else
			cJSON_AddStringToObject(hist, which[w], enc);
	}
	for (size_t i = 0; i < n; i++)
		missing +=
		    num(cJSON_GetObjectItem(parts[i], LOAD_RESULT_LATENCY), "uncorrected_missing");
	cJSON_AddNumberToObject(lat, "uncorrected_missing", missing);
	free(h);
	return r;
}

int agents_merge(const cJSON *const *parts, const char *const *names, size_t n, cJSON **ret)
{
	cJSON *root = cJSON_CreateObject(), *t;
	int r;

	if (!root)
		return -ENOMEM;
	cJSON_AddStringToObject(root, "tool", "wsbench-load");
	cJSON_AddNumberToObject(root, "parts", (double)n);
	t = merge_throughput(parts, n);
	cJSON_AddItemToObject(root, LOAD_RESULT_THROUGHPUT, t);
	r = merge_latency(parts, n, root);
	if (r < 0) {
		cJSON_Delete(root);
		return r;
	}
	cJSON_AddItemToObject(root, LOAD_RESULT_ERRORS, merge_errors(parts, n));
	cJSON_AddItemToObject(root, LOAD_RESULT_CLIENT,
	                      merge_client(parts, names, n, num(t, "messages_received")));
	cJSON_AddItemToObject(root, LOAD_RESULT_TIMELINE, merge_timeline(parts, n));
	*ret = root;
	return 0;
}
