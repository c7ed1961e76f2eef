/* Unit tests: ctlproto (control requests and replies). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ctlproto.h"
#include "suites.h"
#include "testutil.h"

Suite *ctlproto_suite(void);

static const struct siphash_key key = { 3, 4 };

static const char conf[] =
    "[options]\n"
    "  Queue = 7\n"
    "[openSSH]\n"
    "  Sequence = 7000,8000:udp,9000\n"
    "  Seq_Timeout = 10\n"
    "  Open_Ports = 22:tcp\n"
    "  Open_Timeout = 30\n"
    "[wireguard]\n"
    "  Sequence = 12001:udp,12002:udp,12003\n"
    "  Open_Ports = 51820:udp\n"
    "  Open_Timeout = 120\n"
    "[cmdonly]\n"
    "  Sequence = 40001,40003\n"
    "  Command = /bin/true\n";

static struct ctl_req req;
static char err[CTL_ERR_MAX];

static int
parse(const char *line)
{
	err[0] = '\0';
	return ctlproto_parse(line, strlen(line), &req, err, sizeof(err));
}

/* Parse must fail with a reason containing want. */
static void
parse_fails(const char *line, const char *want)
{
	ck_assert_msg(parse(line) == -1, "'%s' parsed", line);
	ck_assert_msg(strstr(err, want) != NULL, "'%s': error '%s' lacks '%s'",
	    line, err, want);
}

/* ---- parsing ---- */

START_TEST(parse_simple_commands)
{
	static const struct {
		const char *line;
		enum ctl_cmd cmd;
	} t[] = {
		{ "status\n", CTL_CMD_STATUS },
		{ "grants\n", CTL_CMD_GRANTS },
		{ "knocks", CTL_CMD_KNOCKS },		/* EOF ends it too */
		{ "reload\r\n", CTL_CMD_RELOAD },
		{ "stats\n", CTL_CMD_STATS },
		{ "  \tstats  \n", CTL_CMD_STATS },
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(parse(t[i].line) == 0, "%s: %s", t[i].line, err);
		ck_assert_int_eq(req.cmd, t[i].cmd);
		ck_assert_int_eq(req.json, 0);
	}
	ck_assert_int_eq(parse("json status\n"), 0);
	ck_assert_int_eq(req.cmd, CTL_CMD_STATUS);
	ck_assert_int_eq(req.json, 1);
	ck_assert_str_eq(ctlproto_cmd_name(CTL_CMD_REVOKE), "revoke");
}
END_TEST

START_TEST(parse_grant)
{
	struct addr a = tu_addr("203.0.113.7");

	ck_assert_int_eq(parse("grant 203.0.113.7 openSSH\n"), 0);
	ck_assert_int_eq(req.cmd, CTL_CMD_GRANT);
	ck_assert(addr_equal(&req.addr, &a));
	ck_assert_str_eq(req.door, "openSSH");
	ck_assert_uint_eq(req.seconds, 0);
	ck_assert_int_eq(parse("json grant 2001:db8::5 wire-guard.2 86400\n"),
	    0);
	ck_assert_int_eq(req.json, 1);
	ck_assert_int_eq(req.addr.family, AF_INET6);
	ck_assert_str_eq(req.door, "wire-guard.2");
	ck_assert_uint_eq(req.seconds, 86400);
	ck_assert_int_eq(parse("grant 192.0.2.1 d 1\n"), 0);
	ck_assert_uint_eq(req.seconds, 1);
}
END_TEST

START_TEST(parse_revoke)
{
	struct addr a = tu_addr("192.0.2.9");

	ck_assert_int_eq(parse("revoke 192.0.2.9\n"), 0);
	ck_assert_int_eq(req.cmd, CTL_CMD_REVOKE);
	ck_assert(addr_equal(&req.addr, &a));
	ck_assert_str_eq(req.door, "");
	ck_assert_int_eq(parse("revoke 192.0.2.9 openSSH\n"), 0);
	ck_assert_str_eq(req.door, "openSSH");
}
END_TEST

