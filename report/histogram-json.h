/* SPDX-License-Identifier: MIT */
/*
 * A latency histogram's summary as a report shows it: count, min,
 * p50/p90/p99/p99.9/p99.99, max, mean and stddev, in milliseconds.
 */
#pragma once

struct cJSON;
struct histogram;

/* Return: the object, or NULL when out of memory. */
struct cJSON *histogram_latency_json(const struct histogram *h);
