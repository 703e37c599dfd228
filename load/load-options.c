/* SPDX-License-Identifier: MIT */
/*
 * wsbench-load option parsing and validation. Every error names the flag and
 * the value; cross-option rules (message size against the header the run
 * will need, ramp pattern needs an end rate, ...) are checked after parsing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load-options.h"
#include "parse.h"

const char load_usage[] =
    "usage: wsbench-load --url ws[s]://HOST:PORT/PATH [OPTIONS]\n"
    "\n"
    "Open-loop WebSocket echo load with verified echoes and latency corrected for\n"
    "coordinated omission.\n"
    "\n"
    "Load:\n"
    "  --clients N              connections (default 1)\n"
    "  --threads N              event-loop threads (default: number of CPUs)\n"
    "  --ramp-up SECS           open connections evenly over SECS (default 0: at once)\n"
    "  --pattern fixed|burst|ramp  send pattern (default fixed)\n"
    "  --rate R                 messages/s per client (fixed; ramp start) (default 10)\n"
    "  --rate-end R             ramp: messages/s per client at the end\n"
    "  --burst K                burst: messages back to back each interval (default 10)\n"
    "  --interval SECS          burst: seconds between bursts (default 1)\n"
    "  --duration SECS          measured sending time (default 10)\n"
    "  --warmup SECS            sending before measurement starts (default 0)\n"
    "  --drain-timeout SECS     wait for echoes after sending (default 5)\n"
    "  --tick SECS              round send times up to multiples of SECS, so the client\n"
    "                           wakes once per tick, not per message (default 1ms; 0: exact)\n"
    "  --size BYTES             message size, suffix K/M (default 64)\n"
    "  --type text|binary       message type (default text)\n"
    "  --payload random|text|zeros  message filler: random bytes, pseudo-English text\n"
    "                           from a fixed corpus, or zeros (default random)\n"
    "  --connect-timeout SECS   per attempt (default 5)\n"
    "  --retries N              extra connect attempts per client (default 2)\n"
    "  --source-addresses LIST  local addresses to spread connections over\n"
    "                           (comma-separated, or 'auto' for 127.0.0.1-127.0.0.N)\n"
    "TLS (wss:// URLs):\n"
    "  --ca FILE                verify the server's certificate against FILE (PEM)\n"
    "                           (default: the system's trusted certificates)\n"
    "  --insecure               do not verify the certificate (said so in the report)\n"
    "Compression:\n"
    "  --deflate                offer permessage-deflate (RFC 7692)\n"
    "  --deflate-window BITS    ask for windows of at most 2^BITS bytes, both ways (9..15)\n"
    "  --deflate-client-no-context-takeover  reset our compressor after each message\n"
    "  --deflate-server-no-context-takeover  ask the server to reset its own\n"
    "  --deflate-level N        our zlib compression level, 1..9 (default 1: cheap;\n"
    "                           zlib's usual 6 costs the client more, not the server)\n"
    "Capacity search:\n"
    "  --find-max-rate          search the highest total rate with p99 <= --p99-max\n"
    "  --p99-max SECS           latency bound, e.g. 10ms (default 10ms)\n"
    "  --search-duration SECS   measured time per trial (default 5)\n"
    "  --max-rate R             highest total rate to try (default 1000000)\n"
    "Output:\n"
    "  --json                   print the result as JSON\n"
    "  --format text|json|jsonl jsonl: a progress line each second, then the result\n"
    "  --no-progress            no live line on a terminal\n"
    "  --lag-threshold SECS     send lag that marks the client as the limit (default 1ms)\n"
    "  -h, --help, --version\n";

enum {
	OPT_URL = 0x100,
	OPT_CLIENTS,
	OPT_THREADS,
	OPT_RAMP_UP,
	OPT_PATTERN,
	OPT_RATE,
	OPT_RATE_END,
	OPT_BURST,
	OPT_INTERVAL,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_DRAIN,
	OPT_TICK,
	OPT_SIZE,
	OPT_TYPE,
	OPT_CONNECT_TIMEOUT,
	OPT_RETRIES,
	OPT_SOURCES,
	OPT_FIND_MAX,
	OPT_P99_MAX,
	OPT_SEARCH_DURATION,
	OPT_MAX_RATE,
	OPT_JSON,
	OPT_FORMAT,
	OPT_NO_PROGRESS,
	OPT_LAG,
	OPT_VERSION,
	OPT_PAYLOAD,
	OPT_CA,
	OPT_INSECURE,
	OPT_DEFLATE,
	OPT_DEFLATE_WINDOW,
	OPT_DEFLATE_CNCT,
	OPT_DEFLATE_SNCT,
	OPT_DEFLATE_LEVEL,
};

static const struct option long_options[] = {
	{ "url", required_argument, NULL, OPT_URL },
	{ "clients", required_argument, NULL, OPT_CLIENTS },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "ramp-up", required_argument, NULL, OPT_RAMP_UP },
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "rate-end", required_argument, NULL, OPT_RATE_END },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN },
	{ "tick", required_argument, NULL, OPT_TICK },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "source-addresses", required_argument, NULL, OPT_SOURCES },
	{ "find-max-rate", no_argument, NULL, OPT_FIND_MAX },
	{ "p99-max", required_argument, NULL, OPT_P99_MAX },
	{ "search-duration", required_argument, NULL, OPT_SEARCH_DURATION },
	{ "max-rate", required_argument, NULL, OPT_MAX_RATE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "lag-threshold", required_argument, NULL, OPT_LAG },
	{ "payload", required_argument, NULL, OPT_PAYLOAD },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "deflate", no_argument, NULL, OPT_DEFLATE },
	{ "deflate-window", required_argument, NULL, OPT_DEFLATE_WINDOW },
	{ "deflate-client-no-context-takeover", no_argument, NULL, OPT_DEFLATE_CNCT },
	{ "deflate-server-no-context-takeover", no_argument, NULL, OPT_DEFLATE_SNCT },
	{ "deflate-level", required_argument, NULL, OPT_DEFLATE_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{}
};

void load_options_init(struct load_options *o)
{
	*o = (struct load_options){
		.clients = 1,
		.schedule = { .pattern = PATTERN_FIXED,
		              .rate = 10,
		              .rate_end = -1,
		              .burst = 10,
		              .interval = 1,
		              .duration = 10 },
		.drain_timeout = 5,
		.tick = 0.001,
		.size = 64,
		.type = MESSAGE_TEXT,
		.connect_timeout = 5,
		.retries = 2,
		.format = FORMAT_TEXT,
		.progress_tty = true,
		.lag_threshold = 0.001,
		.p99_max = 0.010,
		.search_duration = 5,
		.max_total_rate = 1e6,
	};
}

void load_options_free(struct load_options *o)
{
	free(o->sources_buf);
	o->sources_buf = NULL;
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return -EINVAL;                                                                    \
	} while (0)

/* Replaces the name in @host by its first address, once, before the run:
 * the workers connect to addresses only. */
