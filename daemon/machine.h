/* SPDX-License-Identifier: MIT */
/*
 * What a report records about the machine and the software that made it:
 * the kernel, the CPU model and count, the frequency governor, wsbench's
 * version and git revision, the libwebsockets version it was built with,
 * and each server's toolchain. Facts that cannot change while the daemon
 * runs (kernel, CPU model, what the build found) are read once and kept;
 * the CPU count and the governor are read for each report. Nothing here is
 * read per sample. What cannot be found says "not available".
 */
#pragma once

#include <stddef.h>

struct server_config;

#define MACHINE_NOT_AVAILABLE "not available"

struct machine_info {
	char kernel[512];    /* uname release and version */
	char cpu_model[256]; /* /proc/cpuinfo "model name" */
	unsigned cpus;       /* online, sysconf(_SC_NPROCESSORS_ONLN) */
	char governor[128];  /* scaling_governor; several, comma-separated, when CPUs differ */
};

/* The machine now. */
void machine_get(struct machine_info *ret);

/* The git revision of the build ("git describe --always --dirty"), or
 * "unknown" when it was not built from a git checkout. */
const char *machine_git_revision(void);

/* The libwebsockets version wsbench-echo and wsbench-load were built with. */
const char *machine_lws_version(void);

/**
 * machine_parse_cpu_model() - the first "model name" of /proc/cpuinfo's
 * text @cpuinfo into @buf.
 * Return: 0, or -ENOENT (then @buf says "not available").
 */
int machine_parse_cpu_model(const char *cpuinfo, char *buf, size_t len);

/**
 * machine_read_governor() - the cpufreq governors under @cpu_dir
 * (/sys/devices/system/cpu), each different one once, into @buf.
 * Return: 0, or -ENOENT (then @buf says "not available").
 */
int machine_read_governor(const char *cpu_dir, char *buf, size_t len);

/**
 * machine_server_toolchain() - what built or runs @s, e.g. "go version
 * go1.22.2 linux/amd64", "rustc 1.79.0 (...)", "dotnet SDK 8.0.404",
 * "node v18.19.0", "gcc 12.2.0" (wsbench-echo). The reference servers'
 * compilers are recorded when the build builds them; a Node.js server
 * (the node-ws launcher, or a command that is node itself) is asked with
 * "node --version" now.
 * Return: a malloc'd string, or NULL when unknown (a server given by URL,
 * a command of unknown make).
 */
char *machine_server_toolchain(const struct server_config *s);