START_TEST(parse_v4_mapped_is_v4)
{
	struct addr a = tu_addr("198.51.100.3");

	ck_assert_int_eq(parse("revoke ::ffff:198.51.100.3\n"), 0);
	ck_assert_int_eq(req.addr.family, AF_INET);
	ck_assert(addr_equal(&req.addr, &a));
}
END_TEST

START_TEST(parse_rejects_bad_commands)
{
	parse_fails("\n", "empty request");
	parse_fails("json\n", "empty request");
	parse_fails("STATUS\n", "unknown command 'STATUS'");
	parse_fails("shutdown now\n", "unknown command 'shutdown'");
	parse_fails("json json status\n", "unknown command 'json'");
	parse_fails("status extra\n", "too many arguments");
	parse_fails("grant 192.0.2.1\n", "missing arguments (usage: grant");
	parse_fails("revoke\n", "missing arguments (usage: revoke");
	parse_fails("grant 192.0.2.1 d 30 40\n", "too many arguments");
	parse_fails("revoke 192.0.2.1 a b\n", "too many arguments");
	parse_fails("json grant 1.2.3.4 a 1 2 3 4\n", "too many arguments");
}
END_TEST

START_TEST(parse_rejects_bad_addresses)
{
	parse_fails("grant localhost openSSH\n", "host names are not resolved");
	parse_fails("grant gw.example.org openSSH\n", "bad address");
	parse_fails("revoke 192.0.2.300\n", "bad address '192.0.2.300'");
	parse_fails("revoke 192.0.2.0/24\n", "bad address");
	parse_fails("revoke 10.1\n", "bad address");
	parse_fails("revoke fe80::1%eth0\n", "bad address");
	parse_fails("revoke "
	    "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb\n",
	    "bad address");
}
END_TEST

START_TEST(parse_rejects_bad_values)
{
	parse_fails("grant 192.0.2.1 open/SSH\n", "bad door name 'open/SSH'");
	parse_fails("revoke 192.0.2.1 a\"b\n", "bad door name");
	parse_fails("grant 192.0.2.1 "
	    "a123456789012345678901234567890123456789012345678901234567890123\n",
	    "bad door name");
	parse_fails("grant 192.0.2.1 d 0\n", "bad seconds '0' (allowed: 1-86400)");
	parse_fails("grant 192.0.2.1 d 86401\n", "bad seconds");
	parse_fails("grant 192.0.2.1 d -5\n", "bad seconds");
	parse_fails("grant 192.0.2.1 d 30s\n", "bad seconds");
	parse_fails("grant 192.0.2.1 d 0000030\n", "bad seconds");
	parse_fails("grant 192.0.2.1 d 99999999999999999999\n", "bad seconds");
}
END_TEST

