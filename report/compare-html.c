/* SPDX-License-Identifier: MIT */
/*
 * The comparison as a web page (see compare-model.h): report-html.c's page
 * with a section of our own first: the figures' table (median and 95%
 * interval, the best marked), each server against the baseline (ratio,
 * interval, verdict), and for every figure that ranks servers its trials as
 * dots on one axis with the interval as a bar, so a reader sees the spread
 * and not only the middle.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compare-model.h"
#include "macro.h"
#include "markup.h"
#include "plot.h"
#include "report-html.h"

#define DOT_ROW    34 /* height of one server's band */
#define DOT_LEFT   150
#define DOT_RIGHT  30
#define DOT_TOP    12
#define DOT_BOTTOM 44

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
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

static const cJSON *figure_of(const cJSON *server, const char *key)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(server, "figures"), key);
}

static void put_value(FILE *out, double v)
{
	char buf[32];

	if (isnan(v))
		fputs("–", out);
	else
		fputs(markup_number(v, buf, sizeof(buf)), out);
}

static void put_label(FILE *out, const cJSON *fig)
{
	markup_escape(out, str(fig, "label"));
	if (str(fig, "unit")[0]) {
		fputs(" (", out);
		markup_escape(out, str(fig, "unit"));
		fputc(')', out);
	}
}

static void figures_table(FILE *out, const cJSON *model)
{
	const cJSON *servers = cJSON_GetObjectItem(model, "servers"), *s, *fig;
	unsigned col = 0;

	fputs("<div class=\"wide\"><table data-table=\"compare\">\n<thead><tr><th></th>", out);
	cJSON_ArrayForEach(s, servers)
	{
		fprintf(out, "<th><span class=\"swatch\" style=\"border-color:%s\"></span>",
		        plot_colour(col++));
		markup_escape(out, str(s, "name"));
		fputs("</th>", out);
	}
	fputs("</tr></thead>\n<tbody>\n<tr><th scope=\"row\">trials</th>", out);
	cJSON_ArrayForEach(s, servers) fprintf(out, "<td>%.0f</td>", num(s, "trials"));
	fputs("</tr>\n", out);
	cJSON_ArrayForEach(fig, cJSON_GetObjectItem(model, "figures"))
	{
		int best = compare_model_best(model, fig), i = 0;

		fputs("<tr><th scope=\"row\">", out);
		put_label(out, fig);
		fputs("</th>", out);
		cJSON_ArrayForEach(s, servers)
		{
			const cJSON *f = figure_of(s, str(fig, "key"));

			fputs(i++ == best ? "<td class=\"best\">" : "<td>", out);
			put_value(out, num(f, "median"));
			if (cJSON_GetArraySize(cJSON_GetObjectItem(f, "values")) > 1) {
				fputs(" <small>[", out);
				put_value(out, num(f, "ci_low"));
				fputs("–", out);
				put_value(out, num(f, "ci_high"));
				fputs("]</small>", out);
			}
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("<tr><th scope=\"row\">client-limited / noisy trials</th>", out);
	cJSON_ArrayForEach(s, servers)
	{
		bool bad = num(s, "client_limited") > 0 || num(s, "noisy") > 0;

		fprintf(out, "<td%s>%.0f / %.0f</td>", bad ? " class=\"bad\"" : "",
		        num(s, "client_limited"), num(s, "noisy"));
	}
	fputs("</tr>\n</tbody></table></div>\n", out);
}

static void ratio_table(FILE *out, const cJSON *model)
{
	const cJSON *servers = cJSON_GetObjectItem(model, "servers"), *s, *fig;

	if (cJSON_GetArraySize(servers) < 2)
		return;
	fputs("<h3>Against ", out);
	markup_escape(out, str(model, "baseline"));
	fputs(" (the baseline)</h3>\n<div class=\"wide\"><table data-table=\"ratios\">\n"
	      "<thead><tr><th></th>",
	      out);
	for (s = servers->child->next; s; s = s->next) {
		fputs("<th>", out);
		markup_escape(out, str(s, "name"));
		fputs("</th>", out);
	}
	fputs("</tr></thead>\n<tbody>\n", out);
	cJSON_ArrayForEach(fig, cJSON_GetObjectItem(model, "figures"))
	{
		fputs("<tr><th scope=\"row\">", out);
		put_label(out, fig);
		fputs("</th>", out);
		for (s = servers->child->next; s; s = s->next) {
			const cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "vs_baseline"),
			                                     str(fig, "key"));
			const char *v = str(x, "verdict");

			if (!cJSON_IsObject(x)) {
				fputs("<td>–</td>", out);
				continue;
			}
			fprintf(out, "<td%s>%.2f×%s <small>[%.2f–%.2f]</small>%s%s</td>",
			        strcmp(v, "worse") == 0 ? " class=\"bad\"" : "", num(x, "ratio"),
			        cJSON_IsTrue(cJSON_GetObjectItem(fig, "count")) ? " of 1+x" : "",
			        num(x, "ci_low"), num(x, "ci_high"), v[0] ? " " : "", v);
		}
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></div>\n", out);
}

/* The lowest and highest trial of figure @key. Intervals are not: with two
 * or three trials they can be wider than every trial by far, and would
 * squeeze the dots into a corner; they are cut at the axis instead. */
static bool figure_range(const cJSON *servers, const char *key, double *lo, double *hi)
{
	const cJSON *s, *v;
	bool any = false;

	*lo = INFINITY;
	*hi = -INFINITY;
	cJSON_ArrayForEach(s, servers)
	{
		const cJSON *f = figure_of(s, key);

		if (!cJSON_IsObject(f))
			continue;
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(f, "values"))
		{
			*lo = MIN(*lo, v->valuedouble);
			*hi = MAX(*hi, v->valuedouble);
			any = true;
		}
	}
	return any;
}

