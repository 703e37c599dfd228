/* SPDX-License-Identifier: MIT */
/*
 * The `--set KEY=VALUE` overrides of a run: `wsbenchctl start --set` turns
 * each into a typed D-Bus value, wsbenchd's StartRun applies them to a copy
 * of the scenario with scenario_set_number() / scenario_set_string() and
 * checks the result with scenario_check() and scenario_check_fd_limit()
 * (daemon/config.c). Those three are called here as the daemon calls them;
 * the two steps around them are static in ctl/wsbenchctl.c (append_set())
 * and daemon/bus.c (read_override()), so their few lines are repeated below,
 * marked, until the ctl and the bus code are split into modules (issue 16).
 *
 * Input: a byte choosing the base scenario (of the shipped configuration),
 * two bytes of RLIMIT_NOFILE, then lines. A line "KEY=VALUE" is typed as
 * wsbenchctl types it; a line starting with a byte 0x01-0x06 is KEY, a NUL,
 * then a raw D-Bus value of type s, d, u, i, t or x (what any bus client may
 * send).
 *
 * Checked: whatever is sent, a value is range-checked before it is
 * converted (UndefinedBehaviorSanitizer aborts on a double that does not
 * fit its integer); an accepted set of overrides gives a scenario inside the
 * documented ranges that passes scenario_check(); an unknown key and the
 * description are refused; a copy of the result is equal to it; and
 * wsbench-load accepts the command line wsbenchd then starts it with
 * (fuzz-scenario.h), so no run that StartRun accepts fails at its start.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fdlimit.h"
#include "fuzz-scenario.h"
#include "fuzz.h"
#include "macro.h"
#include "message.h"

static struct wsbench_config *config;

/* The shipped scenarios (etc/wsbench.conf) and one of each pattern. */
static const char conf_text[] =
    "servers = ( { name = \"c-lws\"; builtin = true; port = 9001; } );\n"
    "scenarios = (\n"
    "  { name = \"single\"; clients = 1; rate = 10.0; duration = 30.0; warmup = 1.0; },\n"
    "  { name = \"burst-100\"; clients = 100; ramp_up = 0.0; rate = 10.0; duration = 20.0;\n"
    "    warmup = 2.0; },\n"
    "  { name = \"steady-1000\"; clients = 1000; ramp_up = 10.0; rate = 1.0; duration = 60.0;\n"
    "    warmup = 2.0; },\n"
    "  { name = \"binary-100\"; clients = 100; ramp_up = 1.0; rate = 20.0; duration = 20.0;\n"
    "    warmup = 2.0; message_size = 1024; message_type = \"binary\"; },\n"
    "  { name = \"large-messages\"; clients = 10; rate = 2.0; duration = 20.0; warmup = 2.0;\n"
    "    message_size = 1048576; message_type = \"binary\"; drain_timeout = 10.0; },\n"
    "  { name = \"bursts\"; pattern = \"burst\"; burst = 50; interval = 0.5; clients = 10; },\n"
    "  { name = \"ramp\"; pattern = \"ramp\"; rate = 1.0; rate_end = 100.0; clients = 10; }\n"
    ");\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config_errors errors = { 0 };
	char path[64];
	int fd = memfd_create("overrides.conf", MFD_CLOEXEC), r;

	if (fd < 0 || write(fd, conf_text, sizeof(conf_text) - 1) != sizeof(conf_text) - 1)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = config_load(path, &config, &errors);
	for (size_t i = 0; i < errors.n; i++)
		fprintf(stderr, "%s\n", errors.lines[i]);
	config_errors_clear(&errors);
	close(fd);
	fuzz_check(r == 0);
	return 0;
}

/* One override as D-Bus carries it. */
struct value {
	char type; /* s d u i t x */
	const char *s;
	double d;
	uint32_t u;
	int32_t i;
	uint64_t t;
	int64_t x;
};

/* wsbenchctl.c append_set(): whole numbers as u, other numbers as d, the
 * rest as s. (A copy, see above.) */
static int ctl_type(const char *set, char *key, size_t keylen, struct value *v)
{
	const char *eq = strchr(set, '=');
	char *end;
	double d;
	long long ll;

	if (!eq || eq == set || (size_t)(eq - set) >= keylen)
		return -EINVAL;
	memcpy(key, set, (size_t)(eq - set));
	key[eq - set] = '\0';
	eq++;
	ll = strtoll(eq, &end, 10);
	if (*eq && *end == '\0' && ll >= 0 && ll <= UINT32_MAX) {
		*v = (struct value){ .type = 'u', .u = (uint32_t)ll };
		return 0;
	}
	d = strtod(eq, &end);
	if (*eq && *end == '\0' && isfinite(d)) {
		*v = (struct value){ .type = 'd', .d = d };
		return 0;
	}
	*v = (struct value){ .type = 's', .s = eq };
	return 0;
}

