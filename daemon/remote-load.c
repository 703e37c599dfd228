/* SPDX-License-Identifier: MIT */
/*
 * The load of a run spread over agents (see remote-load.h). Every call to
 * an agent is asynchronous on the daemon's one event loop; a part's state
 * moves CLOCK → STARTING → RUNNING → FETCHING → DONE, and the load ends
 * when every part is DONE.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-open.h"
#include "clock.h"
#include "log.h"
#include "macro.h"
#include "remote-load.h"
#include "wsbench-dbus.h"

#define CLOCK_SAMPLES   5
#define POLL_USEC       (1000 * 1000ULL)
#define START_LEAD_NS   (1500 * 1000000LL) /* time for every agent to get ready */
#define CALL_TIMEOUT_US (10 * 1000000ULL)

enum part_state { PART_CLOCK, PART_STARTING, PART_RUNNING, PART_FETCHING, PART_DONE };

struct part {
	struct remote_load *rl;
	size_t index;
	char spec[600]; /* as configured, for messages */
	struct agent_spec agent;
	sd_bus *bus;
	unsigned clients;
	struct clock_sample samples[CLOCK_SAMPLES];
	unsigned n_samples;
	int64_t offset_ns, rtt_ns;
	enum part_state state;
	char *run_id, *run_path;
	char run_state[32];
	struct remote_progress live;
	cJSON *report;
	sd_bus_slot *slot; /* the call in flight */
};

struct remote_load {
	sd_event *event;
	const struct remote_load_ops *ops;
	void *userdata;
	struct scenario_config scenario;
	char *url;
	unsigned max_skew_ms;
	struct part *parts;
	size_t n;
	int64_t start_at_ns; /* ours */
	sd_event_source *poll_timer;
	sd_event_source *kick; /* the first calls, from the loop (see remote_load_start) */
	char *failure;
	bool cancelling, ended;
};

static void part_failed(struct part *p, const char *fmt, ...) _printf_(2, 3);
static void poll_parts(struct remote_load *rl);

static bool all_in(const struct remote_load *rl, enum part_state s)
{
	for (size_t i = 0; i < rl->n; i++)
		if (rl->parts[i].state != s)
			return false;
	return true;
}

/* The first failure is the reason; every part still running is cancelled. */
static void fail_load(struct remote_load *rl, const char *msg)
{
	if (!rl->failure) {
		rl->failure = strdup(msg);
		log_error("distributed load: %s", msg);
	}
	remote_load_cancel(rl);
}

static void part_failed(struct part *p, const char *fmt, ...)
{
	char msg[1024], full[sizeof(msg) + sizeof(((struct part *)0)->spec) + 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "agent %s: %s", p->spec, msg);
	fail_load(p->rl, full);
}

/* The bus error of a failed reply, or NULL when the call succeeded. */
static const char *reply_error(sd_bus_message *m)
{
	const sd_bus_error *e = sd_bus_message_get_error(m);

	if (!e)
		return NULL;
	return e->message ? e->message : e->name;
}

/* ---- the end ------------------------------------------------------------- */

static void finish(struct remote_load *rl)
{
	const cJSON *reports[AGENTS_MAX];
	const char *names[AGENTS_MAX];
	cJSON *result = NULL;
	size_t n = 0;

	if (rl->ended)
		return;
	rl->ended = true;
	rl->poll_timer = sd_event_source_disable_unref(rl->poll_timer);
	for (size_t i = 0; i < rl->n; i++)
		if (rl->parts[i].report) {
			reports[n] = rl->parts[i].report;
			names[n++] = rl->parts[i].spec;
		}
	/* A result only from every part: a sum of some would understate. */
	if (n == rl->n && n > 0) {
		int k = agents_merge(reports, names, n, &result);

		if (k < 0 && !rl->failure)
			rl->failure =
			    strdup("the agents' reports cannot be merged (a part measured "
			           "nothing)");
	}
	rl->ops->ended(result, rl->failure, rl->userdata);
}

static void maybe_finish(struct remote_load *rl)
{
	if (all_in(rl, PART_DONE))
		finish(rl);
}

/* ---- reports ------------------------------------------------------------- */

static int on_report(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct part *p = userdata;
	const char *text;

	p->slot = sd_bus_slot_unref(p->slot);
	p->state = PART_DONE;
	if (reply_error(m) || sd_bus_message_read(m, "s", &text) < 0)
		log_warning("agent %s: no report of part %s: %s", p->spec, p->run_id,
		            reply_error(m) ? reply_error(m) : "bad reply");
	else
		p->report = cJSON_Parse(text);
	maybe_finish(p->rl);
	return 0;
}

