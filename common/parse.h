/* SPDX-License-Identifier: MIT */
/*
 * Strict parsing of numbers from command lines and configuration: the whole
 * string must be consumed, and the range is part of the contract.
 */
#pragma once

#include <stdint.h>

/**
 * parse_u64() - parse a decimal unsigned integer within [min, max].
 * Return: 0, -EINVAL if @s is not a number, -ERANGE if outside the range.
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/**
 * parse_size() - parse a byte count: a decimal number with an optional
 * binary suffix K, M or G (KiB, MiB, GiB; "KiB" spellings accepted too).
 * Return: 0, -EINVAL or -ERANGE as parse_u64().
 */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/**
 * parse_seconds() - parse a duration in seconds as a decimal number with an
 * optional unit suffix: "ms", "s", "m" (e.g. "1.5", "250ms", "2m").
 * Return: 0, -EINVAL or -ERANGE (outside [min, max] seconds).
 */
int parse_seconds(const char *s, double min, double max, double *ret);
