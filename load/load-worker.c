/* SPDX-License-Identifier: MIT */
/*
 * The load engine's worker thread (see load-worker.h): connects its clients
 * on the ramp-up timetable, sends each message at its scheduled time whether
 * or not earlier echoes have returned (open loop), verifies every echo byte
 * for byte and records latency from the scheduled time (corrected for
 * coordinated omission) and from the actual send time. Sockets, epoll and
 * the timerfd are handled here; the WebSocket protocol is ws-client.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "load-worker.h"
#include "log.h"
#include "macro.h"
#include "message.h"
#include "scheduler.h"

/* Sent messages remembered per client, to match echoes by sequence number,
 * detect duplicates and recover the actual send time. An echo older than
 * this window still counts, without an uncorrected latency. */
#define WINDOW 256
/* Housekeeping period: drain checks, stop requests, publishing statistics. */
#define HOUSEKEEPING_NS (100 * NSEC_PER_MSEC)
/* After sending our Close, the server has this long to answer with its own;
 * after the drain deadline, all closes get this long before the loop ends. */
#define CLOSE_GRACE_NS (2 * NSEC_PER_SEC)
/* Pause before retrying a failed connect. */
#define RETRY_BACKOFF_NS (200 * NSEC_PER_MSEC)
/* A read that fills this buffer is followed by another at once. */
#define RX_BUFFER (128 * 1024)
#define TX_BUFFER (64 * 1024)
/* Output buffers and reassembly buffers above this are freed once empty. */
#define KEEP_BUFFER (64 * 1024)
#define MAX_EVENTS  256

enum event_kind {
	EVENT_CLIENT, /* connect, retry, connect deadline or close deadline, by state */
	EVENT_SEND,
};

enum client_state {
	CLIENT_IDLE,       /* before the first attempt, or waiting to retry */
	CLIENT_CONNECTING, /* TCP connect in progress */
	CLIENT_HANDSHAKE,  /* upgrade request sent, response not complete */
	CLIENT_OPEN,
	CLIENT_CLOSING, /* our Close sent, waiting for the server's */
	CLIENT_DONE,
};

/* One sent message: the sequence number's high part (seq / WINDOW + 1; 0 =
 * empty) and the send lag in µs, whose top bit marks it outstanding. */
struct sent_slot {
	uint32_t tag;
	uint32_t lag;
};
#define SLOT_OUTSTANDING 0x80000000u

/* Kept small: an idle connection costs this, the kernel's socket and a
 * share of the scheduler's heap. */
struct load_client {
	struct load_event client_ev, send_ev;
	int fd;
	uint32_t id;
	uint8_t state;
	bool closing;       /* the run is ending: send nothing more */
	bool want_out;      /* EPOLLOUT is armed */
	bool parser_active; /* ws.parser (not ws.hs) is in use */
	bool schedule_done; /* no message left to become due */
	unsigned attempts;
	int64_t attempt_ns;

	uint64_t next_n;   /* next message to become due */
	uint64_t due;      /* messages due so far (n < due) */
	uint64_t written;  /* messages encoded and handed to the socket (n < written) */
	uint64_t received; /* echoes accounted for */

	uint8_t *out; /* bytes the socket did not take yet, in order */
	uint32_t out_off, out_len, out_cap;

	union {
		struct ws_handshake hs; /* CLIENT_HANDSHAKE */
		struct ws_parser parser;
	} ws;
	struct sent_slot window[WINDOW];
};

enum failure { FAIL_REFUSED, FAIL_TIMEOUT, FAIL_HANDSHAKE, FAIL_OTHER };

static struct load_client *client_of(struct load_event *e)
{
	return e->kind == EVENT_SEND
	           ? (struct load_client *)((char *)e - offsetof(struct load_client, send_ev))
	           : (struct load_client *)((char *)e - offsetof(struct load_client, client_ev));
}

/* ---- timer ------------------------------------------------------------ */

static int64_t next_deadline(const struct load_worker *w)
{
	int64_t next = w->last_housekeeping_ns + HOUSEKEEPING_NS;

	if (scheduler_next(&w->scheduler) && scheduler_next(&w->scheduler)->at_ns < next)
		next = scheduler_next(&w->scheduler)->at_ns;
	return next > 0 ? next : 1;
}

