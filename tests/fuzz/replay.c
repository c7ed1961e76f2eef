/*
 * Standalone replayer for the fuzz targets (after dropbear's): linked with a
 * target instead of libFuzzer, it feeds every file of the given corpus
 * directories (or single files) to LLVMFuzzerTestOneInput(), in name order.
 * Needs no clang, so `make check` replays the committed corpora anywhere; a
 * failed invariant aborts, a sanitizer build (SAN=1) also catches overruns.
 *
 *	replay [-v] DIR|FILE...
 *
 * Each input is copied into a heap buffer of exactly its size, as libFuzzer
 * does, so a read past the end is visible to AddressSanitizer.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* In a sanitizer build: called before a sanitizer ends the process. */
extern void __sanitizer_set_death_callback(void (*)(void))
    __attribute__((weak));

static int verbose;
static const char *current;	/* the input being replayed */

/* Name the input that failed, whatever way the process dies. */
static void
say_current(void)
{
	static const char pre[] = "replay: failed on input ";

	if (current == NULL)
		return;
	(void)!write(STDERR_FILENO, pre, sizeof(pre) - 1);
	(void)!write(STDERR_FILENO, current, strlen(current));
	(void)!write(STDERR_FILENO, "\n", 1);
}

static void
on_fatal(int sig)
{
	say_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
catch_fatal(void)
{
	static const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal);
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(say_current);
}

/* Read all of path into a buffer of exactly its size (never NULL). */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f;
	uint8_t *buf = NULL, *nbuf;
	size_t cap = 0, n = 0, r;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nbuf;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	/* Exactly n bytes (at least one allocated: malloc(0) may be NULL). */
	if ((nbuf = malloc(n ? n : 1)) == NULL) {
		free(buf);
		return NULL;
	}
	memcpy(nbuf, buf, n);
	free(buf);
	*len = n;
	return nbuf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

static int
replay_file(const char *path)
{
	uint8_t *buf;
	size_t len;

	if ((buf = slurp(path, &len)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	current = path;
	LLVMFuzzerTestOneInput(buf, len);
	current = NULL;
	free(buf);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Replay the regular files of dir (not hidden ones, not recursively).
 * Returns the number replayed, or -1. */
static long
replay_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	char **names = NULL, **nn, path[4096];
	size_t n = 0, cap = 0, i;
	long done = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nn = realloc(names, cap * sizeof(*names))) ==
			    NULL) {
				fprintf(stderr, "replay: out of memory\n");
				exit(2);
			}
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(2);
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]) >= sizeof(path) || stat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode)) {
			free(names[i]);
			continue;
		}
		if (replay_file(path) != 0)
			done = -1;
		else if (done >= 0)
			done++;
		free(names[i]);
	}
	free(names);
	return done;
}

int
main(int argc, char **argv)
{
	struct stat st;
	long total = 0, n;
	int i, rc = 0;

	catch_fatal();
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argc--;
		argv++;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s [-v] DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode))
			n = replay_dir(argv[i]);
		else
			n = replay_file(argv[i]) == 0 ? 1 : -1;
		if (n < 0) {
			rc = 1;
			continue;
		}
		total += n;
	}
	/* An empty corpus tests nothing: that is a broken setup. */
	if (total == 0) {
		fprintf(stderr, "replay: no inputs found\n");
		rc = 1;
	}
	printf("%s: replayed %ld inputs%s\n", argv[0], total,
	    rc ? ", some could not be read" : ", every invariant held");
	return rc;
}