START_TEST(parse_rejects_bad_bytes)
{
	static const char nul[] = "stat\0us\n";
	char line[8] = "status\n";

	ck_assert_int_eq(ctlproto_parse(nul, sizeof(nul) - 1, &req, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "non-printable byte 0x00 at offset 4 (allowed: "
	    "printable ASCII)");
	parse_fails("status\x1b[2J\n", "non-printable byte 0x1b at offset 6");
	parse_fails("grant 192.0.2.1 caf\xc3\xa9\n", "non-printable byte 0xc3");
	parse_fails("status\nstats\n", "non-printable byte 0x0a");
	line[2] = '\x7f';
	parse_fails(line, "0x7f");
}
END_TEST

START_TEST(parse_length_bound)
{
	char line[CTL_REQ_MAX + 2];

	/* 511 bytes and the newline: the longest request. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "status", 6);
	line[CTL_REQ_MAX - 1] = '\n';
	ck_assert_int_eq(ctlproto_parse(line, CTL_REQ_MAX, &req, err,
	    sizeof(err)), 0);
	/* One more is too long, with or without a newline. */
	line[CTL_REQ_MAX - 1] = ' ';
	line[CTL_REQ_MAX] = '\n';
	ck_assert_int_eq(ctlproto_parse(line, CTL_REQ_MAX + 1, &req, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "request too long"));
	ck_assert_int_eq(ctlproto_parse(line, CTL_REQ_MAX, &req, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "request too long"));
}
END_TEST

START_TEST(parse_err_is_bounded)
{
	char small[16];
	char line[300];

	memset(line, 'x', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	ck_assert_int_eq(ctlproto_parse(line, strlen(line), &req, small,
	    sizeof(small)), -1);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	/* The quoted token is cut too. */
	ck_assert_int_eq(parse(line), -1);
	ck_assert_uint_lt(strlen(err), 200);
}
END_TEST

START_TEST(door_name_rules)
{
	ck_assert(ctlproto_door_name_ok("openSSH"));
	ck_assert(ctlproto_door_name_ok("a.b-c_9"));
	ck_assert(!ctlproto_door_name_ok(""));
	ck_assert(!ctlproto_door_name_ok("a b"));
	ck_assert(!ctlproto_door_name_ok("[door]"));
}
END_TEST

START_TEST(grant_args_resolve)
{
	const struct config *cfg = tu_config(conf);
	unsigned door = 99, secs = 0;

	ck_assert_int_eq(parse("grant 192.0.2.1 wireguard\n"), 0);
	ck_assert_int_eq(ctlproto_grant_args(&req, cfg, &door, &secs, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(door, 1);
	ck_assert_uint_eq(secs, 120);		/* Open_Timeout */
	ck_assert_int_eq(parse("grant 192.0.2.1 openSSH 5\n"), 0);
	ck_assert_int_eq(ctlproto_grant_args(&req, cfg, &door, &secs, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(door, 0);
	ck_assert_uint_eq(secs, 5);
	ck_assert_int_eq(parse("grant 192.0.2.1 nosuch\n"), 0);
	ck_assert_int_eq(ctlproto_grant_args(&req, cfg, &door, &secs, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "no door named 'nosuch'");
	ck_assert_int_eq(parse("grant 192.0.2.1 cmdonly\n"), 0);
	ck_assert_int_eq(ctlproto_grant_args(&req, cfg, &door, &secs, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "has no Open_Ports"));
}
END_TEST

START_TEST(revoke_args_resolve)
{
	const struct config *cfg = tu_config(conf);
	int door = 5;

	ck_assert_int_eq(parse("revoke 192.0.2.1\n"), 0);
	ck_assert_int_eq(ctlproto_revoke_args(&req, cfg, &door, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(door, -1);
	ck_assert_int_eq(parse("revoke 192.0.2.1 cmdonly\n"), 0);
	ck_assert_int_eq(ctlproto_revoke_args(&req, cfg, &door, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(door, 2);
	ck_assert_int_eq(parse("revoke 192.0.2.1 openssh\n"), 0);
	ck_assert_int_eq(ctlproto_revoke_args(&req, cfg, &door, err,
	    sizeof(err)), -1);	/* names are case-sensitive */
}
END_TEST

/* ---- replies ---- */

/* A small running daemon: config, two grants, one knock in progress. */
struct fixture {
	struct config *cfg;
	struct grant_table *grants;
	struct knock_table *knocks;
	struct verdict_stats st;
	struct ctl_view v;
	char buf[CTL_REPLY_MAX];
	struct ctl_out o;
};

static struct fixture *
fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct knock_event ev[KNOCK_MAX_EVENTS];
	struct addr a = tu_addr("203.0.113.7"), b = tu_addr("2001:db8::5");
	struct pkt p;

	ck_assert_ptr_nonnull(f);
	f->cfg = tu_config(conf);
	f->grants = grant_new(64, &key);
	f->knocks = knock_new(64, f->cfg, &key);
	ck_assert_ptr_nonnull(f->grants);
	ck_assert_ptr_nonnull(f->knocks);
	grant_add(f->grants, &a, 0, 100000 + 28500, NULL);
	grant_add(f->grants, &b, 1, 100000 + 120000, NULL);
	grant_add(f->grants, &b, 0, 50000, NULL);	/* expired by now */
	p = tu_pkt("198.51.100.9", "192.0.2.1", IPPROTO_TCP, 7000, TCPF_SYN);
	knock_packet(f->knocks, f->cfg, &p, KNOCK_AT_PORT, 95000, ev);
	f->st.packets = 12;
	f->st.accepted = 2;
	f->st.dropped = 10;
	f->st.reason[VR_KNOCK] = 9;
	f->v.cfg = f->cfg;
	f->v.grants = f->grants;
	f->v.knocks = f->knocks;
	f->v.stats = &f->st;
	f->v.st.version = "0.1.0";
	f->v.st.backend = "compat-target";
	f->v.st.config_path = "/etc/gatekeeper/gatekeeper.conf";
	f->v.st.started_ms = 100000 - 3723000;
	f->v.st.nqueues = 2;
	f->v.st.queue[0] = (struct ctl_queue){ 7, "knock", 1, 0, 3, 4 };
	f->v.st.queue[1] = (struct ctl_queue){ 8, "protected", 0, 0, 0, 0 };
	ctlproto_out_init(&f->o, f->buf, sizeof(f->buf));
	return f;
}

static void
fixture_free(struct fixture *f)
{
	grant_free(f->grants);
	knock_free(f->knocks);
	free(f);
}

static const char *
show(struct fixture *f, const char *line, int64_t now)
{
	ck_assert_msg(parse(line) == 0, "%s: %s", line, err);
	ctlproto_show(&f->o, &req, &f->v, now);
	ck_assert_uint_eq(strlen(f->buf), f->o.len);
	return f->buf;
}

#define HAS(s, sub) ck_assert_msg(strstr((s), (sub)) != NULL, \
    "missing '%s' in:\n%s", (sub), (s))
#define HASNT(s, sub) ck_assert_msg(strstr((s), (sub)) == NULL, \
    "unexpected '%s' in:\n%s", (sub), (s))

START_TEST(reply_status_text)
{
	struct fixture *f = fixture_new();
	const char *r = show(f, "status\n", 100000);

	ck_assert_int_eq(strncmp(r, "ok\ngatekeeperd 0.1.0\n", 21), 0);
	HAS(r, "uptime    3723 s (1h 2m 3s)\n");
	HAS(r, "queues    7 (knock), 8 (protected)\n");
	HAS(r, "backend   compat-target\n");
	HAS(r, "mode      enforcing\n");
	HAS(r, "sources   2 granted, 1 knocking (capacity 16384)\n");
	HAS(r, "packets   12 seen, 2 accepted, 10 dropped\n");
	HAS(r, "kernel    3 queue-dropped, 4 user-dropped\n");
	HAS(r, "DOOR      SEQUENCE                      WITHIN OPENS     FOR\n");
	HAS(r, "openSSH   7000/tcp,8000/udp,9000/tcp    10s    22/tcp    30s\n");
	HAS(r, "wireguard 12001/udp,12002/udp,12003/tcp 25s    51820/udp 120s\n");
	HAS(r, "cmdonly   40001/tcp,40003/tcp           25s    -         - "
	    "(command)\n");
	fixture_free(f);
}
END_TEST

START_TEST(reply_status_json)
{
	struct fixture *f = fixture_new();
	const char *r = show(f, "json status\n", 100000);

	ck_assert_int_eq(strncmp(r, "ok\n{\"version\":\"0.1.0\",\"uptime\":3723,",
	    35), 0);
	HAS(r, "\"queues\":[{\"num\":7,\"role\":\"knock\",\"waiting\":0,"
	    "\"queue_dropped\":3,\"user_dropped\":4},{\"num\":8,\"role\":"
	    "\"protected\",\"waiting\":null,");
	HAS(r, "{\"name\":\"openSSH\",\"sequence\":[\"7000/tcp\",\"8000/udp\","
	    "\"9000/tcp\"],\"seq_timeout\":10,\"open_ports\":[\"22/tcp\"],"
	    "\"open_timeout\":30,\"command\":false,\"monitor\":false}");
	HAS(r, "\"counters\":{\"packets\":12,\"accepted\":2,\"dropped\":10,"
	    "\"grants_active\":2,\"knocking_sources\":1,\"log_suppressed\":0}}"
	    "\n");
	ck_assert_int_eq(r[strlen(r) - 1], '\n');
	fixture_free(f);
}
END_TEST

START_TEST(reply_grants_text)
{
	struct fixture *f = fixture_new();
	const char *r = show(f, "grants\n", 100000);

	/* The expired grant of 2001:db8::5 to openSSH is not shown. */
	ck_assert_str_eq(r, "ok\n"
	    "SOURCE      DOOR      PORTS     LEFT\n"
	    "203.0.113.7 openSSH   22/tcp    29s\n"
	    "2001:db8::5 wireguard 51820/udp 120s\n");
	r = show(f, "grants\n", 200000);
	ck_assert_str_eq(r, "ok\n"
	    "SOURCE      DOOR      PORTS     LEFT\n"
	    "2001:db8::5 wireguard 51820/udp 20s\n");
	r = show(f, "grants\n", 300000);
	ck_assert_str_eq(r, "ok\nno active grants\n");
	fixture_free(f);
}
END_TEST

/* An SPA grant of some of a door's ports shows those ports only. */
START_TEST(reply_grants_some_ports)
{
	struct fixture *f = fixture_new();
	struct addr c = tu_addr("192.0.2.44");
	const char *r;

	f->cfg = tu_config("[options]\n  Queue = 7\n[openSSH]\n"
	    "  Sequence = 7000,8000:udp,9000\n  Open_Ports = 22, 8443\n");
	f->v.cfg = f->cfg;
	grant_free(f->grants);
	f->grants = grant_new(64, &key);
	f->v.grants = f->grants;
	grant_add_ports(f->grants, &c, 0, 1u << 1, 100000 + 30000, NULL);
	r = show(f, "grants\n", 100000);
	ck_assert_str_eq(r, "ok\n"
	    "SOURCE     DOOR    PORTS    LEFT\n"
	    "192.0.2.44 openSSH 8443/tcp 30s\n");
	r = show(f, "json grants\n", 100000);
	ck_assert_str_eq(r, "ok\n{\"grants\":[{\"src\":\"192.0.2.44\","
	    "\"door\":\"openSSH\",\"ports\":[\"8443/tcp\"],"
	    "\"expires_in\":30}],\"count\":1,\"truncated\":false}\n");
	fixture_free(f);
}
END_TEST

START_TEST(reply_grants_json)
{
	struct fixture *f = fixture_new();
	const char *r = show(f, "json grants\n", 100000);

	ck_assert_str_eq(r, "ok\n{\"grants\":[{\"src\":\"203.0.113.7\","
	    "\"door\":\"openSSH\",\"ports\":[\"22/tcp\"],\"expires_in\":29},"
	    "{\"src\":\"2001:db8::5\",\"door\":\"wireguard\",\"ports\":"
	    "[\"51820/udp\"],\"expires_in\":120}],\"count\":2,"
	    "\"truncated\":false}\n");
	r = show(f, "json grants\n", 300000);
	ck_assert_str_eq(r, "ok\n{\"grants\":[],\"count\":0,"
	    "\"truncated\":false}\n");
	fixture_free(f);
}
END_TEST

START_TEST(reply_knocks)
{
	struct fixture *f = fixture_new();
	const char *r = show(f, "knocks\n", 100000);

	/* Knocked 7000 at 95 s: openSSH stage 1/3, 5 s of Seq_Timeout left;
	 * cmdonly (40001 first) and wireguard did not advance. */
	ck_assert_str_eq(r, "ok\n"
	    "SOURCE       DOOR    STAGE LEFT\n"
	    "198.51.100.9 openSSH 1/3   5s\n");
	r = show(f, "json knocks\n", 100000);
	ck_assert_str_eq(r, "ok\n{\"knocks\":[{\"src\":\"198.51.100.9\","
	    "\"door\":\"openSSH\",\"stage\":1,\"of\":3,\"expires_in\":5}],"
	    "\"count\":1,\"truncated\":false}\n");
	r = show(f, "knocks\n", 105001);	/* timed out */
	ck_assert_str_eq(r, "ok\nno knocks in progress\n");
	fixture_free(f);
}
END_TEST

START_TEST(reply_stats)
{
	struct fixture *f = fixture_new();
	const char *r = show(f, "stats\n", 100000);

	HAS(r, "ok\npackets                    12\n");
	HAS(r, "\nverdict.knock              9\n");
	HAS(r, "\nverdict.no-grant           0\n");
	HAS(r, "\nmalformed.l4-short         0\n");
	HASNT(r, "malformed.ok");
	HAS(r, "\ngrant_table.active         2\n");
	HAS(r, "\ngrant_table.added          3\n");
	HAS(r, "\nknock_table.active         1\n");
	HAS(r, "\nkernel.7.queue_dropped     3\n");
	HAS(r, "\nkernel.8                   unavailable\n");
	r = show(f, "json stats\n", 100000);
	HAS(r, "ok\n{\"packets\":12,\"accepted\":2,\"dropped\":10,\"verdict\":"
	    "{\"grant\":0,\"no-grant\":0,\"allow\":0,\"knock\":9,");
	HAS(r, "\"grant_table\":{\"active\":2,\"added\":3,");
	HAS(r, "\"queues\":[{\"num\":7,");
	ck_assert_int_eq(r[strlen(r) - 2], '}');
	fixture_free(f);
}
END_TEST

START_TEST(reply_actions)
{
	struct fixture *f = fixture_new();
	struct addr a = tu_addr("203.0.113.7"), b = tu_addr("2001:db8::5");

	ctlproto_granted(&f->o, 0, f->cfg, &a, 0, 30);
	ck_assert_str_eq(f->buf, "ok\ngranted 203.0.113.7 door openSSH "
	    "(22/tcp) for 30 s\n");
	ctlproto_granted(&f->o, 1, f->cfg, &b, 1, 60);
	ck_assert_str_eq(f->buf, "ok\n{\"src\":\"2001:db8::5\",\"door\":"
	    "\"wireguard\",\"ports\":[\"51820/udp\"],\"expires_in\":60}\n");
	ctlproto_revoked(&f->o, 0, f->cfg, &b, -1, 2);
	ck_assert_str_eq(f->buf, "ok\nrevoked 2 grants of 2001:db8::5\n");
	ctlproto_revoked(&f->o, 0, f->cfg, &a, 0, 1);
	ck_assert_str_eq(f->buf, "ok\nrevoked 1 grant of 203.0.113.7 door "
	    "openSSH\n");
	ctlproto_revoked(&f->o, 1, f->cfg, &a, -1, 0);
	ck_assert_str_eq(f->buf, "ok\n{\"src\":\"203.0.113.7\",\"door\":null,"
	    "\"revoked\":0}\n");
	ctlproto_reloaded(&f->o, 0, f->cfg);
	ck_assert_str_eq(f->buf, "ok\nreloaded: 3 doors, queue 7\n");
	ctlproto_reloaded(&f->o, 1, f->cfg);
	ck_assert_str_eq(f->buf, "ok\n{\"reloaded\":true,\"doors\":3,"
	    "\"queue\":7}\n");
	fixture_free(f);
}
END_TEST

START_TEST(reply_errors)
{
	struct fixture *f = fixture_new();
	static struct cfg_errors errs;

	ctlproto_error(&f->o, "bad door name '%s'", "x\ny\x1b");
	ck_assert_str_eq(f->buf, "error bad door name 'x?y?'\n");
	errs.n = 2;
	strcpy(errs.msg[0], "/etc/g.conf:3: unknown key 'Foo'");
	strcpy(errs.msg[1], "/etc/g.conf:9: bad port '70000'");
	ctlproto_reload_failed(&f->o, 0, "configuration has 2 errors; "
	    "keeping the running one", &errs);
	ck_assert_str_eq(f->buf, "error configuration has 2 errors; keeping "
	    "the running one\n/etc/g.conf:3: unknown key 'Foo'\n"
	    "/etc/g.conf:9: bad port '70000'\n");
	ctlproto_reload_failed(&f->o, 1, "2 errors", &errs);
	ck_assert_str_eq(f->buf, "error 2 errors\n{\"errors\":[\"/etc/g.conf:3:"
	    " unknown key 'Foo'\",\"/etc/g.conf:9: bad port '70000'\"],"
	    "\"count\":2}\n");
	errs.n = CFG_MAX_ERRORS + 5;
	ctlproto_reload_failed(&f->o, 0, "many", &errs);
	HAS(f->buf, "\n... and 5 more errors\n");
	ctlproto_reload_failed(&f->o, 0, "cannot read", NULL);
	ck_assert_str_eq(f->buf, "error cannot read\n");
	fixture_free(f);
}
END_TEST

/* ---- JSON escaping ---- */

static const char *
json_of(const char *s)
{
	static char buf[4 * CTL_OUT_RESERVE];
	struct ctl_out o;

	ctlproto_out_init(&o, buf, sizeof(buf));
	ctlproto_out_json_str(&o, s);
	return buf;
}

START_TEST(json_escaping)
{
	ck_assert_str_eq(json_of("plain"), "\"plain\"");
	ck_assert_str_eq(json_of("a\"b\\c"), "\"a\\\"b\\\\c\"");
	ck_assert_str_eq(json_of("t\tn\nr\r"), "\"t\\tn\\nr\\r\"");
	ck_assert_str_eq(json_of("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
	ck_assert_str_eq(json_of("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"),
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91\"");
	/* Invalid UTF-8: stray byte, overlong, surrogate, cut sequence. */
	ck_assert_str_eq(json_of("a\xff" "b"), "\"a\\ufffdb\"");
	ck_assert_str_eq(json_of("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	ck_assert_str_eq(json_of("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	ck_assert_str_eq(json_of("\xe2\x82"), "\"\\ufffd\\ufffd\"");
}
END_TEST

START_TEST(json_escapes_door_name)
{
	struct fixture *f = fixture_new();
	const char *r;

	/* The config parser forbids such names; the writer must not rely
	 * on that. */
	strcpy(f->cfg->door[0].name, "evil\"},{\"x\":\"\n");
	r = show(f, "json grants\n", 100000);
	HAS(r, "\"door\":\"evil\\\"},{\\\"x\\\":\\\"\\n\"");
	r = show(f, "grants\n", 100000);
	HAS(r, "evil\"},{\"x\":\"? ");
	HASNT(r + 3, "\n\n");
	fixture_free(f);
}
END_TEST

/* ---- the size bound ---- */

static struct fixture *
fixture_full(unsigned n)
{
	struct fixture *f = fixture_new();
	struct addr a;
	unsigned i;

	grant_free(f->grants);
	f->grants = grant_new(n, &key);
	ck_assert_ptr_nonnull(f->grants);
	f->v.grants = f->grants;
	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	a.b[0] = 0x20, a.b[1] = 0x01, a.b[2] = 0x0d, a.b[3] = 0xb8;
	for (i = 0; i < n; i++) {
		a.b[12] = (uint8_t)(i >> 24), a.b[13] = (uint8_t)(i >> 16);
		a.b[14] = (uint8_t)(i >> 8), a.b[15] = (uint8_t)i;
		a.b[8] = 0x12, a.b[10] = 0x34;	/* longer addresses */
		grant_add(f->grants, &a, i % 2, 200000, NULL);
	}
	return f;
}

START_TEST(truncation_text)
{
	struct fixture *f = fixture_full(20000);
	const char *r = show(f, "grants\n", 100000), *marker;

	ck_assert_uint_le(f->o.len, CTL_REPLY_MAX - 1);
	ck_assert_uint_gt(f->o.len, CTL_REPLY_MAX - CTL_OUT_RESERVE - 100);
	marker = strstr(r, "... truncated: ");
	ck_assert_ptr_nonnull(marker);
	HAS(marker, " of 20000 grants shown (reply limit 262144 bytes)\n");
	ck_assert_int_eq(marker[-1], '\n');	/* whole rows only */
	ck_assert_int_eq(r[f->o.len - 1], '\n');
	fixture_free(f);
}
END_TEST

START_TEST(truncation_json)
{
	struct fixture *f = fixture_full(20000);
	const char *r = show(f, "json grants\n", 100000);
	static const char end[] = "}],\"count\":20000,\"truncated\":true}\n";
	size_t len = f->o.len;

	ck_assert_uint_le(len, CTL_REPLY_MAX - 1);
	ck_assert_str_eq(r + len - strlen(end), end);
	fixture_free(f);
}
END_TEST

START_TEST(truncation_small_buffer)
{
	struct fixture *f = fixture_full(50);
	char small[2 * CTL_OUT_RESERVE + 60];
	struct ctl_out o;

	/* Room for the header and one row before the reserve. */
	ctlproto_out_init(&o, small, sizeof(small));
	ck_assert_int_eq(parse("json grants\n"), 0);
	ctlproto_show(&o, &req, &f->v, 100000);
	ck_assert_uint_lt(o.len, sizeof(small));
	ck_assert_int_eq(o.truncated, 1);
	HAS(small, "\"truncated\":true}\n");
	ck_assert_int_eq(parse("grants\n"), 0);
	ctlproto_show(&o, &req, &f->v, 100000);
	HAS(small, "... truncated: ");
	fixture_free(f);
}
END_TEST

START_TEST(out_never_overruns)
{
	char buf[2 * CTL_OUT_RESERVE + 8];
	struct ctl_out o;
	unsigned i;

	memset(buf, 'Z', sizeof(buf));
	ctlproto_out_init(&o, buf, sizeof(buf) - 4);
	for (i = 0; i < 1000; i++)
		ctlproto_out_printf(&o, "%u,", i);
	ck_assert_int_eq(o.full, 1);
	ck_assert_uint_le(o.len, sizeof(buf) - 4 - CTL_OUT_RESERVE);
	ck_assert_uint_eq(strlen(buf), o.len);
	ck_assert_int_eq(buf[sizeof(buf) - 1], 'Z');
	ck_assert_int_eq(buf[sizeof(buf) - 4], 'Z');
}
END_TEST

Suite *
ctlproto_suite(void)
{
	Suite *s = suite_create("ctlproto");
	TCase *p = tcase_create("parse"), *r = tcase_create("reply");

	tcase_add_test(p, parse_simple_commands);
	tcase_add_test(p, parse_grant);
	tcase_add_test(p, parse_revoke);
	tcase_add_test(p, parse_v4_mapped_is_v4);
	tcase_add_test(p, parse_rejects_bad_commands);
	tcase_add_test(p, parse_rejects_bad_addresses);
	tcase_add_test(p, parse_rejects_bad_values);
	tcase_add_test(p, parse_rejects_bad_bytes);
	tcase_add_test(p, parse_length_bound);
	tcase_add_test(p, parse_err_is_bounded);
	tcase_add_test(p, door_name_rules);
	tcase_add_test(p, grant_args_resolve);
	tcase_add_test(p, revoke_args_resolve);
	suite_add_tcase(s, p);
	tcase_add_test(r, reply_status_text);
	tcase_add_test(r, reply_status_json);
	tcase_add_test(r, reply_grants_text);
	tcase_add_test(r, reply_grants_json);
	tcase_add_test(r, reply_grants_some_ports);
	tcase_add_test(r, reply_knocks);
	tcase_add_test(r, reply_stats);
	tcase_add_test(r, reply_actions);
	tcase_add_test(r, reply_errors);
	tcase_add_test(r, json_escaping);
	tcase_add_test(r, json_escapes_door_name);
	tcase_add_test(r, truncation_text);
	tcase_add_test(r, truncation_json);
	tcase_add_test(r, truncation_small_buffer);
	tcase_add_test(r, out_never_overruns);
	suite_add_tcase(s, r);
	return s;
}
