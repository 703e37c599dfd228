/* SPDX-License-Identifier: MIT */
/*
 * The HTML report (see report-html.h): page structure, the tables, and the
 * data of each chart taken from the reports; plot.c draws the charts.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "macro.h"
#include "markup.h"
#include "plot.h"
#include "report-html.h"
#include "report-read.h"
#include "spectrum.h"
#include "wsbench-config.h"

#define MAX_SERIES    (REPORT_HTML_MAX * 3)
#define MAX_KEYS      256 /* rows of one key/value table */
#define KEY_LEN       128
#define FLATTEN_DEPTH 4

/* One report as the page shows it. */
struct view {
	const cJSON *j;
	char label[80]; /* the server's name, plus the run id when two share it */
	unsigned colour;
	struct histogram *hist[2]; /* corrected, uncorrected; NULL when absent */
};

struct page {
	FILE *out;
	struct view v[REPORT_HTML_MAX];
	size_t n;
	void *allocs[REPORT_HTML_MAX * 8]; /* chart data, freed with the page */
	size_t n_allocs;
};

static const char *const hist_names[2] = { "corrected", "uncorrected" };

static double *page_doubles(struct page *pg, size_t n)
{
	double *d;

	if (pg->n_allocs == ELEMENTSOF(pg->allocs))
		return NULL;
	d = calloc(n ? n : 1, sizeof(*d));
	if (d)
		pg->allocs[pg->n_allocs++] = d;
	return d;
}

static void page_free(struct page *pg)
{
	for (size_t i = 0; i < pg->n_allocs; i++)
		free(pg->allocs[i]);
	for (size_t i = 0; i < pg->n; i++)
		for (size_t k = 0; k < 2; k++)
			free(pg->v[i].hist[k]);
}

static void esc(struct page *pg, const char *s)
{
	markup_escape(pg->out, s);
}

static void put(struct page *pg, const char *s)
{
	fputs(s, pg->out);
}

static _printf_(2, 3) void note(struct page *pg, const char *fmt, ...)
{
	va_list ap;

	put(pg, "<p class=\"note\">");
	va_start(ap, fmt);
	vfprintf(pg->out, fmt, ap);
	va_end(ap);
	put(pg, "</p>\n");
}

/* A note naming a report: "<what> omitted for <label>: <why>." */
static void note_omitted(struct page *pg, const char *what, const struct view *v, const char *why)
{
	put(pg, "<p class=\"note\">");
	esc(pg, what);
	put(pg, " omitted for ");
	esc(pg, v->label);
	put(pg, ": ");
	esc(pg, why);
	put(pg, ".</p>\n");
}

static const char *str_or(const cJSON *j, const char *path, const char *fallback)
{
	const char *s = report_get_string(j, path);

	return s && *s ? s : fallback;
}

static void put_number(struct page *pg, double v)
{
	char buf[64];

	put(pg, markup_number(v, buf, sizeof(buf)));
}

static void swatch(struct page *pg, unsigned colour)
{
	fprintf(pg->out, "<span class=\"swatch\" style=\"border-color:%s\"></span>",
	        plot_colour(colour));
}

/* ---- the views ------------------------------------------------------------ */

static int views_init(struct page *pg, const cJSON *const *reports, size_t n)
{
	pg->n = n;
	for (size_t i = 0; i < n; i++) {
		struct view *v = &pg->v[i];
		const char *server = str_or(reports[i], "metadata.server", "server?");
		bool shared = false;

		v->j = reports[i];
		v->colour = (unsigned)i;
		for (size_t k = 0; k < n; k++)
			if (k != i &&
			    strcmp(server, str_or(reports[k], "metadata.server", "server?")) == 0)
				shared = true;
		if (shared)
			snprintf(v->label, sizeof(v->label), "%.40s (%.30s)", server,
			         str_or(reports[i], "metadata.id", "?"));
		else
			snprintf(v->label, sizeof(v->label), "%.70s", server);
		for (size_t k = 0; k < 2; k++) {
			v->hist[k] = malloc(sizeof(struct histogram));
			if (!v->hist[k])
				return -ENOMEM;
			if (report_get_histogram(v->j, hist_names[k], v->hist[k]) < 0) {
				free(v->hist[k]);
				v->hist[k] = NULL;
			}
		}
	}
	return 0;
}

/* ---- head and header ------------------------------------------------------ */

