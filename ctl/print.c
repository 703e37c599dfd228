/* SPDX-License-Identifier: MIT */
/*
 * The printer (see print.h): tables and lines, or JSON, from the cJSON models
 * bus-client.c builds. The report's summary is report/report-text.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compare-model.h"
#include "json.h"
#include "macro.h"
#include "print.h"
#include "report-text.h"

static struct {
	bool json;
	bool tty;          /* progress lines updated in place */
	time_t last_plain; /* when the last progress line was printed, without a tty */
} out;

void print_init(bool json)
{
	out.json = json;
	out.tty = isatty(STDOUT_FILENO) && !json;
}

void print_error(const char *fmt, ...)
{
	va_list ap;

	fputs("wsbenchctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void print_client_error(const struct client_error *e, int r)
{
	if (sd_bus_error_is_set(&e->bus))
		print_error("%s: %s", e->what, e->bus.message ? e->bus.message : e->bus.name);
	else
		print_error("%s: %s", e->what ? e->what : "D-Bus", strerror(-r));
}

static void print_json(const cJSON *j)
{
	_cleanup_free_ char *s = cJSON_Print(j);

	if (s)
		puts(s);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));

	return s ? s : "";
}

static double jnum(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(o, key));
}

void print_servers(const cJSON *list)
{
	const cJSON *s;

	if (out.json) {
		print_json(list);
		return;
	}
	printf("%-20s %-10s %-8s %-12s %s\n", "NAME", "LANGUAGE", "KIND", "CAPABILITIES", "WHERE");
	cJSON_ArrayForEach(s, list)
	{
		char where[256], caps[64] = "";
		const cJSON *c;

		if (strcmp(jstr(s, "kind"), "url") == 0)
			snprintf(where, sizeof(where), "%s", jstr(s, "url"));
		else
			snprintf(where, sizeof(where), "127.0.0.1:%.0f", jnum(s, "port"));
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(s, "capabilities"))
		{
			size_t n = strlen(caps);

			snprintf(caps + n, sizeof(caps) - n, "%s%s", n ? "," : "",
			         cJSON_GetStringValue(c) ?: "?");
		}
		printf("%-20s %-10s %-8s %-12s %s\n", jstr(s, "name"), jstr(s, "language"),
		       jstr(s, "kind"), caps[0] ? caps : "-", where);
	}
}

void print_scenarios(const cJSON *list)
{
	const cJSON *s;

	if (out.json) {
		print_json(list);
		return;
	}
	printf("%-16s %8s %9s %-7s %9s %9s %-7s %s\n", "NAME", "CLIENTS", "RATE/CL", "PATTERN",
	       "DURATION", "SIZE", "TYPE", "DESCRIPTION");
	cJSON_ArrayForEach(s, list)
	    printf("%-16s %8.0f %9g %-7s %8gs %9.0f %-7s %s\n", jstr(s, "name"), jnum(s, "clients"),
	           jnum(s, "rate"), jstr(s, "pattern"), jnum(s, "duration"),
	           jnum(s, "message_size"), jstr(s, "message_type"), jstr(s, "description"));
}

void print_runs(const cJSON *runs)
{
	const cJSON *o;

	if (out.json) {
		print_json(runs);
		return;
	}
	printf("%-24s %-16s %-18s %-10s %s\n", "ID", "SCENARIO", "SERVER", "STATE", "REPORT");
	cJSON_ArrayForEach(o, runs)
	    printf("%-24s %-16s %-18s %-10s %s\n", jstr(o, "id"), jstr(o, "scenario"),
	           jstr(o, "server"), jstr(o, "state"), jstr(o, "report"));
}

void print_started(const cJSON *run, bool more)
{
	if (out.json) {
		if (!more)
			print_json(run);
		return;
	}
	printf("%s\n", jstr(run, "id"));
	fflush(stdout);
}

