/* SPDX-License-Identifier: MIT */
/*
 * The D-Bus objects (see bus.h). Method handlers go read → validate →
 * authorize → change → reply; every refusal is a named error saying which
 * argument was wrong and why.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "bus.h"
#include "clock.h"
#include "compare.h"
#include "config.h"
#include "fdlimit.h"
#include "log.h"
#include "manager.h"
#include "report-store.h"
#include "run.h"
#include "wsbench-config.h"
#include "wsbench-dbus.h"

/* ---- authorization -------------------------------------------------------- */

/* The caller's uid as the bus recorded it when the caller connected (the
 * socket's peer credentials). Never read from /proc/PID: the caller may have
 * exited and its PID been reused, so SD_BUS_CREDS_AUGMENT is not asked for,
 * and a value sd-bus filled in from /proc all the same is refused. */
static int caller_uid(sd_bus_message *msg, uid_t *ret)
{
	sd_bus_creds *creds = NULL;
	int r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds);

	if (r >= 0 && (sd_bus_creds_get_augmented_mask(creds) & SD_BUS_CREDS_EUID))
		r = -EPERM;
	if (r >= 0)
		r = sd_bus_creds_get_euid(creds, ret);
	sd_bus_creds_unref(creds);
	return r;
}

/* Who sent @msg and what they may do (reading needs no check: the bus
 * policy and our vtable open it to everyone). */
static int identify_caller(sd_bus_message *msg, struct caller *ret, sd_bus_error *error)
{
	uid_t uid;
	int r = caller_uid(msg, &uid);

	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "Cannot identify the caller: %s",
		                               strerror(-r));
	r = access_resolve(uid, ACCESS_GROUP, geteuid(), ret);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r,
		                               "Cannot look up uid %u in the user database: %s",
		                               (unsigned)uid, strerror(-r));
	return 0;
}

/* Starting, cancelling and reloading are for root, the daemon's own user and
 * members of group wsbench. */
static int require_member(const struct caller *c, sd_bus_error *error)
{
	if (c->level >= ACCESS_MEMBER)
		return 0;
	return sd_bus_error_setf(error, WSBENCH_ERROR_ACCESS_DENIED,
	                         "Only root and members of group " ACCESS_GROUP
	                         " may do this (user %s is not a member)",
	                         c->name);
}

static int check_access(sd_bus_message *msg, struct caller *ret, sd_bus_error *error)
{
	int r = identify_caller(msg, ret, error);

	if (r < 0)
		return r;
	r = require_member(ret, error);
	if (r < 0)
		caller_done(ret);
	return r;
}

/* A member may cancel what it requested (a run, a compare: @what and @id);
 * root and the daemon's user anything. */
static int check_cancel(sd_bus_message *msg, const char *what, const char *id, uid_t owner_uid,
                        const char *owner, sd_bus_error *error)
{
	struct caller c;
	int r = check_access(msg, &c, error);

	if (r < 0)
		return r;
	if (!access_may_cancel(&c, owner_uid))
		r = sd_bus_error_setf(error, WSBENCH_ERROR_ACCESS_DENIED,
		                      "%s %s was started by %s; only they, root and the "
		                      "daemon's user may cancel it",
		                      what, id, owner);
	caller_done(&c);
	return r;
}

/* ---- helpers -------------------------------------------------------------- */

/* A run's object path: WSBENCH_RUN_PATH_PREFIX/<id> (ids are
 * "<stamp>_<number>", valid path elements). */
struct run_path {
	char s[sizeof(WSBENCH_RUN_PATH_PREFIX) + 64];
};

static struct run_path run_path(const struct run *r)
{
	struct run_path p;

	snprintf(p.s, sizeof(p.s), "%s/%s", WSBENCH_RUN_PATH_PREFIX, r->id);
	return p;
}

static int append_sv_string(sd_bus_message *m, const char *key, const char *value)
{
	return sd_bus_message_append(m, "{sv}", key, "s", value ? value : "");
}

static int append_sv_double(sd_bus_message *m, const char *key, double value)
{
	return sd_bus_message_append(m, "{sv}", key, "d", value);
}

static int append_sv_uint(sd_bus_message *m, const char *key, unsigned value)
{
	return sd_bus_message_append(m, "{sv}", key, "u", value);
}

static int append_sv_bool(sd_bus_message *m, const char *key, bool value)
{
	return sd_bus_message_append(m, "{sv}", key, "b", (int)value);
}