static void timer_arm(struct load_worker *w)
{
	int64_t next = next_deadline(w);
	struct itimerspec its = { 0 };

	if (next == w->timer_armed_ns)
		return;
	its.it_value.tv_sec = next / NSEC_PER_SEC;
	its.it_value.tv_nsec = next % NSEC_PER_SEC;
	if (timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		w->timer_armed_ns = next;
}

/* ---- schedule --------------------------------------------------------- */

static int64_t send_time_ns(const struct load_worker *w, const struct load_client *c, uint64_t n)
{
	return scheduler_send_time(&w->plan->opts->schedule, w->plan->send_ns, w->tick_ns, c->id,
	                           n);
}

static void schedule_next_send(struct load_worker *w, struct load_client *c)
{
	int64_t at = send_time_ns(w, c, c->next_n);

	if (at < 0) {
		c->schedule_done = true;
		return;
	}
	scheduler_add(&w->scheduler, &c->send_ev, at);
}

/* ---- sockets ------------------------------------------------------------ */

static int client_epoll(struct load_worker *w, struct load_client *c, int op, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(w->io_fd, op, c->fd, &ev) < 0 ? -errno : 0;
}

static void client_want_out(struct load_worker *w, struct load_client *c, bool want)
{
	if (c->want_out == want || c->fd < 0)
		return;
	if (client_epoll(w, c, EPOLL_CTL_MOD, EPOLLIN | (want ? EPOLLOUT : 0)) == 0)
		c->want_out = want;
}

/* Releases everything the connection holds; the client's state is the
 * caller's. */
static void client_release(struct load_worker *w, struct load_client *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->want_out = false;
	free(c->out);
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
	if (c->parser_active)
		ws_parser_free(&c->ws.parser);
	c->parser_active = false;
	scheduler_remove(&w->scheduler, &c->client_ev);
}

/* The client has nothing more to do. */
static void client_done(struct load_worker *w, struct load_client *c)
{
	client_release(w, c);
	if (c->state == CLIENT_OPEN || c->state == CLIENT_CLOSING)
		w->connected--;
	if (c->state != CLIENT_DONE)
		w->open_clients--;
	c->state = CLIENT_DONE;
}

/* An open connection ended other than by our closing handshake. */
static void client_lost(struct load_worker *w, struct load_client *c, int error)
{
	if (c->state == CLIENT_OPEN && !c->closing)
		w->local.conn_dropped++;
	log_debug("client %u: connection lost (%s)", c->id,
	          error ? strerror(-error) : "closed by the server");
	client_done(w, c);
}

/* Appends @n bytes to the client's output buffer, in order. */
static int out_append(struct load_client *c, const uint8_t *data, size_t n)
{
	size_t need;

	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	need = (size_t)c->out_len + n;
	if (need > UINT32_MAX)
		return -ENOBUFS;
	if (need > c->out_cap) {
		size_t cap = MAX((size_t)c->out_cap * 2, MAX(need, (size_t)4096));
		uint8_t *p;

		if (c->out_off) { /* compact first */
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
			need = (size_t)c->out_len + n;
		}
		if (need > c->out_cap) {
			cap = MIN(cap, (size_t)UINT32_MAX);
			p = realloc(c->out, cap);
			if (!p)
				return -ENOMEM;
			c->out = p;
			c->out_cap = (uint32_t)cap;
		}
	}
	memcpy(c->out + c->out_len, data, n);
	c->out_len += (uint32_t)n;
	return 0;
}

/*
 * Hands @n bytes to the socket, or queues them behind bytes still waiting
 * (never out of order); what the socket does not take waits for EPOLLOUT.
 * Return: 0, or a negative errno when the connection is gone (handled).
 */
static int client_send(struct load_worker *w, struct load_client *c, const uint8_t *data, size_t n)
{
	ssize_t k = 0;
	int r;

	if (c->out_len == c->out_off) {
		k = write(c->fd, data, n);
		if (k < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				r = -errno;
				client_lost(w, c, r);
				return r;
			}
			k = 0;
		}
		if ((size_t)k == n)
			return 0;
	}
	r = out_append(c, data + k, n - (size_t)k);
	if (r < 0) {
		client_lost(w, c, r);
		return r;
	}
	client_want_out(w, c, true);
	return 0;
}

/* ---- connecting ------------------------------------------------------- */

static void count_failure(struct load_worker *w, enum failure why, int status)
{
	struct load_stats *s = &w->local;

	switch (why) {
	case FAIL_REFUSED:
		s->fail_refused++;
		break;
	case FAIL_TIMEOUT:
		s->fail_timeout++;
		break;
	case FAIL_HANDSHAKE:
		s->fail_handshake++;
		load_stats_count_code(s->http_status, status);
		break;
	case FAIL_OTHER:
		s->fail_other++;
		break;
	}
}

static enum failure failure_of_errno(int error)
{
	switch (error) {
	case ECONNREFUSED:
		return FAIL_REFUSED;
	case ETIMEDOUT:
		return FAIL_TIMEOUT;
	default:
		return FAIL_OTHER;
	}
}

