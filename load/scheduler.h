/* SPDX-License-Identifier: MIT */
/*
 * A load worker's scheduler: what is due when. Every client has two timed
 * events (its next connect, retry or deadline, and its next send), kept in a
 * min-heap on their times so the worker's timerfd is armed for the earliest
 * and a wakeup takes exactly the events that are due. Send times come from
 * the schedule (schedule.h), rounded up to the tick, so a client wakes once
 * per tick rather than once per message, and never sends before its time.
 */
#pragma once

#include <stdint.h>

#include "schedule.h"

/* One timed event, embedded in its owner (a client). */
struct load_event {
	int64_t at_ns;       /* CLOCK_MONOTONIC */
	uint32_t heap_index; /* SCHEDULER_IDLE when not queued */
	uint8_t kind;        /* the owner's */
};

#define SCHEDULER_IDLE UINT32_MAX

struct scheduler {
	struct load_event **heap; /* heap[0] is the earliest */
	unsigned len, cap;
};

/* Room for @cap events at once. Return: 0 or -ENOMEM. */
int scheduler_init(struct scheduler *s, unsigned cap);
void scheduler_free(struct scheduler *s);

/* A new event, not queued. */
static inline struct load_event scheduler_event(uint8_t kind)
{
	return (struct load_event){ .heap_index = SCHEDULER_IDLE, .kind = kind };
}

/* Queues @e at @at_ns, moving it if it is queued already. There must be room
 * (each event is queued at most once). */
void scheduler_add(struct scheduler *s, struct load_event *e, int64_t at_ns);

/* Takes @e out of the queue; nothing if it is not queued. */
void scheduler_remove(struct scheduler *s, struct load_event *e);

/* The earliest event, or NULL when none is queued. */
static inline struct load_event *scheduler_next(const struct scheduler *s)
{
	return s->len ? s->heap[0] : NULL;
}

/* The earliest event if it is due at @now_ns, taken out; NULL otherwise. */
struct load_event *scheduler_pop_due(struct scheduler *s, int64_t now_ns);

/**
 * scheduler_send_time() - when client @client sends message @n.
 * @start_ns: when sending starts (the schedule's time 0).
 * @tick_ns: send times are rounded up to a multiple of this (>= 1).
 * Return: the time, or -1 when @n falls after the end of the schedule.
 */
int64_t scheduler_send_time(const struct schedule *schedule, int64_t start_ns, int64_t tick_ns,
                            unsigned client, uint64_t n);