static const char css[] =
    ":root{color-scheme:light}\n"
    "body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica "
    "Neue\",Arial,sans-serif;color:#1b1b1b;background:#fff;max-width:1040px;margin:0 "
    "auto;padding:20px 28px 40px}\n"
    "h1{font-size:22px;margin:0 0 2px}\n"
    "h2{font-size:17px;margin:30px 0 8px;padding-bottom:4px;border-bottom:1px solid #d0d0d0}\n"
    "h3{font-size:14.5px;margin:16px 0 4px}\n"
    ".sub{color:#555;margin:0 0 12px}\n"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:6px 0 12px}\n"
    "th,td{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:right;vertical-align:top}\n"
    "td{white-space:nowrap}\ntd.text{white-space:normal}\n"
    "thead th{border-bottom:1.5px solid #888;font-weight:600;vertical-align:bottom}\n"
    "th[scope=row],td.text,th.text{text-align:left}\n"
    "th[scope=row]{font-weight:normal;white-space:nowrap}\n"
    "td.best{font-weight:700}\n"
    "td.best::after{content:\" \\2605\";font-size:10px;vertical-align:top}\n"
    "td.bad{color:#b3261e;font-weight:700}\n"
    ".wide{overflow-x:auto}\n"
    "table.kv td{text-align:left}\n"
    ".pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));"
    "column-gap:28px;align-items:start}\n"
    ".warn{border-left:4px solid #D55E00;background:#fff3ea;padding:7px 12px;margin:8px 0}\n"
    ".ok{border-left:4px solid #009E73;background:#eefaf5;padding:7px 12px;margin:8px 0}\n"
    "figure{margin:6px 0 18px;break-inside:avoid;page-break-inside:avoid}\n"
    "svg.chart{width:100%;height:auto;display:block}\n"
    "svg text{fill:#222;font-family:inherit}\n"
    "svg .axis-title{font-weight:600}\n"
    "svg .tick-label{font-size:11px}\n"
    "figcaption{color:#555;font-size:12.5px;margin-top:2px}\n"
    ".note{color:#7a4d00;font-style:italic;margin:4px 0}\n"
    ".swatch{display:inline-block;width:20px;border-top:3px solid;vertical-align:middle;"
    "margin-right:6px}\n"
    "code{font:12.5px ui-monospace,\"DejaVu Sans Mono\",Menlo,monospace}\n"
    "footer{margin-top:32px;color:#666;font-size:12px;border-top:1px solid #ddd;"
    "padding-top:6px}\n"
    "@media print{body{max-width:none;padding:0;font-size:10.5pt}"
    "h2{break-after:avoid;page-break-after:avoid}"
    ".warn,.ok{background:none}table,figure{break-inside:avoid}.wide{overflow:visible}"
    "@page{size:A4;margin:14mm}}\n";

static bool same_scenario(const struct page *pg)
{
	for (size_t i = 1; i < pg->n; i++)
		if (strcmp(str_or(pg->v[i].j, "metadata.scenario", ""),
		           str_or(pg->v[0].j, "metadata.scenario", "")) != 0)
			return false;
	return true;
}

static void put_title(struct page *pg)
{
	const cJSON *j = pg->v[0].j;

	if (pg->n == 1) {
		put(pg, "wsbench: ");
		esc(pg, str_or(j, "metadata.scenario", "unknown scenario"));
		put(pg, " on ");
		esc(pg, pg->v[0].label);
		return;
	}
	put(pg, "wsbench: ");
	if (same_scenario(pg)) {
		esc(pg, str_or(j, "metadata.scenario", "unknown scenario"));
		put(pg, " on ");
	}
	for (size_t i = 0; i < pg->n; i++) {
		put(pg, i == 0 ? "" : i + 1 == pg->n ? " and " : ", ");
		esc(pg, pg->v[i].label);
	}
}

static void render_head(struct page *pg)
{
	put(pg, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	        "<meta name=\"generator\" content=\"wsbench " WSBENCH_VERSION "\">\n<title>");
	put_title(pg);
	put(pg, "</title>\n<style>\n");
	put(pg, css);
	put(pg, "</style>\n</head>\n<body>\n<header>\n<h1>");
	put_title(pg);
	put(pg, "</h1>\n");
	for (size_t i = 0; i < pg->n; i++) {
		const cJSON *j = pg->v[i].j;
		double d;

		put(pg, "<p class=\"sub\">");
		if (pg->n > 1) {
			swatch(pg, pg->v[i].colour);
			esc(pg, pg->v[i].label);
			put(pg, ": ");
		}
		put(pg, "run <code>");
		esc(pg, str_or(j, "metadata.id", "?"));
		put(pg, "</code>, scenario <code>");
		esc(pg, str_or(j, "metadata.scenario", "?"));
		put(pg, "</code>, started ");
		esc(pg, str_or(j, "metadata.start", "?"));
		if (report_get_number(j, "metadata.duration_s", &d) == 0) {
			put(pg, ", ");
			put_number(pg, d);
			put(pg, " s");
		}
		put(pg, ", ");
		esc(pg, str_or(j, "metadata.state", "state unknown"));
		put(pg, "</p>\n");
	}
	put(pg, "</header>\n");
}

/* The machine's noise (daemon/noise.h), after the client's verdict. A
 * report from before the verdict has none, and says nothing. */
static void put_noise_verdict(struct page *pg, const cJSON *j)
{
	const char *verdict = report_get_string(j, "noise.verdict");
	const cJSON *reasons = report_get(j, "noise.reasons"), *e;
	double v, th;
	bool first = true;

	if (!verdict)
		return;
	put(pg, "<br>");
	if (strcmp(verdict, "noisy") == 0) {
		put(pg, "<strong>NOISY:</strong> ");
		cJSON_ArrayForEach(e, reasons)
		{
			if (!cJSON_IsString(e))
				continue;
			put(pg, first ? "" : "; ");
			esc(pg, e->valuestring);
			first = false;
		}
		put(pg, ". Other work on the machine may have disturbed the figures.");
		return;
	}
	if (strcmp(verdict, "quiet") != 0) {
		put(pg, "Machine noise not measured");
		e = cJSON_GetArrayItem(reasons, 0);
		if (cJSON_IsString(e)) {
			put(pg, ": ");
			esc(pg, e->valuestring);
		}
		put(pg, ".");
		return;
	}
	put(pg, "The machine was quiet: other processes used ");
	if (report_get_number(j, "noise.other_cpu_percent_mean", &v) == 0)
		put_number(pg, v);
	put(pg, " % of a core");
	if (report_get_number(j, "noise.thresholds.other_cpu_percent", &th) == 0) {
		put(pg, " (threshold ");
		put_number(pg, th);
		put(pg, " %)");
	}
	put(pg, ", steal time ");
	if (report_get_number(j, "noise.steal_percent_mean", &v) == 0)
		put_number(pg, v);
	put(pg, " %, ");
	if (report_get_number(j, "noise.freq_change_percent", &v) == 0) {
		put(pg, "CPU frequency changed ");
		put_number(pg, v);
		put(pg, " %.");
	} else {
		put(pg, "CPU frequency: not available.");
	}
}