/* A connect attempt failed: retry after a pause, or give the client up. */
static void connect_failed(struct load_worker *w, struct load_client *c, enum failure why,
                           int status, int error)
{
	bool retry = c->attempts <= w->plan->opts->retries && !w->closing;

	log_debug("client %u: connect attempt %u failed (%s, HTTP %d)", c->id, c->attempts,
	          error ? strerror(error) : "handshake", status);
	count_failure(w, why, status);
	client_release(w, c);
	if (retry) {
		c->state = CLIENT_IDLE;
		scheduler_add(&w->scheduler, &c->client_ev, now_ns() + RETRY_BACKOFF_NS);
	} else {
		w->local.conn_failed++;
		c->state = CLIENT_DONE;
		w->open_clients--;
	}
}

static int client_socket(struct load_worker *w, struct load_client *c)
{
	const struct load_plan *p = w->plan;
	int fd, one = 1;

	fd = socket(w->server.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	c->fd = fd;
	/* Frames are batched here; the kernel must not hold them back. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Echoes are timed by the kernel when they arrive (see on_readable()). */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (p->n_sources) {
		const struct load_addr *src = &w->sources[c->id % p->n_sources];

		/* Pick the port at connect(), per destination: bind() alone would
		 * give every connection of this source its own port, and ports
		 * run out at about 28,000. */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&src->sa, src->len) < 0)
			return -errno;
	}
	if (connect(fd, (const struct sockaddr *)&w->server.sa, w->server.len) < 0 &&
	    errno != EINPROGRESS)
		return -errno;
	return client_epoll(w, c, EPOLL_CTL_ADD, EPOLLOUT);
}

static void client_connect(struct load_worker *w, struct load_client *c)
{
	int r;

	c->attempts++;
	c->attempt_ns = now_ns();
	w->local.conn_attempts++;
	if (c->attempts > 1)
		w->local.conn_retries++;
	c->state = CLIENT_CONNECTING;
	r = client_socket(w, c);
	if (r < 0) {
		connect_failed(w, c, failure_of_errno(-r), 0, -r);
		return;
	}
	scheduler_add(&w->scheduler, &c->client_ev,
	              c->attempt_ns + (int64_t)llround(w->plan->opts->connect_timeout * 1e9));
}

/* The TCP connection is up (or failed): send the upgrade request. */
static void on_connected(struct load_worker *w, struct load_client *c)
{
	const struct load_options *o = w->plan->opts;
	int err = 0, n;
	socklen_t len = sizeof(err);
	uint64_t nonce[2];

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		connect_failed(w, c, failure_of_errno(err), 0, err);
		return;
	}
	nonce[0] = ws_rng_next(&w->rng);
	nonce[1] = ws_rng_next(&w->rng);
	ws_handshake_init(&c->ws.hs, (const uint8_t *)nonce);
	n = ws_handshake_request(&c->ws.hs, w->host_header, o->path, (char *)w->tx_buf, w->tx_size);
	c->state = CLIENT_HANDSHAKE;
	if (n < 0 || client_epoll(w, c, EPOLL_CTL_MOD, EPOLLIN) < 0) {
		connect_failed(w, c, FAIL_OTHER, 0, n < 0 ? -n : errno);
		return;
	}
	c->want_out = false;
	if (c->out_len == c->out_off && write(c->fd, w->tx_buf, (size_t)n) == n)
		return;
	/* A request the socket does not take at once: rare; keep it in order. */
	if (out_append(c, w->tx_buf, (size_t)n) < 0) {
		connect_failed(w, c, FAIL_OTHER, 0, ENOMEM);
		return;
	}
	client_want_out(w, c, true);
}

static void send_due(struct load_worker *w, struct load_client *c);
static void send_close(struct load_worker *w, struct load_client *c, int code);

static void on_established(struct load_worker *w, struct load_client *c)
{
	scheduler_remove(&w->scheduler, &c->client_ev); /* the connect deadline */
	ws_parser_init(&c->ws.parser, w->plan->opts->size + 1);
	c->parser_active = true;
	c->state = CLIENT_OPEN;
	w->local.conn_established++;
	w->connected++;
	if (c->closing)
		send_close(w, c, WS_CLOSE_NORMAL);
	else
		send_due(w, c);
}

/* ---- sending ---------------------------------------------------------- */

/* Encodes the due messages that fit in @room bytes of @buf as masked
 * frames and records them as sent at @now. Return: bytes encoded. */
