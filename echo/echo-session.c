/* SPDX-License-Identifier: MIT */
/*
 * Reassembly and the outgoing queue of one echo connection. Messages are kept
 * whole (RFC 6455 section 5.4 lets the echo be re-fragmented, but never mixed
 * with another message), and the reassembly buffer becomes the queued
 * message without a copy.
 */
#include <errno.h>
#include <libwebsockets.h>
#include <string.h>

#include "echo-session.h"
#include "macro.h"

/* First allocation for a message that arrives in pieces; doubled as needed. */
#define ECHO_MIN_CAP 4096

uint8_t *echo_msg_payload(struct echo_msg *m)
{
	return m->buf + LWS_PRE;
}

static struct echo_msg *echo_msg_resize(struct echo_msg *m, size_t cap)
{
	struct echo_msg *n = realloc(m, sizeof(*m) + LWS_PRE + cap);

	if (!n)
		return NULL;
	if (!m)
		*n = (struct echo_msg){ 0 };
	n->cap = cap;
	return n;
}

static void echo_session_enqueue(struct echo_session *s, struct echo_msg *m)
{
	m->next = NULL;
	if (s->tail)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	s->queued_bytes += m->len;
	s->queued_msgs++;
}

static int echo_session_reserve(struct echo_session *s, size_t need, size_t max, bool exact)
{
	struct echo_msg *m;
	size_t cap;

	if (s->partial && s->partial->cap >= need)
		return 0;
	if (!s->partial && exact) {
		/* The common case: a whole message in one chunk, sized exactly. */
		s->partial = echo_msg_resize(NULL, need);
		return s->partial ? 0 : -ENOMEM;
	}
	cap = s->partial ? s->partial->cap : 0;
	cap = MAX(cap, (size_t)ECHO_MIN_CAP);
	while (cap < need)
		cap *= 2;
	cap = MIN(cap, max);
	m = echo_msg_resize(s->partial, cap);
	if (!m)
		return -ENOMEM;
	s->partial = m;
	return 0;
}

int echo_session_receive(struct echo_session *s, const void *in, size_t len, bool first, bool final,
                         bool binary, size_t hint, size_t max)
{
	size_t have = s->partial ? s->partial->len : 0;
	int r;

	if (first && s->partial) {
		/* lws rejects a new message inside a fragmented one (1002), so this
		 * means a bug; drop the stale piece rather than mix messages. */
		free(s->partial);
		s->partial = NULL;
		have = 0;
	}
	if (len > max || have > max - len)
		return -EMSGSIZE;
	/* The frame's header said how much more is coming: a message that
	 * cannot fit fails now, not once its bytes have been read and held. */
	if (!final && hint > max - have - len)
		return -EMSGSIZE;
	/* Size for the rest of the frame too, when lws tells us, so a large
	 * single-frame message is allocated once. */
	r = echo_session_reserve(s, have + len + (final ? 0 : MIN(hint, max - have - len)), max,
	                         final);
	if (r < 0)
		return r;
	if (first)
		s->partial->binary = binary;
	if (len)
		memcpy(echo_msg_payload(s->partial) + have, in, len);
	s->partial->len = have + len;
	if (!final)
		return 0;
	echo_session_enqueue(s, TAKE_PTR(s->partial));
	return 1;
}

void echo_session_consume(struct echo_session *s, size_t n)
{
	struct echo_msg *m = s->head;

	if (!m)
		return;
	n = MIN(n, m->len - m->sent);
	m->sent += n;
	s->queued_bytes -= n;
	if (m->sent < m->len)
		return;
	s->head = m->next;
	if (!s->head)
		s->tail = NULL;
	s->queued_msgs--;
	free(m);
}

void echo_session_clear(struct echo_session *s)
{
	while (s->head) {
		struct echo_msg *m = s->head;

		s->head = m->next;
		free(m);
	}
	free(s->partial);
	*s = (struct echo_session){ 0 };
}
