/* SPDX-License-Identifier: MIT */
/*
 * The report store (see report-store.h): the directory, its index and the
 * index's sidecar file, atomic writes under names that never replace a file,
 * pruning.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "progress.h"
#include "report-store.h"

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

/* Room for one more entry. Return: 0 or -ENOMEM. */
static int reserve_entry(struct report_store *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct report_entry *grown;

	if (s->n < s->cap)
		return 0;
	grown = realloc(s->v, cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->v = grown;
	s->cap = cap;
	return 0;
}

/* Appends an entry built from @fields (a report's metadata, or a sidecar
 * line: the same keys). */
static int index_add(struct report_store *s, const char *path, const cJSON *fields,
                     const struct file_stamp *stamp)
{
	struct report_entry *e;

	if (reserve_entry(s) < 0)
		return -ENOMEM;
	e = &s->v[s->n];
	*e = (struct report_entry){
		.id = dup_field(fields, "id"),
		.path = strdup(path),
		.scenario = dup_field(fields, "scenario"),
		.server = dup_field(fields, "server"),
		.state = dup_field(fields, "state"),
		.start = dup_field(fields, "start"),
		.stamp = *stamp,
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

/* ---- the index sidecar --------------------------------------------------- */

/*
 * The index as last saved, one JSON object a line: the report's file name,
 * size and mtime, and the fields ListRuns shows. It is a cache: a report it
 * does not describe as it is on disk is read from its own file, and a lost
 * or damaged sidecar costs one slower start. Reading every report in full
 * took 0.6 s (warm cache) for 10,000 reports of 21 KB, on the event loop.
 */
#define SIDECAR "/.index.jsonl"

static struct file_stamp stamp_of(const struct stat *st)
{
	return (struct file_stamp){ .size = (uint64_t)st->st_size,
		                    .mtime_sec = st->st_mtim.tv_sec,
		                    .mtime_nsec = st->st_mtim.tv_nsec };
}

static bool stamp_equal(const struct file_stamp *a, const struct file_stamp *b)
{
	return a->size == b->size && a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_entry *)a)->path,
	              ((const struct report_entry *)b)->path);
}

/* The sidecar's entries, sorted by path for lookup. A line that does not
 * parse is skipped: its report is then read from its file. */
static int sidecar_load(const char *dir, struct report_store *cache)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	char *line, *next;

	if (asprintf(&path, "%s" SIDECAR, dir) < 0)
		return -ENOMEM;
	if (read_file(path, &text) < 0)
		return 0; /* none yet, or unreadable: every report is read */
	for (line = text; line && *line; line = next) {
		struct file_stamp stamp;
		_cleanup_free_ char *report = NULL;
		const char *file;
		cJSON *j;
		int k = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		j = cJSON_Parse(line);
		file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "file"));
		stamp = (struct file_stamp){
			.size = json_count(j, "size", UINT64_MAX),
			.mtime_sec = (int64_t)json_count(j, "mtime_sec", INT64_MAX),
			.mtime_nsec = (long)json_count(j, "mtime_nsec", 999999999),
		};
		if (file && !strchr(file, '/') && asprintf(&report, "%s/%s", dir, file) >= 0)
			k = index_add(cache, report, j, &stamp);
		cJSON_Delete(j);
		if (k < 0)
			return k;
	}
	if (cache->n)
		qsort(cache->v, cache->n, sizeof(*cache->v), path_cmp);
	return 0;
}

static cJSON *sidecar_line(const struct report_entry *e)
{
	const char *slash = strrchr(e->path, '/');
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "file", slash ? slash + 1 : e->path);
	cJSON_AddNumberToObject(o, "size", (double)e->stamp.size);
	cJSON_AddNumberToObject(o, "mtime_sec", (double)e->stamp.mtime_sec);
	cJSON_AddNumberToObject(o, "mtime_nsec", (double)e->stamp.mtime_nsec);
	cJSON_AddStringToObject(o, "id", e->id);
	cJSON_AddStringToObject(o, "scenario", e->scenario);
	cJSON_AddStringToObject(o, "server", e->server);
	cJSON_AddStringToObject(o, "state", e->state);
	cJSON_AddStringToObject(o, "start", e->start);
	return o;
}