static int resolve(char *host, size_t size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int r = getaddrinfo(host, NULL, &hints, &res);

	if (r != 0 || !res)
		return -ENOENT;
	r = getnameinfo(res->ai_addr, res->ai_addrlen, host, (socklen_t)size, NULL, 0,
	                NI_NUMERICHOST);
	freeaddrinfo(res);
	return r == 0 ? 0 : -ENOENT;
}

static int parse_url(struct load_options *o, const char *url, char *err, size_t errlen)
{
	const char *p = url, *host_end, *port_start;
	struct in6_addr a6;
	struct in_addr a4;
	uint64_t port = 80;
	size_t n;

	o->tls = strncmp(p, "wss://", 6) == 0;
	if (!o->tls && strncmp(p, "ws://", 5) != 0)
		FAIL("--url: must start with ws:// or wss://, got '%s'", url);
	p += o->tls ? 6 : 5;
	port = o->tls ? 443 : 80;
	if (*p == '[') {
		host_end = strchr(p, ']');
		if (!host_end)
			FAIL("--url: unterminated IPv6 address in '%s'", url);
		n = (size_t)(host_end - p - 1);
		if (n >= sizeof(o->host))
			FAIL("--url: host too long in '%s'", url);
		memcpy(o->host, p + 1, n);
		o->host[n] = '\0';
		port_start = host_end + 1;
	} else {
		host_end = p + strcspn(p, ":/");
		n = (size_t)(host_end - p);
		if (n == 0 || n >= sizeof(o->host))
			FAIL("--url: missing or too long host in '%s'", url);
		memcpy(o->host, p, n);
		o->host[n] = '\0';
		port_start = host_end;
	}
	snprintf(o->server_name, sizeof(o->server_name), "%s", o->host);
	if (strcmp(o->host, "localhost") == 0)
		strcpy(o->host, "127.0.0.1"); /* not ::1, whatever the resolver prefers */
	if (inet_pton(AF_INET, o->host, &a4) != 1 && inet_pton(AF_INET6, o->host, &a6) != 1 &&
	    resolve(o->host, sizeof(o->host)) < 0)
		FAIL("--url: cannot resolve the host '%s'", o->host);
	p = port_start;
	if (*p == ':') {
		char digits[8];

		n = strcspn(p + 1, "/");
		if (n == 0 || n >= sizeof(digits))
			FAIL("--url: bad port in '%s'", url);
		memcpy(digits, p + 1, n);
		digits[n] = '\0';
		if (parse_u64(digits, 1, 65535, &port) < 0)
			FAIL("--url: port must be 1..65535 in '%s'", url);
		p += 1 + n;
	}
	if (*p == '\0')
		p = "/";
	if (*p != '/' || strlen(p) >= sizeof(o->path))
		FAIL("--url: bad path in '%s'", url);
	strcpy(o->path, p);
	o->port = (uint16_t)port;
	o->url = url;
	return 0;
}

