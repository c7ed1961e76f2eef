/* Unit tests: config. */
#include <check.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "pkt.h"
#include "suites.h"

#ifndef FIXTURE_DIR
#define FIXTURE_DIR "tests/fixtures"
#endif

/* Big: keep them off the stack. */
static struct config cfg;
static struct cfg_errors err;

/* Does text have a section other than [options]? */
static int
has_door(const char *text)
{
	const char *l = text;

	for (; l != NULL && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		l += strspn(l, " \t");
		if (*l == '[' && strncasecmp(l, "[options]", 9) != 0)
			return 1;
	}
	return 0;
}

/* A file without a door is refused (no_door_no_config); tests of
 * [options] alone get this one, far from every port they use. */
#define LAST_DOOR	"\n[zz-last]\nSequence = 61001,62002,61003\nOpen_Ports = 61022\n"

static unsigned
parse(const char *text)
{
	static char buf[65536];

	/* Garbage first: config_parse must initialise everything itself. */
	memset(&cfg, 0xa5, sizeof(cfg));
	memset(&err, 0xa5, sizeof(err));
	if (!has_door(text) && strlen(text) + sizeof(LAST_DOOR) < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%s%s", text, LAST_DOOR);
		text = buf;
	}
	return config_parse(text, strlen(text), "gk.conf", &cfg, &err);
}

/* Parse text, which must be free of errors. */
static void
parse_ok(const char *text)
{
	unsigned n = parse(text);

	ck_assert_msg(n == 0, "%u errors, first: %s\nconfig:\n%s", n,
	    n ? err.msg[0] : "", text);
}

/* Does message i start with prefix and contain every string of ap? */
static int
msg_matches(unsigned i, const char *prefix, va_list ap)
{
	const char *part;

	if (strncmp(err.msg[i], prefix, strlen(prefix)) != 0)
		return 0;
	while ((part = va_arg(ap, const char *)) != NULL)
		if (strstr(err.msg[i], part) == NULL)
			return 0;
	return 1;
}

/* Parse text, expect exactly one error: it starts with prefix ("gk.conf:N: ")
 * and holds every further string (NULL-terminated list). */
static void
expect_error(const char *text, const char *prefix, ...)
{
	unsigned n = parse(text);
	va_list ap;
	int ok;

	ck_assert_msg(n == 1, "want 1 error, got %u (first: %s)\nconfig:\n%s",
	    n, n ? err.msg[0] : "", text);
	va_start(ap, prefix);
	ok = msg_matches(0, prefix, ap);
	va_end(ap);
	ck_assert_msg(ok, "unexpected message: %s\nconfig:\n%s", err.msg[0],
	    text);
}

/* After a parse: some stored message matches prefix and parts. */
static void
assert_has_error(const char *prefix, ...)
{
	unsigned i, kept = err.n < CFG_MAX_ERRORS ? err.n : CFG_MAX_ERRORS;
	va_list ap;

	for (i = 0; i < kept; i++) {
		va_start(ap, prefix);
		if (msg_matches(i, prefix, ap)) {
			va_end(ap);
			return;
		}
		va_end(ap);
	}
	ck_abort_msg("no error starting with '%s' among %u (first: %s)",
	    prefix, err.n, err.n ? err.msg[0] : "");
}

static const char *
ports(const struct cfg_port *p, unsigned n)
{
	static char buf[CFG_MAX_SEQ * 12];

	return config_ports_format(p, n, buf, sizeof(buf));
}

/* Read a fixture into a buffer of exactly its size (no NUL), parse it. */
static void
parse_fixture(const char *name)
{
	char path[256];
	FILE *f;
	char *buf;
	long size;
	unsigned n;

	snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	ck_assert_int_gt(size, 0);
	rewind(f);
	buf = malloc((size_t)size);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	n = config_parse(buf, (size_t)size, name, &cfg, &err);
	free(buf);
	ck_assert_msg(n == 0, "%s: %u errors, first: %s", name, n,
	    n ? err.msg[0] : "");
}

static void
assert_starts(const char *msg, const char *prefix)
{
	ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0,
	    "'%s' does not start with '%s'", msg, prefix);
}

static const struct cfg_door *
door(const char *name)
{
	int i = config_door_find(&cfg, name);

	ck_assert_msg(i >= 0, "no door '%s'", name);
	return &cfg.door[i];
}

/* A door that is valid on its own, to append keys to. */
#define DOOR	"[d]\nSequence = 7000,49000\nOpen_Ports = 22\n"

/* --- defaults ------------------------------------------------------------ */

START_TEST(defaults)
{
	parse_ok("");
	ck_assert_uint_eq(err.n, 0);
	ck_assert_uint_eq(cfg.ndoors, 1);	/* LAST_DOOR */
	ck_assert_int_eq(cfg.opt.use_syslog, 0);
	ck_assert_str_eq(cfg.opt.log_file, "");
	ck_assert_str_eq(cfg.opt.pid_file, "");
	ck_assert_str_eq(cfg.opt.interface, "");
	ck_assert_uint_eq(cfg.opt.queue, 0);
	ck_assert_str_eq(cfg.opt.control_socket, CFG_DEF_CONTROL);
	ck_assert_str_eq(cfg.opt.state_file, CFG_DEF_STATE);
	ck_assert_uint_eq(cfg.opt.max_sources, CFG_DEF_MAX_SOURCES);
	ck_assert_uint_eq(cfg.opt.allow_len, 0);
	ck_assert_str_eq(err.msg[0], "");
	/* Gatekeeper's later keys. */
	ck_assert_uint_eq(cfg.opt.protected_queue, 1);
	ck_assert_str_eq(cfg.opt.control_group, "");
	ck_assert_int_eq(cfg.opt.monitor, 0);
	ck_assert_int_eq(cfg.opt.ruleset_external, 0);
	ck_assert_str_eq(cfg.opt.user, "");
	ck_assert_str_eq(cfg.opt.command_user, "");
	ck_assert_int_eq(cfg.opt.log_refused, 1);
	ck_assert_str_eq(cfg.opt.log_prefix, "");
	ck_assert_uint_eq(cfg.opt.log_rate_n, 5);
	ck_assert_uint_eq(cfg.opt.log_rate_period, 1);
	ck_assert_uint_eq(cfg.opt.log_burst, 20);
	ck_assert_int_eq(cfg.opt.scan_guard, 1);
	ck_assert_uint_eq(cfg.opt.public_len, 0);
	ck_assert_uint_eq(cfg.opt.lockout_after, 5);
	ck_assert_uint_eq(cfg.opt.lockout_time, 60);

	parse_ok("[options]\n");
	ck_assert_uint_eq(cfg.opt.max_sources, CFG_DEF_MAX_SOURCES);
	ck_assert_uint_eq(cfg.ndoors, 1);

	/* No buffer at all: the defaults, and no door. */
	ck_assert_uint_eq(config_parse(NULL, 0, "gk.conf", &cfg, &err), 1);
	ck_assert_uint_eq(cfg.ndoors, 0);
}
END_TEST

START_TEST(door_defaults)
{
	const struct cfg_door *d;

	parse_ok("\n\n[openSSH]\nSequence = 7000,49000\nStart_Command = /bin/true\n");
	ck_assert_uint_eq(cfg.ndoors, 1);
	d = &cfg.door[0];
	ck_assert_str_eq(d->name, "openSSH");
	ck_assert_uint_eq(d->line, 3);
	ck_assert_uint_eq(d->seq_timeout, CFG_DEF_SEQ_TIMEOUT);
	ck_assert_uint_eq(d->cmd_timeout, CFG_DEF_CMD_TIMEOUT);
	ck_assert_int_eq(d->has_cmd_timeout, 0);
	ck_assert_uint_eq(d->open_timeout, CFG_DEF_OPEN_TIMEOUT);
	ck_assert_uint_eq(d->open_len, 0);
	ck_assert_uint_eq(d->tcpflags_set, 0);
	ck_assert_uint_eq(d->tcpflags_clear, 0);
	ck_assert_uint_eq(d->target.family, 0);
	ck_assert_str_eq(d->one_time_file, "");
	ck_assert_str_eq(d->stop_cmd, "");
	ck_assert_str_eq(d->stop_cmd6, "");
	ck_assert_str_eq(d->start_cmd, "/bin/true");
	ck_assert_uint_eq(d->close_len, 0);
	ck_assert_int_eq(d->monitor, 0);
}
END_TEST

/* An empty, all-comment, options-only or truncated file gates nothing:
 * refused, so that a reload of it keeps what runs. */
START_TEST(no_door_no_config)
{
	static const char *const texts[] = {
		"", "\n\n", "# all\n# commented out\n", "[options]\nQueue = 3\n",
		"[options]\n[d",
	};
	unsigned i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert_uint_eq(config_parse(texts[i], strlen(texts[i]), "f",
		    &cfg, &err), 1);
		ck_assert_msg(strstr(err.msg[0], "no door in the file: it "
		    "would gate nothing") != NULL || i == 4, "%s", err.msg[0]);
	}
}
END_TEST

/* What a reload stops protecting. */
START_TEST(unprotected_by_reload)
{
	static struct config old;
	struct cfg_port gone[8];
	char list[128];

	parse_ok("[a]\nSequence = 7000,49000\nOpen_Ports = 22, 80, 53:udp\n"
	    "[b]\nSequence = 7001,49001\nOpen_Ports = 22\n");
	old = cfg;
	parse_ok("[b]\nSequence = 7001,49001\nOpen_Ports = 22, 53:udp\n");
	ck_assert_uint_eq(config_unprotected(&old, &cfg, gone, 8), 1);
	ck_assert_str_eq(config_ports_format(gone, 1, list, sizeof(list)),
	    "80/tcp");
	ck_assert_uint_eq(config_unprotected(&cfg, &old, gone, 8), 0);
}
END_TEST

/* Parsing again into the same struct leaves nothing of the first run. */
START_TEST(reparse_resets)
{
	struct cfg_errors e2;

	parse_ok("[options]\nQueue = 3\n" DOOR "[e]\nSequence = 1,49000\n"
	    "Open_Ports = 2\n");
	ck_assert_uint_eq(cfg.ndoors, 2);
	ck_assert_uint_eq(config_parse("[x]\nSequence = 5,49000\nOpen_Ports = "
	    "3\n", 37, "x", &cfg, &e2), 0);
	ck_assert_uint_eq(cfg.ndoors, 1);
	ck_assert_uint_eq(cfg.opt.queue, 0);
}
END_TEST

/* --- [options] keys ------------------------------------------------------ */

START_TEST(options_all)
{
	char buf[64];

	parse_ok("[options]\n"
	    "UseSyslog\n"
	    "LogFile = /var/log/gk.log\n"
	    "PidFile = /run/gk.pid\n"
	    "Interface = enp0s31f6\n"
	    "Queue = 65535\n"
	    "Control_Socket = /run/gk/ctl\n"
	    "State_File = /var/lib/gk/state\n"
	    "Max_Sources = 100\n"
	    "Allow = 192.0.2.0/24, 2001:db8::/32\n"
	    "Allow = 198.51.100.7\n");
	ck_assert_int_eq(cfg.opt.use_syslog, 1);
	ck_assert_str_eq(cfg.opt.log_file, "/var/log/gk.log");
	ck_assert_str_eq(cfg.opt.pid_file, "/run/gk.pid");
	ck_assert_str_eq(cfg.opt.interface, "enp0s31f6");
	ck_assert_uint_eq(cfg.opt.queue, 65535);
	ck_assert_str_eq(cfg.opt.control_socket, "/run/gk/ctl");
	ck_assert_str_eq(cfg.opt.state_file, "/var/lib/gk/state");
	ck_assert_uint_eq(cfg.opt.max_sources, 100);
	ck_assert_uint_eq(cfg.opt.allow_len, 3);
	ck_assert_int_eq(cfg.opt.allow[0].net.family, AF_INET);
	ck_assert_uint_eq(cfg.opt.allow[0].prefix, 24);
	ck_assert_str_eq(addr_format(&cfg.opt.allow[0].net, buf, sizeof(buf)),
	    "192.0.2.0");
	ck_assert_int_eq(cfg.opt.allow[1].net.family, AF_INET6);
	ck_assert_uint_eq(cfg.opt.allow[1].prefix, 32);
	ck_assert_str_eq(addr_format(&cfg.opt.allow[1].net, buf, sizeof(buf)),
	    "2001:db8::");
	ck_assert_uint_eq(cfg.opt.allow[2].prefix, 32);
	ck_assert_str_eq(addr_format(&cfg.opt.allow[2].net, buf, sizeof(buf)),
	    "198.51.100.7");
}
END_TEST

START_TEST(options_limits)
{
	parse_ok("[options]\nQueue = 0\nMax_Sources = 1\n");
	ck_assert_uint_eq(cfg.opt.queue, 0);
	ck_assert_uint_eq(cfg.opt.max_sources, 1);
	parse_ok("[options]\nMax_Sources = 1048576\nQueue = 00042\n");
	ck_assert_uint_eq(cfg.opt.max_sources, CFG_LIM_MAX_SOURCES);
	ck_assert_uint_eq(cfg.opt.queue, 42);
}
END_TEST

START_TEST(usesyslog_values)
{
	static const struct {
		const char *v;
		int want;
	} t[] = {
		{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
		{ "1", 1 }, { "0", 0 }, { "YES", 1 }, { "False", 0 },
	};
	char text[64];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "[options]\nUseSyslog = %s\n",
		    t[i].v);
		parse_ok(text);
		ck_assert_msg(cfg.opt.use_syslog == t[i].want, "%s", t[i].v);
	}
	parse_ok("[options]\n  usesyslog  \n");
	ck_assert_int_eq(cfg.opt.use_syslog, 1);
	expect_error("[options]\nUseSyslog = maybe\n", "gk.conf:2: ",
	    "bad value 'maybe' for UseSyslog", "(allowed: yes, no", NULL);
	expect_error("[options]\nUseSyslog =\n", "gk.conf:2: ",
	    "no value for UseSyslog", "(allowed:", NULL);
}
END_TEST

