/* SPDX-License-Identifier: MIT */
/*
 * Process-wide logging to stderr, prefixed with the program name. Modules do
 * not log; the caller that handles an error logs it once, with context.
 */
#pragma once

#include "macro.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_program(const char *name);
void log_set_level(enum log_level level);
const char *log_program(void);

void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);

/* Logs with strerror(-error) appended and returns error (negative errno). */
int log_errno(enum log_level level, int error, const char *fmt, ...) _printf_(3, 4);

/* An emit function for lws_set_log_level(): strips the newline, prefixes
 * "libwebsockets: " and logs errors (@level 1, LLL_ERR) as errors, the rest
 * as warnings. */
void log_lws_line(int level, const char *line);

#define log_error(...)              log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...)            log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)               log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)              log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_error_errno(error, ...) log_errno(LOG_LEVEL_ERROR, error, __VA_ARGS__)
