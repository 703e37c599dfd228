/* SPDX-License-Identifier: MIT */
/* Turning a load result into JSON or a readable summary. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "load-result.h"

/* The result as JSON. Return: a malloc'd string, or NULL on allocation failure. */
char *load_report_json(const struct load_result *r, bool pretty);

/* The readable summary (report/report-text.c's). Return: 0 or -ENOMEM. */
int load_report_text(FILE *f, const struct load_result *r);