static int parse_sources(struct load_options *o, const char *arg, char *err, size_t errlen)
{
	char *save = NULL, *tok;

	free(o->sources_buf);
	o->n_sources = 0;
	if (strcmp(arg, "auto") == 0) {
		o->sources_buf = NULL;
		return 0;
	}
	o->sources_buf = strdup(arg);
	if (!o->sources_buf)
		FAIL("out of memory");
	for (tok = strtok_r(o->sources_buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct in_addr a4;
		struct in6_addr a6;

		if (inet_pton(AF_INET, tok, &a4) != 1 && inet_pton(AF_INET6, tok, &a6) != 1)
			FAIL("--source-addresses: not a numeric address: '%s'", tok);
		if (o->n_sources == LOAD_MAX_SOURCES)
			FAIL("--source-addresses: at most %d addresses", LOAD_MAX_SOURCES);
		o->sources[o->n_sources++] = tok;
	}
	if (o->n_sources == 0)
		FAIL("--source-addresses: empty list");
	return 0;
}

static int num(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *ret,
               char *err, size_t errlen)
{
	int r = parse_u64(arg, min, max, ret);

	if (r == -ERANGE)
		FAIL("--%s: must be %llu..%llu, got '%s'", name, (unsigned long long)min,
		     (unsigned long long)max, arg);
	if (r < 0)
		FAIL("--%s: not a whole number: '%s'", name, arg);
	return 0;
}

static int secs(const char *name, const char *arg, double min, double max, double *ret, char *err,
                size_t errlen)
{
	int r = parse_seconds(arg, min, max, ret);

	if (r == -ERANGE)
		FAIL("--%s: must be between %gs and %gs, got '%s'", name, min, max, arg);
	if (r < 0)
		FAIL("--%s: not a duration (e.g. 1.5, 250ms, 2m): '%s'", name, arg);
	return 0;
}

/* The highest total rate --max-rate may search up to (all clients). */
#define MAX_TOTAL_RATE 1e7

static int rate(const char *name, const char *arg, double max, double *ret, char *err,
                size_t errlen)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end != '\0' || !isfinite(v))
		FAIL("--%s: not a number: '%s'", name, arg);
	if (v < 0 || v > max)
		FAIL("--%s: must be 0..%.0f messages/s, got '%s'", name, max, arg);
	*ret = v;
	return 0;
}

