/* SPDX-License-Identifier: MIT */
/*
 * wsbenchd's configuration (daemon/config.c), through the entry point
 * `wsbenchd --check-config [--dump-config]` uses: config_load() on a file
 * holding arbitrary libconfig text, then config_dump().
 *
 * Checked: every error has the form "FILE:LINE: SETTING: problem"; a file
 * with errors yields no configuration; a configuration that loads has at
 * least one server, scenarios that pass scenario_check() and that
 * wsbench-load accepts (fuzz-scenario.h), and a default server; and its
 * normal form (the dump) is a fixed point: it loads again,
 * to the same dump (strings escaped as libconfig reads them back).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz-scenario.h"
#include "fuzz.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* A file that is never on disk: libconfig reads it by its name. */
	fd = memfd_create("wsbench.conf", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static void put_file(const char *data, size_t size)
{
	fuzz_check(ftruncate(fd, 0) == 0);
	fuzz_check(pwrite(fd, data, size, 0) == (ssize_t)size);
}

static struct wsbench_config *load(struct config_errors *errors)
{
	struct wsbench_config *c = NULL;
	int r = config_load(path, &c, errors);

	fuzz_check((r == 0) == (c != NULL));
	fuzz_check(r == 0 || r == -EINVAL || r == -ENOMEM);
	fuzz_check(r != 0 || errors->n == 0);
	fuzz_check(r != -EINVAL || errors->n > 0);
	for (size_t i = 0; i < errors->n; i++) {
		/* "FILE:LINE: SETTING: problem" */
		const char *e = errors->lines[i], *p = e + strlen(path);

		fuzz_check(strncmp(e, path, strlen(path)) == 0 && *p == ':');
		p++;
		fuzz_check(*p >= '0' && *p <= '9');
		while (*p >= '0' && *p <= '9')
			p++;
		fuzz_check(p[0] == ':' && p[1] == ' ' && strstr(p + 2, ": "));
	}
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errors = { 0 };
	struct wsbench_config *c, *again;
	char *dump, *dump2, err[256];

	put_file((const char *)data, size);
	c = load(&errors);
	config_errors_clear(&errors);
	if (!c)
		return 0;

	fuzz_check(c->n_servers >= 1 && c->daemon.default_server);
	fuzz_check(config_find_server(c, c->daemon.default_server));
	for (size_t i = 0; i < c->n_scenarios; i++) {
		fuzz_check(config_find_scenario(c, c->scenarios[i].name) == &c->scenarios[i]);
		fuzz_check(scenario_check(&c->scenarios[i], err, sizeof(err)) == 0);
		fuzz_load_accepts(&c->scenarios[i]);
	}

	/* The normal form loads again, to itself. */
	dump = config_dump(c);
	fuzz_check(dump);
	put_file(dump, strlen(dump));
	again = load(&errors);
	if (!again) {
		fprintf(stderr, "the dump does not load:\n%s\n", dump);
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "%s\n", errors.lines[i]);
	}
	fuzz_check(again);
	dump2 = config_dump(again);
	fuzz_check(dump2);
	if (strcmp(dump, dump2) != 0)
		fprintf(stderr, "dump:\n%s\nits dump:\n%s\n", dump, dump2);
	fuzz_check(strcmp(dump, dump2) == 0);
	fuzz_check(again->n_servers == c->n_servers && again->n_scenarios == c->n_scenarios);
	free(dump2);
	free(dump);
	config_unref(again);
	config_unref(c);
	return 0;
}