static int append_sv_strv(sd_bus_message *m, const char *key, char **strv)
{
	int r = sd_bus_message_open_container(m, 'e', "sv");

	if (r >= 0)
		r = sd_bus_message_append(m, "s", key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "as");
	if (r >= 0)
		r = sd_bus_message_append_strv(m, strv);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

/* ---- Manager methods ------------------------------------------------------ */

/* One (sa{sv}) entry of ListServers/ListScenarios: open it up to the dict. */
static int open_named_entry(sd_bus_message *reply, const char *name)
{
	int r = sd_bus_message_open_container(reply, 'r', "sa{sv}");

	if (r >= 0)
		r = sd_bus_message_append(reply, "s", name);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	return r;
}

static int close_named_entry(sd_bus_message *reply)
{
	int r = sd_bus_message_close_container(reply);

	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r;
}

static int append_server(sd_bus_message *reply, const struct server_config *s)
{
	int r = open_named_entry(reply, s->name);

	if (r >= 0)
		r = append_sv_string(reply, "language", s->language);
	if (r >= 0)
		r = append_sv_string(reply, "kind", server_kind_to_string(s->kind));
	if (r >= 0 && s->kind == SERVER_URL)
		r = append_sv_string(reply, "url", s->url);
	if (r >= 0 && s->kind != SERVER_URL)
		r = append_sv_uint(reply, "port", s->port);
	if (r >= 0 && s->kind == SERVER_BUILTIN)
		r = append_sv_uint(reply, "threads", s->threads);
	if (r >= 0 && s->kind == SERVER_COMMAND)
		r = append_sv_strv(reply, "command", s->command);
	if (r >= 0) {
		char *caps[SERVER_N_CAPS + 1] = { 0 };
		size_t n = 0;

		for (unsigned c = 0; c < SERVER_N_CAPS; c++)
			if (s->caps & (1u << c))
				caps[n++] = (char *)server_cap_to_string(c);
		r = append_sv_strv(reply, "capabilities", caps);
	}
	if (r >= 0)
		r = append_sv_bool(reply, "tls_configured", s->tls.cert != NULL);
	if (r >= 0)
		r = close_named_entry(reply);
	return r;
}

static int method_list_servers(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(msg, &reply);

	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(sa{sv})");
	for (size_t i = 0; r >= 0 && i < m->config->n_servers; i++)
		r = append_server(reply, &m->config->servers[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

/* Every setting that applies (scenario.c's table), then the description. */
static int append_scenario(sd_bus_message *reply, const struct scenario_config *s)
{
	int r = open_named_entry(reply, s->name);

	for (size_t i = 0; r >= 0 && i < scenario_n_fields; i++) {
		struct scenario_value v;

		if (!scenario_get(s, i, &v))
			continue;
		if (v.field->type == SCENARIO_UINT)
			r = append_sv_uint(reply, v.field->name, v.u);
		else if (v.field->type == SCENARIO_DOUBLE)
			r = append_sv_double(reply, v.field->name, v.d);
		else if (v.field->type == SCENARIO_BOOL)
			r = append_sv_bool(reply, v.field->name, v.b);
		else
			r = append_sv_string(reply, v.field->name, v.choice);
	}
	if (r >= 0 && s->description)
		r = append_sv_string(reply, "description", s->description);
	if (r >= 0)
		r = close_named_entry(reply);
	return r;
}

static int method_list_scenarios(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(msg, &reply);

	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(sa{sv})");
	for (size_t i = 0; r >= 0 && i < m->config->n_scenarios; i++)
		r = append_scenario(reply, &m->config->scenarios[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

/* A compare as StartCompare and GetCompare answer it: (id, scenario,
 * state, servers, repeat, trials), each trial (run id, arm, trial number,
 * state or "" while it has not ended, noisy, superseded). */
static int reply_compare(sd_bus_message *msg, const struct compare *c)
{
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(msg, &reply);

	if (r >= 0)
		r = sd_bus_message_append(reply, "sss", c->id, c->scenario, compare_state(c));
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (unsigned i = 0; r >= 0 && i < c->n_arms; i++)
		r = sd_bus_message_append(reply, "s", c->servers[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "u", c->repeat);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(suusbb)");
	for (size_t i = 0; r >= 0 && i < c->n; i++) {
		const struct compare_entry *e = &c->v[i];

		r = sd_bus_message_append(reply, "(suusbb)", e->run_id, e->slot.arm, e->slot.trial,
		                          e->state ? e->state : "", e->noisy, e->superseded);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

/* Reads one a{sv} override and applies it to @s; records it in @applied. */
static int read_override(sd_bus_message *msg, struct scenario_config *s, char *applied,
                         size_t applied_len, sd_bus_error *error)
{
	const char *key, *contents, *str;
	char type, err[256], names[256];
	double num = 0;
	bool integral = true;
	int r;

	r = sd_bus_message_enter_container(msg, 'e', "sv");
	if (r <= 0)
		return r;
	r = sd_bus_message_read(msg, "s", &key);
	if (r < 0)
		return r;
	r = sd_bus_message_peek_type(msg, &type, &contents);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(msg, 'v', contents);
	if (r < 0)
		return r;
	switch (contents[0]) {
	case 's':
		r = sd_bus_message_read(msg, "s", &str);
		/* Not in the settings table: a list (agents.h). */
		if (r >= 0 && strcmp(key, "agents") == 0) {
			agent_list_free(&s->agents);
			r = agent_list_parse(&s->agents, str, err, sizeof(err));
		} else if (r >= 0)
			r = scenario_set_string(s, key, str, err, sizeof(err));
		if (r >= 0)
			snprintf(applied + strlen(applied), applied_len - strlen(applied),
			         "%s%s=%s", applied[0] ? " " : "", key, str);
		break;
	case 'b': {
		int b;

		r = sd_bus_message_read(msg, "b", &b);
		if (r >= 0)
			r = scenario_set_bool(s, key, b, err, sizeof(err));
		if (r >= 0)
			snprintf(applied + strlen(applied), applied_len - strlen(applied),
			         "%s%s=%s", applied[0] ? " " : "", key, b ? "true" : "false");
		break;
	}
	case 'd': {
		double d;

		r = sd_bus_message_read(msg, "d", &d);
		num = d;
		/* No cast: converting a double outside int64_t's range (or NaN)
		 * is undefined; scenario_set_number() range-checks it first. */
		integral = isfinite(d) && d == floor(d);
		goto number;
	}
	case 'u': {
		uint32_t u;

		r = sd_bus_message_read(msg, "u", &u);
		num = u;
		goto number;
	}
	case 'i': {
		int32_t i;

		r = sd_bus_message_read(msg, "i", &i);
		num = i;
		goto number;
	}
	case 't': {
		uint64_t t;

		r = sd_bus_message_read(msg, "t", &t);
		num = (double)t;
		goto number;
	}
	case 'x': {
		int64_t x;

		r = sd_bus_message_read(msg, "x", &x);
		num = (double)x;
		goto number;
	}
	default:
		return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
		                         "override %s: unsupported value type '%s'", key, contents);
	number:
		if (r >= 0)
			r = scenario_set_number(s, key, num, integral, err, sizeof(err));
		if (r >= 0)
			snprintf(applied + strlen(applied), applied_len - strlen(applied),
			         "%s%s=%g", applied[0] ? " " : "", key, num);
	}
	if (r == -ENOENT) {
		scenario_names(names, sizeof(names));
		return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
		                         "override %s: unknown setting (%s)", key, names);
	}
	if (r == -EINVAL)
		return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT, "override %s: %s",
		                         key, err);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(msg);
	if (r >= 0)
		r = sd_bus_message_exit_container(msg);
	return r < 0 ? r : 1;
}

/*
 * The scenario @name with the overrides that follow in @msg (a{sv}) applied
 * and checked, into @s (to scenario_free()); what was overridden into
 * @applied.
 */
static int read_scenario(sd_bus_message *msg, struct manager *m, const char *name,
                         struct scenario_config *s, char *applied, size_t applied_len,
                         sd_bus_error *error)
{
	const struct scenario_config *base = config_find_scenario(m->config, name);
	char err[256];
	int r;

	if (!base)
		return sd_bus_error_setf(error, WSBENCH_ERROR_UNKNOWN_SCENARIO,
		                         "No scenario named \"%s\" in %s", name, m->config->path);
	r = scenario_copy(s, base);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	while (r >= 0 && (r = read_override(msg, s, applied, applied_len, error)) > 0)
		;
	if (r >= 0)
		r = sd_bus_message_exit_container(msg);
	for (size_t i = 0; r >= 0 && i < s->agents.n; i++)
		if (!config_agent_allowed(m->config, s->agents.v[i]))
			r = sd_bus_error_setf(
			    error, WSBENCH_ERROR_INVALID_ARGUMENT,
			    "override agents: \"%s\" is not an agent of %s (its "
			    "daemon.agents or a scenario's agents): only those may be "
			    "named",
			    s->agents.v[i], m->config->path);
	if (r >= 0 && scenario_check(s, err, sizeof(err)) < 0)
		r = sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT, "overrides: %s", err);
	/* Now, not once the server has started: wsbench-load would refuse it. */
	if (r >= 0 && scenario_check_fd_limit(s, fd_limit_inherited(), err, sizeof(err)) < 0)
		r = sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT, "Scenario %s: %s",
		                      s->name, err);
	return r;
}

static int find_server(struct manager *m, const char *name, const struct server_config **ret,
                       sd_bus_error *error)
{
	*ret = config_find_server(m->config, name);
	if (!*ret)
		return sd_bus_error_setf(error, WSBENCH_ERROR_UNKNOWN_SERVER,
		                         "No server named \"%s\" in %s", name, m->config->path);
	return 0;
}

/* Whether @server can serve @s (tls, deflate: server_check_scenario()). */
static int check_server(const struct server_config *server, const struct scenario_config *s,
                        sd_bus_error *error)
{
	char err[512];

	if (server_check_scenario(server, s, err, sizeof(err)) < 0)
		return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT, "%s", err);
	return 0;
}

/* Whether a new request may be queued: the caller's access, shutdown, and
 * daemon.max_queued_runs (a compare is one request, however many runs). */
static int check_queue(sd_bus_message *msg, struct manager *m, struct caller *caller,
                       sd_bus_error *error)
{
	int r = check_access(msg, caller, error);

	if (r >= 0 && m->stopping)
		r = sd_bus_error_setf(error, WSBENCH_ERROR_BUSY, "The daemon is shutting down");
	if (r >= 0 && manager_queued(m) >= m->config->daemon.max_queued_runs)
		r = sd_bus_error_setf(error, WSBENCH_ERROR_BUSY,
		                      "%u runs are already waiting (daemon.max_queued_runs)",
		                      manager_queued(m));
	return r;
}

static int method_start_run(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const char *scenario_name, *server_name;
	const struct server_config *server;
	struct scenario_config s = { 0 };
	char applied[1024] = "";
	struct caller caller = { 0 };
	struct run *run;
	int r;

	r = sd_bus_message_read(msg, "ss", &scenario_name, &server_name);
	if (r < 0)
		return r;
	if (!server_name[0])
		server_name = m->config->daemon.default_server;
	/* The scenario's error first, then the server's, as always. */
	if (!config_find_scenario(m->config, scenario_name))
		return read_scenario(msg, m, scenario_name, &s, applied, sizeof(applied), error);
	r = find_server(m, server_name, &server, error);
	if (r < 0)
		return r;
	r = read_scenario(msg, m, scenario_name, &s, applied, sizeof(applied), error);
	if (r >= 0)
		r = check_server(server, &s, error);
	if (r >= 0)
		r = check_queue(msg, m, &caller, error);
	if (r >= 0)
		r = manager_add_run(m, server, &s, applied, caller.uid, caller.name, &run);
	scenario_free(&s);
	caller_done(&caller);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "so", run->id, run_path(run).s);
}

/* StartCompare's options (a{sv}): repeat (u), warmup (b), retry_noisy (b). */
static int read_compare_options(sd_bus_message *msg, struct compare_request *req,
                                sd_bus_error *error)
{
	bool warmup_given = false;
	int r = sd_bus_message_enter_container(msg, 'a', "{sv}");

	while (r >= 0 && (r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		const char *key;
		int b;

		r = sd_bus_message_read(msg, "s", &key);
		if (r < 0)
			return r;
		if (strcmp(key, "repeat") == 0) {
			r = sd_bus_message_read(msg, "v", "u", &req->repeat);
			if (r >= 0 && (req->repeat < 1 || req->repeat > COMPARE_MAX_REPEAT))
				return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
				                         "option repeat: %u is not in 1..%u",
				                         req->repeat, COMPARE_MAX_REPEAT);
		} else if (strcmp(key, "warmup") == 0 || strcmp(key, "retry_noisy") == 0) {
			r = sd_bus_message_read(msg, "v", "b", &b);
			if (key[0] == 'w') {
				req->warmup = b;
				warmup_given = true;
			} else {
				req->retry_noisy = b;
			}
		} else {
			return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
			                         "option %s: unknown (repeat, warmup, retry_noisy)",
			                         key);
		}
		if (r < 0)
			return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
			                         "option %s: wrong type (repeat: u; warmup, "
			                         "retry_noisy: b)",
			                         key);
		r = sd_bus_message_exit_container(msg);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(msg);
	/* One trial is a plain side-by-side: no warm-up unless asked. */
	if (!warmup_given)
		req->warmup = req->repeat > 1;
	return r;
}

/* StartCompare's servers: each configured one, or every server when none
 * is named. */
static int read_compare_servers(sd_bus_message *msg, struct manager *m,
                                const struct server_config **servers, unsigned *n,
                                sd_bus_error *error)
{
	const char *name;
	int r = sd_bus_message_enter_container(msg, 'a', "s");

	*n = 0;
	while (r >= 0 && (r = sd_bus_message_read(msg, "s", &name)) > 0) {
		if (*n == COMPARE_MAX_ARMS)
			return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
			                         "servers: at most %d in one compare",
			                         COMPARE_MAX_ARMS);
		r = find_server(m, name, &servers[*n], error);
		if (r < 0)
			return r;
		(*n)++;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(msg);
	if (r < 0 || *n)
		return r;
	if (m->config->n_servers > COMPARE_MAX_ARMS)
		return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
		                         "servers: %zu are configured, a compare takes at most %d: "
		                         "name them",
		                         m->config->n_servers, COMPARE_MAX_ARMS);
	for (size_t i = 0; i < m->config->n_servers; i++)
		servers[(*n)++] = &m->config->servers[i];
	return 0;
}

/* Every report of a compare must outlive it: keep_reports prunes the oldest
 * as new ones come. Retries may double the counted trials. */
static int check_compare_size(struct manager *m, const struct compare_request *req,
                              sd_bus_error *error)
{
	size_t runs = (size_t)req->n_arms * (req->warmup ? 1 : 0) +
	              (size_t)req->n_arms * req->repeat * (req->retry_noisy ? 2 : 1);

	if (runs <= m->config->daemon.keep_reports)
		return 0;
	return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
	                         "A compare of up to %zu runs would lose its first reports to "
	                         "daemon.keep_reports = %u: fewer servers or trials, or raise it",
	                         runs, m->config->daemon.keep_reports);
}

