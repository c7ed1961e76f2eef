/* Unit tests: the log's sinks never block the caller, and what they lose
 * is counted and said.  log is I/O: these tests write to a FIFO and a file
 * under /tmp, each in the forked process Check runs it in. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "suites.h"

static char dir[64], path[96];
static struct cfg_options opt;
static char err[256];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gk-log-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	memset(&opt, 0, sizeof(opt));
	snprintf(opt.log_file, sizeof(opt.log_file), "%s", path);
	err[0] = '\0';
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static struct log_sink_stats
file_stats(void)
{
	struct log_sink_stats ls[LOG_SINKS];
	unsigned i, n = log_stats(ls, LOG_SINKS);

	for (i = 0; i < n; i++)
		if (strcmp(ls[i].name, "file") == 0)
			return ls[i];
	ck_abort_msg("no file sink");
	return ls[0];
}

static void
nap(void)
{
	struct timespec ts = { 0, 2000000 };

	nanosleep(&ts, NULL);
}

/* Lines of ~100 bytes: 30000 of them are three times the ring. */
static void
flood(const char *what, int n)
{
	char line[128];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "event=%s n=%d msg=\"%s\"", what,
		    i, "a line long enough to fill the ring soon enough....");
		log_line(LOG_INFO, line);
	}
}

/* What the reader has got so far, and more from fd until `until` is in
 * it (or the test times out). */
struct got {
	char *buf;
	size_t len, cap;
};

static void
read_some(int fd, struct got *g)
{
	ssize_t r;

	if (g->cap - g->len < 65536 + 1) {
		g->cap = g->cap * 2 + 65536 * 2;
		g->buf = realloc(g->buf, g->cap);
		ck_assert_ptr_nonnull(g->buf);
	}
	r = read(fd, g->buf + g->len, 65536);
	if (r > 0)
		g->len += (size_t)r;
	else
		nap();
	g->buf[g->len] = '\0';
}

static unsigned
count(const char *s, const char *what)
{
	unsigned n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* The sum of what the notes say was lost. */
static uint64_t
lost_said(const char *s)
{
	const char *key = "event=log-lost sink=file lines=";
	uint64_t sum = 0;

	while ((s = strstr(s, key)) != NULL) {
		s += strlen(key);
		sum += strtoull(s, NULL, 10);
	}
	return sum;
}

/* A sink nobody reads (a FIFO, like a stopped journal's pipe): the caller
 * goes on, the sink loses lines once its ring is full, and when it is read
 * again one line says how many, just before the next line. */
START_TEST(stuck_sink_loses_and_says_so)
{
	struct log_sink_stats st;
	struct got g = { NULL, 0, 0 };
	int fd;
	uint64_t flood_n = 30000, notes;
	char *last, *prev;

	ck_assert_int_eq(mkfifo(path, 0600), 0);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(log_open(&opt, 0, err, sizeof(err)) == 0, "%s", err);
	flood("flood", (int)flood_n);
	st = file_stats();
	ck_assert_uint_gt(st.lost, 0);
	ck_assert_uint_gt(st.queued, 900 * 1024);	/* the ring is full */
	while (file_stats().queued > 0)
		read_some(fd, &g);
	log_line(LOG_INFO, "event=after");
	while (strstr(g.buf, "event=after\n") == NULL)
		read_some(fd, &g);
	st = file_stats();
	/* Notes may come between floods too, whenever room came back: each
	 * says how many since the last, and one comes just before "after". */
	notes = count(g.buf, "event=log-lost sink=file lines=");
	ck_assert_uint_ge(notes, 1);
	ck_assert_uint_eq(lost_said(g.buf), st.lost);
	ck_assert_uint_eq(count(g.buf, "event=flood "), flood_n - st.lost);
	ck_assert_uint_eq(st.written, flood_n - st.lost + notes + 1);
	last = strstr(g.buf, "event=after\n");
	while (last > g.buf && last[-1] != '\n')
		last--;
	ck_assert_msg(last > g.buf + 1, "no line before event=after");
	for (prev = last - 1; prev > g.buf && prev[-1] != '\n'; prev--)
		;
	ck_assert_msg(strstr(prev, "event=log-lost") != NULL &&
	    strstr(prev, "event=log-lost") < last, "the line before \"after\" "
	    "is not the note");
	log_close(1000);
	free(g.buf);
	close(fd);
}
END_TEST

/* A write that fails (the file size limit here; a full disk alike) loses
 * the line, counted; the first line written again is the note. */
START_TEST(failed_writes_are_counted_and_said)
{
	struct rlimit small = { 300, RLIM_INFINITY }, big = { RLIM_INFINITY,
	    RLIM_INFINITY };
	struct log_sink_stats st;
	struct got g = { NULL, 0, 0 };
	int fd;

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	ck_assert_msg(log_open(&opt, 0, err, sizeof(err)) == 0, "%s", err);
	flood("full", 10);
	while (st = file_stats(), st.written + st.lost < 10)
		nap();
	ck_assert_uint_ge(st.lost, 7);		/* 300 bytes hold 2 lines */
	ck_assert_int_eq(st.failing, 1);
	ck_assert_uint_eq(st.written + st.lost, 10);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &big), 0);
	log_line(LOG_INFO, "event=after");
	while (st = file_stats(), st.written < 10 - st.lost + 1)
		nap();
	ck_assert_int_eq(st.failing, 0);
	log_close(1000);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	while (strstr(g.buf ? g.buf : "", "event=after\n") == NULL)
		read_some(fd, &g);
	ck_assert_uint_eq(count(g.buf, "event=log-lost"), 1);
	ck_assert_uint_eq(lost_said(g.buf), st.lost);
	/* The lines the limit cut off are lost, those before it written
	 * whole: a line cut short is ended, never run into the next. */
	ck_assert_uint_eq(count(g.buf, "....\"\n"), 10 - st.lost);
	ck_assert_uint_eq(count(g.buf, "time="), count(g.buf, "\n"));
	ck_assert_uint_le(count(g.buf, "\n"), 10 - st.lost + 3);
	free(g.buf);
	close(fd);
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("sinks");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, stuck_sink_loses_and_says_so);
	tcase_add_test(tc, failed_writes_are_counted_and_said);
	suite_add_tcase(s, tc);
	return s;
}
