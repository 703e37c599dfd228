/* SPDX-License-Identifier: MIT */
/*
 * Tolerant report reading (see report-read.h). cJSON is read here and in
 * the renderers only through these helpers or with explicit type checks.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "histogram.h"
#include "report-read.h"

#define PATH_MAX_LEN 256

const struct cJSON *report_get(const struct cJSON *root, const char *path)
{
	char buf[PATH_MAX_LEN], *key, *save = NULL;
	const cJSON *item = root;

	if (!root || !path || strlen(path) >= sizeof(buf))
		return NULL;
	strcpy(buf, path);
	for (key = strtok_r(buf, ".", &save); key; key = strtok_r(NULL, ".", &save)) {
		if (!cJSON_IsObject(item))
			return NULL;
		item = cJSON_GetObjectItemCaseSensitive(item, key);
		if (!item)
			return NULL;
	}
	return item;
}

int report_get_number(const struct cJSON *root, const char *path, double *ret)
{
	const cJSON *item = report_get(root, path);

	if (!item)
		return -ENOENT;
	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
		return -EINVAL;
	*ret = item->valuedouble;
	return 0;
}

const char *report_get_string(const struct cJSON *root, const char *path)
{
	return cJSON_GetStringValue(report_get(root, path));
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int number_at(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int report_parse_time(const char *s, double *ret)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	struct tm tm = { 0 };
	double fraction = 0, scale = 0.1;
	time_t t;
	size_t i;

	if (!s || strlen(s) < sizeof(shape) - 1 + 1)
		return -EINVAL;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !digits(s + i, 1) : s[i] != shape[i])
			return -EINVAL;
	tm.tm_year = number_at(s, 4) - 1900;
	tm.tm_mon = number_at(s + 5, 2) - 1;
	tm.tm_mday = number_at(s + 8, 2);
	tm.tm_hour = number_at(s + 11, 2);
	tm.tm_min = number_at(s + 14, 2);
	tm.tm_sec = number_at(s + 17, 2);
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -EINVAL;
	s += i;
	if (*s == '.') {
		s++;
		if (!digits(s, 1))
			return -EINVAL;
		for (; digits(s, 1); s++, scale /= 10)
			fraction += (*s - '0') * scale;
	}
	if (strcmp(s, "Z") != 0)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = (double)t + fraction;
	return 0;
}

int report_get_histogram(const struct cJSON *root, const char *which, struct histogram *ret)
{
	char path[64];
	const char *text;

	snprintf(path, sizeof(path), "histogram.%s", which);
	if (!report_get(root, path)) {
		histogram_reset(ret);
		return -ENOENT;
	}
	text = report_get_string(root, path);
	if (!text) {
		histogram_reset(ret);
		return -EINVAL;
	}
	return histogram_decode(ret, text);
}
