/* SPDX-License-Identifier: MIT */
/* Line charts as inline SVG (see plot.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "markup.h"
#include "plot.h"

#define MARGIN_LEFT   72
#define MARGIN_RIGHT  24
#define MARGIN_BOTTOM 50
#define MARGIN_TOP    14 /* above the legend */
#define LEGEND_ROW    20
#define CHAR_WIDTH    6.8 /* a 12 px sans-serif character, on average, for laying out */
#define MAX_TICKS     60

/* Okabe & Ito (2008), "Color Universal Design": blue, vermillion, bluish
 * green, reddish purple, orange, sky blue, black (yellow is too light on
 * white to draw lines with). */
static const char *const palette[PLOT_COLOURS] = {
	"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
};

const char *plot_colour(unsigned i)
{
	return i == PLOT_NEUTRAL ? "#444444" : palette[i % PLOT_COLOURS];
}

double plot_scale_map(const struct plot_scale *s, double v)
{
	if (s->d1 == s->d0)
		return s->r0;
	return s->r0 + (v - s->d0) / (s->d1 - s->d0) * (s->r1 - s->r0);
}

int plot_ticks_nice(double lo, double hi, unsigned target, struct plot_ticks *ret)
{
	double raw, mag, norm, step;

	if (!isfinite(lo) || !isfinite(hi) || hi < lo)
		return -EINVAL;
	if (target < 1)
		target = 1;
	if (hi == lo) {
		/* One value: a unit range around it, so it has an axis. */
		double pad = lo == 0 ? 1 : fabs(lo) / 2;

		lo = lo - (lo > 0 ? lo : pad);
		hi = hi + pad;
		if (lo < 0 && hi - pad >= 0)
			lo = 0;
	}
	raw = (hi - lo) / target;
	mag = pow(10, floor(log10(raw)));
	norm = raw / mag;
	/* A step up to 10 % finer than asked keeps 1004 on a 0..1200 axis by 200,
	 * not 0..1500 by 500. */
	step = (norm <= 1 ? 1 : norm <= 2.2 ? 2 : norm <= 5 ? 5 : 10) * mag;
	if (!isfinite(step) || step <= 0)
		return -EINVAL;
	ret->step = step;
	ret->lo = floor(lo / step + 1e-9) * step;
	ret->hi = ceil(hi / step - 1e-9) * step;
	ret->n = (unsigned)llround((ret->hi - ret->lo) / step) + 1;
	if (ret->n < 2 || ret->n > MAX_TICKS)
		return -EINVAL;
	return 0;
}

size_t plot_path(FILE *out, const struct plot_scale *x, const struct plot_scale *y,
                 const double *xs, const double *ys, size_t n)
{
	size_t drawn = 0;
	bool pen_down = false;

	for (size_t i = 0; i < n; i++) {
		double px, py;

		if (!isfinite(xs[i]) || !isfinite(ys[i])) {
			pen_down = false;
			continue;
		}
		px = plot_scale_map(x, xs[i]);
		py = plot_scale_map(y, ys[i]);
		/* Far outside the plot is as good as just outside (clipped). */
		px = fmax(-1e5, fmin(1e5, px));
		py = fmax(-1e5, fmin(1e5, py));
		fprintf(out, "%s%c%.1f %.1f", drawn ? " " : "", pen_down ? 'L' : 'M', px, py);
		pen_down = true;
		drawn++;
	}
	return drawn;
}

static const char *dasharray(enum plot_dash d)
{
	switch (d) {
	case PLOT_DASHED:
		return " stroke-dasharray=\"7 4\"";
	case PLOT_DOTTED:
		return " stroke-dasharray=\"1.5 3.5\" stroke-linecap=\"round\"";
	default:
		return "";
	}
}

/* The data's extent along one axis, 0 included. Return: false if none. */
static bool data_extent(const struct plot *p, bool along_x, double *lo, double *hi)
{
	bool any = false;

	*lo = 0;
	*hi = 0;
	for (size_t s = 0; s < p->n_series; s++)
		for (size_t i = 0; i < p->series[s].n; i++) {
			double x = p->series[s].x[i], y = p->series[s].y[i], v = along_x ? x : y;

			if (!isfinite(x) || !isfinite(y))
				continue;
			any = true;
			*lo = fmin(*lo, v);
			*hi = fmax(*hi, v);
		}
	return any;
}