START_TEST(options_bad_numbers)
{
	expect_error("[options]\nQueue = 65536\n", "gk.conf:2: ",
	    "bad value '65536' for Queue", "(allowed: 0-65535)", NULL);
	expect_error("[options]\nQueue = -1\n", "gk.conf:2: ",
	    "bad value '-1' for Queue", NULL);
	expect_error("[options]\nQueue = +1\n", "gk.conf:2: ",
	    "bad value '+1' for Queue", NULL);
	expect_error("[options]\nQueue = 1 2\n", "gk.conf:2: ",
	    "bad value '1 2' for Queue", NULL);
	expect_error("[options]\nQueue = 0x10\n", "gk.conf:2: ",
	    "bad value '0x10' for Queue", NULL);
	expect_error("[options]\nQueue = 99999999999999999999999\n",
	    "gk.conf:2: ", "bad value", "Queue", NULL);
	expect_error("[options]\nMax_Sources = 0\n", "gk.conf:2: ",
	    "bad value '0' for Max_Sources", "(allowed: 1-1048576)", NULL);
	expect_error("[options]\nMax_Sources = 1048577\n", "gk.conf:2: ",
	    "bad value '1048577' for Max_Sources", NULL);
}
END_TEST

START_TEST(paths)
{
	char text[700], longp[300];

	expect_error("[options]\nLogFile = var/log/x\n", "gk.conf:2: ",
	    "relative path 'var/log/x' for LogFile", "(allowed: an absolute "
	    "path", NULL);
	expect_error("[options]\nPidFile = run/x.pid\n", "gk.conf:2: ",
	    "relative path", "PidFile", NULL);
	expect_error("[options]\nState_File = state\n", "gk.conf:2: ",
	    "relative path", "State_File", NULL);
	expect_error("[options]\nControl_Socket = ctl\n", "gk.conf:2: ",
	    "relative path", "Control_Socket", NULL);
	expect_error("[options]\nLogFile = /var/log/a\x01z\n", "gk.conf:2: ",
	    "control character in LogFile", NULL);
	expect_error("[options]\nPidFile = /run/a\tb\n", "gk.conf:2: ",
	    "control character in PidFile", NULL);

	/* 255 bytes fit CFG_PATH_MAX, 256 do not. */
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	snprintf(text, sizeof(text), "[options]\nState_File = %.*s\n",
	    CFG_PATH_MAX - 1, longp);
	parse_ok(text);
	ck_assert_uint_eq(strlen(cfg.opt.state_file), CFG_PATH_MAX - 1);
	snprintf(text, sizeof(text), "[options]\nState_File = %.*s\n",
	    CFG_PATH_MAX, longp);
	expect_error(text, "gk.conf:2: ", "State_File too long: 256 bytes",
	    "(allowed: at most 255)", NULL);
	ck_assert_str_eq(cfg.opt.state_file, CFG_DEF_STATE);

	/* sun_path: 107 bytes and the NUL. */
	snprintf(text, sizeof(text), "[options]\nControl_Socket = %.*s\n",
	    CFG_SOCK_MAX - 1, longp);
	parse_ok(text);
	ck_assert_uint_eq(strlen(cfg.opt.control_socket), CFG_SOCK_MAX - 1);
	snprintf(text, sizeof(text), "[options]\nControl_Socket = %.*s\n",
	    CFG_SOCK_MAX, longp);
	expect_error(text, "gk.conf:2: ", "Control_Socket too long: 108 bytes",
	    "(allowed: at most 107)", NULL);

	snprintf(text, sizeof(text), "[options]\nLogFile = %.*s\n",
	    CFG_PATH_MAX, longp);
	expect_error(text, "gk.conf:2: ", "LogFile too long", NULL);
	snprintf(text, sizeof(text), "[options]\nPidFile = %.*s\n",
	    CFG_PATH_MAX, longp);
	expect_error(text, "gk.conf:2: ", "PidFile too long", NULL);
	snprintf(text, sizeof(text), "[d]\nOpen_Ports = 22\n"
	    "One_Time_Sequences = %.*s\n", CFG_PATH_MAX, longp);
	expect_error(text, "gk.conf:3: ", "One_Time_Sequences too long", NULL);
	snprintf(text, sizeof(text), "[d]\nOpen_Ports = 22\n"
	    "One_Time_Sequences = %.*s\n", CFG_PATH_MAX - 1, longp);
	parse_ok(text);
	ck_assert_uint_eq(strlen(cfg.door[0].one_time_file), CFG_PATH_MAX - 1);
}
END_TEST

START_TEST(interface)
{
	parse_ok("[options]\nInterface = abcdefghijklmno\n");
	ck_assert_str_eq(cfg.opt.interface, "abcdefghijklmno");
	expect_error("[options]\nInterface = abcdefghijklmnop\n", "gk.conf:2: ",
	    "bad interface name 'abcdefghijklmnop'", "(allowed: 1-15 "
	    "characters, no '/', quotes or blanks; '*' only at the end)",
	    NULL);
	/* A prefix, as nft's iifname "ens*" takes it. */
	parse_ok("[options]\nInterface = ens*\n");
	ck_assert_str_eq(cfg.opt.interface, "ens*");
	ck_assert_uint_eq(cfg.opt.interface_line, 2);
	expect_error("[options]\nInterface = e*s\n", "gk.conf:2: ",
	    "bad interface name 'e*s'", NULL);
	expect_error("[options]\nInterface = eth\"0\n", "gk.conf:2: ",
	    "bad interface name", NULL);
	/* What can only ungate: every interface but loopback, or all. */
	expect_error("[options]\nInterface = lo\n", "gk.conf:2: ",
	    "Interface = lo would gate only loopback", NULL);
	ck_assert_str_eq(cfg.opt.interface, "");
	expect_error("[options]\nInterface = *\n", "gk.conf:2: ",
	    "Interface = * matches every interface", NULL);
	expect_error("[options]\nInterface = /dev/eth0\n", "gk.conf:2: ",
	    "bad interface name '/dev/eth0'", NULL);
	expect_error("[options]\nInterface = eth 0\n", "gk.conf:2: ",
	    "bad interface name 'eth 0'", NULL);
	expect_error("[options]\nInterface =\n", "gk.conf:2: ",
	    "no value for Interface", NULL);
}
END_TEST

START_TEST(allow)
{
	char text[4096];
	size_t off;
	int i;

	expect_error("[options]\nAllow = 10.0.0.1/8\n", "gk.conf:2: ",
	    "host bits set in '10.0.0.1/8' in Allow",
	    "(allowed: a network prefix, such as 10.0.0.0/8)", NULL);
	expect_error("[options]\nAllow = 2001:db8::1/32\n", "gk.conf:2: ",
	    "host bits set", "such as 2001:db8::/32", NULL);
	expect_error("[options]\nAllow = example.org\n", "gk.conf:2: ",
	    "bad prefix 'example.org' in Allow", "(allowed: IPv4 or IPv6",
	    NULL);
	expect_error("[options]\nAllow = 10.0.0.0/33\n", "gk.conf:2: ",
	    "bad prefix '10.0.0.0/33'", NULL);
	expect_error("[options]\nAllow = 10.0.0.0/8,,10.1.0.0/16\n",
	    "gk.conf:2: ", "empty item in Allow", NULL);
	ck_assert_uint_eq(cfg.opt.allow_len, 2);
	expect_error("[options]\nAllow = 10.0.0.0/8,\n", "gk.conf:2: ",
	    "empty item in Allow", NULL);

	/* CFG_MAX_ALLOW over several lines, then one too many. */
	off = (size_t)snprintf(text, sizeof(text), "[options]\n");
	for (i = 0; i < CFG_MAX_ALLOW; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "Allow = 10.%d.0.0/16\n", i);
	parse_ok(text);
	ck_assert_uint_eq(cfg.opt.allow_len, CFG_MAX_ALLOW);
	snprintf(text + off, sizeof(text) - off, "Allow = 192.0.2.1\n");
	expect_error(text, "gk.conf:66: ", "too many Allow prefixes",
	    "(allowed: at most 64", NULL);
}
END_TEST

/* --- door keys ----------------------------------------------------------- */

START_TEST(door_all_keys)
{
	const struct cfg_door *d;
	char buf[ADDR_STRLEN];

	parse_ok("[all]\n"
	    "Sequence = 7000, 8000:udp ,9000:tcp\n"
	    "Seq_Timeout = 15\n"
	    "TCPFlags = syn,!ack\n"
	    "Start_Command = /sbin/iptables -A INPUT -s %IP% -j ACCEPT\n"
	    "Start_Command_6 = /sbin/ip6tables -A INPUT -s %IP% -j ACCEPT\n"
	    "Stop_Command = /sbin/iptables -D INPUT -s %IP% -j ACCEPT\n"
	    "Stop_Command_6 = /sbin/ip6tables -D INPUT -s %IP% -j ACCEPT\n"
	    "Cmd_Timeout = 45\n"
	    "Target = 192.0.2.10\n"
	    "Open_Ports = 22:tcp, 51820:udp, 443\n"
	    "Open_Timeout = 90\n");
	d = door("all");
	ck_assert_uint_eq(d->seq_len, 3);
	ck_assert_uint_eq(d->seq[0].port, 7000);
	ck_assert_uint_eq(d->seq[0].proto, IPPROTO_TCP);
	ck_assert_uint_eq(d->seq[1].port, 8000);
	ck_assert_uint_eq(d->seq[1].proto, IPPROTO_UDP);
	ck_assert_uint_eq(d->seq[2].port, 9000);
	ck_assert_uint_eq(d->seq[2].proto, IPPROTO_TCP);
	ck_assert_uint_eq(d->seq_timeout, 15);
	ck_assert_uint_eq(d->tcpflags_set, TCPF_SYN);
	ck_assert_uint_eq(d->tcpflags_clear, TCPF_ACK);
	ck_assert_str_eq(d->start_cmd,
	    "/sbin/iptables -A INPUT -s %IP% -j ACCEPT");
	ck_assert_str_eq(d->start_cmd6,
	    "/sbin/ip6tables -A INPUT -s %IP% -j ACCEPT");
	ck_assert_str_eq(d->stop_cmd,
	    "/sbin/iptables -D INPUT -s %IP% -j ACCEPT");
	ck_assert_str_eq(d->stop_cmd6,
	    "/sbin/ip6tables -D INPUT -s %IP% -j ACCEPT");
	ck_assert_uint_eq(d->cmd_timeout, 45);
	ck_assert_int_eq(d->has_cmd_timeout, 1);
	ck_assert_int_eq(d->target.family, AF_INET);
	ck_assert_str_eq(addr_format(&d->target, buf, sizeof(buf)),
	    "192.0.2.10");
	ck_assert_str_eq(ports(d->open, d->open_len),
	    "22/tcp,51820/udp,443/tcp");
	ck_assert_uint_eq(d->open_timeout, 90);
	ck_assert_str_eq(d->one_time_file, "");
}
END_TEST

START_TEST(door_aliases)
{
	const struct cfg_door *d;

	parse_ok("[a]\nSequence = 1,49000\nTimeout = 7\nCommand = run4 %IP%\n"
	    "Command_6 = run6 %IP%\n");
	d = door("a");
	ck_assert_uint_eq(d->seq_timeout, 7);
	ck_assert_str_eq(d->start_cmd, "run4 %IP%");
	ck_assert_str_eq(d->start_cmd6, "run6 %IP%");
	/* An alias and its key are the same key. */
	expect_error("[a]\nSequence = 1,49000\nStart_Command = x\nCommand = y\n",
	    "gk.conf:4: ", "duplicate key 'Command' in door 'a'",
	    "first set at line 3", NULL);
	expect_error("[a]\nSequence = 1,49000\nCommand = x\nSeq_Timeout = 3\n"
	    "Timeout = 4\n", "gk.conf:5: ", "duplicate key 'Timeout'",
	    "line 4", NULL);
}
END_TEST

START_TEST(one_time_sequences)
{
	const struct cfg_door *d;

	parse_ok("[smtp]\nOne_Time_Sequences = /etc/knockd/smtp_sequences\n"
	    "Start_Command = x\n");
	d = door("smtp");
	ck_assert_str_eq(d->one_time_file, "/etc/knockd/smtp_sequences");
	ck_assert_uint_eq(d->seq_len, 0);
	expect_error("[smtp]\nOne_Time_Sequences = smtp_sequences\n"
	    "Start_Command = x\n", "gk.conf:2: ", "relative path "
	    "'smtp_sequences' for One_Time_Sequences", NULL);
}
END_TEST

START_TEST(timeouts)
{
	parse_ok(DOOR "Seq_Timeout = 1\nCmd_Timeout = 86400\n"
	    "Open_Timeout = 86400\n");
	ck_assert_uint_eq(cfg.door[0].seq_timeout, 1);
	ck_assert_uint_eq(cfg.door[0].cmd_timeout, CFG_LIM_TIMEOUT);
	ck_assert_uint_eq(cfg.door[0].open_timeout, CFG_LIM_TIMEOUT);
	expect_error(DOOR "Seq_Timeout = 0\n", "gk.conf:4: ",
	    "bad value '0' for Seq_Timeout", "(allowed: 1-86400 seconds)",
	    NULL);
	expect_error(DOOR "Seq_Timeout = 86401\n", "gk.conf:4: ",
	    "bad value '86401' for Seq_Timeout", NULL);
	expect_error(DOOR "Seq_Timeout = 5s\n", "gk.conf:4: ",
	    "bad value '5s' for Seq_Timeout", NULL);
	expect_error(DOOR "Cmd_Timeout = -1\n", "gk.conf:4: ",
	    "bad value '-1' for Cmd_Timeout", "1-86400 seconds", NULL);
	ck_assert_int_eq(cfg.door[0].has_cmd_timeout, 0);
	expect_error(DOOR "Open_Timeout = 1e3\n", "gk.conf:4: ",
	    "bad value '1e3' for Open_Timeout", NULL);
	expect_error(DOOR "Open_Timeout = 0\n", "gk.conf:4: ",
	    "bad value '0' for Open_Timeout", NULL);
}
END_TEST

