/* SPDX-License-Identifier: MIT */
/*
 * Report reading (report/): what `wsbenchctl report RUN` prints (the text
 * summary, report_text_write(), after ctl/print.c's cJSON_Parse()), and what
 * `report RUN --html FILE` and `--hdr-log FILE` write (the HTML page, alone
 * or comparing several reports, and the HdrHistogram interval log), given
 * arbitrary JSON.
 *
 * Input: up to four documents separated by NUL bytes, each parsed with
 * cJSON as the callers do.
 *
 * Checked: rendering succeeds for any set of JSON objects (a missing or
 * mistyped field leaves its section out, report-html.h) and refuses
 * anything else with -EINVAL; the page is as long as it says and holds only
 * the markup the renderer writes itself: every tag is one of its own, no
 * attribute is an event handler, no URL is javascript: (whatever the
 * reports' strings hold, they come out escaped); the histograms decode or
 * are refused; the interval log and the text summary are written or
 * refused without a crash.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "hdr-log.h"
#include "histogram.h"
#include "report-html.h"
#include "report-read.h"
#include "report-text.h"

#define MAX_REPORTS 4

/* Every element report-html.c and plot.c write. */
static const char *const own_tags[] = {
	"html",   "head",    "meta",   "title",      "style", "body",     "header", "main",
	"footer", "section", "h1",     "h2",         "h3",    "p",        "div",    "span",
	"br",     "table",   "thead",  "tbody",      "tr",    "th",       "td",     "code",
	"strong", "time",    "figure", "figcaption", "label", "svg",      "g",      "line",
	"text",   "rect",    "path",   "circle",     "defs",  "clippath", "tspan",  "polyline",
};

static FILE *devnull;
static struct histogram hist;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	devnull = fopen("/dev/null", "we");
	return devnull ? 0 : -1;
}

static bool own_tag(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(own_tags) / sizeof(own_tags[0]); i++)
		if (strlen(own_tags[i]) == len && strncasecmp(own_tags[i], name, len) == 0)
			return true;
	return false;
}

/* Only the renderer's own markup: its tags, no handlers, no scripts. */
static void check_markup(const char *page, size_t len)
{
	fuzz_check(strlen(page) == len);
	for (const char *p = strchr(page, '<'); p; p = strchr(p + 1, '<')) {
		const char *name = p + 1, *end;
		size_t n = 0;

		if (*name == '!') /* <!DOCTYPE html> */
			continue;
		if (*name == '/')
			name++;
		while (isalnum((unsigned char)name[n]))
			n++;
		if (!own_tag(name, n)) {
			fprintf(stderr, "foreign markup: %.40s\n", p);
			fuzz_check(own_tag(name, n));
		}
		end = strchr(name, '>');
		fuzz_check(end);
		for (const char *a = name + n; a < end; a++) {
			fuzz_check(!(isspace((unsigned char)a[0]) && tolower(a[1]) == 'o' &&
			             tolower(a[2]) == 'n' && isalpha((unsigned char)a[3])));
			fuzz_check(strncasecmp(a, "javascript:", 11) != 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *reports[MAX_REPORTS];
	size_t n = 0, off = 0, page_len = 0;
	bool all_objects = true;
	char *page = NULL;
	int r;

	while (n < MAX_REPORTS && (off < size || n == 0)) {
		const uint8_t *nul = memchr(data + off, '\0', size - off);
		size_t len = nul ? (size_t)(nul - (data + off)) : size - off;

		reports[n] = cJSON_ParseWithLength((const char *)data + off, len);
		if (!reports[n]) {
			/* The callers stop at a file that is not JSON. */
			while (n > 0)
				cJSON_Delete(reports[--n]);
			return 0;
		}
		all_objects &= cJSON_IsObject(reports[n]);
		n++;
		off += len + 1;
	}

	r = report_html_render((const cJSON *const *)reports, n, &page, &page_len);
	if (all_objects) {
		fuzz_check(r == 0 || r == -ENOMEM);
		if (r == 0)
			check_markup(page, page_len);
	} else {
		fuzz_check(r == -EINVAL);
	}
	free(page);

	for (size_t i = 0; i < n; i++) {
		r = report_get_histogram(reports[i], "corrected", &hist);
		fuzz_check(r == 0 || r == -ENOENT || r == -EINVAL);
		r = report_get_histogram(reports[i], "uncorrected", &hist);
		fuzz_check(r == 0 || r == -ENOENT || r == -EINVAL);
		r = hdr_log_write(devnull, reports[i]);
		fuzz_check(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENOMEM);
		report_text_write(devnull, reports[i]);
		cJSON_Delete(reports[i]);
	}
	return 0;
}
