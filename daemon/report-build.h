/* SPDX-License-Identifier: MIT */
/*
 * A run's report, as the JSON document report-store.c stores: wsbench-load's
 * result with the daemon's metadata, clientConfig, serverConfig and
 * resourceUsage around it. The state it records is the run's at the time.
 * Also the HTML page stored beside it.
 */
#pragma once

struct run;

/* Return: the report's text (malloc'd), or NULL on allocation failure. */
char *report_build(const struct run *r);

/**
 * report_build_page() - the self-contained HTML page (report/report-html.h)
 * of @report, a report's text.
 * Return: 0 with the malloc'd page in *@ret, -EINVAL when @report is not a
 * JSON object, or -ENOMEM.
 */
int report_build_page(const char *report, char **ret);
