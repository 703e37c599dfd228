/* SPDX-License-Identifier: MIT */
/*
 * Report composition and storage (see report.h). The report is wsbench-load's
 * result (throughput, latency, errors, client, timeline, histogram) with the
 * daemon's own sections around it: metadata, clientConfig, serverConfig and
 * resourceUsage (the server's and the client's CPU and RSS over time).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "macro.h"
#include "report.h"
#include "run.h"
#include "wsbench-config.h"

static void entry_free(struct report_entry *e)
{
	free(e->id);
	free(e->path);
	free(e->scenario);
	free(e->server);
	free(e->state);
	free(e->start);
}

struct report_store *report_store_free(struct report_store *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		entry_free(&s->v[i]);
	free(s->v);
	free(s->dir);
	free(s);
	return NULL;
}

static int read_file(const char *path, char **ret)
{
	FILE *f = fopen(path, "re");
	long size;
	char *buf;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return -EIO;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	buf[size] = '\0';
	fclose(f);
	*ret = buf;
	return 0;
}

static char *dup_field(const cJSON *obj, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(obj, key));

	return strdup(v ? v : "");
}

static int index_add(struct report_store *s, const char *path, const cJSON *meta)
{
	struct report_entry *grown = realloc(s->v, (s->n + 1) * sizeof(*grown)), *e;

	if (!grown)
		return -ENOMEM;
	s->v = grown;
	e = &s->v[s->n];
	*e = (struct report_entry){
		.id = dup_field(meta, "id"),
		.path = strdup(path),
		.scenario = dup_field(meta, "scenario"),
		.server = dup_field(meta, "server"),
		.state = dup_field(meta, "state"),
		.start = dup_field(meta, "start"),
	};
	if (!e->id || !e->path || !e->scenario || !e->server || !e->state || !e->start) {
		entry_free(e);
		return -ENOMEM;
	}
	s->n++;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct report_entry *x = a, *y = b;
	int c = strcmp(x->start, y->start);

	return c ? c : strcmp(x->id, y->id);
}

static int mkdir_p(const char *dir)
{
	char *copy = strdup(dir);

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
				free(copy);
				return -errno;
			}
			*p = '/';
		}
	free(copy);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int report_store_open(const char *dir, struct report_store **ret)
{
	struct report_store *s = calloc(1, sizeof(*s));
	struct dirent *de;
	DIR *d;
	int r;

	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return -ENOMEM;
	}
	r = mkdir_p(dir);
	if (r < 0) {
		report_store_free(s);
		return r;
	}
	d = opendir(dir);
	if (!d) {
		r = -errno;
		report_store_free(s);
		return r;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char *path, *text;
		cJSON *j;

		/* Temporary files of an interrupted write are removed, never read. */
		if (strncmp(de->d_name, ".tmp-", 5) == 0) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			continue;
		if (read_file(path, &text) == 0) {
			j = cJSON_Parse(text);
			if (j && cJSON_GetObjectItem(j, "metadata"))
				index_add(s, path, cJSON_GetObjectItem(j, "metadata"));
			cJSON_Delete(j);
			free(text);
		}
		free(path);
	}
	closedir(d);
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
	*ret = s;
	return 0;
}

const struct report_entry *report_store_find(const struct report_store *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return &s->v[i];
	return NULL;
}

unsigned report_store_highest_run_number(const struct report_store *s)
{
	unsigned highest = 0;

	for (size_t i = 0; i < s->n; i++) {
		const char *sep = strrchr(s->v[i].id, '_');
		char *end;
		unsigned long n;

		if (!sep || sep[1] < '0' || sep[1] > '9')
			continue;
		errno = 0;
		n = strtoul(sep + 1, &end, 10);
		if (errno == 0 && *end == '\0' && n <= UINT_MAX && n > highest)
			highest = (unsigned)n;
	}
	return highest;
}

int report_store_read(const struct report_store *s, const char *id, char **ret)
{
	const struct report_entry *e = report_store_find(s, id);

	if (!e)
		return -ENOENT;
	return read_file(e->path, ret);
}

/* ---- composing ------------------------------------------------------------ */

