/* SPDX-License-Identifier: MIT */
/* Progress lines of wsbench-load (see progress.h). */
#include <math.h>

#include "load-protocol.h"
#include "progress.h"

/* 2^64: every non-negative double below it converts to uint64_t. */
#define TWO_POW_64 18446744073709551616.0

uint64_t json_count(const cJSON *o, const char *key, uint64_t max)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;
	uint64_t u;

	if (!cJSON_IsNumber(item))
		return 0;
	d = item->valuedouble;
	if (!(d >= 0) || d >= TWO_POW_64) /* !(d >= 0) holds for NaN too */
		return 0;
	u = (uint64_t)d;
	return u <= max ? u : 0;
}

double json_amount(const cJSON *o, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble < 0)
		return 0;
	return item->valuedouble;
}

void load_progress_read(const cJSON *line, struct load_progress *ret)
{
	*ret = (struct load_progress){
		.phase =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, LOAD_KEY_PHASE)),
		.elapsed_s = json_amount(line, LOAD_KEY_ELAPSED),
		.total_s = json_amount(line, LOAD_KEY_TOTAL),
		.rate = json_amount(line, LOAD_KEY_RATE),
		.p99_ms = json_amount(line, LOAD_KEY_P99_SO_FAR),
		.connected = (unsigned)json_count(line, LOAD_KEY_CONNECTED, UINT32_MAX),
		.sent = json_count(line, LOAD_KEY_SENT, UINT64_MAX),
		.received = json_count(line, LOAD_KEY_RECEIVED, UINT64_MAX),
		.errors = json_count(line, LOAD_KEY_ERRORS, UINT64_MAX),
	};
}