/* Whatever makes the figures doubtful, first: a run that did not finish,
 * a client that was the limit, errors, a noisy machine. */
static void render_verdicts(struct page *pg)
{
	for (size_t i = 0; i < pg->n; i++) {
		const struct view *v = &pg->v[i];
		const char *state = str_or(v->j, "metadata.state", "unknown");
		const char *verdict = report_get_string(v->j, "client.verdict");
		const cJSON *limited = report_get(v->j, "client.client_limited");
		double rate;
		const char *noise = report_get_string(v->j, "noise.verdict");
		bool bad = strcmp(state, "finished") != 0 || cJSON_IsTrue(limited) ||
		           (report_get_number(v->j, "errors.error_rate", &rate) == 0 && rate > 0) ||
		           (noise && strcmp(noise, "noisy") == 0);

		put(pg, bad ? "<div class=\"warn\">" : "<div class=\"ok\">");
		if (pg->n > 1) {
			put(pg, "<strong>");
			esc(pg, v->label);
			put(pg, ":</strong> ");
		}
		if (strcmp(state, "finished") != 0) {
			put(pg, "<strong>Run ");
			esc(pg, state);
			put(pg, "</strong>");
			if (report_get_string(v->j, "metadata.failure_reason")) {
				put(pg, ": ");
				esc(pg, report_get_string(v->j, "metadata.failure_reason"));
			}
			put(pg, ". ");
		}
		if (report_get_number(v->j, "errors.error_rate", &rate) == 0 && rate > 0) {
			put(pg, "<strong>Error rate ");
			put_number(pg, rate * 100);
			put(pg, " %</strong> (lost, corrupted or unexpected echoes per message "
			        "sent). ");
		}
		esc(pg, verdict ? verdict : "The report has no client verdict.");
		put_noise_verdict(pg, v->j);
		put(pg, "</div>\n");
	}
}

/* ---- summary ---------------------------------------------------------------- */

struct column {
	const char *title;
	const char *path;
	double scale;
	int better; /* -1 lower is better, 1 higher, 0 neither */
};

static const struct column summary_columns[] = {
	{ "target<br>msg/s", "throughput.target_rate", 1, 0 },
	{ "received<br>msg/s", "throughput.receive_rate", 1, 1 },
	{ "p50<br>ms", "latency.corrected.p50", 1, -1 },
	{ "p90<br>ms", "latency.corrected.p90", 1, -1 },
	{ "p99<br>ms", "latency.corrected.p99", 1, -1 },
	{ "p99.9<br>ms", "latency.corrected.p99_9", 1, -1 },
	{ "max<br>ms", "latency.corrected.max", 1, -1 },
	{ "error<br>rate %", "errors.error_rate", 100, -1 },
	{ "server CPU<br>mean %", "resourceUsage.server_summary.cpu_percent_mean", 1, -1 },
	{ "server CPU<br>max %", "resourceUsage.server_summary.cpu_percent_max", 1, -1 },
	{ "server RSS<br>max MiB", "resourceUsage.server_summary.rss_bytes_max", 1.0 / 1048576,
	  -1 },
	{ "client CPU<br>mean %", "resourceUsage.client_summary.cpu_percent_mean", 1, 0 },
};

static void render_summary(struct page *pg)
{
	put(pg, "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"wide\"><table>\n"
	        "<thead><tr><th class=\"text\">server</th>");
	for (size_t c = 0; c < ELEMENTSOF(summary_columns); c++) {
		put(pg, "<th>");
		put(pg, summary_columns[c].title);
		put(pg, "</th>");
	}
	put(pg, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < pg->n; i++) {
		put(pg, "<tr><th scope=\"row\">");
		swatch(pg, pg->v[i].colour);
		esc(pg, pg->v[i].label);
		put(pg, "</th>");
		for (size_t c = 0; c < ELEMENTSOF(summary_columns); c++) {
			const struct column *col = &summary_columns[c];
			bool best = pg->n > 1 && col->better != 0, beats_one = false;
			double v, other;

			if (report_get_number(pg->v[i].j, col->path, &v) < 0) {
				put(pg, "<td>\xe2\x80\x94</td>"); /* em dash: not in the report */
				continue;
			}
			/* Best: none better, and better than at least one (a
			 * column where all agree marks nothing). */
			for (size_t k = 0; k < pg->n && best; k++) {
				if (k == i || report_get_number(pg->v[k].j, col->path, &other) < 0)
					continue;
				if (col->better < 0 ? other < v : other > v)
					best = false;
				if (col->better < 0 ? other > v : other < v)
					beats_one = true;
			}
			best = best && beats_one;
			put(pg, best ? "<td class=\"best\">" : "<td>");
			put_number(pg, v * col->scale);
			put(pg, "</td>");
		}
		put(pg, "</tr>\n");
	}
	put(pg, "</tbody></table></div>\n");
	put(pg, "<p class=\"sub\">Latencies are corrected for coordinated omission (measured from "
	        "each message's scheduled send time).");
	if (pg->n > 1)
		put(pg, " \xe2\x98\x85 marks the best value of a column.");
	put(pg, "</p>\n</section>\n");
}

