/* SPDX-License-Identifier: MIT */
/*
 * Scoped cleanup for cJSON trees, like macro.h's for memory and descriptors:
 * _cleanup_json_ cJSON *j = cJSON_Parse(text); is deleted when j goes out of
 * scope, TAKE_PTR(j) hands it out. Header-only, for the programs that link
 * cJSON.
 */
#pragma once

#include <cjson/cJSON.h>

#include "macro.h"

static inline void cJSON_Deletep(cJSON **j)
{
	cJSON_Delete(*j);
}

#define _cleanup_json_ _cleanup_(cJSON_Deletep)
