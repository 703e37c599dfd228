/* SPDX-License-Identifier: MIT */
/*
 * wsbench-load: the load generator. main() parses the options, checks the
 * run against the machine's limits, and runs it once (load-run.c) or runs
 * the capacity search (capacity.c); it prints the result and exits with the
 * status the result earns (common/load-protocol.h).
 */
#include <signal.h>
#include <stdio.h>

#include "capacity.h"
#include "fdlimit.h"
#include "load-options.h"
#include "load-protocol.h"
#include "load-report.h"
#include "load-run.h"
#include "log.h"
#include "wsbench-config.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

int main(int argc, char **argv)
{
	struct load_options opts;
	struct load_result result;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512];
	long fd_limit, fds_needed;
	int r, status;

	log_set_program("wsbench-load");
	load_options_init(&opts);
	r = load_options_parse(&opts, argc, argv, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "wsbench-load: %s\n(see wsbench-load --help)\n", err);
		load_options_free(&opts);
		return LOAD_EXIT_USAGE;
	}
	if (r == LOAD_OPTIONS_HELP) {
		fputs(load_usage, stdout);
		return LOAD_EXIT_OK;
	}
	if (r == LOAD_OPTIONS_VERSION) {
		printf("wsbench-load %s\n", WSBENCH_VERSION);
		return LOAD_EXIT_OK;
	}

	fd_limit = (long)fd_limit_raise();
	fds_needed = (long)opts.clients + LOAD_FD_OVERHEAD; /* wsbenchd checks the same */
	if (fds_needed > fd_limit) {
		fprintf(
		    stderr,
		    "wsbench-load: --clients %u needs about %ld file descriptors, but this process "
		    "may open only %ld (the hard limit of ulimit -n); lower --clients or raise the "
		    "limit\n",
		    opts.clients, fds_needed, fd_limit);
		load_options_free(&opts);
		return LOAD_EXIT_USAGE;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (opts.find_max_rate) {
		status = capacity_search(&opts, &interrupted);
		load_options_free(&opts);
		return status;
	}
	r = load_run(&opts, &result, true, &interrupted);
	if (r < 0) {
		log_error_errno(r, "load run failed");
		load_options_free(&opts);
		return LOAD_EXIT_FAILURE;
	}
	if (load_report_print(&result, opts.format) < 0)
		status = LOAD_EXIT_FAILURE;
	else
		status = load_result_exit(&result);
	load_result_free(&result);
	load_options_free(&opts);
	return status;
}