/* ---- latency ---------------------------------------------------------------- */

static const double spectrum_ticks[] = { 0, 0.30103, 1, 2, 3, 4, 5 };
static const char *const spectrum_labels[] = { "0%",    "50%",    "90%",    "99%",
	                                       "99.9%", "99.99%", "99.999%" };

static void render_percentile_table(struct page *pg)
{
	static const char *const cols[] = { "min",    "p50", "p90",  "p99",   "p99_9",
		                            "p99_99", "max", "mean", "stddev" };

	put(pg, "<div class=\"wide\"><table>\n<thead><tr><th class=\"text\">ms</th>"
	        "<th class=\"text\"></th><th>count</th>");
	for (size_t c = 0; c < ELEMENTSOF(cols); c++) {
		put(pg, "<th>");
		esc(pg, cols[c]);
		put(pg, "</th>");
	}
	put(pg, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < pg->n; i++)
		for (size_t k = 0; k < 2; k++) {
			char path[64];
			double v;

			put(pg, "<tr><th scope=\"row\">");
			swatch(pg, pg->v[i].colour);
			esc(pg, pg->v[i].label);
			put(pg, "</th><td class=\"text\">");
			put(pg, hist_names[k]);
			put(pg, "</td>");
			snprintf(path, sizeof(path), "latency.%s.count", hist_names[k]);
			put(pg, "<td>");
			if (report_get_number(pg->v[i].j, path, &v) == 0)
				put_number(pg, v);
			else
				put(pg, "\xe2\x80\x94");
			put(pg, "</td>");
			for (size_t c = 0; c < ELEMENTSOF(cols); c++) {
				snprintf(path, sizeof(path), "latency.%s.%s", hist_names[k],
				         cols[c]);
				put(pg, "<td>");
				if (report_get_number(pg->v[i].j, path, &v) == 0)
					put_number(pg, v);
				else
					put(pg, "\xe2\x80\x94");
				put(pg, "</td>");
			}
			put(pg, "</tr>\n");
		}
	put(pg, "</tbody></table></div>\n");
}

static int render_latency(struct page *pg)
{
	struct plot_series series[MAX_SERIES];
	struct plot_legend legend[REPORT_HTML_MAX + 2];
	size_t ns = 0, nl = 0;
	struct plot p = {
		.id = "latency-spectrum",
		.title = "Latency by percentile",
		.x = { .title = "percentile (log scale of 1/(1 \xe2\x88\x92 p))",
		       .fixed = true,
		       .lo = 0,
		       .hi = SPECTRUM_DECADES,
		       .ticks = spectrum_ticks,
		       .tick_labels = spectrum_labels,
		       .n_ticks = ELEMENTSOF(spectrum_ticks) },
		.y = { .title = "latency (ms)" },
	};

	put(pg, "<section id=\"latency\">\n<h2>Latency percentile spectrum</h2>\n");
	for (size_t i = 0; i < pg->n; i++) {
		struct view *v = &pg->v[i];

		if (pg->n > 1)
			legend[nl++] = (struct plot_legend){ v->label, v->colour, PLOT_SOLID };
		for (size_t k = 0; k < 2; k++) {
			double *xs, *ys;
			size_t np;

			if (!v->hist[k]) {
				note_omitted(
				    pg, k == 0 ? "The corrected curve" : "The uncorrected curve", v,
				    "the report has no such histogram, or it does not decode");
				continue;
			}
			xs = page_doubles(pg, SPECTRUM_MAX_POINTS);
			ys = page_doubles(pg, SPECTRUM_MAX_POINTS);
			if (!xs || !ys)
				return -ENOMEM;
			np = spectrum_compute(v->hist[k], xs, ys);
			if (np == 0) {
				note_omitted(
				    pg, k == 0 ? "The corrected curve" : "The uncorrected curve", v,
				    "no latency was recorded");
				continue;
			}
			series[ns++] = (struct plot_series){
				xs, ys, np, v->colour, k == 0 ? PLOT_SOLID : PLOT_DASHED, v->label
			};
		}
	}
	legend[nl++] =
	    (struct plot_legend){ "corrected", pg->n > 1 ? PLOT_NEUTRAL : 0, PLOT_SOLID };
	legend[nl++] =
	    (struct plot_legend){ "uncorrected", pg->n > 1 ? PLOT_NEUTRAL : 0, PLOT_DASHED };
	p.series = series;
	p.n_series = ns;
	p.legend = legend;
	p.n_legend = nl;
	put(pg, "<figure>\n");
	if (plot_render(pg->out, &p) < 0)
		note(pg, "No latency was recorded: the chart is omitted.");
	put(pg, "<figcaption>Latency at each percentile, from the report's histograms (3 "
	        "significant digits). Solid: corrected for coordinated omission, measured from the "
	        "scheduled send time; dashed: uncorrected, from the actual send. A curve ends at "
	        "its maximum, drawn at the last percentile its count resolves "
	        "(1 \xe2\x88\x92 1/count).</figcaption>\n</figure>\n");
	render_percentile_table(pg);
	put(pg, "</section>\n");
	return 0;
}

