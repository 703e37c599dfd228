/* SPDX-License-Identifier: MIT */
/*
 * The scenario settings table and the rules between settings (see
 * scenario.h). No file format, bus or JSON here: the callers render the
 * values in their own medium.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdlimit.h"
#include "load-protocol.h"
#include "macro.h"
#include "scenario.h"

/* Choices are stored through an unsigned: the enums must be one. */
_Static_assert(sizeof(enum load_pattern) == sizeof(unsigned), "enum load_pattern size");
_Static_assert(sizeof(enum message_type) == sizeof(unsigned), "enum message_type size");
_Static_assert(sizeof(enum message_payload) == sizeof(unsigned), "enum message_payload size");

static const char *pattern_name(unsigned v)
{
	return pattern_to_string((enum load_pattern)v);
}

static const char *type_name(unsigned v)
{
	return message_type_to_string((enum message_type)v);
}

static const char *payload_name(unsigned v)
{
	return message_payload_to_string((enum message_payload)v);
}

static bool is_burst(const struct scenario_config *s)
{
	return s->pattern == PATTERN_BURST;
}

static bool rate_end_set(const struct scenario_config *s)
{
	return s->rate_end >= 0;
}

#define AT(field) offsetof(struct scenario_config, field)

/* In the order of the dump, ListScenarios, the report and the command line. */
const struct scenario_field scenario_fields[] = {
	{ .name = "clients",
	  .doc = "connections",
	  .type = SCENARIO_UINT,
	  .min = 1,
	  .max = LOAD_MAX_CLIENTS,
	  .def = 1,
	  .report_key = "clients",
	  .load_option = "clients",
	  .offset = AT(clients) },
	{ .name = "ramp_up",
	  .doc = "seconds over which the clients connect (0: all at once)",
	  .type = SCENARIO_DOUBLE,
	  .min = 0,
	  .max = LOAD_MAX_PHASE_SECONDS,
	  .def = 0,
	  .report_key = "ramp_up_s",
	  .load_option = "ramp-up",
	  .offset = AT(ramp_up) },
	{ .name = "pattern",
	  .doc = "send pattern: fixed, burst or ramp",
	  .type = SCENARIO_CHOICE,
	  .def = PATTERN_FIXED,
	  .choice_name = pattern_name,
	  .n_choices = PATTERN_RAMP + 1,
	  .report_key = "pattern",
	  .load_option = "pattern",
	  .offset = AT(pattern) },
	{ .name = "rate",
	  .doc = "messages per second per client; a ramp's start rate",
	  .type = SCENARIO_DOUBLE,
	  .min = 0,
	  .max = LOAD_MAX_RATE,
	  .def = 10,
	  .report_key = "rate_per_client",
	  .load_option = "rate",
	  .offset = AT(rate) },
	{ .name = "rate_end",
	  .doc = "ramp only, and required there: messages per second per client at the end",
	  .type = SCENARIO_DOUBLE,
	  .min = 0,
	  .max = LOAD_MAX_RATE,
	  .def = -1,
	  .report_key = "rate_end_per_client",
	  .load_option = "rate-end",
	  .offset = AT(rate_end),
	  .applies = rate_end_set },
	{ .name = "burst",
	  .doc = "burst only: messages sent back to back every interval",
	  .type = SCENARIO_UINT,
	  .min = 1,
	  .max = LOAD_MAX_BURST,
	  .def = 10,
	  .report_key = "burst",
	  .load_option = "burst",
	  .offset = AT(burst),
	  .applies = is_burst },
	{ .name = "interval",
	  .doc = "burst only: seconds between bursts",
	  .type = SCENARIO_DOUBLE,
	  .min = LOAD_MIN_INTERVAL,
	  .max = LOAD_MAX_PHASE_SECONDS,
	  .def = 1,
	  .report_key = "interval_s",
	  .load_option = "interval",
	  .offset = AT(interval),
	  .applies = is_burst },
	{ .name = "duration",
	  .doc = "measured seconds of sending",
	  .type = SCENARIO_DOUBLE,
	  .min = LOAD_MIN_DURATION,
	  .max = RUN_MAX_SECONDS,
	  .def = 30,
	  .report_key = "duration_s",
	  .load_option = "duration",
	  .offset = AT(duration) },
	{ .name = "warmup",
	  .doc = "seconds of sending before measurement starts",
	  .type = SCENARIO_DOUBLE,
	  .min = 0,
	  .max = LOAD_MAX_PHASE_SECONDS,
	  .def = 0,
	  .report_key = "warmup_s",
	  .load_option = "warmup",
	  .offset = AT(warmup) },
	{ .name = "message_size",
	  .doc = "bytes per message, at least what the message header needs",
	  .type = SCENARIO_UINT,
	  .min = 1,
	  .max = MESSAGE_MAX_SIZE,
	  .def = 64,
	  .report_key = "message_size",
	  .load_option = "size",
	  .offset = AT(message_size) },
	{ .name = "message_type",
	  .doc = "text or binary messages",
	  .type = SCENARIO_CHOICE,
	  .def = MESSAGE_TEXT,
	  .choice_name = type_name,
	  .n_choices = MESSAGE_BINARY + 1,
	  .report_key = "message_type",
	  .load_option = "type",
	  .offset = AT(message_type) },
	{ .name = "drain_timeout",
	  .doc = "seconds to wait for outstanding echoes after sending",
	  .type = SCENARIO_DOUBLE,
	  .min = 0,
	  .max = LOAD_MAX_PHASE_SECONDS,
	  .def = 5,
	  .report_key = "drain_timeout_s",
	  .load_option = "drain-timeout",
	  .offset = AT(drain_timeout) },
	{ .name = "payload",
	  .doc = "message filler: random bytes, pseudo-English text or zeros (how well "
	         "permessage-deflate compresses it)",
	  .type = SCENARIO_CHOICE,
	  .def = PAYLOAD_RANDOM,
	  .choice_name = payload_name,
	  .n_choices = PAYLOAD_ZEROS + 1,
	  .report_key = "payload",
	  .load_option = "payload",
	  .offset = AT(payload) },
	/* Not an option: wss:// in the URL, and --ca from the server's tls
	 * settings (run.c). The server must have the tls capability. */
	{ .name = "tls",
	  .doc = "over TLS (wss://), the certificate verified",
	  .type = SCENARIO_BOOL,
	  .def = false,
	  .report_key = "tls",
	  .offset = AT(tls) },
	{ .name = "deflate",
	  .doc = "offer permessage-deflate (RFC 7692); the server must have the deflate "
	         "capability",
	  .type = SCENARIO_BOOL,
	  .def = false,
	  .report_key = "deflate",
	  .load_option = "deflate",
	  .offset = AT(deflate) },
};