static void fetch_report(struct part *p)
{
	int k;

	p->state = PART_FETCHING;
	k = p->run_id ? sd_bus_call_method_async(p->bus, &p->slot, WSBENCH_BUS_NAME,
	                                         WSBENCH_MANAGER_PATH, WSBENCH_MANAGER_IFACE,
	                                         "GetReport", on_report, p, "s", p->run_id)
	              : -ENOENT;
	if (k < 0) {
		p->state = PART_DONE;
		maybe_finish(p->rl);
	}
}

/* ---- following the parts ------------------------------------------------- */

static bool is_final(const char *state)
{
	return !strcmp(state, WSBENCH_STATE_FINISHED) || !strcmp(state, WSBENCH_STATE_FAILED) ||
	       !strcmp(state, WSBENCH_STATE_CANCELLED);
}

/* One property of a GetAll reply into @p. */
static int read_property(sd_bus_message *m, struct part *p, char *failure, size_t len)
{
	const char *name, *contents, *s;
	char type;
	int r = sd_bus_message_read(m, "s", &name);

	if (r >= 0)
		r = sd_bus_message_peek_type(m, &type, &contents);
	if (r >= 0)
		r = sd_bus_message_enter_container(m, 'v', contents);
	if (r < 0)
		return r;
	if (!strcmp(contents, "s")) {
		r = sd_bus_message_read(m, "s", &s);
		if (r >= 0 && !strcmp(name, "State"))
			snprintf(p->run_state, sizeof(p->run_state), "%s", s);
		else if (r >= 0 && !strcmp(name, "FailureReason"))
			snprintf(failure, len, "%s", s);
	} else if (!strcmp(contents, "d")) {
		double d;

		r = sd_bus_message_read(m, "d", &d);
		if (!strcmp(name, "ElapsedSeconds"))
			p->live.elapsed = d;
		else if (!strcmp(name, "TotalSeconds"))
			p->live.total = d;
		else if (!strcmp(name, "Rate"))
			p->live.rate = d;
		else if (!strcmp(name, "LatencyP99Ms"))
			p->live.p99_ms = d;
	} else if (!strcmp(contents, "t")) {
		uint64_t t;

		r = sd_bus_message_read(m, "t", &t);
		if (!strcmp(name, "MessagesSent"))
			p->live.sent = t;
		else if (!strcmp(name, "MessagesReceived"))
			p->live.received = t;
		else if (!strcmp(name, "Errors"))
			p->live.errors = t;
	} else if (!strcmp(contents, "u")) {
		uint32_t u;

		r = sd_bus_message_read(m, "u", &u);
		if (!strcmp(name, "ClientsConnected"))
			p->live.connected = u;
		else if (!strcmp(name, "Clients"))
			p->live.clients = u;
	} else {
		r = sd_bus_message_skip(m, contents);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r;
}

static void report_progress(struct remote_load *rl)
{
	struct remote_progress sum = { 0 };

	for (size_t i = 0; i < rl->n; i++) {
		const struct part *p = &rl->parts[i];

		sum.elapsed = i ? MIN(sum.elapsed, p->live.elapsed) : p->live.elapsed;
		sum.total = MAX(sum.total, p->live.total);
		sum.connected += p->live.connected;
		sum.clients += p->live.clients;
		sum.sent += p->live.sent;
		sum.received += p->live.received;
		sum.errors += p->live.errors;
		sum.rate += p->live.rate;
		sum.p99_ms = MAX(sum.p99_ms, p->live.p99_ms);
		sum.running |= !strcmp(p->run_state, WSBENCH_STATE_RUNNING) ||
		               !strcmp(p->run_state, WSBENCH_STATE_DRAINING);
	}
	rl->ops->progress(&sum, rl->userdata);
}

static int on_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct part *p = userdata;
	struct remote_load *rl = p->rl;
	char failure[512] = "";
	int r;

	p->slot = sd_bus_slot_unref(p->slot);
	if (reply_error(m)) {
		/* Its Run object is gone: the agent restarted, or it forgot it. */
		part_failed(p, "part %s cannot be followed: %s", p->run_id, reply_error(m));
		p->state = PART_DONE;
		maybe_finish(rl);
		return 0;
	}
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = read_property(m, p, failure, sizeof(failure));
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (!is_final(p->run_state))
		return 0;
	if (strcmp(p->run_state, WSBENCH_STATE_FINISHED) != 0 && !rl->cancelling)
		part_failed(p, "part %s %s%s%s", p->run_id, p->run_state, failure[0] ? ": " : "",
		            failure);
	fetch_report(p);
	return 0;
}