/* ---- timeline ------------------------------------------------------------- */

static double item_number(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

static int render_timeline(struct page *pg)
{
	struct plot_series rate[MAX_SERIES], p99[MAX_SERIES];
	struct plot_legend legend[REPORT_HTML_MAX + 2];
	size_t nr = 0, np = 0, nl = 0;
	struct plot pr = {
		.id = "throughput",
		.height = 250,
		.title = "Echoes received per second",
		.x = { .title = "time since the load generator started (s)" },
		.y = { .title = "echoes received (msg/s)" },
	};
	struct plot pp = {
		.id = "p99-per-second",
		.height = 250,
		.title = "p99 latency per second",
		.x = { .title = "time since the load generator started (s)" },
		.y = { .title = "p99 latency, corrected (ms)" },
	};

	put(pg, "<section id=\"timeline\">\n<h2>Throughput and p99 per second</h2>\n");
	for (size_t i = 0; i < pg->n; i++) {
		struct view *v = &pg->v[i];
		const cJSON *tl = report_get(v->j, "timeline"), *e;
		double *t, *r, *q, target, prev = 0;
		size_t n, k = 0;

		if (!cJSON_IsArray(tl) || cJSON_GetArraySize(tl) == 0) {
			note_omitted(pg, "The per-second timeline", v,
			             "the report has no timeline");
			continue;
		}
		n = (size_t)cJSON_GetArraySize(tl);
		t = page_doubles(pg, n);
		r = page_doubles(pg, n);
		q = page_doubles(pg, n);
		if (!t || !r || !q)
			return -ENOMEM;
		cJSON_ArrayForEach(e, tl)
		{
			double now = item_number(e, "t"), got = item_number(e, "received");

			t[k] = now;
			/* A rate over the interval since the previous entry. */
			r[k] = isfinite(now) && now > prev ? got / (now - prev) : NAN;
			/* 0: no echo measured in that second (ramp-up, warm-up, an
			 * idle interval), not a latency of 0. */
			q[k] = item_number(e, "p99_ms") > 0 ? item_number(e, "p99_ms") : NAN;
			if (isfinite(now))
				prev = now;
			k++;
		}
		if (pg->n > 1)
			legend[nl++] = (struct plot_legend){ v->label, v->colour, PLOT_SOLID };
		rate[nr++] = (struct plot_series){ t, r, n, v->colour, PLOT_SOLID, v->label };
		p99[np++] = (struct plot_series){ t, q, n, v->colour, PLOT_SOLID, v->label };
		if (report_get_number(v->j, "throughput.target_rate", &target) == 0) {
			double *tx = page_doubles(pg, 2), *ty = page_doubles(pg, 2);

			if (!tx || !ty)
				return -ENOMEM;
			tx[0] = t[0];
			tx[1] = prev;
			ty[0] = ty[1] = target;
			rate[nr++] = (struct plot_series){ tx,        ty,          2,
				                           v->colour, PLOT_DOTTED, "target rate" };
		}
	}
	if (nr == 0) {
		put(pg, "</section>\n");
		return 0;
	}
	legend[nl++] = (struct plot_legend){ "received", pg->n > 1 ? PLOT_NEUTRAL : 0, PLOT_SOLID };
	legend[nl++] = (struct plot_legend){ "target", pg->n > 1 ? PLOT_NEUTRAL : 0, PLOT_DOTTED };
	pr.series = rate;
	pr.n_series = nr;
	pr.legend = legend;
	pr.n_legend = nl;
	put(pg, "<figure>\n");
	if (plot_render(pg->out, &pr) < 0)
		note(pg, "The timeline has no usable point: the chart is omitted.");
	put(pg, "<figcaption>Echoes received in each one-second interval of the load generator, "
	        "ramp-up and warm-up included; dotted: the scheduled rate.</figcaption>\n"
	        "</figure>\n<figure>\n");
	pp.series = p99;
	pp.n_series = np;
	pp.legend = legend;
	pp.n_legend = pg->n > 1 ? nl - 2 : 0;
	if (plot_render(pg->out, &pp) < 0)
		note(pg, "The timeline has no usable p99: the chart is omitted.");
	put(pg, "<figcaption>The corrected p99 of the echoes measured in each one-second "
	        "interval; none are measured before the warm-up ends.</figcaption>\n</figure>\n"
	        "</section>\n");
	return 0;
}

/* ---- resources -------------------------------------------------------------- */

/* Samples of one process: seconds since @base, CPU %, RSS MiB. */
static int samples(struct page *pg, const cJSON *arr, double base, double **ret_t, double **ret_cpu,
                   double **ret_rss, size_t *ret_n)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), k = 0;
	double *t = page_doubles(pg, n), *cpu = page_doubles(pg, n), *rss = page_doubles(pg, n);
	const cJSON *e;

	if (!t || !cpu || !rss)
		return -ENOMEM;
	cJSON_ArrayForEach(e, arr)
	{
		double at;

		t[k] = report_parse_time(
		           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "timestamp")),
		           &at) == 0
		           ? at - base
		           : NAN;
		/* The first sample has no CPU time to compare with (the daemon
		 * writes 0 and leaves it out of its mean). */
		cpu[k] = k == 0 ? NAN : item_number(e, "cpu_percent");
		rss[k] = item_number(e, "rss_bytes") / 1048576.0;
		k++;
	}
	*ret_t = t;
	*ret_cpu = cpu;
	*ret_rss = rss;
	*ret_n = n;
	return 0;
}