const size_t scenario_n_fields = ELEMENTSOF(scenario_fields);

const struct scenario_field *scenario_find_field(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(scenario_fields); i++)
		if (strcmp(scenario_fields[i].name, key) == 0)
			return &scenario_fields[i];
	return NULL;
}

static void *slot(struct scenario_config *s, const struct scenario_field *f)
{
	return (char *)s + f->offset;
}

static const void *cslot(const struct scenario_config *s, const struct scenario_field *f)
{
	return (const char *)s + f->offset;
}

bool scenario_get(const struct scenario_config *s, size_t i, struct scenario_value *ret)
{
	const struct scenario_field *f = &scenario_fields[i];

	if (f->applies && !f->applies(s))
		return false;
	*ret = (struct scenario_value){ .field = f };
	switch (f->type) {
	case SCENARIO_UINT:
		ret->u = *(const unsigned *)cslot(s, f);
		break;
	case SCENARIO_DOUBLE:
		ret->d = *(const double *)cslot(s, f);
		break;
	case SCENARIO_CHOICE:
		ret->choice = f->choice_name(*(const unsigned *)cslot(s, f));
		break;
	case SCENARIO_BOOL:
		ret->b = *(const bool *)cslot(s, f);
		ret->choice = ret->b ? "true" : "false";
		break;
	}
	return true;
}

