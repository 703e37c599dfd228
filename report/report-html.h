/* SPDX-License-Identifier: MIT */
/*
 * One self-contained HTML page from one or more wsbench reports: summary,
 * the latency percentile spectrum, throughput and p99 per second, the
 * server's and the client's CPU and RSS over time, errors, configuration,
 * and the run and machine. The charts are inline SVG drawn here (plot.h);
 * the page loads nothing (no scripts, fonts, images or styles from
 * elsewhere), reads in a browser and prints (print CSS).
 *
 * Reports are the JSON documents daemon/report-build.c writes (cJSON trees as
 * parsed by the caller). Every string from a report is escaped. A missing or
 * mistyped field leaves its section or series out, with a note saying so;
 * it never fails the page. With several reports (a comparison), each gets a
 * colour of its own in every chart and a column in every table.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

struct cJSON;

#define REPORT_HTML_MAX 16 /* reports on one page */

/**
 * report_html_write() - write the page for @reports to @out.
 * @reports: @n parsed reports, in the order they are to be shown.
 * Return: 0; -EINVAL when @n is 0 or above REPORT_HTML_MAX or a report is
 * not a JSON object; -ENOMEM; -EIO when writing to @out failed.
 */
int report_html_write(FILE *out, const struct cJSON *const *reports, size_t n);

/**
 * report_html_write_with() - the same page with @section(@out, @arg) first
 * in its <main> (the comparison, for wsbenchctl compare --html); the page's
 * CSS classes (table, figure, .sub, .verdict) are there for it to use.
 */
int report_html_write_with(FILE *out, const struct cJSON *const *reports, size_t n,
                           int (*section)(FILE *out, const void *arg), const void *arg);

/**
 * report_html_render() - the same page as a string, for a caller that
 * stores it its own way (the daemon's atomic report writes).
 * Return: 0 with the malloc'd, NUL-terminated page in *@ret (and its length
 * in *@ret_len when not NULL), or a negative errno as above.
 */
int report_html_render(const struct cJSON *const *reports, size_t n, char **ret, size_t *ret_len);
