/* SPDX-License-Identifier: MIT */
/*
 * A check the configuration and override harnesses share: whatever scenario
 * wsbenchd accepts, from a file or from StartRun's overrides, wsbench-load
 * must accept too, or the run fails at its start.
 */
#pragma once

#include "fuzz.h"
#include "load-options.h"
#include "scenario.h"

/* wsbench-load accepts the command line wsbenchd starts it with for @s:
 * daemon/run.c's add_scenario_args() and start_load(), repeated here while
 * they are static in run.c (issue 16 moved the table they read to
 * scenario.c; the loop over it could follow). */
static inline void fuzz_load_accepts(const struct scenario_config *s)
{
	char args[48][128], *argv[52], err[512];
	struct load_options o;
	int argc = 0, r;

	argv[argc++] = (char *)"wsbench-load";
	argv[argc++] = (char *)"--url=ws://127.0.0.1:9001/";
	for (size_t i = 0; i < scenario_n_fields; i++) {
		struct scenario_value v;
		char *a = args[argc];

		if (!scenario_get(s, i, &v) || !v.field->load_option)
			continue;
		fuzz_check(argc < 48);
		if (v.field->type == SCENARIO_BOOL) {
			if (!v.b)
				continue;
			snprintf(a, sizeof(args[0]), "--%s", v.field->load_option);
		} else if (v.field->type == SCENARIO_UINT)
			snprintf(a, sizeof(args[0]), "--%s=%u", v.field->load_option, v.u);
		else if (v.field->type == SCENARIO_DOUBLE)
			snprintf(a, sizeof(args[0]), "--%s=%.15g", v.field->load_option, v.d);
		else
			snprintf(a, sizeof(args[0]), "--%s=%s", v.field->load_option, v.choice);
		argv[argc++] = a;
	}
	argv[argc++] = (char *)"--format=jsonl";
	argv[argc] = NULL;
	load_options_init(&o);
	r = load_options_parse(&o, argc, argv, err, sizeof(err));
	if (r != LOAD_OPTIONS_RUN) {
		fprintf(stderr, "wsbenchd accepts, wsbench-load refuses: %s\n", err);
		for (int i = 0; i < argc; i++)
			fprintf(stderr, "  %s\n", argv[i]);
	}
	fuzz_check(r == LOAD_OPTIONS_RUN);
	load_options_free(&o);
}
