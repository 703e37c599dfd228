/* SPDX-License-Identifier: MIT */
/*
 * Child process handling (see child.h). posix_spawn() with an empty signal
 * mask and default dispositions (the daemon blocks SIGCHLD/TERM/HUP/INT for
 * sd-event, and blocked masks survive exec), its own process group (so a
 * server that forks is stopped whole), and descriptors above 2 closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "macro.h"

extern char **environ;

/* A line longer than this is cut. The longest is wsbench-load's result: one
 * timeline entry a second (at most ~150 bytes) and two histograms (at most
 * ~1 MiB); scenario.c bounds a run to 24 h so that it fits (~14 MB). */
#define LINE_MAX_BYTES (16u * 1024 * 1024)
#define READ_CHUNK     65536u

struct line_buf {
	char *p;
	size_t len, cap;
	size_t scanned; /* p[0..scanned) holds no newline: only new bytes are searched */
};

struct child {
	char *name;
	pid_t pid;
	bool running;
	const struct child_ops *ops;
	void *userdata;
	sd_event *event;
	sd_event_source *exit_source, *out_source, *err_source, *kill_timer;
	struct line_buf out, err;
};

static void line_buf_free(struct line_buf *b)
{
	free(b->p);
	*b = (struct line_buf){ 0 };
}

static void deliver_lines(struct child *c, struct line_buf *b, bool is_stderr, bool flush)
{
	size_t start = 0;
	char *nl;

	/* From where the last search stopped: rescanning a 14 MB result line
	 * after every 64 KiB read cost a second of the event loop. */
	for (size_t from = b->scanned; (nl = memchr(b->p + from, '\n', b->len - from));
	     from = start) {
		*nl = '\0';
		if (c->ops->line)
			c->ops->line(c, is_stderr, b->p + start, c->userdata);
		start = (size_t)(nl - b->p) + 1;
	}
	if (flush && start < b->len) {
		b->p[b->len] = '\0';
		if (c->ops->line)
			c->ops->line(c, is_stderr, b->p + start, c->userdata);
		start = b->len;
	}
	memmove(b->p, b->p + start, b->len - start);
	b->len -= start;
	b->scanned = b->len;
}

/* Room for one more read: the buffer doubles up to LINE_MAX_BYTES plus a
 * read, so a line of up to LINE_MAX_BYTES arrives whole. (Doubling from 64 KiB
 * without that cap stopped at 8 MiB, cutting results of runs over ~24 h.) */
static int make_room(struct child *c, struct line_buf *b, bool is_stderr)
{
	size_t cap;
	char *p;

	if (b->cap - b->len >= READ_CHUNK + 1)
		return 0;
	if (b->len >= LINE_MAX_BYTES) /* runaway line: deliver it cut and start over */
		deliver_lines(c, b, is_stderr, true);
	cap = MIN(MAX(b->cap * 2, b->len + READ_CHUNK + 1), LINE_MAX_BYTES + READ_CHUNK + 1);
	if (cap <= b->cap)
		return 0;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct child *c = userdata;
	bool is_stderr = s == c->err_source;
	struct line_buf *b = is_stderr ? &c->err : &c->out;
	ssize_t n;

	if (make_room(c, b, is_stderr) < 0)
		return 0; /* try again on the next readiness */
	n = read(fd, b->p + b->len, b->cap - b->len - 1);
	if (n > 0) {
		b->len += (size_t)n;
		deliver_lines(c, b, is_stderr, false);
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/* EOF or error: flush a last unterminated line and stop watching. */
	deliver_lines(c, b, is_stderr, true);
	sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

static int on_exit_event(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct child *c = userdata;
	siginfo_t copy = *si;

	c->running = false;
	c->kill_timer = sd_event_source_disable_unref(c->kill_timer);
	/* Read what is left in the pipes before reporting the exit. */
	if (c->out_source)
		on_output(c->out_source, sd_event_source_get_io_fd(c->out_source), EPOLLIN, c);
	if (c->err_source)
		on_output(c->err_source, sd_event_source_get_io_fd(c->err_source), EPOLLIN, c);
	if (c->ops->exited)
		c->ops->exited(c, &copy, c->userdata);
	return 0;
}

static int add_pipe(struct child *c, int fd, sd_event_source **ret)
{
	int r = sd_event_add_io(c->event, ret, fd, EPOLLIN, on_output, c);

	if (r < 0)
		return r;
	return sd_event_source_set_io_fd_own(*ret, true);
}

static int spawn(char *const argv[], int out_w, int err_w, pid_t *ret)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t empty, defaults;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&empty);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGCHLD);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &empty);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                    POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err_w, STDERR_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	r = posix_spawn(ret, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

/* A pipe for a child's stdout or stderr. Only our end is non-blocking: the
 * flag belongs to the open file, so on the child's end its writes would fail
 * with EAGAIN whenever the pipe is full, and stdio drops what it could not
 * write (wsbench-load lost all but the first 64 KiB of a larger result). */
static int output_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int child_start(sd_event *event, const char *name, char *const argv[], const struct child_ops *ops,
                void *userdata, struct child **ret)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, r;
	struct child *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->name = strdup(name);
	c->ops = ops;
	c->userdata = userdata;
	c->event = sd_event_ref(event);
	if (!c->name) {
		r = -ENOMEM;
		goto fail;
	}
	r = output_pipe(out);
	if (r >= 0)
		r = output_pipe(err);
	if (r < 0)
		goto fail;
	r = spawn(argv, out[1], err[1], &c->pid);
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	if (r < 0)
		goto fail;
	c->running = true;
	r = add_pipe(c, out[0], &c->out_source);
	if (r < 0)
		goto fail_running;
	out[0] = -1;
	r = add_pipe(c, err[0], &c->err_source);
	if (r < 0)
		goto fail_running;
	err[0] = -1;
	r = sd_event_add_child(event, &c->exit_source, c->pid, WEXITED, on_exit_event, c);
	if (r < 0)
		goto fail_running;
	*ret = c;
	return 0;

fail_running:
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	c->running = false;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	child_free(c);
	return r;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct child *c = userdata;

	if (c->running)
		child_signal(c, SIGKILL);
	return 0;
}

void child_signal(struct child *c, int sig)
{
	if (!c->running)
		return;
	/* The whole process group, then the leader in case it left the group. */
	kill(-c->pid, sig);
	kill(c->pid, sig);
}

void child_stop(struct child *c, uint64_t grace_usec)
{
	uint64_t now;

	if (!c || !c->running)
		return;
	child_signal(c, SIGTERM);
	if (c->kill_timer)
		return;
	sd_event_now(c->event, CLOCK_MONOTONIC, &now);
	sd_event_add_time(c->event, &c->kill_timer, CLOCK_MONOTONIC, now + grace_usec, 0,
	                  on_kill_timer, c);
}

pid_t child_pid(const struct child *c)
{
	return c->pid;
}

bool child_running(const struct child *c)
{
	return c && c->running;
}

struct child *child_free(struct child *c)
{
	if (!c)
		return NULL;
	if (c->running) {
		child_signal(c, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	sd_event_source_disable_unref(c->exit_source);
	sd_event_source_disable_unref(c->out_source);
	sd_event_source_disable_unref(c->err_source);
	sd_event_source_disable_unref(c->kill_timer);
	sd_event_unref(c->event);
	line_buf_free(&c->out);
	line_buf_free(&c->err);
	free(c->name);
	free(c);
	return NULL;
}
