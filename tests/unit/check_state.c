/* Unit tests: state (pure) and statefile (file I/O in a mkdtemp dir). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "statefile.h"
#include "suites.h"
#include "testutil.h"

static const struct siphash_key key = { 3, 4 };

/* Doors: ssh opens 22 for 30 s, vpn opens 51820/udp for an hour and uses
 * one-time sequences, cmd only runs a command (opens nothing). */
static const char conf_text[] =
    "[options]\n"
    "[ssh]\n"
    "Sequence = 7000,8000,9000\n"
    "Open_Ports = 22:tcp\n"
    "Open_Timeout = 30\n"
    "[vpn]\n"
    "One_Time_Sequences = /etc/gatekeeper/vpn.seq\n"
    "Open_Ports = 51820:udp\n"
    "Open_Timeout = 3600\n"
    "[cmd]\n"
    "Sequence = 1000,2000\n"
    "Command = /bin/true\n";

/* The same doors, reordered, ssh renamed to "shell". */
static const char conf2_text[] =
    "[options]\n"
    "[vpn]\n"
    "One_Time_Sequences = /etc/gatekeeper/vpn.seq\n"
    "Open_Ports = 51820:udp\n"
    "Open_Timeout = 3600\n"
    "[shell]\n"
    "Sequence = 7000,8000,9000\n"
    "Open_Ports = 22:tcp\n"
    "Open_Timeout = 30\n";

/* Big: off the stack.  tu_config() has a single static config. */
static struct config cfg, cfg2;
static struct state_report rep;
static char err[256];

#define NOW_MONO	INT64_C(1000000)		/* 1000 s after boot */
#define NOW_REAL	INT64_C(1700000000000)		/* 2023-11-14 */

static void
setup(void)
{
	cfg = *tu_config(conf_text);
	cfg2 = *tu_config(conf2_text);
	memset(&rep, 0xa5, sizeof(rep));
	memset(err, 0, sizeof(err));
}

static unsigned
D(const struct config *c, const char *name)
{
	int i = config_door_find(c, name);

	ck_assert_msg(i >= 0, "no door %s", name);
	return (unsigned)i;
}

/* Format into a malloc'ed buffer sized by a first call. */
static char *
format(const struct grant_table *gt, const struct state_otseq *ot,
    unsigned n_ot, int64_t mono, int64_t real, struct state_wstats *ws)
{
	size_t need = state_format(NULL, 0, &cfg, gt, ot, n_ot, NULL, 0, mono, real,
	    NULL);
	char *buf = malloc(need + 1);

	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(state_format(buf, need + 1, &cfg, gt, ot, n_ot, NULL, 0, mono,
	    real, ws), need);
	ck_assert_uint_eq(strlen(buf), need);
	return buf;
}

/* Parse text against c into a fresh table (returned); state_parse()'s
 * result in *rc. */
static struct grant_table *
parse_with(const struct config *c, const char *text, size_t len,
    struct state_otseq *ot, unsigned max_ot, unsigned *n_ot, int64_t mono,
    int64_t real, int *rc)
{
	struct grant_table *gt = grant_new(64, &key);

	ck_assert_ptr_nonnull(gt);
	*rc = state_parse(text, len, c, gt, ot, max_ot, n_ot, NULL, 0, NULL, mono,
	    real, &rep,
	    err, sizeof(err));
	return gt;
}

static struct grant_table *
parse_ok(const char *text, struct state_otseq *ot, unsigned max_ot,
    unsigned *n_ot, int64_t mono, int64_t real)
{
	int rc;
	struct grant_table *gt = parse_with(&cfg, text, strlen(text), ot,
	    max_ot, n_ot, mono, real, &rc);

	ck_assert_msg(rc == 0, "rejected: %s\n%s", err, text);
	return gt;
}

static int64_t
expiry(const struct grant_table *gt, const char *src, unsigned door)
{
	struct addr a = tu_addr(src);
	const struct grant *g = grant_find(gt, &a, door, INT64_MIN);

	ck_assert_msg(g != NULL, "no grant of %s for door %u", src, door);
	return g->expires_ms;
}

