/* SPDX-License-Identifier: MIT */
/*
 * The load engine's worker thread (see load-worker.h): connects its clients
 * on the ramp-up timetable, sends each message at its scheduled time whether
 * or not earlier echoes have returned (open loop), verifies every echo byte
 * for byte and records latency from the scheduled time (corrected for
 * coordinated omission) and from the actual send time.
 */
#include <errno.h>
#include <ev.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "load-worker.h"
#include "log.h"
#include "macro.h"
#include "message.h"

/* Sent messages remembered per client, to match echoes by sequence number,
 * detect duplicates and recover the actual send time. An echo older than
 * this window still counts, without an uncorrected latency. */
#define WINDOW 256
/* Housekeeping period: drain checks and stop requests. */
#define HOUSEKEEPING_NS (100 * NSEC_PER_MSEC)
/* After the drain deadline, closes get this long before the loop ends. */
#define CLOSE_GRACE_NS (2 * NSEC_PER_SEC)
/* Pause before retrying a failed connect. */
#define RETRY_BACKOFF_NS (200 * NSEC_PER_MSEC)

enum event_kind { EVENT_CONNECT, EVENT_SEND };

struct load_event {
	int64_t at_ns;
	unsigned heap_index; /* UINT32_MAX when not queued */
	enum event_kind kind;
	struct load_client *client;
};

enum client_state { CLIENT_IDLE, CLIENT_CONNECTING, CLIENT_OPEN, CLIENT_DONE };

struct sent_slot {
	uint64_t seq;
	uint32_t lag_us;
	bool outstanding;
	bool used;
};

struct load_client {
	struct load_worker *w;
	struct lws *wsi;
	uint32_t id;
	enum client_state state;
	unsigned attempts;
	int64_t attempt_ns;
	bool closing;

	struct load_event connect_ev, send_ev;
	uint64_t next_n;    /* next message to become due */
	uint64_t due;       /* messages due so far (n < due) */
	uint64_t written;   /* messages written (n < written) */
	uint64_t received;  /* echoes accounted for */
	bool schedule_done; /* no message left to become due */

	struct sent_slot window[WINDOW];
	uint8_t *rx; /* reassembly of a fragmented echo, at most the expected size + 1 */
	size_t rx_len, rx_cap;
	uint64_t rx_dropped; /* bytes of this message beyond that, counted but not kept */
};

static void stats_lock(struct load_worker *w)
{
	pthread_mutex_lock(&w->lock);
}

static void stats_unlock(struct load_worker *w)
{
	pthread_mutex_unlock(&w->lock);
}

/* ---- event heap (min-heap on at_ns) ---------------------------------- */

static void heap_swap(struct load_worker *w, unsigned a, unsigned b)
{
	struct load_event *t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
	w->heap[a]->heap_index = a;
	w->heap[b]->heap_index = b;
}

static void heap_up(struct load_worker *w, unsigned i)
{
	while (i > 0 && w->heap[(i - 1) / 2]->at_ns > w->heap[i]->at_ns) {
		heap_swap(w, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct load_worker *w, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->heap_len && w->heap[l]->at_ns < w->heap[m]->at_ns)
			m = l;
		if (r < w->heap_len && w->heap[r]->at_ns < w->heap[m]->at_ns)
			m = r;
		if (m == i)
			return;
		heap_swap(w, i, m);
		i = m;
	}
}

static void heap_push(struct load_worker *w, struct load_event *e, int64_t at_ns)
{
	e->at_ns = at_ns;
	e->heap_index = w->heap_len;
	w->heap[w->heap_len++] = e;
	heap_up(w, e->heap_index);
}

static struct load_event *heap_pop(struct load_worker *w)
{
	struct load_event *top = w->heap[0];

	heap_swap(w, 0, --w->heap_len);
	heap_down(w, 0);
	top->heap_index = UINT32_MAX;
	return top;
}