static int validate(struct load_options *o, char *err, size_t errlen)
{
	struct schedule *s = &o->schedule;
	size_t min;

	if (!o->url)
		FAIL("--url is required (e.g. --url ws://127.0.0.1:9001/)");
	if (!o->tls && (o->ca_file || o->insecure))
		FAIL("--%s applies only to wss:// URLs", o->ca_file ? "ca" : "insecure");
	if (o->ca_file && o->insecure)
		FAIL("--ca and --insecure exclude each other");
	/* Random symbols hold no repeats for LZ77 to find: the hash inserts
	 * that look for them cost the client ~30% of a 4 KiB echo (perf:
	 * cache misses in deflate_fast()) and change nothing on the wire
	 * (3,126 bytes per 4 KiB message against 3,140). */
	o->deflate_offer.literals_only = o->payload == PAYLOAD_RANDOM;
	if (o->ca_file && access(o->ca_file, R_OK) < 0)
		FAIL("--ca: cannot read '%s': %s", o->ca_file, strerror(errno));
	if (!o->deflate &&
	    (o->deflate_offer.window_bits || o->deflate_offer.client_no_context_takeover ||
	     o->deflate_offer.server_no_context_takeover || o->deflate_offer.level))
		FAIL("--deflate-window, --deflate-level and the no-context-takeover switches need "
		     "--deflate");
	if (s->pattern == PATTERN_RAMP && s->rate_end < 0)
		FAIL("--pattern ramp needs --rate-end");
	if (s->pattern != PATTERN_RAMP && s->rate_end >= 0)
		FAIL("--rate-end applies only to --pattern ramp");
	if (s->pattern == PATTERN_FIXED && s->rate <= 0)
		FAIL("--rate: must be above 0 for --pattern fixed");
	if (s->pattern == PATTERN_RAMP && s->rate <= 0 && s->rate_end <= 0)
		FAIL("--rate/--rate-end: a ramp needs a rate above 0 at one end");
	if (o->find_max_rate && s->pattern != PATTERN_FIXED)
		FAIL("--find-max-rate searches --pattern fixed only");
	s->clients = o->clients;
	/* The run's total sending time covers the warm-up too. */
	s->duration += o->warmup;
	/* The bound wsbenchd checks before it starts a run. */
	min = message_min_size_for_run(o->type, o->clients, schedule_total_rate(s) / o->clients,
	                               s->duration);
	if (o->size < min)
		FAIL("--size: %zu bytes cannot hold a %s message header for this run; the minimum "
		     "is %zu",
		     o->size, message_type_to_string(o->type), min);
	return 0;
}