START_TEST(round_trip)
{
	struct grant_table *gt = grant_new(16, &key), *back;
	struct state_otseq ot[1] = { { 0, 42 } }, ot2[4];
	struct addr v4 = tu_addr("203.0.113.7"), v6 = tu_addr("2001:db8::5");
	struct state_wstats ws;
	unsigned n_ot = 99;
	char *text;
	int rc;

	ot[0].door = D(&cfg, "vpn");
	grant_add(gt, &v4, D(&cfg, "ssh"), NOW_MONO + 20000, NULL);
	grant_add(gt, &v6, D(&cfg, "vpn"), NOW_MONO + 1000000, NULL);
	grant_add(gt, &v6, D(&cfg, "ssh"), NOW_MONO + 1, NULL);
	text = format(gt, ot, 1, NOW_MONO, NOW_REAL, &ws);
	ck_assert_uint_eq(ws.grants, 3);
	ck_assert_uint_eq(ws.otseqs, 1);
	ck_assert_uint_eq(ws.omitted, 0);
	/* Wall-clock expiry = now_real + time left. */
	ck_assert_str_eq(text + strlen(text) - 6, "end 4\n");
	ck_assert_ptr_eq(strstr(text, "gatekeeper-state 2\n"), text);
	ck_assert_ptr_nonnull(strstr(text, "\notseq vpn 42\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\ngrant 203.0.113.7 ssh 1700000020000\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\ngrant 2001:db8::5 vpn 1700001000000\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\ngrant 2001:db8::5 ssh 1700000000001\n"));

	/* Restart: 2 s later on the wall clock, a new boot's monotonic
	 * clock, doors reordered and ssh renamed. */
	back = parse_with(&cfg2, text, strlen(text), ot2, 4, &n_ot, 5000,
	    NOW_REAL + 2000, &rc);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_eq(rep.grants, 3);
	ck_assert_uint_eq(rep.restored, 1);
	ck_assert_uint_eq(rep.expired, 1);	/* had 1 ms left */
	ck_assert_uint_eq(rep.dropped, 1);	/* ssh is gone */
	ck_assert_uint_eq(rep.clamped, 0);
	ck_assert_int_eq(expiry(back, "2001:db8::5", D(&cfg2, "vpn")),
	    5000 + 998000);
	ck_assert_uint_eq(back->st.used, 1);
	ck_assert_uint_eq(n_ot, 1);
	ck_assert_uint_eq(ot2[0].door, D(&cfg2, "vpn"));
	ck_assert_uint_eq(ot2[0].line, 42);
	ck_assert_uint_eq(rep.ot_restored, 1);
	grant_free(back);

	/* Same configuration: everything comes back, door by door. */
	back = parse_ok(text, ot2, 4, &n_ot, 5000, NOW_REAL);
	ck_assert_uint_eq(rep.restored, 3);
	ck_assert_uint_eq(rep.dropped, 0);
	ck_assert_int_eq(expiry(back, "203.0.113.7", D(&cfg, "ssh")), 25000);
	ck_assert_int_eq(expiry(back, "2001:db8::5", D(&cfg, "vpn")),
	    1005000);
	ck_assert_int_eq(expiry(back, "2001:db8::5", D(&cfg, "ssh")), 5001);
	grant_free(back);
	free(text);
	grant_free(gt);
}
END_TEST

START_TEST(format_like_snprintf)
{
	struct grant_table *gt = grant_new(16, &key);
	struct addr a = tu_addr("192.0.2.1");
	char small[24], full[256];
	size_t need;

	grant_add(gt, &a, D(&cfg, "ssh"), NOW_MONO + 5000, NULL);
	/* Already expired on the monotonic clock: not written. */
	grant_add(gt, &a, D(&cfg, "vpn"), NOW_MONO, NULL);
	need = state_format(full, sizeof(full), &cfg, gt, NULL, 0, NULL, 0, NOW_MONO,
	    NOW_REAL, NULL);
	ck_assert_str_eq(full, "gatekeeper-state 2\n"
	    "grant 192.0.2.1 ssh 1700000005000\n"
	    "end 1\n");
	ck_assert_uint_eq(need, strlen(full));
	ck_assert_uint_eq(state_format(small, sizeof(small), &cfg, gt, NULL, 0, NULL, 0,
	    NOW_MONO, NOW_REAL, NULL), need);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(memcmp(small, full, sizeof(small) - 1), 0);
	/* An empty state is a valid file too. */
	ck_assert_uint_eq(state_format(full, sizeof(full), &cfg, NULL, NULL, 0, NULL, 0,
	    NOW_MONO, NOW_REAL, NULL), 25);
	ck_assert_str_eq(full, "gatekeeper-state 2\nend 0\n");
	grant_free(gt);
}
END_TEST