/* ---- timer ------------------------------------------------------------ */

static void timer_arm(struct load_worker *w)
{
	int64_t next = w->last_housekeeping_ns + HOUSEKEEPING_NS;
	struct itimerspec its = { 0 };

	if (w->heap_len && w->heap[0]->at_ns < next)
		next = w->heap[0]->at_ns;
	if (next <= 0)
		next = 1;
	its.it_value.tv_sec = next / NSEC_PER_SEC;
	its.it_value.tv_nsec = next % NSEC_PER_SEC;
	timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- schedule --------------------------------------------------------- */

static int64_t send_time_ns(const struct load_client *c, uint64_t n)
{
	const struct load_plan *p = c->w->plan;
	double t = schedule_time(&p->opts->schedule, c->id, n);

	return t < 0 ? -1 : p->send_ns + (int64_t)llround(t * 1e9);
}

static void schedule_next_send(struct load_client *c)
{
	int64_t at = send_time_ns(c, c->next_n);

	if (at < 0) {
		c->schedule_done = true;
		return;
	}
	heap_push(c->w, &c->send_ev, at);
}

/* ---- connecting ------------------------------------------------------- */

static void client_connect(struct load_client *c)
{
	struct load_worker *w = c->w;
	const struct load_plan *p = w->plan;
	struct lws_client_connect_info info;

	memset(&info, 0, sizeof(info));
	info.context = w->context;
	info.vhost = w->vhost;
	info.address = p->opts->host;
	info.port = p->opts->port;
	info.path = p->opts->path;
	info.host = p->opts->host;
	info.origin = p->opts->host;
	info.local_protocol_name = "wsbench-load";
	info.userdata = c;
	info.pwsi = &c->wsi;
	if (p->n_sources)
		info.iface = p->sources[c->id % p->n_sources];

	c->state = CLIENT_CONNECTING;
	c->attempts++;
	c->attempt_ns = now_ns();
	stats_lock(w);
	w->stats.conn_attempts++;
	if (c->attempts > 1)
		w->stats.conn_retries++;
	stats_unlock(w);
	/* A failure may be reported from inside this call (CONNECTION_ERROR). */
	if (!lws_client_connect_via_info(&info) && c->state == CLIENT_CONNECTING) {
		c->wsi = NULL;
		c->state = CLIENT_IDLE;
		stats_lock(w);
		w->stats.fail_other++;
		stats_unlock(w);
		if (c->attempts <= p->opts->retries && !w->closing)
			heap_push(w, &c->connect_ev, now_ns() + RETRY_BACKOFF_NS);
		else {
			c->state = CLIENT_DONE;
			w->open_clients--;
			stats_lock(w);
			w->stats.conn_failed++;
			stats_unlock(w);
		}
	}
}

/* Sorts a failed attempt into refused / timeout / handshake / other. */
static void count_connect_failure(struct load_client *c, const char *why, int status)
{
	struct load_stats *s = &c->w->stats;
	double took = (double)(now_ns() - c->attempt_ns) / 1e9;

	if (status > 0 && status != 101) {
		s->fail_handshake++;
		load_stats_count_code(s->http_status, status);
	} else if (took >= c->w->plan->opts->connect_timeout * 0.95 ||
	           (why && (strstr(why, "imeout") || strstr(why, "timed out")))) {
		s->fail_timeout++;
	} else if (why && (strstr(why, "Unable to connect") || strstr(why, "refused") ||
	                   strstr(why, "connect failed"))) {
		s->fail_refused++;
	} else {
		s->fail_other++;
	}
}

static void on_connection_error(struct load_client *c, struct lws *wsi, const char *why)
{
	struct load_worker *w = c->w;
	int status = wsi ? (int)lws_http_client_http_response(wsi) : 0;
	bool retry = c->attempts <= w->plan->opts->retries && !w->closing;

	stats_lock(w);
	count_connect_failure(c, why, status);
	if (!retry)
		w->stats.conn_failed++;
	stats_unlock(w);
	log_debug("client %u: connect failed (%s, HTTP %d)", c->id, why ? why : "?", status);
	c->wsi = NULL;
	if (retry) {
		c->state = CLIENT_IDLE;
		heap_push(w, &c->connect_ev, now_ns() + RETRY_BACKOFF_NS);
	} else {
		c->state = CLIENT_DONE;
		w->open_clients--;
	}
}

static void on_established(struct load_client *c)
{
	struct load_worker *w = c->w;

	c->state = CLIENT_OPEN;
	stats_lock(w);
	w->stats.conn_established++;
	w->stats.connected++;
	stats_unlock(w);
	if (c->written < c->due || w->closing)
		lws_callback_on_writable(c->wsi);
}

static void on_closed(struct load_client *c)
{
	struct load_worker *w = c->w;

	if (c->state == CLIENT_OPEN) {
		stats_lock(w);
		w->stats.connected--;
		if (!c->closing)
			w->stats.conn_dropped++;
		stats_unlock(w);
	}
	if (c->state != CLIENT_DONE)
		w->open_clients--;
	c->state = CLIENT_DONE;
	c->wsi = NULL;
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
}

/* ---- sending ---------------------------------------------------------- */

static int64_t measure_start(const struct load_worker *w)
{
	return w->plan->measure_ns;
}

static int write_message(struct load_client *c)
{
	struct load_worker *w = c->w;
	const struct load_options *o = w->plan->opts;
	uint64_t n = c->written;
	int64_t sched = send_time_ns(c, n), now;
	struct message_id id = { .client = c->id, .seq = n };
	struct sent_slot *slot = &c->window[n % WINDOW];
	uint8_t *payload = w->tx_buf + LWS_PRE;
	uint64_t lag_us;

	id.sched_us = (uint64_t)((sched - w->plan->send_ns) / NSEC_PER_USEC);
	if (message_encode(o->type, &id, w->plan->key, payload, o->size) < 0)
		return -EMSGSIZE;
	now = now_ns();
	if (lws_write(c->wsi, payload, o->size,
	              o->type == MESSAGE_TEXT ? LWS_WRITE_TEXT : LWS_WRITE_BINARY) < 0)
		return -EIO;
	lag_us = now > sched ? (uint64_t)(now - sched) / NSEC_PER_USEC : 0;
	*slot = (struct sent_slot){ .seq = n,
		                    .lag_us = (uint32_t)MIN(lag_us, (uint64_t)UINT32_MAX),
		                    .outstanding = true,
		                    .used = true };
	c->written++;
	stats_lock(w);
	w->stats.sent++;
	w->stats.bytes_sent += o->size;
	if (sched >= measure_start(w)) {
		w->stats.measured_sent++;
		histogram_record(&w->stats.send_lag, lag_us);
	}
	stats_unlock(w);
	return 0;
}

/*
 * Writes the messages that are due right away, from the timer callback,
 * instead of asking for WRITEABLE first: that round trip costs two
 * epoll_ctl() calls and a loop iteration per message, and adds send lag.
 * lws_issue_raw() keeps order by appending to a pending partial send, but we
 * still stop at one and let WRITEABLE continue, so lws never buffers more
 * than one message for us.
 */
static void flush_due(struct load_client *c)
{
	while (c->written < c->due && !lws_partial_buffered(c->wsi)) {
		if (write_message(c) < 0) {
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			return;
		}
	}
	if (c->written < c->due)
		lws_callback_on_writable(c->wsi);
}

static int on_writeable(struct load_client *c)
{
	if (c->closing) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	if (c->written < c->due) {
		if (write_message(c) < 0)
			return -1;
		if (c->written < c->due)
			lws_callback_on_writable(c->wsi);
	}
	return 0;
}

/* ---- receiving -------------------------------------------------------- */

static void account_echo(struct load_client *c, const struct message_id *id, int64_t now)
{
	struct load_worker *w = c->w;
	struct load_stats *s = &w->stats;
	struct sent_slot *slot = &c->window[id->seq % WINDOW];
	int64_t sched = w->plan->send_ns + (int64_t)id->sched_us * NSEC_PER_USEC;
	uint64_t corrected = now > sched ? (uint64_t)(now - sched) / NSEC_PER_USEC : 0;
	bool in_window = slot->used && slot->seq == id->seq;

	if (id->client != c->id || id->seq >= c->written || (in_window && !slot->outstanding)) {
		s->unexpected++; /* a duplicate, or an echo of something never sent */
		return;
	}
	s->received++;
	c->received++;
	if (sched < measure_start(w))
		return;
	s->measured_received++;
	histogram_record(&s->corrected, corrected);
	histogram_record(&s->interval, corrected);
	if (in_window) {
		slot->outstanding = false;
		histogram_record(&s->uncorrected,
		                 corrected > slot->lag_us ? corrected - slot->lag_us : 0);
	} else {
		s->uncorrected_missing++;
	}
}

static void on_message(struct load_client *c, const uint8_t *buf, size_t len)
{
	struct load_worker *w = c->w;
	const struct load_options *o = w->plan->opts;
	struct message_id id;
	int64_t now = now_ns();
	bool binary = lws_frame_is_binary(c->wsi);
	bool ok = len == o->size && binary == (o->type == MESSAGE_BINARY) &&
	          message_verify(o->type, buf, len, w->plan->key, w->scratch, &id) == 0;

	stats_lock(w);
	w->stats.bytes_received += len;
	if (ok) {
		account_echo(c, &id, now);
	} else {
		w->stats.corrupted++;
		c->received++;
	}
	stats_unlock(w);
}

static int on_receive(struct load_client *c, const void *in, size_t len)
{
	struct load_worker *w = c->w;
	bool first = lws_is_first_fragment(c->wsi), final = lws_is_final_fragment(c->wsi);
	/* One byte more than an echo of ours is enough to know the message is
	 * wrong; keeping more would let a server exhaust our memory with one
	 * endless fragmented message. */
	size_t limit = w->plan->opts->size + 1, keep;

	if (first && final) {
		on_message(c, in, len);
		return 0;
	}
	if (first) {
		c->rx_len = 0;
		c->rx_dropped = 0;
	}
	keep = MIN(len, limit - c->rx_len);
	if (c->rx_len + keep > c->rx_cap) {
		size_t cap = MIN(MAX(c->rx_cap * 2, c->rx_len + keep), limit);
		uint8_t *p = realloc(c->rx, cap);

		if (!p)
			return -1;
		c->rx = p;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, keep);
	c->rx_len += keep;
	c->rx_dropped += len - keep;
	if (final) {
		/* A kept length of size + 1 is never an echo: counted corrupted. */
		on_message(c, c->rx, c->rx_len);
		if (c->rx_dropped) {
			stats_lock(w);
			w->stats.bytes_received += c->rx_dropped;
			stats_unlock(w);
		}
		c->rx_len = 0;
		c->rx_dropped = 0;
	}
	return 0;
}

static void on_peer_close(struct load_client *c, const uint8_t *in, size_t len)
{
	struct load_worker *w = c->w;
	int code = len >= 2 ? (in[0] << 8) | in[1] : 1005;

	if (c->closing)
		return;
	stats_lock(w);
	load_stats_count_code(w->stats.close_codes, code);
	stats_unlock(w);
}

/* ---- the lws protocol -------------------------------------------------- */

static int load_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
	struct load_client *c = user;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c)
			on_connection_error(c, wsi, in);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->wsi = wsi;
		on_established(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(c, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_peer_close(c, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c)
			on_closed(c);
		return 0;
	default:
		return 0;
	}
}

