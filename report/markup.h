/* SPDX-License-Identifier: MIT */
/*
 * Text into HTML and SVG: escaping (every string that came from a report
 * goes through markup_escape(), so a server named "<script>" is shown as
 * text) and the number formats the report uses.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* Writes @s with &, <, >, " and ' escaped, fit for text and attribute
 * values; control characters other than tab and newline become U+FFFD.
 * NULL writes nothing. */
void markup_escape(FILE *out, const char *s);

/**
 * markup_number() - @v for a table cell: integers with thousands separators
 * ("11,000"), other numbers with up to 3 decimals and no trailing zeros
 * ("4.271", "2.99"), "−" for a negative sign.
 * Return: @buf.
 */
char *markup_number(double v, char *buf, size_t len);

/**
 * markup_tick() - a tick label for @v on an axis whose ticks are @step
 * apart: just enough decimals for the step, and k or M when the step is
 * at least a thousand or a million ("20k", "3M"), so an axis's labels agree.
 * Return: @buf.
 */
char *markup_tick(double v, double step, char *buf, size_t len);