static size_t encode_due(struct load_worker *w, struct load_client *c, uint8_t *buf, size_t room,
                         int64_t now)
{
	const struct load_plan *p = w->plan;
	const struct load_options *o = p->opts;
	enum ws_opcode op = o->type == MESSAGE_TEXT ? WS_OP_TEXT : WS_OP_BINARY;
	size_t frame = ws_frame_header_len(o->size) + o->size, used = 0;
	struct load_stats *s = &w->local;

	while (c->written < c->due && used + frame <= room) {
		uint64_t n = c->written, lag_us;
		int64_t sched = send_time_ns(w, c, n);
		struct message_id id = { .client = c->id,
			                 .seq = n,
			                 .sched_us =
			                     (uint64_t)((sched - p->send_ns) / NSEC_PER_USEC) };
		uint32_t mask = (uint32_t)ws_rng_next(&w->rng);
		size_t h = ws_frame_header(buf + used, op, true, o->size, mask);
		struct sent_slot *slot = &c->window[n % WINDOW];

		if (message_encode(o->type, &id, p->key, buf + used + h, o->size) < 0)
			break; /* options validation rules this out */
		ws_mask(buf + used + h, o->size, mask);
		used += frame;
		lag_us = now > sched ? (uint64_t)(now - sched) / NSEC_PER_USEC : 0;
		slot->tag = (uint32_t)(n / WINDOW) + 1;
		slot->lag =
		    (uint32_t)MIN(lag_us, (uint64_t)SLOT_OUTSTANDING - 1) | SLOT_OUTSTANDING;
		c->written++;
		s->sent++;
		s->bytes_sent += o->size;
		if (sched >= p->measure_ns) {
			s->measured_sent++;
			histogram_record(&s->send_lag, lag_us);
		}
	}
	return used;
}

/*
 * Writes every message due on @c in one write() (a few when they do not fit
 * the batch buffer). While earlier bytes still wait for the socket, nothing
 * new is encoded: EPOLLOUT continues, so send lag stays honest and memory
 * bounded.
 */
static void send_due(struct load_worker *w, struct load_client *c)
{
	const struct load_options *o = w->plan->opts;
	size_t frame = ws_frame_header_len(o->size) + o->size;
	int64_t now = now_ns();

	while (c->state == CLIENT_OPEN && !c->closing && c->written < c->due &&
	       c->out_len == c->out_off) {
		size_t n;

		if (frame > w->tx_size) {
			/* A message larger than the batch buffer: encode it straight
			 * into the connection's output buffer. */
			if (frame > c->out_cap) {
				uint8_t *p = frame <= UINT32_MAX ? realloc(c->out, frame) : NULL;

				if (!p) {
					client_lost(w, c, -ENOMEM);
					return;
				}
				c->out = p;
				c->out_cap = (uint32_t)frame;
			}
			c->out_off = 0;
			c->out_len = (uint32_t)encode_due(w, c, c->out, frame, now);
			client_want_out(w, c, true);
			return;
		}
		n = encode_due(w, c, w->tx_buf, w->tx_size, now);
		if (n == 0 || client_send(w, c, w->tx_buf, n) < 0)
			return;
	}
}

/* The socket takes more: write what waits, then what became due. */
static void on_writable(struct load_worker *w, struct load_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t k = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (k < 0) {
			if (errno == EAGAIN)
				return;
			if (errno == EINTR)
				continue;
			client_lost(w, c, -errno);
			return;
		}
		c->out_off += (uint32_t)k;
	}
	c->out_off = c->out_len = 0;
	if (c->out_cap > KEEP_BUFFER) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	client_want_out(w, c, false);
	if (c->state == CLIENT_OPEN)
		send_due(w, c);
}

/* Section 7.1.2: start (or answer) the closing handshake. */
static void send_close(struct load_worker *w, struct load_client *c, int code)
{
	uint8_t frame[WS_CLOSE_FRAME_LEN];
	size_t n = ws_close_encode(frame, code, (uint32_t)ws_rng_next(&w->rng));

	if (client_send(w, c, frame, n) < 0)
		return;
	c->state = CLIENT_CLOSING;
	scheduler_add(&w->scheduler, &c->client_ev, now_ns() + CLOSE_GRACE_NS);
}

/* ---- receiving -------------------------------------------------------- */

static void account_echo(struct load_worker *w, struct load_client *c, const struct message_id *id,
                         int64_t now)
{
	const struct load_plan *p = w->plan;
	struct load_stats *s = &w->local;
	struct sent_slot *slot = &c->window[id->seq % WINDOW];
	int64_t sched = p->send_ns + (int64_t)id->sched_us * NSEC_PER_USEC;
	uint64_t corrected = now > sched ? (uint64_t)(now - sched) / NSEC_PER_USEC : 0;
	bool in_window = slot->tag == (uint32_t)(id->seq / WINDOW) + 1;

	if (id->client != c->id || id->seq >= c->written ||
	    (in_window && !(slot->lag & SLOT_OUTSTANDING))) {
		s->unexpected++; /* a duplicate, or an echo of something never sent */
		return;
	}
	s->received++;
	c->received++;
	if (in_window)
		slot->lag &= ~SLOT_OUTSTANDING;
	if (sched < p->measure_ns)
		return;
	s->measured_received++;
	histogram_record(&s->corrected, corrected);
	histogram_record(&s->interval, corrected);
	if (in_window)
		histogram_record(&s->uncorrected,
		                 corrected > slot->lag ? corrected - slot->lag : 0);
	else
		s->uncorrected_missing++;
}