/* bus.c read_override(), after the D-Bus reads. (A copy, see above.) */
static int apply(struct scenario_config *s, const char *key, const struct value *v)
{
	char err[256] = "";
	double num = 0;
	bool integral = true;
	int r;

	switch (v->type) {
	case 's':
		r = scenario_set_string(s, key, v->s, err, sizeof(err));
		break;
	case 'd':
		num = v->d;
		integral = isfinite(v->d) && v->d == floor(v->d);
		r = scenario_set_number(s, key, num, integral, err, sizeof(err));
		break;
	default:
		num = v->type == 'u'   ? v->u
		      : v->type == 'i' ? v->i
		      : v->type == 't' ? (double)v->t
		                       : (double)v->x;
		r = scenario_set_number(s, key, num, integral, err, sizeof(err));
	}
	fuzz_check(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENOMEM);
	fuzz_check(r != -EINVAL || err[0]);
	if (r == -ENOENT || (r >= 0 && strcmp(key, "description") == 0))
		return -ENOENT;
	return r;
}

static void check_same(const struct scenario_config *a, const struct scenario_config *b)
{
	/* Every field but the strings, which are compared by value. */
	fuzz_check(a->clients == b->clients && a->message_size == b->message_size &&
	           a->rate == b->rate && a->rate_end == b->rate_end && a->burst == b->burst &&
	           a->interval == b->interval && a->duration == b->duration &&
	           a->warmup == b->warmup && a->ramp_up == b->ramp_up &&
	           a->drain_timeout == b->drain_timeout);
	fuzz_check(strcmp(a->name, b->name) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	const struct scenario_config *base = &config->scenarios[fuzz_u8(&in) % config->n_scenarios];
	size_t fd_limit = 64 + fuzz_uint(&in, 2) * 4;
	struct scenario_config s, copy;
	char *text = malloc(in.n + 1), *line, *end, err[512];
	bool ok = true;

	fuzz_check(text);
	memcpy(text, in.p, in.n);
	text[in.n] = '\0';
	fuzz_check(scenario_copy(&s, base) == 0);
	for (line = text; line < text + in.n && ok; line = end + 1) {
		char key[64];
		struct value v;

		end = memchr(line, '\n', (size_t)(text + in.n - line));
		if (!end)
			end = text + in.n;
		*end = '\0';
		if (*line >= 1 && *line <= 6) {
			/* KEY NUL VALUE: the value's bytes as the type says. */
			static const char types[] = "sdutix";
			const char *val = line + 1 + strlen(line + 1) + 1;
			uint8_t raw[8] = { 0 };

			snprintf(key, sizeof(key), "%s", line + 1);
			v = (struct value){ .type = types[*line - 1], .s = "" };
			if (val < end) {
				memcpy(raw, val, MIN(sizeof(raw), (size_t)(end - val)));
				v.s = val;
			}
			memcpy(&v.d, raw, 8);
			memcpy(&v.u, raw, 4);
			memcpy(&v.i, raw, 4);
			memcpy(&v.t, raw, 8);
			memcpy(&v.x, raw, 8);
		} else if (ctl_type(line, key, sizeof(key), &v) < 0) {
			continue; /* wsbenchctl refuses it itself */
		}
		ok = apply(&s, key, &v) == 0;
	}
	if (ok && scenario_check(&s, err, sizeof(err)) == 0) {
		fuzz_check(s.clients >= 1 && s.clients <= 100000);
		fuzz_check(s.message_size >= 1 && s.message_size <= MESSAGE_MAX_SIZE);
		fuzz_check(s.duration >= 0.1 && s.ramp_up >= 0 && s.warmup >= 0 &&
		           s.drain_timeout >= 0);
		fuzz_check(s.ramp_up + s.warmup + s.duration + s.drain_timeout <= RUN_MAX_SECONDS);
		if (scenario_check_fd_limit(&s, fd_limit, err, sizeof(err)) < 0)
			fuzz_check(s.clients + LOAD_FD_OVERHEAD > fd_limit &&
			           strstr(err, "clients="));
		else
			fuzz_check(s.clients + LOAD_FD_OVERHEAD <= fd_limit);
		fuzz_check(scenario_copy(&copy, &s) == 0);
		check_same(&s, &copy);
		scenario_free(&copy);
		fuzz_load_accepts(&s);
	}
	scenario_free(&s);
	free(text);
	return 0;
}