START_TEST(expired_dropped)
{
	unsigned n_ot;
	struct grant_table *gt = parse_ok("gatekeeper-state 1\n"
	    "grant 192.0.2.1 ssh 1699999999000\n"	/* 1 s ago */
	    "grant 192.0.2.2 ssh 1700000000000\n"	/* exactly now */
	    "grant 192.0.2.3 ssh 1700000000001\n"	/* 1 ms left */
	    "end 3\n", NULL, 0, &n_ot, NOW_MONO, NOW_REAL);

	ck_assert_uint_eq(rep.grants, 3);
	ck_assert_uint_eq(rep.expired, 2);
	ck_assert_uint_eq(rep.restored, 1);
	ck_assert_uint_eq(rep.ndrop, 0);	/* expiry is no news */
	ck_assert_uint_eq(gt->st.used, 1);
	ck_assert_int_eq(expiry(gt, "192.0.2.3", D(&cfg, "ssh")),
	    NOW_MONO + 1);
	grant_free(gt);
}
END_TEST

START_TEST(clamped_to_a_day)
{
	unsigned n_ot;
	/* 86430 s "left": more than any grant can have (a day) is cut.
	 * Longer than the door's Open_Timeout is kept: gatekeeperctl
	 * grant --for may grant up to a day. */
	struct grant_table *gt = parse_ok("gatekeeper-state 1\n"
	    "grant 192.0.2.1 ssh 1700086430000\n"
	    "grant 192.0.2.2 ssh 1700007200000\n"	/* 2 h on a 30 s door */
	    "grant 2001:db8::1 vpn 1700086400000\n"	/* exactly the limit */
	    "end 3\n", NULL, 0, &n_ot, NOW_MONO, NOW_REAL);

	ck_assert_uint_eq(rep.restored, 3);
	ck_assert_uint_eq(rep.clamped, 1);
	ck_assert_int_eq(expiry(gt, "192.0.2.1", D(&cfg, "ssh")),
	    NOW_MONO + 86400000);
	ck_assert_int_eq(expiry(gt, "192.0.2.2", D(&cfg, "ssh")),
	    NOW_MONO + 7200000);
	ck_assert_int_eq(expiry(gt, "2001:db8::1", D(&cfg, "vpn")),
	    NOW_MONO + 86400000);
	grant_free(gt);
}
END_TEST

START_TEST(unknown_door_dropped_and_reported)
{
	struct state_otseq ot[4];
	unsigned n_ot = 99;
	struct grant_table *gt = parse_ok("gatekeeper-state 1\n"
	    "grant 192.0.2.1 gone 1700000010000\n"
	    "grant 192.0.2.2 cmd 1700000010000\n"	/* opens nothing */
	    "grant 192.0.2.3 ssh 1700000010000\n"
	    "otseq gone 3\n"
	    "otseq ssh 4\n"				/* no one-time file */
	    "end 5\n", ot, 4, &n_ot, NOW_MONO, NOW_REAL);

	ck_assert_uint_eq(rep.restored, 1);
	ck_assert_uint_eq(rep.dropped, 2);
	ck_assert_uint_eq(rep.ot_dropped, 2);
	ck_assert_uint_eq(n_ot, 0);
	ck_assert_uint_eq(rep.ndrop, 4);
	ck_assert(rep.drop[0].is_grant);
	ck_assert_str_eq(rep.drop[0].door, "gone");
	{
		struct addr want = tu_addr("192.0.2.1");

		ck_assert(addr_equal(&rep.drop[0].src, &want));
	}
	ck_assert_int_eq(rep.drop[0].remaining_ms, 10000);
	ck_assert_str_eq(state_drop_reason(rep.drop[0].why), "door-removed");
	ck_assert_str_eq(rep.drop[1].door, "cmd");
	ck_assert_str_eq(state_drop_reason(rep.drop[1].why),
	    "door-opens-nothing");
	ck_assert(!rep.drop[2].is_grant);
	ck_assert_str_eq(rep.drop[2].door, "gone");
	ck_assert_uint_eq(rep.drop[2].line, 3);
	ck_assert_int_eq(rep.drop[3].why, STATE_DROP_NO_OTSEQ);
	grant_free(gt);
}
END_TEST

