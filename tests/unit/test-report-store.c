/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/report-store.c: atomic writes, names, listing, the sidecar, bad files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "report-store.h"

/* 2026-12-02T03:00:00Z */
#define T0 (1796180400LL * NSEC_PER_SEC)

struct fixture {
	char dir[64];
	char reports[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/wsbench-test-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->reports, sizeof(f->reports), "%s/a/reports", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static char *report_text(const char *id, const char *scenario, const char *start)
{
	char *s;

	assert_true(
	    asprintf(&s,
	             "{\"metadata\":{\"id\":\"%s\",\"scenario\":\"%s\",\"server\":\"c-lws\","
	             "\"state\":\"finished\",\"start\":\"%s\"},\"latency\":{}}",
	             id, scenario, start) > 0);
	return s;
}

static char *add(struct report_store *s, const char *id, const char *start, int64_t start_ns,
                 unsigned keep)
{
	char *text = report_text(id, "burst", start), *path = NULL;

	assert_int_equal(report_store_add(s, text, "burst", "c", start_ns, keep, &path), 0);
	free(text);
	return path;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool exists(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static unsigned count_temporary(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strncmp(de->d_name, ".tmp-", 5) == 0;
	closedir(d);
	return n;
}

/* The directory is created; a report is written whole under its name,
 * readable, indexed by its metadata, and nothing temporary is left. */
static void test_write(void **state)
{
	struct fixture *f = *state;
	struct report_store *s;
	char *path, *text, *back;
	struct stat st;

	assert_int_equal(report_store_open(f->reports, &s), 0);
	assert_int_equal(s->n, 0);
	text = report_text("20261202T030000Z_1", "burst", "2026-12-02T03:00:00.000Z");
	assert_int_equal(report_store_add(s, text, "burst", "c", T0, 10, &path), 0);
	assert_non_null(strstr(path, "/a/reports/burst_c_20261202T030000Z.json"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(count_temporary(f->reports), 0);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->v[0].id, "20261202T030000Z_1");
	assert_string_equal(s->v[0].scenario, "burst");
	assert_string_equal(s->v[0].state, "finished");
	assert_ptr_equal(report_store_find(s, "20261202T030000Z_1"), &s->v[0]);
	assert_int_equal(report_store_read(s, "20261202T030000Z_1", &back), 0);
	assert_string_equal(back, text);
	free(back);
	assert_int_equal(report_store_read(s, "nope", &back), -ENOENT);
	assert_true(exists(f->reports, ".index.jsonl"));
	free(text);
	free(path);
	report_store_free(s);
}

/* Runs that start in the same second get -2, -3; a file that took a name
 * meanwhile is never replaced. */
static void test_names_never_replace_a_file(void **state)
{
	struct fixture *f = *state;
	struct report_store *s;
	char *p1, *p2, *p3;

	assert_int_equal(report_store_open(f->reports, &s), 0);
	p1 = add(s, "20261202T030000Z_1", "2026-12-02T03:00:00.000Z", T0, 10);
	p2 = add(s, "20261202T030000Z_2", "2026-12-02T03:00:00.100Z", T0, 10);
	assert_non_null(strstr(p2, "burst_c_20261202T030000Z-2.json"));
	write_file(f->reports, "burst_c_20261202T030000Z-3.json", "not ours");
	p3 = add(s, "20261202T030000Z_3", "2026-12-02T03:00:00.200Z", T0, 10);
	assert_non_null(strstr(p3, "burst_c_20261202T030000Z-4.json"));
	assert_int_equal(s->n, 3);
	free(p1);
	free(p2);
	free(p3);
	report_store_free(s);
}

/* Beyond @keep, the oldest reports go, files and entries. */
static void test_prune(void **state)
{
	struct fixture *f = *state;
	struct report_store *s;
	char *p[3];

	assert_int_equal(report_store_open(f->reports, &s), 0);
	p[0] = add(s, "20261202T030000Z_1", "2026-12-02T03:00:00.000Z", T0, 2);
	p[1] = add(s, "20261202T030001Z_2", "2026-12-02T03:00:01.000Z", T0 + NSEC_PER_SEC, 2);
	p[2] = add(s, "20261202T030002Z_3", "2026-12-02T03:00:02.000Z", T0 + 2 * NSEC_PER_SEC, 2);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->v[0].id, "20261202T030001Z_2");
	assert_int_equal(access(p[0], F_OK), -1);
	assert_int_equal(access(p[1], F_OK), 0);
	for (int i = 0; i < 3; i++)
		free(p[i]);
	report_store_free(s);
}

/* A new store lists what the directory holds, sorted by start: from the
 * sidecar where it describes the file as it is, from the file otherwise. */
static void test_listing_across_restarts(void **state)
{
	struct fixture *f = *state;
	struct report_store *s;
	char sidecar[256], *p;

	assert_int_equal(report_store_open(f->reports, &s), 0);
	free(add(s, "20261202T030005Z_7", "2026-12-02T03:00:05.000Z", T0 + 5 * NSEC_PER_SEC, 10));
	free(add(s, "20261202T030001Z_12", "2026-12-02T03:00:01.000Z", T0 + NSEC_PER_SEC, 10));
	p = add(s, "20261202T030003Z_9", "2026-12-02T03:00:03.000Z", T0 + 3 * NSEC_PER_SEC, 10);
	report_store_free(s);

	assert_int_equal(report_store_open(f->reports, &s), 0);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->n_read, 0); /* all from the sidecar */
	assert_string_equal(s->v[0].id, "20261202T030001Z_12");
	assert_string_equal(s->v[2].id, "20261202T030005Z_7");
	assert_int_equal(report_store_highest_run_number(s), 12);
	report_store_free(s);

	/* A report changed since: read again. */
	write_file(f->reports, strrchr(p, '/') + 1,
	           "{\"metadata\":{\"id\":\"20261202T030003Z_9\",\"scenario\":\"burst\","
	           "\"server\":\"c-lws\",\"state\":\"cancelled\",\"start\":\"2026-12-02T03:00:03."
	           "000Z\"}}");
	assert_int_equal(report_store_open(f->reports, &s), 0);
	assert_int_equal(s->n_read, 1);
	assert_string_equal(report_store_find(s, "20261202T030003Z_9")->state, "cancelled");
	report_store_free(s);

	/* No sidecar: every report read. */
	snprintf(sidecar, sizeof(sidecar), "%s/.index.jsonl", f->reports);
	assert_int_equal(unlink(sidecar), 0);
	assert_int_equal(report_store_open(f->reports, &s), 0);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->n_read, 3);
	assert_true(exists(f->reports, ".index.jsonl")); /* written again */
	report_store_free(s);
	free(p);
}

/* What is not a report is left alone (stray temporary files of an
 * interrupted write are removed); a damaged sidecar costs a slower start. */
static void test_bad_files(void **state)
{
	struct fixture *f = *state;
	struct report_store *s;
	char path[256];

	assert_int_equal(report_store_open(f->reports, &s), 0);
	free(add(s, "20261202T030000Z_1", "2026-12-02T03:00:00.000Z", T0, 10));
	report_store_free(s);
	write_file(f->reports, "garbage.json", "{not json");
	write_file(f->reports, "no-metadata.json", "{\"latency\":{}}");
	write_file(f->reports, "notes.txt", "{\"metadata\":{\"id\":\"x\"}}");
	write_file(f->reports, ".hidden.json", "{\"metadata\":{\"id\":\"y\"}}");
	write_file(f->reports, ".tmp-report-abcdef", "{\"metadata\":");
	write_file(f->reports, ".index.jsonl",
	           "{broken\n{\"file\":\"../etc/passwd\",\"id\":\"z\"}\n");
	snprintf(path, sizeof(path), "%s/dir.json", f->reports);
	assert_int_equal(mkdir(path, 0755), 0);

	assert_int_equal(report_store_open(f->reports, &s), 0);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->v[0].id, "20261202T030000Z_1");
	assert_false(exists(f->reports, ".tmp-report-abcdef"));
	assert_true(exists(f->reports, "garbage.json"));
	assert_null(report_store_find(s, "z"));
	report_store_free(s);
}

/* A directory that cannot be written: the write fails with the reason and
 * the index is unchanged. */
static void test_unwritable(void **state)
{
	struct fixture *f = *state;
	struct report_store *s;
	char *text = report_text("20261202T030000Z_1", "burst", "2026-12-02T03:00:00.000Z");
	char *path = NULL, gone[128];

	assert_int_equal(report_store_open(f->reports, &s), 0);
	snprintf(gone, sizeof(gone), "%s/gone", f->dir);
	assert_int_equal(rename(f->reports, gone), 0);
	write_file(f->dir, "a/reports", "a file, not a directory");
	assert_int_equal(report_store_add(s, text, "burst", "c", T0, 10, &path), -ENOTDIR);
	assert_null(path);
	assert_int_equal(s->n, 0);
	free(text);
	report_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_never_replace_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_across_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
	};

	return cmocka_run_group_tests_name("report-store", tests, NULL, NULL);
}
