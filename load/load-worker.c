/* SPDX-License-Identifier: MIT */
/*
 * The load engine's worker thread (see load-worker.h): connects its clients
 * on the ramp-up timetable, sends each message at its scheduled time whether
 * or not earlier echoes have returned (open loop), verifies every echo byte
 * for byte and records latency from the scheduled time (corrected for
 * coordinated omission) and from the actual send time. Sockets, epoll and
 * the timerfd are handled here; the WebSocket protocol is ws-client.c, TLS
 * is tls-client.c (memory BIOs: the socket stays ours) and
 * permessage-deflate is ws-deflate.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
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
	CLIENT_TLS,        /* wss://: TLS handshake in progress */
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
	int64_t stage_ns; /* when the TLS handshake or the upgrade began */
	/* Since when the socket has not taken all we wrote (0: it has):
	 * messages due meanwhile wait for the server to read. */
	int64_t stall_ns;

	struct tls_conn tls;    /* wss://: the connection's TLS state (tls.ssl NULL otherwise) */
	SSL_SESSION *session;   /* the last session ticket: a reconnect resumes it */
	struct ws_deflate *pmd; /* permessage-deflate, once agreed */

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

enum failure { FAIL_REFUSED, FAIL_TIMEOUT, FAIL_HANDSHAKE, FAIL_TLS, FAIL_OTHER };

/* The first TLS failure of the run goes to stderr; the rest are counted. */
static atomic_bool tls_failure_logged;

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
	c->stall_ns = 0;
	free(c->out);
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
	if (c->parser_active)
		ws_parser_free(&c->ws.parser);
	c->parser_active = false;
	if (c->tls.ssl)
		tls_conn_free(&c->tls);
	if (c->pmd) {
		ws_deflate_free(c->pmd);
		free(c->pmd);
		c->pmd = NULL;
	}
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

static void connect_failed(struct load_worker *w, struct load_client *c, enum failure why,
                           int status, int error);

/* Sending failed: before the upgrade completed that is a failed attempt,
 * after it a lost connection. */
static void client_io_failed(struct load_worker *w, struct load_client *c, int error)
{
	if (c->state == CLIENT_TLS || c->state == CLIENT_HANDSHAKE)
		connect_failed(w, c, FAIL_OTHER, 0, -error);
	else
		client_lost(w, c, error);
}

/*
 * Hands @n bytes to the socket, or queues them behind bytes still waiting
 * (never out of order); what the socket does not take waits for EPOLLOUT.
 * Return: 0, or a negative errno when the connection is gone (handled).
 */
static int raw_send(struct load_worker *w, struct load_client *c, const uint8_t *data, size_t n)
{
	ssize_t k = 0;
	int r;

	if (c->out_len == c->out_off) {
		k = write(c->fd, data, n);
		if (k < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				r = -errno;
				client_io_failed(w, c, r);
				return r;
			}
			k = 0;
		}
		w->local.wire_bytes_sent += (uint64_t)k;
		if ((size_t)k == n)
			return 0;
	}
	r = out_append(c, data + k, n - (size_t)k);
	if (r < 0) {
		client_io_failed(w, c, r);
		return r;
	}
	if (!c->stall_ns)
		c->stall_ns = now_ns();
	client_want_out(w, c, true);
	return 0;
}

