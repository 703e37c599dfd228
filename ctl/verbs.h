/* SPDX-License-Identifier: MIT */
/*
 * wsbenchctl's verbs, one function each, dispatched from the verb table in
 * wsbenchctl.c, which has already checked the number of arguments and that
 * every option given applies to the verb. A verb asks the daemon through
 * bus-client.h and shows the answer through print.h.
 *
 * A new verb (compare, ...) is a verb_*() here, a row in the table, a line
 * in the usage text and in docs/wsbenchctl.1, and a word in
 * completion/wsbenchctl.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "bus-client.h"

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_ERROR = 1,      /* the daemon refused, or something failed (printed) */
	CTL_EXIT_USAGE = 2,      /* bad command line */
	CTL_EXIT_RUN_FAILED = 3, /* the run waited for failed or was cancelled */
};

/* What a verb works with: the bus and the verb's own options. */
struct ctl {
	sd_bus *bus;
	/* start */
	const char *server; /* --server; "" for the daemon's default */
	struct client_set *sets;
	size_t n_sets;
	bool wait;
	/* report, compare */
	const char *html;    /* --html FILE */
	const char *hdr_log; /* --hdr-log FILE */
	/* compare */
	const char *servers; /* --servers a,b,...; NULL: every server */
	struct client_compare_options compare;
	bool markdown;
	bool started_options; /* an option that only starting a compare takes was given */
};

/* @argv[0] is the verb, @argc counts it. Return: an enum ctl_exit. */
int verb_list_servers(struct ctl *ctl, int argc, char **argv);
int verb_list_scenarios(struct ctl *ctl, int argc, char **argv);
int verb_start(struct ctl *ctl, int argc, char **argv);
int verb_status(struct ctl *ctl, int argc, char **argv);
int verb_wait(struct ctl *ctl, int argc, char **argv);
int verb_cancel(struct ctl *ctl, int argc, char **argv);
int verb_runs(struct ctl *ctl, int argc, char **argv);
int verb_report(struct ctl *ctl, int argc, char **argv);
int verb_reload(struct ctl *ctl, int argc, char **argv);
/* In verb-compare.c. */
int verb_compare(struct ctl *ctl, int argc, char **argv);