static void on_message(struct load_worker *w, struct load_client *c, const struct ws_event *ev,
                       int64_t now)
{
	const struct load_options *o = w->plan->opts;
	enum ws_opcode op = o->type == MESSAGE_TEXT ? WS_OP_TEXT : WS_OP_BINARY;
	struct message_id id;

	w->local.bytes_received += ev->len;
	if (!ev->oversized && ev->len == o->size && ev->opcode == op &&
	    message_verify(o->type, ev->data, ev->len, w->plan->key, w->scratch, &id) == 0) {
		account_echo(w, c, &id, now);
	} else {
		w->local.corrupted++;
		c->received++;
	}
}

static void on_peer_close(struct load_worker *w, struct load_client *c, int code)
{
	if (c->state == CLIENT_CLOSING) {
		/* The answer to our Close: the handshake is complete. */
		client_done(w, c);
		return;
	}
	/* The server closes first: count its code, answer, and go. */
	load_stats_count_code(w->local.close_codes, code);
	if (!c->closing)
		w->local.conn_dropped++;
	c->closing = true;
	if (code == WS_CLOSE_NO_STATUS)
		code = WS_CLOSE_NORMAL;
	send_close(w, c, code);
	if (c->state != CLIENT_DONE)
		client_done(w, c);
}

static void on_protocol_error(struct load_worker *w, struct load_client *c, int error)
{
	log_debug("client %u: %s from the server; closing with 1002", c->id,
	          error == -ENOMEM ? "out of memory" : "protocol error");
	if (c->state == CLIENT_OPEN && !c->closing)
		w->local.conn_dropped++;
	c->closing = true;
	send_close(w, c, error == -ENOMEM ? 1011 : WS_CLOSE_PROTOCOL_ERROR);
	if (c->state != CLIENT_DONE)
		client_done(w, c);
}

/* Bytes read from an open (or closing) connection. Return: false when the
 * connection is gone. */
static bool consume_frames(struct load_worker *w, struct load_client *c, const uint8_t *buf,
                           size_t len, int64_t now)
{
	size_t off = 0;

	while (off < len) {
		struct ws_event ev;
		ssize_t r = ws_parser_next(&c->ws.parser, buf + off, len - off, &ev);
		uint8_t pong[WS_FRAME_HEADER_MAX + WS_CONTROL_MAX];

		if (r < 0) {
			on_protocol_error(w, c, (int)r);
			return false;
		}
		off += (size_t)r;
		switch (ev.type) {
		case WS_EVENT_MESSAGE:
			on_message(w, c, &ev, now);
			break;
		case WS_EVENT_PING:
			/* Section 5.5.2. */
			if (c->state == CLIENT_OPEN &&
			    client_send(w, c, pong,
			                ws_frame_encode(pong, WS_OP_PONG, ev.data, ev.len,
			                                (uint32_t)ws_rng_next(&w->rng))) < 0)
				return false;
			break;
		case WS_EVENT_CLOSE:
			on_peer_close(w, c, ev.close_code);
			return false;
		case WS_EVENT_PONG:
		case WS_EVENT_NONE:
			break;
		}
	}
	return true;
}

/* Bytes of the server's handshake response (and maybe frames after it). */
static bool consume_handshake(struct load_worker *w, struct load_client *c, const uint8_t *buf,
                              size_t len, int64_t now)
{
	ssize_t r = ws_handshake_parse(&c->ws.hs, buf, len);

	if (r < 0) {
		/* A reply that is not HTTP at all is no handshake rejection. */
		connect_failed(w, c, c->ws.hs.status ? FAIL_HANDSHAKE : FAIL_OTHER, c->ws.hs.status,
		               0);
		return false;
	}
	if (!c->ws.hs.done)
		return true;
	on_established(w, c);
	if (c->state != CLIENT_OPEN && c->state != CLIENT_CLOSING)
		return false;
	return consume_frames(w, c, buf + r, len - (size_t)r, now);
}

/*
 * When the bytes of this read reached the machine: the kernel's receive
 * timestamp (of the last segment read, so never early), converted from
 * CLOCK_REALTIME; the time now when there is none. Reads may wait for the
 * next tick (see io_wakes_update()), so the time of the read() would
 * count that wait as latency.
 */
