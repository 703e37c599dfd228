/* SPDX-License-Identifier: MIT */
/*
 * Listening sockets for wsbench-echo. Each worker thread owns one; they share
 * the port through SO_REUSEPORT so the kernel spreads connections across
 * threads. libwebsockets 4.1.6 cannot do this itself: it sets SO_REUSEPORT
 * only when built with LWS_MAX_SMP > 1 (upstream #2470, fixed in 4.4.0).
 */
#pragma once

#include <stdint.h>

/**
 * listener_open() - create a non-blocking listening TCP socket.
 * @host: numeric IPv4 or IPv6 address.
 * @port: port to bind, 0 for any free one.
 * @ret_port: receives the bound port.
 * Return: the socket, or a negative errno (-EINVAL for a bad address).
 */
int listener_open(const char *host, uint16_t port, uint16_t *ret_port);
