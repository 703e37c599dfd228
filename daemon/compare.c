/* SPDX-License-Identifier: MIT */
/*
 * A compare's plan and record (see compare.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "macro.h"

size_t compare_plan(unsigned n_arms, unsigned repeat, bool warmup, struct compare_slot *out)
{
	size_t n = 0;

	if (warmup)
		for (unsigned a = 0; a < n_arms; a++)
			out[n++] = (struct compare_slot){ .arm = a, .trial = 0 };
	for (unsigned round = 1; round <= repeat; round++)
		for (unsigned k = 0; k < n_arms; k++)
			out[n++] = (struct compare_slot){ .arm = (round - 1 + k) % n_arms,
				                          .trial = round };
	return n;
}

int compare_new(const char *id, const char *scenario, char *const *servers, unsigned n_arms,
                unsigned repeat, bool warmup, bool retry_noisy, uid_t owner_uid, const char *owner,
                struct compare **ret)
{
	struct compare *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->id = strdup(id);
	c->scenario = strdup(scenario);
	c->owner = strdup(owner);
	c->servers = calloc(n_arms, sizeof(char *));
	if (!c->id || !c->scenario || !c->owner || !c->servers) {
		compare_free(c);
		return -ENOMEM;
	}
	c->n_arms = n_arms;
	for (unsigned i = 0; i < n_arms; i++) {
		c->servers[i] = strdup(servers[i]);
		if (!c->servers[i]) {
			compare_free(c);
			return -ENOMEM;
		}
	}
	c->repeat = repeat;
	c->warmup = warmup;
	c->retry_noisy = retry_noisy;
	c->owner_uid = owner_uid;
	*ret = c;
	return 0;
}

struct compare *compare_free(struct compare *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].run_id);
	free(c->v);
	for (unsigned i = 0; c->servers && i < c->n_arms; i++)
		free(c->servers[i]);
	free(c->servers);
	free(c->id);
	free(c->scenario);
	free(c->owner);
	free(c);
	return NULL;
}

int compare_add(struct compare *c, size_t after, const char *run_id, struct compare_slot slot,
                bool retry)
{
	size_t at = after < c->n ? after + 1 : c->n;
	char *id;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct compare_entry *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	id = strdup(run_id);
	if (!id)
		return -ENOMEM;
	memmove(&c->v[at + 1], &c->v[at], (c->n - at) * sizeof(*c->v));
	c->v[at] = (struct compare_entry){ .run_id = id, .slot = slot, .retry = retry };
	c->n++;
	return 0;
}

struct compare_entry *compare_find(struct compare *c, const char *run_id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].run_id, run_id) == 0)
			return &c->v[i];
	return NULL;
}

bool compare_run_ended(struct compare *c, const char *run_id, const char *state, bool noisy)
{
	struct compare_entry *e = compare_find(c, run_id);

	if (!e || e->state)
		return false;
	e->state = state;
	e->noisy = noisy;
	if (!noisy || !c->retry_noisy || e->retry || e->slot.trial == 0 || c->cancelled ||
	    strcmp(state, "finished") != 0)
		return false;
	e->superseded = true;
	return true;
}

bool compare_done(const struct compare *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (!c->v[i].state)
			return false;
	return true;
}

const char *compare_state(const struct compare *c)
{
	if (!compare_done(c))
		return "running";
	return c->cancelled ? "cancelled" : "finished";
}
