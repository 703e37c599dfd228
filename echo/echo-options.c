/* SPDX-License-Identifier: MIT */
/*
 * wsbench-echo's option parser: every value is range-checked, and an error
 * names the option and the value so a supervisor's log says what was wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "echo-options.h"
#include "parse.h"

const char echo_usage[] =
    "usage: wsbench-echo [OPTIONS]\n"
    "\n"
    "WebSocket echo server (libwebsockets) used as wsbench's built-in target.\n"
    "\n"
    "  --host ADDR                 address to listen on (default 127.0.0.1)\n"
    "  --port N                    TCP port, 0 for any free port (default 9001)\n"
    "  --threads N                 event-loop threads sharing the port (default 1)\n"
    "  --max-message-size BYTES    largest message accepted, suffix K/M/G (default 16M)\n"
    "  --max-connections N         refuse connections beyond N (default: no limit)\n"
    "  --handshake-timeout SECS    time allowed for the upgrade (default 10)\n"
    "  --rx-buffer BYTES           receive buffer per connection, suffix K (default 512):\n"
    "                              larger costs memory per connection, saves reads on\n"
    "                              large messages (4K: one read per 4 KiB message)\n"
    "  --tls-cert FILE             serve wss:// with this certificate chain (PEM)\n"
    "  --tls-key FILE              and this private key (PEM); both or neither\n"
    "  --deflate                   accept permessage-deflate (RFC 7692); off by default\n"
    "  --stats                     on SIGTERM/SIGINT, print one JSON line of counts:\n"
    "                              connections, received, echoed, closed\n"
    "  -v, --verbose               log connection events and libwebsockets notices\n"
    "  -h, --help                  show this help\n"
    "  --version                   show the version\n"
    "\n"
    "Prints \"READY ws://HOST:PORT/\" (wss:// with --tls-cert) on stdout once it accepts\n"
    "connections.\n"
    "Exit status: 0 after SIGTERM/SIGINT, 1 on a runtime failure, 2 on bad options.\n";

enum {
	OPT_HOST = 0x100,
	OPT_PORT,
	OPT_THREADS,
	OPT_MAX_MESSAGE,
	OPT_MAX_CONNECTIONS,
	OPT_HANDSHAKE_TIMEOUT,
	OPT_VERSION,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_DEFLATE,
	OPT_STATS,
	OPT_RX_BUFFER,
};

static const struct option long_options[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "max-message-size", required_argument, NULL, OPT_MAX_MESSAGE },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "deflate", no_argument, NULL, OPT_DEFLATE },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "rx-buffer", required_argument, NULL, OPT_RX_BUFFER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{}
};

void echo_options_init(struct echo_options *o)
{
	*o = (struct echo_options){
		.host = ECHO_DEFAULT_HOST,
		.port = ECHO_DEFAULT_PORT,
		.threads = 1,
		.max_message_size = ECHO_DEFAULT_MAX_MESSAGE,
		.rx_buffer = ECHO_DEFAULT_RX_BUFFER,
		.max_connections = 0,
		.handshake_timeout = ECHO_DEFAULT_HANDSHAKE_TIMEOUT,
	};
}

static int range_error(char *err, size_t errlen, const char *name, const char *value, int r,
                       const char *range)
{
	if (r == -ERANGE)
		snprintf(err, errlen, "--%s: must be %s, got '%s'", name, range, value);
	else
		snprintf(err, errlen, "--%s: not a number: '%s'", name, value);
	return -EINVAL;
}

int echo_options_parse(struct echo_options *o, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t v;
	int c, r;

	optind = 0; /* reset getopt so the parser can run more than once (tests) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", long_options, NULL)) >= 0) {
		switch (c) {
		case OPT_HOST:
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "--host: empty address");
				return -EINVAL;
			}
			o->host = optarg;
			break;
		case OPT_PORT:
			r = parse_u64(optarg, 0, 65535, &v);
			if (r < 0)
				return range_error(err, errlen, "port", optarg, r, "0..65535");
			o->port = (uint16_t)v;
			break;
		case OPT_THREADS:
			r = parse_u64(optarg, 1, ECHO_MAX_THREADS, &v);
			if (r < 0)
				return range_error(err, errlen, "threads", optarg, r, "1..64");
			o->threads = (unsigned)v;
			break;
		case OPT_MAX_MESSAGE:
			r = parse_size(optarg, 1, 1024ull * 1024 * 1024, &v);
			if (r < 0)
				return range_error(err, errlen, "max-message-size", optarg, r,
				                   "1..1G bytes");
			o->max_message_size = (size_t)v;
			break;
		case OPT_RX_BUFFER:
			r = parse_size(optarg, 128, 1024 * 1024, &v);
			if (r < 0)
				return range_error(err, errlen, "rx-buffer", optarg, r,
				                   "128..1M bytes");
			o->rx_buffer = (size_t)v;
			break;
		case OPT_MAX_CONNECTIONS:
			r = parse_u64(optarg, 1, 10000000, &v);
			if (r < 0)
				return range_error(err, errlen, "max-connections", optarg, r,
				                   "1..10000000");
			o->max_connections = (unsigned)v;
			break;
		case OPT_HANDSHAKE_TIMEOUT:
			r = parse_u64(optarg, 1, 3600, &v);
			if (r < 0)
				return range_error(err, errlen, "handshake-timeout", optarg, r,
				                   "1..3600 seconds");
			o->handshake_timeout = (unsigned)v;
			break;
		case OPT_TLS_CERT:
			o->tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			o->tls_key = optarg;
			break;
		case OPT_DEFLATE:
			o->deflate = true;
			break;
		case OPT_STATS:
			o->stats = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			return ECHO_OPTIONS_HELP;
		case OPT_VERSION:
			return ECHO_OPTIONS_VERSION;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->tls_cert != !o->tls_key) {
		snprintf(err, errlen, "--tls-cert and --tls-key go together");
		return -EINVAL;
	}
	return ECHO_OPTIONS_RUN;
}