static int64_t arrival_ns(const struct load_worker *w, struct msghdr *mh, int64_t now)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		struct timespec ts;
		int64_t t;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		t = (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec - w->realtime_offset_ns;
		return t > 0 && t < now ? t : now;
	}
	return now;
}

static void on_readable(struct load_worker *w, struct load_client *c)
{
	for (int i = 0; i < 4; i++) {
		union {
			char buf[CMSG_SPACE(sizeof(struct timespec))];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = w->rx_buf, .iov_len = w->rx_size };
		struct msghdr mh = { .msg_iov = &iov,
			             .msg_iovlen = 1,
			             .msg_control = control.buf,
			             .msg_controllen = sizeof(control.buf) };
		ssize_t n = recvmsg(c->fd, &mh, 0);
		int64_t at;
		bool alive;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			int error = n < 0 ? -errno : 0;

			if (c->state == CLIENT_HANDSHAKE)
				connect_failed(w, c, FAIL_OTHER, 0, error ? -error : ECONNRESET);
			else
				client_lost(w, c, error);
			return;
		}
		at = arrival_ns(w, &mh, now_ns());
		if (c->state == CLIENT_HANDSHAKE)
			alive = consume_handshake(w, c, w->rx_buf, (size_t)n, at);
		else
			alive = consume_frames(w, c, w->rx_buf, (size_t)n, at);
		if (!alive || (size_t)n < w->rx_size)
			return;
	}
}

static void on_client_io(struct load_worker *w, struct load_client *c, uint32_t events)
{
	if (c->state == CLIENT_CONNECTING) {
		on_connected(w, c);
		return;
	}
	if (events & EPOLLOUT) {
		on_writable(w, c);
		if (c->state == CLIENT_DONE)
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		on_readable(w, c);
}

/* ---- timetable --------------------------------------------------------- */

/* The client's own timer: connect, retry, or a deadline, by state. */
static void on_client_timer(struct load_worker *w, struct load_client *c)
{
	switch (c->state) {
	case CLIENT_IDLE:
		if (!w->closing)
			client_connect(w, c);
		break;
	case CLIENT_CONNECTING:
	case CLIENT_HANDSHAKE:
		connect_failed(w, c, FAIL_TIMEOUT, 0, ETIMEDOUT);
		break;
	case CLIENT_CLOSING:
		log_debug("client %u: no Close from the server in time", c->id);
		client_done(w, c);
		break;
	default:
		break;
	}
}

static void on_send_time(struct load_worker *w, struct load_client *c, int64_t now)
{
	/* Every message whose time has come becomes due. */
	for (;;) {
		int64_t at;

		c->due++;
		c->next_n++;
		at = send_time_ns(w, c, c->next_n);
		if (at < 0) {
			c->schedule_done = true;
			break;
		}
		if (at > now) {
			scheduler_add(&w->scheduler, &c->send_ev, at);
			break;
		}
	}
	if (c->state == CLIENT_OPEN && !c->closing)
		send_due(w, c);
}

static uint64_t count_scheduled(const struct load_worker *w)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < w->n_clients; i++)
		n += w->clients[i].due;
	return n;
}

static bool all_echoes_back(const struct load_worker *w)
{
	for (unsigned i = 0; i < w->n_clients; i++) {
		const struct load_client *c = &w->clients[i];

		if (c->state == CLIENT_IDLE || c->state == CLIENT_CONNECTING ||
		    c->state == CLIENT_HANDSHAKE)
			return false;
		if (c->state == CLIENT_OPEN && (c->received < c->written || c->written < c->due))
			return false;
	}
	return true;
}

static void begin_closing(struct load_worker *w)
{
	w->closing = true;
	for (unsigned i = 0; i < w->n_clients; i++) {
		struct load_client *c = &w->clients[i];

		c->closing = true;
		scheduler_remove(&w->scheduler, &c->send_ev);
		if (c->state == CLIENT_OPEN) {
			send_close(w, c, WS_CLOSE_NORMAL);
		} else if (c->state == CLIENT_IDLE) {
			/* Not connected yet (ramp-up or retry pending): give up. */
			if (c->attempts)
				w->local.conn_failed++;
			client_done(w, c);
		}
	}
}

/* Adds the thread's statistics since the last publish into the shared
 * copy and starts over: the only place the hot path's figures meet the lock. */
