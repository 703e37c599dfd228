/* SPDX-License-Identifier: MIT */
/*
 * wsbench-report: a developer's entry point to the report renderers until
 * wsbenchctl has them (not installed). Reads report files, writes to stdout.
 *
 *   wsbench-report html REPORT.json...   one HTML page (several: a comparison)
 *   wsbench-report hdr-log REPORT.json   the HdrHistogram interval log
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdr-log.h"
#include "macro.h"
#include "report-html.h"

static int read_report(const char *path, cJSON **ret)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f = fopen(path, "re");
	cJSON *j;

	if (!f)
		return -errno;
	for (;;) {
		char *grown;
		size_t got;

		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			grown = realloc(text, cap + 1);
			if (!grown) {
				fclose(f);
				return -ENOMEM;
			}
			text = grown;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	text[len] = '\0';
	j = cJSON_ParseWithLength(text, len);
	if (!j)
		return -EBADMSG;
	*ret = j;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: wsbench-report html REPORT.json... > page.html\n"
	                "       wsbench-report hdr-log REPORT.json > latency.hlog\n");
	return 2;
}

int main(int argc, char **argv)
{
	cJSON *reports[REPORT_HTML_MAX] = { 0 };
	size_t n = 0;
	bool html;
	int r = 0;

	if (argc < 3)
		return usage();
	html = strcmp(argv[1], "html") == 0;
	if (!html && strcmp(argv[1], "hdr-log") != 0)
		return usage();
	if ((size_t)(argc - 2) > (html ? REPORT_HTML_MAX : 1)) {
		fprintf(stderr, "wsbench-report: at most %d reports\n", html ? REPORT_HTML_MAX : 1);
		return 2;
	}
	for (int i = 2; i < argc && r == 0; i++) {
		r = read_report(argv[i], &reports[n]);
		if (r < 0)
			fprintf(stderr, "wsbench-report: cannot read '%s': %s\n", argv[i],
			        r == -EBADMSG ? "not JSON" : strerror(-r));
		else
			n++;
	}
	if (r == 0) {
		r = html ? report_html_write(stdout, (const cJSON *const *)reports, n)
		         : hdr_log_write(stdout, reports[0]);
		if (r < 0)
			fprintf(stderr, "wsbench-report: %s: %s\n", argv[1],
			        r == -ENOENT ? "the report has no histogram" : strerror(-r));
	}
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(reports[i]);
	return r < 0 ? 1 : 0;
}