static int method_start_compare(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const struct server_config *servers[COMPARE_MAX_ARMS];
	struct compare_request req = { .servers = servers, .repeat = 1 };
	struct scenario_config s = { 0 };
	char applied[1024] = "";
	struct caller caller = { 0 };
	const char *scenario_name;
	struct compare *c;
	int r;

	r = sd_bus_message_read(msg, "s", &scenario_name);
	if (r >= 0)
		r = read_compare_servers(msg, m, servers, &req.n_arms, error);
	if (r >= 0)
		r = read_scenario(msg, m, scenario_name, &s, applied, sizeof(applied), error);
	for (unsigned i = 0; r >= 0 && i < req.n_arms; i++)
		r = check_server(servers[i], &s, error);
	if (r >= 0)
		r = read_compare_options(msg, &req, error);
	if (r >= 0)
		r = check_compare_size(m, &req, error);
	if (r >= 0)
		r = check_queue(msg, m, &caller, error);
	if (r >= 0) {
		req.scenario = &s;
		req.overrides = applied;
		req.owner_uid = caller.uid;
		req.owner = caller.name;
		r = manager_add_compare(m, &req, &c);
	}
	scenario_free(&s);
	caller_done(&caller);
	if (r < 0)
		return r;
	return reply_compare(msg, c);
}