/* Rewrites the sidecar from the index (temporary file and rename; no fsync:
 * after a crash, a stale sidecar only means reading some reports again). */
static int sidecar_save(const struct report_store *s)
{
	_cleanup_free_ char *tmp = NULL, *path = NULL;
	FILE *f;
	int fd, r = 0;

	if (asprintf(&tmp, "%s/.tmp-index-XXXXXX", s->dir) < 0 ||
	    asprintf(&path, "%s" SIDECAR, s->dir) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	for (size_t i = 0; r == 0 && i < s->n; i++) {
		cJSON *o = sidecar_line(&s->v[i]);
		char *line = cJSON_PrintUnformatted(o);

		if (!line || fprintf(f, "%s\n", line) < 0)
			r = -EIO;
		free(line);
		cJSON_Delete(o);
	}
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && (fchmodat(AT_FDCWD, tmp, 0644, 0) < 0 || rename(tmp, path) < 0))
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* ---- opening ---------------------------------------------------------------- */

/* Indexes one report from its own file. Return: 1 indexed, 0 not a report. */
static int index_from_file(struct report_store *s, const char *path, const struct file_stamp *stamp)
{
	_cleanup_free_ char *text = NULL;
	cJSON *j, *meta;
	int k;

	if (read_file(path, &text) < 0)
		return 0;
	j = cJSON_Parse(text);
	meta = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	k = !cJSON_IsObject(meta) ? 0 : index_add(s, path, meta, stamp) < 0 ? -ENOMEM : 1;
	cJSON_Delete(j); /* and meta with it */
	return k;
}

/* Takes over @cached's entry for @path if it describes the file as it is.
 * Return: 1 taken, 0 not. */
static int index_from_cache(struct report_store *s, struct report_store *cache, const char *path,
                            const struct file_stamp *stamp)
{
	struct report_entry key = { .path = (char *)path }, *hit;

	hit = cache->n ? bsearch(&key, cache->v, cache->n, sizeof(key), path_cmp) : NULL;
	if (!hit || !hit->id || !stamp_equal(&hit->stamp, stamp))
		return 0;
	if (reserve_entry(s) < 0)
		return -ENOMEM;
	/* Moved, but for the path, which keeps the cache sorted for bsearch();
	 * an id of NULL marks the entry taken. */
	s->v[s->n] = *hit;
	s->v[s->n].path = strdup(hit->path);
	if (!s->v[s->n].path)
		return -ENOMEM;
	s->n++;
	*hit = (struct report_entry){ .path = hit->path };
	return 1;
}

/* One directory entry: a stray temporary file is removed, a report indexed. */
static int index_dirent(struct report_store *s, struct report_store *cache, int dfd,
                        const char *name)
{
	_cleanup_free_ char *path = NULL;
	struct file_stamp stamp;
	size_t n = strlen(name);
	struct stat st;
	int k;

	/* Temporary files of an interrupted write are removed, never read. */
	if (strncmp(name, ".tmp-", 5) == 0) {
		unlinkat(dfd, name, 0);
		return 0;
	}
	if (name[0] == '.' || n < 6 || strcmp(name + n - 5, ".json") != 0)
		return 0;
	if (fstatat(dfd, name, &st, 0) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (asprintf(&path, "%s/%s", s->dir, name) < 0)
		return -ENOMEM;
	stamp = stamp_of(&st);
	k = index_from_cache(s, cache, path, &stamp);
	if (k != 0)
		return k;
	k = index_from_file(s, path, &stamp);
	if (k > 0)
		s->n_read++;
	return k;
}

static int index_directory(struct report_store *s, struct report_store *cache)
{
	struct dirent *de;
	DIR *d = opendir(s->dir);
	int k = 0;

	if (!d)
		return -errno;
	while (k >= 0 && (de = readdir(d)))
		k = index_dirent(s, cache, dirfd(d), de->d_name);
	closedir(d);
	return k < 0 ? k : 0;
}

int report_store_open(const char *dir, struct report_store **ret)
{
	struct report_store *s = calloc(1, sizeof(*s)), cache = { 0 };
	bool stale;
	int r;

	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return -ENOMEM;
	}
	r = mkdir_p(dir);
	if (r >= 0)
		r = sidecar_load(dir, &cache);
	if (r >= 0)
		r = index_directory(s, &cache);
	/* Whatever is left in the cache described reports that are gone or changed. */
	stale = s->n_read > 0;
	for (size_t i = 0; i < cache.n; i++) {
		stale = stale || cache.v[i].id;
		entry_free(&cache.v[i]);
	}
	free(cache.v);
	if (r < 0) {
		report_store_free(s);
		return r;
	}
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
	if (stale)
		(void)sidecar_save(s); /* a cache: without it the next start reads more */
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
static char *report_base_name(const struct report_store *s, const char *scenario,
                              const char *language, int64_t start_wall_ns)
{
	char stamp[32], *base;
	time_t secs = (time_t)(start_wall_ns / 1000000000LL);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (asprintf(&base, "%s/%s_%s_%s", s->dir, scenario, language, stamp) < 0)
		return NULL;
	return base;
}

/* What report_store_add_beside() may have put beside a report. */
static const char *const beside_suffixes[] = { ".html" };

/* "<report without .json><suffix>" (malloc'd), or NULL. */
static char *beside_path(const char *json_path, const char *suffix)
{
	size_t n = strlen(json_path);
	char *path;

	if (n >= 5 && strcmp(json_path + n - 5, ".json") == 0)
		n -= 5;
	if (asprintf(&path, "%.*s%s", (int)n, json_path, suffix) < 0)
		return NULL;
	return path;
}

static void prune(struct report_store *s, unsigned keep)
{
	while (s->n > keep) {
		/* Oldest first (sorted by start time). */
		if (unlink(s->v[0].path) < 0 && errno != ENOENT)
			break;
		for (size_t i = 0; i < ELEMENTSOF(beside_suffixes); i++) {
			_cleanup_free_ char *p = beside_path(s->v[0].path, beside_suffixes[i]);

			if (p)
				(void)unlink(p); /* most often there is none: ENOENT */
		}
		entry_free(&s->v[0]);
		memmove(s->v, s->v + 1, (s->n - 1) * sizeof(*s->v));
		s->n--;
	}
}

int report_store_add(struct report_store *s, const char *text, const char *scenario,
                     const char *language, int64_t start_wall_ns, unsigned keep, char **ret_path)
{
	_cleanup_free_ char *base = report_base_name(s, scenario, language, start_wall_ns);
	_cleanup_free_ char *path = NULL;
	struct file_stamp stamp;
	struct stat st;
	cJSON *j;
	int k;

	if (!base)
		return -ENOMEM;
	k = write_atomic(s->dir, base, text, &path);
	if (k == 0 && stat(path, &st) < 0)
		k = -errno;
	if (k < 0)
		return k;
	stamp = stamp_of(&st);
	j = cJSON_Parse(text);
	k = index_add(s, path, cJSON_GetObjectItem(j, "metadata"), &stamp);
	cJSON_Delete(j);
	if (k < 0)
		return k;
	qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
	prune(s, keep);
	(void)sidecar_save(s); /* a cache: without it the next start reads more */
	*ret_path = TAKE_PTR(path);
	return 0;
}

int report_store_add_beside(const struct report_store *s, const char *json_path, const char *suffix,
                            const char *text)
{
	_cleanup_free_ char *path = beside_path(json_path, suffix), *tmp = NULL;
	int fd, dfd, r;

	if (!path || asprintf(&tmp, "%s/.tmp-report-XXXXXX", s->dir) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text);
	if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	/* Its name comes from the report's, which no other report has. */
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
