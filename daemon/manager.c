/* SPDX-License-Identifier: MIT */
/*
 * The manager (see manager.h): configuration transactions, the run queue,
 * the runs' observer (reports, bus signals, the next run) and status
 * notifications.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "bus.h"
#include "clock.h"
#include "compare.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "report-build.h"
#include "report-store.h"
#include "run.h"

int manager_new(sd_event *event, const char *config_path, struct manager **ret)
{
	struct manager *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->event = sd_event_ref(event);
	m->config_path = strdup(config_path);
	if (!m->config_path) {
		manager_free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

struct manager *manager_free(struct manager *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_runs; i++)
		run_free(m->runs[i]);
	free(m->runs);
	for (size_t i = 0; i < m->n_compares; i++)
		compare_free(m->compares[i]);
	free(m->compares);
	report_store_free(m->reports);
	config_unref(m->config);
	sd_event_source_disable_unref(m->watchdog_timer);
	sd_bus_flush_close_unref(m->bus);
	sd_event_unref(m->event);
	free(m->tools.echo);
	free(m->tools.load);
	free(m->tools.servers_dir);
	free(m->config_path);
	free(m);
	return NULL;
}

/* The end of a reload, for systemd. At start-up the bus name is not ours
 * yet (main() says READY=1 once it is): saying it here would let
 * `systemctl start` return before a client can reach us. */
static void manager_ready(struct manager *m)
{
	if (m->bus)
		sd_notify(0, "READY=1");
}

int manager_reload(struct manager *m, char **error)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c = NULL;
	struct report_store *store = NULL;
	int r;

	manager_notify(m, "RELOADING=1", "Reloading configuration");
	r = config_load(m->config_path, &c, &errors);
	for (size_t i = 0; i < errors.n_warnings; i++)
		log_warning("%s", errors.warnings[i]);
	if (r >= 0)
		config_errors_clear(&errors); /* warnings only */
	if (r < 0) {
		*error = errors.n ? config_errors_join(&errors) : strdup(strerror(-r));
		for (size_t i = 0; i < errors.n; i++)
			log_error("%s", errors.lines[i]);
		log_error("configuration not reloaded; the previous one stays in force");
		config_errors_clear(&errors);
		manager_ready(m);
		manager_notify_status(m);
		return -EINVAL;
	}
	/* A new report directory must be usable before we switch to it. */
	if (!m->reports || strcmp(m->reports->dir, c->daemon.report_dir) != 0) {
		int64_t t0 = now_ns();

		r = report_store_open(c->daemon.report_dir, &store);
		if (r < 0) {
			if (asprintf(error, "%s: daemon.report_dir: cannot use \"%s\": %s", c->path,
			             c->daemon.report_dir, strerror(-r)) < 0)
				*error = NULL;
			log_error("%s", *error ? *error : "cannot open the report directory");
			config_unref(c);
			manager_ready(m);
			return -EINVAL;
		}
		/* On the event loop, before READY=1 or during a reload: worth knowing. */
		log_info("report index: %zu reports in %s, %zu of them read from their files, "
		         "in %.0f ms",
		         store->n, store->dir, store->n_read, (double)(now_ns() - t0) / 1e6);
		report_store_free(m->reports);
		m->reports = store;
		/* Ids are "<start second>_<number>": numbering after the stored
		 * reports keeps a restart within the same second from reusing an
		 * id, which GetReport would then answer with the older run. */
		if (report_store_highest_run_number(store) > m->run_counter)
			m->run_counter = report_store_highest_run_number(store);
	}
	config_unref(m->config);
	m->config = c;
	log_info("configuration loaded from %s: %zu servers, %zu scenarios", c->path, c->n_servers,
	         c->n_scenarios);
	manager_ready(m);
	manager_notify_status(m);
	return 0;
}

unsigned manager_queued(const struct manager *m)
{
	unsigned n = 0;

	for (size_t i = 0; i < m->n_runs; i++)
		n += m->runs[i]->state == RUN_QUEUED;
	return n;
}

struct run *manager_find_run(struct manager *m, const char *id)
{
	for (size_t i = 0; i < m->n_runs; i++)
		if (strcmp(m->runs[i]->id, id) == 0)
			return m->runs[i];
	return NULL;
}

/* Drops the oldest ended runs beyond MANAGER_KEEP_ENDED from memory; only
 * those that have released their processes (nothing of them can call back
 * any more), so the run that has just ended stays until the next time. */
static void prune_runs(struct manager *m)
{
	size_t ended = 0, kept = 0;

	for (size_t i = 0; i < m->n_runs; i++)
		ended += run_is_final(m->runs[i]);
	for (size_t i = 0; i < m->n_runs; i++) {
		struct run *r = m->runs[i];

		if (ended > MANAGER_KEEP_ENDED && run_released(r)) {
			run_free(r); /* oldest first */
			ended--;
			continue;
		}
		m->runs[kept++] = r;
	}
	m->n_runs = kept;
}

