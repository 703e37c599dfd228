/* SPDX-License-Identifier: MIT */
/*
 * wsbenchctl: the D-Bus client of wsbenchd. This file holds the command line:
 * the options, the verb table and the dispatch, which checks the number of
 * arguments and that every option given applies to the verb before anything
 * is sent. The verbs are in verbs.c, the calls in bus-client.c, the output
 * in print.c. Conventions follow systemctl: --system (default), --user,
 * -H user@host.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-client.h"
#include "macro.h"
#include "print.h"
#include "verbs.h"
#include "wsbench-config.h"

/* The usage text; docs/wsbenchctl.1 says the same. */
static const char usage[] =
    "usage: wsbenchctl [OPTIONS] VERB [ARGS]\n"
    "\n"
    "Verbs:\n"
    "  list-servers                       servers declared in the configuration\n"
    "  list-scenarios                     scenarios declared in the configuration\n"
    "  start SCENARIO [--server S] [--set KEY=VALUE]... [--agents A,B] [--wait]\n"
    "                                     queue a run; print its id\n"
    "  status [RUN]                       the daemon, or one run\n"
    "  wait RUN                           follow a run until it ends\n"
    "  cancel RUN                         cancel a queued or active run\n"
    "  runs                               runs and stored reports\n"
    "  report RUN [--html FILE] [--hdr-log FILE]\n"
    "                                     the run's report (summary, or --json), or\n"
    "                                     written as a web page or HdrHistogram log\n"
    "  compare SCENARIO [--servers A,B,...] [--repeat N] [--retry-noisy] [--no-warmup]\n"
    "          [--set KEY=VALUE]... [--agents A,B] [--markdown] [--html FILE]\n"
    "                                     run SCENARIO on each server (default: all) N\n"
    "                                     times, interleaved; print the comparison\n"
    "  compare RUN|COMPARE... [--markdown] [--html FILE]\n"
    "                                     the same from existing runs or a compare\n"
    "  reload                             reload the configuration\n"
    "\n"
    "Options:\n"
    "      --system              talk to the system bus (default)\n"
    "      --user                talk to the user bus\n"
    "  -H, --host [USER@]HOST    talk to the system bus of HOST over ssh\n"
    "      --bus-address ADDR    talk to the bus at ADDR\n"
    "      --json                machine-readable output\n"
    "  -h, --help, --version\n"
    "\n"
    "Exit status: 0 success, 1 failure (the daemon's error is printed), 2 bad usage,\n"
    "3 the run waited for failed or was cancelled.\n";

/* Options that belong to verbs; the others apply to every verb. */
enum {
	OPT_SERVER = 1 << 0,
	OPT_SET = 1 << 1,
	OPT_WAIT = 1 << 2,
	OPT_HTML = 1 << 3,
	OPT_HDR_LOG = 1 << 4,
	OPT_SERVERS = 1 << 5,
	OPT_REPEAT = 1 << 6,
	OPT_RETRY_NOISY = 1 << 7,
	OPT_WARMUP = 1 << 8,
	OPT_MARKDOWN = 1 << 9,
	OPT_AGENTS = 1 << 10,
};

/* The options only starting a compare takes. */
#define OPT_COMPARE_START                                                                          \
	(OPT_SERVERS | OPT_REPEAT | OPT_RETRY_NOISY | OPT_WARMUP | OPT_SET | OPT_AGENTS)

static const struct verb {
	const char *name;
	const char *args; /* what it takes, for messages: "needs ...", "takes ..." */
	int min_args, max_args;
	unsigned options; /* the OPT_* it takes */
	int (*fn)(struct ctl *ctl, int argc, char **argv);
} verbs[] = {
	{ "list-servers", "", 0, 0, 0, verb_list_servers },
	{ "list-scenarios", "", 0, 0, 0, verb_list_scenarios },
	{ "start", "one SCENARIO", 1, 1, OPT_SERVER | OPT_SET | OPT_WAIT | OPT_AGENTS, verb_start },
	{ "status", "at most one RUN id", 0, 1, 0, verb_status },
	{ "wait", "one RUN id", 1, 1, 0, verb_wait },
	{ "cancel", "one RUN or COMPARE id", 1, 1, 0, verb_cancel },
	{ "runs", "", 0, 0, 0, verb_runs },
	{ "report", "one RUN id", 1, 1, OPT_HTML | OPT_HDR_LOG, verb_report },
	{ "reload", "", 0, 0, 0, verb_reload },
	{ "compare", "a SCENARIO, or RUN ids", 1, 1000, OPT_COMPARE_START | OPT_MARKDOWN | OPT_HTML,
	  verb_compare },
};