START_TEST(report_is_bounded)
{
	char text[4096];
	size_t n = 0;
	unsigned i, n_ot;
	struct grant_table *gt;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "gatekeeper-state 1\n");
	for (i = 0; i < STATE_REPORT_MAX + 5; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "grant 10.0.0.%u gone 1700000010000\n", i);
	snprintf(text + n, sizeof(text) - n, "end %u\n", i);
	gt = parse_ok(text, NULL, 0, &n_ot, NOW_MONO, NOW_REAL);
	ck_assert_uint_eq(rep.dropped, STATE_REPORT_MAX + 5);
	ck_assert_uint_eq(rep.ndrop, STATE_REPORT_MAX);
	grant_free(gt);
}
END_TEST

START_TEST(otseq_limits_and_repeats)
{
	static const char text[] = "gatekeeper-state 1\n"
	    "otseq vpn 3\n"
	    "otseq vpn 0\n"			/* the later record wins */
	    "otseq vpn 4294967295\n"
	    "end 3\n";
	struct state_otseq ot[2];
	unsigned n_ot = 99;
	struct grant_table *gt = parse_ok(text, ot, 2, &n_ot, 0, NOW_REAL);

	ck_assert_uint_eq(n_ot, 1);
	ck_assert_uint_eq(ot[0].line, 4294967295u);
	ck_assert_uint_eq(rep.otseqs, 3);
	grant_free(gt);
	/* No room in the caller's array. */
	gt = parse_ok(text, ot, 0, &n_ot, 0, NOW_REAL);
	ck_assert_uint_eq(n_ot, 0);
	ck_assert_uint_eq(rep.ot_dropped, 3);
	ck_assert_int_eq(rep.drop[0].why, STATE_DROP_OT_FULL);
	grant_free(gt);
}
END_TEST

/* ---- corrupt files: each rejected whole, with "line N: reason" ---- */

struct bad {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	const char *prefix;	/* "line N: " */
	const char *part;	/* somewhere in the message */
};

#define HDR "gatekeeper-state 1\n"
/* A literal holding NUL bytes, and its length. */
#define BIN(s) s, sizeof(s) - 1
#define G1 "grant 192.0.2.1 ssh 1700000010000\n"

