/* SPDX-License-Identifier: MIT */
/*
 * Tolerant reading of a wsbench JSON report (as daemon/report-build.c writes it):
 * fields by dotted path, numbers only when finite, ISO 8601 timestamps, the
 * encoded histograms. Absent and mistyped fields are reported, never trusted,
 * so a renderer can leave a section out instead of failing.
 */
#pragma once

#include <stddef.h>

struct cJSON;
struct histogram;

/**
 * report_get() - the item at @path under @root.
 * @path: object keys separated by dots, e.g. "latency.corrected.p99".
 * Return: the item, or NULL when any step is absent or not an object.
 */
const struct cJSON *report_get(const struct cJSON *root, const char *path);

/**
 * report_get_number() - a finite number at @path.
 * Return: 0 with the number in *@ret, -ENOENT when absent, -EINVAL when it
 * is not a finite number.
 */
int report_get_number(const struct cJSON *root, const char *path, double *ret);

/* The string at @path, or NULL when absent or not a string. */
const char *report_get_string(const struct cJSON *root, const char *path);

/**
 * report_parse_time() - "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (UTC, as
 * format_iso8601() writes it) as seconds since the epoch.
 * Return: 0, or -EINVAL for anything else.
 */
int report_parse_time(const char *s, double *ret);

/**
 * report_get_histogram() - decode histogram.@which ("corrected" or
 * "uncorrected"; values in µs) into @ret.
 * Return: 0, -ENOENT when absent, -EINVAL when it does not decode.
 */
int report_get_histogram(const struct cJSON *root, const char *which, struct histogram *ret);
