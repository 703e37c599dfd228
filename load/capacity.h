/* SPDX-License-Identifier: MIT */
/* wsbench-load --find-max-rate: the highest total rate the server keeps up with. */
#pragma once

#include <signal.h>

#include "load-options.h"

/**
 * capacity_search() - trials of --search-duration at rising total rates (the
 * clients and message of @base) until the corrected p99 exceeds --p99-max
 * or echoes go missing, then bisection; each trial and the outcome are
 * printed in @base's format.
 * @stop: becomes non-zero (a signal) to end the search with what it has.
 * Return: LOAD_EXIT_OK when a rate passed, LOAD_EXIT_ERRORS when none did,
 * LOAD_EXIT_INTERRUPTED, or LOAD_EXIT_FAILURE when a trial could not run.
 */
int capacity_search(const struct load_options *base, const volatile sig_atomic_t *stop);
