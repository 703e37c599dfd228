/* SPDX-License-Identifier: MIT */
/*
 * A latency histogram's summary (see histogram-json.h).
 */
#include <cjson/cJSON.h>

#include "histogram-json.h"
#include "histogram.h"
#include "macro.h"

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static const struct {
	const char *name;
	double p;
} percentiles[] = {
	{ "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p99_9", 99.9 }, { "p99_99", 99.99 },
};

cJSON *histogram_latency_json(const struct histogram *h)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "count", (double)h->total);
	cJSON_AddNumberToObject(o, "min", ms(histogram_min(h)));
	for (size_t i = 0; i < ELEMENTSOF(percentiles); i++)
		cJSON_AddNumberToObject(o, percentiles[i].name,
		                        ms(histogram_percentile(h, percentiles[i].p)));
	cJSON_AddNumberToObject(o, "max", ms(h->max));
	cJSON_AddNumberToObject(o, "mean", histogram_mean(h) / 1000.0);
	cJSON_AddNumberToObject(o, "stddev", histogram_stddev(h) / 1000.0);
	return o;
}
