/* SPDX-License-Identifier: MIT */
/* Escaping and number formats for HTML and SVG (see markup.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "markup.h"

void markup_escape(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				fputs("\xef\xbf\xbd", out); /* U+FFFD: not allowed in XML text */
			else
				fputc(c, out);
		}
	}
}

/* Inserts a comma every three digits of the integer part of @digits (no
 * sign), into @buf. */
static void group_thousands(const char *digits, char *buf, size_t len)
{
	size_t n = strlen(digits), out = 0;

	for (size_t i = 0; i < n && out + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	buf[out] = '\0';
}

char *markup_number(double v, char *buf, size_t len)
{
	char tmp[64], grouped[96];
	const char *sign = v < 0 ? "\xe2\x88\x92" : ""; /* U+2212 MINUS SIGN */
	double a = fabs(v);

	if (!isfinite(v)) {
		snprintf(buf, len, "%s", "n/a");
		return buf;
	}
	if (a == floor(a) && a < 1e15) {
		snprintf(tmp, sizeof(tmp), "%.0f", a);
		group_thousands(tmp, grouped, sizeof(grouped));
		snprintf(buf, len, "%s%s", sign, grouped);
		return buf;
	}
	if (a >= 1e15) {
		snprintf(buf, len, "%s%.3g", sign, a);
		return buf;
	}
	snprintf(tmp, sizeof(tmp), "%.3f", a);
	/* Trailing zeros (and a bare point) carry no information. */
	for (size_t n = strlen(tmp); n > 0 && (tmp[n - 1] == '0' || tmp[n - 1] == '.'); n--) {
		char c = tmp[n - 1];

		tmp[n - 1] = '\0';
		if (c == '.')
			break;
	}
	if (strcmp(tmp, "0") == 0 || tmp[0] == '\0') {
		snprintf(buf, len, "%s", "0");
		return buf;
	}
	{
		char *dot = strchr(tmp, '.');
		char intpart[64];

		snprintf(intpart, sizeof(intpart), "%.*s",
		         dot ? (int)(dot - tmp) : (int)strlen(tmp), tmp);
		group_thousands(intpart, grouped, sizeof(grouped));
		snprintf(buf, len, "%s%s%s", sign, grouped, dot ? dot : "");
	}
	return buf;
}

char *markup_tick(double v, double step, char *buf, size_t len)
{
	const char *suffix = "";
	double div = 1;
	int decimals;

	if (!isfinite(v) || !isfinite(step) || step <= 0) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	/* Chosen from the step alone, so every label of an axis agrees. */
	if (step >= 1e6) {
		div = 1e6;
		suffix = "M";
	} else if (step >= 1e3) {
		div = 1e3;
		suffix = "k";
	}
	if (fabs(v) < step / 2) {
		snprintf(buf, len, "%s", "0"); /* not "0.0", nor "-0" */
		return buf;
	}
	decimals = (int)ceil(-log10(step / div) - 1e-9);
	if (decimals < 0)
		decimals = 0;
	if (decimals > 6)
		decimals = 6;
	snprintf(buf, len, "%s%.*f%s", v < 0 ? "\xe2\x88\x92" : "", decimals, fabs(v) / div,
	         suffix);
	return buf;
}