/* One figure: a band per server with its trials as dots, the interval as a
 * bar and the median as a tick. */
static void dots_chart(FILE *out, const cJSON *model, const cJSON *fig)
{
	const cJSON *servers = cJSON_GetObjectItem(model, "servers"), *s, *v;
	const char *key = str(fig, "key");
	unsigned rows = (unsigned)cJSON_GetArraySize(servers), row = 0;
	unsigned h = DOT_TOP + rows * DOT_ROW + DOT_BOTTOM;
	struct plot_ticks ticks;
	struct plot_scale x;
	double lo, hi;
	char buf[32];

	if (!figure_range(servers, key, &lo, &hi))
		return;
	lo = MIN(lo, 0);
	if (plot_ticks_nice(lo, hi > lo ? hi : lo + 1, 6, &ticks) < 0)
		return;
	x = (struct plot_scale){ ticks.lo, ticks.hi, DOT_LEFT, PLOT_WIDTH - DOT_RIGHT };
	lo = ticks.lo;
	hi = ticks.hi;
	fprintf(out,
	        "<figure><svg class=\"chart\" data-chart=\"trials-%s\" viewBox=\"0 0 %d %u\" "
	        "role=\"img\"><title>",
	        key, PLOT_WIDTH, h);
	put_label(out, fig);
	fputs(": each trial per server</title>\n", out);
	for (unsigned i = 0; i < ticks.n; i++) {
		double t = ticks.lo + ticks.step * i, px = plot_scale_map(&x, t);

		fprintf(out,
		        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%u\" stroke=\"#e4e4e4\"/>"
		        "<text class=\"tick-label\" x=\"%.1f\" y=\"%u\" "
		        "text-anchor=\"middle\">%s</text>\n",
		        px, px, DOT_TOP, h - DOT_BOTTOM, px, h - DOT_BOTTOM + 16,
		        markup_tick(t, ticks.step, buf, sizeof(buf)));
	}
	fprintf(out, "<text class=\"axis-title\" x=\"%.1f\" y=\"%u\" text-anchor=\"middle\">",
	        (DOT_LEFT + PLOT_WIDTH - DOT_RIGHT) / 2.0, h - 8);
	put_label(out, fig);
	fputs("</text>\n", out);
	cJSON_ArrayForEach(s, servers)
	{
		const cJSON *f = figure_of(s, key);
		double y = DOT_TOP + row * DOT_ROW + DOT_ROW / 2.0;
		const char *c = plot_colour(row);

		fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", DOT_LEFT - 10,
		        y + 4);
		markup_escape(out, str(s, "name"));
		fputs("</text>\n", out);
		row++;
		if (!cJSON_IsObject(f))
			continue;
		fprintf(out,
		        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		        "stroke-width=\"6\" stroke-opacity=\"0.3\"><title>95%% "
		        "interval</title></line>\n",
		        plot_scale_map(&x, clamp(num(f, "ci_low"), lo, hi)),
		        plot_scale_map(&x, clamp(num(f, "ci_high"), lo, hi)), y, y, c);
		fprintf(out,
		        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		        "stroke-width=\"2\"><title>median</title></line>\n",
		        plot_scale_map(&x, num(f, "median")), plot_scale_map(&x, num(f, "median")),
		        y - 10, y + 10, c);
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(f, "values"))
		    fprintf(out,
		            "<circle class=\"trial\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" "
		            "fill-opacity=\"0.75\"/>\n",
		            plot_scale_map(&x, v->valuedouble), y, c);
	}
	fputs("</svg><figcaption>Each dot one trial; the bar the 95% interval of the geometric "
	      "mean, the tick the median.</figcaption></figure>\n",
	      out);
}

static int section(FILE *out, const void *arg)
{
	const cJSON *model = arg, *fig;

	fputs("<section id=\"compare\">\n<h2>Comparison</h2>\n<p class=\"sub\">Median of the "
	      "trials, and the 95% interval of their geometric mean; the best of each row "
	      "marked. ",
	      out);
	markup_escape(out, str(model, "method"));
	fputs(".</p>\n", out);
	figures_table(out, model);
	ratio_table(out, model);
	fputs("<h3>Trials</h3>\n", out);
	cJSON_ArrayForEach(fig, cJSON_GetObjectItem(model, "figures"))
	{
		if (cJSON_IsTrue(cJSON_GetObjectItem(fig, "tested")))
			dots_chart(out, model, fig);
	}
	fputs("<p class=\"sub\">Below: one trial per server (the one nearest its median "
	      "rate).</p>\n</section>\n",
	      out);
	return ferror(out) ? -EIO : 0;
}

int compare_html_write(FILE *out, const cJSON *model, const cJSON *const *reports, size_t n)
{
	if (!model || n == 0)
		return -EINVAL;
	return report_html_write_with(out, reports, n, section, model);
}
