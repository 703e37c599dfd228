/* SPDX-License-Identifier: MIT */
/*
 * Distributed runs, the arithmetic (remote-load.c does the talking): what an
 * agent is, how a run's clients are split over agents, how far an agent's
 * clock is from ours, and how the parts' results merge into one result of
 * wsbench-load's form, losslessly: histograms are added bucket by bucket,
 * counts summed, and nothing is averaged.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define AGENTS_MAX 32

enum agent_kind {
	AGENT_SSH,     /* "host" or "user@host": its system bus over ssh, as systemctl -H */
	AGENT_ADDRESS, /* a D-Bus address ("unix:path=...", "unixexec:..."): as given */
};

struct agent_spec {
	enum agent_kind kind;
	char where[512]; /* the host or the address */
	double weight;   /* share of the clients; 1 unless "*WEIGHT" */
};

/**
 * agent_spec_parse() - "SPEC[*WEIGHT]": SPEC a [user@]host or a D-Bus
 * address (it has a ':' and a '='), WEIGHT a positive number.
 * Return: 0, or -EINVAL with the problem in @err.
 */
int agent_spec_parse(const char *s, struct agent_spec *ret, char *err, size_t errlen);

/* Agents as configured: the specs as written, each checked by
 * agent_spec_parse(). */
struct agent_list {
	char **v;
	size_t n;
	bool local; /* "local" was asked: no agents, whatever the default */
};

/**
 * agent_list_add() - check @spec and append it.
 * Return: 0, -EINVAL (the problem in @err, also for more than AGENTS_MAX),
 * or -ENOMEM.
 */
int agent_list_add(struct agent_list *l, const char *spec, char *err, size_t errlen);

/* "a,b*2,c" (wsbenchctl --agents, the "agents" override); "" or "local":
 * none. Return: as agent_list_add(). */
int agent_list_parse(struct agent_list *l, const char *csv, char *err, size_t errlen);

int agent_list_copy(struct agent_list *to, const struct agent_list *from);
void agent_list_free(struct agent_list *l);

/* Whether @l names the agent of @spec (its host or address; the weight
 * may differ). */
bool agent_list_names(const struct agent_list *l, const char *spec);

/* "a, b*2" into @buf, for messages, the dump and the report. */
void agent_list_format(const struct agent_list *l, char *buf, size_t len);

/**
 * agents_split() - @clients over @n agents in proportion to @weights
 * (largest remainders), each agent at least one.
 * Return: 0 with @out[i] set, or -EINVAL when there are fewer clients than
 * agents.
 */
int agents_split(unsigned clients, const double *weights, size_t n, unsigned *out);

/* One clock reading of an agent: our CLOCK_REALTIME before and after the
 * call, and the agent's in between. */
struct clock_sample {
	int64_t sent_ns, remote_ns, received_ns;
};

/**
 * clock_offset() - the agent's clock minus ours, from the sample with the
 * shortest round trip (its error is at most half that round trip).
 * Return: 0 with *@offset_ns and *@rtt_ns set, or -EINVAL when @n is 0.
 */
int clock_offset(const struct clock_sample *s, size_t n, int64_t *offset_ns, int64_t *rtt_ns);

/**
 * agents_merge() - one result from the @n parts' reports (each an agent
 * run's report: throughput, latency, errors, client, timeline, histogram),
 * as wsbench-load would have printed it for all their clients: counts and
 * rates summed, latency from the merged histograms, the client section
 * summed (CPU) or the worst (send lag, RSS), client-limited when any part
 * was; the timeline summed second by second (its p99 the worst part's,
 * named as such). @names label the parts in the verdict.
 * Return: 0 with the result in *@ret, -EINVAL when a part lacks a
 * histogram or it does not decode, -ENOMEM.
 */
int agents_merge(const struct cJSON *const *parts, const char *const *names, size_t n,
                 struct cJSON **ret);
