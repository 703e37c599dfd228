/* SPDX-License-Identifier: MIT */
/*
 * Line charts as inline SVG: scales, "nice" ticks, paths, axes with ticks,
 * grid and titles, and a legend. No scripts and no fonts beyond the
 * reader's own sans-serif, so a chart renders the same offline and in
 * print. Colours are Okabe and Ito's palette, safe for the common forms of
 * colour blindness; line styles (solid, dashed, dotted) carry the second
 * dimension, so nothing depends on colour alone.
 *
 * The DOM a chart produces, for tests and styling: <svg class="chart"
 * data-chart=ID> holding <g class="grid">, <g class="axis x">,
 * <g class="axis y"> (each with its <text class="axis-title">),
 * <g class="series"> with one <path> (or <circle> for a lone point) per
 * series, and <g class="legend">.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PLOT_WIDTH   820
#define PLOT_HEIGHT  330
#define PLOT_COLOURS 7
#define PLOT_NEUTRAL (~0u) /* dark grey, for legend keys of a line style */

enum plot_dash {
	PLOT_SOLID,
	PLOT_DASHED,
	PLOT_DOTTED,
};

/* The colour of series @i: Okabe-Ito, then around again; PLOT_NEUTRAL grey. */
const char *plot_colour(unsigned i);

/* A linear map from the domain [d0, d1] to the range [r0, r1]. */
struct plot_scale {
	double d0, d1, r0, r1;
};

/* Where @v lands; a domain of zero width maps everything to r0. */
double plot_scale_map(const struct plot_scale *s, double v);

/* Ticks lo, lo + step, ... hi. */
struct plot_ticks {
	double lo, hi, step;
	unsigned n;
};

/**
 * plot_ticks_nice() - about @target ticks 1, 2 or 5 × 10^k apart whose range
 * covers [@lo, @hi].
 * Return: 0, or -EINVAL when the bounds are not finite or @hi < @lo.
 */
int plot_ticks_nice(double lo, double hi, unsigned target, struct plot_ticks *ret);

/**
 * plot_path() - the "d" of an SVG path through the points: M, then L for
 * each point; a point that is not finite lifts the pen (the next one starts
 * with M). Coordinates are written to 0.1 unit.
 * Return: the number of points drawn.
 */
size_t plot_path(FILE *out, const struct plot_scale *x, const struct plot_scale *y,
                 const double *xs, const double *ys, size_t n);

struct plot_series {
	const double *x, *y;
	size_t n;
	unsigned colour;
	enum plot_dash dash;
	const char *label; /* shown as the line's tooltip; may be NULL */
};

struct plot_legend {
	const char *label;
	unsigned colour;
	enum plot_dash dash;
};

struct plot_axis {
	const char *title; /* with the unit, e.g. "latency (ms)" */
	bool fixed;        /* [lo, hi] as given; otherwise from the data and 0 */
	double lo, hi;
	/* Ticks of one's own (positions in data units and their labels);
	 * NULL for nice ticks. */
	const double *ticks;
	const char *const *tick_labels;
	size_t n_ticks;
};

struct plot {
	const char *id;    /* data-chart attribute */
	unsigned height;   /* of the viewBox; 0: PLOT_HEIGHT */
	const char *title; /* the SVG's <title>, for screen readers */
	struct plot_axis x, y;
	const struct plot_series *series;
	size_t n_series;
	const struct plot_legend *legend;
	size_t n_legend;
};

/**
 * plot_render() - @p as one <svg> element.
 * Return: 0, or -ENODATA (nothing written) when no series has a finite point.
 */
int plot_render(FILE *out, const struct plot *p);