static void start_next(struct manager *m)
{
	if (m->active || m->stopping || m->holding)
		return;
	for (size_t i = 0; i < m->n_runs; i++)
		if (m->runs[i]->state == RUN_QUEUED) {
			m->active = m->runs[i];
			run_start(m->active);
			return;
		}
	manager_notify_status(m);
}

/* ---- the runs' observer ------------------------------------------------- */

static void compare_trial_ended(struct manager *m, struct run *r);

static void on_run_changed(struct run *r, void *userdata)
{
	struct manager *m = userdata;

	bus_run_changed(m, r);
	manager_notify_status(m);
}

static void on_run_started(struct run *r, void *userdata)
{
	bus_run_started(userdata, r);
}

/* The report records the run's final state. A failure (directory gone or not
 * writable, disk full) becomes the run's failure reason. The HTML page
 * beside it (html_reports) is a convenience: a failure to write it is
 * logged and the run stands. */
static void store_report(struct manager *m, struct run *r)
{
	_cleanup_free_ char *text = report_build(r), *page = NULL;
	char *path = NULL;
	int k = text ? report_store_add(m->reports, text, r->scenario.name, r->server->language,
	                                r->start_wall_ns, r->config->daemon.keep_reports, &path)
	             : -ENOMEM;

	if (k < 0) {
		run_report_failed(r, m->reports->dir, k);
		return;
	}
	free(r->report_path);
	r->report_path = path;
	if (!r->config->daemon.html_reports)
		return;
	k = report_build_page(text, &page);
	if (k >= 0)
		k = report_store_add_beside(m->reports, path, ".html", page);
	if (k < 0)
		log_errno(LOG_LEVEL_WARNING, k, "run %s: cannot write the HTML page beside %s",
		          r->id, path);
}

static void on_run_finished(struct run *r, void *userdata)
{
	struct manager *m = userdata;

	/* A run that never started leaves nothing to report. */
	if (run_was_started(r))
		store_report(m, r);
	on_run_changed(r, m);
	bus_run_finished(m, r);
	if (r->compare_id)
		compare_trial_ended(m, r);
	if (m->active == r)
		m->active = NULL;
	start_next(m);
	/* Not while stopping: manager_stop() walks the runs, cancelling them,
	 * and the daemon exits anyway. */
	if (!m->stopping)
		prune_runs(m);
	if (m->stopping && !m->active)
		sd_event_exit(m->event, 0);
}

static const struct run_ops run_ops = {
	.changed = on_run_changed,
	.started = on_run_started,
	.finished = on_run_finished,
};

/* "<UTC second>_<number>". */
static int make_id(struct manager *m, char **ret)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	return asprintf(ret, "%s_%u", stamp, ++m->run_counter) < 0 ? -ENOMEM : 0;
}

/* A new queued run, placed in the queue at @at (m->n_runs: at the end). */
static int queue_run_as(struct manager *m, size_t at, struct wsbench_config *config,
                        const struct server_config *server, struct server_config *own_server,
                        int64_t start_at_ns, const struct scenario_config *scenario,
                        const char *overrides, uid_t owner_uid, const char *owner,
                        struct run **ret);

static int queue_run(struct manager *m, size_t at, struct wsbench_config *config,
                     const struct server_config *server, const struct scenario_config *scenario,
                     const char *overrides, uid_t owner_uid, const char *owner, struct run **ret)
{
	return queue_run_as(m, at, config, server, NULL, 0, scenario, overrides, owner_uid, owner,
	                    ret);
}

/* A new queued run, placed at @at; @own_server (or NULL) is taken over. */
static int queue_run_as(struct manager *m, size_t at, struct wsbench_config *config,
                        const struct server_config *server, struct server_config *own_server,
                        int64_t start_at_ns, const struct scenario_config *scenario,
                        const char *overrides, uid_t owner_uid, const char *owner, struct run **ret)
{
	const struct run_env env = { .event = m->event, .tools = &m->tools };
	_cleanup_free_ char *id = NULL;
	struct run **grown, *r;
	int k;

	grown = realloc(m->runs, (m->n_runs + 1) * sizeof(*grown));
	if (!grown) {
		server_config_free(own_server);
		return -ENOMEM;
	}
	m->runs = grown;
	k = make_id(m, &id);
	if (k < 0) {
		server_config_free(own_server);
		return k;
	}
	k = run_new(&env,
	            &(const struct run_request){ .id = id,
	                                         .config = config,
	                                         .server = server,
	                                         .scenario = scenario,
	                                         .overrides = overrides,
	                                         .owner_uid = owner_uid,
	                                         .owner = owner,
	                                         .start_at_ns = start_at_ns,
	                                         .own_server = own_server },
	            &run_ops, m, &r);
	if (k < 0)
		return k;
	at = MIN(at, m->n_runs);
	memmove(&m->runs[at + 1], &m->runs[at], (m->n_runs - at) * sizeof(*m->runs));
	m->runs[at] = r;
	m->n_runs++;
	*ret = r;
	return 0;
}

