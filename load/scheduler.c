/* SPDX-License-Identifier: MIT */
/* A load worker's scheduler (see scheduler.h): a binary min-heap on the events' times. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "scheduler.h"

int scheduler_init(struct scheduler *s, unsigned cap)
{
	*s = (struct scheduler){ .heap = calloc(cap ? cap : 1, sizeof(*s->heap)), .cap = cap };
	return s->heap ? 0 : -ENOMEM;
}

void scheduler_free(struct scheduler *s)
{
	free(s->heap);
	*s = (struct scheduler){ 0 };
}

static void swap(struct scheduler *s, unsigned a, unsigned b)
{
	struct load_event *t = s->heap[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = t;
	s->heap[a]->heap_index = a;
	s->heap[b]->heap_index = b;
}

static void up(struct scheduler *s, unsigned i)
{
	while (i > 0 && s->heap[(i - 1) / 2]->at_ns > s->heap[i]->at_ns) {
		swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void down(struct scheduler *s, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->len && s->heap[l]->at_ns < s->heap[m]->at_ns)
			m = l;
		if (r < s->len && s->heap[r]->at_ns < s->heap[m]->at_ns)
			m = r;
		if (m == i)
			return;
		swap(s, i, m);
		i = m;
	}
}

void scheduler_remove(struct scheduler *s, struct load_event *e)
{
	unsigned i = e->heap_index;

	if (i == SCHEDULER_IDLE)
		return;
	if (i != --s->len) {
		swap(s, i, s->len);
		down(s, i);
		up(s, i);
	}
	e->heap_index = SCHEDULER_IDLE;
}

void scheduler_add(struct scheduler *s, struct load_event *e, int64_t at_ns)
{
	scheduler_remove(s, e);
	e->at_ns = at_ns;
	e->heap_index = s->len;
	s->heap[s->len++] = e;
	up(s, e->heap_index);
}

struct load_event *scheduler_pop_due(struct scheduler *s, int64_t now_ns)
{
	struct load_event *top = scheduler_next(s);

	if (!top || top->at_ns > now_ns)
		return NULL;
	scheduler_remove(s, top);
	return top;
}

int64_t scheduler_send_time(const struct schedule *schedule, int64_t start_ns, int64_t tick_ns,
                            unsigned client, uint64_t n)
{
	double t = schedule_time(schedule, client, n);
	int64_t rel;

	if (t < 0)
		return -1;
	rel = (int64_t)llround(t * 1e9);
	rel = (rel + tick_ns - 1) / tick_ns * tick_ns;
	return start_ns + rel;
}