void scenario_init(struct scenario_config *s)
{
	*s = (struct scenario_config){ 0 };
	for (size_t i = 0; i < ELEMENTSOF(scenario_fields); i++) {
		const struct scenario_field *f = &scenario_fields[i];

		if (f->type == SCENARIO_DOUBLE)
			*(double *)slot(s, f) = f->def;
		else if (f->type == SCENARIO_BOOL)
			*(bool *)slot(s, f) = f->def != 0;
		else
			*(unsigned *)slot(s, f) = (unsigned)f->def;
	}
}

int scenario_set_number(struct scenario_config *s, const char *key, double value, bool integral,
                        char *err, size_t errlen)
{
	const struct scenario_field *f = scenario_find_field(key);

	if (!f)
		return -ENOENT;
	if (f->type == SCENARIO_CHOICE) {
		snprintf(err, errlen, "must be a string");
		return -EINVAL;
	}
	if (f->type == SCENARIO_BOOL) {
		snprintf(err, errlen, "must be true or false, got %.15g", value);
		return -EINVAL;
	}
	/* The range first: only a finite value within it may be converted to
	 * unsigned (anything else is undefined behaviour). */
	if (!isfinite(value) || value < f->min || value > f->max) {
		snprintf(err, errlen, "must be %.15g..%.15g, got %.15g", f->min, f->max, value);
		return -EINVAL;
	}
	if (f->type == SCENARIO_UINT && (!integral || value != floor(value))) {
		snprintf(err, errlen, "must be a whole number, got %.15g", value);
		return -EINVAL;
	}
	if (f->type == SCENARIO_UINT)
		*(unsigned *)slot(s, f) = (unsigned)value;
	else
		*(double *)slot(s, f) = value;
	return 0;
}

int scenario_set_string(struct scenario_config *s, const char *key, const char *value, char *err,
                        size_t errlen)
{
	const struct scenario_field *f = scenario_find_field(key);
	size_t n;

	if (!f)
		return -ENOENT;
	/* --set tls=true comes as a string. */
	if (f->type == SCENARIO_BOOL) {
		if (strcmp(value, "true") && strcmp(value, "false")) {
			snprintf(err, errlen, "must be true or false, got \"%s\"", value);
			return -EINVAL;
		}
		*(bool *)slot(s, f) = strcmp(value, "true") == 0;
		return 0;
	}
	if (f->type != SCENARIO_CHOICE) {
		snprintf(err, errlen, "must be a number, got \"%s\"", value);
		return -EINVAL;
	}
	for (unsigned v = 0; v < f->n_choices; v++)
		if (strcmp(f->choice_name(v), value) == 0) {
			*(unsigned *)slot(s, f) = v;
			return 0;
		}
	n = (size_t)snprintf(err, errlen, "must be one of");
	for (unsigned v = 0; v < f->n_choices && n < errlen; v++)
		n += (size_t)snprintf(err + n, errlen - n, " %s", f->choice_name(v));
	if (n < errlen)
		snprintf(err + n, errlen - n, ", got \"%s\"", value);
	return -EINVAL;
}

int scenario_set_bool(struct scenario_config *s, const char *key, bool value, char *err,
                      size_t errlen)
{
	const struct scenario_field *f = scenario_find_field(key);

	if (!f)
		return -ENOENT;
	if (f->type != SCENARIO_BOOL) {
		snprintf(err, errlen, "must be a %s, got %s",
		         f->type == SCENARIO_CHOICE ? "string" : "number",
		         value ? "true" : "false");
		return -EINVAL;
	}
	*(bool *)slot(s, f) = value;
	return 0;
}

