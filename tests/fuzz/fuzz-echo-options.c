/* SPDX-License-Identifier: MIT */
/*
 * wsbench-echo's command line (echo/echo-options.c): argv cut from the input
 * at NUL bytes. Checked: a command line it accepts gives values inside every
 * documented range (echo-options.h, docs/wsbench-echo.1); one it refuses
 * says why (quoting the argument as given, newlines too); parsing the same
 * command line twice gives the same outcome (getopt's state is reset).
 */
#include <errno.h>
#include <string.h>

#include "echo-options.h"
#include "fuzz.h"

static int parse(char **args, int argc, struct echo_options *o, char *err, size_t errlen)
{
	char *argv[FUZZ_MAX_ARGS + 1];

	/* getopt_long() permutes argv: give each parse its own copy. */
	memcpy(argv, args, sizeof(char *) * (size_t)(argc + 1));
	echo_options_init(o);
	err[0] = '\0';
	return echo_options_parse(o, argc, argv, err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct echo_options a, b;
	char *args[FUZZ_MAX_ARGS + 1], *buf, err_a[256], err_b[256];
	int argc = fuzz_argv(&in, "wsbench-echo", args, &buf);
	int ra = parse(args, argc, &a, err_a, sizeof(err_a));
	int rb = parse(args, argc, &b, err_b, sizeof(err_b));

	fuzz_check(ra == rb && strcmp(err_a, err_b) == 0);
	if (ra == -EINVAL) {
		fuzz_check(err_a[0] != '\0');
	} else {
		fuzz_check(ra == ECHO_OPTIONS_RUN || ra == ECHO_OPTIONS_HELP ||
		           ra == ECHO_OPTIONS_VERSION);
		fuzz_check(a.host && a.host[0]);
		fuzz_check(a.threads >= 1 && a.threads <= ECHO_MAX_THREADS);
		fuzz_check(a.max_message_size >= 1 && a.max_message_size <= 1024ull * 1024 * 1024);
		fuzz_check(a.max_connections <= 10000000);
		fuzz_check(a.handshake_timeout >= 1 && a.handshake_timeout <= 3600);
		fuzz_check(a.port == b.port && a.threads == b.threads &&
		           a.max_message_size == b.max_message_size &&
		           a.max_connections == b.max_connections &&
		           a.handshake_timeout == b.handshake_timeout && a.verbose == b.verbose &&
		           strcmp(a.host, b.host) == 0);
	}
	free(buf);
	return 0;
}