START_TEST(open_timeout_fallback)
{
	parse_ok(DOOR);
	ck_assert_uint_eq(cfg.door[0].open_timeout, CFG_DEF_OPEN_TIMEOUT);
	parse_ok(DOOR "Cmd_Timeout = 45\n");
	ck_assert_uint_eq(cfg.door[0].open_timeout, 45);
	ck_assert_int_eq(cfg.door[0].has_cmd_timeout, 1);
	/* Open_Timeout wins, whatever the order. */
	parse_ok("[d]\nOpen_Timeout = 12\nSequence = 7000,49000\nOpen_Ports = 22\n"
	    "Cmd_Timeout = 45\n");
	ck_assert_uint_eq(cfg.door[0].open_timeout, 12);
	ck_assert_uint_eq(cfg.door[0].cmd_timeout, 45);
	/* Per door: the second door falls back to the default. */
	parse_ok(DOOR "Cmd_Timeout = 45\n[e]\nSequence = 1,49000\nOpen_Ports = 2\n");
	ck_assert_uint_eq(door("d")->open_timeout, 45);
	ck_assert_uint_eq(door("e")->open_timeout, CFG_DEF_OPEN_TIMEOUT);
	ck_assert_uint_eq(door("e")->cmd_timeout, CFG_DEF_CMD_TIMEOUT);
	ck_assert_int_eq(door("e")->has_cmd_timeout, 0);
}
END_TEST

START_TEST(sequence_syntax)
{
	const struct cfg_door *d;
	char text[512];
	size_t off;
	int i;

	parse_ok("[d]\nSequence=1,65535:udp,\t2:TCP , 3 : Udp,1\n"
	    "Command=x\n");
	d = door("d");
	ck_assert_str_eq(ports(d->seq, d->seq_len),
	    "1/tcp,65535/udp,2/tcp,3/udp,1/tcp");

	/* CFG_MAX_SEQ items fit, one more does not. */
	off = (size_t)snprintf(text, sizeof(text), "[d]\nCommand = x\n"
	    "Sequence = 1");
	for (i = 2; i <= CFG_MAX_SEQ; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    ",%d", 2 * i);
	snprintf(text + off, sizeof(text) - off, "\n");
	parse_ok(text);
	ck_assert_uint_eq(cfg.door[0].seq_len, CFG_MAX_SEQ);
	snprintf(text + off, sizeof(text) - off, ",99\n");
	expect_error(text, "gk.conf:3: ", "too many ports in Sequence",
	    "(allowed: at most 32)", NULL);
}
END_TEST

START_TEST(bad_ports)
{
	static const struct {
		const char *item, *quoted;
	} t[] = {
		{ "70000", "'70000'" }, { "0", "'0'" }, { "abc", "'abc'" },
		{ "-1", "'-1'" }, { "+22", "'+22'" }, { "22x", "'22x'" },
		{ "2 2", "'2 2'" }, { ":udp", "':udp'" }, { "0x16", "'0x16'" },
	};
	char text[256];
	size_t i;

	expect_error("[openSSH]\nCommand = x\nSequence = 70000,49000\n",
	    "gk.conf:3: ",
	    "bad port '70000' in Sequence",
	    "(allowed: 1-65535, optionally :tcp or :udp)", NULL);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "[d]\nCommand = x\n"
		    "Sequence = 7000,%s\n", t[i].item);
		expect_error(text, "gk.conf:3: ", "bad port", t[i].quoted,
		    "in Sequence", NULL);
		snprintf(text, sizeof(text), "[d]\nSequence = 7000,49000\n"
		    "Open_Ports = 22,%s\n", t[i].item);
		expect_error(text, "gk.conf:3: ", "bad port", t[i].quoted,
		    "in Open_Ports", NULL);
	}
	expect_error("[d]\nCommand = x\nSequence = 7000:icmp\n", "gk.conf:3: ",
	    "bad protocol 'icmp' in Sequence", "(allowed: tcp or udp)", NULL);
	expect_error("[d]\nCommand = x\nSequence = 7000:\n", "gk.conf:3: ",
	    "bad protocol ''", NULL);
	expect_error("[d]\nSequence = 1,49000\nOpen_Ports = 22:sctp\n", "gk.conf:3: ",
	    "bad protocol 'sctp' in Open_Ports", NULL);
	expect_error("[d]\nCommand = x\nSequence = 7000,,8000\n", "gk.conf:3: ",
	    "empty item in Sequence", "port[:tcp|udp]", NULL);
	ck_assert_uint_eq(cfg.door[0].seq_len, 2);
	expect_error("[d]\nCommand = x\nSequence = 7000,8000,\n", "gk.conf:3: ",
	    "empty item in Sequence", NULL);
	expect_error("[d]\nSequence = 1,49000\nOpen_Ports = ,22\n", "gk.conf:3: ",
	    "empty item in Open_Ports", NULL);
	/* Two bad items on a line: two errors. */
	ck_assert_uint_eq(parse("[d]\nCommand = x\nSequence = 0,1,70000\n"), 2);
}
END_TEST

START_TEST(open_ports)
{
	char text[512];
	size_t off;
	int i;

	parse_ok("[d]\nSequence = 1,49000\nOpen_Ports = 22, 22:udp, 443:TCP\n");
	ck_assert_str_eq(ports(cfg.door[0].open, cfg.door[0].open_len),
	    "22/tcp,22/udp,443/tcp");
	ck_assert(config_door_opens(&cfg.door[0], IPPROTO_UDP, 22));
	expect_error("[d]\nSequence = 1,49000\nOpen_Ports = 22, 80, 22:tcp\n",
	    "gk.conf:3: ", "port 22/tcp listed twice in Open_Ports",
	    "(allowed: each port once)", NULL);
	ck_assert_uint_eq(cfg.door[0].open_len, 2);

	off = (size_t)snprintf(text, sizeof(text), "[d]\nSequence = 1,49000\n"
	    "Open_Ports = 1000");
	for (i = 1; i < CFG_MAX_OPEN; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    ",%d", 1000 + i);
	snprintf(text + off, sizeof(text) - off, "\n");
	parse_ok(text);
	ck_assert_uint_eq(cfg.door[0].open_len, CFG_MAX_OPEN);
	snprintf(text + off, sizeof(text) - off, ",2000\n");
	expect_error(text, "gk.conf:3: ", "too many ports in Open_Ports",
	    "(allowed: at most 32)", NULL);
}
END_TEST

START_TEST(tcpflags)
{
	parse_ok(DOOR "TCPFlags = fin,syn,rst,psh,ack,urg\n");
	ck_assert_uint_eq(cfg.door[0].tcpflags_set, TCPF_FIN | TCPF_SYN |
	    TCPF_RST | TCPF_PSH | TCPF_ACK | TCPF_URG);
	ck_assert_uint_eq(cfg.door[0].tcpflags_clear, 0);
	parse_ok(DOOR "TCPFlags = !fin,!syn,!rst,!psh,!ack,!urg\n");
	ck_assert_uint_eq(cfg.door[0].tcpflags_set, 0);
	ck_assert_uint_eq(cfg.door[0].tcpflags_clear, TCPF_FIN | TCPF_SYN |
	    TCPF_RST | TCPF_PSH | TCPF_ACK | TCPF_URG);
	parse_ok(DOOR "TCPFlags = syn,!ack\n");
	ck_assert_uint_eq(cfg.door[0].tcpflags_set, TCPF_SYN);
	ck_assert_uint_eq(cfg.door[0].tcpflags_clear, TCPF_ACK);
	parse_ok(DOOR "tcpflags = SYN , ! Ack,syn\n");
	ck_assert_uint_eq(cfg.door[0].tcpflags_set, TCPF_SYN);
	ck_assert_uint_eq(cfg.door[0].tcpflags_clear, TCPF_ACK);
	parse_ok(DOOR "TCPFlags = fin,!ack\n");
	ck_assert_uint_eq(cfg.door[0].tcpflags_set, TCPF_FIN);
	ck_assert_uint_eq(cfg.door[0].tcpflags_clear, TCPF_ACK);

	expect_error(DOOR "TCPFlags = syn,foo\n", "gk.conf:4: ",
	    "unknown TCP flag 'foo' in TCPFlags",
	    "(allowed: fin, syn, rst, psh, ack, urg", NULL);
	ck_assert_uint_eq(cfg.door[0].tcpflags_set, TCPF_SYN);
	expect_error(DOOR "TCPFlags = ece\n", "gk.conf:4: ",
	    "unknown TCP flag 'ece'", NULL);
	expect_error(DOOR "TCPFlags = !\n", "gk.conf:4: ",
	    "unknown TCP flag ''", NULL);
	expect_error(DOOR "TCPFlags = syn,,ack\n", "gk.conf:4: ",
	    "unknown TCP flag ''", NULL);
	expect_error(DOOR "TCPFlags = syn|ack\n", "gk.conf:4: ",
	    "unknown TCP flag 'syn|ack'", NULL);
	expect_error(DOOR "TCPFlags = ack,syn,!ack\n", "gk.conf:4: ",
	    "TCP flag 'ack' both required and forbidden in TCPFlags",
	    "(allowed: ack or !ack, not both)", NULL);
	ck_assert_uint_eq(parse(DOOR "TCPFlags = syn,!syn,fin,!fin\n"), 2);
}
END_TEST

START_TEST(target)
{
	char buf[ADDR_STRLEN];

	parse_ok(DOOR "Target = 2001:db8::7\n");
	ck_assert_int_eq(cfg.door[0].target.family, AF_INET6);
	ck_assert_str_eq(addr_format(&cfg.door[0].target, buf, sizeof(buf)),
	    "2001:db8::7");
	expect_error(DOOR "Target = router.example.org\n", "gk.conf:4: ",
	    "bad address 'router.example.org' in Target",
	    "(allowed: an IPv4 or IPv6 address; no host names)", NULL);
	ck_assert_int_eq(cfg.door[0].target.family, 0);
	expect_error(DOOR "Target = 192.0.2.0/24\n", "gk.conf:4: ",
	    "bad address '192.0.2.0/24'", NULL);
	expect_error(DOOR "Target = 1111:2222:3333:4444:5555:6666:"
	    "123.123.123.123x\n", "gk.conf:4: ", "bad address", NULL);
}
END_TEST

START_TEST(commands)
{
	char text[CFG_CMD_MAX + 100], cmd[CFG_CMD_MAX + 1];

	/* Free text to the end of the line: '#', '=', ';' and tabs stay. */
	parse_ok(DOOR "Start_Command = a=b # not a comment;\tc  \n"
	    "Stop_Command=x\n");
	ck_assert_str_eq(cfg.door[0].start_cmd, "a=b # not a comment;\tc");
	ck_assert_str_eq(cfg.door[0].stop_cmd, "x");
	/* IPv6 knocks run the IPv4 commands unless told otherwise. */
	ck_assert_str_eq(cfg.door[0].start_cmd6, cfg.door[0].start_cmd);
	ck_assert_str_eq(cfg.door[0].stop_cmd6, "x");
	/* ... and an empty _6 command means nothing for IPv6. */
	parse_ok(DOOR "Start_Command = a\nStart_Command_6 =\n"
	    "Stop_Command = b\nStop_Command_6 =  \n");
	ck_assert_str_eq(cfg.door[0].start_cmd, "a");
	ck_assert_str_eq(cfg.door[0].start_cmd6, "");
	ck_assert_str_eq(cfg.door[0].stop_cmd, "b");
	ck_assert_str_eq(cfg.door[0].stop_cmd6, "");

	expect_error(DOOR "Start_Command =\n", "gk.conf:4: ",
	    "no value for Start_Command", "(allowed: Start_Command = a "
	    "command)", NULL);
	expect_error(DOOR "Stop_Command = a\x1b[31mb\n", "gk.conf:4: ",
	    "control character in Stop_Command", NULL);
	expect_error(DOOR "Start_Command_6 = a\rb\n", "gk.conf:4: ",
	    "control character in Start_Command_6", NULL);

	/* CFG_CMD_MAX - 1 bytes fit, one more is an error, not a cut. */
	memset(cmd, 'x', sizeof(cmd));
	snprintf(text, sizeof(text), DOOR "Start_Command = %.*s\n",
	    CFG_CMD_MAX - 1, cmd);
	parse_ok(text);
	ck_assert_uint_eq(strlen(cfg.door[0].start_cmd), CFG_CMD_MAX - 1);
	snprintf(text, sizeof(text), DOOR "Start_Command = %.*s\n",
	    CFG_CMD_MAX, cmd);
	expect_error(text, "gk.conf:4: ", "Start_Command too long: 1024 bytes",
	    "(allowed: at most 1023)", NULL);
	ck_assert_str_eq(cfg.door[0].start_cmd, "");
	snprintf(text, sizeof(text), DOOR "Stop_Command_6 = %.*s\n",
	    CFG_CMD_MAX, cmd);
	expect_error(text, "gk.conf:4: ", "Stop_Command_6 too long", NULL);
}
END_TEST

