/* SPDX-License-Identifier: MIT */
/*
 * The recv() interposer and its per-descriptor table (see recv-guard.h).
 * Each descriptor is used by one worker thread at a time (the one whose lws
 * context adopted it), so the slots need no locking.
 */
#include <errno.h>
#include <libwebsockets.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "frame-guard.h"
#include "macro.h"
#include "recv-guard.h"

struct recv_guard_slot {
	struct frame_guard guard;
	struct lws *wsi; /* set once the WebSocket is established */
	struct lws_context *context;
	int fd;
	bool active;
	uint8_t *stash; /* bytes read past a ping, not yet given to lws */
	size_t stash_len, stash_off;
	lws_sorted_usec_list_t resume; /* services the socket again */
};

static struct recv_guard_slot *slots;
static size_t slot_count;

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
	for (size_t i = 0; i < slot_count; i++)
		free(slots[i].stash);
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

static void slot_clear_stash(struct recv_guard_slot *s)
{
	free(s->stash);
	s->stash = NULL;
	s->stash_len = s->stash_off = 0;
	if (s->context)
		lws_sul_schedule(s->context, 0, &s->resume, NULL, LWS_SET_TIMER_USEC_CANCEL);
}

void recv_guard_watch(int fd)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	if (!s)
		return;
	slot_clear_stash(s);
	memset(s, 0, sizeof(*s));
	frame_guard_reset(&s->guard);
	s->fd = fd;
	s->active = true;
}

void recv_guard_forget(int fd)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	if (!s)
		return;
	slot_clear_stash(s);
	s->active = false;
	s->wsi = NULL;
	s->context = NULL;
}

void recv_guard_set_owner(int fd, struct lws *wsi)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	if (s && s->active) {
		s->wsi = wsi;
		s->context = lws_get_context(wsi);
	}
}

bool recv_guard_violated(int fd)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	return s && s->active && frame_guard_violated(&s->guard);
}

/* Timer callback: POLLOUT first, so lws writes the pending pong, then POLLIN,
 * so it reads the stash (lws handles them in that order). */
static void slot_resume(lws_sorted_usec_list_t *sul)
{
	struct recv_guard_slot *s = lws_container_of(sul, struct recv_guard_slot, resume);
	struct lws_pollfd pfd = {
		.fd = s->fd,
		.events = POLLIN | POLLOUT,
		.revents = POLLIN | POLLOUT,
	};
	struct lws_context *context = s->context;

	lws_service_fd(context, &pfd);
	/* lws may not have read (rx flow control); try again shortly. */
	if (s->active && s->stash && s->context == context)
		lws_sul_schedule(context, 0, &s->resume, slot_resume, 1000);
}

static ssize_t slot_take_stash(struct recv_guard_slot *s, void *buf, size_t len)
{
	size_t n = MIN(len, s->stash_len - s->stash_off);

	memcpy(buf, s->stash + s->stash_off, n);
	s->stash_off += n;
	if (s->stash_off == s->stash_len) {
		free(s->stash);
		s->stash = NULL;
		s->stash_len = s->stash_off = 0;
	}
	return (ssize_t)n;
}

/* Keeps buf[keep..n) for later; returns how many bytes lws gets now. */
static size_t slot_stash_tail(struct recv_guard_slot *s, uint8_t *buf, size_t keep, size_t n)
{
	size_t rest = n - keep;
	uint8_t *tail = malloc(rest + (s->stash ? s->stash_len - s->stash_off : 0));

	if (!tail)
		return n; /* no memory: give lws everything, as without the guard */
	memcpy(tail, buf + keep, rest);
	if (s->stash) {
		/* The tail came from the stash itself: keep the unread remainder. */
		memcpy(tail + rest, s->stash + s->stash_off, s->stash_len - s->stash_off);
		rest += s->stash_len - s->stash_off;
		free(s->stash);
	}
	s->stash = tail;
	s->stash_len = rest;
	s->stash_off = 0;
	lws_sul_schedule(s->context, 0, &s->resume, slot_resume, 1);
	return keep;
}

/* Interposes libc's recv() for libwebsockets; see recv-guard.h. */
ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);
	ssize_t n;
	size_t used;

	if (!s || !s->active || (flags & MSG_PEEK))
		return recvfrom(fd, buf, len, flags, NULL, NULL);
	n = s->stash ? slot_take_stash(s, buf, len) : recvfrom(fd, buf, len, flags, NULL, NULL);
	if (n <= 0 || frame_guard_violated(&s->guard))
		return n;
	/* Before the WebSocket is established there is no pong to wait for. */
	used = frame_guard_scan(&s->guard, buf, (size_t)n, s->wsi != NULL);
	if (frame_guard_violated(&s->guard)) {
		if (s->wsi)
			lws_callback_on_writable(s->wsi);
		return n;
	}
	if (used < (size_t)n)
		return (ssize_t)slot_stash_tail(s, buf, used, (size_t)n);
	return n;
}
