/* SPDX-License-Identifier: MIT */
/*
 * Logging: one line per message on stderr, written with a single write(2) so
 * lines from different threads do not interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *program = "wsbench";
static enum log_level max_level = LOG_LEVEL_INFO;

void log_set_program(const char *name)
{
	const char *slash = strrchr(name, '/');

	program = slash ? slash + 1 : name;
}

void log_set_level(enum log_level level)
{
	max_level = level;
}

const char *log_program(void)
{
	return program;
}

_printf_(3, 0) static void log_emit(enum log_level level, int error, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	if (level > max_level)
		return;
	n = snprintf(line, sizeof(line), "%s: ", program);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m > 0)
		n = MIN((size_t)(n + m), sizeof(line) - 2);
	if (error != 0) {
		m = snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(-error));
		if (m > 0)
			n = MIN((size_t)(n + m), sizeof(line) - 2);
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report to. */
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(level, 0, fmt, ap);
	va_end(ap);
}

int log_errno(enum log_level level, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(level, error, fmt, ap);
	va_end(ap);
	return error;
}

void log_lws_line(int level, const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_msg(level == 1 ? LOG_LEVEL_ERROR : LOG_LEVEL_WARNING, "libwebsockets: %.*s", (int)n,
	        line);
}