/* The CPU of processes other than the run's (the report's noise series),
 * seconds since @base. Return: 0 (*@ret_n 0 when there is none), -ENOMEM. */
static int other_cpu(struct page *pg, const cJSON *j, double base, double **ret_t, double **ret_cpu,
                     size_t *ret_n)
{
	const cJSON *arr = report_get(j, "noise.series"), *e;
	size_t n = cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0, k = 0;
	double *t, *cpu;

	*ret_n = 0;
	if (n == 0)
		return 0;
	t = page_doubles(pg, n);
	cpu = page_doubles(pg, n);
	if (!t || !cpu)
		return -ENOMEM;
	cJSON_ArrayForEach(e, arr)
	{
		double at;

		t[k] = report_parse_time(
		           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "timestamp")),
		           &at) == 0
		           ? at - base
		           : NAN;
		cpu[k] = item_number(e, "other_cpu_percent");
		k++;
	}
	*ret_t = t;
	*ret_cpu = cpu;
	*ret_n = n;
	return 0;
}

static int render_resources(struct page *pg)
{
	struct plot_series cpu[MAX_SERIES], rss[MAX_SERIES];
	struct plot_legend legend[REPORT_HTML_MAX + 3];
	size_t nc = 0, nr = 0, nl = 0;
	bool others = false;
	struct plot pc = {
		.id = "cpu",
		.height = 250,
		.title = "CPU of the server and of the load generator",
		.x = { .title = "time since the run started (s)" },
		.y = { .title = "CPU (% of one core)" },
	};
	struct plot pm = {
		.id = "rss",
		.height = 250,
		.title = "Resident memory of the server and of the load generator",
		.x = { .title = "time since the run started (s)" },
		.y = { .title = "RSS (MiB)" },
	};

	put(pg, "<section id=\"resources\">\n<h2>CPU and memory</h2>\n");
	for (size_t i = 0; i < pg->n; i++) {
		struct view *v = &pg->v[i];
		static const char *const who[2] = { "resourceUsage.server",
			                            "resourceUsage.client" };
		double base;
		bool any = false;

		if (report_parse_time(report_get_string(v->j, "metadata.start"), &base) < 0) {
			note_omitted(pg, "CPU and memory", v, "the report has no valid start time");
			continue;
		}
		for (size_t k = 0; k < 2; k++) {
			const cJSON *arr = report_get(v->j, who[k]);
			double *t, *c, *m;
			size_t n;

			if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
				note_omitted(
				    pg,
				    k == 0 ? "The server's CPU and memory"
				           : "The load generator's CPU and memory",
				    v,
				    k == 0 ? "no samples (a server given by URL is not sampled)"
				           : "no samples");
				continue;
			}
			if (samples(pg, arr, base, &t, &c, &m, &n) < 0)
				return -ENOMEM;
			cpu[nc++] = (struct plot_series){
				t, c, n, v->colour, k == 0 ? PLOT_SOLID : PLOT_DASHED, v->label
			};
			rss[nr++] = (struct plot_series){
				t, m, n, v->colour, k == 0 ? PLOT_SOLID : PLOT_DASHED, v->label
			};
			any = true;
		}
		{
			double *t, *c;
			size_t n;

			if (other_cpu(pg, v->j, base, &t, &c, &n) < 0)
				return -ENOMEM;
			if (n > 0) {
				cpu[nc++] = (struct plot_series){
					t, c, n, v->colour, PLOT_DOTTED, v->label
				};
				others = true;
			}
		}
		if (any && pg->n > 1)
			legend[nl++] = (struct plot_legend){ v->label, v->colour, PLOT_SOLID };
	}
	if (nc == 0) {
		put(pg, "</section>\n");
		return 0;
	}
	legend[nl++] = (struct plot_legend){ "server", pg->n > 1 ? PLOT_NEUTRAL : 0, PLOT_SOLID };
	legend[nl++] =
	    (struct plot_legend){ "load generator", pg->n > 1 ? PLOT_NEUTRAL : 0, PLOT_DASHED };
	if (others)
		legend[nl++] = (struct plot_legend){ "other processes",
			                             pg->n > 1 ? PLOT_NEUTRAL : 0, PLOT_DOTTED };
	pc.series = cpu;
	pc.n_series = nc;
	pc.legend = legend;
	pc.n_legend = nl;
	pm.series = rss;
	pm.n_series = nr;
	pm.legend = legend;
	pm.n_legend = others ? nl - 1 : nl;
	put(pg, "<figure>\n");
	if (plot_render(pg->out, &pc) < 0)
		note(pg, "No usable CPU sample: the chart is omitted.");
	put(pg, "<figcaption>From /proc every sampling interval: user + system time over wall "
	        "time, 100 % being one core busy.");
	if (others)
		put(pg, " Dotted: every process but these two and wsbenchd (the noise verdict's "
		        "figure, from /proc/stat).");
	put(pg, "</figcaption>\n</figure>\n<figure>\n");
	if (plot_render(pg->out, &pm) < 0)
		note(pg, "No usable memory sample: the chart is omitted.");
	put(pg, "<figcaption>Resident set size.</figcaption>\n</figure>\n</section>\n");
	return 0;
}

