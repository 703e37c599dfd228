/* SPDX-License-Identifier: MIT */
/*
 * The comparison of servers from their runs' reports (wsbenchctl compare):
 * for each server ("arm": A/A compares have one server in two arms) and
 * each figure, the trials' values, their median and 95% interval, and
 * against the first arm (the baseline) the ratio, its interval and a
 * verdict (stats.h). The model is a cJSON tree: what `compare --json`
 * prints, and what the table, Markdown and HTML renderers show.
 *
 *   {"scenario", "compare_id" (or null), "method", "baseline",
 *    "figures": [{"key", "label", "unit", "better": "higher"|"lower",
 *                 "tested": bool}...],
 *    "servers": [{"name", "arm", "trials", "runs": [ids], "excluded": [{"id", "why"}],
 *                 "client_limited", "noisy" (trial counts),
 *                 "figures": {KEY: {"median", "ci_low", "ci_high", "min", "max",
 *                                   "values": [...]} | null},
 *                 "vs_baseline": {KEY: {"ratio", "ci_low", "ci_high", "p_value",
 *                                       "verdict"}} (not on the baseline)}...]}
 *
 * "tested" figures are the ones a verdict is given for, corrected together
 * (Holm) per pair; the others are shown with their interval only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cJSON;

#define COMPARE_MODEL_MAX_ARMS 16

/* One report and the arm it belongs to. */
struct compare_input {
	const struct cJSON *report;
	unsigned arm;
};

/**
 * compare_model_build() - the model of @n reports in @n_arms arms named
 * @arm_names (arm 0 is the baseline). Warm-up trials (metadata.compare.
 * warmup) and runs that did not finish are listed as excluded, not counted.
 * Return: 0 with the model in *@ret, -EINVAL for bad arms, -ENOMEM.
 */
int compare_model_build(const struct compare_input *in, size_t n, const char *const *arm_names,
                        unsigned n_arms, struct cJSON **ret);

/**
 * compare_model_arms() - arms for reports given one by one (compare RUN
 * RUN...): the arm a report names in metadata.compare when all name the
 * same compare; otherwise one arm per server name, in order of first
 * appearance.
 * @arms: receives one arm per report; @names: room for
 * COMPARE_MODEL_MAX_ARMS pointers into the reports.
 * Return: the number of arms, or -EINVAL (more than the maximum, a report
 * with no server name).
 */
int compare_model_arms(const struct cJSON *const *reports, size_t n, unsigned *arms,
                       const char **names);

/* The figures' table (rows figures, columns servers), as text on a
 * terminal or as Markdown. Return: 0 or -EIO. */
int compare_model_print_text(FILE *out, const struct cJSON *model);
int compare_model_print_markdown(FILE *out, const struct cJSON *model);

/* Whether @report counts as a trial (finished, not a warm-up). */
bool compare_model_counted(const struct cJSON *report);

/* Figure @key ("rate", "p99", ...) of one report. Return: 0, or -ENOENT. */
int compare_model_value(const struct cJSON *report, const char *key, double *ret);

/* The median of figure @key of arm @arm in @model, or NAN. */
double compare_model_median(const struct cJSON *model, unsigned arm, const char *key);

/* The arm with the best median of @figure (an entry of the model's
 * "figures"), or -1 when fewer than two arms have one or the best ties. */
int compare_model_best(const struct cJSON *model, const struct cJSON *figure);

/* Whether every arm has a counted trial and no trial failed or was cancelled. */
bool compare_model_complete(const struct cJSON *model);

/**
 * compare_html_write() - the comparison as one self-contained web page:
 * the figures' table, each figure's trials as dots with the interval, then
 * the charts of report-html.h for @reports (one trial per server).
 * Return: 0, or a negative errno.
 */
int compare_html_write(FILE *out, const struct cJSON *model, const struct cJSON *const *reports,
                       size_t n);
