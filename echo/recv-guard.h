/* SPDX-License-Identifier: MIT */
/*
 * Per-socket frame guards fed from recv(2). libwebsockets 4.1.6 reads every
 * plain-TCP connection with recv() (lib/core-net/output.c), and this program
 * defines recv() itself, so the guard sees each byte before lws parses it.
 * Only sockets registered with recv_guard_watch() are tracked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Sizes the table for descriptors below @max_fds. Return: 0 or -ENOMEM. */
int recv_guard_init(size_t max_fds);
void recv_guard_done(void);

/* Starts tracking @fd as a new connection (call right after accept). */
void recv_guard_watch(int fd);
void recv_guard_forget(int fd);

/* Remembers an opaque object (the lws wsi) to poke when a violation is seen. */
void recv_guard_set_owner(int fd, void *owner);

bool recv_guard_violated(int fd);

/* Called (on the thread that read) when @fd's peer sent an unmasked frame. */
extern void (*recv_guard_on_violation)(void *owner);
