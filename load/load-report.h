/* SPDX-License-Identifier: MIT */
/* Turning a load result into JSON or a readable summary. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "load-protocol.h"
#include "load-result.h"

/* --format jsonl's lines as printf formats (common/load-protocol.h names the
 * keys). */
#define LOAD_JSONL_KEY(k) "\"" k "\":"
// clang-format off
/* Once a second: elapsed, total, phase, connected, clients, sent, received,
 * rate, p99, p99 so far, errors. */
#define LOAD_JSONL_PROGRESS                                                                        \
	"{" LOAD_JSONL_KEY(LOAD_KEY_TYPE) "\"" LOAD_LINE_PROGRESS "\","                             \
	LOAD_JSONL_KEY(LOAD_KEY_ELAPSED) "%.1f," LOAD_JSONL_KEY(LOAD_KEY_TOTAL) "%.1f,"            \
	LOAD_JSONL_KEY(LOAD_KEY_PHASE) "\"%s\","                                                   \
	LOAD_JSONL_KEY(LOAD_KEY_CONNECTED) "%u," LOAD_JSONL_KEY(LOAD_KEY_CLIENTS) "%u,"            \
	LOAD_JSONL_KEY(LOAD_KEY_SENT) "%llu," LOAD_JSONL_KEY(LOAD_KEY_RECEIVED) "%llu,"            \
	LOAD_JSONL_KEY(LOAD_KEY_RATE) "%.1f," LOAD_JSONL_KEY(LOAD_KEY_P99) "%.3f,"                 \
	LOAD_JSONL_KEY(LOAD_KEY_P99_SO_FAR) "%.3f," LOAD_JSONL_KEY(LOAD_KEY_ERRORS) "%llu}\n"
/* --find-max-rate: a line per trial, then its own fields and "}". */
#define LOAD_JSONL_TRIAL_START "{" LOAD_JSONL_KEY(LOAD_KEY_TYPE) "\"" LOAD_LINE_TRIAL "\","
/* The last line: the result, then "}". */
#define LOAD_JSONL_RESULT_START                                                                    \
	"{" LOAD_JSONL_KEY(LOAD_KEY_TYPE) "\"" LOAD_LINE_RESULT "\"," LOAD_JSONL_KEY(LOAD_KEY_RESULT)
// clang-format on

/* The result as JSON. Return: a malloc'd string, or NULL on allocation failure. */
char *load_report_json(const struct load_result *r, bool pretty);

/* The readable summary (report/report-text.c's). Return: 0 or -ENOMEM. */
int load_report_text(FILE *f, const struct load_result *r);

/* The result on stdout in @format: the summary, the JSON document, or the
 * last JSON line. Return: 0 or -ENOMEM. */
int load_report_print(const struct load_result *r, enum load_format format);
