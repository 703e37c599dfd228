/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for daemon/run.c: the run state machine with real child
 * processes (small sh scripts for the echo server and for wsbench-load) on
 * a real sd-event loop, the observer recording what the run tells it. Every
 * transition, cancel in every state, a child dying in every state.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "macro.h"
#include "run.h"

/* A stand-in for wsbench-load: its progress lines for a phase, its result,
 * its exit statuses; FAKE_LOAD picks the behaviour, FAKE_PHASE the phase it
 * stays in until SIGTERM. */
static const char fake_load[] =
    "#!/bin/sh\n"
    "p() { echo '{\"type\":\"progress\",\"phase\":\"'$1'\",\"elapsed_s\":1,\"total_s\":4,"
    "\"connected\":3,\"sent\":7,\"received\":6,\"rate\":5,\"p99_so_far_ms\":1.5,"
    "\"errors\":1}'; }\n"
    "result() { echo '{\"type\":\"result\",\"result\":{\"throughput\":{},\"latency\":{},"
    "\"errors\":{},\"client\":{},\"timeline\":[],\"histogram\":{}}}'; }\n"
    "case ${FAKE_LOAD:-ok} in\n"
    "ok) p connecting; p warmup; p running; p draining; result; exit 0;;\n"
    "errors) p running; result; exit 3;;\n"
    "hang) trap 'result; exit 130' TERM; p $FAKE_PHASE; while :; do sleep 0.02; done;;\n"
    "crash) p running; exit 1;;\n"
    "silent) exit 0;;\n"
    "esac\n";

/* Echo servers by behaviour: each prints READY (or not) and stops on
 * SIGTERM. Ports only fill {port}: nothing listens on them. */
static const char config_text[] =
    "servers = (\n"
    "  { name = \"ready\"; port = 64101; command = [\"/bin/sh\", \"-c\","
    "    \"trap 'exit 0' TERM; echo READY ws://127.0.0.1:$0/; while :; do sleep 0.02; done\","
    "    \"{port}\"]; },\n"
    "  { name = \"never-ready\"; port = 64102; command = [\"/bin/sh\", \"-c\","
    "    \"trap 'exit 0' TERM; while :; do sleep 0.02; done # {port}\"]; },\n"
    "  { name = \"dies-before-ready\"; port = 64103; command = [\"/bin/sh\", \"-c\","
    "    \"exit 3 # {port}\"]; },\n"
    "  { name = \"dies-after-ready\"; port = 64104; command = [\"/bin/sh\", \"-c\","
    "    \"echo READY ws://127.0.0.1:$0/; sleep 0.5; exit 4\", \"{port}\"]; },\n"
    "  { name = \"slow\"; port = 64105; ready_timeout = 0.3; command = [\"/bin/sh\", \"-c\","
    "    \"trap 'exit 0' TERM; while :; do sleep 0.02; done # {port}\"]; },\n"
    "  { name = \"remote\"; url = \"ws://127.0.0.1:64106/\"; }\n"
    ");\n"
    "scenarios = ( { name = \"short\"; clients = 3; duration = 1; } );\n";

struct observer {
	enum run_state seen[16]; /* the states announced, each once in a row */
	unsigned n_seen;
	unsigned changed, started, finished;
	enum run_state final;
	int report_error; /* when set, the observer fails to store the report */
	bool stored;      /* a report would have been stored */
};

struct fixture {
	char dir[64];
	sd_event *event;
	struct wsbench_config *config;
	struct tool_paths tools;
	struct observer obs;
	struct run *run;
};

static void on_changed(struct run *r, void *userdata)
{
	struct observer *o = userdata;

	o->changed++;
	if (!o->n_seen || o->seen[o->n_seen - 1] != r->state)
		if (o->n_seen < ELEMENTSOF(o->seen))
			o->seen[o->n_seen++] = r->state;
}

static void on_started(struct run *r, void *userdata)
{
	struct observer *o = userdata;

	assert_int_equal(r->state, RUN_STARTING);
	o->started++;
}

static void on_finished(struct run *r, void *userdata)
{
	struct observer *o = userdata;

	assert_true(run_is_final(r));
	o->finished++;
	if (run_was_started(r)) {
		o->stored = !o->report_error;
		if (o->report_error)
			run_report_failed(r, "/reports", o->report_error);
	}
	o->final = r->state;
}