int manager_add_run(struct manager *m, const struct server_config *server,
                    const struct scenario_config *scenario, const char *overrides, uid_t owner_uid,
                    const char *owner, struct run **ret)
{
	struct run *r;
	int k =
	    queue_run(m, m->n_runs, m->config, server, scenario, overrides, owner_uid, owner, &r);

	if (k < 0)
		return k;
	log_info("run %s queued: scenario %s, server %s%s%s", r->id, r->scenario.name,
	         r->server->name, r->overrides[0] ? ", overrides " : "", r->overrides);
	*ret = r;
	start_next(m);
	return 0;
}

int manager_add_part(struct manager *m, struct server_config *server,
                     const struct scenario_config *scenario, const char *settings,
                     int64_t start_at_ns, uid_t owner_uid, const char *owner, struct run **ret)
{
	struct run *r;
	int k = queue_run_as(m, m->n_runs, m->config, NULL, server, start_at_ns, scenario, settings,
	                     owner_uid, owner, &r);

	if (k < 0)
		return k;
	log_info("run %s queued: a part of a distributed run for %s, %u clients against %s", r->id,
	         owner, r->scenario.clients, r->server->url);
	*ret = r;
	start_next(m);
	return 0;
}

/* ---- compares ------------------------------------------------------------ */

struct compare *manager_find_compare(struct manager *m, const char *id)
{
	for (size_t i = 0; i < m->n_compares; i++)
		if (strcmp(m->compares[i]->id, id) == 0)
			return m->compares[i];
	return NULL;
}

/* Drops the oldest ended compares beyond MANAGER_KEEP_COMPARES. */
static void prune_compares(struct manager *m)
{
	size_t done = 0, kept = 0;

	for (size_t i = 0; i < m->n_compares; i++)
		done += compare_done(m->compares[i]);
	for (size_t i = 0; i < m->n_compares; i++) {
		struct compare *c = m->compares[i];

		if (done > MANAGER_KEEP_COMPARES && compare_done(c)) {
			compare_free(c);
			done--;
			continue;
		}
		m->compares[kept++] = c;
	}
	m->n_compares = kept;
}

/* Tags @r as the trial @slot of @c and records it after entry @after. */
static int add_trial(struct compare *c, size_t after, struct run *r, struct compare_slot slot,
                     bool retry)
{
	r->compare_id = strdup(c->id);
	if (!r->compare_id)
		return -ENOMEM;
	r->compare_arm = slot.arm;
	r->compare_trial = slot.trial;
	return compare_add(c, after, r->id, slot, retry);
}

/* Queues the trials of @c in its plan's order; on failure the ones queued
 * are cancelled. */
static int queue_trials(struct manager *m, struct compare *c, const struct compare_request *req)
{
	size_t n = compare_plan_size(req->n_arms, req->repeat, req->warmup);
	_cleanup_free_ struct compare_slot *plan = calloc(n, sizeof(*plan));
	struct scenario_config warmup = { 0 };
	char err[256];
	int k = plan ? scenario_copy(&warmup, req->scenario) : -ENOMEM;

	if (k < 0)
		return k;
	/* The warm-up only has to bring the server to its steady state. */
	if (warmup.duration > COMPARE_WARMUP_SECONDS)
		scenario_set_number(&warmup, "duration", COMPARE_WARMUP_SECONDS, true, err,
		                    sizeof(err));
	compare_plan(req->n_arms, req->repeat, req->warmup, plan);
	for (size_t i = 0; i < n && k >= 0; i++) {
		struct run *r = NULL;

		k = queue_run(m, m->n_runs, m->config, req->servers[plan[i].arm],
		              plan[i].trial ? req->scenario : &warmup, req->overrides,
		              req->owner_uid, req->owner, &r);
		if (k >= 0)
			k = add_trial(c, c->n, r, plan[i], false);
		if (k < 0 && r && !r->compare_id)
			run_cancel(r); /* queued but not recorded: not left behind */
	}
	scenario_free(&warmup);
	if (k < 0)
		manager_cancel_compare(m, c);
	return k;
}