static const struct bad bad[] = {
	{ "empty", "", 0, "line 1: ", "empty file" },
	{ "bad magic", "gatekeeper-stat 1\nend 0\n", 0, "line 1: ",
	    "not a gatekeeper state file" },
	{ "foreign file", "[options]\nQueue = 0\n", 0, "line 1: ",
	    "not a gatekeeper state file" },
	{ "bad version", "gatekeeper-state 3\nend 0\n", 0, "line 1: ",
	    "unsupported version 3" },
	{ "version not a number", "gatekeeper-state one\nend 0\n", 0,
	    "line 1: ", "bad header" },
	{ "header extra field", "gatekeeper-state 1 x\nend 0\n", 0,
	    "line 1: ", "bad header" },
	{ "bad address", HDR "grant 192.0.2.256 ssh 1700000010000\nend 1\n",
	    0, "line 2: ", "bad address '192.0.2.256'" },
	{ "host name", HDR "grant localhost ssh 1700000010000\nend 1\n", 0,
	    "line 2: ", "bad address 'localhost'" },
	{ "hex host name", HDR "grant cafe ssh 1700000010000\nend 1\n", 0,
	    "line 2: ", "bad address 'cafe'" },
	{ "scoped address", HDR "grant fe80::1%eth0 ssh 1700000010000\n"
	    "end 1\n", 0, "line 2: ", "bad address" },
	{ "address with prefix", HDR "grant 192.0.2.0/24 ssh 1700000010000\n"
	    "end 1\n", 0, "line 2: ", "bad address" },
	{ "bad door name", HDR "grant 192.0.2.1 ss/h 1700000010000\nend 1\n",
	    0, "line 2: ", "bad door name 'ss/h'" },
	{ "door name too long", HDR "grant 192.0.2.1 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	    "1700000010000\nend 1\n", 0, "line 2: ", "bad door name" },
	{ "negative expiry", HDR "grant 192.0.2.1 ssh -1\nend 1\n", 0,
	    "line 2: ", "bad expiry" },
	{ "zero expiry", HDR "grant 192.0.2.1 ssh 0\nend 1\n", 0,
	    "line 2: ", "bad expiry" },
	{ "expiry after 9999", HDR "grant 192.0.2.1 ssh 253402300800000\n"
	    "end 1\n", 0, "line 2: ", "bad expiry" },
	{ "expiry overflows", HDR "grant 192.0.2.1 ssh 99999999999999999999\n"
	    "end 1\n", 0, "line 2: ", "bad expiry" },
	{ "expiry leading zero", HDR "grant 192.0.2.1 ssh 01700000010000\n"
	    "end 1\n", 0, "line 2: ", "bad expiry" },
	{ "expiry with suffix", HDR "grant 192.0.2.1 ssh 17000000100s\n"
	    "end 1\n", 0, "line 2: ", "bad expiry" },
	{ "grant missing field", HDR "grant 192.0.2.1 ssh\nend 1\n", 0,
	    "line 2: ", "grant needs 3 fields" },
	{ "grant extra field", HDR G1 "grant 192.0.2.1 ssh 1 2\nend 2\n", 0,
	    "line 3: ", "grant needs 3 fields" },
	{ "otseq line too big", HDR "otseq vpn 4294967296\nend 1\n", 0,
	    "line 2: ", "bad line number" },
	{ "otseq missing line", HDR "otseq vpn\nend 1\n", 0, "line 2: ",
	    "otseq needs 2 fields" },
	{ "double space", HDR "grant  192.0.2.1 ssh 1700000010000\nend 1\n",
	    0, "line 2: ", "empty field" },
	{ "trailing space", HDR G1 "end 1 \n", 0, "line 3: ", "empty field" },
	{ "tab", HDR "grant\t192.0.2.1 ssh 1700000010000\nend 1\n", 0,
	    "line 2: ", "bad byte 0x09 at column 6" },
	{ "CRLF", HDR "end 0\r\n", 0, "line 2: ", "bad byte 0x0d" },
	{ "empty line", HDR "\nend 0\n", 0, "line 2: ", "empty line" },
	{ "unknown record", HDR "revoke 192.0.2.1 ssh\nend 1\n", 0,
	    "line 2: ", "unknown record 'revoke'" },
	{ "truncated without end", HDR G1 G1, 0, "line 4: ",
	    "no end record" },
	{ "truncated mid-line", HDR G1 "grant 192.0.2.2 ss", 0, "line 3: ",
	    "no newline at the end" },
	{ "end without newline", HDR G1 "end 1", 0, "line 3: ",
	    "no newline at the end" },
	{ "wrong count", HDR G1 G1 "end 3\n", 0, "line 4: ",
	    "end says 3 records, the file has 2" },
	{ "count too small", HDR G1 G1 "end 1\n", 0, "line 4: ", "end says 1" },
	{ "end without count", HDR "end\n", 0, "line 2: ", "bad end record" },
	{ "data after end", HDR "end 0\n" G1, 0, "line 3: ",
	    "data after the end record" },
	{ "second end", HDR "end 0\nend 0\n", 0, "line 3: ",
	    "data after the end record" },
	{ "garbage", "\x7f" "ELF\x02\x01\x01\n", 0, "line 1: ",
	    "bad byte 0x7f" },
	{ "binary garbage", HDR "\xff\xfe\xfd\n", 0, "line 2: ",
	    "bad byte 0xff at column 1" },
	{ "NUL in a line", BIN(HDR "grant 192.0.2.1\0 ssh 1700000010000\n"
	    "end 1\n"), "line 2: ", "bad byte 0x00 at column 16" },
	{ "NUL in header", BIN("gatekeeper-state\0 1\nend 0\n"), "line 1: ",
	    "bad byte 0x00" },
	{ "NUL line", BIN(HDR "\0\0\0\0\nend 0\n"), "line 2: ",
	    "bad byte 0x00 at column 1" },
	{ "NUL bytes only", BIN("\0\0\0\0"), "line 1: ",
	    "no newline at the end" },
	{ "overlong line", HDR "grant 192.0.2.1 ssh 1700000010000"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\nend 1\n", 0, "line 2: ", "line too long" },
	{ "bad line after good ones", HDR G1 "otseq vpn 3\ngrant x ssh 1\n"
	    "end 3\n", 0, "line 4: ", "bad address 'x'" },
};

START_TEST(corrupt_rejected)
{
	const struct bad *b = &bad[_i];
	size_t len = b->len ? b->len : strlen(b->text);
	struct state_otseq ot[4] = { { 7, 7 } };
	unsigned n_ot = 77;
	struct grant_table *gt;
	int rc;

	gt = parse_with(&cfg, b->text, len, ot, 4, &n_ot, NOW_MONO, NOW_REAL,
	    &rc);
	ck_assert_msg(rc == -1, "%s: accepted", b->name);
	ck_assert_msg(strncmp(err, b->prefix, strlen(b->prefix)) == 0 &&
	    strstr(err, b->part) != NULL, "%s: got '%s', want '%s...%s'",
	    b->name, err, b->prefix, b->part);
	/* Rejected whole: nothing restored, even from good lines before. */
	ck_assert_uint_eq(gt->st.used, 0);
	ck_assert_uint_eq(n_ot, 77);
	ck_assert_uint_eq(ot[0].line, 7);
	ck_assert_uint_eq(rep.restored, 0);
	grant_free(gt);
}
END_TEST

/* The same text one byte shorter, at every length: never accepted. */
START_TEST(every_truncation_rejected)
{
	static const char text[] = HDR G1 "otseq vpn 3\n"
	    "grant 2001:db8::1 vpn 1700000010000\nend 3\n";
	unsigned n_ot;
	size_t len;
	int rc;

	for (len = 0; len < sizeof(text) - 1; len++) {
		struct grant_table *gt = parse_with(&cfg, text, len, NULL, 0,
		    &n_ot, NOW_MONO, NOW_REAL, &rc);

		ck_assert_msg(rc == -1, "accepted at length %zu", len);
		ck_assert_msg(strncmp(err, "line ", 5) == 0, "%s", err);
		grant_free(gt);
	}
	grant_free(parse_ok(text, NULL, 0, &n_ot, NOW_MONO, NOW_REAL));
}
END_TEST

START_TEST(too_large_rejected)
{
	size_t len = (size_t)STATE_MAX_BYTES + 1;
	char *big = malloc(len);
	unsigned n_ot;
	int rc;
	struct grant_table *gt;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', len);
	gt = parse_with(&cfg, big, len, NULL, 0, &n_ot, 0, NOW_REAL, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
	grant_free(gt);
	free(big);
}
END_TEST

START_TEST(too_many_records_rejected)
{
	/* 10 bytes a record: 1,048,577 of them fit in 16 MiB. */
	size_t cap = (size_t)(STATE_MAX_RECORDS + 1) * 10 + 64, n = 0;
	char *buf = malloc(cap);
	unsigned i, n_ot;
	struct grant_table *gt;
	int rc;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, HDR, sizeof(HDR) - 1);
	n = sizeof(HDR) - 1;
	for (i = 0; i < STATE_MAX_RECORDS + 1; i++, n += 10)
		memcpy(buf + n, "otseq x 1\n", 10);
	n += (size_t)snprintf(buf + n, cap - n, "end %u\n", i);
	ck_assert_uint_le(n, STATE_MAX_BYTES);
	gt = parse_with(&cfg, buf, n, NULL, 0, &n_ot, 0, NOW_REAL, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err, "line 1048578: too many records (allowed: at "
	    "most 1048576)");
	grant_free(gt);
	free(buf);
}
END_TEST

/* A full table that does not fit: the writer leaves grants out rather
 * than write a file its own reader refuses. */
START_TEST(writer_stays_within_limits)
{
	char name[CFG_NAME_MAX], conf[256];
	struct config *c;
	struct grant_table *gt = grant_new(200000, &key), *back;
	struct state_wstats ws;
	struct addr a = tu_addr("2001:db80:ffff:ffff:ffff:ffff:ffff:0");
	unsigned i, n_ot;
	size_t need;
	char *buf;

	/* Lines of 104 bytes (39-character addresses, a 43-character door
	 * name) fill the file to 21 bytes below the limit, and "end 161319"
	 * must still fit in them. */
	memset(name, 'd', 43);
	name[43] = '\0';
	snprintf(conf, sizeof(conf), "[options]\nMax_Sources = 200000\n"
	    "[%s]\nSequence = 7000,49000\nOpen_Ports = 22:tcp\n"
	    "Open_Timeout = 600\n", name);
	c = tu_config(conf);
	ck_assert_ptr_nonnull(gt);
	for (i = 0; i < 200000; i++) {
		a.b[12] = (uint8_t)(0x80 | (i >> 16));
		a.b[13] = (uint8_t)(i >> 8);
		a.b[14] = 0xff;
		a.b[15] = (uint8_t)i;
		grant_add(gt, &a, 0, NOW_MONO + 100000, NULL);
	}
	ck_assert_uint_eq(gt->st.used, 200000);
	need = state_format(NULL, 0, c, gt, NULL, 0, NULL, 0, NOW_MONO, NOW_REAL,
	    &ws);
	ck_assert_uint_eq(ws.grants, 161319);
	ck_assert_uint_eq(need,
	    STATE_MAX_BYTES - 21 + sizeof("end 161319\n") - 1);
	ck_assert_uint_eq(ws.grants + ws.omitted, 200000);
	buf = malloc(need + 1);
	ck_assert_ptr_nonnull(buf);
	state_format(buf, need + 1, c, gt, NULL, 0, NULL, 0, NOW_MONO, NOW_REAL,
	    NULL);
	back = grant_new(200000, &key);
	ck_assert_int_eq(state_parse(buf, need, c, back, NULL, 0, &n_ot, NULL, 0,
	    NULL,
	    NOW_MONO, NOW_REAL, &rep, err, sizeof(err)), 0);
	ck_assert_uint_eq(rep.restored, ws.grants);
	grant_free(back);
	grant_free(gt);
	free(buf);
}
END_TEST

/* ---- statefile: real files in a private temporary directory ---- */

static char dir[64];

static void
dir_setup(void)
{
	setup();
	strcpy(dir, "/tmp/gk-state-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
dir_teardown(void)
{
	static const char *const names[] = { "state", "state.tmp", "state.bad",
	    "link", "big", "sub" };
	char p[128];
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
		rmdir(p);
	}
	rmdir(dir);
}

/* dir/name; the last 4 results stay valid. */
static const char *
in_dir(const char *name)
{
	static char p[4][128];
	static unsigned k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

START_TEST(save_load_round_trip)
{
	static const char text[] = HDR G1 "end 1\n";
	const char *path = in_dir("state");
	struct grant_table *gt;
	struct stat st;
	static char dummy;
	char *buf = &dummy;
	size_t len = 1;
	unsigned n_ot;

	/* First start: no file is no error. */
	ck_assert_int_eq(statefile_load(path, &buf, &len, err, sizeof(err)), 0);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);

	ck_assert_msg(statefile_save(path, "old\n", 4, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_msg(statefile_save(path, text, strlen(text), err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(access(in_dir("state.tmp"), F_OK), -1);

	ck_assert_int_eq(statefile_load(path, &buf, &len, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_str_eq(buf, text);	/* NUL-terminated, replaced whole */
	gt = parse_ok(buf, NULL, 0, &n_ot, NOW_MONO, NOW_REAL);
	ck_assert_uint_eq(rep.restored, 1);
	grant_free(gt);
	free(buf);
}
END_TEST

START_TEST(save_errors)
{
	char link[128];

	snprintf(link, sizeof(link), "%s", in_dir("link"));

	/* No such directory: an error naming the file, nothing created. */
	ck_assert_int_eq(statefile_save(in_dir("sub/state"), "x", 1, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "sub/state.tmp"));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	/* A symlink planted at the temporary name is not followed. */
	ck_assert_int_eq(symlink(in_dir("sub"), in_dir("state.tmp")), 0);
	ck_assert_int_eq(statefile_save(in_dir("state"), "x", 1, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(access(in_dir("sub"), F_OK), -1);
	ck_assert_int_eq(unlink(in_dir("state.tmp")), 0);
	/* Nor is one at the state file itself on load. */
	ck_assert_int_eq(statefile_save(in_dir("state"), "x\n", 2, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(symlink(in_dir("state"), link), 0);
	{
		char *buf;
		size_t len;

		ck_assert_int_eq(statefile_load(link, &buf, &len, err,
		    sizeof(err)), -1);
		ck_assert_ptr_null(buf);
	}
}
END_TEST

START_TEST(load_too_large)
{
	const char *big = in_dir("big");
	int fd = open(big, O_CREAT | O_WRONLY, 0600);
	char *buf;
	size_t len;

	ck_assert_int_ge(fd, 0);
	/* Sparse: reads as zeros, costs no disk. */
	ck_assert_int_eq(ftruncate(fd, (off_t)STATE_MAX_BYTES + 1), 0);
	close(fd);
	ck_assert_int_eq(statefile_load(big, &buf, &len, err, sizeof(err)), -2);
	ck_assert_ptr_null(buf);
	ck_assert_ptr_nonnull(strstr(err, "larger than"));
	/* Exactly the limit is read (and then refused by the parser). */
	fd = open(big, O_WRONLY);
	ck_assert_int_eq(ftruncate(fd, (off_t)STATE_MAX_BYTES), 0);
	close(fd);
	ck_assert_int_eq(statefile_load(big, &buf, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, STATE_MAX_BYTES);
	free(buf);
}
END_TEST

START_TEST(set_aside)
{
	const char *path = in_dir("state");
	char newpath[128], *buf;
	size_t len;

	ck_assert_int_eq(statefile_save(path, "junk 1\n", 7, err, sizeof(err)),
	    0);
	ck_assert_int_eq(statefile_set_aside(path, newpath, sizeof(newpath)),
	    0);
	ck_assert_str_eq(newpath, in_dir("state.bad"));
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(statefile_load(newpath, &buf, &len, err, sizeof(err)),
	    0);
	ck_assert_str_eq(buf, "junk 1\n");
	free(buf);
	/* A later bad file replaces the earlier one. */
	ck_assert_int_eq(statefile_save(path, "junk 2\n", 7, err, sizeof(err)),
	    0);
	ck_assert_int_eq(statefile_set_aside(path, newpath, sizeof(newpath)),
	    0);
	ck_assert_int_eq(statefile_load(newpath, &buf, &len, err, sizeof(err)),
	    0);
	ck_assert_str_eq(buf, "junk 2\n");
	free(buf);
	/* Nothing to set aside; a name that does not fit. */
	ck_assert_int_eq(statefile_set_aside(path, newpath, sizeof(newpath)),
	    -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(statefile_set_aside(path, newpath, 8), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

Suite *
state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");
	TCase *tf = tcase_create("statefile");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);	/* megabyte-sized cases under ASan */
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, format_like_snprintf);
	tcase_add_test(tc, expired_dropped);
	tcase_add_test(tc, clamped_to_a_day);
	tcase_add_test(tc, unknown_door_dropped_and_reported);
	tcase_add_test(tc, report_is_bounded);
	tcase_add_test(tc, otseq_limits_and_repeats);
	tcase_add_loop_test(tc, corrupt_rejected, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, every_truncation_rejected);
	tcase_add_test(tc, too_large_rejected);
	tcase_add_test(tc, too_many_records_rejected);
	tcase_add_test(tc, writer_stays_within_limits);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tf, dir_setup, dir_teardown);
	tcase_add_test(tf, save_load_round_trip);
	tcase_add_test(tf, save_errors);
	tcase_add_test(tf, load_too_large);
	tcase_add_test(tf, set_aside);
	suite_add_tcase(s, tf);
	return s;
}
