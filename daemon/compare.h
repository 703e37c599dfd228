/* SPDX-License-Identifier: MIT */
/*
 * A compare: one scenario run on several servers ("arms"), each arm N times,
 * as one request (StartCompare). Its trials are ordinary runs, each with its
 * own report, queued together in interleaved rounds: a round runs every arm
 * once, the order rotated by one each round, so that drift on the machine
 * (other load, heat, frequency) hits every arm alike. With more than one
 * trial, one short warm-up run per arm comes first and is not counted. A
 * trial that ends noisy may be run once more (retry_noisy); the first run
 * is then superseded, its report kept.
 *
 * This module keeps the plan and the record (which run is which trial, and
 * how each ended); the manager creates, queues and cancels the runs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define COMPARE_MAX_ARMS   16
#define COMPARE_MAX_REPEAT 100
/* A warm-up trial runs the scenario for at most this long. */
#define COMPARE_WARMUP_SECONDS 3.0

/* One planned trial: which arm, which trial (1..N; 0: the warm-up). */
struct compare_slot {
	unsigned arm;
	unsigned trial;
};

/**
 * compare_plan() - the order of the trials of @n_arms arms, @repeat each,
 * with a warm-up per arm first when @warmup: round r (1..N) runs the arms
 * starting from arm (r - 1) mod n_arms.
 * @out: room for compare_plan_size() slots.
 * Return: the number of slots written.
 */
size_t compare_plan(unsigned n_arms, unsigned repeat, bool warmup, struct compare_slot *out);

static inline size_t compare_plan_size(unsigned n_arms, unsigned repeat, bool warmup)
{
	return (size_t)n_arms * (repeat + (warmup ? 1 : 0));
}

struct compare_entry {
	char *run_id;
	struct compare_slot slot;
	const char *state; /* the run's final state (static), or NULL while it has not ended */
	bool noisy;        /* it ended noisy */
	bool superseded;   /* a retry replaced it */
	bool retry;        /* it is the retry of a noisy trial */
};

struct compare {
	char *id;
	char *scenario;
	char **servers; /* one per arm; an arm may repeat a server (A/A) */
	unsigned n_arms;
	unsigned repeat;
	bool warmup, retry_noisy;
	uid_t owner_uid;
	char *owner;
	bool cancelled;

	struct compare_entry *v;
	size_t n, cap;
};

/* A compare with no trials yet. Return: 0 or -ENOMEM. */
int compare_new(const char *id, const char *scenario, char *const *servers, unsigned n_arms,
                unsigned repeat, bool warmup, bool retry_noisy, uid_t owner_uid, const char *owner,
                struct compare **ret);
struct compare *compare_free(struct compare *c);

/**
 * compare_add() - record that @run_id is the trial @slot (a retry when
 * @retry), after the entry at @after (or at the end when @after is
 * c->n); entries keep queue order.
 * Return: 0 or -ENOMEM.
 */
int compare_add(struct compare *c, size_t after, const char *run_id, struct compare_slot slot,
                bool retry);

/* The entry of @run_id, or NULL. */
struct compare_entry *compare_find(struct compare *c, const char *run_id);

/**
 * compare_run_ended() - @run_id ended in @state ("finished", "failed",
 * "cancelled": a string that lives as long as the compare), @noisy or not.
 * Return: true when the trial should be run once more (a counted trial,
 * finished but noisy, retry_noisy asked, not a retry itself, compare not
 * cancelled); the entry is then marked superseded.
 */
bool compare_run_ended(struct compare *c, const char *run_id, const char *state, bool noisy);

/* Whether every trial has ended. */
bool compare_done(const struct compare *c);

/* "running", "cancelled" (cancelled by request), or "finished". */
const char *compare_state(const struct compare *c);
