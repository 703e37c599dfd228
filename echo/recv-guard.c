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
	struct frame_guard guard; /* what the client sends */
	struct frame_guard out;   /* what lws sends for us */
	struct lws *wsi;          /* set once the WebSocket is established */
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
	frame_guard_reset_outbound(&s->out);
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

bool recv_guard_close_sent(int fd)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	return s && s->active && frame_guard_closed(&s->out);
}

bool recv_guard_closing(int fd)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);

	return s && s->active && (frame_guard_closed(&s->out) || frame_guard_closed(&s->guard));
}

/* True while lws owes a pong for a ping it was given: it keeps only one
 * pending pong, so the stash waits until the send guard has seen it go. */
static bool slot_pong_owed(const struct recv_guard_slot *s)
{
	return s->guard.pings > s->out.pongs && !frame_guard_closed(&s->out);
}

/* Timer callback: lets lws read the stash, once no pong is owed (the send
 * guard schedules this again when the pong goes out). */
static void slot_resume(lws_sorted_usec_list_t *sul)
{
	struct recv_guard_slot *s = lws_container_of(sul, struct recv_guard_slot, resume);
	struct lws_pollfd pfd = {
		.fd = s->fd,
		.events = POLLIN,
		.revents = POLLIN,
	};
	struct lws_context *context = s->context;

	if (slot_pong_owed(s))
		return;
	lws_service_fd(context, &pfd);
	/* lws may not have read (rx flow control); try again shortly. */
	if (s->active && s->stash && s->context == context && !slot_pong_owed(s))
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

/* The bytes of a violating read that lws may still parse: those before the
 * offending frame. lws must not see that frame itself (it would answer an
 * unmasked ping, say); the connection is failed from WRITEABLE instead. */
static ssize_t slot_violation(struct recv_guard_slot *s, size_t scanned)
{
	size_t clean = s->guard.frame_start < scanned ? s->guard.frame_start : 0;

	if (s->wsi)
		lws_callback_on_writable(s->wsi);
	if (clean)
		return (ssize_t)clean;
	errno = EAGAIN;
	return -1;
}

/* 1000 (normal) and 1001 (going away) begin a closing handshake whose reply
 * is awaited; any other code fails the connection. */
static bool slot_normal_close(uint16_t code)
{
	return code == 1000 || code == 1001;
}

/* Interposes libc's recv() for libwebsockets; see recv-guard.h. */
ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);
	ssize_t n;
	size_t used;

	if (!s || !s->active || (flags & MSG_PEEK))
		return recvfrom(fd, buf, len, flags, NULL, NULL);
	if (s->stash && slot_pong_owed(s)) {
		errno = EAGAIN;
		return -1;
	}
	n = s->stash ? slot_take_stash(s, buf, len) : recvfrom(fd, buf, len, flags, NULL, NULL);
	if (n <= 0 || frame_guard_closed(&s->guard))
		return n;
	if (frame_guard_violated(&s->guard)) {
		/* Being failed: nothing more for lws to parse, but the end of
		 * the connection (n <= 0 above) still reaches it. */
		errno = EAGAIN;
		return -1;
	}
	/* Before the WebSocket is established there is no pong to wait for. */
	used = frame_guard_scan(&s->guard, buf, (size_t)n, s->wsi != NULL);
	if (frame_guard_violated(&s->guard))
		return slot_violation(s, used);
	if (frame_guard_closed(&s->guard)) {
		/* The client's Close answers ours: the handshake is complete
		 * and the server ends TCP now (section 7.1.1); lws still
		 * parses the reply and then reads the end of the stream. */
		if (frame_guard_closed(&s->out))
			shutdown(fd, SHUT_RDWR);
		return n;
	}
	if (used < (size_t)n)
		return (ssize_t)slot_stash_tail(s, buf, used, (size_t)n);
	return n;
}

/*
 * Interposes libc's send() for libwebsockets, which writes every plain-TCP
 * connection with it. Once our Close frame is out, nothing more goes on the
 * wire (RFC 6455 section 5.5.1: an echo queued before the close is sent
 * before it or dropped, never after it), and when both Close frames have
 * crossed, or the connection is being failed, the server ends TCP at once
 * (section 7.1.1) instead of waiting for the client or lws's timeout.
 */
ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct recv_guard_slot *s = recv_guard_slot(fd);
	struct frame_guard ahead;
	size_t keep;
	ssize_t n;

	if (!s || !s->active)
		return sendto(fd, buf, len, flags, NULL, 0);
	if (frame_guard_closed(&s->out))
		return (ssize_t)len; /* after our Close frame: dropped */
	/* Scan a copy first, to send no more than up to the end of a Close
	 * frame; the tracker itself follows only what the kernel took. */
	ahead = s->out;
	keep = frame_guard_scan(&ahead, buf, len, false);
	n = sendto(fd, buf, keep, flags, NULL, 0);
	if (n < 0)
		return n;
	if ((size_t)n < keep) {
		frame_guard_scan(&s->out, buf, (size_t)n, false);
		return n;
	}
	s->out = ahead;
	/* The pong lws owed is out: the bytes after its ping may follow. */
	if (s->stash && !slot_pong_owed(s))
		lws_sul_schedule(s->context, 0, &s->resume, slot_resume, 1);
	if (!frame_guard_closed(&s->out))
		return n;
	if (frame_guard_closed(&s->guard) || frame_guard_violated(&s->guard))
		shutdown(fd, SHUT_RDWR); /* the closing handshake is complete */
	else if (!slot_normal_close(s->out.close_code))
		/* Failing the connection (section 7.1.7): the Close frame is
		 * followed by the end of TCP at once. Reading goes on, so lws
		 * still sees the client's reply and frees the connection. */
		shutdown(fd, SHUT_WR);
	return (ssize_t)len;
}