/* --- syntax -------------------------------------------------------------- */

START_TEST(case_insensitive)
{
	const struct cfg_door *d;

	parse_ok("[OPTIONS]\nUSESYSLOG\nqueue = 3\nmax_SOURCES = 9\n"
	    "[Door]\nSEQUENCE = 1:UDP,2:Tcp\nsEq_TiMeOuT = 4\nTcpFlags = SYN\n"
	    "open_ports = 22:UDP\nOPEN_TIMEOUT = 5\ncommand = x\n");
	ck_assert_int_eq(cfg.opt.use_syslog, 1);
	ck_assert_uint_eq(cfg.opt.queue, 3);
	ck_assert_uint_eq(cfg.opt.max_sources, 9);
	d = door("Door");
	ck_assert_str_eq(ports(d->seq, d->seq_len), "1/udp,2/tcp");
	ck_assert_uint_eq(d->seq_timeout, 4);
	ck_assert_uint_eq(d->tcpflags_set, TCPF_SYN);
	ck_assert_str_eq(ports(d->open, d->open_len), "22/udp");
	ck_assert_uint_eq(d->open_timeout, 5);
	/* Door names keep their case and are found case-sensitively. */
	ck_assert_int_eq(config_door_find(&cfg, "door"), -1);
	parse_ok("[Options]\nQueue = 1\n");
	ck_assert_uint_eq(cfg.ndoors, 1);	/* LAST_DOOR */
	ck_assert_uint_eq(cfg.opt.queue, 1);
}
END_TEST

START_TEST(comments_blanks_crlf)
{
	const struct cfg_door *d;

	parse_ok("# comment\r\n"
	    "\r\n"
	    "   \t \r\n"
	    "\t# indented comment with = and [brackets]\r\n"
	    "[options]\r\n"
	    "\tUseSyslog\r\n"
	    "  Queue=5  \t\r\n"
	    "#Queue = 6\r\n"
	    "[ door1 ]\r\n"
	    "Sequence = 1:udp,3:udp\r\n"
	    "Start_Command = echo hi # trailing text is kept\r\n");
	ck_assert_int_eq(cfg.opt.use_syslog, 1);
	ck_assert_uint_eq(cfg.opt.queue, 5);
	d = door("door1");
	ck_assert_uint_eq(d->line, 9);
	ck_assert_str_eq(ports(d->seq, d->seq_len), "1/udp,3/udp");
	ck_assert_str_eq(d->start_cmd, "echo hi # trailing text is kept");
	/* Line numbers count CRLF lines; no newline at the end is fine. */
	expect_error("[options]\r\n\r\nQueue = x", "gk.conf:3: ",
	    "bad value 'x' for Queue", NULL);
	/* A byte-order mark does not hide the first header. */
	parse_ok("\xef\xbb\xbf[options]\nQueue = 8\n");
	ck_assert_uint_eq(cfg.opt.queue, 8);
}
END_TEST

/* The buffer is a slice: nothing past len may be read or used. */
START_TEST(not_nul_terminated)
{
	static const char text[] = "[options]\nQueue = 1\n"
	    "[d]\nSequence = 7000,49000\nOpen_Ports = 22" "33\nQueue = 9\n";
	size_t cut = strlen("[options]\nQueue = 1\n[d]\nSequence = 7000,49000\n"
	    "Open_Ports = 22");
	char *buf = malloc(cut);

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, text, cut);		/* exact size, no NUL: ASan watches */
	ck_assert_uint_eq(config_parse(buf, cut, "slice", &cfg, &err), 0);
	ck_assert_uint_eq(cfg.door[0].open_len, 1);
	ck_assert_uint_eq(cfg.door[0].open[0].port, 22);
	ck_assert_uint_eq(cfg.opt.queue, 1);

	/* Cut inside a number and inside a key (no door left: refused). */
	ck_assert_uint_eq(config_parse(text, 19, "slice", &cfg, &err), 1);
	assert_starts(err.msg[0], "slice:2: no door in the file");
	ck_assert_uint_eq(cfg.opt.queue, 1);
	ck_assert_uint_eq(config_parse(text, 13, "slice", &cfg, &err), 1);
	assert_starts(err.msg[0], "slice:2: unknown key 'Que'");
	free(buf);
}
END_TEST

START_TEST(key_before_section)
{
	expect_error("# hi\nQueue = 1\n[options]\n", "gk.conf:2: ",
	    "'Queue' before any section", "(allowed: keys after an [options] "
	    "or [door] line)", NULL);
	expect_error("UseSyslog\n", "gk.conf:1: ", "'UseSyslog' before any "
	    "section", NULL);
}
END_TEST

START_TEST(unknown_keys)
{
	expect_error("[options]\n\n[openSSH]\nSequence = 1,49000\nCommand = x\n\n"
	    "Sequnce = 7000\n", "gk.conf:7: ",
	    "unknown key 'Sequnce' in door 'openSSH'",
	    "(known: Sequence, One_Time_Sequences, Seq_Timeout, TCPFlags, "
	    "Start_Command, Start_Command_6, Stop_Command, Stop_Command_6, "
	    "Cmd_Timeout, Target, Open_Ports, Open_Timeout, Close, Monitor, "
	    "SPA_Key, SPA_Key_Base64, SPA_HMAC_Key, SPA_HMAC_Key_Base64, "
	    "SPA_HMAC_Digest, SPA_Max_Timeout, SPA_Source_Match, SPA_Users, "
	    "SPA_Allow_No_HMAC)", NULL);
	expect_error("[options]\nQueu = 1\n", "gk.conf:2: ",
	    "unknown key 'Queu' in [options]", "(known: UseSyslog, LogFile, "
	    "PidFile, Interface, Queue, Protected_Queue, Control_Socket, "
	    "Control_Group, State_File, Max_Sources, Allow, "
	    "Monitor, Ruleset, "
	    "User, Command_User, Log_Refused, Log_Prefix, Log_Rate, Log_Burst, "
	    "Scan_Guard, Public_Ports, Lockout_After, Lockout_Time, "
	    "Knock_Reply, Gate_Loopback, SPA_Port, SPA_Max_Age, "
	    "SPA_Replay_Cache, Fwknop_Access, Fwknop_Open_Ports)", NULL);
	/* knockd would take these silently; we do not. */
	expect_error("[options]\nverbose\n", "gk.conf:2: ",
	    "unknown key 'verbose' in [options]", NULL);
	expect_error(DOOR "Seq Timeout = 5\n", "gk.conf:4: ",
	    "unknown key 'Seq Timeout' in door 'd'", NULL);
	expect_error(DOOR "= 5\n", "gk.conf:4: ", "no key before '=' in "
	    "door 'd'", "(allowed: key = value)", NULL);
	expect_error(DOOR "just some words\n", "gk.conf:4: ",
	    "unknown key 'just some words'", NULL);
}
END_TEST

START_TEST(wrong_section)
{
	expect_error("[options]\nSequence = 1,49000\n", "gk.conf:2: ",
	    "Sequence belongs in a door section, not in [options]",
	    "(allowed here: UseSyslog,", NULL);
	expect_error(DOOR "Interface = eth0\n", "gk.conf:4: ",
	    "Interface belongs in [options], not in door 'd'",
	    "(allowed here: Sequence,", NULL);
	expect_error(DOOR "UseSyslog\n", "gk.conf:4: ",
	    "UseSyslog belongs in [options]", NULL);
}
END_TEST

START_TEST(missing_value)
{
	expect_error(DOOR "Seq_Timeout\n", "gk.conf:4: ",
	    "no value for Seq_Timeout", "(allowed: Seq_Timeout = 1-86400 "
	    "seconds)", NULL);
	expect_error("[d]\nSequence =\nCommand = x\n", "gk.conf:2: ",
	    "no value for Sequence", "(allowed: Sequence = port[:tcp|udp]",
	    NULL);
	expect_error("[options]\nQueue =  \t\n", "gk.conf:2: ",
	    "no value for Queue", NULL);
	expect_error("[options]\nAllow =\n", "gk.conf:2: ",
	    "no value for Allow", NULL);
	expect_error(DOOR "Target\n", "gk.conf:4: ", "no value for Target",
	    NULL);
}
END_TEST

START_TEST(duplicate_keys)
{
	expect_error("[openSSH]\nSequence = 1,49000\nCommand = x\nsequence = 2\n",
	    "gk.conf:4: ", "duplicate key 'sequence' in door 'openSSH', first "
	    "set at line 2", "(allowed: each key once per section)", NULL);
	ck_assert_str_eq(ports(cfg.door[0].seq, cfg.door[0].seq_len),
	    "1/tcp,49000/tcp");
	expect_error("[options]\nQueue = 1\nQueue = 2\n", "gk.conf:3: ",
	    "duplicate key 'Queue' in [options], first set at line 2", NULL);
	/* [options] may come twice, but it is still one section. */
	expect_error("[options]\nQueue = 1\n" DOOR "[options]\nQueue = 2\n",
	    "gk.conf:7: ", "duplicate key 'Queue'", "line 2", NULL);
	parse_ok("[options]\nQueue = 1\n" DOOR "[options]\nMax_Sources = 2\n");
	ck_assert_uint_eq(cfg.opt.max_sources, 2);
	/* The same key in two doors is fine. */
	parse_ok(DOOR "[e]\nSequence = 8000,49000\nOpen_Ports = 23\n");
	ck_assert_uint_eq(cfg.ndoors, 2);
	/* Even a bad first value counts as set. */
	expect_error("[options]\nQueue = x\n", "gk.conf:2: ", "bad value",
	    NULL);
	ck_assert_uint_eq(parse("[options]\nQueue = x\nQueue = 1\n"), 2);
	assert_has_error("gk.conf:3: ", "duplicate key 'Queue'", NULL);
}
END_TEST

START_TEST(section_headers)
{
	char text[256], name[80];

	expect_error("[open SSH]\nSequence = 1,49000\nCommand = x\n", "gk.conf:1: ",
	    "bad door name 'open SSH'", "(allowed: 1-63 characters out of "
	    "A-Z a-z 0-9 _ . -)", NULL);
	ck_assert_uint_eq(cfg.ndoors, 0);
	expect_error("[]\n", "gk.conf:1: ", "bad door name ''", NULL);
	expect_error("[ssh/2]\nSequence = 1,49000\nCommand = x\n", "gk.conf:1: ",
	    "bad door name 'ssh/2'", NULL);
	expect_error("[openSSH\nSequence = 1,49000\n", "gk.conf:1: ",
	    "missing ']' in section header '[openSSH'",
	    "(allowed: [options] or [door_name])", NULL);
	expect_error("[openSSH] # open\nSequence = 1,49000\nCommand = x\n",
	    "gk.conf:1: ", "text after ']' in section header: '# open'",
	    "comments go on a line of their own", NULL);
	ck_assert_uint_eq(cfg.ndoors, 0);

	memset(name, 'n', sizeof(name));
	snprintf(text, sizeof(text), "[%.*s]\nSequence = 1,49000\nCommand = x\n",
	    CFG_NAME_MAX - 1, name);
	parse_ok(text);
	ck_assert_uint_eq(strlen(cfg.door[0].name), CFG_NAME_MAX - 1);
	snprintf(text, sizeof(text), "[%.*s]\nSequence = 1,49000\nCommand = x\n",
	    CFG_NAME_MAX, name);
	expect_error(text, "gk.conf:1: ", "bad door name 'nnnn", NULL);
	ck_assert_uint_eq(cfg.ndoors, 0);
	parse_ok("[a.b-c_D9]\nSequence = 1,49000\nCommand = x\n");
	ck_assert_str_eq(cfg.door[0].name, "a.b-c_D9");
}
END_TEST

START_TEST(duplicate_doors)
{
	expect_error("[x]\nSequence = 1,49000\nCommand = a\n\n[y]\nSequence = 2,49000\n"
	    "Command = b\n[x]\nSequence = 3,49000\nCommand = c\n", "gk.conf:8: ",
	    "duplicate door 'x', first defined at line 1",
	    "(allowed: each name once)", NULL);
	ck_assert_uint_eq(cfg.ndoors, 2);
	ck_assert_str_eq(ports(door("x")->seq, door("x")->seq_len),
	    "1/tcp,49000/tcp");
	/* Names are case-sensitive, as in knockd. */
	parse_ok("[x]\nSequence = 1,49000\nCommand = a\n[X]\nSequence = 2,49000\n"
	    "Command = b\n");
	ck_assert_uint_eq(cfg.ndoors, 2);
}
END_TEST

/* A refused section is still checked, but creates no door. */
START_TEST(refused_section_still_checked)
{
	ck_assert_uint_eq(parse("[bad name]\nSequence = 70000,49000\nFoo = 1\n"), 3);
	ck_assert_uint_eq(cfg.ndoors, 0);
	assert_has_error("gk.conf:1: ", "bad door name", NULL);
	assert_has_error("gk.conf:2: ", "bad port '70000'", NULL);
	assert_has_error("gk.conf:3: ", "unknown key 'Foo' in door 'bad name'",
	    NULL);
	/* ... and is not judged as a whole (no "does nothing" etc.). */
	expect_error("[x]\nSequence = 1,49000\nCommand = a\n[x]\n", "gk.conf:4: ",
	    "duplicate door", NULL);
}
END_TEST

