/* SPDX-License-Identifier: MIT */
/*
 * The load of a run spread over agents: other wsbenchd instances, reached
 * over D-Bus (their system bus over ssh, as `systemctl -H` reaches it, or
 * any bus address). In place of a local wsbench-load, a run on the
 * coordinator:
 *
 *   1. measures each agent's clock (Manager.Clock, five times; the reading
 *      with the shortest round trip) and refuses the run when one is off by
 *      more than max_clock_skew_ms;
 *   2. splits the clients over the agents by weight and asks each to run
 *      its part (Manager.StartPart: the scenario's settings, the server's
 *      URL, and one absolute start time, in the agent's own clock);
 *   3. follows the parts' Run objects once a second (their sums are the
 *      run's live figures), cancels every part when one fails, is cancelled
 *      or its agent goes away;
 *   4. fetches every part's report and merges them (agents.h), losslessly.
 *
 * An agent checks its caller exactly as for StartRun: over ssh the caller
 * is the ssh user. docs/architecture.md, "Distributed runs", has the rest.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "agents.h"
#include "scenario.h"

struct cJSON;
struct remote_load;

/* Live figures, summed over the parts (p99 the worst part's). */
struct remote_progress {
	double elapsed, total;
	unsigned connected, clients;
	uint64_t sent, received, errors;
	double rate, p99_ms;
	bool running; /* some part is measuring or warming up */
};

struct remote_load_ops {
	void (*progress)(const struct remote_progress *p, void *userdata);
	/*
	 * Every part has ended. @result: the merged result (the callee owns
	 * it), or NULL when there is none; @failure: why the load failed, or
	 * NULL. Called once, from the event loop.
	 */
	void (*ended)(struct cJSON *result, const char *failure, void *userdata);
};

struct remote_load_request {
	const struct scenario_config *scenario; /* copied */
	const struct agent_list *agents;
	const char *url;
	unsigned max_skew_ms;
};

/* Return: 0 with the load started, or a negative errno (with *@err set: a
 * spec or the split that cannot be). */
int remote_load_start(sd_event *event, const struct remote_load_request *req,
                      const struct remote_load_ops *ops, void *userdata, struct remote_load **ret,
                      char *err, size_t errlen);

/* Cancels every part; ops->ended follows once they have ended. */
void remote_load_cancel(struct remote_load *rl);

bool remote_load_running(const struct remote_load *rl);

/* For the report: each agent with its clients, weight, clock offset and
 * round trip, part run id, state and its own figures and verdict. */
struct cJSON *remote_load_agents_json(const struct remote_load *rl);

struct remote_load *remote_load_free(struct remote_load *rl);