/* ---- timetable --------------------------------------------------------- */

static void handle_event(struct load_worker *w, struct load_event *e, int64_t now)
{
	struct load_client *c = e->client;

	if (e->kind == EVENT_CONNECT) {
		if (!w->closing)
			client_connect(c);
		return;
	}
	/* A send event: every message whose time has come becomes due. */
	do {
		c->due++;
		c->next_n++;
	} while (send_time_ns(c, c->next_n) >= 0 && send_time_ns(c, c->next_n) <= now);
	schedule_next_send(c);
	if (c->state == CLIENT_OPEN && !c->closing)
		flush_due(c);
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

		if (c->state == CLIENT_CONNECTING || c->state == CLIENT_IDLE)
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
		if (c->state == CLIENT_OPEN)
			lws_callback_on_writable(c->wsi);
		if (c->state == CLIENT_IDLE) {
			/* Not connected yet (ramp-up or retry pending): give up. */
			c->state = CLIENT_DONE;
			w->open_clients--;
			if (c->attempts) {
				stats_lock(w);
				w->stats.conn_failed++;
				stats_unlock(w);
			}
		}
	}
}

static void housekeeping(struct load_worker *w, int64_t now)
{
	const struct load_plan *p = w->plan;
	uint64_t scheduled = count_scheduled(w);

	w->last_housekeeping_ns = now;
	stats_lock(w);
	w->stats.scheduled = scheduled;
	stats_unlock(w);
	if (!w->closing) {
		bool stop = atomic_load(&w->stop_requested);
		bool drained = now >= p->send_end_ns && all_echoes_back(w);

		if (stop || drained || now >= p->drain_end_ns)
			begin_closing(w);
	}
	if (w->closing && (w->open_clients == 0 || now >= p->drain_end_ns + CLOSE_GRACE_NS)) {
		w->exit_loop = true;
		ev_break(w->loop, EVBREAK_ALL);
	}
}