static cJSON *samples_json(const struct sample_series *s)
{
	cJSON *a = cJSON_CreateArray();
	char ts[40];

	for (size_t i = 0; i < s->n; i++) {
		cJSON *o = cJSON_CreateObject();

		format_iso8601(s->v[i].wall_ns, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "timestamp", ts);
		cJSON_AddNumberToObject(o, "cpu_percent", s->v[i].cpu_percent);
		cJSON_AddNumberToObject(o, "rss_bytes", (double)s->v[i].rss_bytes);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *series_summary(const struct sample_series *s)
{
	cJSON *o = cJSON_CreateObject();
	double cpu_sum = 0, cpu_max = 0;
	uint64_t rss_max = 0;
	size_t n = 0;

	for (size_t i = 1; i < s->n; i++, n++) { /* the first sample has no CPU delta */
		cpu_sum += s->v[i].cpu_percent;
		cpu_max = MAX(cpu_max, s->v[i].cpu_percent);
	}
	for (size_t i = 0; i < s->n; i++)
		rss_max = MAX(rss_max, s->v[i].rss_bytes);
	cJSON_AddNumberToObject(o, "samples", (double)s->n);
	cJSON_AddNumberToObject(o, "cpu_percent_mean", n ? cpu_sum / (double)n : 0);
	cJSON_AddNumberToObject(o, "cpu_percent_max", cpu_max);
	cJSON_AddNumberToObject(o, "rss_bytes_max", (double)rss_max);
	return o;
}

static cJSON *metadata_json(const struct run *r)
{
	cJSON *m = cJSON_CreateObject(), *by;
	char ts[40], host[256] = "";

	cJSON_AddStringToObject(m, "id", r->id);
	cJSON_AddStringToObject(m, "scenario", r->scenario.name);
	cJSON_AddStringToObject(m, "server", r->server->name);
	cJSON_AddStringToObject(m, "language", r->server->language);
	cJSON_AddStringToObject(m, "state", run_state_to_string(r->state));
	if (r->failure)
		cJSON_AddStringToObject(m, "failure_reason", r->failure);
	format_iso8601(r->start_wall_ns, ts, sizeof(ts));
	cJSON_AddStringToObject(m, "start", ts);
	format_iso8601(r->end_wall_ns, ts, sizeof(ts));
	cJSON_AddStringToObject(m, "end", ts);
	cJSON_AddNumberToObject(m, "duration_s", (double)(r->end_wall_ns - r->start_wall_ns) / 1e9);
	gethostname(host, sizeof(host) - 1);
	cJSON_AddStringToObject(m, "host", host);
	cJSON_AddStringToObject(m, "wsbench_version", WSBENCH_VERSION);
	cJSON_AddStringToObject(m, "config_file", r->config->path);
	if (r->overrides[0])
		cJSON_AddStringToObject(m, "overrides", r->overrides);
	by = cJSON_AddObjectToObject(m, "requested_by");
	cJSON_AddStringToObject(by, "user", r->owner);
	cJSON_AddNumberToObject(by, "uid", r->owner_uid);
	return m;
}

static cJSON *client_config_json(const struct run *r)
{
	const struct scenario_config *s = &r->scenario;
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "url", r->url ? r->url : "");
	cJSON_AddNumberToObject(c, "clients", s->clients);
	cJSON_AddNumberToObject(c, "ramp_up_s", s->ramp_up);
	cJSON_AddStringToObject(c, "pattern", s->pattern);
	cJSON_AddNumberToObject(c, "rate_per_client", s->rate);
	if (s->rate_end >= 0)
		cJSON_AddNumberToObject(c, "rate_end_per_client", s->rate_end);
	if (strcmp(s->pattern, "burst") == 0) {
		cJSON_AddNumberToObject(c, "burst", s->burst);
		cJSON_AddNumberToObject(c, "interval_s", s->interval);
	}
	cJSON_AddNumberToObject(c, "duration_s", s->duration);
	cJSON_AddNumberToObject(c, "warmup_s", s->warmup);
	cJSON_AddNumberToObject(c, "drain_timeout_s", s->drain_timeout);
	cJSON_AddNumberToObject(c, "message_size", s->message_size);
	cJSON_AddStringToObject(c, "message_type", s->message_type);
	return c;
}

static cJSON *server_config_json(const struct run *r)
{
	const struct server_config *s = r->server;
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "name", s->name);
	cJSON_AddStringToObject(c, "language", s->language);
	cJSON_AddStringToObject(c, "kind", server_kind_to_string(s->kind));
	if (s->kind == SERVER_URL) {
		cJSON_AddStringToObject(c, "url", s->url);
		cJSON_AddBoolToObject(c, "sampled", false);
		return c;
	}
	cJSON_AddNumberToObject(c, "port", s->port);
	if (s->kind == SERVER_BUILTIN)
		cJSON_AddNumberToObject(c, "threads", s->threads);
	else {
		cJSON *cmd = cJSON_AddArrayToObject(c, "command");

		for (char **a = s->command; *a; a++)
			cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
	}
	cJSON_AddBoolToObject(c, "sampled", true);
	return c;
}

static void copy_section(cJSON *to, const cJSON *from, const char *name)
{
	const cJSON *item = cJSON_GetObjectItem(from, name);

	cJSON_AddItemToObject(to, name, item ? cJSON_Duplicate(item, true) : cJSON_CreateNull());
}