/* ---- key/value tables ------------------------------------------------------- */

struct kv {
	char key[KEY_LEN];
	const cJSON *item;
};

struct kv_list {
	struct kv v[MAX_KEYS];
	size_t n;
	bool truncated;
};

static bool is_scalar_array(const cJSON *a)
{
	const cJSON *e;

	if (!cJSON_IsArray(a))
		return false;
	cJSON_ArrayForEach(e, a) if (cJSON_IsObject(e) || cJSON_IsArray(e)) return false;
	return true;
}

/* Leaves of @o as "a.b" keys, objects walked to FLATTEN_DEPTH. */
static void flatten(const cJSON *o, const char *prefix, struct kv_list *l, unsigned depth)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, o)
	{
		char key[KEY_LEN];

		if (!e->string)
			continue;
		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", e->string);
		if (cJSON_IsObject(e) && depth < FLATTEN_DEPTH && cJSON_GetArraySize(e) > 0) {
			flatten(e, key, l, depth + 1);
			continue;
		}
		if (cJSON_IsObject(e))
			continue; /* empty: nothing to show */
		if (l->n == MAX_KEYS) {
			l->truncated = true;
			return;
		}
		snprintf(l->v[l->n].key, KEY_LEN, "%s", key);
		l->v[l->n].item = e;
		l->n++;
	}
}

static const cJSON *kv_find(const struct kv_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].item;
	return NULL;
}

/* Counts that are failures when not 0 (errors.connections and .messages);
 * the others there (clients, attempted, sent...) are totals. */
static bool is_error_count(const char *key)
{
	static const char *const errors[] = {
		"failed", "retries",  "dropped", "refused",   "timeout",    "handshake_rejected",
		"other",  "not_sent", "lost",    "corrupted", "unexpected", "mismatched",
	};

	if (strncmp(key, "http_status.", 12) == 0 || strncmp(key, "closed_by_peer.", 15) == 0)
		return true;
	for (size_t i = 0; i < ELEMENTSOF(errors); i++)
		if (strcmp(key, errors[i]) == 0)
			return true;
	return false;
}

static void put_cell_value(struct page *pg, const char *key, const cJSON *item, bool counts)
{
	char buf[64];

	if (cJSON_IsNumber(item)) {
		bool bad = counts && is_error_count(key) && item->valuedouble != 0;

		/* Settings and identifiers (ports, uids) are not grouped by thousands. */
		if (counts || item->valuedouble != floor(item->valuedouble) ||
		    fabs(item->valuedouble) >= 1e15)
			markup_number(item->valuedouble, buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "%.0f", item->valuedouble);
		fprintf(pg->out, "<td%s>%s</td>", bad ? " class=\"bad\"" : "", buf);
	} else if (cJSON_IsString(item)) {
		put(pg, "<td class=\"text\">");
		esc(pg, item->valuestring);
		put(pg, "</td>");
	} else if (cJSON_IsBool(item)) {
		put(pg, cJSON_IsTrue(item) ? "<td class=\"text\">yes</td>"
		                           : "<td class=\"text\">no</td>");
	} else if (is_scalar_array(item)) {
		const cJSON *e;
		bool first = true;

		put(pg, "<td class=\"text\"><code>");
		cJSON_ArrayForEach(e, item)
		{
			if (!first)
				put(pg, " ");
			first = false;
			if (cJSON_IsString(e))
				esc(pg, e->valuestring);
			else if (cJSON_IsNumber(e))
				put(pg, markup_number(e->valuedouble, buf, sizeof(buf)));
		}
		put(pg, "</code></td>");
	} else if (cJSON_IsArray(item)) {
		fprintf(pg->out, "<td class=\"text\">%d entries</td>", cJSON_GetArraySize(item));
	} else {
		put(pg, "<td class=\"text\">\xe2\x80\x94</td>");
	}
}

/*
 * The section @path of every report as one table: a row per key (the union
 * of the reports' keys, in order of appearance), a column per report.
 * @counts: the section holds counts: numbers grouped by thousands, error
 * counts other than 0 marked; otherwise numbers are shown as they are.
 * Return: 0, or -ENOMEM.
 */
