/* SPDX-License-Identifier: MIT */
/*
 * The echo protocol on libwebsockets 4.1.6 and the worker thread that runs
 * it. The lws callback is a thin switch over named handlers. Protocol rules
 * lws enforces itself (RSV bits, opcodes, fragmented or oversized control
 * frames, close codes, UTF-8 with LWS_SERVER_OPTION_VALIDATE_UTF8) are left
 * to it; the ones it does not (unmasked frames, 1-byte close payloads,
 * message size) are enforced here.
 *
 * With --tls-cert, lws (on Debian's OpenSSL) does TLS on the adopted
 * sockets. The recv()/send() guard (recv-guard.h) does not watch those:
 * OpenSSL reads and writes them with read()/write(), and what would pass
 * through recv()/send() is ciphertext a frame parser cannot read. So on
 * wss:// lws's own handling applies: unmasked client frames are accepted
 * (lws 4.1.6 checks masks only from 5.0), pings beyond the first pending
 * one are dropped, and after the closing handshake lws, not the guard,
 * ends TCP. The benchmark's clients mask, and answer closes.
 *
 * With --deflate, permessage-deflate (lws's extension) is accepted. lws
 * compresses a write in chunks and keeps reading the caller's buffer on
 * later WRITEABLE callbacks (its "tx draining"), so under --deflate an
 * echo's buffer is released only at the next WRITEABLE, one frame is
 * written per callback, and nothing is echoed straight from RECEIVE (the
 * pattern of lws's minimal-ws-server-echo).
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo-session.h"
#include "echo-worker.h"
#include "log.h"
#include "macro.h"
#include "recv-guard.h"

/* Payload bytes per outgoing frame: large messages go out as fragments so
 * lws never has to copy more than this into its partial-send buffer. */
#define ECHO_FRAME_MAX (128u * 1024)
/* Frames written per WRITEABLE callback before yielding to other sockets. */
#define ECHO_WRITE_BURST 16
/* Rx flow control: stop reading when this much echo is waiting to be sent,
 * resume below the low mark. Keeps memory bounded under a slow reader. */
#define ECHO_QUEUE_HIGH (1024u * 1024)
#define ECHO_QUEUE_LOW  (256u * 1024)
/* Messages up to this size are echoed straight from the receive callback. */
#define ECHO_DIRECT_MAX (64u * 1024)
/* How long shutdown waits for peers to answer our 1001 close. */
#define ECHO_STOP_GRACE_US (1000 * LWS_US_PER_MS)

struct echo_pss {
	struct echo_session session;
	bool counted;         /* holds a slot of --max-connections */
	size_t consume_later; /* --deflate: bytes written, released at the next WRITEABLE */
};

static const struct lws_extension deflate_extensions[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	  "permessage-deflate; client_max_window_bits" },
	{ NULL, NULL, NULL }
};

void (*echo_worker_on_failure)(void);

static atomic_uint established_total;

static struct echo_worker *worker_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* Leaves the worker's event loop once the current callback returns. */
static void worker_exit(struct echo_worker *w)
{
	w->exit_loop = true;
	ev_break(w->loop, EVBREAK_ALL);
}

static int close_with(struct lws *wsi, enum lws_close_status status, const char *why)
{
	lws_close_reason(wsi, status, (unsigned char *)why, strlen(why));
	return -1;
}

/* Writes a final HTTP answer to a refused upgrade. lws 4.1.6 would just drop
 * the connection; the status tells the client why. Best effort: the socket
 * is closed right after. */