static char *compose(const struct run *r)
{
	cJSON *root = cJSON_CreateObject(), *usage, *errors;
	char *text;

	cJSON_AddItemToObject(root, "metadata", metadata_json(r));
	cJSON_AddItemToObject(root, "clientConfig", client_config_json(r));
	cJSON_AddItemToObject(root, "serverConfig", server_config_json(r));
	copy_section(root, r->result, "throughput");
	copy_section(root, r->result, "latency");
	copy_section(root, r->result, "errors");
	errors = cJSON_GetObjectItem(root, "errors");
	if (cJSON_IsObject(errors) && r->failure)
		cJSON_AddStringToObject(errors, "run_failure", r->failure);
	usage = cJSON_AddObjectToObject(root, "resourceUsage");
	cJSON_AddNumberToObject(usage, "interval_ms", r->config->daemon.sample_interval_ms);
	cJSON_AddItemToObject(usage, "server", samples_json(&r->server_samples));
	cJSON_AddItemToObject(usage, "server_summary", series_summary(&r->server_samples));
	cJSON_AddItemToObject(usage, "client", samples_json(&r->client_samples));
	cJSON_AddItemToObject(usage, "client_summary", series_summary(&r->client_samples));
	copy_section(root, r->result, "client");
	copy_section(root, r->result, "timeline");
	copy_section(root, r->result, "histogram");
	text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

/* Reports with the same scenario, language and start second get "-2",
 * "-3"...; past this many the write fails rather than search forever. */
#define NAME_TRIES 100000

/* Moves @tmp to the first free name "<base>.json", "<base>-2.json"... The
 * kernel refuses to replace an existing file (RENAME_NOREPLACE, or link()
 * where the file system lacks it), so no report is ever overwritten, not
 * even one created since we last looked. */
static int publish(const char *tmp, const char *base, char **ret_path)
{
	char *path = NULL;

	for (unsigned n = 1; n <= NAME_TRIES; n++) {
		int k;

		free(path);
		if ((n == 1 ? asprintf(&path, "%s.json", base)
		            : asprintf(&path, "%s-%u.json", base, n)) < 0)
			return -ENOMEM;
		k = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
		if (k < 0 && (errno == EINVAL || errno == ENOSYS)) {
			k = link(tmp, path);
			if (k == 0)
				unlink(tmp);
		}
		if (k == 0) {
			*ret_path = path;
			return 0;
		}
		if (errno != EEXIST) {
			k = -errno;
			free(path);
			return k;
		}
	}
	free(path);
	return -EEXIST;
}

static int write_all(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* Temporary file, fsync, publish under a free name, fsync of the directory:
 * a crash leaves either no report or a whole one. */
static int write_atomic(const char *dir, const char *base, const char *text, char **ret_path)
{
	char *tmp;
	int fd, dfd, r;

	if (asprintf(&tmp, "%s/.tmp-report-XXXXXX", dir) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	r = write_all(fd, text);
	if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0)
		r = publish(tmp, base, ret_path);
	if (r < 0)
		unlink(tmp);
	free(tmp);
	if (r == 0) {
		/* The rename itself must survive a crash too. */
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return r;
}

/* "<dir>/<scenario>_<language>_<UTC start>", without the ".json". */
static char *report_base_name(const struct report_store *s, const struct run *r)
{
	char stamp[32], *base;
	time_t secs = (time_t)(r->start_wall_ns / 1000000000LL);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (asprintf(&base, "%s/%s_%s_%s", s->dir, r->scenario.name, r->server->language, stamp) <
	    0)
		return NULL;
	return base;
}

static void prune(struct report_store *s, unsigned keep)
{
	while (s->n > keep) {
		/* Oldest first (sorted by start time). */
		if (unlink(s->v[0].path) < 0 && errno != ENOENT)
			break;
		entry_free(&s->v[0]);
		memmove(s->v, s->v + 1, (s->n - 1) * sizeof(*s->v));
		s->n--;
	}
}

int report_store_write(struct report_store *s, const struct run *r, unsigned keep, char **ret_path)
{
	char *text = compose(r), *base, *path = NULL;
	cJSON *j, *meta;
	int k;

	if (!text)
		return -ENOMEM;
	base = report_base_name(s, r);
	if (!base) {
		free(text);
		return -ENOMEM;
	}
	k = write_atomic(s->dir, base, text, &path);
	free(base);
	if (k == 0) {
		j = cJSON_Parse(text);
		meta = cJSON_GetObjectItem(j, "metadata");
		k = index_add(s, path, meta);
		cJSON_Delete(j);
		qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
		prune(s, keep);
	}
	free(text);
	if (k < 0) {
		free(path);
		return k;
	}
	free(*ret_path);
	*ret_path = path;
	return 0;
}