/* Sequences a port scan completes are refused while Scan_Guard is on. */
START_TEST(scan_walkable_sequences)
{
	expect_error("[d]\nSequence = 7000\nOpen_Ports = 22\n", "gk.conf:2: ",
	    "door 'd': Sequence 7000/tcp can be opened by a port scan: a "
	    "one-port sequence is completed by any scan that reaches 7000/tcp",
	    "(allowed: at least two knocks", NULL);
	expect_error("[d]\nSequence = 7000,7001,7002\nOpen_Ports = 22\n",
	    "gk.conf:2: ", "an ascending port scan completes it: no port it "
	    "probes between 7000/tcp and 7001/tcp resets the attempt", NULL);
	expect_error("[d]\nSequence = 7002:udp,7001:udp\nOpen_Ports = 22\n",
	    "gk.conf:2: ", "a descending port scan completes it", NULL);
	/* Public and protected ports reset nothing (never queued, or on
	 * another queue): a walk across them is still a walk. */
	expect_error("[options]\nPublic_Ports = 7001\n"
	    "[d]\nSequence = 7000,7002,7004\nOpen_Ports = 7003\n",
	    "gk.conf:4: ", "an ascending port scan completes it", NULL);
	/* Both protocols at once: 7000/udp and 7001/tcp lie between. */
	parse_ok("[d]\nSequence = 7000,7001:udp\nOpen_Ports = 22\n");
	expect_error("[d]\nSequence = 7000,7000:udp\nOpen_Ports = 22\n",
	    "gk.conf:2: ", "port scan completes it", NULL);
	/* One unlisted port between, or an order no scan follows: fine. */
	parse_ok("[d]\nSequence = 7000,7002,7004\nOpen_Ports = 22\n");
	parse_ok("[d]\nSequence = 7000,7002,7001\nOpen_Ports = 22\n");
	parse_ok("[d]\nSequence = 9000,8000,9001\nOpen_Ports = 22\n");
	/* Without the scan guard nothing between knocks resets: a one-port
	 * sequence is still refused (any scan completes it); one in one
	 * direction is an ordered scan's, and loads with a warning; the rest
	 * is the admin's risk (a random scan may still hit it, as with
	 * knockd). */
	expect_error("[options]\nScan_Guard = no\n"
	    "[d]\nSequence = 7000\nOpen_Ports = 22\n", "gk.conf:4: ",
	    "a one-port sequence", NULL);
	parse_ok("[options]\nScan_Guard = no\n"
	    "[e]\nSequence = 7100,7200,7300\nOpen_Ports = 23\n"
	    "[f]\nSequence = 9000,8000:udp\nOpen_Ports = 24\n"
	    "[g]\nSequence = 8000,8002,8001\nOpen_Ports = 25\n");
	ck_assert_uint_eq(cfg.nwarn, 2);
	ck_assert_str_eq(cfg.warn[0], "gk.conf:4: door 'e': with Scan_Guard = "
	    "no an ordered port scan completes Sequence 7100/tcp,7200/tcp,"
	    "7300/tcp (nothing it probes between the knocks resets the "
	    "attempt, as with knockd)");
	assert_starts(cfg.warn[1], "gk.conf:7: door 'f': with Scan_Guard");
	parse_ok(DOOR);
	ck_assert_uint_eq(cfg.nwarn, 0);
	/* A sequence with its own mistakes is not judged again. */
	ck_assert_uint_eq(parse("[d]\nSequence = 0,49000\nOpen_Ports = 22\n"),
	    1);
}
END_TEST

/* Prefixes that together cover a whole family are /0 in disguise. */
START_TEST(allow_covering_everything)
{
	expect_error(DOOR "[options]\nAllow = 0.0.0.0/1, 128.0.0.0/1\n",
	    "gk.conf:5: ", "cover every IPv4 address", NULL);
	expect_error(DOOR "[options]\nAllow = 10.0.0.0/8\n"
	    "Allow = 0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/2, 192.0.0.0/3, "
	    "224.0.0.0/3\n", "gk.conf:6: ", "cover every IPv4 address", NULL);
	expect_error(DOOR "[options]\nAllow = ::/1, 8000::/1\n",
	    "gk.conf:5: ", "cover every IPv6 address", NULL);
	/* One address short of it is fine. */
	parse_ok(DOOR "[options]\nAllow = 0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/3, "
	    "224.0.0.0/4, 240.0.0.0/5, 248.0.0.0/6, 252.0.0.0/7, 254.0.0.0/8, "
	    "255.0.0.0/9, 255.128.0.0/10\n");
	parse_ok(DOOR "[options]\nAllow = 0.0.0.0/1, ::/1\n");
}
END_TEST

START_TEST(allow_narrowing)
{
	expect_error("[options]\nAllow = 0.0.0.0/0\n", "gk.conf:2: ",
	    "Allow = 0.0.0.0/0 lets every IPv4 source past the gate", NULL);
	expect_error("[options]\nAllow = ::/0\n", "gk.conf:2: ",
	    "lets every IPv6 source past the gate", NULL);
	/* IPv4-mapped prefixes mean their IPv4 addresses. */
	parse_ok("[options]\nAllow = ::ffff:192.0.2.0/120, ::ffff:10.1.2.3\n");
	ck_assert_uint_eq(cfg.opt.allow_len, 2);
	ck_assert_uint_eq(cfg.opt.allow[0].net.family, AF_INET);
	ck_assert_uint_eq(cfg.opt.allow[0].prefix, 24);
	ck_assert_uint_eq(cfg.opt.allow[1].prefix, 32);
	ck_assert_uint_eq(cfg.opt.allow[1].net.b[3], 3);
	expect_error("[options]\nAllow = ::ffff:0.0.0.0/96\n", "gk.conf:2: ",
	    "lets every IPv4 source past the gate", NULL);
}
END_TEST

START_TEST(knock_reply_and_loopback)
{
	parse_ok("[options]\n");
	ck_assert_int_eq(cfg.opt.knock_drop, 0);
	ck_assert_int_eq(cfg.opt.gate_loopback, 0);
	parse_ok("[options]\nKnock_Reply = drop\nGate_Loopback = yes\n");
	ck_assert_int_eq(cfg.opt.knock_drop, 1);
	ck_assert_int_eq(cfg.opt.gate_loopback, 1);
	parse_ok("[options]\nknock_reply = CLOSED\n");
	ck_assert_int_eq(cfg.opt.knock_drop, 0);
	expect_error("[options]\nKnock_Reply = reject\n", "gk.conf:2: ",
	    "bad value 'reject' for Knock_Reply", "(allowed: closed", NULL);
}
END_TEST

START_TEST(too_many_doors)
{
	static char text[CFG_MAX_DOORS * 64 + 256];
	size_t off = 0;
	int i;

	for (i = 0; i < CFG_MAX_DOORS; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "[d%d]\nSequence = %d,%d\nOpen_Ports = 22\n", i, 1000 + i,
		    2000 + i);
	parse_ok(text);
	ck_assert_uint_eq(cfg.ndoors, CFG_MAX_DOORS);
	ck_assert_str_eq(cfg.door[CFG_MAX_DOORS - 1].name, "d63");
	snprintf(text + off, sizeof(text) - off,
	    "[extra]\nSequence = 5,49000\nOpen_Ports = 22\n");
	expect_error(text, "gk.conf:193: ", "too many doors at 'extra'",
	    "(allowed: at most 64)", NULL);
	ck_assert_uint_eq(cfg.ndoors, CFG_MAX_DOORS);
}
END_TEST

/* --- whole-door and whole-file checks ------------------------------------ */

START_TEST(door_needs_sequence)
{
	expect_error("[options]\n\n[noseq]\nOpen_Ports = 22\n", "gk.conf:3: ",
	    "door 'noseq' has no knock sequence",
	    "(allowed: Sequence = port[:tcp|udp]", "One_Time_Sequences", NULL);
	expect_error("[both]\nSequence = 1,49000\nOne_Time_Sequences = /etc/s\n"
	    "Command = x\n", "gk.conf:1: ", "door 'both' has both Sequence "
	    "(line 2) and One_Time_Sequences (line 3)",
	    "(allowed: one of them)", NULL);
	/* A bad Sequence is one error, not also "no knock sequence". */
	expect_error("[d]\nSequence = 0,49000\nCommand = x\n", "gk.conf:2: ",
	    "bad port", NULL);
}
END_TEST

START_TEST(door_does_nothing)
{
	expect_error("[options]\n[idle]\nSequence = 1,49000\nStop_Command = x\n",
	    "gk.conf:2: ", "door 'idle' does nothing: add Open_Ports, "
	    "Start_Command or Close", NULL);
	expect_error("[idle]\nSequence = 1,49000\nStart_Command_6 =\n", "gk.conf:1: ",
	    "does nothing", NULL);
	parse_ok("[v6]\nSequence = 1,49000\nStart_Command_6 = x\n");
	ck_assert_str_eq(cfg.door[0].start_cmd, "");
	ck_assert_str_eq(cfg.door[0].start_cmd6, "x");
	parse_ok("[cmd]\nSequence = 1,49000\nCommand = x\n");
	parse_ok("[open]\nSequence = 1,49000\nOpen_Ports = 22\n");
	parse_ok("[close]\nSequence = 1,49000\nClose = open\n"
	    "[open]\nSequence = 2,49000\nOpen_Ports = 22\n");
	/* A bad Close is still a Close: one error, not two. */
	expect_error("[close]\nSequence = 1,49000\nClose = nope\n", "gk.conf:3: ",
	    "unknown door 'nope'", NULL);
	/* Both problems of one door are reported. */
	ck_assert_uint_eq(parse("[a]\nSeq_Timeout = 5\n"), 2);
	assert_has_error("gk.conf:1: ", "no knock sequence", NULL);
	assert_has_error("gk.conf:1: ", "does nothing", NULL);
}
END_TEST

START_TEST(knock_open_overlap)
{
	expect_error("[a]\nSequence = 7000,8000\nOpen_Ports = 22\n"
	    "[b]\nSequence = 9000,49000\nOpen_Ports = 8000\n", "gk.conf:4: ",
	    "port 8000/tcp is opened by door 'b' but is a knock port of door "
	    "'a'", "knock packets are always dropped", NULL);
	/* Its own sequence, too. */
	expect_error("[a]\nSequence = 7000,22\nOpen_Ports = 22\n",
	    "gk.conf:1: ", "port 22/tcp is opened by door 'a' but is a knock "
	    "port of door 'a'", NULL);
	/* Another protocol is another port. */
	parse_ok("[a]\nSequence = 7000:udp,8000\nOpen_Ports = 7000:tcp, "
	    "8000:udp\n");
	ck_assert_uint_eq(parse("[a]\nSequence = 1,3\nOpen_Ports = 1,3,4\n"),
	    2);
}
END_TEST

START_TEST(many_errors_collected)
{
	static char text[8192];
	size_t off;
	unsigned i;

	ck_assert_uint_eq(parse("[options]\nQueue = x\nFoo = 1\n"
	    "[d]\nSequence = 0,49000\nSeq_Timeout = 0\n"), 5);
	assert_starts(err.msg[0], "gk.conf:2: bad value 'x'");
	assert_starts(err.msg[1], "gk.conf:3: unknown key 'Foo'");
	assert_starts(err.msg[2], "gk.conf:5: bad port '0'");
	assert_starts(err.msg[3], "gk.conf:6: bad value '0' for "
	    "Seq_Timeout");
	assert_starts(err.msg[4], "gk.conf:4: door 'd' does nothing");

	/* More than CFG_MAX_ERRORS: the rest are counted, not kept. */
	off = (size_t)snprintf(text, sizeof(text), "[options]\n");
	for (i = 0; i < 40; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "Bad%u = 1\n", i);
	ck_assert_uint_eq(parse(text), 40);
	assert_starts(err.msg[CFG_MAX_ERRORS - 1],
	    "gk.conf:33: unknown key 'Bad31'");
}
END_TEST

/* Messages stay bounded and printable whatever the input. */
START_TEST(messages_bounded)
{
	static char text[4096];
	char file[600];
	size_t len;

	memset(file, 'f', sizeof(file) - 1);
	file[sizeof(file) - 1] = '\0';
	ck_assert_uint_eq(config_parse("Queue = 1\n", 10, file, &cfg, &err),
	    1);
	len = strlen(err.msg[0]);
	ck_assert_uint_eq(len, CFG_ERR_MAX - 1);
	ck_assert_str_eq(err.msg[0] + len - 3, "...");

	/* A long, binary key is quoted short and printable. */
	snprintf(text, sizeof(text), "[options]\n%s\x01\x7f\xff = 1\n",
	    "averyveryveryveryveryveryveryveryveryveryveryverylongkeyname");
	ck_assert_uint_eq(parse(text), 1);
	ck_assert_ptr_nonnull(strstr(err.msg[0], "unknown key 'averyvery"));
	ck_assert_ptr_nonnull(strstr(err.msg[0], "...'"));
	ck_assert_ptr_null(strchr(err.msg[0], '\x01'));
	ck_assert_ptr_null(strchr(err.msg[0], '\x7f'));
	ck_assert_ptr_null(strchr(err.msg[0], '\xff'));

	/* NUL bytes inside the buffer are just bad characters. */
	ck_assert_uint_eq(config_parse("[options]\nQu\0eue = 1\n", 21, "nul",
	    &cfg, &err), 1);
	assert_starts(err.msg[0], "nul:2: unknown key 'Qu?eue'");
}
END_TEST

/* Random bytes and config-ish noise: no crash, sane error counts.  Run under
 * SAN=1 this is a small fuzzer. */