void scenario_names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(scenario_fields) && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
		                      scenario_fields[i].name);
}

void scenario_schedule(const struct scenario_config *s, struct schedule *ret)
{
	*ret = (struct schedule){
		.pattern = s->pattern,
		.rate = s->rate,
		.rate_end = s->rate_end,
		.burst = s->burst,
		.interval = s->interval,
		.duration = s->duration + s->warmup,
		.clients = s->clients,
	};
}

double scenario_total_seconds(const struct scenario_config *s)
{
	return s->ramp_up + s->warmup + s->duration;
}

int scenario_check(const struct scenario_config *s, char *err, size_t errlen)
{
	bool ramp = s->pattern == PATTERN_RAMP;
	struct schedule schedule;
	size_t min;

	if (ramp && s->rate_end < 0) {
		snprintf(err, errlen, "rate_end: pattern \"ramp\" needs rate_end");
		return -EINVAL;
	}
	if (!ramp && s->rate_end >= 0) {
		snprintf(err, errlen, "rate_end: applies only to pattern \"ramp\"");
		return -EINVAL;
	}
	if (s->pattern == PATTERN_FIXED && s->rate <= 0) {
		snprintf(err, errlen, "rate: must be above 0 for pattern \"fixed\"");
		return -EINVAL;
	}
	if (ramp && s->rate <= 0 && s->rate_end <= 0) {
		snprintf(err, errlen, "rate: a ramp needs a rate above 0 at one end");
		return -EINVAL;
	}
	if (s->ramp_up + s->warmup + s->duration + s->drain_timeout > RUN_MAX_SECONDS) {
		snprintf(
		    err, errlen,
		    "duration: ramp_up + warmup + duration + drain_timeout must be at most %d s "
		    "(24 h), got %.15g: wsbench-load's result must fit wsbenchd's 16 MiB line",
		    RUN_MAX_SECONDS, s->ramp_up + s->warmup + s->duration + s->drain_timeout);
		return -EINVAL;
	}
	/* The bound wsbench-load enforces: the largest header must fit. */
	scenario_schedule(s, &schedule);
	min = message_min_size_for_run(s->message_type, s->clients,
	                               schedule_total_rate(&schedule) / s->clients,
	                               schedule.duration);
	if (s->message_size < min) {
		snprintf(err, errlen,
		         "message_size: must be at least %zu for a %s message in this "
		         "scenario, got %u",
		         min, message_type_to_string(s->message_type), s->message_size);
		return -EINVAL;
	}
	return 0;
}

int scenario_check_fd_limit(const struct scenario_config *s, size_t fd_limit, char *err,
                            size_t errlen)
{
	size_t needed = (size_t)s->clients + LOAD_FD_OVERHEAD;

	if (needed <= fd_limit)
		return 0;
	snprintf(err, errlen,
	         "clients=%u needs %zu file descriptors in wsbench-load, but it may open only %zu "
	         "(the hard RLIMIT_NOFILE of wsbenchd, LimitNOFILE= in its unit): at most %zu "
	         "clients",
	         s->clients, needed, fd_limit,
	         fd_limit > LOAD_FD_OVERHEAD ? fd_limit - LOAD_FD_OVERHEAD : 0);
	return -EMFILE;
}

void scenario_free(struct scenario_config *s)
{
	free(s->name);
	free(s->description);
	agent_list_free(&s->agents);
	memset(s, 0, sizeof(*s));
}

int scenario_copy(struct scenario_config *to, const struct scenario_config *from)
{
	*to = *from;
	to->name = from->name ? strdup(from->name) : NULL;
	to->description = from->description ? strdup(from->description) : NULL;
	if ((from->name && !to->name) || (from->description && !to->description) ||
	    agent_list_copy(&to->agents, &from->agents) < 0) {
		scenario_free(to);
		return -ENOMEM;
	}
	return 0;
}
