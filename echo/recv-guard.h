/* SPDX-License-Identifier: MIT */
/*
 * Per-socket guards fed from recv(2) and send(2). libwebsockets 4.1.6 reads
 * and writes every plain-TCP connection with recv() and send()
 * (lib/core-net/output.c), and this program defines both itself, so the
 * guard sees each byte before lws parses it and before it goes on the wire.
 * It does what lws 4.1.6 does not:
 *
 *  - it detects unmasked client frames (RFC 6455 section 5.1), so the echo
 *    protocol can fail the connection with 1002;
 *  - it hands lws one ping at a time: lws keeps a single pending pong and
 *    drops pings that arrive before it is written (upstream's "fails
 *    Autobahn 2.10 by design"). Bytes after a ping wait in a small stash
 *    until the send guard has seen lws write the pong; then a zero-delay
 *    timer services the socket again. Traffic without pings never takes
 *    this path;
 *  - it watches the frames lws sends: after our Close frame nothing more
 *    goes out (section 5.5.1), and once both Close frames have crossed, or
 *    the connection is being failed, the server ends TCP at once (section
 *    7.1.1) rather than waiting for the client or for lws's timeout.
 *
 * Only sockets registered with recv_guard_watch() are tracked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct lws;

/* Sizes the table for descriptors below @max_fds. Return: 0 or -ENOMEM. */
int recv_guard_init(size_t max_fds);
void recv_guard_done(void);

/* Starts tracking @fd as a new connection (call right after accept). */
void recv_guard_watch(int fd);

/* Stops tracking @fd and drops anything stashed (call when it closes). */
void recv_guard_forget(int fd);

/* Binds the established WebSocket connection to its descriptor. */
void recv_guard_set_owner(int fd, struct lws *wsi);

bool recv_guard_violated(int fd);

/* True once our Close frame has gone out on @fd: nothing may follow it. */
bool recv_guard_close_sent(int fd);

/* True once a Close frame has passed either way: no echo may start then
 * (section 5.5.1: data after the peer's Close is not answered). */
bool recv_guard_closing(int fd);