START_TEST(noise)
{
	static const char *const bits[] = { "[", "]", "options", "d", "=",
	    ",", ":", "udp", "tcp", "!", "syn", "\n", "\r\n", " ", "\t", "#",
	    "Sequence", "Open_Ports", "Allow", "7000", "65536", "10.0.0.0/8",
	    "::1", "Command", "UseSyslog", "\0", "\xff", "Target", "TCPFlags",
	    "Close", "Monitor", "Public_Ports", "Log_Rate", "/min", "yes",
	    "Protected_Queue", "Log_Prefix" };
	char buf[512];
	unsigned seed = 12345, i, n;
	size_t len, k;

	for (i = 0; i < 3000; i++) {
		len = 0;
		n = (seed = seed * 1103515245 + 12345) >> 16;
		while (len < sizeof(buf) - 16 && n-- % 97 != 0) {
			seed = seed * 1103515245 + 12345;
			k = (seed >> 16) % (sizeof(bits) / sizeof(bits[0]));
			if (i % 3 == 0)
				buf[len++] = (char)(seed >> 8);
			else {
				memcpy(buf + len, bits[k], strlen(bits[k]) ?
				    strlen(bits[k]) : 1);
				len += strlen(bits[k]) ? strlen(bits[k]) : 1;
			}
		}
		n = config_parse(buf, len, "noise", &cfg, &err);
		ck_assert_uint_eq(n, err.n);
		ck_assert_uint_le(cfg.ndoors, CFG_MAX_DOORS);
		if (n > 0)
			assert_starts(err.msg[0], "noise:");
	}
}
END_TEST

/* --- gatekeeper's later keys -------------------------------------------- */

START_TEST(options_later_keys)
{
	parse_ok("[options]\n"
	    "Queue = 10\n"
	    "Protected_Queue = 20\n"
	    "Control_Group = gk-admin\n"
	    "Monitor = yes\n"
	    "Ruleset = external\n"
	    "User = _gatekeeper\n"
	    "Command_User = fw_cmd9\n"
	    "Log_Refused = no\n"
	    "Log_Prefix = GK refused: \n"
	    "Log_Rate = 12/minute\n"
	    "Log_Burst = 7\n"
	    "Scan_Guard = off\n"
	    "Public_Ports = 80, 443:tcp, 53:udp\n"
	    "Lockout_After = 0\n"
	    "Lockout_Time = 600\n");
	ck_assert_uint_eq(cfg.opt.queue, 10);
	ck_assert_uint_eq(cfg.opt.protected_queue, 20);
	ck_assert_str_eq(cfg.opt.control_group, "gk-admin");
	ck_assert_int_eq(cfg.opt.monitor, 1);
	ck_assert_int_eq(cfg.opt.ruleset_external, 1);
	ck_assert_str_eq(cfg.opt.user, "_gatekeeper");
	ck_assert_str_eq(cfg.opt.command_user, "fw_cmd9");
	ck_assert_int_eq(cfg.opt.log_refused, 0);
	ck_assert_str_eq(cfg.opt.log_prefix, "GK refused:");
	ck_assert_uint_eq(cfg.opt.log_rate_n, 12);
	ck_assert_uint_eq(cfg.opt.log_rate_period, 60);
	ck_assert_uint_eq(cfg.opt.log_burst, 7);
	ck_assert_int_eq(cfg.opt.scan_guard, 0);
	ck_assert_str_eq(ports(cfg.opt.public_ports, cfg.opt.public_len),
	    "80/tcp,443/tcp,53/udp");
	ck_assert_uint_eq(cfg.opt.lockout_after, 0);
	ck_assert_uint_eq(cfg.opt.lockout_time, 600);
	parse_ok("[options]\nRuleset = INSTALL\nLockout_After = 1000\n"
	    "Lockout_Time = 1\n");
	ck_assert_int_eq(cfg.opt.ruleset_external, 0);
	ck_assert_uint_eq(cfg.opt.lockout_after, 1000);
	ck_assert_uint_eq(cfg.opt.lockout_time, 1);
	expect_error("[options]\nRuleset = manual\n", "gk.conf:2: ",
	    "bad value 'manual' for Ruleset", "(allowed: install or external)",
	    NULL);
	expect_error("[options]\nLockout_After = 1001\n", "gk.conf:2: ",
	    "bad value '1001' for Lockout_After", "(allowed: 0-1000", NULL);
	expect_error("[options]\nLockout_Time = 0\n", "gk.conf:2: ",
	    "bad value '0' for Lockout_Time", "(allowed: 1-86400 seconds)",
	    NULL);
	expect_error("[options]\nLockout_Time = 86401\n", "gk.conf:2: ",
	    "bad value '86401' for Lockout_Time", NULL);
}
END_TEST

START_TEST(booleans)
{
	static const char *const keys[] = { "UseSyslog", "Monitor",
	    "Log_Refused", "Scan_Guard" };
	static const struct {
		const char *v;
		int want;
	} t[] = {
		{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
		{ "on", 1 }, { "off", 0 }, { "1", 1 }, { "0", 0 }, { "ON", 1 },
		{ "Off", 0 },
	};
	const int *field[] = { &cfg.opt.use_syslog, &cfg.opt.monitor,
	    &cfg.opt.log_refused, &cfg.opt.scan_guard };
	char text[128];
	size_t k, i;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			snprintf(text, sizeof(text), "[options]\n%s = %s\n",
			    keys[k], t[i].v);
			parse_ok(text);
			ck_assert_msg(*field[k] == t[i].want, "%s = %s",
			    keys[k], t[i].v);
		}
		snprintf(text, sizeof(text), "[options]\n%s = enabled\n",
		    keys[k]);
		expect_error(text, "gk.conf:2: ", "bad value 'enabled' for",
		    keys[k], "(allowed: yes, no, true, false, on, off, 1 or 0",
		    NULL);
	}
	/* Only UseSyslog may stand alone, as in knockd. */
	expect_error("[options]\nMonitor\n", "gk.conf:2: ",
	    "no value for Monitor", NULL);
}
END_TEST

START_TEST(user_names)
{
	static const char *const bad[] = { "Root", "9lives", "-x", "a b",
	    "a.b", "a$", "\xc3\xa9t\xc3\xa9", "a:b" };
	char text[128], name[40];
	size_t i;

	parse_ok("[options]\nUser = a\nCommand_User = _\nControl_Group = "
	    "z0_-\n");
	ck_assert_str_eq(cfg.opt.user, "a");
	ck_assert_str_eq(cfg.opt.command_user, "_");
	ck_assert_str_eq(cfg.opt.control_group, "z0_-");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[options]\nUser = %s\n", bad[i]);
		expect_error(text, "gk.conf:2: ", "bad name", "for User",
		    "(allowed: a user name: 1-31 characters out of a-z 0-9 _ "
		    "-, not starting with a digit or '-')", NULL);
		ck_assert_str_eq(cfg.opt.user, "");
	}
	expect_error("[options]\nControl_Group = Wheel\n", "gk.conf:2: ",
	    "bad name 'Wheel' for Control_Group", "(allowed: a group name",
	    NULL);
	expect_error("[options]\nCommand_User = 1\n", "gk.conf:2: ",
	    "bad name '1' for Command_User", NULL);
	/* 31 characters fit, 32 do not. */
	memset(name, 'u', sizeof(name));
	snprintf(text, sizeof(text), "[options]\nUser = %.*s\n",
	    CFG_USER_MAX - 1, name);
	parse_ok(text);
	ck_assert_uint_eq(strlen(cfg.opt.user), CFG_USER_MAX - 1);
	snprintf(text, sizeof(text), "[options]\nControl_Group = %.*s\n",
	    CFG_USER_MAX, name);
	expect_error(text, "gk.conf:2: ", "bad name 'uuuu", NULL);
	ck_assert_str_eq(cfg.opt.control_group, "");
}
END_TEST

START_TEST(log_prefix)
{
	char text[128], pfx[40];

	parse_ok("[options]\nLog_Prefix = [gk] drop: a=b,c!\n");
	ck_assert_str_eq(cfg.opt.log_prefix, "[gk] drop: a=b,c!");
	memset(pfx, 'p', sizeof(pfx));
	snprintf(text, sizeof(text), "[options]\nLog_Prefix = %.*s\n",
	    CFG_PREFIX_MAX - 1, pfx);
	parse_ok(text);
	ck_assert_uint_eq(strlen(cfg.opt.log_prefix), 29);
	snprintf(text, sizeof(text), "[options]\nLog_Prefix = %.*s\n",
	    CFG_PREFIX_MAX, pfx);
	expect_error(text, "gk.conf:2: ", "Log_Prefix too long: 30 characters",
	    "(allowed: 1-29 printable characters, no quotes)", NULL);
	ck_assert_str_eq(cfg.opt.log_prefix, "");
	expect_error("[options]\nLog_Prefix = say \"hi\"\n", "gk.conf:2: ",
	    "bad character in Log_Prefix", "no quotes", NULL);
	expect_error("[options]\nLog_Prefix = it's\n", "gk.conf:2: ",
	    "bad character in Log_Prefix", NULL);
	expect_error("[options]\nLog_Prefix = a\tb\n", "gk.conf:2: ",
	    "bad character in Log_Prefix", NULL);
	expect_error("[options]\nLog_Prefix = caf\xc3\xa9\n", "gk.conf:2: ",
	    "bad character in Log_Prefix", NULL);
	expect_error("[options]\nLog_Prefix =\n", "gk.conf:2: ",
	    "no value for Log_Prefix", NULL);
}
END_TEST

START_TEST(log_rate)
{
	static const struct {
		const char *v;
		unsigned n, period;
	} ok[] = {
		{ "5", 5, 1 }, { "1/second", 1, 1 }, { "3/s", 3, 1 },
		{ "10/Minute", 10, 60 }, { "10/min", 10, 60 }, { "2/m", 2, 60 },
		{ "4/hour", 4, 3600 }, { "4/h", 4, 3600 }, { "7/DAY", 7, 86400 },
		{ "9 / d", 9, 86400 }, { "100000/second", 100000, 1 },
	};
	static const char *const bad_value[] = { "0", "100001", "-1", "x/s",
	    "/s", "5x", "1e3/s" };
	static const char *const bad_unit[] = { "5/week", "5/", "5/minutes",
	    "5/sec2", "5/s/s" };
	char text[128];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "[options]\nLog_Rate = %s\n",
		    ok[i].v);
		parse_ok(text);
		ck_assert_msg(cfg.opt.log_rate_n == ok[i].n &&
		    cfg.opt.log_rate_period == ok[i].period, "%s: %u/%u",
		    ok[i].v, cfg.opt.log_rate_n, cfg.opt.log_rate_period);
	}
	for (i = 0; i < sizeof(bad_value) / sizeof(bad_value[0]); i++) {
		snprintf(text, sizeof(text), "[options]\nLog_Rate = %s\n",
		    bad_value[i]);
		expect_error(text, "gk.conf:2: ", "bad value", "for Log_Rate",
		    "(allowed: N[/second|/minute|/hour|/day], N 1-100000)",
		    NULL);
		/* A refused value leaves the default. */
		ck_assert_uint_eq(cfg.opt.log_rate_n, CFG_DEF_LOG_RATE);
		ck_assert_uint_eq(cfg.opt.log_rate_period, CFG_DEF_LOG_PERIOD);
	}
	for (i = 0; i < sizeof(bad_unit) / sizeof(bad_unit[0]); i++) {
		snprintf(text, sizeof(text), "[options]\nLog_Rate = %s\n",
		    bad_unit[i]);
		expect_error(text, "gk.conf:2: ", "bad unit", "in Log_Rate",
		    NULL);
	}
	parse_ok("[options]\nLog_Burst = 1\n");
	ck_assert_uint_eq(cfg.opt.log_burst, 1);
	parse_ok("[options]\nLog_Burst = 10000\n");
	ck_assert_uint_eq(cfg.opt.log_burst, 10000);
	expect_error("[options]\nLog_Burst = 0\n", "gk.conf:2: ",
	    "bad value '0' for Log_Burst", "(allowed: 1-10000)", NULL);
	expect_error("[options]\nLog_Burst = 10001\n", "gk.conf:2: ",
	    "bad value '10001' for Log_Burst", NULL);
}
END_TEST

START_TEST(protected_queue)
{
	parse_ok("[options]\nQueue = 7\n");
	ck_assert_uint_eq(cfg.opt.protected_queue, 8);
	parse_ok("[options]\nQueue = 65535\n");
	ck_assert_uint_eq(cfg.opt.protected_queue, 65534);
	parse_ok("[options]\nProtected_Queue = 0\nQueue = 65535\n");
	ck_assert_uint_eq(cfg.opt.protected_queue, 0);
	parse_ok("[options]\nProtected_Queue = 65535\n");
	ck_assert_uint_eq(cfg.opt.protected_queue, 65535);
	ck_assert_uint_eq(cfg.opt.queue, 0);
	expect_error("[options]\nQueue = 3\nProtected_Queue = 3\n",
	    "gk.conf:3: ", "Protected_Queue 3 is Queue's number",
	    "(allowed: another queue", NULL);
	/* Wherever Queue stands, the message points at Protected_Queue. */
	expect_error("[options]\nProtected_Queue = 4\n" DOOR "[options]\n"
	    "Queue = 4\n", "gk.conf:2: ", "Protected_Queue 4 is Queue's number",
	    NULL);
	expect_error("[options]\nProtected_Queue = 0\n", "gk.conf:2: ",
	    "Protected_Queue 0 is Queue's number", NULL);
	/* A bad value is one error, not also a clash. */
	expect_error("[options]\nProtected_Queue = 65536\n", "gk.conf:2: ",
	    "bad value '65536' for Protected_Queue", "(allowed: 0-65535", NULL);
	expect_error("[options]\nQueue = x\nProtected_Queue = 0\n",
	    "gk.conf:2: ", "bad value 'x' for Queue", NULL);
}
END_TEST