struct args {
	enum bus_kind bus;
	const char *bus_where; /* -H's host, --bus-address's address */
	bool json;
	unsigned options;            /* the verb options given */
	const char *option_name[11]; /* how each was spelled, by bit */
	struct ctl ctl;
	char *agents_arg; /* "agents=..." for --agents, pointed to by a set */
};

static void args_done(struct args *a)
{
	free(a->agents_arg);
	free(a->ctl.sets);
}

static void verb_option(struct args *a, unsigned bit, const char *spelled)
{
	a->options |= bit;
	a->option_name[__builtin_ctz(bit)] = spelled;
}

static int add_set(struct args *a, const char *arg)
{
	struct client_set *grown;

	grown = realloc(a->ctl.sets, (a->ctl.n_sets + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	a->ctl.sets = grown;
	if (client_parse_set(arg, &a->ctl.sets[a->ctl.n_sets]) < 0) {
		print_error("--set: expected KEY=VALUE, got '%s'", arg);
		return -EINVAL;
	}
	a->ctl.n_sets++;
	return 0;
}

/* --repeat N: 1..100 trials per server (the daemon checks it again). */
static int parse_repeat(const char *arg, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < 1 || v > 100) {
		print_error("--repeat: expected a number of trials from 1 to 100, got '%s'", arg);
		return -EINVAL;
	}
	*ret = (unsigned)v;
	return 0;
}

/* Return: 0, 1 when --help or --version answered, or -EINVAL. */
static int parse_args(int argc, char **argv, struct args *a)
{
	enum {
		ARG_SYSTEM = 0x100,
		ARG_USER,
		ARG_ADDRESS,
		ARG_JSON,
		ARG_WAIT,
		ARG_SERVER,
		ARG_SET,
		ARG_HTML,
		ARG_HDR_LOG,
		ARG_SERVERS,
		ARG_REPEAT,
		ARG_RETRY_NOISY,
		ARG_NO_WARMUP,
		ARG_MARKDOWN,
		ARG_AGENTS,
		ARG_VERSION
	};
	static const struct option longopts[] = {
		{ "system", no_argument, NULL, ARG_SYSTEM },
		{ "user", no_argument, NULL, ARG_USER },
		{ "host", required_argument, NULL, 'H' },
		{ "bus-address", required_argument, NULL, ARG_ADDRESS },
		{ "json", no_argument, NULL, ARG_JSON },
		{ "wait", no_argument, NULL, ARG_WAIT },
		{ "server", required_argument, NULL, ARG_SERVER },
		{ "set", required_argument, NULL, ARG_SET },
		{ "html", required_argument, NULL, ARG_HTML },
		{ "hdr-log", required_argument, NULL, ARG_HDR_LOG },
		{ "servers", required_argument, NULL, ARG_SERVERS },
		{ "repeat", required_argument, NULL, ARG_REPEAT },
		{ "retry-noisy", no_argument, NULL, ARG_RETRY_NOISY },
		{ "no-warmup", no_argument, NULL, ARG_NO_WARMUP },
		{ "markdown", no_argument, NULL, ARG_MARKDOWN },
		{ "agents", required_argument, NULL, ARG_AGENTS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{},
	};
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hH:", longopts, NULL)) >= 0) {
		switch (c) {
		case ARG_SYSTEM:
			a->bus = BUS_SYSTEM;
			break;
		case ARG_USER:
			a->bus = BUS_USER;
			break;
		case 'H':
			a->bus = BUS_REMOTE;
			a->bus_where = optarg;
			break;
		case ARG_ADDRESS:
			a->bus = BUS_ADDRESS;
			a->bus_where = optarg;
			break;
		case ARG_JSON:
			a->json = true;
			break;
		case ARG_WAIT:
			verb_option(a, OPT_WAIT, "--wait");
			a->ctl.wait = true;
			break;
		case ARG_SERVER:
			verb_option(a, OPT_SERVER, "--server");
			a->ctl.server = optarg;
			break;
		case ARG_SET:
			verb_option(a, OPT_SET, "--set");
			r = add_set(a, optarg);
			if (r < 0)
				return r == -EINVAL ? r : -ENOMEM;
			break;
		case ARG_HTML:
			verb_option(a, OPT_HTML, "--html");
			a->ctl.html = optarg;
			break;
		case ARG_HDR_LOG:
			verb_option(a, OPT_HDR_LOG, "--hdr-log");
			a->ctl.hdr_log = optarg;
			break;
		case ARG_SERVERS:
			verb_option(a, OPT_SERVERS, "--servers");
			a->ctl.servers = optarg;
			break;
		case ARG_REPEAT:
			verb_option(a, OPT_REPEAT, "--repeat");
			r = parse_repeat(optarg, &a->ctl.compare.repeat);
			if (r < 0)
				return r;
			break;
		case ARG_RETRY_NOISY:
			verb_option(a, OPT_RETRY_NOISY, "--retry-noisy");
			a->ctl.compare.retry_noisy = 1;
			break;
		case ARG_NO_WARMUP:
			verb_option(a, OPT_WARMUP, "--no-warmup");
			a->ctl.compare.warmup = 0;
			break;
		case ARG_AGENTS: {
			/* The "agents" override: "lab2,lab3*2", or "local". */
			char set[4096];

			verb_option(a, OPT_AGENTS, "--agents");
			if (snprintf(set, sizeof(set), "agents=%s", optarg) >= (int)sizeof(set)) {
				print_error("--agents: too long");
				return -EINVAL;
			}
			a->agents_arg = strdup(set);
			if (!a->agents_arg)
				return -ENOMEM;
			r = add_set(a, a->agents_arg);
			if (r < 0)
				return r == -EINVAL ? r : -ENOMEM;
			break;
		}
		case ARG_MARKDOWN:
			verb_option(a, OPT_MARKDOWN, "--markdown");
			a->ctl.markdown = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ARG_VERSION:
			printf("wsbenchctl %s\n", WSBENCH_VERSION);
			return 1;
		case ':':
			print_error("option '%s' needs a value", argv[optind - 1]);
			fputs(usage, stderr);
			return -EINVAL;
		default:
			print_error("unknown option '%s'", argv[optind - 1]);
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* The verb's arguments (@argc counts the verb) and the options given.
 * Return: 0, or -EINVAL with the problem printed. */
static int check_verb(const struct verb *v, const struct args *a, int argc, char **argv)
{
	unsigned extra = a->options & ~v->options;

	if (argc - 1 < v->min_args) {
		print_error("%s needs %s", v->name, v->args);
		return -EINVAL;
	}
	if (argc - 1 > v->max_args) {
		if (v->max_args == 0)
			print_error("%s takes no arguments, got '%s'", v->name, argv[1]);
		else
			print_error("%s takes %s, got '%s' too", v->name, v->args,
			            argv[v->max_args + 1]);
		return -EINVAL;
	}
	if (extra) {
		print_error("%s does not apply to %s", a->option_name[__builtin_ctz(extra)],
		            v->name);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_(args_done) struct args a = {
		.ctl.server = "",
		.ctl.compare = { .repeat = 5, .warmup = -1, .retry_noisy = -1 },
	};
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	const struct verb *v;
	int r;

	r = parse_args(argc, argv, &a);
	if (r != 0)
		return r > 0 ? CTL_EXIT_OK : r == -EINVAL ? CTL_EXIT_USAGE : CTL_EXIT_ERROR;
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		print_error("a verb is needed");
		fputs(usage, stderr);
		return CTL_EXIT_USAGE;
	}
	v = find_verb(argv[0]);
	if (!v) {
		print_error("unknown verb '%s'", argv[0]);
		fputs(usage, stderr);
		return CTL_EXIT_USAGE;
	}
	if (check_verb(v, &a, argc, argv) < 0)
		return CTL_EXIT_USAGE;
	print_init(a.json);
	r = client_connect(a.bus, a.bus_where, &bus);
	if (r < 0) {
		print_error("cannot connect to the bus: %s", strerror(-r));
		return CTL_EXIT_ERROR;
	}
	a.ctl.bus = bus;
	a.ctl.started_options = a.options & OPT_COMPARE_START;
	return v->fn(&a.ctl, argc, argv);
}
