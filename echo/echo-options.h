/* SPDX-License-Identifier: MIT */
/*
 * Command-line options of wsbench-echo, parsed into a plain struct so the
 * parser can be unit-tested without starting a server.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ECHO_DEFAULT_PORT              9001
#define ECHO_DEFAULT_HOST              "127.0.0.1"
#define ECHO_DEFAULT_MAX_MESSAGE       (16u * 1024 * 1024)
#define ECHO_DEFAULT_HANDSHAKE_TIMEOUT 10
#define ECHO_MAX_THREADS               64
#define ECHO_DEFAULT_RX_BUFFER         512

struct echo_options {
	const char *host;
	uint16_t port;              /* 0: any free port, reported on the READY line */
	unsigned threads;           /* one lws context per thread */
	size_t max_message_size;    /* reassembled message limit; above it: close 1009 */
	size_t rx_buffer;           /* lws's per-connection receive buffer, bytes */
	unsigned max_connections;   /* 0: unlimited (bounded by RLIMIT_NOFILE) */
	unsigned handshake_timeout; /* seconds for the HTTP upgrade to complete */
	const char *tls_cert;       /* --tls-cert: serve wss:// with this certificate (PEM) */
	const char *tls_key;        /* --tls-key: and this private key */
	bool deflate;               /* --deflate: accept permessage-deflate (RFC 7692) */
	bool stats;                 /* --stats: print the counts as JSON when stopped */
	int verbose;
};

enum echo_options_result {
	ECHO_OPTIONS_RUN = 0,
	ECHO_OPTIONS_HELP = 1,
	ECHO_OPTIONS_VERSION = 2,
};

void echo_options_init(struct echo_options *o);

/**
 * echo_options_parse() - parse argv into @o.
 * @err: receives a one-line description of the first bad option.
 * Return: an enum echo_options_result, or -EINVAL with @err filled.
 */
int echo_options_parse(struct echo_options *o, int argc, char **argv, char *err, size_t errlen);

extern const char echo_usage[];