START_TEST(public_ports)
{
	char text[1024];
	size_t off;
	int i;

	expect_error("[options]\nPublic_Ports = 80, 80:tcp\n", "gk.conf:2: ",
	    "port 80/tcp listed twice in Public_Ports", NULL);
	expect_error("[options]\nPublic_Ports = 0\n", "gk.conf:2: ",
	    "bad port '0' in Public_Ports", NULL);
	/* Neither knocked nor opened, wherever [options] stands; the message
	 * points at Public_Ports. */
	expect_error("[options]\nPublic_Ports = 443, 8000:udp\n"
	    "[a]\nSequence = 7000, 8000:udp\nOpen_Ports = 22\n", "gk.conf:2: ",
	    "port 8000/udp is public but is a knock port of door 'a'",
	    "(allowed: Public_Ports outside every Sequence and Open_Ports)",
	    NULL);
	expect_error("[a]\nSequence = 7000,49000\nOpen_Ports = 22\n\n[options]\n"
	    "Public_Ports = 22\n", "gk.conf:6: ", "port 22/tcp is public but "
	    "is opened by door 'a'", NULL);
	/* Another protocol is another port. */
	parse_ok("[options]\nPublic_Ports = 22:udp, 7000:udp\n" DOOR);
	ck_assert_uint_eq(cfg.opt.public_len, 2);

	off = (size_t)snprintf(text, sizeof(text), "[options]\n"
	    "Public_Ports = 1000");
	for (i = 1; i < CFG_MAX_PUBLIC; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    ",%d", 1000 + i);
	snprintf(text + off, sizeof(text) - off, "\n");
	parse_ok(text);
	ck_assert_uint_eq(cfg.opt.public_len, CFG_MAX_PUBLIC);
	snprintf(text + off, sizeof(text) - off, ",2000\n");
	expect_error(text, "gk.conf:2: ", "too many ports in Public_Ports",
	    "(allowed: at most 64)", NULL);
}
END_TEST

START_TEST(close_doors)
{
	const struct cfg_door *d;

	/* Names resolve after the whole file: later doors too. */
	parse_ok("[closeAll]\nSequence = 9000,8000\nClose = ssh, vpn\n"
	    "[ssh]\nSequence = 7000,49000\nOpen_Ports = 22\nClose = vpn\n"
	    "[vpn]\nSequence = 6000,49000\nOpen_Ports = 51820:udp\n");
	d = door("closeAll");
	ck_assert_uint_eq(d->close_len, 2);
	ck_assert_uint_eq(d->close[0], 1);
	ck_assert_uint_eq(d->close[1], 2);
	ck_assert_uint_eq(d->open_len, 0);	/* closing is its action */
	d = door("ssh");
	ck_assert_uint_eq(d->close_len, 1);
	ck_assert_uint_eq(d->close[0], 2);
	ck_assert_uint_eq(door("vpn")->close_len, 0);

	expect_error(DOOR "Close = d2\n", "gk.conf:4: ",
	    "unknown door 'd2' in Close of door 'd'",
	    "(allowed: names of [door] sections of this file)", NULL);
	/* Case-sensitive, like every door name. */
	expect_error(DOOR "Close = e\n[E]\nSequence = 1,49000\nOpen_Ports = 2\n",
	    "gk.conf:4: ", "unknown door 'e'", NULL);
	expect_error("[x]\nSequence = 1,49000\nClose = x\n", "gk.conf:3: ",
	    "door 'x' closes itself", "(allowed: other doors)", NULL);
	expect_error(DOOR "Close = e, e\n[e]\nSequence = 1,49000\nOpen_Ports = 2\n",
	    "gk.conf:4: ", "door 'e' listed twice in Close",
	    "(allowed: each door once)", NULL);
	ck_assert_uint_eq(cfg.door[0].close_len, 1);
	expect_error(DOOR "Close = e,\n[e]\nSequence = 1,49000\nOpen_Ports = 2\n",
	    "gk.conf:4: ", "empty item in Close", "(allowed: door names "
	    "separated by commas)", NULL);
	expect_error(DOOR "Close = e f\n", "gk.conf:4: ",
	    "bad door name 'e f' in Close", NULL);
	expect_error("[options]\nClose = d\n" DOOR, "gk.conf:2: ",
	    "Close belongs in a door section", NULL);
	expect_error(DOOR "Close =\n", "gk.conf:4: ", "no value for Close",
	    NULL);
	/* A refused section's Close is checked, not resolved. */
	ck_assert_uint_eq(parse("[bad name]\nSequence = 1,49000\nClose = a b, d\n"
	    DOOR), 2);
	assert_has_error("gk.conf:1: ", "bad door name 'bad name'", NULL);
	assert_has_error("gk.conf:3: ", "bad door name 'a b' in Close", NULL);
	ck_assert_uint_eq(cfg.ndoors, 1);
	ck_assert_uint_eq(cfg.door[0].close_len, 0);
	/* Bad names are reported once, and the good ones still resolve. */
	ck_assert_uint_eq(parse("[a]\nSequence = 1,49000\nClose = b, -x-?, zz\n"
	    "[b]\nSequence = 2,49000\nOpen_Ports = 3\n"), 2);
	assert_has_error("gk.conf:3: ", "bad door name '-x-?'", NULL);
	assert_has_error("gk.conf:3: ", "unknown door 'zz'", NULL);
	ck_assert_uint_eq(cfg.door[0].close_len, 1);
	ck_assert_uint_eq(cfg.door[0].close[0], 1);
}
END_TEST

START_TEST(door_monitor)
{
	parse_ok(DOOR "Monitor = yes\n[e]\nSequence = 1,49000\nOpen_Ports = 2\n");
	ck_assert_int_eq(door("d")->monitor, 1);
	ck_assert_int_eq(door("e")->monitor, 0);
	ck_assert_int_eq(cfg.opt.monitor, 0);
	/* [options] and each door have a Monitor of their own. */
	parse_ok("[options]\nMonitor = on\n" DOOR "Monitor = off\n");
	ck_assert_int_eq(cfg.opt.monitor, 1);
	ck_assert_int_eq(door("d")->monitor, 0);
	expect_error(DOOR "Monitor = yes\nmonitor = no\n", "gk.conf:5: ",
	    "duplicate key 'monitor' in door 'd'", NULL);
	expect_error(DOOR "Monitor = sometimes\n", "gk.conf:4: ",
	    "bad value 'sometimes' for Monitor", "(allowed: yes, no", NULL);
	expect_error("[options]\nMonitor = 1\n" DOOR "[options]\n"
	    "Monitor = 0\n", "gk.conf:7: ", "duplicate key 'Monitor' in "
	    "[options]", NULL);
}
END_TEST

START_TEST(set_sequence)
{
	struct cfg_door d;
	char e[CFG_ERR_MAX], text[512];
	size_t off;
	int i;

	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(config_door_set_sequence(&d, "7000,8000:udp , 9000\r\n",
	    22, e, sizeof(e)), 0);
	ck_assert_str_eq(ports(d.seq, d.seq_len), "7000/tcp,8000/udp,9000/tcp");
	ck_assert_str_eq(e, "");
	/* Only len bytes count; leading blanks are fine. */
	ck_assert_int_eq(config_door_set_sequence(&d, "  1:UDP,2,3", 9, e,
	    sizeof(e)), 0);
	ck_assert_str_eq(ports(d.seq, d.seq_len), "1/udp,2/tcp");

	/* Errors are bare (the caller knows file and line); d is kept. */
	ck_assert_int_eq(config_door_set_sequence(&d, "5,70000", 7, e,
	    sizeof(e)), -1);
	ck_assert_str_eq(e, "bad port '70000' in Sequence (allowed: 1-65535, "
	    "optionally :tcp or :udp)");
	ck_assert_str_eq(ports(d.seq, d.seq_len), "1/udp,2/tcp");
	ck_assert_int_eq(config_door_set_sequence(&d, " \r\n", 3, e,
	    sizeof(e)), -1);
	ck_assert_str_eq(e, "empty sequence (allowed: port[:tcp|udp] items "
	    "separated by commas)");
	ck_assert_int_eq(config_door_set_sequence(&d, "1,,2", 4, e,
	    sizeof(e)), -1);
	ck_assert_ptr_nonnull(strstr(e, "empty item in Sequence"));
	/* The first of several errors; a tiny buffer is still a string. */
	ck_assert_int_eq(config_door_set_sequence(&d, "x,y", 3, e, 8), -1);
	ck_assert_str_eq(e, "bad por");
	ck_assert_int_eq(config_door_set_sequence(&d, "x", 1, NULL, 0), -1);
	ck_assert_uint_eq(d.seq_len, 2);

	off = (size_t)snprintf(text, sizeof(text), "1");
	for (i = 2; i <= CFG_MAX_SEQ; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, ",%d",
		    i);
	ck_assert_int_eq(config_door_set_sequence(&d, text, off, e,
	    sizeof(e)), 0);
	ck_assert_uint_eq(d.seq_len, CFG_MAX_SEQ);
	off += (size_t)snprintf(text + off, sizeof(text) - off, ",99");
	ck_assert_int_eq(config_door_set_sequence(&d, text, off, e,
	    sizeof(e)), -1);
	ck_assert_str_eq(e, "too many ports in Sequence (allowed: at most "
	    "32)");
	ck_assert_uint_eq(d.seq_len, CFG_MAX_SEQ);
}
END_TEST

START_TEST(seq_conflict)
{
	struct cfg_door *ot;
	char e[CFG_ERR_MAX];

	parse_ok("[options]\nPublic_Ports = 80\n" DOOR
	    "[ot]\nOne_Time_Sequences = /etc/gk/ot\nOpen_Ports = 23\n");
	ot = &cfg.door[1];
	ck_assert_int_eq(config_door_seq_conflict(&cfg, 1, e, sizeof(e)), 0);
	ck_assert_int_eq(config_door_set_sequence(ot, "1,22:udp,7000", 12, e,
	    sizeof(e)), 0);
	ck_assert_int_eq(config_door_seq_conflict(&cfg, 1, e, sizeof(e)), 0);
	ck_assert_int_eq(config_door_set_sequence(ot, "1,22", 4, e,
	    sizeof(e)), 0);
	ck_assert_int_eq(config_door_seq_conflict(&cfg, 1, e, sizeof(e)), 1);
	ck_assert_str_eq(e, "port 22/tcp of door 'ot''s sequence is opened "
	    "by door 'd' (allowed: knock ports outside every Open_Ports)");
	/* Its own Open_Ports count too. */
	ck_assert_int_eq(config_door_set_sequence(ot, "23", 2, e, sizeof(e)),
	    0);
	ck_assert_int_eq(config_door_seq_conflict(&cfg, 1, e, sizeof(e)), 1);
	ck_assert_ptr_nonnull(strstr(e, "opened by door 'ot'"));
	ck_assert_int_eq(config_door_set_sequence(ot, "2,80", 4, e, sizeof(e)),
	    0);
	ck_assert_int_eq(config_door_seq_conflict(&cfg, 1, e, sizeof(e)), 1);
	ck_assert_str_eq(e, "port 80/tcp of door 'ot''s sequence is public "
	    "(allowed: knock ports outside Public_Ports)");
}
END_TEST

/* --- helpers ------------------------------------------------------------- */

START_TEST(helpers)
{
	struct cfg_port p[3] = {
		{ 7000, IPPROTO_TCP }, { 8000, IPPROTO_UDP }, { 65535,
		    IPPROTO_TCP } };
	char buf[64];
	const struct cfg_door *d;

	ck_assert_str_eq(config_ports_format(p, 2, buf, sizeof(buf)),
	    "7000/tcp,8000/udp");
	ck_assert_str_eq(config_ports_format(p, 3, buf, sizeof(buf)),
	    "7000/tcp,8000/udp,65535/tcp");
	ck_assert_str_eq(config_ports_format(p, 0, buf, sizeof(buf)), "");
	/* Exactly enough room. */
	ck_assert_str_eq(config_ports_format(p, 3, buf, 28),
	    "7000/tcp,8000/udp,65535/tcp");
	ck_assert_str_eq(config_ports_format(p, 1, buf, 9), "7000/tcp");
	/* Cut lists end in "..." and never show half a port. */
	ck_assert_str_eq(config_ports_format(p, 3, buf, 27),
	    "7000/tcp,8000/udp...");
	ck_assert_str_eq(config_ports_format(p, 3, buf, 21),
	    "7000/tcp,8000/udp...");
	ck_assert_str_eq(config_ports_format(p, 3, buf, 20), "7000/tcp...");
	ck_assert_str_eq(config_ports_format(p, 3, buf, 12), "7000/tcp...");
	ck_assert_str_eq(config_ports_format(p, 3, buf, 11), "...");
	ck_assert_str_eq(config_ports_format(p, 1, buf, 8), "...");
	ck_assert_str_eq(config_ports_format(p, 3, buf, 3), "");
	buf[0] = 'z';
	config_ports_format(p, 3, buf, 0);
	ck_assert_int_eq(buf[0], 'z');

	parse_ok("[a]\nSequence = 7000,8000:udp\nOpen_Ports = 22\n"
	    "[b]\nSequence = 9000,49000\nOpen_Ports = 51820:udp\n");
	ck_assert_int_eq(config_door_find(&cfg, "a"), 0);
	ck_assert_int_eq(config_door_find(&cfg, "b"), 1);
	ck_assert_int_eq(config_door_find(&cfg, "c"), -1);
	ck_assert_int_eq(config_door_find(&cfg, "A"), -1);
	ck_assert_int_eq(config_door_find(&cfg, ""), -1);
	ck_assert_int_eq(config_door_find(&cfg, NULL), -1);
	d = &cfg.door[0];
	ck_assert(config_door_in_seq(d, IPPROTO_TCP, 7000));
	ck_assert(config_door_in_seq(d, IPPROTO_UDP, 8000));
	ck_assert(!config_door_in_seq(d, IPPROTO_TCP, 8000));
	ck_assert(!config_door_in_seq(d, IPPROTO_TCP, 22));
	ck_assert(config_door_opens(d, IPPROTO_TCP, 22));
	ck_assert(!config_door_opens(d, IPPROTO_UDP, 22));
	ck_assert(!config_door_opens(d, IPPROTO_TCP, 7000));
	ck_assert(config_door_opens(&cfg.door[1], IPPROTO_UDP, 51820));
}
END_TEST

