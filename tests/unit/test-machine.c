/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for daemon/machine.c: the CPU model from /proc/cpuinfo's text,
 * the governor from a made-up sysfs directory, what the machine and the
 * build say, and each server's toolchain.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "machine.h"

static void test_cpu_model(void **state)
{
	char buf[64];

	assert_int_equal(machine_parse_cpu_model("processor\t: 0\nvendor_id\t: AuthenticAMD\n"
	                                         "model\t\t: 1\nmodel name\t: AMD EPYC 7B13  \n"
	                                         "processor\t: 1\nmodel name\t: other\n",
	                                         buf, sizeof(buf)),
	                 0);
	assert_string_equal(buf, "AMD EPYC 7B13");
	/* No model name (some ARM kernels): not available, not made up. */
	assert_int_equal(
	    machine_parse_cpu_model("processor\t: 0\nBogoMIPS\t: 50.00\n", buf, sizeof(buf)),
	    -ENOENT);
	assert_string_equal(buf, MACHINE_NOT_AVAILABLE);
	assert_int_equal(machine_parse_cpu_model("model name\t:\n", buf, sizeof(buf)), -ENOENT);
	/* The last line without its newline. */
	assert_int_equal(machine_parse_cpu_model("model name: X", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "X");
}

static void put(const char *dir, const char *cpu, const char *gov)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, cpu);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/cpufreq", dir, cpu);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/cpufreq/scaling_governor", dir, cpu);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", gov);
	fclose(f);
}

static void test_governor(void **state)
{
	char dir[] = "/tmp/test-machine-XXXXXX", buf[128], cmd[64];

	assert_non_null(mkdtemp(dir));
	assert_int_equal(machine_read_governor(dir, buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, MACHINE_NOT_AVAILABLE);
	put(dir, "cpu0", "performance");
	put(dir, "cpu1", "performance");
	assert_int_equal(machine_read_governor(dir, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "performance");
	put(dir, "cpu2", "powersave");
	assert_int_equal(machine_read_governor(dir, buf, sizeof(buf)), 0);
	/* Directory order is the kernel's: both, each once. */
	assert_true(strcmp(buf, "performance,powersave") == 0 ||
	            strcmp(buf, "powersave,performance") == 0);
	snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_machine_and_build(void **state)
{
	struct machine_info m;

	machine_get(&m);
	assert_true(m.cpus >= 1);
	assert_true(strlen(m.kernel) > 0);
	assert_true(strlen(m.cpu_model) > 0);
	assert_true(strlen(m.governor) > 0);
	assert_true(strlen(machine_git_revision()) > 0);
	assert_int_equal(strncmp(machine_lws_version(), "4.", 2), 0);
}

static void test_toolchain(void **state)
{
	char *cmd_node[] = { "/no/such/dir/node", "server.js", "{port}", NULL };
	char *cmd_other[] = { "/usr/bin/python3", "x.py", "{port}", NULL };
	struct server_config builtin = { .kind = SERVER_BUILTIN };
	struct server_config url = { .kind = SERVER_URL, .url = "ws://127.0.0.1:1/" };
	struct server_config node = { .kind = SERVER_COMMAND, .command = cmd_node };
	struct server_config other = { .kind = SERVER_COMMAND, .command = cmd_other };
	char *s;

	s = machine_server_toolchain(&builtin);
	assert_non_null(s); /* the C compiler */
	free(s);
	assert_null(machine_server_toolchain(&url));
	assert_null(machine_server_toolchain(&other));
	/* A node that cannot be run: unknown rather than invented. */
	assert_null(machine_server_toolchain(&node));
	if (access("/usr/bin/node", X_OK) == 0) {
		cmd_node[0] = "/usr/bin/node";
		s = machine_server_toolchain(&node);
		assert_non_null(s);
		assert_int_equal(strncmp(s, "node v", 6), 0);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_model),
		cmocka_unit_test(test_governor),
		cmocka_unit_test(test_machine_and_build),
		cmocka_unit_test(test_toolchain),
	};

	return cmocka_run_group_tests_name("machine", tests, NULL, NULL);
}