static void publish(struct load_worker *w, uint64_t scheduled)
{
	struct load_stats *l = &w->local;
	struct histogram *from[] = { &l->corrected, &l->uncorrected, &l->send_lag, &l->interval };
	struct histogram *to[] = { &w->stats.corrected, &w->stats.uncorrected, &w->stats.send_lag,
		                   &w->stats.interval };

	pthread_mutex_lock(&w->lock);
	load_stats_merge_counters(&w->stats, l);
	for (size_t i = 0; i < ELEMENTSOF(from); i++)
		if (from[i]->total)
			histogram_merge(to[i], from[i]);
	/* Gauges are set, not added. */
	w->stats.connected = w->connected;
	w->stats.scheduled = scheduled;
	pthread_mutex_unlock(&w->lock);

	load_stats_clear(l);
}

static void housekeeping(struct load_worker *w, int64_t now)
{
	const struct load_plan *p = w->plan;

	w->last_housekeeping_ns = now;
	if (!w->closing) {
		bool stop = atomic_load(&w->stop_requested);
		bool drained = now >= p->send_end_ns && all_echoes_back(w);

		if (stop || drained || now >= p->drain_end_ns)
			begin_closing(w);
	}
	publish(w, count_scheduled(w));
	if (w->closing && (w->open_clients == 0 || now >= p->drain_end_ns + CLOSE_GRACE_NS))
		w->exit_loop = true;
}

static void on_timer(struct load_worker *w)
{
	uint64_t expirations;
	int64_t now;

	if (read(w->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_error_errno(-errno, "timerfd read failed");
	w->timer_armed_ns = 0;
	do {
		now = now_ns();
		for (struct load_event *e; (e = scheduler_pop_due(&w->scheduler, now));) {
			struct load_client *c = client_of(e);

			if (e->kind == EVENT_SEND)
				on_send_time(w, c, now);
			else
				on_client_timer(w, c);
		}
		if (now - w->last_housekeeping_ns >= HOUSEKEEPING_NS)
			housekeeping(w, now);
		/* What fell due meanwhile is done now, not after another wakeup. */
	} while (!w->exit_loop && next_deadline(w) <= now_ns());
}

/* ---- thread ------------------------------------------------------------- */

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/*
 * Whether socket readiness wakes the worker. A wakeup costs more CPU than a
 * message (see --tick), so while the timer fires within one tick anyway,
 * sockets wait for it: reads are at most a tick late, and echoes are still
 * timed when they arrived (arrival_ns()). Idle stretches wake on I/O.
 */
static void io_wakes_update(struct load_worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->io_fd };
	bool want = w->tick_ns <= 1 || next_deadline(w) - now_ns() > w->tick_ns;

	if (want == w->io_wakes)
		return;
	if (epoll_ctl(w->epoll_fd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, w->io_fd, &ev) == 0)
		w->io_wakes = want;
}

/* Serves every socket that is ready. */
static void io_harvest(struct load_worker *w)
{
	struct epoll_event events[MAX_EVENTS];
	int n;

	w->realtime_offset_ns = wall_ns() - now_ns();
	do {
		n = epoll_wait(w->io_fd, events, MAX_EVENTS, 0);
		for (int i = 0; i < n; i++)
			on_client_io(w, events[i].data.ptr, events[i].events);
	} while (n == MAX_EVENTS);
}

static int worker_loop(struct load_worker *w)
{
	struct epoll_event events[2];

	while (!w->exit_loop) {
		bool timer = false;
		int n;

		timer_arm(w);
		io_wakes_update(w);
		n = epoll_wait(w->epoll_fd, events, ELEMENTSOF(events), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(-errno, "epoll_wait failed");
		}
		for (int i = 0; i < n; i++)
			if (events[i].data.ptr == w)
				timer = true;
		io_harvest(w);
		if (timer)
			on_timer(w);
	}
	return 0;
}

static void *worker_main(void *userdata)
{
	struct load_worker *w = userdata;
	int64_t cpu0 = thread_cpu_ns(), wall0 = now_ns();

	w->last_housekeeping_ns = now_ns();
	w->result = worker_loop(w);
	for (unsigned i = 0; i < w->n_clients; i++)
		if (w->clients[i].state != CLIENT_DONE)
			client_done(w, &w->clients[i]);
	publish(w, count_scheduled(w));
	pthread_mutex_lock(&w->lock);
	w->stats.connected = 0;
	pthread_mutex_unlock(&w->lock);
	w->cpu_ns = (uint64_t)(thread_cpu_ns() - cpu0);
	w->wall_ns = (uint64_t)(now_ns() - wall0);
	atomic_store(&w->finished, true);
	return NULL;
}

static int parse_addr(const char *host, uint16_t port, struct load_addr *a)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		a->len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		a->len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

int load_worker_init(struct load_worker *w, unsigned index, const struct load_plan *plan,
                     unsigned first, unsigned step, unsigned total)
{
	const struct load_options *o = plan->opts;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
	unsigned n = 0;
	int r;

	memset(w, 0, sizeof(*w));
	w->index = index;
	w->plan = plan;
	w->epoll_fd = w->timer_fd = w->io_fd = -1;
	/* Clients due in the same tick are served in one wakeup. */
	w->tick_ns = MAX((int64_t)llround(o->tick * 1e9), (int64_t)1);
	pthread_mutex_init(&w->lock, NULL);
	load_stats_init(&w->stats);
	load_stats_init(&w->local);
	ws_rng_seed(&w->rng);
	r = parse_addr(o->host, o->port, &w->server);
	if (r < 0)
		return r;
	snprintf(w->host_header, sizeof(w->host_header),
	         w->server.sa.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", o->host, o->port);
	if (plan->n_sources) {
		w->sources = calloc(plan->n_sources, sizeof(*w->sources));
		if (!w->sources)
			return -ENOMEM;
		for (unsigned i = 0; i < plan->n_sources; i++)
			if (parse_addr(plan->sources[i], 0, &w->sources[i]) < 0)
				return -EINVAL;
	}
	for (unsigned i = first; i < total; i += step)
		n++;
	w->clients = calloc(n ? n : 1, sizeof(*w->clients));
	/* Two events per client, each queued at most once. */
	if (!w->clients || scheduler_init(&w->scheduler, 2 * n + 1) < 0)
		return -ENOMEM;
	w->rx_size = RX_BUFFER;
	w->rx_buf = malloc(w->rx_size);
	w->tx_size =
	    MAX((size_t)TX_BUFFER, strlen(o->path) + sizeof(w->host_header) + WS_REQUEST_EXTRA);
	w->tx_buf = malloc(w->tx_size);
	w->scratch = malloc(o->size + 1);
	if (!w->rx_buf || !w->tx_buf || !w->scratch)
		return -ENOMEM;
	w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->timer_fd < 0)
		return -errno;
	w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epoll_fd < 0)
		return -errno;
	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->timer_fd, &ev) < 0)
		return -errno;
	w->io_fd = epoll_create1(EPOLL_CLOEXEC);
	if (w->io_fd < 0)
		return -errno;
	w->n_clients = n;
	w->open_clients = n;
	for (unsigned k = 0; k < n; k++) {
		struct load_client *c = &w->clients[k];
		unsigned id = first + k * step;
		int64_t at = plan->epoch_ns;

		c->id = id;
		c->fd = -1;
		c->client_ev = scheduler_event(EVENT_CLIENT);
		c->send_ev = scheduler_event(EVENT_SEND);
		/* Ramp-up: connections spread evenly over the ramp. */
		if (total > 0 && o->ramp_up > 0)
			at += (int64_t)llround(o->ramp_up * 1e9 * id / total);
		scheduler_add(&w->scheduler, &c->client_ev, at);
		schedule_next_send(w, c);
	}
	return 0;
}

