/* SPDX-License-Identifier: MIT */
/*
 * A run's report, as the JSON document report-store.c stores: wsbench-load's
 * result with the daemon's metadata, clientConfig, serverConfig and
 * resourceUsage around it. The state it records is the run's at the time.
 */
#pragma once

struct run;

/* Return: the report's text (malloc'd), or NULL on allocation failure. */
char *report_build(const struct run *r);