static const struct run_ops ops = {
	.changed = on_changed,
	.started = on_started,
	.finished = on_finished,
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_errors errors = { 0 };
	char path[128];
	FILE *file;

	strcpy(f->dir, "/tmp/wsbench-test-run-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/wsbench.conf", f->dir);
	file = fopen(path, "w");
	fputs(config_text, file);
	fclose(file);
	assert_int_equal(config_load(path, &f->config, &errors), 0);
	assert_true(asprintf(&f->tools.load, "%s/fake-load", f->dir) > 0);
	file = fopen(f->tools.load, "w");
	fputs(fake_load, file);
	fclose(file);
	chmod(f->tools.load, 0755);
	f->tools.echo = strdup("/nonexistent/wsbench-echo");
	f->tools.servers_dir = strdup(f->dir);
	assert_int_equal(sd_event_new(&f->event), 0);
	unsetenv("FAKE_LOAD");
	unsetenv("FAKE_PHASE");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	run_free(f->run);
	config_unref(f->config);
	sd_event_unref(f->event);
	free(f->tools.load);
	free(f->tools.echo);
	free(f->tools.servers_dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A queued run of scenario "short" on @server. */
static struct run *new_run(struct fixture *f, const char *server)
{
	const struct run_env env = { .event = f->event, .tools = &f->tools };
	const struct run_request req = {
		.id = "20261202T030000Z_1",
		.config = f->config,
		.server = config_find_server(f->config, server),
		.scenario = config_find_scenario(f->config, "short"),
		.overrides = "duration=1",
		.owner_uid = 1000,
		.owner = "alice",
	};

	assert_non_null(req.server);
	assert_int_equal(run_new(&env, &req, &ops, &f->obs, &f->run), 0);
	assert_int_equal(f->run->state, RUN_QUEUED);
	return f->run;
}

/* Turns the event loop until @r is in @state (or, for a final state, has
 * also released its processes), for at most 10 s. */
static void run_until(struct fixture *f, enum run_state state)
{
	int64_t deadline = now_ns() + 10 * NSEC_PER_SEC;
	struct run *r = f->run;

	while (!(r->state == state && (state < RUN_FINISHED || run_released(r)))) {
		assert_true(now_ns() < deadline);
		assert_true(sd_event_run(f->event, 100000) >= 0);
	}
}

/* Until wsbench-load has printed its first progress line. */
static void run_until_progress(struct fixture *f)
{
	int64_t deadline = now_ns() + 10 * NSEC_PER_SEC;

	while (f->run->connected == 0) {
		assert_true(now_ns() < deadline);
		assert_true(sd_event_run(f->event, 100000) >= 0);
	}
}

/* A run on @server whose wsbench-load reaches @phase (state @in) and stays. */
static struct run *start_in(struct fixture *f, const char *server, const char *phase,
                            enum run_state in)
{
	struct run *r = new_run(f, server);

	setenv("FAKE_LOAD", "hang", 1);
	setenv("FAKE_PHASE", phase, 1);
	run_start(r);
	run_until_progress(f);
	assert_int_equal(r->state, in);
	return r;
}

static void assert_seen(const struct observer *o, const enum run_state *want, unsigned n)
{
	for (unsigned i = 0; i < n && i < o->n_seen; i++)
		if (o->seen[i] != want[i])
			fail_msg("state %u: %s, expected %s", i, run_state_to_string(o->seen[i]),
			         run_state_to_string(want[i]));
	assert_int_equal(o->n_seen, n);
}

/* ---- every transition ------------------------------------------------- */

/* queued → starting → connecting → running (warm-up too) → draining →
 * finished: the load generator's phases are the states. */
static void test_every_transition(void **state)
{
	static const enum run_state want[] = { RUN_STARTING, RUN_CONNECTING, RUN_RUNNING,
		                               RUN_DRAINING };
	struct fixture *f = *state;
	struct run *r = new_run(f, "ready");

	run_start(r);
	run_until(f, RUN_FINISHED);
	assert_seen(&f->obs, want, ELEMENTSOF(want));
	assert_int_equal(f->obs.started, 1);
	assert_int_equal(f->obs.finished, 1);
	assert_int_equal(f->obs.final, RUN_FINISHED);
	assert_true(f->obs.stored);
	assert_null(r->failure);
	assert_int_equal(r->load_exit, 0);
	assert_string_equal(r->url, "ws://127.0.0.1:64101/");
	/* The live figures, from the last progress line. */
	assert_int_equal(r->connected, 3);
	assert_int_equal(r->sent, 7);
	assert_int_equal(r->received, 6);
	assert_int_equal(r->errors, 1);
	assert_true(r->p99_ms == 1.5 && r->progress == 0.25);
	assert_true(r->end_wall_ns >= r->start_wall_ns);
	/* Released: no children, no result kept; the figures stay. */
	assert_null(r->server_child);
	assert_null(r->load_child);
	assert_null(r->result);
}

/* Errors counted (exit 3) are a finished run. */
static void test_errors_counted_still_finish(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "ready");

	setenv("FAKE_LOAD", "errors", 1);
	run_start(r);
	run_until(f, RUN_FINISHED);
	assert_int_equal(r->load_exit, 3);
	assert_null(r->failure);
}

/* A server given by URL: nothing started, straight to the load. */
static void test_url_server(void **state)
{
	static const enum run_state want[] = { RUN_STARTING, RUN_CONNECTING, RUN_RUNNING,
		                               RUN_DRAINING };
	struct fixture *f = *state;
	struct run *r = new_run(f, "remote");

	run_start(r);
	assert_null(r->server_child);
	run_until(f, RUN_FINISHED);
	assert_seen(&f->obs, want, ELEMENTSOF(want));
	assert_string_equal(r->url, "ws://127.0.0.1:64106/");
}

/* ---- cancel in every state -------------------------------------------- */

/* Queued: ends at once, never started, nothing to report. */
static void test_cancel_queued(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "ready");

	assert_int_equal(run_cancel(r), 0);
	assert_int_equal(r->state, RUN_CANCELLED);
	assert_int_equal(f->obs.finished, 1);
	assert_int_equal(f->obs.started, 0);
	assert_false(run_was_started(r));
	assert_false(f->obs.stored);
	run_until(f, RUN_CANCELLED);
}

