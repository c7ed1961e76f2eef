/* Unit tests: One_Time_Sequences files.  otseq is I/O: these tests write
 * temporary files under /tmp.  otseq.c is built into this test itself, so
 * the unit tests link without the I/O shell. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "otseq.h"
#include "suites.h"

static char path[64];
static struct cfg_door door;
static char err[512];

static void
setup(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/gk-otseq-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	memset(&door, 0, sizeof(door));
	err[0] = '\0';
}

static void
teardown(void)
{
	unlink(path);
}

static void
put(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, as a static string. */
static const char *
contents(void)
{
	static char buf[1024];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *
seq(void)
{
	static char buf[CFG_MAX_SEQ * 12];

	return config_ports_format(door.seq, door.seq_len, buf, sizeof(buf));
}

static const char *const file =
    "# one-time sequences for smtp\n"		/* 1 */
    "\n"					/* 2 */
    " 2000,3000:udp,4000\n"			/* 3 */
    "\t\r\n"					/* 4 */
    " 2001, 3001:udp, 4001\r\n"			/* 5 */
    "  # spent by hand\n"			/* 6 */
    " 2002:udp,3002\n";				/* 7: no newline after */

/* Lines up to `after` are used, whatever the file says: a read-only
 * file never gives a sequence out twice. */
START_TEST(load_after_a_line)
{
	unsigned line = 0;

	put(file);
	ck_assert_int_eq(otseq_load(path, 3, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 5);
	ck_assert_int_eq(otseq_load(path, 5, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 7);
	ck_assert_int_eq(otseq_load(path, 7, &door, &line, err, sizeof(err)), 1);
	ck_assert_uint_eq(door.seq_len, 0);
}
END_TEST

START_TEST(load_and_use_up)
{
	unsigned line = 0;

	put(file);
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 3);
	ck_assert_str_eq(seq(), "2000/tcp,3000/udp,4000/tcp");
	/* Loading again without marking gives the same line. */
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 3);

	ck_assert_int_eq(otseq_mark_used(path, 3, err, sizeof(err)), 0);
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 5);
	ck_assert_str_eq(seq(), "2001/tcp,3001/udp,4001/tcp");
	ck_assert_int_eq(otseq_mark_used(path, 5, err, sizeof(err)), 0);
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 7);
	ck_assert_str_eq(seq(), "2002/udp,3002/tcp");
	ck_assert_int_eq(otseq_mark_used(path, 7, err, sizeof(err)), 0);

	/* In place, one byte each, as knockd does. */
	ck_assert_str_eq(contents(),
	    "# one-time sequences for smtp\n"
	    "\n"
	    "#2000,3000:udp,4000\n"
	    "\t\r\n"
	    "#2001, 3001:udp, 4001\r\n"
	    "  # spent by hand\n"
	    "#2002:udp,3002\n");

	/* Spent: the door is shut, not left with its old sequence. */
	line = 99;
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 1);
	ck_assert_uint_eq(door.seq_len, 0);
	ck_assert_uint_eq(line, 99);
	ck_assert_ptr_nonnull(strstr(err, "no unused sequence left"));
}
END_TEST

START_TEST(first_byte_is_overwritten)
{
	unsigned line = 0;

	/* Without a leading blank, the first digit goes (knockd's advice:
	 * start each line with a blank). */
	put("7000,8000\n9000,9100\n");
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 1);
	ck_assert_int_eq(otseq_mark_used(path, 1, err, sizeof(err)), 0);
	ck_assert_str_eq(contents(), "#000,8000\n9000,9100\n");
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 2);
	ck_assert_str_eq(seq(), "9000/tcp,9100/tcp");
	/* Marking twice changes nothing more. */
	ck_assert_int_eq(otseq_mark_used(path, 1, err, sizeof(err)), 0);
	ck_assert_str_eq(contents(), "#000,8000\n9000,9100\n");
}
END_TEST

START_TEST(bad_line)
{
	unsigned line = 0;
	char want[128];

	put("# header\n 2000,70000\n 3000\n");
	door.seq_len = 3;
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: bad port '70000' in Sequence",
	    path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	ck_assert_uint_eq(door.seq_len, 0);
	ck_assert_uint_eq(line, 0);
}
END_TEST

START_TEST(empty_and_missing_files)
{
	unsigned line = 0;

	put("");
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 1);
	put("\n# nothing\n\n");
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 1);

	unlink(path);
	door.seq_len = 2;
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), -1);
	ck_assert_uint_eq(door.seq_len, 0);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	ck_assert_int_eq(otseq_mark_used(path, 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

START_TEST(mark_bad_lines)
{
	char want[128];

	put(" 1000\n\n 2000");
	ck_assert_int_eq(otseq_mark_used(path, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(otseq_mark_used(path, 4, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: no such line", path);
	ck_assert_str_eq(err, want);
	/* A '#' over the newline of a blank line would join two lines. */
	ck_assert_int_eq(otseq_mark_used(path, 2, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: blank line"));
	ck_assert_str_eq(contents(), " 1000\n\n 2000");
	/* The last line, without its newline, is a line. */
	ck_assert_int_eq(otseq_mark_used(path, 3, err, sizeof(err)), 0);
	ck_assert_str_eq(contents(), " 1000\n\n#2000");
	/* After a final newline there is no further line. */
	put(" 1000\n");
	ck_assert_int_eq(otseq_mark_used(path, 2, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no such line"));
}
END_TEST

/* Lines past the first read buffer are found too. */
START_TEST(long_file)
{
	static char big[40000];
	unsigned line = 0, i;
	size_t off = 0;

	for (i = 1; i <= 2000; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off,
		    "#%05u,%u\n", i, 10000 + i);
	snprintf(big + off, sizeof(big) - off, " 1,2\n 3,4\n");
	put(big);
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 2001);
	ck_assert_int_eq(otseq_mark_used(path, line, err, sizeof(err)), 0);
	ck_assert_int_eq(otseq_load(path, 0, &door, &line, err, sizeof(err)), 0);
	ck_assert_uint_eq(line, 2002);
	ck_assert_str_eq(seq(), "3/tcp,4/tcp");
}
END_TEST

Suite *
otseq_suite(void)
{
	Suite *s = suite_create("otseq");
	TCase *tc = tcase_create("otseq");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, load_and_use_up);
	tcase_add_test(tc, load_after_a_line);
	tcase_add_test(tc, first_byte_is_overwritten);
	tcase_add_test(tc, bad_line);
	tcase_add_test(tc, empty_and_missing_files);
	tcase_add_test(tc, mark_bad_lines);
	tcase_add_test(tc, long_file);
	suite_add_tcase(s, tc);
	return s;
}
