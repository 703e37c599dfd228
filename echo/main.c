/* SPDX-License-Identifier: MIT */
/*
 * wsbench-echo: the built-in WebSocket echo server. main() parses options,
 * opens one SO_REUSEPORT listener per thread, starts the workers, prints the
 * READY line and then only waits for signals; all network work happens on
 * the worker threads.
 */
#include <errno.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "echo-options.h"
#include "echo-worker.h"
#include "listener.h"
#include "load-protocol.h"
#include "fdlimit.h"
#include "log.h"
#include "recv-guard.h"
#include "wsbench-config.h"

static void worker_failed(void)
{
	kill(getpid(), SIGUSR1);
}

static int open_listeners(struct echo_worker *workers, const struct echo_options *o,
                          uint16_t *ret_port)
{
	uint16_t port = o->port;

	for (unsigned i = 0; i < o->threads; i++) {
		int fd = listener_open(o->host, port, &port);

		if (fd == -EINVAL)
			return log_errno(LOG_LEVEL_ERROR, fd, "--host: not a numeric address: '%s'",
			                 o->host);
		if (fd < 0)
			return log_error_errno(fd, "cannot listen on %s:%u", o->host, port);
		workers[i].listen_fd = fd;
	}
	*ret_port = port;
	return 0;
}

/* --stats: the workers' counts summed, one JSON line on stdout (the keys
 * tests/lib/faultserver.py uses where they mean the same). The workers have
 * been joined, so their counters are read without a lock. */
static void print_stats(const struct echo_worker *workers, unsigned n)
{
	uint64_t conns = 0, received = 0, echoed = 0, closed = 0;

	for (unsigned i = 0; i < n; i++) {
		conns += workers[i].n_connections;
		received += workers[i].n_received;
		echoed += workers[i].n_echoed;
		closed += workers[i].n_closed;
	}
	printf("{\"connections\": %llu, \"received\": %llu, \"echoed\": %llu, \"closed\": %llu, "
	       "\"threads\": %u}\n",
	       (unsigned long long)conns, (unsigned long long)received, (unsigned long long)echoed,
	       (unsigned long long)closed, n);
	fflush(stdout);
}

static int run(const struct echo_options *o)
{
	struct echo_worker workers[ECHO_MAX_THREADS];
	struct echo_startup startup = ECHO_STARTUP_INIT;
	sigset_t mask;
	uint16_t port = 0;
	int sig, r, result = 0;
	unsigned started = 0;

	memset(workers, 0, sizeof(workers));
	for (unsigned i = 0; i < o->threads; i++)
		workers[i] = (struct echo_worker){ .index = i, .listen_fd = -1, .opts = o };

	/* Signals are taken synchronously by this thread; the workers must
	 * inherit them blocked. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);

	r = recv_guard_init(fd_limit_raise());
	if (r < 0)
		return log_error_errno(r, "cannot allocate connection table");
	r = open_listeners(workers, o, &port);
	if (r < 0)
		goto out;

	echo_worker_on_failure = worker_failed;
	for (unsigned i = 0; i < o->threads; i++) {
		workers[i].startup = &startup;
		r = echo_worker_start(&workers[i]);
		if (r < 0) {
			log_error_errno(r, "cannot start worker thread");
			goto stop;
		}
		started++;
	}
	echo_startup_wait(&startup, started);

	for (unsigned i = 0; i < started; i++)
		if (workers[i].result < 0) {
			r = log_error_errno(workers[i].result,
			                    "worker %u: cannot create libwebsockets context", i);
			goto stop;
		}

	if (strchr(o->host, ':'))
		printf(SERVER_READY_PREFIX "%s://[%s]:%u/\n", o->tls_cert ? "wss" : "ws", o->host,
		       port);
	else
		printf(SERVER_READY_PREFIX "%s://%s:%u/\n", o->tls_cert ? "wss" : "ws", o->host,
		       port);
	fflush(stdout);
	log_debug("listening on %s port %u with %u thread(s)", o->host, port, o->threads);

	do {
		r = sigwait(&mask, &sig);
	} while (r == EINTR);
	if (sig == SIGUSR1) {
		log_error("a worker failed; shutting down");
		result = 1;
	}
	r = 0;
stop:
	for (unsigned i = 0; i < started; i++)
		echo_worker_stop(&workers[i]);
	for (unsigned i = 0; i < started; i++)
		echo_worker_join(&workers[i]);
	if (o->stats)
		print_stats(workers, started);
out:
	for (unsigned i = 0; i < o->threads; i++)
		if (workers[i].listen_fd >= 0)
			close(workers[i].listen_fd);
	recv_guard_done();
	if (r < 0)
		return r;
	return result ? -EIO : 0;
}

/* The certificate and key load and belong together: said here, by file,
 * rather than as lws's "cannot create context" later. */
static int tls_files_check(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	const char *what = NULL, *file = NULL;
	unsigned long e;

	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		return -ENOMEM;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		what = "cannot load the certificate", file = cert;
	else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		what = "cannot load the private key", file = key;
	else if (SSL_CTX_check_private_key(ctx) != 1)
		what = "the private key does not match the certificate", file = key;
	e = ERR_peek_last_error();
	if (what)
		snprintf(err, errlen, "--tls-%s %s: %s (%s)", file == cert ? "cert" : "key", file,
		         what, e && ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "?");
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return what ? -EINVAL : 0;
}

int main(int argc, char **argv)
{
	struct echo_options opts;
	char err[256];
	int r;

	log_set_program("wsbench-echo");
	echo_options_init(&opts);
	r = echo_options_parse(&opts, argc, argv, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "wsbench-echo: %s\n%s", err, echo_usage);
		return 2;
	}
	if (r == ECHO_OPTIONS_HELP) {
		fputs(echo_usage, stdout);
		return 0;
	}
	if (r == ECHO_OPTIONS_VERSION) {
		printf("wsbench-echo %s (libwebsockets %s)\n", WSBENCH_VERSION,
		       lws_get_library_version());
		return 0;
	}
	if (opts.tls_cert && tls_files_check(opts.tls_cert, opts.tls_key, err, sizeof(err)) < 0) {
		fprintf(stderr, "wsbench-echo: %s\n", err);
		return 2;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN | (opts.verbose ? LLL_NOTICE : 0), log_lws_line);
	if (opts.verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	return run(&opts) < 0 ? 1 : 0;
}
