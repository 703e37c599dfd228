/* SPDX-License-Identifier: MIT */
/*
 * Child processes of wsbenchd (echo servers and load generators), driven by
 * sd-event: spawned with a clean signal state and no inherited descriptors,
 * their stdout and stderr read line by line, their exit reported, and stopped
 * with SIGTERM then SIGKILL.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct child;

struct child_ops {
	/* One complete line (without the newline) from stdout or stderr. */
	void (*line)(struct child *c, bool is_stderr, const char *line, void *userdata);
	/* The process ended; si_code is CLD_EXITED (si_status = exit status) or
	 * CLD_KILLED/CLD_DUMPED (si_status = signal). */
	void (*exited)(struct child *c, const siginfo_t *si, void *userdata);
};

/**
 * child_start() - spawn @argv[0] with @argv.
 * Return: 0 with *@ret set, or a negative errno (-ENOENT: no such program).
 */
int child_start(sd_event *event, const char *name, char *const argv[], const struct child_ops *ops,
                void *userdata, struct child **ret);

/* SIGTERM now, SIGKILL after @grace_usec if it is still running. */
void child_stop(struct child *c, uint64_t grace_usec);

/* Sends @sig to the child's process group. */
void child_signal(struct child *c, int sig);

pid_t child_pid(const struct child *c);
bool child_running(const struct child *c);

/* Frees the bookkeeping; a still-running child is killed with SIGKILL. */
struct child *child_free(struct child *c);
