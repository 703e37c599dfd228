/* SPDX-License-Identifier: MIT */
/* Process limits shared by the programs that open many sockets. */
#pragma once

#include <stddef.h>

/**
 * fd_limit_raise() - raise RLIMIT_NOFILE's soft limit to the hard limit.
 * libwebsockets sizes its descriptor tables from the soft limit when a
 * context is created, so this must run before the first context.
 * Return: the limit now in force (1 << 20 for "unlimited").
 */
size_t fd_limit_raise(void);

/* Descriptors wsbench-load needs besides one per client (timerfds, eventfds,
 * stdio, /proc; lws's and libev's for each of up to 64 threads). wsbench-load
 * refuses more clients than its limit allows, and wsbenchd refuses them
 * already at StartRun. */
#define LOAD_FD_OVERHEAD (64 + 8 * 64)

/**
 * fd_limit_inherited() - the RLIMIT_NOFILE a child started now could raise
 * its soft limit to: this process's hard limit (1 << 20 for "unlimited").
 */
size_t fd_limit_inherited(void);