struct axis_layout {
	struct plot_scale scale;
	double ticks[MAX_TICKS];
	char labels[MAX_TICKS][32];
	const char *const *own_labels;
	size_t n;
};

static int axis_layout(const struct plot *p, const struct plot_axis *a, bool along_x, double r0,
                       double r1, struct axis_layout *ret)
{
	struct plot_ticks t;
	double lo, hi;
	int r;

	if (!data_extent(p, along_x, &lo, &hi))
		return -ENODATA;
	if (a->fixed) {
		lo = a->lo;
		hi = a->hi;
	}
	ret->own_labels = NULL;
	if (a->ticks) {
		ret->n = a->n_ticks < MAX_TICKS ? a->n_ticks : MAX_TICKS;
		memcpy(ret->ticks, a->ticks, ret->n * sizeof(double));
		ret->own_labels = a->tick_labels;
		ret->scale = (struct plot_scale){ lo, hi, r0, r1 };
		return 0;
	}
	r = plot_ticks_nice(lo, hi, along_x ? 8 : 5, &t);
	if (r < 0)
		return r;
	if (a->fixed) {
		/* Keep the given range; ticks only inside it. */
		t.lo = ceil(lo / t.step - 1e-9) * t.step;
		t.n = (unsigned)floor((hi - t.lo) / t.step + 1e-9) + 1;
	} else {
		lo = t.lo;
		hi = t.hi;
	}
	ret->n = t.n < MAX_TICKS ? t.n : MAX_TICKS;
	for (size_t i = 0; i < ret->n; i++) {
		ret->ticks[i] = t.lo + (double)i * t.step;
		markup_tick(ret->ticks[i], t.step, ret->labels[i], sizeof(ret->labels[i]));
	}
	ret->scale = (struct plot_scale){ lo, hi, r0, r1 };
	return 0;
}

static const char *tick_label(const struct axis_layout *a, size_t i)
{
	return a->own_labels ? a->own_labels[i] : a->labels[i];
}

/* Legend entries flow left to right and wrap; returns the rows used. */
static unsigned legend_rows(const struct plot *p, double width)
{
	double x = 0;
	unsigned rows = p->n_legend ? 1 : 0;

	for (size_t i = 0; i < p->n_legend; i++) {
		double w =
		    34 + CHAR_WIDTH * (double)strlen(p->legend[i].label ? p->legend[i].label : "") +
		    18;

		if (x > 0 && x + w > width) {
			rows++;
			x = 0;
		}
		x += w;
	}
	return rows;
}

static void render_legend(FILE *out, const struct plot *p, double left, double width)
{
	double x = 0, y = MARGIN_TOP + LEGEND_ROW / 2.0;

	fputs("<g class=\"legend\">", out);
	for (size_t i = 0; i < p->n_legend; i++) {
		const struct plot_legend *e = &p->legend[i];
		double w = 34 + CHAR_WIDTH * (double)strlen(e->label ? e->label : "") + 18;

		if (x > 0 && x + w > width) {
			x = 0;
			y += LEGEND_ROW;
		}
		fprintf(out,
		        "<g class=\"legend-entry\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		        "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"%s/>",
		        left + x, y, left + x + 28, y, plot_colour(e->colour), dasharray(e->dash));
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" dominant-baseline=\"middle\">",
		        left + x + 34, y + 0.5);
		markup_escape(out, e->label);
		fputs("</text></g>", out);
		x += w;
	}
	fputs("</g>\n", out);
}