/* Sends the ciphertext the TLS engine has produced. */
static int tls_flush(struct load_worker *w, struct load_client *c)
{
	while (c->tls.ssl && tls_conn_pending(&c->tls)) {
		size_t n = tls_conn_take(&c->tls, w->wire_buf, w->wire_size);
		int r;

		if (n == 0)
			break;
		r = raw_send(w, c, w->wire_buf, n);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Sends @n bytes of WebSocket data: as they are, or through TLS. */
static int client_send(struct load_worker *w, struct load_client *c, const uint8_t *data, size_t n)
{
	if (!c->tls.ssl)
		return raw_send(w, c, data, n);
	if (tls_conn_write(&c->tls, data, n) < 0) {
		client_io_failed(w, c, -EPROTO);
		return -EPROTO;
	}
	return tls_flush(w, c);
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
	case FAIL_TLS:
		s->fail_tls++;
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
	else if (c->attempt_ns > c->client_ev.at_ns)
		/* The ramp's timetable: how late this first attempt started. */
		histogram_record(&w->local.connect_lag,
		                 (uint64_t)(c->attempt_ns - c->client_ev.at_ns) / NSEC_PER_USEC);
	c->state = CLIENT_CONNECTING;
	r = client_socket(w, c);
	if (r < 0) {
		connect_failed(w, c, failure_of_errno(-r), 0, -r);
		return;
	}
	scheduler_add(&w->scheduler, &c->client_ev,
	              c->attempt_ns + (int64_t)llround(w->plan->opts->connect_timeout * 1e9));
}

/* Sends the upgrade request (through TLS on wss://). */
static void send_upgrade(struct load_worker *w, struct load_client *c)
{
	const struct load_options *o = w->plan->opts;
	uint64_t nonce[2];
	int n;

	nonce[0] = ws_rng_next(&w->rng);
	nonce[1] = ws_rng_next(&w->rng);
	ws_handshake_init(&c->ws.hs, (const uint8_t *)nonce);
	if (o->deflate)
		c->ws.hs.deflate = &o->deflate_offer;
	n = ws_handshake_request(&c->ws.hs, w->host_header, o->path, (char *)w->tx_buf, w->tx_size);
	c->state = CLIENT_HANDSHAKE;
	c->stage_ns = now_ns();
	if (n < 0) {
		connect_failed(w, c, FAIL_OTHER, 0, -n);
		return;
	}
	(void)client_send(w, c, w->tx_buf, (size_t)n);
}

static void tls_failed(struct load_worker *w, struct load_client *c)
{
	char why[TLS_ERROR_MAX];

	tls_conn_describe(&c->tls, why, sizeof(why));
	if (!w->tls_error[0])
		snprintf(w->tls_error, sizeof(w->tls_error), "%s", why);
	if (!atomic_exchange(&tls_failure_logged, true))
		log_error("TLS handshake with %s failed: %s", w->plan->opts->server_name, why);
	connect_failed(w, c, FAIL_TLS, 0, EPROTO);
}

/* Advances the TLS handshake; once it is done, the upgrade follows. */
static void tls_step(struct load_worker *w, struct load_client *c)
{
	int r = tls_conn_handshake(&c->tls);

	if (r < 0) {
		tls_failed(w, c);
		return;
	}
	if (tls_flush(w, c) < 0 || r > 0)
		return;
	w->local.tls_handshakes++;
	if (tls_conn_resumed(&c->tls))
		w->local.tls_resumed++;
	histogram_record(&w->local.tls_handshake,
	                 (uint64_t)(now_ns() - c->stage_ns) / NSEC_PER_USEC);
	if (!w->tls_version[0]) {
		snprintf(w->tls_version, sizeof(w->tls_version), "%s", tls_conn_version(&c->tls));
		snprintf(w->tls_cipher, sizeof(w->tls_cipher), "%s", tls_conn_cipher(&c->tls));
	}
	send_upgrade(w, c);
}

/* The TCP connection is up (or failed): start TLS, or send the upgrade. */
static void on_connected(struct load_worker *w, struct load_client *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		connect_failed(w, c, failure_of_errno(err), 0, err);
		return;
	}
	histogram_record(&w->local.tcp_connect,
	                 (uint64_t)MAX(now_ns() - c->attempt_ns, (int64_t)0) / NSEC_PER_USEC);
	if (client_epoll(w, c, EPOLL_CTL_MOD, EPOLLIN) < 0) {
		connect_failed(w, c, FAIL_OTHER, 0, errno);
		return;
	}
	c->want_out = false;
	if (!w->plan->tls) {
		send_upgrade(w, c);
		return;
	}
	if (tls_conn_start(&c->tls, w->plan->tls, w->plan->opts->server_name, c->session,
	                   &c->session) < 0) {
		connect_failed(w, c, FAIL_OTHER, 0, ENOMEM);
		return;
	}
	c->state = CLIENT_TLS;
	c->stage_ns = now_ns();
	tls_step(w, c);
}

static void send_due(struct load_worker *w, struct load_client *c);
static void send_close(struct load_worker *w, struct load_client *c, int code);

/* The longest message the parser keeps: a compressed one may be a little
 * longer than the message itself. */
static size_t parser_bound(const struct load_options *o)
{
	return (o->deflate ? MAX(ws_deflate_bound(o->size), o->size) : o->size) + 1;
}

static void on_established(struct load_worker *w, struct load_client *c, int64_t now)
{
	struct ws_deflate_params pmd = c->ws.hs.pmd; /* the union's handshake half goes now */

	scheduler_remove(&w->scheduler, &c->client_ev); /* the connect deadline */
	histogram_record(&w->local.upgrade,
	                 now > c->stage_ns ? (uint64_t)(now - c->stage_ns) / NSEC_PER_USEC : 0);
	ws_parser_init(&c->ws.parser, parser_bound(w->plan->opts));
	c->parser_active = true;
	if (pmd.on) {
		c->pmd = malloc(sizeof(*c->pmd));
		if (c->pmd) {
			ws_deflate_init(c->pmd, &pmd);
			c->ws.parser.deflate = true;
			w->local.deflate_accepted++;
			if (!w->pmd_seen) {
				w->pmd = pmd;
				w->pmd_seen = true;
			}
		}
	}
	c->state = CLIENT_OPEN;
	w->local.conn_established++;
	w->local.last_established_ns = MAX(w->local.last_established_ns, now_ns());
	w->connected++;
	if (c->closing)
		send_close(w, c, WS_CLOSE_NORMAL);
	else
		send_due(w, c);
}

/* ---- sending ---------------------------------------------------------- */

/* The most bytes one message's frame can take on @c. */
static size_t frame_max(const struct load_worker *w, const struct load_client *c)
{
	size_t size = w->plan->opts->size;

	if (c->pmd)
		size = MAX(size, ws_deflate_bound(size));
	return ws_frame_header_len(size) + size;
}

/* One message as a masked frame at @out, compressed (RSV1 set, RFC 7692
 * section 6) when permessage-deflate was agreed. Return: its length, or a
 * negative errno. */
static ssize_t encode_message(struct load_worker *w, struct load_client *c,
                              const struct message_id *id, uint8_t *out)
{
	const struct load_options *o = w->plan->opts;
	enum ws_opcode op = o->type == MESSAGE_TEXT ? WS_OP_TEXT : WS_OP_BINARY;
	uint32_t mask = (uint32_t)ws_rng_next(&w->rng);
	ssize_t z;
	size_t h;

	if (!c->pmd) {
		h = ws_frame_header(out, op, true, o->size, mask);
		if (message_encode_payload(o->type, o->payload, id, w->plan->key, out + h,
		                           o->size) < 0)
			return -EMSGSIZE; /* options validation rules this out */
		ws_mask(out + h, o->size, mask);
		return (ssize_t)(h + o->size);
	}
	if (message_encode_payload(o->type, o->payload, id, w->plan->key, w->scratch, o->size) < 0)
		return -EMSGSIZE;
	z = ws_deflate_compress(c->pmd, w->scratch, o->size, w->zbuf, w->zsize);
	if (z < 0)
		return z;
	h = ws_frame_header(out, op, true, (uint64_t)z, mask);
	out[0] |= 0x40; /* RSV1: "Per-Message Compressed" */
	memcpy(out + h, w->zbuf, (size_t)z);
	ws_mask(out + h, (size_t)z, mask);
	return (ssize_t)h + z;
}

/*
 * Splits a message's send lag (@sched to @now) by cause, so the verdict can
 * tell the client's own lateness from the server's and the machine's:
 * - backpressure: the part since the socket stopped taking our bytes (the
 *   server not reading; it ends when EPOLLOUT is served, within a tick);
 * - wakeup: before that, the part the worker spent asleep past the time,
 *   i.e. the timer fired late or the thread waited for a CPU: on this VM
 *   about 1% of 1 ms timer sleeps end 1 ms or more late even when idle;
 * - own: the rest, the worker busy with other work past the time (its CPU).
 */
static void record_lag(struct load_worker *w, const struct load_client *c, int64_t sched,
                       int64_t now)
{
	struct load_stats *s = &w->local;
	int64_t bp_from = now, wake;

	if (now <= sched) {
		histogram_record(&s->send_lag, 0);
		histogram_record(&s->lag_own, 0);
		histogram_record(&s->lag_wakeup, 0);
		histogram_record(&s->lag_backpressure, 0);
		return;
	}
	if (c->stall_ns && c->stall_ns < now) {
		bp_from = MAX(c->stall_ns, sched);
		s->backpressure_sends++;
	}
	wake = MIN(bp_from, w->wake_ns) - MAX(sched, w->sleep_ns);
	wake = MAX(wake, (int64_t)0);
	histogram_record(&s->send_lag, (uint64_t)(now - sched) / NSEC_PER_USEC);
	histogram_record(&s->lag_backpressure, (uint64_t)(now - bp_from) / NSEC_PER_USEC);
	histogram_record(&s->lag_wakeup, (uint64_t)wake / NSEC_PER_USEC);
	histogram_record(&s->lag_own, (uint64_t)(bp_from - sched - wake) / NSEC_PER_USEC);
}

/* Encodes the due messages that fit in @room bytes of @buf as masked
 * frames and records them as sent at @now. Return: bytes encoded. */
static size_t encode_due(struct load_worker *w, struct load_client *c, uint8_t *buf, size_t room,
                         int64_t now)
{
	const struct load_plan *p = w->plan;
	const struct load_options *o = p->opts;
	size_t frame = frame_max(w, c), used = 0;
	struct load_stats *s = &w->local;

	while (c->written < c->due && used + frame <= room) {
		uint64_t n = c->written, lag_us;
		int64_t sched = send_time_ns(w, c, n);
		struct message_id id = { .client = c->id,
			                 .seq = n,
			                 .sched_us =
			                     (uint64_t)((sched - p->send_ns) / NSEC_PER_USEC) };
		struct sent_slot *slot = &c->window[n % WINDOW];
		ssize_t k = encode_message(w, c, &id, buf + used);

		if (k < 0)
			break;
		used += (size_t)k;
		lag_us = now > sched ? (uint64_t)(now - sched) / NSEC_PER_USEC : 0;
		slot->tag = (uint32_t)(n / WINDOW) + 1;
		slot->lag =
		    (uint32_t)MIN(lag_us, (uint64_t)SLOT_OUTSTANDING - 1) | SLOT_OUTSTANDING;
		c->written++;
		s->sent++;
		s->bytes_sent += o->size;
		if (sched >= p->measure_ns) {
			s->measured_sent++;
			record_lag(w, c, sched, now);
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
	size_t frame = frame_max(w, c);
	int64_t now = now_ns();

	while (c->state == CLIENT_OPEN && !c->closing && c->written < c->due &&
	       c->out_len == c->out_off) {
		size_t n;

		if (frame > w->tx_size && c->tls.ssl) {
			/* The output buffer holds ciphertext: encode elsewhere. */
			uint8_t *tmp = malloc(frame);
			int r;

			if (!tmp) {
				client_lost(w, c, -ENOMEM);
				return;
			}
			n = encode_due(w, c, tmp, frame, now);
			r = n ? client_send(w, c, tmp, n) : -EIO;
			free(tmp);
			if (r < 0)
				return;
			continue;
		}
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
			client_io_failed(w, c, -errno);
			return;
		}
		c->out_off += (uint32_t)k;
		w->local.wire_bytes_sent += (uint64_t)k;
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
	if (c->out_off == c->out_len)
		c->stall_ns = 0; /* else the stall goes on: it never ended */
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

static void fail_connection(struct load_worker *w, struct load_client *c, int code);

/* A complete message: decompressed if it came compressed, then verified
 * byte for byte. Return: false when the connection was failed. */
static bool on_message(struct load_worker *w, struct load_client *c, const struct ws_event *ev,
                       int64_t now)
{
	const struct load_options *o = w->plan->opts;
	enum ws_opcode op = o->type == MESSAGE_TEXT ? WS_OP_TEXT : WS_OP_BINARY;
	const uint8_t *data = ev->data;
	uint64_t len = ev->len;
	bool oversized = ev->oversized;
	struct message_id id;

	if (ev->compressed && !oversized) {
		/* The parser lets RSV1 through only once deflate was agreed. */
		ssize_t n = c->pmd ? ws_deflate_decompress(c->pmd, data, len, w->zbuf, o->size + 1)
		                   : -EBADMSG;

		if (n < 0) {
			/* RFC 7692 section 8 and RFC 6455 section 7.4.1: data
			 * that cannot be what it claims is 1007. */
			log_debug("client %u: corrupt deflate data; closing with 1007", c->id);
			if (n == -EBADMSG)
				w->local.deflate_errors++;
			fail_connection(w, c, n == -EBADMSG ? WS_CLOSE_INVALID_DATA : 1011);
			return false;
		}
		data = w->zbuf;
		len = (uint64_t)n;
		oversized = len > o->size;
	}
	w->local.bytes_received += len;
	if (!oversized && len == o->size && ev->opcode == op &&
	    message_verify_payload(o->type, o->payload, data, len, w->plan->key, w->scratch, &id) ==
	        0) {
		account_echo(w, c, &id, now);
	} else {
		w->local.corrupted++;
		c->received++;
	}
	return true;
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

/* Fails the connection (RFC 6455 section 7.1.7): our Close with @code,
 * then TCP goes. */
static void fail_connection(struct load_worker *w, struct load_client *c, int code)
{
	if (c->state == CLIENT_OPEN && !c->closing)
		w->local.conn_dropped++;
	c->closing = true;
	send_close(w, c, code);
	if (c->state != CLIENT_DONE)
		client_done(w, c);
}

static void on_protocol_error(struct load_worker *w, struct load_client *c, int error)
{
	log_debug("client %u: %s from the server; closing with 1002", c->id,
	          error == -ENOMEM ? "out of memory" : "protocol error");
	if (error != -ENOMEM)
		w->local.protocol_errors++;
	fail_connection(w, c, error == -ENOMEM ? 1011 : WS_CLOSE_PROTOCOL_ERROR);
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
			if (!on_message(w, c, &ev, now))
				return false;
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
	on_established(w, c, now);
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

/* WebSocket bytes (decrypted on wss://) for the state the client is in.
 * Return: false when the connection is gone. */
static bool consume(struct load_worker *w, struct load_client *c, const uint8_t *buf, size_t len,
                    int64_t at)
{
	if (c->state == CLIENT_HANDSHAKE)
		return consume_handshake(w, c, buf, len, at);
	return consume_frames(w, c, buf, len, at);
}

/* The socket reached end of file or failed. */
static void on_eof(struct load_worker *w, struct load_client *c, int error)
{
	if (c->state == CLIENT_HANDSHAKE || c->state == CLIENT_TLS)
		connect_failed(w, c, c->state == CLIENT_TLS ? FAIL_TLS : FAIL_OTHER, 0,
		               error ? -error : ECONNRESET);
	else
		client_lost(w, c, error);
}

/* Ciphertext read from the socket: the handshake, then decrypted bytes.
 * Return: false when the connection is gone. */
static bool consume_tls(struct load_worker *w, struct load_client *c, const uint8_t *buf,
                        size_t len, int64_t at)
{
	if (tls_conn_feed(&c->tls, buf, len) < 0) {
		on_eof(w, c, -ENOMEM);
		return false;
	}
	if (c->state == CLIENT_TLS) {
		tls_step(w, c);
		if (c->state != CLIENT_HANDSHAKE)
			return c->state == CLIENT_TLS;
	}
	for (;;) {
		ssize_t n = tls_conn_read(&c->tls, w->rx_buf, w->rx_size);

		if (n == 0)
			break;
		if (n == -EPIPE) { /* close_notify: the peer is done */
			on_eof(w, c, 0);
			return false;
		}
		if (n < 0) {
			/* An alert or a bad record: nothing more can be read, so
			 * no Close frame either (RFC 6455 section 7.1.7). */
			char why[TLS_ERROR_MAX];

			tls_conn_describe(&c->tls, why, sizeof(why));
			log_debug("client %u: TLS failed: %s", c->id, why);
			if (!w->tls_error[0])
				snprintf(w->tls_error, sizeof(w->tls_error), "%s", why);
			if (c->state == CLIENT_HANDSHAKE) {
				connect_failed(w, c, FAIL_TLS, 0, EPROTO);
			} else {
				w->local.tls_errors++;
				client_lost(w, c, -EPROTO);
			}
			return false;
		}
		if (!consume(w, c, w->rx_buf, (size_t)n, at))
			return false;
	}
	/* Reading may have produced records to send (a key update). */
	return tls_flush(w, c) == 0 && c->state != CLIENT_DONE;
}

static void on_readable(struct load_worker *w, struct load_client *c)
{
	uint8_t *buf = c->tls.ssl ? w->wire_buf : w->rx_buf;
	size_t size = c->tls.ssl ? w->wire_size : w->rx_size;

	for (int i = 0; i < 4; i++) {
		union {
			char buf[CMSG_SPACE(sizeof(struct timespec))];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = buf, .iov_len = size };
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
			on_eof(w, c, n < 0 ? -errno : 0);
			return;
		}
		w->local.wire_bytes_received += (uint64_t)n;
		at = arrival_ns(w, &mh, now_ns());
		if (c->tls.ssl)
			alive = consume_tls(w, c, buf, (size_t)n, at);
		else
			alive = consume(w, c, buf, (size_t)n, at);
		if (!alive || (size_t)n < size)
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
	case CLIENT_TLS:
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
		    c->state == CLIENT_TLS || c->state == CLIENT_HANDSHAKE)
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
#define H(name)                                                                                    \
	{                                                                                          \
		&l->name, &w->stats.name                                                           \
	}
	struct {
		struct histogram *from, *to;
	} h[] = { H(corrected),  H(uncorrected),      H(send_lag),    H(lag_own),
		  H(lag_wakeup), H(lag_backpressure), H(tcp_connect), H(tls_handshake),
		  H(upgrade),    H(connect_lag),      H(interval) };
#undef H

	pthread_mutex_lock(&w->lock);
	load_stats_merge_counters(&w->stats, l);
	for (size_t i = 0; i < ELEMENTSOF(h); i++)
		if (h[i].from->total)
			histogram_merge(h[i].to, h[i].from);
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
		w->sleep_ns = now_ns();
		n = epoll_wait(w->epoll_fd, events, ELEMENTSOF(events), -1);
		w->wake_ns = now_ns();
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
	/* wss://: the name the certificate is checked against; ws://: the
	 * address, as always. */
	snprintf(w->host_header, sizeof(w->host_header),
	         strchr(o->tls ? o->server_name : o->host, ':') ? "[%s]:%u" : "%s:%u",
	         o->tls ? o->server_name : o->host, o->port);
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
	if (o->tls) {
		w->wire_size = RX_BUFFER;
		w->wire_buf = malloc(w->wire_size);
		if (!w->wire_buf)
			return -ENOMEM;
	}
	if (o->deflate) {
		w->zsize = MAX(ws_deflate_bound(o->size), o->size + 1);
		w->zbuf = malloc(w->zsize);
		if (!w->zbuf)
			return -ENOMEM;
	}
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
		if (c->tls.ssl)
			tls_conn_free(&c->tls);
		tls_session_free(c->session);
		if (c->pmd) {
			ws_deflate_free(c->pmd);
			free(c->pmd);
		}
	}
	free(w->clients);
	scheduler_free(&w->scheduler);
	free(w->sources);
	free(w->rx_buf);
	free(w->tx_buf);
	free(w->scratch);
	free(w->wire_buf);
	free(w->zbuf);
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