static void test_cancel_starting(void **state)
{
	static const enum run_state want[] = { RUN_STARTING, RUN_STOPPING };
	struct fixture *f = *state;
	struct run *r = new_run(f, "never-ready");

	run_start(r);
	assert_int_equal(r->state, RUN_STARTING);
	assert_int_equal(run_cancel(r), 0);
	assert_int_equal(r->state, RUN_STOPPING);
	run_until(f, RUN_CANCELLED);
	assert_seen(&f->obs, want, ELEMENTSOF(want));
	assert_null(r->failure);
	assert_true(f->obs.stored); /* it started: a report, marked cancelled */
}

/* Connecting, running, draining: wsbench-load is stopped with SIGTERM and
 * prints what it measured, which is kept for the report. */
static void cancel_in(struct fixture *f, const char *phase, enum run_state in)
{
	const enum run_state want[] = { RUN_STARTING, RUN_CONNECTING, in, RUN_STOPPING };
	struct run *r = start_in(f, "ready", phase, in);
	unsigned n = in == RUN_CONNECTING ? 1 : 0;

	assert_int_equal(run_cancel(r), 0);
	run_until(f, RUN_CANCELLED);
	if (n) { /* connecting is not announced twice */
		const enum run_state short_want[] = { RUN_STARTING, RUN_CONNECTING, RUN_STOPPING };

		assert_seen(&f->obs, short_want, ELEMENTSOF(short_want));
	} else {
		assert_seen(&f->obs, want, ELEMENTSOF(want));
	}
	assert_int_equal(r->load_exit, 130);
	assert_null(r->failure);
	assert_true(f->obs.stored);
}

static void test_cancel_connecting(void **state)
{
	cancel_in(*state, "connecting", RUN_CONNECTING);
}

static void test_cancel_running(void **state)
{
	cancel_in(*state, "running", RUN_RUNNING);
}

static void test_cancel_draining(void **state)
{
	cancel_in(*state, "draining", RUN_DRAINING);
}

/* Stopping (a failure under way): cancelling again changes nothing; the
 * failure is the outcome. */
static void test_cancel_stopping(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "slow");

	run_start(r);
	run_until(f, RUN_STOPPING); /* the ready timeout */
	assert_int_equal(run_cancel(r), 0);
	run_until(f, RUN_FAILED);
	assert_non_null(strstr(r->failure, "was not ready within 0.3 s"));
	assert_int_equal(f->obs.finished, 1);
}