void load_worker_free(struct load_worker *w)
{
	if (!w->plan)
		return; /* never initialized */
	for (unsigned i = 0; i < w->n_clients; i++) {
		struct load_client *c = &w->clients[i];

		if (c->fd >= 0)
			close(c->fd);
		free(c->out);
		if (c->parser_active)
			ws_parser_free(&c->ws.parser);
	}
	free(w->clients);
	scheduler_free(&w->scheduler);
	free(w->sources);
	free(w->rx_buf);
	free(w->tx_buf);
	free(w->scratch);
	if (w->timer_fd >= 0)
		close(w->timer_fd);
	if (w->epoll_fd >= 0)
		close(w->epoll_fd);
	if (w->io_fd >= 0)
		close(w->io_fd);
	pthread_mutex_destroy(&w->lock);
	memset(w, 0, sizeof(*w));
	w->epoll_fd = w->timer_fd = w->io_fd = -1;
}

int load_worker_start(struct load_worker *w)
{
	return -pthread_create(&w->thread, NULL, worker_main, w);
}

void load_worker_stop(struct load_worker *w)
{
	atomic_store(&w->stop_requested, true);
	/* The timerfd's housekeeping tick (100 ms) picks the request up. */
}

void load_worker_join(struct load_worker *w)
{
	pthread_join(w->thread, NULL);
}

void load_worker_snapshot(struct load_worker *w, struct load_stats *to)
{
	pthread_mutex_lock(&w->lock);
	load_stats_merge(to, &w->stats);
	pthread_mutex_unlock(&w->lock);
}

void load_worker_snapshot_interval(struct load_worker *w, struct load_stats *to)
{
	pthread_mutex_lock(&w->lock);
	load_stats_merge_counters(to, &w->stats);
	histogram_merge(&to->interval, &w->stats.interval);
	histogram_reset(&w->stats.interval);
	pthread_mutex_unlock(&w->lock);
}
