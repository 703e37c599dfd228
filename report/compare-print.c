/* SPDX-License-Identifier: MIT */
/*
 * The comparison as a table (see compare-model.h): one row per figure, one
 * column per server; each cell the median over the trials, with its 95%
 * interval when there are several, the best median of a row marked "*".
 * Below, each server against the baseline: the ratio, its interval and the
 * verdict. The same cells printed aligned for a terminal or as Markdown.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare-model.h"
#include "macro.h"

#define MAX_ROWS 48
#define MAX_COLS (COMPARE_MODEL_MAX_ARMS + 1)
#define CELL_LEN 64

struct table {
	char cell[MAX_ROWS][MAX_COLS][CELL_LEN];
	unsigned rows, cols;
};

/* Enough digits to tell the servers apart, not more: as many decimals as
 * @ref (the median) needs, so that a cell's three numbers line up. */
static void fmt_value(double v, double ref, char *buf, size_t len)
{
	double a = fabs(ref);
	int decimals = a >= 100 || a == 0 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.1 ? 3 : 4;

	snprintf(buf, len, "%.*f", decimals, v);
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	return s ? s : "";
}

static _printf_(4, 5) void set(struct table *t, unsigned row, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->cell[row][col], CELL_LEN, fmt, ap);
	va_end(ap);
	t->rows = MAX(t->rows, row + 1);
	t->cols = MAX(t->cols, col + 1);
}

static void figure_label(const cJSON *fig, char *buf, size_t len)
{
	if (str(fig, "unit")[0])
		snprintf(buf, len, "%s (%s)", str(fig, "label"), str(fig, "unit"));
	else
		snprintf(buf, len, "%s", str(fig, "label"));
}

static void summary_cell(struct table *t, unsigned row, unsigned col, const cJSON *sum, bool best)
{
	char m[32], lo[32], hi[32];

	if (!cJSON_IsObject(sum)) {
		set(t, row, col, "-");
		return;
	}
	fmt_value(num(sum, "median"), num(sum, "median"), m, sizeof(m));
	if (cJSON_GetArraySize(cJSON_GetObjectItem(sum, "values")) < 2) {
		set(t, row, col, "%s%s", m, best ? " *" : "");
		return;
	}
	fmt_value(num(sum, "ci_low"), num(sum, "median"), lo, sizeof(lo));
	fmt_value(num(sum, "ci_high"), num(sum, "median"), hi, sizeof(hi));
	set(t, row, col, "%s [%s-%s]%s", m, lo, hi, best ? " *" : "");
}

static void ratio_cell(struct table *t, unsigned row, unsigned col, const cJSON *x, bool count)
{
	const char *verdict = str(x, "verdict");

	if (!cJSON_IsObject(x)) {
		set(t, row, col, "-");
		return;
	}
	set(t, row, col, "%.2fx%s [%.2f-%.2f]%s%s", num(x, "ratio"), count ? " of 1+x" : "",
	    num(x, "ci_low"), num(x, "ci_high"), verdict[0] ? " " : "", verdict);
}

/* The figures' table. */
static void build_figures(struct table *t, const cJSON *model)
{
	const cJSON *servers = cJSON_GetObjectItem(model, "servers"), *fig, *s;
	unsigned row = 0, col = 1;
	char label[64];

	set(t, row, 0, "%s", "");
	cJSON_ArrayForEach(s, servers) set(t, row, col++, "%s", str(s, "name"));
	row++;
	set(t, row, 0, "trials");
	col = 1;
	cJSON_ArrayForEach(s, servers) set(t, row, col++, "%.0f", num(s, "trials"));
	row++;
	cJSON_ArrayForEach(fig, cJSON_GetObjectItem(model, "figures"))
	{
		const char *key = str(fig, "key");
		int best = compare_model_best(model, fig);

		if (row >= MAX_ROWS - 2)
			break;
		figure_label(fig, label, sizeof(label));
		set(t, row, 0, "%s", label);
		col = 1;
		cJSON_ArrayForEach(s, servers)
		{
			summary_cell(t, row, col,
			             cJSON_GetObjectItem(cJSON_GetObjectItem(s, "figures"), key),
			             (int)col - 1 == best);
			col++;
		}
		row++;
	}
	set(t, row, 0, "client-limited");
	col = 1;
	cJSON_ArrayForEach(s, servers)
	    set(t, row, col++, "%.0f of %.0f", num(s, "client_limited"), num(s, "trials"));
	row++;
	set(t, row, 0, "noisy");
	col = 1;
	cJSON_ArrayForEach(s, servers)
	    set(t, row, col++, "%.0f of %.0f", num(s, "noisy"), num(s, "trials"));
}