/* "ID STATE elapsed/total clients sent recv rate p99 errors". */
static void progress_line(const cJSON *p, char *buf, size_t len)
{
	snprintf(buf, len,
	         "%s %-10s %5.1f/%.0fs  clients %.0f/%.0f  sent %.0f  recv %.0f  %.0f msg/s  "
	         "p99 %.2f ms  errors %.0f",
	         jstr(p, "Id"), jstr(p, "State"), jnum(p, "ElapsedSeconds"),
	         jnum(p, "TotalSeconds"), jnum(p, "ClientsConnected"), jnum(p, "Clients"),
	         jnum(p, "MessagesSent"), jnum(p, "MessagesReceived"), jnum(p, "Rate"),
	         jnum(p, "LatencyP99Ms"), jnum(p, "Errors"));
}

/* The failure and the report of a run, if it has them, after @indent. */
static void print_outcome(const cJSON *p, const char *indent)
{
	if (jstr(p, "FailureReason")[0])
		printf("%sfailed: %s\n", indent, jstr(p, "FailureReason"));
	if (jstr(p, "ReportPath")[0])
		printf("%sreport: %s\n", indent, jstr(p, "ReportPath"));
}

void print_run_status(const cJSON *p)
{
	char line[512];

	if (out.json) {
		print_json(p);
		return;
	}
	progress_line(p, line, sizeof(line));
	printf("%s\n  scenario %s on %s, requested by %s\n", line, jstr(p, "Scenario"),
	       jstr(p, "Server"), jstr(p, "RequestedBy"));
	print_outcome(p, "  ");
}

void print_daemon_status(const cJSON *status, const cJSON *active)
{
	const char *id = jstr(status, "active_run");
	char line[512];

	if (out.json) {
		print_json(status);
		return;
	}
	printf("wsbenchd %s, configuration %s\n", jstr(status, "version"), jstr(status, "config"));
	printf("active run: %s, %.0f queued\n", id[0] ? id : "none", jnum(status, "queued_runs"));
	if (active) {
		progress_line(active, line, sizeof(line));
		printf("  %s\n", line);
	}
}

void print_progress(const cJSON *props)
{
	print_compare_progress("", props);
}

void print_compare_progress(const char *prefix, const cJSON *props)
{
	char line[512];
	size_t n;

	if (out.json)
		return;
	n = (size_t)snprintf(line, sizeof(line), "%s", prefix);
	progress_line(props, line + MIN(n, sizeof(line) - 1),
	              sizeof(line) - MIN(n, sizeof(line) - 1));
	if (out.tty) {
		printf("\r\033[K%s", line);
		fflush(stdout);
	} else if (time(NULL) - out.last_plain >= 5) {
		printf("%s\n", line);
		fflush(stdout);
		out.last_plain = time(NULL);
	}
}

void print_wait_end(const cJSON *p)
{
	char line[512];

	if (out.json) {
		print_json(p);
		return;
	}
	progress_line(p, line, sizeof(line));
	printf("%s%s\n", out.tty ? "\r\033[K" : "", line);
	print_outcome(p, "");
}

void print_wait_interrupted(const char *id)
{
	fprintf(stderr,
	        "\nwsbenchctl: stopped watching; run %s continues (wsbenchctl cancel %s to stop "
	        "it)\n",
	        id, id);
}

void print_report(const char *json_text)
{
	_cleanup_json_ cJSON *rep = NULL;

	if (out.json) {
		puts(json_text);
		return;
	}
	rep = cJSON_Parse(json_text);
	if (rep)
		report_text_write(stdout, rep);
}

void print_compare_started(const cJSON *c)
{
	if (out.json)
		return;
	printf("compare %s: scenario %s, %d servers, %.0f trials each, %d runs queued\n",
	       jstr(c, "id"), jstr(c, "scenario"),
	       cJSON_GetArraySize(cJSON_GetObjectItem(c, "servers")), jnum(c, "repeat"),
	       cJSON_GetArraySize(cJSON_GetObjectItem(c, "trials")));
	fflush(stdout);
}

void print_compare_interrupted(const char *id)
{
	fprintf(stderr,
	        "\nwsbenchctl: stopped watching; compare %s continues (wsbenchctl cancel %s to "
	        "stop it, wsbenchctl compare %s for its table once it ends)\n",
	        id, id, id);
}

void print_compare(const cJSON *model, bool markdown)
{
	if (out.tty)
		printf("\r\033[K");
	if (out.json)
		print_json(model);
	else if (markdown)
		compare_model_print_markdown(stdout, model);
	else
		compare_model_print_text(stdout, model);
}