static int get_compare(sd_bus_message *msg, struct manager *m, struct compare **ret,
                       sd_bus_error *error)
{
	const char *id;
	int r = sd_bus_message_read(msg, "s", &id);

	if (r < 0)
		return r;
	*ret = manager_find_compare(m, id);
	if (!*ret)
		return sd_bus_error_setf(error, WSBENCH_ERROR_NOT_FOUND,
		                         "No compare \"%s\" (the daemon keeps the last %d; their "
		                         "runs' reports stay: wsbenchctl compare RUN...)",
		                         id, MANAGER_KEEP_COMPARES);
	return 0;
}

static int method_get_compare(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct compare *c;
	int r = get_compare(msg, userdata, &c, error);

	return r < 0 ? r : reply_compare(msg, c);
}

static int method_cancel_compare(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct compare *c;
	int r = get_compare(msg, m, &c, error);

	if (r < 0)
		return r;
	r = check_cancel(msg, "Compare", c->id, c->owner_uid, c->owner, error);
	if (r < 0)
		return r;
	if (manager_cancel_compare(m, c) == -EALREADY)
		return sd_bus_error_setf(error, WSBENCH_ERROR_NOT_FOUND,
		                         "Compare %s has already ended (%s)", c->id,
		                         compare_state(c));
	return sd_bus_reply_method_return(msg, "");
}

