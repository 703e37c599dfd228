/* SPDX-License-Identifier: MIT */
/*
 * One echo connection's messages: the one being reassembled from fragments
 * and the queue of whole messages waiting to be written back. Independent of
 * the lws callback so it can be tested alone; buffers keep LWS_PRE bytes of
 * headroom so lws_write() can put the frame header in front of the payload.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct echo_msg {
	struct echo_msg *next;
	size_t len;  /* payload bytes */
	size_t sent; /* payload bytes already written */
	size_t cap;  /* payload capacity while reassembling */
	bool binary;
	uint8_t buf[]; /* LWS_PRE headroom, then the payload */
};

struct echo_session {
	struct echo_msg *partial; /* message being reassembled, or NULL */
	struct echo_msg *head;    /* oldest message waiting to be written */
	struct echo_msg *tail;
	size_t queued_bytes; /* unsent payload bytes in the queue */
	size_t queued_msgs;
	bool rx_paused; /* rx flow control is holding the peer back */
};

/* The payload of @m; LWS_PRE bytes before it are writable. */
uint8_t *echo_msg_payload(struct echo_msg *m);

/**
 * echo_session_receive() - add a chunk of an incoming message.
 * @first, @final: lws_is_first_fragment() / lws_is_final_fragment() of the chunk.
 * @hint: payload bytes still expected in the current frame: the buffer is
 *        sized for them, and a message they would take past @max fails now.
 * @max: the largest message allowed.
 * Return: 1 when the chunk completed a message (now queued), 0 when more is
 * expected, -EMSGSIZE above @max, -ENOMEM.
 */
int echo_session_receive(struct echo_session *s, const void *in, size_t len, bool first, bool final,
                         bool binary, size_t hint, size_t max);

/* The oldest queued message, or NULL. */
static inline struct echo_msg *echo_session_peek(struct echo_session *s)
{
	return s->head;
}

/* Marks @n more bytes of the oldest message written; frees it when done. */
void echo_session_consume(struct echo_session *s, size_t n);

/* Frees everything. The session can be reused afterwards. */
void echo_session_clear(struct echo_session *s);
