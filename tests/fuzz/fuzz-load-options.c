/* SPDX-License-Identifier: MIT */
/*
 * wsbench-load's command line (load/load-options.c), with its cross-option
 * rules: argv cut from the input at NUL bytes. Checked: a command line it
 * accepts to run has a numeric host, a path, a port, clients and threads in
 * range, the pattern's rules met, and a message size that holds the largest
 * header the run can send (what wsbenchd checks before starting a run); one
 * it refuses says why; parsing the same command line twice
 * gives the same outcome; load_options_free() releases everything.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "load-options.h"

static int parse(char **args, int argc, struct load_options *o, char *err, size_t errlen)
{
	char *argv[FUZZ_MAX_ARGS + 1];

	memcpy(argv, args, sizeof(char *) * (size_t)(argc + 1));
	load_options_init(o);
	err[0] = '\0';
	return load_options_parse(o, argc, argv, err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct load_options a, b;
	char *args[FUZZ_MAX_ARGS + 1], *buf, err_a[512], err_b[512];
	int argc = fuzz_argv(&in, "wsbench-load", args, &buf);
	int ra = parse(args, argc, &a, err_a, sizeof(err_a));
	int rb = parse(args, argc, &b, err_b, sizeof(err_b));

	fuzz_check(ra == rb && strcmp(err_a, err_b) == 0);
	if (ra == -EINVAL)
		fuzz_check(err_a[0] != '\0');
	else
		fuzz_check(ra == LOAD_OPTIONS_RUN || ra == LOAD_OPTIONS_HELP ||
		           ra == LOAD_OPTIONS_VERSION);
	if (ra == LOAD_OPTIONS_RUN) {
		const struct schedule *s = &a.schedule;
		struct message_id worst = {
			.client = a.clients - 1,
			.seq = 1000000,
			.sched_us = (uint64_t)(s->duration * 1e6) + 1000000,
		};

		fuzz_check(a.url && a.host[0] && a.path[0] == '/' && a.port >= 1);
		fuzz_check(a.clients >= 1 && a.clients <= LOAD_MAX_CLIENTS);
		fuzz_check(a.threads <= LOAD_MAX_THREADS);
		fuzz_check(a.n_sources <= LOAD_MAX_SOURCES);
		fuzz_check(a.size >= 1 && a.size <= MESSAGE_MAX_SIZE);
		fuzz_check(s->pattern != PATTERN_RAMP || s->rate_end >= 0);
		fuzz_check(s->pattern == PATTERN_RAMP || s->rate_end < 0);
		fuzz_check(s->pattern != PATTERN_FIXED || s->rate > 0);
		/* At least the header of the last client's messages fits. */
		fuzz_check(a.size >= message_min_size(a.type, &worst));
		fuzz_check(a.port == b.port && a.clients == b.clients && a.size == b.size &&
		           a.type == b.type && s->pattern == b.schedule.pattern &&
		           strcmp(a.host, b.host) == 0 && strcmp(a.path, b.path) == 0);
		for (unsigned i = 0; i < a.n_sources; i++)
			fuzz_check(a.sources[i] >= a.sources_buf &&
			           a.sources[i] < a.sources_buf + strlen(args[0]) + size + 1);
	}
	load_options_free(&a);
	load_options_free(&b);
	free(buf);
	return 0;
}