int plot_render(FILE *out, const struct plot *p)
{
	struct axis_layout ax, ay;
	double left = MARGIN_LEFT, right = PLOT_WIDTH - MARGIN_RIGHT, top, bottom,
	       height = p->height ? p->height : PLOT_HEIGHT;
	unsigned rows;
	int r;

	rows = legend_rows(p, right - left);
	top = MARGIN_TOP + rows * LEGEND_ROW + (rows ? 10 : 6);
	height += rows > 1 ? (rows - 1) * LEGEND_ROW : 0;
	bottom = height - MARGIN_BOTTOM;
	r = axis_layout(p, &p->x, true, left, right, &ax);
	if (r < 0)
		return r;
	r = axis_layout(p, &p->y, false, bottom, top, &ay);
	if (r < 0)
		return r;

	fprintf(out,
	        "<svg class=\"chart\" data-chart=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" "
	        "viewBox=\"0 0 %d %.0f\" role=\"img\" font-size=\"12\">",
	        p->id, PLOT_WIDTH, height);
	fputs("<title>", out);
	markup_escape(out, p->title);
	fputs("</title>\n", out);
	fprintf(out,
	        "<defs><clipPath id=\"clip-%s\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
	        "height=\"%.1f\"/></clipPath></defs>\n",
	        p->id, left, top - 2, right - left, bottom - top + 4);

	/* Grid first, under everything. */
	fputs("<g class=\"grid\" stroke=\"#e3e3e3\" stroke-width=\"1\">", out);
	for (size_t i = 0; i < ax.n; i++) {
		double x = plot_scale_map(&ax.scale, ax.ticks[i]);

		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, top, x,
		        bottom);
	}
	for (size_t i = 0; i < ay.n; i++) {
		double y = plot_scale_map(&ay.scale, ay.ticks[i]);

		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", left, y,
		        right, y);
	}
	fputs("</g>\n", out);

	fputs("<g class=\"axis x\">", out);
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>",
	        left, bottom, right, bottom);
	for (size_t i = 0; i < ax.n; i++) {
		double x = plot_scale_map(&ax.scale, ax.ticks[i]);

		fprintf(out,
		        "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		        "stroke=\"#333\"/><text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" "
		        "text-anchor=\"middle\">",
		        x, bottom, x, bottom + 5, x, bottom + 18);
		markup_escape(out, tick_label(&ax, i));
		fputs("</text>", out);
	}
	fprintf(out, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
	        (left + right) / 2, bottom + 40);
	markup_escape(out, p->x.title);
	fputs("</text></g>\n", out);

	fputs("<g class=\"axis y\">", out);
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>",
	        left, top, left, bottom);
	for (size_t i = 0; i < ay.n; i++) {
		double y = plot_scale_map(&ay.scale, ay.ticks[i]);

		fprintf(out,
		        "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		        "stroke=\"#333\"/><text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" "
		        "text-anchor=\"end\" dominant-baseline=\"middle\">",
		        left - 5, y, left, y, left - 8, y);
		markup_escape(out, tick_label(&ay, i));
		fputs("</text>", out);
	}
	fprintf(out,
	        "<text class=\"axis-title\" transform=\"translate(16 %.1f) rotate(-90)\" "
	        "text-anchor=\"middle\">",
	        (top + bottom) / 2);
	markup_escape(out, p->y.title);
	fputs("</text></g>\n", out);

	fprintf(out, "<g class=\"series\" clip-path=\"url(#clip-%s)\" fill=\"none\">", p->id);
	for (size_t s = 0; s < p->n_series; s++) {
		const struct plot_series *ser = &p->series[s];
		size_t finite = 0, last = 0;

		for (size_t i = 0; i < ser->n; i++)
			if (isfinite(ser->x[i]) && isfinite(ser->y[i])) {
				finite++;
				last = i;
			}
		if (finite == 0)
			continue;
		if (finite == 1) {
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">",
			        plot_scale_map(&ax.scale, ser->x[last]),
			        plot_scale_map(&ay.scale, ser->y[last]), plot_colour(ser->colour));
		} else {
			fprintf(out, "<path stroke=\"%s\" stroke-width=\"1.8\"%s d=\"",
			        plot_colour(ser->colour), dasharray(ser->dash));
			plot_path(out, &ax.scale, &ay.scale, ser->x, ser->y, ser->n);
			fputs("\">", out);
		}
		fputs("<title>", out);
		markup_escape(out, ser->label);
		fputs(finite == 1 ? "</title></circle>" : "</title></path>", out);
	}
	fputs("</g>\n", out);
	render_legend(out, p, left, right - left);
	fputs("</svg>\n", out);
	return 0;
}