int manager_add_compare(struct manager *m, const struct compare_request *req, struct compare **ret)
{
	char *names[COMPARE_MAX_ARMS];
	struct compare **grown, *c;
	_cleanup_free_ char *id = NULL;
	int k;

	if (req->n_arms < 1 || req->n_arms > COMPARE_MAX_ARMS || req->repeat < 1 ||
	    req->repeat > COMPARE_MAX_REPEAT)
		return -EINVAL;
	grown = realloc(m->compares, (m->n_compares + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	m->compares = grown;
	for (unsigned i = 0; i < req->n_arms; i++)
		names[i] = req->servers[i]->name;
	k = make_id(m, &id);
	if (k < 0)
		return k;
	k = compare_new(id, req->scenario->name, names, req->n_arms, req->repeat, req->warmup,
	                req->retry_noisy, req->owner_uid, req->owner, &c);
	if (k < 0)
		return k;
	m->compares[m->n_compares++] = c;
	k = queue_trials(m, c, req);
	if (k < 0)
		return k;
	log_info("compare %s queued: scenario %s, %u servers, %u trials each%s, %zu runs", c->id,
	         c->scenario, c->n_arms, c->repeat, c->warmup ? " after a warm-up" : "", c->n);
	*ret = c;
	start_next(m);
	prune_compares(m);
	return 0;
}

int manager_cancel_compare(struct manager *m, struct compare *c)
{
	bool any = false;

	if (compare_done(c))
		return -EALREADY;
	c->cancelled = true;
	/* Queued ones first, from the last; and nothing starts meanwhile: each
	 * cancel ends in start_next(), which must not start one of ours. */
	m->holding = true;
	for (size_t i = c->n; i-- > 0;) {
		struct run *r = c->v[i].state ? NULL : manager_find_run(m, c->v[i].run_id);

		if (r && r->state == RUN_QUEUED)
			any |= run_cancel(r) == 0;
	}
	for (size_t i = 0; i < c->n; i++) {
		struct run *r = c->v[i].state ? NULL : manager_find_run(m, c->v[i].run_id);

		if (r)
			any |= run_cancel(r) == 0;
	}
	m->holding = false;
	start_next(m);
	return any ? 0 : -EALREADY;
}

/* A trial of a compare ended: record it, run a noisy one again if asked,
 * say when the compare is done. */
static void compare_trial_ended(struct manager *m, struct run *r)
{
	struct compare *c = manager_find_compare(m, r->compare_id);
	struct compare_entry *e;
	struct run *again;
	size_t at;

	if (!c || !compare_run_ended(c, r->id, run_state_to_string(r->state), r->noisy))
		goto out;
	/* Right after this run in the queue, so the round stays together. */
	for (at = 0; at < m->n_runs && m->runs[at] != r; at++)
		;
	e = compare_find(c, r->id);
	if (m->stopping || queue_run(m, at + 1, r->config, r->server, &r->scenario, r->overrides,
	                             r->owner_uid, r->owner, &again) < 0) {
		/* It stays the trial, noisy as it is. */
		e->superseded = false;
		log_warning("compare %s: cannot run the noisy trial %s again", c->id, r->id);
		goto out;
	}
	again->compare_retry_of = strdup(r->id);
	if (!again->compare_retry_of ||
	    add_trial(c, (size_t)(e - c->v), again, e->slot, true) < 0) {
		e->superseded = false;
		run_cancel(again);
		log_warning("compare %s: cannot run the noisy trial %s again", c->id, r->id);
		goto out;
	}
	log_info("compare %s: trial %s was noisy (%s); running it again as %s", c->id, r->id,
	         r->noise_reason ? r->noise_reason : "?", again->id);
out:
	if (c && compare_done(c))
		bus_compare_finished(m, c);
}

void manager_stop(struct manager *m)
{
	manager_notify(m, "STOPPING=1", "Stopping");
	m->stopping = true;
	/* Queued runs are dropped; the active one is cancelled and its report
	 * written before we exit (on_run_finished() ends the loop). */
	for (size_t i = 0; i < m->n_runs; i++)
		if (m->runs[i]->state == RUN_QUEUED)
			run_cancel(m->runs[i]);
	if (m->active)
		run_cancel(m->active);
	else
		sd_event_exit(m->event, 0);
}

void manager_notify(struct manager *m, const char *state, const char *status)
{
	sd_notifyf(0, "%s\nSTATUS=%s", state, status);
	m->status[0] = '\0'; /* the next manager_notify_status() is news again */
}

void manager_notify_status(struct manager *m)
{
	char status[sizeof(m->status)];

	if (m->active)
		snprintf(status, sizeof(status), "STATUS=Run %s: %s on %s, %s, %u queued",
		         m->active->id, m->active->scenario.name, m->active->server->name,
		         run_state_to_string(m->active->state), manager_queued(m));
	else
		snprintf(status, sizeof(status), "STATUS=Idle, %zu scenarios, %zu servers",
		         m->config ? m->config->n_scenarios : 0,
		         m->config ? m->config->n_servers : 0);
	/* Runs report their figures once a second; the status changes less. */
	if (strcmp(status, m->status) == 0)
		return;
	memcpy(m->status, status, sizeof(status));
	sd_notify(0, status);
}
