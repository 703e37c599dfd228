/* SPDX-License-Identifier: MIT */
/*
 * Number parsing shared by the command-line front ends and the config
 * validator. strtoull() alone accepts "-1", "12abc" and leading blanks; these
 * wrappers do not.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int size_suffix_shift(const char *suffix)
{
	static const struct {
		const char *name;
		int shift;
	} table[] = {
		{ "", 0 },   { "B", 0 },    { "K", 10 }, { "KiB", 10 },
		{ "M", 20 }, { "MiB", 20 }, { "G", 30 }, { "GiB", 30 },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(suffix, table[i].name) == 0)
			return table[i].shift;
	return -EINVAL;
}

int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;
	int shift;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	shift = size_suffix_shift(end);
	if (shift < 0)
		return -EINVAL;
	if (errno == ERANGE || v > (UINT64_MAX >> shift))
		return -ERANGE;
	v <<= shift;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_seconds(const char *s, double min, double max, double *ret)
{
	double v, scale;
	char *end;

	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	/* An overflow is infinite, refused below; an underflow (ERANGE, a
	 * value too small for a normal double, such as the 1e-320 wsbenchd
	 * prints with %.15g for a --set drain_timeout=1e-320) is a number. */
	v = strtod(s, &end);
	if (end == s || !isfinite(v))
		return -EINVAL;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		scale = 1.0;
	else if (strcmp(end, "ms") == 0)
		scale = 1e-3;
	else if (strcmp(end, "us") == 0)
		scale = 1e-6;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		scale = 60.0;
	else if (strcmp(end, "h") == 0)
		scale = 3600.0;
	else
		return -EINVAL;
	v *= scale;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}
