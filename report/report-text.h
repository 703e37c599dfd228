/* SPDX-License-Identifier: MIT */
/*
 * The readable summary of a run, the one text rendering there is: from a
 * report wsbenchd stored (wsbenchctl report RUN) or from wsbench-load's own
 * result (wsbench-load --format text). Both are JSON documents with the
 * same sections (throughput, latency, errors, client); a stored report adds
 * metadata, clientConfig and resourceUsage, a bare result has tool and
 * config instead. A missing field prints as nan or nothing, never fails.
 */
#pragma once

#include <stdio.h>

struct cJSON;

/**
 * report_text_write() - the summary of @doc (a stored report, or a
 * wsbench-load result) to @out.
 */
void report_text_write(FILE *out, const struct cJSON *doc);