static void poll_parts(struct remote_load *rl)
{
	for (size_t i = 0; i < rl->n; i++) {
		struct part *p = &rl->parts[i];
		int k;

		if (p->state != PART_RUNNING || p->slot)
			continue;
		k = sd_bus_call_method_async(p->bus, &p->slot, WSBENCH_BUS_NAME, p->run_path,
		                             "org.freedesktop.DBus.Properties", "GetAll",
		                             on_properties, p, "s", WSBENCH_RUN_IFACE);
		if (k < 0) {
			part_failed(p, "cannot ask for its part's progress: %s", strerror(-k));
			p->state = PART_DONE;
		}
	}
	report_progress(rl);
	maybe_finish(rl);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct remote_load *rl = userdata;

	poll_parts(rl);
	if (!rl->ended) {
		sd_event_source_set_time(s, usec + POLL_USEC);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	return 0;
}

/* ---- starting the parts -------------------------------------------------- */

static int on_started(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct part *p = userdata;
	const char *id, *path;

	p->slot = sd_bus_slot_unref(p->slot);
	if (reply_error(m) || sd_bus_message_read(m, "so", &id, &path) < 0) {
		p->state = PART_DONE;
		part_failed(p, "refused the part: %s",
		            reply_error(m) ? reply_error(m) : "bad reply");
		maybe_finish(p->rl);
		return 0;
	}
	p->run_id = strdup(id);
	p->run_path = strdup(path);
	p->state = PART_RUNNING;
	log_info("agent %s: part %s, %u clients, starts at its %+.1f ms", p->spec, id, p->clients,
	         (double)(p->rl->start_at_ns + p->offset_ns - wall_ns()) / 1e6);
	/* A cancel that came while StartPart was on its way. */
	if (p->rl->cancelling)
		remote_load_cancel(p->rl);
	return 0;
}

/* The scenario's settings as StartPart's a{sv}, with this part's clients. */
static int append_settings(sd_bus_message *m, const struct part *p)
{
	int r = sd_bus_message_open_container(m, 'a', "{sv}");

	for (size_t i = 0; r >= 0 && i < scenario_n_fields; i++) {
		struct scenario_value v;

		if (!scenario_get(&p->rl->scenario, i, &v))
			continue;
		if (!strcmp(v.field->name, "clients"))
			r = sd_bus_message_append(m, "{sv}", "clients", "u", p->clients);
		else if (v.field->type == SCENARIO_UINT)
			r = sd_bus_message_append(m, "{sv}", v.field->name, "u", v.u);
		else if (v.field->type == SCENARIO_DOUBLE)
			r = sd_bus_message_append(m, "{sv}", v.field->name, "d", v.d);
		else
			r = sd_bus_message_append(m, "{sv}", v.field->name, "s", v.choice);
	}
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static void start_part(struct part *p)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int k = sd_bus_message_new_method_call(p->bus, &m, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
	                                       WSBENCH_MANAGER_IFACE, "StartPart");

	if (k >= 0)
		k = append_settings(m, p);
	if (k >= 0)
		k = sd_bus_message_append(m, "sx", p->rl->url,
		                          (int64_t)(p->rl->start_at_ns + p->offset_ns));
	if (k >= 0)
		k = sd_bus_call_async(p->bus, &p->slot, m, on_started, p, CALL_TIMEOUT_US);
	p->state = PART_STARTING;
	if (k < 0) {
		p->state = PART_DONE;
		part_failed(p, "cannot send StartPart: %s", strerror(-k));
	}
}

/* Every clock measured: one start time, in our clock, for all. */
static void start_parts(struct remote_load *rl)
{
	int64_t rtt = 0;

	for (size_t i = 0; i < rl->n; i++)
		rtt = MAX(rtt, rl->parts[i].rtt_ns);
	rl->start_at_ns = wall_ns() + START_LEAD_NS + 4 * rtt;
	for (size_t i = 0; i < rl->n && !rl->failure; i++)
		start_part(&rl->parts[i]);
	sd_event_add_time_relative(rl->event, &rl->poll_timer, CLOCK_MONOTONIC, POLL_USEC, 0,
	                           on_poll, rl);
}

static void ask_clock(struct part *p);

static int on_clock(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct part *p = userdata;
	struct remote_load *rl = p->rl;
	struct clock_sample *s = &p->samples[p->n_samples];
	int64_t remote;

	p->slot = sd_bus_slot_unref(p->slot);
	s->received_ns = wall_ns();
	if (reply_error(m) || sd_bus_message_read(m, "x", &remote) < 0) {
		p->state = PART_DONE;
		part_failed(p, "cannot read its clock: %s",
		            reply_error(m) ? reply_error(m) : "bad reply");
		maybe_finish(rl);
		return 0;
	}
	s->remote_ns = remote;
	if (++p->n_samples < CLOCK_SAMPLES) {
		ask_clock(p);
		return 0;
	}
	clock_offset(p->samples, p->n_samples, &p->offset_ns, &p->rtt_ns);
	log_info("agent %s: clock offset %+.3f ms, round trip %.3f ms", p->spec,
	         (double)p->offset_ns / 1e6, (double)p->rtt_ns / 1e6);
	if (llabs(p->offset_ns) > (int64_t)rl->max_skew_ms * 1000000) {
		p->state = PART_DONE;
		part_failed(p,
		            "its clock is %+.1f ms from ours, more than max_clock_skew_ms = %u: "
		            "synchronize the clocks (NTP) or raise the limit",
		            (double)p->offset_ns / 1e6, rl->max_skew_ms);
		maybe_finish(rl);
		return 0;
	}
	/* Measured; StartPart goes once every clock is. */
	p->state = PART_STARTING;
	for (size_t i = 0; i < rl->n; i++)
		if (rl->parts[i].state == PART_CLOCK)
			return 0;
	if (!rl->failure)
		start_parts(rl);
	return 0;
}

static void ask_clock(struct part *p)
{
	int k;

	p->samples[p->n_samples].sent_ns = wall_ns();
	k = sd_bus_call_method_async(p->bus, &p->slot, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
	                             WSBENCH_MANAGER_IFACE, "Clock", on_clock, p, "");
	if (k < 0) {
		p->state = PART_DONE;
		part_failed(p, "cannot reach it: %s", strerror(-k));
	}
}

/* ---- the parts' buses ---------------------------------------------------- */

static int open_bus(struct part *p, sd_event *event)
{
	int k = p->agent.kind == AGENT_SSH ? sd_bus_open_system_remote(&p->bus, p->agent.where)
	                                   : bus_open_address(p->agent.where, &p->bus);

	if (k >= 0)
		k = sd_bus_attach_event(p->bus, event, SD_EVENT_PRIORITY_NORMAL);
	return k;
}

static int on_kick(sd_event_source *s, void *userdata)
{
	struct remote_load *rl = userdata;

	rl->kick = sd_event_source_disable_unref(rl->kick);
	for (size_t i = 0; i < rl->n && !rl->ended; i++)
		if (rl->parts[i].state == PART_CLOCK && !rl->parts[i].slot)
			ask_clock(&rl->parts[i]);
	return 0;
}

int remote_load_start(sd_event *event, const struct remote_load_request *req,
                      const struct remote_load_ops *ops, void *userdata, struct remote_load **ret,
                      char *err, size_t errlen)
{
	double weights[AGENTS_MAX];
	unsigned clients[AGENTS_MAX];
	struct remote_load *rl;
	int k;

	if (req->agents->n == 0 || req->agents->n > AGENTS_MAX)
		return -EINVAL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	rl->event = sd_event_ref(event);
	rl->ops = ops;
	rl->userdata = userdata;
	rl->max_skew_ms = req->max_skew_ms;
	rl->url = strdup(req->url);
	rl->parts = calloc(req->agents->n, sizeof(*rl->parts));
	if (!rl->url || !rl->parts || scenario_copy(&rl->scenario, req->scenario) < 0) {
		remote_load_free(rl);
		return -ENOMEM;
	}
	rl->n = req->agents->n;
	for (size_t i = 0; i < rl->n; i++) {
		struct part *p = &rl->parts[i];

		p->rl = rl;
		p->index = i;
		snprintf(p->spec, sizeof(p->spec), "%s", req->agents->v[i]);
		k = agent_spec_parse(req->agents->v[i], &p->agent, err, errlen);
		if (k < 0) {
			remote_load_free(rl);
			return k;
		}
		weights[i] = p->agent.weight;
	}
	if (agents_split(rl->scenario.clients, weights, rl->n, clients) < 0) {
		snprintf(err, errlen, "%u clients cannot be split over %zu agents",
		         rl->scenario.clients, rl->n);
		remote_load_free(rl);
		return -EINVAL;
	}
	for (size_t i = 0; i < rl->n; i++) {
		struct part *p = &rl->parts[i];

		p->clients = clients[i];
		k = open_bus(p, event);
		if (k < 0) {
			snprintf(err, errlen, "agent %s: cannot connect: %s", p->spec,
			         strerror(-k));
			remote_load_free(rl);
			return k;
		}
	}
	/* From the loop, not from here: a call that fails at once would end
	 * the load (ops->ended) before the caller even has it. */
	k = sd_event_add_defer(event, &rl->kick, on_kick, rl);
	if (k >= 0)
		k = sd_event_source_set_enabled(rl->kick, SD_EVENT_ONESHOT);
	if (k < 0) {
		snprintf(err, errlen, "cannot schedule the agents' calls: %s", strerror(-k));
		remote_load_free(rl);
		return k;
	}
	*ret = rl;
	return 0;
}

static void cancel_part(struct part *p)
{
	int k;

	if (p->state != PART_RUNNING || !p->run_id)
		return;
	k = sd_bus_call_method_async(p->bus, NULL, WSBENCH_BUS_NAME, WSBENCH_MANAGER_PATH,
	                             WSBENCH_MANAGER_IFACE, "CancelRun", NULL, NULL, "s",
	                             p->run_id);
	if (k < 0)
		log_warning("agent %s: cannot cancel part %s: %s", p->spec, p->run_id,
		            strerror(-k));
}

void remote_load_cancel(struct remote_load *rl)
{
	if (rl->ended)
		return;
	rl->cancelling = true;
	for (size_t i = 0; i < rl->n; i++) {
		struct part *p = &rl->parts[i];

		/* Not started yet: nothing to cancel there, nothing to wait for. */
		if (p->state == PART_CLOCK || (p->state == PART_STARTING && !p->slot)) {
			p->slot = sd_bus_slot_unref(p->slot);
			p->state = PART_DONE;
		}
		cancel_part(p);
	}
	/* Parts still being started are cancelled when the reply comes
	 * (on_started); running ones end through the poll. */
	if (!rl->poll_timer)
		maybe_finish(rl);
}

bool remote_load_running(const struct remote_load *rl)
{
	return rl && !rl->ended;
}

cJSON *remote_load_agents_json(const struct remote_load *rl)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; rl && i < rl->n; i++) {
		const struct part *p = &rl->parts[i];
		cJSON *o = cJSON_CreateObject(), *c;

		cJSON_AddStringToObject(o, "agent", p->spec);
		cJSON_AddStringToObject(o, "via", p->agent.kind == AGENT_SSH ? "ssh" : "address");
		cJSON_AddNumberToObject(o, "weight", p->agent.weight);
		cJSON_AddNumberToObject(o, "clients", p->clients);
		cJSON_AddNumberToObject(o, "clock_offset_ms", (double)p->offset_ns / 1e6);
		cJSON_AddNumberToObject(o, "round_trip_ms", (double)p->rtt_ns / 1e6);
		if (p->run_id)
			cJSON_AddStringToObject(o, "run", p->run_id);
		cJSON_AddStringToObject(o, "state", p->run_state[0] ? p->run_state : "not started");
		if (p->report) {
			static const char *const sections[] = { "throughput", "latency", "errors",
				                                "client" };

			for (size_t s = 0; s < ELEMENTSOF(sections); s++)
				cJSON_AddItemToObject(
				    o, sections[s],
				    cJSON_Duplicate(cJSON_GetObjectItem(p->report, sections[s]),
				                    true));
			c = cJSON_GetObjectItem(o, "latency");
			cJSON_DeleteItemFromObject(c, "uncorrected");
		}
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

struct remote_load *remote_load_free(struct remote_load *rl)
{
	if (!rl)
		return NULL;
	rl->poll_timer = sd_event_source_disable_unref(rl->poll_timer);
	rl->kick = sd_event_source_disable_unref(rl->kick);
	for (size_t i = 0; rl->parts && i < rl->n; i++) {
		struct part *p = &rl->parts[i];

		sd_bus_slot_unref(p->slot);
		sd_bus_flush_close_unref(p->bus);
		free(p->run_id);
		free(p->run_path);
		cJSON_Delete(p->report);
	}
	free(rl->parts);
	free(rl->url);
	free(rl->failure);
	scenario_free(&rl->scenario);
	sd_event_unref(rl->event);
	free(rl);
	return NULL;
}
