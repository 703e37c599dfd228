/* SPDX-License-Identifier: MIT */
/* One load pass: wsbench-load's run, and each trial of the capacity search. */
#pragma once

#include <signal.h>
#include <stdbool.h>

#include "load-options.h"
#include "load-result.h"

/**
 * load_run() - run @o once and fill @r.
 * @show: print the progress (a line each second with --format jsonl, a live
 *        line on a terminal with text).
 * @stop: becomes non-zero (a signal) to close the connections now; @r then
 *        covers the run so far and is marked interrupted.
 * Return: 0, or a negative errno when the run could not be set up.
 */
int load_run(const struct load_options *o, struct load_result *r, bool show,
             const volatile sig_atomic_t *stop);
