/* SPDX-License-Identifier: MIT */
/*
 * The machine and the software (see machine.h): uname, /proc/cpuinfo,
 * cpufreq's governor, what the build recorded (wsbenchd-build.h,
 * wsbench-revision.h) and "node --version" for Node.js servers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "machine.h"
#include "macro.h"
#include "noise.h"
#include "wsbench-revision.h"
#include "wsbenchd-build.h"

#define VERSION_TIMEOUT_NS (3 * NSEC_PER_SEC)

int machine_parse_cpu_model(const char *cpuinfo, char *buf, size_t len)
{
	const char *line = cpuinfo;

	snprintf(buf, len, "%s", MACHINE_NOT_AVAILABLE);
	for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *colon, *end;

		if (strncmp(line, "model name", 10) != 0)
			continue;
		colon = strchr(line, ':');
		end = strchr(line, '\n');
		if (!colon || (end && colon > end))
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		if (!end)
			end = colon + strlen(colon);
		while (end > colon && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (end == colon)
			continue;
		snprintf(buf, len, "%.*s", (int)(end - colon), colon);
		return 0;
	}
	return -ENOENT;
}

/* The first line of @path, without its newline. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char *nl;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -ENODATA;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

static bool is_cpu_dir(const char *name)
{
	if (strncmp(name, "cpu", 3) != 0 || !name[3])
		return false;
	for (const char *p = name + 3; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

int machine_read_governor(const char *cpu_dir, char *buf, size_t len)
{
	DIR *d = opendir(cpu_dir);
	struct dirent *de;
	size_t used = 0;

	buf[0] = '\0';
	while (d && (de = readdir(d))) {
		char path[512], gov[64], key[72];

		if (!is_cpu_dir(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/cpufreq/scaling_governor", cpu_dir, de->d_name);
		if (read_line(path, gov, sizeof(gov)) < 0 || !gov[0])
			continue;
		/* Each different governor once: "a" found in "a,b"? */
		snprintf(key, sizeof(key), ",%s,", gov);
		{
			char have[256];

			snprintf(have, sizeof(have), ",%s,", buf);
			if (strstr(have, key))
				continue;
		}
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", used ? "," : "", gov);
	}
	if (d)
		closedir(d);
	if (!buf[0]) {
		snprintf(buf, len, "%s", MACHINE_NOT_AVAILABLE);
		return -ENOENT;
	}
	return 0;
}

/* Kernel and CPU model cannot change while we run: read once. */
static void static_facts(char *kernel, size_t klen, char *model, size_t mlen)
{
	static char cached_kernel[512], cached_model[256];
	static bool done;

	if (!done) {
		struct utsname u;
		char *text = NULL;
		size_t n = 0;
		FILE *f;

		if (uname(&u) == 0)
			snprintf(cached_kernel, sizeof(cached_kernel), "%s %s", u.release,
			         u.version);
		else
			snprintf(cached_kernel, sizeof(cached_kernel), "%s", MACHINE_NOT_AVAILABLE);
		f = fopen("/proc/cpuinfo", "re");
		if (f) {
			/* Only the first processor's block is needed. */
			text = calloc(1, 16384);
			if (text)
				n = fread(text, 1, 16383, f);
			fclose(f);
		}
		if (text)
			text[n] = '\0';
		machine_parse_cpu_model(text ? text : "", cached_model, sizeof(cached_model));
		free(text);
		done = true;
	}
	snprintf(kernel, klen, "%s", cached_kernel);
	snprintf(model, mlen, "%s", cached_model);
}

void machine_get(struct machine_info *ret)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	static_facts(ret->kernel, sizeof(ret->kernel), ret->cpu_model, sizeof(ret->cpu_model));
	ret->cpus = cpus > 0 ? (unsigned)cpus : 0;
	machine_read_governor(NOISE_SYSFS_CPU, ret->governor, sizeof(ret->governor));
}

const char *machine_git_revision(void)
{
	return WSBENCH_GIT_REVISION[0] ? WSBENCH_GIT_REVISION : "unknown";
}

const char *machine_lws_version(void)
{
	return WSBENCH_LWS_VERSION;
}

/*
 * The first line "@program --version" prints, within VERSION_TIMEOUT_NS
 * (then it is killed). @program is looked up in PATH when it has no
 * slash. The child gets an empty signal mask and default dispositions
 * (the daemon blocks signals for sd-event) and /dev/null for stdin and
 * stderr. Reaped here: sd-event's child sources wait for their own PIDs
 * only.
 */
static char *program_version(const char *program)
{
	char *argv[] = { (char *)program, (char *)"--version", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t empty, defaults;
	char buf[256];
	size_t len = 0;
	int64_t deadline = now_ns() + VERSION_TIMEOUT_NS;
	int fds[2], k, status;
	pid_t pid;
	char *nl;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&empty);
	sigfillset(&defaults);
	posix_spawnattr_setsigmask(&attr, &empty);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	k = posix_spawnp(&pid, program, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[1]);
	if (k != 0) {
		close(fds[0]);
		return NULL;
	}
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int64_t left = deadline - now_ns();
		ssize_t n;

		if (left <= 0 || len == sizeof(buf) - 1)
			break;
		k = poll(&p, 1, (int)(left / NSEC_PER_MSEC) + 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	/* It may have closed its output and still run: wait until the
	 * deadline, then kill it. */
	for (;;) {
		k = waitpid(pid, &status, WNOHANG);
		if (k < 0 && errno == EINTR)
			k = 0;
		if (k != 0 || now_ns() >= deadline)
			break;
		usleep(10000);
	}
	if (k == 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	} else if (k < 0) {
		return NULL;
	}
	buf[len] = '\0';
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	if (!buf[0] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return NULL;
	return strdup(buf);
}

static char *node_version(const char *program)
{
	_cleanup_free_ char *v = program_version(program);
	char *s;

	if (!v)
		return NULL;
	return asprintf(&s, "node %s", v) < 0 ? NULL : s;
}

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

char *machine_server_toolchain(const struct server_config *s)
{
	static const char prefix[] = "{servers_dir}/";
	const char *program, *base;

	if (s->kind == SERVER_BUILTIN)
		return dup_or_null(WSBENCH_CC_VERSION);
	if (s->kind != SERVER_COMMAND || !s->command || !s->command[0])
		return NULL;
	program = s->command[0];
	/* The reference servers this build made, by their file names. */
	if (strncmp(program, prefix, strlen(prefix)) == 0) {
		const char *name = program + strlen(prefix);

		if (strcmp(name, "go-gorilla") == 0)
			return dup_or_null(WSBENCH_TOOLCHAIN_GO);
		if (strcmp(name, "rust-tungstenite") == 0)
			return dup_or_null(WSBENCH_TOOLCHAIN_RUST);
		if (strcmp(name, "dotnet-kestrel") == 0)
			return dup_or_null(WSBENCH_TOOLCHAIN_DOTNET);
		/* The launcher runs "node" from PATH, as we do. */
		if (strcmp(name, "node-ws") == 0)
			return node_version("node");
		return NULL;
	}
	base = strrchr(program, '/');
	base = base ? base + 1 : program;
	if (strcmp(base, "node") == 0 || strcmp(base, "nodejs") == 0)
		return node_version(program);
	return NULL;
}
