/* SPDX-License-Identifier: MIT */
/*
 * The report store: one JSON file per run in the report directory, named
 * <scenario>_<language>_<UTC timestamp>.json, written atomically (temporary
 * file, fsync, rename, fsync of the directory) so a crash never leaves half a
 * report, pruned to the configured count, and indexed again at start-up so
 * reports outlive the daemon. The index is saved beside the reports
 * (.index.jsonl), so a start reads only the reports it does not describe.
 * It stores any report text with a "metadata" object (id, scenario, server,
 * state, start); report-build.c makes them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A report file as it was when indexed: a different one is read again. */
struct file_stamp {
	uint64_t size;
	int64_t mtime_sec;
	long mtime_nsec;
};

struct report_entry {
	char *id;
	char *path;
	char *scenario;
	char *server;
	char *state;
	char *start; /* ISO 8601 */
	struct file_stamp stamp;
};

struct report_store {
	char *dir;
	struct report_entry *v; /* sorted by start, then id */
	size_t n, cap;
	size_t n_read; /* reports read from their own files when the store was opened */
};

/*
 * Creates @dir if needed and indexes the reports in it: from the sidecar
 * file .index.jsonl where it describes a report as it is on disk (same
 * size and mtime), from the report itself otherwise; the sidecar is then
 * brought up to date.
 */
int report_store_open(const char *dir, struct report_store **ret);
struct report_store *report_store_free(struct report_store *s);

/**
 * report_store_add() - store @text, a report, and index it.
 * @scenario, @language, @start_wall_ns: what its file is named after.
 * @keep: how many reports to keep; older ones are removed.
 * Return: 0 with the file's path (malloc'd) in *@ret_path, or a negative
 * errno (the directory is gone or not writable, the disk is full).
 */
int report_store_add(struct report_store *s, const char *text, const char *scenario,
                     const char *language, int64_t start_wall_ns, unsigned keep, char **ret_path);

/**
 * report_store_add_beside() - store @text beside the report at @json_path
 * (as report_store_add() returned it), under the same name with @suffix
 * (".html") in place of ".json", atomically (temporary file, fsync,
 * rename). It is not indexed; pruning removes it with its report.
 * Return: 0, or a negative errno.
 */
int report_store_add_beside(const struct report_store *s, const char *json_path, const char *suffix,
                            const char *text);

const struct report_entry *report_store_find(const struct report_store *s, const char *id);

/* The highest run number (the N of an id "<stamp>_N") among the stored
 * reports, so a restarted daemon numbers its runs after them. */
unsigned report_store_highest_run_number(const struct report_store *s);

/* Reads a stored report. Return: 0 with malloc'd JSON, or a negative errno. */
int report_store_read(const struct report_store *s, const char *id, char **ret);