/* Each server after the baseline against it. Return: whether there is one. */
static bool build_ratios(struct table *t, const cJSON *model)
{
	const cJSON *servers = cJSON_GetObjectItem(model, "servers"), *fig, *s;
	unsigned row = 0, col = 1;
	char label[64];

	if (cJSON_GetArraySize(servers) < 2)
		return false;
	set(t, row, 0, "vs %s", str(model, "baseline"));
	cJSON_ArrayForEach(s, servers)
	{
		if (s != servers->child)
			set(t, row, col++, "%s", str(s, "name"));
	}
	row++;
	cJSON_ArrayForEach(fig, cJSON_GetObjectItem(model, "figures"))
	{
		const char *key = str(fig, "key");

		if (row >= MAX_ROWS)
			break;
		figure_label(fig, label, sizeof(label));
		set(t, row, 0, "%s", label);
		col = 1;
		cJSON_ArrayForEach(s, servers)
		{
			if (s == servers->child)
				continue;
			ratio_cell(t, row, col++,
			           cJSON_GetObjectItem(cJSON_GetObjectItem(s, "vs_baseline"), key),
			           cJSON_IsTrue(cJSON_GetObjectItem(fig, "count")));
		}
		row++;
	}
	return true;
}

/* Each trial's value of the figures that rank servers, in trial order: the
 * spread a median and an interval summarize. */
static void build_trials(struct table *t, const cJSON *model)
{
	const cJSON *servers = cJSON_GetObjectItem(model, "servers"), *fig, *s, *v;
	unsigned row = 0, col = 1;
	char label[64];

	set(t, row, 0, "trials");
	cJSON_ArrayForEach(s, servers) set(t, row, col++, "%s", str(s, "name"));
	row++;
	cJSON_ArrayForEach(fig, cJSON_GetObjectItem(model, "figures"))
	{
		if (!cJSON_IsTrue(cJSON_GetObjectItem(fig, "tested")) || row >= MAX_ROWS)
			continue;
		figure_label(fig, label, sizeof(label));
		set(t, row, 0, "%s", label);
		col = 1;
		cJSON_ArrayForEach(s, servers)
		{
			const cJSON *f =
			    cJSON_GetObjectItem(cJSON_GetObjectItem(s, "figures"), str(fig, "key"));
			char *cell = t->cell[row][col];
			size_t used = 0;

			set(t, row, col, "-");
			cJSON_ArrayForEach(v, cJSON_GetObjectItem(f, "values"))
			{
				char buf[32];

				fmt_value(v->valuedouble, num(f, "median"), buf, sizeof(buf));
				if (used + strlen(buf) + 3 >= CELL_LEN)
					break;
				used += (size_t)snprintf(cell + used, CELL_LEN - used, "%s%s",
				                         used ? ", " : "", buf);
			}
			col++;
		}
		row++;
	}
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void print_aligned(FILE *out, const struct table *t)
{
	size_t w[MAX_COLS] = { 0 };

	for (unsigned r = 0; r < t->rows; r++)
		for (unsigned c = 0; c < t->cols; c++)
			w[c] = MAX(w[c], width(t->cell[r][c]));
	for (unsigned r = 0; r < t->rows; r++) {
		for (unsigned c = 0; c < t->cols; c++)
			fprintf(out, "%s%s%*s", c ? "  " : "", t->cell[r][c],
			        c + 1 < t->cols ? (int)(w[c] - width(t->cell[r][c])) : 0, "");
		fputc('\n', out);
	}
}

static void print_markdown(FILE *out, const struct table *t)
{
	for (unsigned r = 0; r < t->rows; r++) {
		fputc('|', out);
		for (unsigned c = 0; c < t->cols; c++)
			fprintf(out, " %s |", t->cell[r][c]);
		fputc('\n', out);
		if (r == 0) {
			fputc('|', out);
			for (unsigned c = 0; c < t->cols; c++)
				fputs(c ? " ---: |" : " --- |", out);
			fputc('\n', out);
		}
	}
}

static void print_heading(FILE *out, const cJSON *model, bool markdown)
{
	const char *id = str(model, "compare_id");

	fprintf(out, "%sscenario %s%s%s, %d servers%s\n", markdown ? "**" : "",
	        str(model, "scenario"), id[0] ? ", compare " : "", id,
	        cJSON_GetArraySize(cJSON_GetObjectItem(model, "servers")), markdown ? "**" : "");
	fprintf(
	    out,
	    "%smedian of the trials [95%% interval of their geometric mean], * the best; %s\n\n",
	    markdown ? "\n" : "", str(model, "method"));
}

static int print_model(FILE *out, const cJSON *model, void (*print)(FILE *, const struct table *),
                       bool markdown)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	print_heading(out, model, markdown);
	build_figures(t, model);
	print(out, t);
	memset(t, 0, sizeof(*t));
	if (build_ratios(t, model)) {
		fputc('\n', out);
		print(out, t);
		fprintf(out,
		        "%sratio of each server's figure to %s's, [95%% interval], verdict where "
		        "the figure ranks servers\n",
		        markdown ? "\n" : "", str(model, "baseline"));
	}
	/* A Markdown reader has no dots to look at: the values themselves. */
	if (markdown) {
		memset(t, 0, sizeof(*t));
		build_trials(t, model);
		fputc('\n', out);
		print(out, t);
	}
	free(t);
	return ferror(out) ? -EIO : 0;
}

int compare_model_print_text(FILE *out, const cJSON *model)
{
	return print_model(out, model, print_aligned, false);
}

int compare_model_print_markdown(FILE *out, const cJSON *model)
{
	return print_model(out, model, print_markdown, true);
}