static void on_timer(struct load_worker *w)
{
	uint64_t expirations;
	int64_t now = now_ns();

	if (read(w->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_error_errno(-errno, "timerfd read failed");
	while (w->heap_len && w->heap[0]->at_ns <= now)
		handle_event(w, heap_pop(w), now);
	if (now - w->last_housekeeping_ns >= HOUSEKEEPING_NS)
		housekeeping(w, now);
	timer_arm(w);
}

static int timer_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
	struct load_worker *w = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		on_timer(w);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* load_worker_stop(): react now, not at the next tick. */
		if (w && atomic_load(&w->stop_requested) && !w->closing)
			housekeeping(w, now_ns());
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols load_protocols[] = {
	{
	    .name = "wsbench-load",
	    .callback = load_callback,
	    /* Echoes larger than this arrive in several callbacks. */
	    .rx_buffer_size = 64 * 1024,
	},
	{
	    .name = "wsbench-timer",
	    .callback = timer_callback,
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- thread ------------------------------------------------------------- */

static int worker_create_context(struct load_worker *w)
{
	struct lws_context_creation_info info;
	lws_sock_file_fd_type fd;

	void *foreign_loops[1];

	w->loop = ev_loop_new(EVBACKEND_EPOLL);
	if (!w->loop)
		return -ENOMEM;
	foreign_loops[0] = w->loop;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.options = LWS_SERVER_OPTION_LIBEV;
	info.foreign_loops = foreign_loops;
	info.protocols = load_protocols;
	info.user = w;
	info.pt_serv_buf_size = 64 * 1024;
	info.connect_timeout_secs = (unsigned)ceil(w->plan->opts->connect_timeout);
	info.timeout_secs = (unsigned)ceil(w->plan->opts->connect_timeout);
	w->context = lws_create_context(&info);
	if (!w->context)
		return -ENOMEM;
	w->vhost = lws_get_vhost_by_name(w->context, "default");
	fd.filefd = w->timer_fd;
	if (!lws_adopt_descriptor_vhost(w->vhost, LWS_ADOPT_RAW_FILE_DESC, fd, "wsbench-timer",
	                                NULL))
		return -EIO;
	return 0;
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void *worker_main(void *userdata)
{
	struct load_worker *w = userdata;
	int64_t cpu0 = thread_cpu_ns(), wall0 = now_ns();
	int r;

	r = worker_create_context(w);
	if (r < 0) {
		w->result = r;
		goto out;
	}
	w->last_housekeeping_ns = now_ns();
	timer_arm(w);
	if (!w->exit_loop)
		ev_run(w->loop, 0);
out:
	if (w->context)
		lws_context_destroy(w->context);
	w->context = NULL;
	if (w->loop) {
		/* Let lws's watchers finish stopping, as its libev examples do. */
		ev_run(w->loop, EVRUN_NOWAIT);
		ev_loop_destroy(w->loop);
		w->loop = NULL;
	}
	stats_lock(w);
	w->stats.scheduled = count_scheduled(w);
	w->stats.connected = 0;
	stats_unlock(w);
	w->cpu_ns = (uint64_t)(thread_cpu_ns() - cpu0);
	w->wall_ns = (uint64_t)(now_ns() - wall0);
	atomic_store(&w->finished, true);
	return NULL;
}

int load_worker_init(struct load_worker *w, unsigned index, const struct load_plan *plan,
                     unsigned first, unsigned step, unsigned total)
{
	const struct load_options *o = plan->opts;
	unsigned n = 0;

	memset(w, 0, sizeof(*w));
	w->index = index;
	w->plan = plan;
	w->timer_fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	load_stats_init(&w->stats);
	for (unsigned i = first; i < total; i += step)
		n++;
	w->clients = calloc(n ? n : 1, sizeof(*w->clients));
	w->heap_cap = 2 * n + 1;
	w->heap = calloc(w->heap_cap, sizeof(*w->heap));
	w->tx_buf = malloc(LWS_PRE + o->size);
	w->scratch = malloc(o->size + 1);
	if (!w->clients || !w->heap || !w->tx_buf || !w->scratch)
		return -ENOMEM;
	w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->timer_fd < 0)
		return -errno;
	w->n_clients = n;
	w->open_clients = n;
	for (unsigned k = 0; k < n; k++) {
		struct load_client *c = &w->clients[k];
		unsigned id = first + k * step;
		int64_t at = plan->epoch_ns;

		c->w = w;
		c->id = id;
		c->connect_ev = (struct load_event){ .kind = EVENT_CONNECT, .client = c };
		c->send_ev = (struct load_event){ .kind = EVENT_SEND, .client = c };
		/* Ramp-up: connections spread evenly over the ramp. */
		if (total > 0 && o->ramp_up > 0)
			at += (int64_t)llround(o->ramp_up * 1e9 * id / total);
		heap_push(w, &c->connect_ev, at);
		schedule_next_send(c);
	}
	return 0;
}

void load_worker_free(struct load_worker *w)
{
	for (unsigned i = 0; i < w->n_clients; i++)
		free(w->clients[i].rx);
	free(w->clients);
	free(w->heap);
	free(w->tx_buf);
	free(w->scratch);
	if (w->timer_fd >= 0)
		close(w->timer_fd);
	pthread_mutex_destroy(&w->lock);
	memset(w, 0, sizeof(*w));
	w->timer_fd = -1;
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
	stats_lock(w);
	load_stats_merge(to, &w->stats);
	stats_unlock(w);
}

void load_worker_snapshot_interval(struct load_worker *w, struct load_stats *to)
{
	stats_lock(w);
	load_stats_merge_counters(to, &w->stats);
	histogram_merge(&to->interval, &w->stats.interval);
	histogram_reset(&w->stats.interval);
	stats_unlock(w);
}
