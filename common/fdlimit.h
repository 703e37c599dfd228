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
