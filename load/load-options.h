/* SPDX-License-Identifier: MIT */
/*
 * wsbench-load's command line, parsed into a plain struct and validated as a
 * whole (cross-option rules included) so the parser can be unit-tested.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load-protocol.h" /* the ranges wsbenchd checks too */
#include "message.h"
#include "schedule.h"
#include "ws-deflate.h"

#define LOAD_MAX_THREADS 64
#define LOAD_MAX_SOURCES 64

enum load_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_JSONL };

struct load_options {
	const char *url;
	char host[64]; /* numeric address parsed from the URL (a name is resolved once) */
	uint16_t port;
	char path[256];
	char server_name[256]; /* the URL's host as written: SNI, certificate check */

	bool tls;            /* wss:// */
	const char *ca_file; /* --ca: verify the server against these; NULL: the system's */
	bool insecure;       /* --insecure: no verification */

	bool deflate; /* --deflate: offer permessage-deflate (RFC 7692) */
	struct ws_deflate_offer deflate_offer;
	enum message_payload payload;

	unsigned clients;
	unsigned threads; /* 0: number of CPUs */
	double ramp_up;   /* seconds over which connections are opened */
	struct schedule schedule;
	double warmup; /* seconds of sending excluded from statistics */
	double drain_timeout;
	double tick; /* send times are rounded up to multiples of this (s); 0: exact */
	size_t size;
	enum message_type type;
	double connect_timeout;
	unsigned retries;
	const char *sources[LOAD_MAX_SOURCES]; /* local addresses to bind, round-robin */
	unsigned n_sources;
	char *sources_buf;

	enum load_format format;
	bool progress_tty;    /* live line on stderr (when it is a TTY) */
	double lag_threshold; /* seconds of send lag beyond which the client is the limit */

	bool find_max_rate;
	double p99_max;         /* seconds */
	double search_duration; /* seconds per trial */
	double max_total_rate;  /* upper bound of the search */
};

enum load_options_result { LOAD_OPTIONS_RUN = 0, LOAD_OPTIONS_HELP = 1, LOAD_OPTIONS_VERSION = 2 };

void load_options_init(struct load_options *o);
void load_options_free(struct load_options *o);

/**
 * load_options_parse() - parse and validate argv.
 * @err: receives one line naming the option and the problem.
 * Return: an enum load_options_result, or -EINVAL.
 */
int load_options_parse(struct load_options *o, int argc, char **argv, char *err, size_t errlen);

extern const char load_usage[];
