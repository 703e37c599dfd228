/* SPDX-License-Identifier: MIT */
/*
 * A main() for the harnesses in builds without libFuzzer (-Dfuzz=disabled,
 * gcc): each argument, a file or a directory of files, is read into a buffer
 * of exactly its size and given to LLVMFuzzerTestOneInput() once, so every
 * build replays the saved corpus (and under AddressSanitizer, an overread
 * of one byte is caught). systemd's fuzz-main.c does the same.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;
	size_t n;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* malloc(0) may return NULL; one spare byte keeps the pointer valid
	 * without making the input any longer. */
	buf = malloc((size_t)st.st_size ? (size_t)st.st_size : 1);
	n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (!buf || n != (size_t)st.st_size) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int select_file(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	size_t inputs = 0;
	int failed = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct dirent **names;
		struct stat st;
		int n;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed |= replay_file(argv[i]) < 0;
			inputs++;
			continue;
		}
		n = scandir(argv[i], &names, select_file, alphasort);
		if (n < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		for (int j = 0; j < n; j++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
			failed |= replay_file(path) < 0;
			inputs++;
			free(names[j]);
		}
		free(names);
	}
	printf("%s: %zu inputs replayed\n", argv[0], inputs);
	return failed;
}