/*
 * Clock(): our CLOCK_REALTIME, for a coordinator measuring the offset.
 * WSBENCH_TEST_CLOCK_OFFSET_MS shifts the answer, so that the tests can
 * play an agent whose clock is off (wsbenchd(8), ENVIRONMENT).
 */
static int method_clock(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	const char *shift = getenv("WSBENCH_TEST_CLOCK_OFFSET_MS");
	int64_t now = wall_ns();

	if (shift)
		now += (int64_t)(strtod(shift, NULL) * 1e6);
	return sd_bus_reply_method_return(msg, "x", now);
}

/* StartPart's server: the coordinator's, by URL, neither started nor
 * sampled here. */
static int part_server(const char *url, struct server_config **ret, sd_bus_error *error)
{
	struct server_config *s;

	if (strncmp(url, "ws://", 5) != 0 && strncmp(url, "wss://", 6) != 0)
		return sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
		                         "url: must start with ws:// or wss://, got \"%s\"", url);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->kind = SERVER_URL;
	s->name = strdup("coordinator");
	s->language = strdup("remote");
	s->url = strdup(url);
	if (!s->name || !s->language || !s->url) {
		server_config_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

/*
 * StartPart(a{sv} settings, s url, x start_at): this daemon as an agent of
 * a distributed run (remote-load.h): a run of the given settings against
 * @url whose wsbench-load starts at @start_at (CLOCK_REALTIME ns, ours).
 * Checked like StartRun; refused while anything else runs or waits, since
 * the coordinator's instant would be missed.
 */
static int method_start_part(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct scenario_config s;
	struct server_config *server = NULL;
	struct caller caller = { 0 };
	char applied[1024] = "", err[256];
	const char *url;
	int64_t start_at;
	struct run *run;
	int r;

	scenario_init(&s);
	s.name = strdup("part");
	if (!s.name)
		return -ENOMEM;
	r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	while (r >= 0 && (r = read_override(msg, &s, applied, sizeof(applied), error)) > 0)
		;
	if (r >= 0)
		r = sd_bus_message_exit_container(msg);
	if (r >= 0)
		r = sd_bus_message_read(msg, "sx", &url, &start_at);
	if (r >= 0 && scenario_check(&s, err, sizeof(err)) < 0)
		r = sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT, "settings: %s", err);
	if (r >= 0 && scenario_check_fd_limit(&s, fd_limit_inherited(), err, sizeof(err)) < 0)
		r = sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT, "part: %s", err);
	/* A part never spreads again: no agents of agents. */
	if (r >= 0 && s.agents.n)
		r = sd_bus_error_setf(error, WSBENCH_ERROR_INVALID_ARGUMENT,
		                      "settings: agents: a part runs here, on no other agent");
	s.agents.local = true;
	if (r >= 0)
		r = check_access(msg, &caller, error);
	if (r >= 0 && (m->stopping || m->active || manager_queued(m)))
		r = sd_bus_error_setf(error, WSBENCH_ERROR_BUSY,
		                      "This agent is busy (%s): a part must start at the "
		                      "coordinator's instant",
		                      m->active ? m->active->id : "shutting down or runs queued");
	if (r >= 0)
		r = part_server(url, &server, error);
	if (r >= 0)
		r = manager_add_part(m, server, &s, applied, start_at, caller.uid, caller.name,
		                     &run);
	scenario_free(&s);
	caller_done(&caller);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "so", run->id, run_path(run).s);
}