int load_options_parse(struct load_options *o, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t v;
	int c, r = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) >= 0) {
		switch (c) {
		case OPT_URL:
			r = parse_url(o, optarg, err, errlen);
			break;
		case OPT_CLIENTS:
			r = num("clients", optarg, 1, LOAD_MAX_CLIENTS, &v, err, errlen);
			o->clients = (unsigned)v;
			break;
		case OPT_THREADS:
			r = num("threads", optarg, 1, LOAD_MAX_THREADS, &v, err, errlen);
			o->threads = (unsigned)v;
			break;
		case OPT_RAMP_UP:
			r = secs("ramp-up", optarg, 0, LOAD_MAX_PHASE_SECONDS, &o->ramp_up, err,
			         errlen);
			break;
		case OPT_PATTERN:
			if (pattern_from_string(optarg, &o->schedule.pattern) < 0)
				FAIL("--pattern: must be fixed, burst or ramp, got '%s'", optarg);
			break;
		case OPT_RATE:
			r = rate("rate", optarg, LOAD_MAX_RATE, &o->schedule.rate, err, errlen);
			break;
		case OPT_RATE_END:
			r = rate("rate-end", optarg, LOAD_MAX_RATE, &o->schedule.rate_end, err,
			         errlen);
			break;
		case OPT_BURST:
			r = num("burst", optarg, 1, LOAD_MAX_BURST, &v, err, errlen);
			o->schedule.burst = (unsigned)v;
			break;
		case OPT_INTERVAL:
			r = secs("interval", optarg, LOAD_MIN_INTERVAL, LOAD_MAX_PHASE_SECONDS,
			         &o->schedule.interval, err, errlen);
			break;
		case OPT_DURATION:
			r = secs("duration", optarg, LOAD_MIN_DURATION, LOAD_MAX_DURATION,
			         &o->schedule.duration, err, errlen);
			break;
		case OPT_WARMUP:
			r = secs("warmup", optarg, 0, LOAD_MAX_PHASE_SECONDS, &o->warmup, err,
			         errlen);
			break;
		case OPT_DRAIN:
			r = secs("drain-timeout", optarg, 0, LOAD_MAX_PHASE_SECONDS,
			         &o->drain_timeout, err, errlen);
			break;
		case OPT_TICK:
			r = secs("tick", optarg, 0, 1, &o->tick, err, errlen);
			break;
		case OPT_SIZE:
			if (parse_size(optarg, 1, MESSAGE_MAX_SIZE, &v) < 0)
				FAIL("--size: must be 1..16M bytes (suffix K or M), got '%s'",
				     optarg);
			o->size = (size_t)v;
			break;
		case OPT_TYPE:
			if (message_type_from_string(optarg, &o->type) < 0)
				FAIL("--type: must be text or binary, got '%s'", optarg);
			break;
		case OPT_CONNECT_TIMEOUT:
			r = secs("connect-timeout", optarg, 0.1, 600, &o->connect_timeout, err,
			         errlen);
			break;
		case OPT_RETRIES:
			r = num("retries", optarg, 0, 100, &v, err, errlen);
			o->retries = (unsigned)v;
			break;
		case OPT_SOURCES:
			r = parse_sources(o, optarg, err, errlen);
			break;
		case OPT_FIND_MAX:
			o->find_max_rate = true;
			break;
		case OPT_P99_MAX:
			r = secs("p99-max", optarg, 0.00001, 60, &o->p99_max, err, errlen);
			break;
		case OPT_SEARCH_DURATION:
			r = secs("search-duration", optarg, 1, 600, &o->search_duration, err,
			         errlen);
			break;
		case OPT_MAX_RATE:
			r = rate("max-rate", optarg, MAX_TOTAL_RATE, &o->max_total_rate, err,
			         errlen);
			break;
		case OPT_JSON:
			o->format = FORMAT_JSON;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				o->format = FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = FORMAT_JSON;
			else if (strcmp(optarg, "jsonl") == 0)
				o->format = FORMAT_JSONL;
			else
				FAIL("--format: must be text, json or jsonl, got '%s'", optarg);
			break;
		case OPT_NO_PROGRESS:
			o->progress_tty = false;
			break;
		case OPT_LAG:
			r = secs("lag-threshold", optarg, 0.00001, 60, &o->lag_threshold, err,
			         errlen);
			break;
		case OPT_PAYLOAD:
			if (message_payload_from_string(optarg, &o->payload) < 0)
				FAIL("--payload: must be random, text or zeros, got '%s'", optarg);
			break;
		case OPT_CA:
			o->ca_file = optarg;
			break;
		case OPT_INSECURE:
			o->insecure = true;
			break;
		case OPT_DEFLATE:
			o->deflate = true;
			break;
		case OPT_DEFLATE_WINDOW:
			r = num("deflate-window", optarg, WS_DEFLATE_MIN_BITS, WS_DEFLATE_MAX_BITS,
			        &v, err, errlen);
			o->deflate_offer.window_bits = (unsigned)v;
			break;
		case OPT_DEFLATE_CNCT:
			o->deflate_offer.client_no_context_takeover = true;
			break;
		case OPT_DEFLATE_SNCT:
			o->deflate_offer.server_no_context_takeover = true;
			break;
		case OPT_DEFLATE_LEVEL:
			r = num("deflate-level", optarg, 1, 9, &v, err, errlen);
			o->deflate_offer.level = (int)v;
			break;
		case 'h':
			return LOAD_OPTIONS_HELP;
		case OPT_VERSION:
			return LOAD_OPTIONS_VERSION;
		case ':':
			FAIL("option '%s' needs a value", argv[optind - 1]);
		default:
			FAIL("unknown option '%s'", argv[optind - 1]);
		}
		if (r < 0)
			return r;
	}
	if (optind < argc)
		FAIL("unexpected argument '%s'", argv[optind]);
	return validate(o, err, errlen);
}