/* --- fixtures: real configurations load unchanged ------------------------ */

START_TEST(fixture_debian)
{
	const struct cfg_door *d;

	parse_fixture("knockd-debian.conf");
	ck_assert_int_eq(cfg.opt.use_syslog, 1);
	ck_assert_uint_eq(cfg.ndoors, 3);
	d = door("openSSH");
	ck_assert_uint_eq(d->line, 4);
	ck_assert_str_eq(ports(d->seq, d->seq_len),
	    "7000/tcp,8000/tcp,9000/tcp");
	ck_assert_uint_eq(d->seq_timeout, 5);
	ck_assert_uint_eq(d->tcpflags_set, TCPF_SYN);
	ck_assert_uint_eq(d->tcpflags_clear, 0);
	ck_assert_str_eq(d->start_cmd,
	    "/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT");
	ck_assert_str_eq(d->start_cmd6, d->start_cmd);
	d = door("closeSSH");
	ck_assert_str_eq(ports(d->seq, d->seq_len),
	    "9000/tcp,8000/tcp,7000/tcp");
	d = door("openHTTPS");
	ck_assert_str_eq(ports(d->seq, d->seq_len),
	    "12345/tcp,54321/tcp,24680/tcp,13579/tcp");
	ck_assert_str_eq(d->start_cmd,
	    "/usr/local/sbin/knock_add -i -c INPUT -p tcp -d 443 -f %IP%");
}
END_TEST

START_TEST(fixture_cheatsheet)
{
	const struct cfg_door *d;

	parse_fixture("knockd-cheatsheet.conf");
	ck_assert_int_eq(cfg.opt.use_syslog, 1);
	ck_assert_str_eq(cfg.opt.interface, "enp0s2");
	ck_assert_uint_eq(cfg.ndoors, 3);
	ck_assert_str_eq(cfg.door[0].name, "openSSH");
	ck_assert_str_eq(cfg.door[1].name, "closeSSH");
	d = door("openClose7777");
	ck_assert_str_eq(ports(d->seq, d->seq_len),
	    "2222/udp,3333/tcp,4444/udp");
	ck_assert_uint_eq(d->seq_timeout, 15);
	ck_assert_uint_eq(d->cmd_timeout, 10);
	ck_assert_int_eq(d->has_cmd_timeout, 1);
	ck_assert_str_eq(d->start_cmd,
	    "/usr/bin/firewall-cmd --add-port=7777/tcp --zone=public");
	ck_assert_str_eq(d->stop_cmd,
	    "/usr/bin/firewall-cmd --remove-port=7777/tcp --zone=public");
	ck_assert_uint_eq(door("openSSH")->seq_timeout, 10);
}
END_TEST

START_TEST(fixture_setup_python)
{
	const struct cfg_door *d;

	parse_fixture("knockd-setup-and-python-client.conf");
	ck_assert_int_eq(cfg.opt.use_syslog, 1);
	ck_assert_str_eq(cfg.opt.interface, "eth0");
	ck_assert_uint_eq(cfg.ndoors, 1);
	d = door("SSH");
	ck_assert_str_eq(ports(d->seq, d->seq_len), "1111/udp,2222/udp");
	ck_assert_uint_eq(d->seq_timeout, 5);
	ck_assert_uint_eq(d->cmd_timeout, 600);
	ck_assert_ptr_nonnull(strstr(d->start_cmd, "-I INPUT"));
	ck_assert_ptr_nonnull(strstr(d->stop_cmd, "-D INPUT"));
}
END_TEST

START_TEST(fixture_pktables)
{
	const struct cfg_door *d;

	/* A bare door, no [options]. */
	parse_fixture("pktables-readme-ssh.conf");
	ck_assert_uint_eq(cfg.ndoors, 1);
	d = door("opencloseSSH");
	ck_assert_uint_eq(d->line, 2);
	ck_assert_str_eq(ports(d->seq, d->seq_len), "11111/tcp,22222/tcp");
	ck_assert_uint_eq(d->seq_timeout, 10);
	ck_assert_uint_eq(d->tcpflags_set, TCPF_SYN);
	ck_assert_uint_eq(d->cmd_timeout, 30);
	ck_assert_str_eq(d->start_cmd, "pktables add %IP% --service ssh");
	ck_assert_str_eq(d->stop_cmd, "pktables delete %IP% --service ssh");

	parse_fixture("pktables-readme-vpn.conf");
	ck_assert_int_eq(cfg.opt.use_syslog, 1);
	ck_assert_uint_eq(cfg.ndoors, 2);
	d = door("VPNon");
	ck_assert_str_eq(ports(d->seq, d->seq_len), "7000/udp,9001/udp");
	ck_assert_uint_eq(d->seq_timeout, 2);
	ck_assert_str_eq(d->start_cmd, "pktables add --service isakmp %IP% ; "
	    "pktables add --service ipsec %IP%");
	d = door("VPNoff");
	ck_assert_str_eq(ports(d->seq, d->seq_len), "7001/udp,9002/udp");
}
END_TEST

START_TEST(fixture_manpage)
{
	const struct cfg_door *d;

	parse_fixture("knockd-manpage.conf");
	ck_assert_str_eq(cfg.opt.log_file, "/var/log/knockd.log");
	ck_assert_uint_eq(cfg.ndoors, 4);
	d = door("opencloseSSH");
	ck_assert_uint_eq(d->tcpflags_set, TCPF_SYN | TCPF_ACK);
	ck_assert_uint_eq(d->cmd_timeout, 5);
	d = door("opencloseSMTP");
	ck_assert_uint_eq(d->seq_len, 0);
	ck_assert_str_eq(d->one_time_file, "/etc/knockd/smtp_sequences");
	ck_assert_uint_eq(d->tcpflags_set, TCPF_FIN);
	ck_assert_uint_eq(d->tcpflags_clear, TCPF_ACK);
	ck_assert_ptr_nonnull(strstr(d->start_cmd6, "ip6tables -A"));
	ck_assert_ptr_nonnull(strstr(d->stop_cmd6, "ip6tables -D"));
	ck_assert_ptr_nonnull(strstr(d->start_cmd, "iptables -A"));
}
END_TEST

/* What `make install` puts in /etc: it must load, and start harmless. */
START_TEST(installed_starter_config)
{
	parse_fixture("../../systemd/gatekeeper.conf");
	ck_assert_int_eq(cfg.opt.monitor, 1);
	ck_assert_uint_eq(cfg.ndoors, 1);
	ck_assert(config_door_opens(&cfg.door[0], IPPROTO_TCP, 22));
}
END_TEST

START_TEST(fixture_example)
{
	const struct cfg_door *d;
	char buf[ADDR_STRLEN];

	parse_fixture("example.conf");
	ck_assert_int_eq(cfg.opt.use_syslog, 1);
	ck_assert_str_eq(cfg.opt.interface, "eth0");
	ck_assert_uint_eq(cfg.opt.queue, 7);
	ck_assert_uint_eq(cfg.opt.max_sources, 8192);
	ck_assert_uint_eq(cfg.opt.allow_len, 3);
	ck_assert_str_eq(addr_format(&cfg.opt.allow[1].net, buf, sizeof(buf)),
	    "2001:db8::");
	ck_assert_uint_eq(cfg.ndoors, 3);
	d = door("openSSH");
	ck_assert_str_eq(ports(d->seq, d->seq_len),
	    "7000/tcp,8000/udp,9000/tcp");
	ck_assert_str_eq(ports(d->open, d->open_len), "22/tcp");
	ck_assert_uint_eq(d->open_timeout, 30);
	ck_assert_uint_eq(d->tcpflags_set, TCPF_SYN);
	ck_assert_uint_eq(d->tcpflags_clear, TCPF_ACK);
	ck_assert_str_eq(d->start_cmd, "");
	d = door("wireguard");
	ck_assert_str_eq(ports(d->open, d->open_len), "51820/udp");
	ck_assert_uint_eq(d->open_timeout, 120);
	ck_assert_uint_eq(d->seq_timeout, CFG_DEF_SEQ_TIMEOUT);
	d = door("web-admin");
	ck_assert_str_eq(ports(d->open, d->open_len), "8443/tcp,8443/udp");
	ck_assert_uint_eq(d->open_timeout, 60);	/* from Cmd_Timeout */
	ck_assert_ptr_nonnull(strstr(d->start_cmd, "\"web-admin opened for "
	    "%IP%\""));
}
END_TEST

START_TEST(fixture_full)
{
	const struct cfg_door *d;

	parse_fixture("gatekeeper-full.conf");
	ck_assert_uint_eq(cfg.opt.queue, 7);
	ck_assert_uint_eq(cfg.opt.protected_queue, 9);
	ck_assert_str_eq(cfg.opt.control_group, "gk-admin");
	ck_assert_str_eq(cfg.opt.user, "gatekeeper");
	ck_assert_str_eq(cfg.opt.command_user, "fwcmd");
	ck_assert_int_eq(cfg.opt.ruleset_external, 1);
	ck_assert_int_eq(cfg.opt.monitor, 0);
	ck_assert_int_eq(cfg.opt.log_refused, 1);
	ck_assert_str_eq(cfg.opt.log_prefix, "GK-REFUSED");
	ck_assert_uint_eq(cfg.opt.log_rate_n, 30);
	ck_assert_uint_eq(cfg.opt.log_rate_period, 60);
	ck_assert_uint_eq(cfg.opt.log_burst, 10);
	ck_assert_int_eq(cfg.opt.scan_guard, 1);
	ck_assert_str_eq(ports(cfg.opt.public_ports, cfg.opt.public_len),
	    "80/tcp,443/tcp,443/udp");
	ck_assert_uint_eq(cfg.opt.lockout_after, 3);
	ck_assert_uint_eq(cfg.opt.lockout_time, 300);
	d = door("closeSSH");
	ck_assert_uint_eq(d->close_len, 2);
	ck_assert_str_eq(cfg.door[d->close[0]].name, "openSSH");
	ck_assert_str_eq(cfg.door[d->close[1]].name, "smtp");
	ck_assert_uint_eq(d->open_len, 0);
	d = door("smtp");
	ck_assert_int_eq(d->monitor, 1);
	ck_assert_uint_eq(d->seq_len, 0);
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, no_door_no_config);
	tcase_add_test(tc, allow_covering_everything);
	tcase_add_test(tc, unprotected_by_reload);
	tcase_add_test(tc, door_defaults);
	tcase_add_test(tc, reparse_resets);
	tcase_add_test(tc, options_all);
	tcase_add_test(tc, options_limits);
	tcase_add_test(tc, usesyslog_values);
	tcase_add_test(tc, options_bad_numbers);
	tcase_add_test(tc, paths);
	tcase_add_test(tc, interface);
	tcase_add_test(tc, allow);
	tcase_add_test(tc, door_all_keys);
	tcase_add_test(tc, door_aliases);
	tcase_add_test(tc, one_time_sequences);
	tcase_add_test(tc, timeouts);
	tcase_add_test(tc, open_timeout_fallback);
	tcase_add_test(tc, sequence_syntax);
	tcase_add_test(tc, bad_ports);
	tcase_add_test(tc, open_ports);
	tcase_add_test(tc, tcpflags);
	tcase_add_test(tc, target);
	tcase_add_test(tc, commands);
	tcase_add_test(tc, case_insensitive);
	tcase_add_test(tc, comments_blanks_crlf);
	tcase_add_test(tc, not_nul_terminated);
	tcase_add_test(tc, key_before_section);
	tcase_add_test(tc, unknown_keys);
	tcase_add_test(tc, wrong_section);
	tcase_add_test(tc, missing_value);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, section_headers);
	tcase_add_test(tc, duplicate_doors);
	tcase_add_test(tc, refused_section_still_checked);
	tcase_add_test(tc, too_many_doors);
	tcase_add_test(tc, scan_walkable_sequences);
	tcase_add_test(tc, allow_narrowing);
	tcase_add_test(tc, knock_reply_and_loopback);
	tcase_add_test(tc, door_needs_sequence);
	tcase_add_test(tc, door_does_nothing);
	tcase_add_test(tc, knock_open_overlap);
	tcase_add_test(tc, many_errors_collected);
	tcase_add_test(tc, messages_bounded);
	tcase_add_test(tc, noise);
	tcase_add_test(tc, options_later_keys);
	tcase_add_test(tc, booleans);
	tcase_add_test(tc, user_names);
	tcase_add_test(tc, log_prefix);
	tcase_add_test(tc, log_rate);
	tcase_add_test(tc, protected_queue);
	tcase_add_test(tc, public_ports);
	tcase_add_test(tc, close_doors);
	tcase_add_test(tc, door_monitor);
	tcase_add_test(tc, set_sequence);
	tcase_add_test(tc, seq_conflict);
	tcase_add_test(tc, helpers);
	tcase_add_test(tc, fixture_debian);
	tcase_add_test(tc, fixture_cheatsheet);
	tcase_add_test(tc, fixture_setup_python);
	tcase_add_test(tc, fixture_pktables);
	tcase_add_test(tc, fixture_manpage);
	tcase_add_test(tc, fixture_example);
	tcase_add_test(tc, installed_starter_config);
	tcase_add_test(tc, fixture_full);
	suite_add_tcase(s, tc);
	return s;
}