static int kv_table(struct page *pg, const char *path, const char *heading, bool counts)
{
	struct kv_list *lists = calloc(pg->n, sizeof(*lists)), *rows = calloc(1, sizeof(*rows));
	bool any = false, truncated = false;

	if (!lists || !rows) {
		free(lists);
		free(rows);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pg->n; i++) {
		const cJSON *o = report_get(pg->v[i].j, path);

		if (!cJSON_IsObject(o)) {
			note_omitted(pg, heading, &pg->v[i], "the report has no such section");
			continue;
		}
		flatten(o, "", &lists[i], 0);
		truncated = truncated || lists[i].truncated;
		for (size_t k = 0; k < lists[i].n; k++)
			if (!kv_find(rows, lists[i].v[k].key) && rows->n < MAX_KEYS)
				rows->v[rows->n++] = lists[i].v[k];
		any = true;
	}
	if (any) {
		put(pg, "<h3>");
		esc(pg, heading);
		put(pg, counts ? "</h3>\n<div class=\"wide\"><table>\n"
		               : "</h3>\n<div class=\"wide\"><table class=\"kv\">\n");
		if (pg->n > 1) {
			put(pg, "<thead><tr><th></th>");
			for (size_t i = 0; i < pg->n; i++) {
				put(pg, "<th class=\"text\">");
				swatch(pg, pg->v[i].colour);
				esc(pg, pg->v[i].label);
				put(pg, "</th>");
			}
			put(pg, "</tr></thead>\n");
		}
		put(pg, "<tbody>\n");
		for (size_t r = 0; r < rows->n; r++) {
			put(pg, "<tr><th scope=\"row\"><code>");
			esc(pg, rows->v[r].key);
			put(pg, "</code></th>");
			for (size_t i = 0; i < pg->n; i++)
				put_cell_value(pg, rows->v[r].key,
				               kv_find(&lists[i], rows->v[r].key), counts);
			put(pg, "</tr>\n");
		}
		put(pg, "</tbody></table></div>\n");
		if (truncated)
			note(pg, "Only the first %d fields are shown.", MAX_KEYS);
	}
	free(lists);
	free(rows);
	return 0;
}

static int render_tables(struct page *pg)
{
	static const struct {
		const char *section, *path, *heading;
		bool counts;
	} tables[] = {
		{ "errors", "errors.connections", "Connections", true },
		{ NULL, "errors.messages", "Messages", true },
		{ "configuration", "clientConfig", "Load (client) configuration", false },
		{ NULL, "serverConfig", "Server configuration", false },
		{ "machine", "metadata", "Run and machine", false },
		{ NULL, "client", "Load generator", false },
		{ NULL, "noise", "Machine noise", false },
	};
	static const char *const titles[] = { "Errors", "Configuration",
		                              "Run, machine and load generator" };
	size_t t = 0;
	int r;

	/* Two tables a section, side by side when there is room (at most two
	 * reports: more columns need the whole width). */
	const char *pair = pg->n <= 2 ? "<div class=\"pair\">\n" : "<div>\n";

	for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
		/* Newer than some reports: no note when none has it. */
		bool some = strcmp(tables[i].path, "noise") != 0;

		for (size_t k = 0; k < pg->n && !some; k++)
			some = report_get(pg->v[k].j, tables[i].path) != NULL;
		if (!some)
			continue;
		if (tables[i].section) {
			if (i > 0)
				put(pg, "</div>\n</section>\n");
			fprintf(pg->out, "<section id=\"%s\">\n<h2>%s</h2>\n", tables[i].section,
			        titles[t++]);
		}
		if (i == 0) {
			/* Why a run failed, above its counts. */
			for (size_t k = 0; k < pg->n; k++) {
				const char *why =
				    report_get_string(pg->v[k].j, "errors.run_failure");

				if (why) {
					put(pg, "<p class=\"warn\">");
					esc(pg, pg->v[k].label);
					put(pg, ": ");
					esc(pg, why);
					put(pg, "</p>\n");
				}
			}
		}
		if (tables[i].section)
			put(pg, pair);
		put(pg, "<div>\n");
		r = kv_table(pg, tables[i].path, tables[i].heading, tables[i].counts);
		if (r < 0)
			return r;
		put(pg, "</div>\n");
	}
	put(pg, "</div>\n</section>\n");
	return 0;
}

/* ---- the page --------------------------------------------------------------- */

int report_html_write(FILE *out, const struct cJSON *const *reports, size_t n)
{
	return report_html_write_with(out, reports, n, NULL, NULL);
}

int report_html_write_with(FILE *out, const struct cJSON *const *reports, size_t n,
                           int (*section)(FILE *out, const void *arg), const void *arg)
{
	struct page *pg;
	int r;

	if (!out || !reports || n == 0 || n > REPORT_HTML_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!cJSON_IsObject(reports[i]))
			return -EINVAL;
	pg = calloc(1, sizeof(*pg));
	if (!pg)
		return -ENOMEM;
	pg->out = out;
	r = views_init(pg, reports, n);
	if (r == 0) {
		render_head(pg);
		put(pg, "<main>\n");
		if (section)
			r = section(out, arg);
	}
	if (r == 0) {
		render_verdicts(pg);
		render_summary(pg);
		r = render_latency(pg);
	}
	if (r == 0)
		r = render_timeline(pg);
	if (r == 0)
		r = render_resources(pg);
	if (r == 0)
		r = render_tables(pg);
	if (r == 0)
		put(pg, "</main>\n<footer>Made by wsbench " WSBENCH_VERSION
		        " from the run's JSON report. This page is self-contained: it loads "
		        "nothing and runs no script.</footer>\n</body>\n</html>\n");
	page_free(pg);
	free(pg);
	if (r < 0)
		return r;
	return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}

int report_html_render(const struct cJSON *const *reports, size_t n, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -errno;
	r = report_html_write(f, reports, n);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}
