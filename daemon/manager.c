/* SPDX-License-Identifier: MIT */
/*
 * The manager (see manager.h): configuration transactions, the run queue and
 * status notifications.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "bus.h"
#include "clock.h"
#include "log.h"
#include "manager.h"
#include "report.h"
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

int manager_reload(struct manager *m, char **error)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c = NULL;
	struct report_store *store = NULL;
	int r;

	sd_notify(0, "RELOADING=1\nSTATUS=Reloading configuration");
	r = config_load(m->config_path, &c, &errors);
	if (r < 0) {
		*error = errors.n ? config_errors_join(&errors) : strdup(strerror(-r));
		for (size_t i = 0; i < errors.n; i++)
			log_error("%s", errors.lines[i]);
		log_error("configuration not reloaded; the previous one stays in force");
		config_errors_clear(&errors);
		sd_notify(0, "READY=1");
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
			sd_notify(0, "READY=1");
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
	sd_notify(0, "READY=1");
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

/* An ended run may go once its release has run (it no longer owns anything
 * an event source could still call back into). */
static bool prunable(const struct run *r)
{
	return run_is_final(r) && !r->release_source;
}

void manager_prune_runs(struct manager *m)
{
	size_t ended = 0, kept = 0;

	for (size_t i = 0; i < m->n_runs; i++)
		ended += prunable(m->runs[i]);
	for (size_t i = 0; i < m->n_runs; i++) {
		struct run *r = m->runs[i];

		if (ended > MANAGER_KEEP_ENDED && prunable(r)) {
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
	if (m->active || m->stopping)
		return;
	for (size_t i = 0; i < m->n_runs; i++)
		if (m->runs[i]->state == RUN_QUEUED) {
			m->active = m->runs[i];
			run_start(m->active);
			return;
		}
	manager_notify_status(m);
}

int manager_add_run(struct manager *m, struct run *r)
{
	struct run **grown = realloc(m->runs, (m->n_runs + 1) * sizeof(*grown));

	if (!grown) {
		run_free(r);
		return -ENOMEM;
	}
	m->runs = grown;
	m->runs[m->n_runs++] = r;
	log_info("run %s queued: scenario %s, server %s%s%s", r->id, r->scenario.name,
	         r->server->name, r->overrides[0] ? ", overrides " : "", r->overrides);
	start_next(m);
	return 0;
}

void manager_run_done(struct manager *m, struct run *r)
{
	if (m->active == r)
		m->active = NULL;
	start_next(m);
	if (m->stopping && !m->active)
		sd_event_exit(m->event, 0);
}

void manager_notify_status(struct manager *m)
{
	char status[256];

	if (m->active)
		snprintf(status, sizeof(status), "STATUS=Run %s: %s on %s, %s, %u queued",
		         m->active->id, m->active->scenario.name, m->active->server->name,
		         run_state_to_string(m->active->state), manager_queued(m));
	else
		snprintf(status, sizeof(status), "STATUS=Idle, %zu scenarios, %zu servers",
		         m->config ? m->config->n_scenarios : 0,
		         m->config ? m->config->n_servers : 0);
	sd_notify(0, status);
}
