/* SPDX-License-Identifier: MIT */
/*
 * wsbenchd: the control plane. One sd-event loop serves D-Bus, signals
 * (TERM/INT: cancel the active run, write its report, exit; HUP: reload),
 * child processes and timers. Echo servers and load generators are child
 * processes; no per-message work happens here.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bus-open.h"
#include "bus.h"
#include "config.h"
#include "log.h"
#include "manager.h"
#include "wsbench-config.h"
#include "wsbench-dbus.h"

enum bus_kind { BUS_SYSTEM, BUS_USER, BUS_ADDRESS };

struct options {
	const char *config;
	bool check_config, dump_config;
	enum bus_kind bus;
	const char *bus_address;
};

static const char usage[] =
    "usage: wsbenchd [OPTIONS]\n"
    "       wsbenchd --check-config [--dump-config] [FILE]\n"
    "\n"
    "WebSocket benchmark daemon: hosts echo servers and runs scenarios over D-Bus.\n"
    "\n"
    "  -c, --config FILE       configuration (default " WSBENCH_DEFAULT_CONFIG ")\n"
    "      --check-config [FILE]\n"
    "                          validate the configuration (FILE, or the one --config\n"
    "                          names) and exit (0 valid, 1 not)\n"
    "      --dump-config       with --check-config: print it in normal form\n"
    "      --system            serve on the system bus (default)\n"
    "      --user              serve on the user's session bus\n"
    "      --bus-address ADDR  serve on the bus at ADDR (tests, demos)\n"
    "  -h, --help, --version\n"
    "\n"
    "Environment: WSBENCH_ECHO, WSBENCH_LOAD and WSBENCH_SERVERS_DIR override where\n"
    "wsbench-echo, wsbench-load and the reference servers are found.\n";

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "dump-config", no_argument, NULL, 'D' },
		{ "system", no_argument, NULL, 'S' },
		{ "user", no_argument, NULL, 'U' },
		{ "bus-address", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'C':
			o->check_config = true;
			break;
		case 'D':
			o->dump_config = true;
			break;
		case 'S':
			o->bus = BUS_SYSTEM;
			break;
		case 'U':
			o->bus = BUS_USER;
			break;
		case 'A':
			o->bus = BUS_ADDRESS;
			o->bus_address = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'V':
			printf("wsbenchd %s\n", WSBENCH_VERSION);
			exit(0);
		case ':':
			fprintf(stderr, "wsbenchd: option '%s' needs a value\n%s", argv[optind - 1],
			        usage);
			return -EINVAL;
		default:
			fprintf(stderr, "wsbenchd: unknown option '%s'\n%s", argv[optind - 1],
			        usage);
			return -EINVAL;
		}
	}
	/* `wsbenchd --check-config /etc/wsbench.conf`, as `nginx -t -c`
	 * users and packaging scripts expect it: one file operand. */
	if (o->check_config && optind == argc - 1)
		o->config = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "wsbenchd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int check_config(const struct options *o)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c;
	char *dump;
	int r = config_load(o->config, &c, &errors);

	for (size_t i = 0; i < errors.n_warnings; i++)
		fprintf(stderr, "warning: %s\n", errors.warnings[i]);
	if (r < 0) {
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "%s\n", errors.lines[i]);
		fprintf(stderr, "wsbenchd: %s: %zu error%s, configuration not valid\n", o->config,
		        errors.n, errors.n == 1 ? "" : "s");
		config_errors_clear(&errors);
		return 1;
	}
	if (o->dump_config) {
		dump = config_dump(c);
		fputs(dump ? dump : "", stdout);
		free(dump);
	} else {
		printf("%s: configuration OK (%zu servers, %zu scenarios)\n", o->config,
		       c->n_servers, c->n_scenarios);
	}
	config_unref(c);
	config_errors_clear(&errors);
	return 0;
}

static char *tool_path(const char *env, const char *fallback)
{
	const char *v = getenv(env);

	return strdup(v && *v ? v : fallback);
}

static int open_bus(const struct options *o, sd_bus **ret)
{
	switch (o->bus) {
	case BUS_USER:
		return sd_bus_open_user(ret);
	case BUS_ADDRESS:
		return bus_open_address(o->bus_address, ret);
	default:
		return sd_bus_open_system(ret);
	}
}

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;

	log_info("received %s: stopping", strsignal((int)si->ssi_signo));
	manager_stop(m);
	return 0;
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;
	char *why = NULL;

	log_info("received SIGHUP: reloading %s", m->config_path);
	manager_reload(m, &why);
	free(why);
	return 0;
}

/* WATCHDOG=1 from the event loop itself: it proves the loop still turns. */
static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	sd_notify(0, "WATCHDOG=1");
	sd_event_source_set_time(s, usec + m->watchdog_usec / 2);
	return 0;
}

static int run_daemon(const struct options *o)
{
	struct manager *m = NULL;
	sd_event *event = NULL;
	char *why = NULL;
	sigset_t mask;
	uint64_t now;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = sd_event_default(&event);
	if (r < 0)
		return log_error_errno(r, "Failed to create the event loop");
	r = manager_new(event, o->config, &m);
	if (r < 0)
		goto out;
	m->tools.echo = tool_path("WSBENCH_ECHO", WSBENCH_BINDIR "/wsbench-echo");
	m->tools.load = tool_path("WSBENCH_LOAD", WSBENCH_BINDIR "/wsbench-load");
	m->tools.servers_dir = tool_path("WSBENCH_SERVERS_DIR", WSBENCH_SERVERS_DIR);
	r = manager_reload(m, &why);
	if (r < 0) {
		log_error("cannot start without a valid configuration");
		free(why);
		goto out;
	}
	r = open_bus(o, &m->bus);
	if (r < 0) {
		log_error_errno(r, "Failed to connect to the bus");
		goto out;
	}
	r = sd_bus_attach_event(m->bus, event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		goto out;
	r = bus_setup(m);
	if (r < 0)
		goto out;
	sd_event_add_signal(event, NULL, SIGTERM, on_term, m);
	sd_event_add_signal(event, NULL, SIGINT, on_term, m);
	sd_event_add_signal(event, NULL, SIGHUP, on_hup, m);
	if (sd_watchdog_enabled(false, &m->watchdog_usec) > 0) {
		sd_event_now(event, CLOCK_MONOTONIC, &now);
		sd_event_add_time(event, &m->watchdog_timer, CLOCK_MONOTONIC,
		                  now + m->watchdog_usec / 2, 0, on_watchdog, m);
		sd_event_source_set_enabled(m->watchdog_timer, SD_EVENT_ON);
	}
	/* The bus name is ours: clients can talk to us now. */
	sd_notify(0, "READY=1");
	manager_notify_status(m);
	log_info("ready on the %s bus as %s",
	         o->bus == BUS_USER      ? "user"
	         : o->bus == BUS_ADDRESS ? "given"
	                                 : "system",
	         WSBENCH_BUS_NAME);
	r = sd_event_loop(event);
out:
	manager_free(m);
	sd_event_unref(event);
	return r;
}

int main(int argc, char **argv)
{
	struct options o = { .config = WSBENCH_DEFAULT_CONFIG, .bus = BUS_SYSTEM };

	log_set_program("wsbenchd");
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (o.check_config || o.dump_config)
		return check_config(&o);
	return run_daemon(&o) < 0 ? 1 : 0;
}