static void refuse_upgrade(struct lws *wsi, const char *status, const char *extra)
{
	char resp[256];
	int n = snprintf(resp, sizeof(resp),
	                 "HTTP/1.1 %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", status,
	                 extra);

	/* On wss:// the socket carries TLS records: lws just closes it. */
	if (n > 0 && (size_t)n < sizeof(resp) && !lws_is_ssl(wsi))
		(void)send(lws_get_socket_fd(wsi), resp, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* RFC 6455 section 4.2.1 rules that lws 4.1.6 does not check: the method is
 * GET, the version is 13 (else 426 naming the one we speak), and the key is
 * a base64-encoded 16-byte nonce. Return: 0 to accept, 1 to refuse. */
static int on_filter_upgrade(struct lws *wsi)
{
	char version[8], key[64], nonce[32];

	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
		refuse_upgrade(wsi, "400 Bad Request", "");
		return 1;
	}
	if (lws_hdr_copy(wsi, version, sizeof(version), WSI_TOKEN_VERSION) <= 0 ||
	    strcmp(version, "13") != 0) {
		refuse_upgrade(wsi, "426 Upgrade Required", "Sec-WebSocket-Version: 13\r\n");
		return 1;
	}
	if (lws_hdr_copy(wsi, key, sizeof(key), WSI_TOKEN_KEY) != 24 ||
	    lws_b64_decode_string(key, nonce, sizeof(nonce)) != 16) {
		refuse_upgrade(wsi, "400 Bad Request", "");
		return 1;
	}
	return 0;
}

/*
 * lws 4.1.6 inflates a message into a buffer of 1 KiB by default and hands
 * a larger one on in several passes ("rx draining"); a read between two
 * passes overwrites the compressed input still being inflated (fixed
 * upstream in 2023, commits 57d539ef and 8d407988: "drain extensions
 * before next ssl read"). That corrupted 4 KiB text messages even at
 * 2 msg/s per connection, and once tripped lws's assert(rx.avail_out)
 * and aborted the server. With an inflate buffer as large as the receive
 * buffer, a message up to that size inflates in one pass and nothing is
 * left to drain. lws allocates it on the first compressed message only.
 */
#define ECHO_DEFLATE_RX_BITS 18 /* 256 KiB: the receive buffer under --deflate */

static void widen_inflate_buffer(struct lws *wsi)
{
	/* -1 when the client did not negotiate the extension. */
	lws_set_extension_option(wsi, "permessage-deflate", "rx_buf_size",
	                         STRINGIFY(ECHO_DEFLATE_RX_BITS));
}

static int on_established(struct lws *wsi, struct echo_pss *pss)
{
	struct echo_worker *w = worker_of(wsi);
	unsigned max = w->opts->max_connections;
	int fd = lws_get_socket_fd(wsi);

	*pss = (struct echo_pss){ 0 };
	if (max && atomic_fetch_add(&established_total, 1) >= max) {
		atomic_fetch_sub(&established_total, 1);
		/* RFC 6455 section 7.4.1 / IANA: 1013 Try Again Later. */
		return close_with(wsi, 1013, "connection limit reached");
	}
	if (!max)
		atomic_fetch_add(&established_total, 1);
	pss->counted = true;
	w->sessions++;
	w->n_connections++;
	recv_guard_set_owner(fd, wsi);
	if (recv_guard_violated(fd))
		lws_callback_on_writable(wsi);
	if (w->opts->deflate)
		widen_inflate_buffer(wsi);
	return 0;
}

static void on_closed(struct lws *wsi, struct echo_pss *pss)
{
	struct echo_worker *w = worker_of(wsi);

	echo_session_clear(&pss->session);
	/* The descriptor number will be reused; the guard must not keep a
	 * pointer to this wsi. */
	recv_guard_forget(lws_get_socket_fd(wsi));
	if (!pss->counted)
		return;
	pss->counted = false;
	atomic_fetch_sub(&established_total, 1);
	w->sessions--;
	w->n_closed++;
	if (w->stopping && w->sessions == 0)
		worker_exit(w);
}

/* A whole message in one callback, nothing queued or half-sent before it,
 * and small enough for the worker's buffer: echo it right here. */
static bool can_echo_now(struct lws *wsi, const struct echo_session *s, size_t len, size_t max)
{
	return len <= ECHO_DIRECT_MAX && len <= max && !s->head && !s->partial &&
	       lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
	       !lws_partial_buffered(wsi) && !recv_guard_closing(lws_get_socket_fd(wsi));
}

/*
 * Writes the echo from the RECEIVE callback instead of queueing it and
 * asking for WRITEABLE: that round trip costs two epoll_ctl() calls, a loop
 * iteration and an allocation per message. The payload is copied into the
 * worker's buffer, which has the LWS_PRE headroom lws_write() needs (lws's
 * own rx buffer may not). What the socket does not take now, lws keeps and
 * sends first; later messages queue behind it (lws_partial_buffered()).
 */
static int echo_now(struct lws *wsi, struct echo_worker *w, const void *in, size_t len)
{
	uint8_t *payload = w->tx_buf + LWS_PRE;

	memcpy(payload, in, len);
	if (lws_write(wsi, payload, len,
	              lws_frame_is_binary(wsi) ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0)
		return -1;
	w->n_echoed++;
	return 0;
}

static int on_receive(struct lws *wsi, struct echo_pss *pss, const void *in, size_t len)
{
	struct echo_worker *w = worker_of(wsi);
	struct echo_session *s = &pss->session;
	int r;

	/* Section 5.1: a server MUST close on an unmasked frame; its data is
	 * not echoed. */
	if (recv_guard_violated(lws_get_socket_fd(wsi)))
		return close_with(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, "unmasked frame");
	if (lws_is_final_fragment(wsi))
		w->n_received++;
	if (w->stopping)
		return 0;
	if (!w->opts->deflate && can_echo_now(wsi, s, len, w->opts->max_message_size))
		return echo_now(wsi, w, in, len);
	r = echo_session_receive(s, in, len, lws_is_first_fragment(wsi), lws_is_final_fragment(wsi),
	                         lws_frame_is_binary(wsi), lws_remaining_packet_payload(wsi),
	                         w->opts->max_message_size);
	if (r == -EMSGSIZE)
		return close_with(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
	if (r < 0)
		return close_with(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
	if (r > 0)
		lws_callback_on_writable(wsi);
	if (!s->rx_paused && s->queued_bytes > ECHO_QUEUE_HIGH) {
		s->rx_paused = true;
		lws_rx_flow_control(wsi, 0);
	}
	return 0;
}

static int write_one_frame(struct lws *wsi, struct echo_session *s)
{
	struct echo_msg *m = echo_session_peek(s);
	size_t off = m->sent, chunk = MIN(m->len - off, (size_t)ECHO_FRAME_MAX);
	enum lws_write_protocol type = m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
	int flags = lws_write_ws_flags(type, off == 0, off + chunk == m->len);

	/* The LWS_PRE bytes before a later fragment belong to the previous one,
	 * which lws has already sent or copied, so they may be overwritten. */
	if (lws_write(wsi, echo_msg_payload(m) + off, chunk, flags) < 0)
		return -EIO;
	if (off + chunk == m->len)
		worker_of(wsi)->n_echoed++;
	return (int)chunk;
}

/* --deflate: what the previous WRITEABLE wrote is done with now. */
static void consume_written(struct echo_pss *pss)
{
	if (pss->consume_later) {
		echo_session_consume(&pss->session, pss->consume_later);
		pss->consume_later = 0;
	}
}

static int on_writeable(struct lws *wsi, struct echo_pss *pss)
{
	struct echo_worker *w = worker_of(wsi);
	struct echo_session *s = &pss->session;

	if (recv_guard_violated(lws_get_socket_fd(wsi)))
		return close_with(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, "unmasked frame");
	/* lws fails a connection (1002, 1007) by sending its Close frame at
	 * once, and may still offer WRITEABLE while it waits for the reply;
	 * echoes queued before it are dropped (section 5.5.1). */
	if (recv_guard_close_sent(lws_get_socket_fd(wsi)))
		return 0;
	if (w->stopping)
		return close_with(wsi, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	if (w->opts->deflate) {
		int k;

		consume_written(pss);
		if (!echo_session_peek(s) || (k = write_one_frame(wsi, s)) == 0)
			goto flow;
		if (k < 0)
			return -1;
		pss->consume_later = (size_t)k;
		lws_callback_on_writable(wsi);
		goto flow;
	}
	for (int n = 0; n < ECHO_WRITE_BURST && echo_session_peek(s); n++) {
		int k = write_one_frame(wsi, s);

		if (k < 0)
			return -1;
		echo_session_consume(s, (size_t)k);
		if (lws_partial_buffered(wsi))
			break;
	}
	if (echo_session_peek(s))
		lws_callback_on_writable(wsi);
flow:
	if (s->rx_paused && s->queued_bytes < ECHO_QUEUE_LOW) {
		s->rx_paused = false;
		lws_rx_flow_control(wsi, 1);
	}
	return 0;
}

static int on_peer_close(struct lws *wsi, struct echo_pss *pss, const void *in, size_t len)
{
	struct echo_session *s = &pss->session;

	/* --deflate: lws may still be compressing the last echo; the ones
	 * queued behind it are dropped (section 5.5.1 allows it). */
	if (worker_of(wsi)->opts->deflate)
		return len == 1
		           ? close_with(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, "1-byte close payload")
		           : 0;
	/* Section 5.5.1: a close body is empty or starts with a 2-byte code.
	 * lws itself rewrites invalid codes to 1002 and echoes the rest. */
	if (len == 1)
		return close_with(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, "1-byte close payload");
	/* Section 5.5.1 lets us finish sending the current message before the
	 * close reply; we send all complete echoes received before the close,
	 * since lws writes its reply ahead of any later WRITEABLE callback.
	 * What the socket does not take now, lws buffers and drains first. */
	while (echo_session_peek(s)) {
		int k = write_one_frame(wsi, s);

		if (k < 0)
			return -1;
		echo_session_consume(s, (size_t)k);
	}
	return 0;
}

static void stop_grace_expired(lws_sorted_usec_list_t *sul)
{
	struct echo_worker *w = lws_container_of(sul, struct echo_worker, stop_sul);

	worker_exit(w);
}

/* On the service thread: stop echoing, close every connection with 1001
 * (from its WRITEABLE callback) and leave the loop once all are gone or the
 * grace period ends. */
static void begin_stop(struct echo_worker *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	if (w->sessions == 0) {
		worker_exit(w);
		return;
	}
	lws_callback_on_writable_all_protocol_vhost(
	    w->vhost, lws_vhost_name_to_protocol(w->vhost, ECHO_PROTOCOL_NAME));
	lws_sul_schedule(w->context, 0, &w->stop_sul, stop_grace_expired, ECHO_STOP_GRACE_US);
}

static int echo_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
	struct echo_pss *pss = user;
	struct echo_worker *w;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return on_filter_upgrade(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		return on_receive(wsi, pss, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writeable(wsi, pss);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		return on_peer_close(wsi, pss, in, len);
	case LWS_CALLBACK_CLOSED:
		on_closed(wsi, pss);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		w = lws_context_user(lws_get_context(wsi));
		if (w && atomic_load(&w->stop_requested))
			begin_stop(w);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* accept4() with a way out of fd exhaustion: give up the spare descriptor,
 * accept and immediately close one connection, and take the spare back, so
 * the backlog drains instead of poll() reporting it forever. */
static int accept_or_shed(struct echo_worker *w)
{
	int fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd >= 0 || (errno != EMFILE && errno != ENFILE))
		return fd >= 0 ? fd : -errno;
	if (w->spare_fd >= 0) {
		close(w->spare_fd);
		fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	log_warning("out of file descriptors: refusing a connection");
	return -EAGAIN;
}

static void accept_pending(struct echo_worker *w)
{
	static const int one = 1;

	for (;;) {
		int fd = accept_or_shed(w);

		if (fd == -EAGAIN || fd == -EWOULDBLOCK)
			return;
		if (fd < 0) {
			if (fd != -ECONNABORTED && fd != -EINTR)
				log_error_errno(fd, "accept failed");
			continue;
		}
		if (w->stopping) {
			close(fd);
			continue;
		}
		/* lws sets TCP_NODELAY only on sockets its own listener accepts
		 * (lib/roles/listen/ops-listen.c), not on adopted ones; without
		 * it Nagle holds small echoes back for milliseconds. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* TLS sockets are not watched (see the top of this file). */
		if (!w->opts->tls_cert)
			recv_guard_watch(fd);
		/* On failure lws may or may not have closed fd already, so it is
		 * not closed again here. */
		if (!lws_adopt_socket_vhost(w->vhost, fd)) {
			recv_guard_forget(fd);
			log_warning("libwebsockets refused an accepted connection");
		}
	}
}

static int acceptor_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                             void *in, size_t len)
{
	struct echo_worker *w;

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		w = lws_context_user(lws_get_context(wsi));
		accept_pending(w);
		return 0;
	default:
		return 0;
	}
}

/* Copied per worker, where the receive buffer's size is set (see
 * worker_protocols()). */
static const struct lws_protocols echo_protocols[] = {
	/* Index 0: a ws upgrade without Sec-WebSocket-Protocol binds here. */
	{
	    .name = ECHO_PROTOCOL_NAME,
	    .callback = echo_callback,
	    .per_session_data_size = sizeof(struct echo_pss),
	    .tx_packet_size = ECHO_FRAME_MAX,
	},
	{
	    .name = "wsbench-acceptor",
	    .callback = acceptor_callback,
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/*
 * The receive buffer (--rx-buffer, default 512 bytes) is allocated by lws
 * per connection for the connection's life, and lws reads at most that
 * much per wakeup. So it trades memory for syscalls: RSS per idle
 * connection (3,000 open) was 5.5 KiB at 16 KiB or 4 KiB, 3.5 at 2 KiB,
 * 2.5 at 1 KiB, 2.0 at 512 B (lws's own state is the other 1.5 KiB); a
 * 4 KiB message costs 8 recv() calls and 8 loop turns at 512 B, one at
 * 4 KiB. Larger messages arrive in several callbacks and are reassembled
 * in our buffers; the benchmark's 64-byte messages fit.
 *
 * Under --deflate it is at least 256 KiB: lws caps permessage-deflate's
 * inflate buffer at the receive buffer's size, and widen_inflate_buffer()
 * needs it that large. Measured here with it: 4 KiB to 1 MiB text and
 * random messages verify over ws:// and wss:// (without it, 4 KiB text
 * failed at 2 msg/s per connection). Buffers this size are malloc'd with
 * mmap, so an idle connection's resident cost grows only with what it
 * receives.
 */
static const struct lws_protocols *worker_protocols(struct echo_worker *w)
{
	size_t rx = w->opts->rx_buffer;

	if (w->opts->deflate && rx < (size_t)1 << ECHO_DEFLATE_RX_BITS)
		rx = (size_t)1 << ECHO_DEFLATE_RX_BITS;
	memcpy(w->protocols, echo_protocols, sizeof(echo_protocols));
	w->protocols[0].rx_buffer_size = rx;
	return w->protocols;
}

/*
 * No idle checks: lws's default policy (ping after 300 s without a pong,
 * hang up at 310) schedules a timer per connection at ESTABLISHED, and lws
 * 4.1.6 keeps timers in a sorted linked list, so each new connection walked
 * every other's timer: at 19,000 connections opened at 1,900/s, 82% of the
 * server's CPU was lws_dll2_add_sorted() (perf), the ramp fell to 1,470
 * connections/s and connects waited for SYN retransmissions (p99 2.5 s).
 * An echo server under test should not ping on its own anyway: liveness is
 * the load generator's to judge.
 */
static const lws_retry_bo_t no_idle_checks = { .secs_since_valid_ping = 0,
	                                       .secs_since_valid_hangup = 0 };

static int worker_create_context(struct echo_worker *w)
{
	struct lws_context_creation_info info;
	lws_sock_file_fd_type fd;

	void *foreign_loops[1];

	/* libev on epoll: lws's default poll() backend scans every descriptor
	 * on every wakeup, which at 10,000 connections costs more than the
	 * echoes themselves. */
	w->loop = ev_loop_new(EVBACKEND_EPOLL);
	if (!w->loop)
		return -ENOMEM;
	foreign_loops[0] = w->loop;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = worker_protocols(w);
	info.user = w;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_LIBEV;
	if (w->opts->tls_cert) {
		/* CONTEXT_PORT_NO_LISTEN_SERVER (not _NO_LISTEN) keeps the
		 * vhost's TLS set up for the sockets we adopt. */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = w->opts->tls_cert;
		info.ssl_private_key_filepath = w->opts->tls_key;
		/* HTTP/1.1 only, like the other servers: the upgrade is
		 * HTTP/1.1's (RFC 6455 section 4.1). */
		info.alpn = "http/1.1";
	}
	info.foreign_loops = foreign_loops;
	info.retry_and_idle_policy = &no_idle_checks;
	info.timeout_secs = w->opts->handshake_timeout;
	info.timeout_secs_ah_idle = w->opts->handshake_timeout;
	/* Per-thread read buffer: large reads cost nothing per connection. */
	info.pt_serv_buf_size = 64 * 1024;
	/* permessage-deflate only when asked: it changes what a message
	 * costs, which is what a --deflate run measures. */
	info.extensions = w->opts->deflate ? deflate_extensions : NULL;

	w->context = lws_create_context(&info);
	if (!w->context)
		return -ENOMEM;
	w->vhost = lws_get_vhost_by_name(w->context, "default");
	if (!w->vhost)
		return -ENOENT;
	fd.filefd = w->listen_fd;
	if (!lws_adopt_descriptor_vhost(w->vhost, LWS_ADOPT_RAW_FILE_DESC, fd, "wsbench-acceptor",
	                                NULL))
		return -EIO;
	return 0;
}

/*
 * lws 4.1.6 on a foreign libev loop services its own timers late: a deadline
 * earlier than the one its libev timer is armed for waits for that one,
 * since the glue re-arms the timer only from its own callbacks (measured:
 * with --handshake-timeout 2, idle and half-sent upgrades were closed after
 * 30 s, the period of lws's header-table check). Each second, waking the
 * service thread makes lws run every timer that is due, so the handshake
 * timeout and lws's other timers hold to within a second. The watcher does
 * not keep the loop alive (ev_unref).
 */
static void on_timer_tick(struct ev_loop *loop, struct ev_timer *t, int revents)
{
	struct echo_worker *w = t->data;

	lws_cancel_service(w->context);
}

static void *worker_main(void *userdata)
{
	struct echo_worker *w = userdata;
	struct ev_timer tick;
	int r;

	w->tx_buf = malloc(LWS_PRE + ECHO_DIRECT_MAX);
	r = w->tx_buf ? worker_create_context(w) : -ENOMEM;
	w->result = r;
	pthread_mutex_lock(&w->startup->lock);
	w->startup->ready++;
	pthread_cond_broadcast(&w->startup->cond);
	pthread_mutex_unlock(&w->startup->lock);
	if (r < 0)
		goto out;
	ev_timer_init(&tick, on_timer_tick, 1.0, 1.0);
	tick.data = w;
	ev_timer_start(w->loop, &tick);
	ev_unref(w->loop);
	if (!w->exit_loop)
		ev_run(w->loop, 0);
	ev_ref(w->loop);
	ev_timer_stop(w->loop, &tick);
	if (!w->exit_loop) {
		/* The loop ran out of watchers: lws lost its descriptors. */
		w->result = -EIO;
		if (echo_worker_on_failure)
			echo_worker_on_failure();
	}
out:
	pthread_mutex_lock(&w->lock);
	if (w->context)
		lws_context_destroy(w->context);
	w->context = NULL;
	pthread_mutex_unlock(&w->lock);
	if (w->loop) {
		/* Let lws's watchers finish stopping, as its libev examples do. */
		ev_run(w->loop, EVRUN_NOWAIT);
		ev_loop_destroy(w->loop);
		w->loop = NULL;
	}
	free(w->tx_buf);
	w->tx_buf = NULL;
	return NULL;
}

void echo_startup_wait(struct echo_startup *s, unsigned n)
{
	pthread_mutex_lock(&s->lock);
	while (s->ready < n)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

int echo_worker_start(struct echo_worker *w)
{
	w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pthread_mutex_init(&w->lock, NULL);
	return -pthread_create(&w->thread, NULL, worker_main, w);
}

void echo_worker_stop(struct echo_worker *w)
{
	atomic_store(&w->stop_requested, true);
	pthread_mutex_lock(&w->lock);
	if (w->context)
		lws_cancel_service(w->context);
	pthread_mutex_unlock(&w->lock);
}

int echo_worker_join(struct echo_worker *w)
{
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	if (w->spare_fd >= 0)
		close(w->spare_fd);
	w->spare_fd = -1;
	return w->result;
}