static int method_cancel_run(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const char *id;
	struct run *run;
	int r;

	r = sd_bus_message_read(msg, "s", &id);
	if (r < 0)
		return r;
	run = manager_find_run(m, id);
	if (!run)
		return sd_bus_error_setf(error, WSBENCH_ERROR_NOT_FOUND,
		                         "No active or queued run \"%s\"", id);
	r = check_cancel(msg, "Run", run->id, run->owner_uid, run->owner, error);
	if (r < 0)
		return r;
	if (run_cancel(run) == -EALREADY)
		return sd_bus_error_setf(error, WSBENCH_ERROR_NOT_FOUND,
		                         "Run %s has already ended (%s)", id,
		                         run_state_to_string(run->state));
	return sd_bus_reply_method_return(msg, "");
}

static int append_run_row(sd_bus_message *reply, const char *id, const char *scenario,
                          const char *server, const char *state, const char *report,
                          const char *path)
{
	return sd_bus_message_append(reply, "(ssssso)", id, scenario, server, state,
	                             report ? report : "", path);
}

static int method_list_runs(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(msg, &reply);

	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(ssssso)");
	/* Stored reports first (older daemon lives included), then live runs. */
	for (size_t i = 0; r >= 0 && m->reports && i < m->reports->n; i++) {
		const struct report_entry *e = &m->reports->v[i];
		struct run *live = manager_find_run(m, e->id);

		r = append_run_row(reply, e->id, e->scenario, e->server, e->state, e->path,
		                   live ? run_path(live).s : "/");
	}
	for (size_t i = 0; r >= 0 && i < m->n_runs; i++) {
		struct run *run = m->runs[i];

		if (m->reports && report_store_find(m->reports, run->id))
			continue;
		r = append_run_row(reply, run->id, run->scenario.name, run->server->name,
		                   run_state_to_string(run->state), run->report_path,
		                   run_path(run).s);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_get_report(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const char *id;
	struct run *run;
	char *text = NULL;
	int r;

	r = sd_bus_message_read(msg, "s", &id);
	if (r < 0)
		return r;
	r = m->reports ? report_store_read(m->reports, id, &text) : -ENOENT;
	if (r == -ENOENT) {
		run = manager_find_run(m, id);
		if (run)
			return sd_bus_error_setf(error, WSBENCH_ERROR_NOT_FOUND,
			                         "Run %s has no report yet (state %s)", id,
			                         run_state_to_string(run->state));
		return sd_bus_error_setf(error, WSBENCH_ERROR_NOT_FOUND, "No run or report \"%s\"",
		                         id);
	}
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "Cannot read the report of %s: %s", id,
		                               strerror(-r));
	r = sd_bus_reply_method_return(msg, "s", text);
	free(text);
	return r;
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct caller caller;
	char *why = NULL;
	int r;

	r = check_access(msg, &caller, error);
	if (r < 0)
		return r;
	log_info("reload requested by %s", caller.name);
	caller_done(&caller);
	r = manager_reload(m, &why);
	if (r < 0) {
		sd_bus_error_setf(
		    error, WSBENCH_ERROR_RELOAD_FAILED,
		    "Configuration not reloaded, the previous one stays in force:\n%s",
		    why ? why : strerror(-r));
		free(why);
		return -EINVAL;
	}
	return sd_bus_reply_method_return(msg, "");
}

static int property_version(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply, void *userdata,
                            sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", WSBENCH_VERSION);
}

static int property_active_run(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error)
{
	struct manager *m = userdata;

	return sd_bus_message_append(reply, "s", m->active ? m->active->id : "");
}

static int property_queued(sd_bus *bus, const char *path, const char *interface,
                           const char *property, sd_bus_message *reply, void *userdata,
                           sd_bus_error *error)
{
	return sd_bus_message_append(reply, "u", manager_queued(userdata));
}

static int property_config_path(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
	struct manager *m = userdata;

	return sd_bus_message_append(reply, "s", m->config_path);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", property_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ActiveRun", "s", property_active_run, 0,
	                SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("QueuedRuns", "u", property_queued, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ConfigPath", "s", property_config_path, 0, 0),
	SD_BUS_METHOD_WITH_ARGS("ListServers", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sa{sv})", servers),
	                        method_list_servers, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListScenarios", SD_BUS_NO_ARGS,
	                        SD_BUS_RESULT("a(sa{sv})", scenarios), method_list_scenarios,
	                        SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS(
	    "StartRun", SD_BUS_ARGS("s", scenario, "s", server, "a{sv}", overrides),
	    SD_BUS_RESULT("s", id, "o", run), method_start_run, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("CancelRun", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT,
	                        method_cancel_run, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListRuns", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssssso)", runs),
	                        method_list_runs, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetReport", SD_BUS_ARGS("s", id), SD_BUS_RESULT("s", json),
	                        method_get_report, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
	                        SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS(
	    "StartCompare",
	    SD_BUS_ARGS("s", scenario, "as", servers, "a{sv}", overrides, "a{sv}", options),
	    SD_BUS_RESULT("s", id, "s", scenario, "s", state, "as", servers, "u", repeat,
	                  "a(suusbb)", trials),
	    method_start_compare, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetCompare", SD_BUS_ARGS("s", id),
	                        SD_BUS_RESULT("s", id, "s", scenario, "s", state, "as", servers,
	                                      "u", repeat, "a(suusbb)", trials),
	                        method_get_compare, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("CancelCompare", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT,
	                        method_cancel_compare, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Clock", SD_BUS_NO_ARGS, SD_BUS_RESULT("x", realtime_ns),
	                        method_clock, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS(
	    "StartPart", SD_BUS_ARGS("a{sv}", settings, "s", url, "x", start_at_ns),
	    SD_BUS_RESULT("s", id, "o", run), method_start_part, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("RunStarted", SD_BUS_ARGS("s", id, "o", run), 0),
	SD_BUS_SIGNAL_WITH_ARGS("RunFinished", SD_BUS_ARGS("s", id, "s", state, "s", report), 0),
	SD_BUS_SIGNAL_WITH_ARGS("CompareFinished", SD_BUS_ARGS("s", id, "s", state), 0),
	SD_BUS_VTABLE_END
};

/* ---- Run objects ---------------------------------------------------------- */

#define RUN_GETTER(fn, sig, expr)                                                                  \
	static int fn(sd_bus *bus, const char *path, const char *interface, const char *property,  \
	              sd_bus_message *reply, void *userdata, sd_bus_error *error)                  \
	{                                                                                          \
		struct run *r = userdata;                                                          \
		return sd_bus_message_append(reply, sig, expr);                                    \
	}

RUN_GETTER(get_id, "s", r->id)
RUN_GETTER(get_scenario, "s", r->scenario.name)
RUN_GETTER(get_server, "s", r->server->name)
RUN_GETTER(get_state, "s", run_state_to_string(r->state))
RUN_GETTER(get_progress, "d", r->progress)
RUN_GETTER(get_elapsed, "d", r->elapsed)
RUN_GETTER(get_connected, "u", r->connected)
RUN_GETTER(get_sent, "t", r->sent)
RUN_GETTER(get_received, "t", r->received)
RUN_GETTER(get_rate, "d", r->rate)
RUN_GETTER(get_p99, "d", r->p99_ms)
RUN_GETTER(get_errors, "t", r->errors)
RUN_GETTER(get_report_path, "s", r->report_path ? r->report_path : "")
RUN_GETTER(get_failure, "s", r->failure ? r->failure : "")
RUN_GETTER(get_clients, "u", r->scenario.clients)
RUN_GETTER(get_requested_by, "s", r->owner)
RUN_GETTER(get_duration, "d", scenario_total_seconds(&r->scenario))

static int method_run_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct run *run = userdata;
	int r = check_cancel(msg, "Run", run->id, run->owner_uid, run->owner, error);

	if (r < 0)
		return r;
	if (run_cancel(run) == -EALREADY)
		return sd_bus_error_setf(error, WSBENCH_ERROR_NOT_FOUND,
		                         "Run %s has already ended (%s)", run->id,
		                         run_state_to_string(run->state));
	return sd_bus_reply_method_return(msg, "");
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

static const sd_bus_vtable run_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Id", "s", get_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Scenario", "s", get_scenario, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Server", "s", get_server, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Clients", "u", get_clients, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("TotalSeconds", "d", get_duration, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("RequestedBy", "s", get_requested_by, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", get_state, 0, CHANGES),
	SD_BUS_PROPERTY("Progress", "d", get_progress, 0, CHANGES),
	SD_BUS_PROPERTY("ElapsedSeconds", "d", get_elapsed, 0, CHANGES),
	SD_BUS_PROPERTY("ClientsConnected", "u", get_connected, 0, CHANGES),
	SD_BUS_PROPERTY("MessagesSent", "t", get_sent, 0, CHANGES),
	SD_BUS_PROPERTY("MessagesReceived", "t", get_received, 0, CHANGES),
	SD_BUS_PROPERTY("Rate", "d", get_rate, 0, CHANGES),
	SD_BUS_PROPERTY("LatencyP99Ms", "d", get_p99, 0, CHANGES),
	SD_BUS_PROPERTY("Errors", "t", get_errors, 0, CHANGES),
	SD_BUS_PROPERTY("ReportPath", "s", get_report_path, 0, CHANGES),
	SD_BUS_PROPERTY("FailureReason", "s", get_failure, 0, CHANGES),
	SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_run_cancel,
	                        SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

static int run_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                    void **found, sd_bus_error *error)
{
	struct manager *m = userdata;
	size_t n = strlen(WSBENCH_RUN_PATH_PREFIX);
	struct run *r;

	if (strncmp(path, WSBENCH_RUN_PATH_PREFIX "/", n + 1) != 0)
		return 0;
	r = manager_find_run(m, path + n + 1);
	if (!r)
		return 0;
	*found = r;
	return 1;
}

static int run_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                         sd_bus_error *error)
{
	struct manager *m = userdata;
	char **v = calloc(m->n_runs + 1, sizeof(char *));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_runs; i++)
		v[i] = strdup(run_path(m->runs[i]).s);
	*nodes = v;
	return 0;
}

int bus_setup(struct manager *m)
{
	int r;

	r = sd_bus_add_object_vtable(m->bus, NULL, WSBENCH_MANAGER_PATH, WSBENCH_MANAGER_IFACE,
	                             manager_vtable, m);
	if (r < 0)
		return log_error_errno(r, "Failed to register the manager object");
	r = sd_bus_add_fallback_vtable(m->bus, NULL, WSBENCH_RUN_PATH_PREFIX, WSBENCH_RUN_IFACE,
	                               run_vtable, run_find, m);
	if (r < 0)
		return log_error_errno(r, "Failed to register the run objects");
	r = sd_bus_add_node_enumerator(m->bus, NULL, WSBENCH_RUN_PATH_PREFIX, run_enumerate, m);
	if (r < 0)
		return log_error_errno(r, "Failed to register the run enumerator");
	r = sd_bus_add_object_manager(m->bus, NULL, WSBENCH_MANAGER_PATH);
	if (r < 0)
		return log_error_errno(r, "Failed to register the object manager");
	r = sd_bus_request_name(m->bus, WSBENCH_BUS_NAME, 0);
	if (r < 0)
		return log_error_errno(r, "Failed to acquire the bus name %s", WSBENCH_BUS_NAME);
	return 0;
}

void bus_run_changed(struct manager *m, const struct run *r)
{
	if (!m->bus)
		return;
	sd_bus_emit_properties_changed(m->bus, run_path(r).s, WSBENCH_RUN_IFACE, "State",
	                               "Progress", "ElapsedSeconds", "ClientsConnected",
	                               "MessagesSent", "MessagesReceived", "Rate", "LatencyP99Ms",
	                               "Errors", "ReportPath", "FailureReason", NULL);
}

void bus_run_started(struct manager *m, const struct run *r)
{
	if (!m->bus)
		return;
	sd_bus_emit_signal(m->bus, WSBENCH_MANAGER_PATH, WSBENCH_MANAGER_IFACE, "RunStarted", "so",
	                   r->id, run_path(r).s);
	sd_bus_emit_properties_changed(m->bus, WSBENCH_MANAGER_PATH, WSBENCH_MANAGER_IFACE,
	                               "ActiveRun", "QueuedRuns", NULL);
}

void bus_run_finished(struct manager *m, const struct run *r)
{
	if (!m->bus)
		return;
	sd_bus_emit_signal(m->bus, WSBENCH_MANAGER_PATH, WSBENCH_MANAGER_IFACE, "RunFinished",
	                   "sss", r->id, run_state_to_string(r->state),
	                   r->report_path ? r->report_path : "");
	sd_bus_emit_properties_changed(m->bus, WSBENCH_MANAGER_PATH, WSBENCH_MANAGER_IFACE,
	                               "ActiveRun", "QueuedRuns", NULL);
}

void bus_compare_finished(struct manager *m, const struct compare *c)
{
	if (m->bus)
		sd_bus_emit_signal(m->bus, WSBENCH_MANAGER_PATH, WSBENCH_MANAGER_IFACE,
		                   "CompareFinished", "ss", c->id, compare_state(c));
}
