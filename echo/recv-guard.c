/* SPDX-License-Identifier: MIT */
/*
 * The recv() interposer and its per-descriptor table. Each descriptor is used
 * by one worker thread at a time (the one whose lws context adopted it), so
 * the slots need no locking.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "frame-guard.h"
#include "recv-guard.h"

struct recv_guard_slot {
	struct frame_guard guard;
	void *owner;
	bool active;
};

static struct recv_guard_slot *slots;
static size_t slot_count;

void (*recv_guard_on_violation)(void *owner);

int recv_guard_init(size_t max_fds)
{
	slots = calloc(max_fds, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	slot_count = max_fds;
	return 0;
}

void recv_guard_done(void)
{
	free(slots);
	slots = NULL;
	slot_count = 0;
}

static struct recv_guard_slot *recv_guard_slot(int fd)
{
	if (fd < 0 || (size_t)fd >= slot_count)
		return NULL;
	return &slots[fd];
}

void recv_guard_watch(int fd)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	if (!s)
		return;
	frame_guard_reset(&s->guard);
	s->owner = NULL;
	s->active = true;
}

void recv_guard_forget(int fd)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	if (s) {
		s->active = false;
		s->owner = NULL;
	}
}

void recv_guard_set_owner(int fd, void *owner)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	if (s && s->active)
		s->owner = owner;
}

bool recv_guard_violated(int fd)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	return s && s->active && frame_guard_violated(&s->guard);
}

/* Interposes libc's recv() for libwebsockets; see recv-guard.h. */
ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = recvfrom(fd, buf, len, flags, NULL, NULL);
	struct recv_guard_slot *s;

	if (n <= 0 || (flags & MSG_PEEK))
		return n;
	s = recv_guard_slot(fd);
	if (!s || !s->active || frame_guard_violated(&s->guard))
		return n;
	if (frame_guard_feed(&s->guard, buf, (size_t)n) && s->owner && recv_guard_on_violation)
		recv_guard_on_violation(s->owner);
	return n;
}