static void test_cancel_final(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "ready");

	run_start(r);
	run_until(f, RUN_FINISHED);
	assert_int_equal(run_cancel(r), -EALREADY);
	assert_int_equal(r->state, RUN_FINISHED);
	assert_int_equal(f->obs.finished, 1);
}

/* ---- a child dying in every state ------------------------------------- */

static void test_server_dies_starting(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "dies-before-ready");

	run_start(r);
	run_until(f, RUN_FAILED);
	assert_string_equal(r->failure,
	                    "server dies-before-ready exited with status 3 before it was ready");
	assert_null(r->load_child);
}

static void test_ready_timeout(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "slow");

	run_start(r);
	run_until(f, RUN_FAILED);
	assert_string_equal(r->failure, "server slow was not ready within 0.3 s");
}

/* The server dies while the load runs in @phase: the run fails, the load
 * generator is stopped and what it measured is kept. */
static void server_dies_in(struct fixture *f, const char *phase, enum run_state in)
{
	struct run *r = start_in(f, "dies-after-ready", phase, in);

	run_until(f, RUN_FAILED);
	assert_string_equal(r->failure,
	                    "server dies-after-ready exited with status 4 during the run");
	assert_int_equal(r->load_exit, 130);
	assert_true(f->obs.stored);
	assert_int_equal(f->obs.seen[f->obs.n_seen - 1], RUN_STOPPING);
}

static void test_server_dies_connecting(void **state)
{
	server_dies_in(*state, "connecting", RUN_CONNECTING);
}

static void test_server_dies_running(void **state)
{
	server_dies_in(*state, "running", RUN_RUNNING);
}

static void test_server_dies_draining(void **state)
{
	server_dies_in(*state, "draining", RUN_DRAINING);
}

/* wsbench-load dies: the run fails and the server is stopped. */
static void test_load_crashes(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "ready");

	setenv("FAKE_LOAD", "crash", 1);
	run_start(r);
	run_until(f, RUN_FAILED);
	assert_string_equal(r->failure, "wsbench-load exited with status 1");
}

static void test_load_prints_no_result(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "ready");

	setenv("FAKE_LOAD", "silent", 1);
	run_start(r);
	run_until(f, RUN_FAILED);
	assert_string_equal(r->failure, "wsbench-load printed no result");
}

static void test_load_cannot_start(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "ready");

	free(f->tools.load);
	f->tools.load = strdup("/nonexistent/wsbench-load");
	run_start(r);
	run_until(f, RUN_FAILED);
	assert_string_equal(r->failure,
	                    "cannot start /nonexistent/wsbench-load: No such file or directory");
}

/* ---- the report ----------------------------------------------------------- */

/* A report that cannot be stored fails a finished run... */
static void test_report_failure_fails_the_run(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "ready");

	f->obs.report_error = -ENOSPC;
	run_start(r);
	run_until(f, RUN_FAILED);
	assert_int_equal(f->obs.final, RUN_FAILED);
	assert_string_equal(r->failure,
	                    "cannot write the report to /reports: No space left on device");
}

/* ... and is recorded for a cancelled one, which stays cancelled. */
static void test_report_failure_of_a_cancelled_run(void **state)
{
	struct fixture *f = *state;
	struct run *r = new_run(f, "never-ready");

	f->obs.report_error = -EROFS;
	run_start(r);
	run_cancel(r);
	run_until(f, RUN_CANCELLED);
	assert_string_equal(r->failure,
	                    "cannot write the report to /reports: Read-only file system");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_every_transition),
		T(test_errors_counted_still_finish),
		T(test_url_server),
		T(test_cancel_queued),
		T(test_cancel_starting),
		T(test_cancel_connecting),
		T(test_cancel_running),
		T(test_cancel_draining),
		T(test_cancel_stopping),
		T(test_cancel_final),
		T(test_server_dies_starting),
		T(test_ready_timeout),
		T(test_server_dies_connecting),
		T(test_server_dies_running),
		T(test_server_dies_draining),
		T(test_load_crashes),
		T(test_load_prints_no_result),
		T(test_load_cannot_start),
		T(test_report_failure_fails_the_run),
		T(test_report_failure_of_a_cancelled_run),
	};
	sigset_t mask;

	log_set_program("test-run");
	/* sd-event takes SIGCHLD through a signalfd: it must be blocked. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	return cmocka_run_group_tests_name("run", tests, NULL, NULL);
}
