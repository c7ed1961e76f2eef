/*
 * Fuzz target for config_parse(): arbitrary bytes as a configuration file.
 *
 * The buffer is passed as is, not NUL-terminated, so a parser that runs past
 * its end is caught by ASan.  Checked for every input:
 *  - every kept error message is NUL-terminated inside its slot, starts
 *    with "<file>:<line>: " for a line that exists, and is printable ASCII
 *    (untrusted text is quoted, so a file cannot inject into logs);
 *  - on 0 errors the configuration is sane: counts within their limits,
 *    names and strings NUL-terminated, door names from the allowed set and
 *    unique, ports nonzero with proto TCP or UDP, timeouts in range, a door
 *    knocks (Sequence xor One_Time_Sequences) and does something, no opened
 *    port is a knock port, paths absolute, Allow prefixes in range;
 *  - config_door_find() finds every door; config_ports_format() stays
 *    inside a small buffer; config_door_seq_conflict() finds nothing in a
 *    file that parsed;
 *  - config_door_set_sequence() on the same bytes (the One_Time_Sequences
 *    line grammar): on success 1..CFG_MAX_SEQ sane ports, on failure a
 *    message and the door unchanged.
 */
#include <string.h>
#include <strings.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "config.h"
#include "fuzz.h"

#define FILE_NAME	"fuzz.conf"

static struct config cfg;
static struct cfg_errors err;
static char msg[CFG_ERR_MAX];
/* Printable ASCII, for strspn(). */
static char printable[0x7f - 0x20 + 1];

/* NUL-terminated within size bytes. */
static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
check_path(const char *s, size_t size)
{
	FUZZ_CHECK(terminated(s, size));
	FUZZ_CHECK(s[0] == '\0' || s[0] == '/');
}

static void
check_ports(const struct cfg_port *p, unsigned n, unsigned max, int unique)
{
	char buf[40];
	unsigned i, j;

	FUZZ_CHECK(n <= max);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(p[i].port != 0);
		FUZZ_CHECK(p[i].proto == IPPROTO_TCP ||
		    p[i].proto == IPPROTO_UDP);
		for (j = 0; unique && j < i; j++)
			FUZZ_CHECK(p[j].port != p[i].port ||
			    p[j].proto != p[i].proto);
	}
	/* A buffer too small for most lists: cut, never overrun. */
	memset(buf, 'x', sizeof(buf));
	config_ports_format(p, n, buf, sizeof(buf) - 8);
	FUZZ_CHECK(terminated(buf, sizeof(buf) - 8));
	for (i = sizeof(buf) - 8; i < sizeof(buf); i++)
		FUZZ_CHECK(buf[i] == 'x');
}

static void
check_door(unsigned idx)
{
	const struct cfg_door *d = &cfg.door[idx];
	size_t i, len;
	unsigned j, k;
	char c;

	FUZZ_CHECK(terminated(d->name, sizeof(d->name)));
	len = strlen(d->name);
	FUZZ_CHECK(len > 0);
	for (i = 0; i < len; i++) {
		c = d->name[i];
		FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-');
	}
	/* "[options]", in any case, is the options section. */
	FUZZ_CHECK(strcasecmp(d->name, "options") != 0);
	FUZZ_CHECK(config_door_find(&cfg, d->name) == (int)idx);
	FUZZ_CHECK(d->line >= 1);

	check_ports(d->seq, d->seq_len, CFG_MAX_SEQ, 0);
	check_ports(d->open, d->open_len, CFG_MAX_OPEN, 1);
	check_path(d->one_time_file, sizeof(d->one_time_file));
	/* Exactly one way to knock. */
	FUZZ_CHECK((d->seq_len > 0) != (d->one_time_file[0] != '\0'));
	FUZZ_CHECK(terminated(d->start_cmd, sizeof(d->start_cmd)));
	FUZZ_CHECK(terminated(d->start_cmd6, sizeof(d->start_cmd6)));
	FUZZ_CHECK(terminated(d->stop_cmd, sizeof(d->stop_cmd)));
	FUZZ_CHECK(terminated(d->stop_cmd6, sizeof(d->stop_cmd6)));
	/* A door opens ports, runs a command or closes doors. */
	FUZZ_CHECK(d->open_len > 0 || d->start_cmd[0] != '\0' ||
	    d->start_cmd6[0] != '\0' || d->close_len > 0);
	FUZZ_CHECK(d->close_len <= CFG_MAX_DOORS);
	for (j = 0; j < d->close_len; j++) {
		FUZZ_CHECK(d->close[j] < cfg.ndoors && d->close[j] != idx);
		for (k = 0; k < j; k++)
			FUZZ_CHECK(d->close[k] != d->close[j]);
	}
	FUZZ_CHECK(d->monitor == 0 || d->monitor == 1);
	FUZZ_CHECK(d->seq_timeout >= 1 && d->seq_timeout <= CFG_LIM_TIMEOUT);
	FUZZ_CHECK(d->cmd_timeout >= 1 && d->cmd_timeout <= CFG_LIM_TIMEOUT);
	FUZZ_CHECK(d->open_timeout >= 1 &&
	    d->open_timeout <= CFG_LIM_TIMEOUT);
	FUZZ_CHECK((d->tcpflags_set & d->tcpflags_clear) == 0);
	FUZZ_CHECK(d->target.family == 0 || d->target.family == AF_INET ||
	    d->target.family == AF_INET6);
	/* No opened port is a knock port of any door. */
	for (j = 0; j < d->open_len; j++)
		for (k = 0; k < cfg.ndoors; k++)
			FUZZ_CHECK(!config_door_in_seq(&cfg.door[k],
			    d->open[j].proto, d->open[j].port));
	for (j = 0; j < d->seq_len; j++)
		FUZZ_CHECK(config_door_in_seq(d, d->seq[j].proto,
		    d->seq[j].port));
	for (j = 0; j < d->open_len; j++)
		FUZZ_CHECK(config_door_opens(d, d->open[j].proto,
		    d->open[j].port));
	/* Knock ports are neither opened nor public. */
	FUZZ_CHECK(config_door_seq_conflict(&cfg, idx, msg, sizeof(msg)) ==
	    0);
}

/* A user or group name as set_name() takes it: empty (unset), or
 * [a-z_][a-z0-9_-]* of at most CFG_USER_MAX - 1 characters. */
static void
check_user(const char *s)
{
	size_t i, n;

	FUZZ_CHECK(terminated(s, CFG_USER_MAX));
	n = strlen(s);
	if (n == 0)
		return;
	FUZZ_CHECK((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_');
	i = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");
	FUZZ_CHECK(i == n);
}

static void
check_config(void)
{
	const struct cfg_options *o = &cfg.opt;
	const struct cidr *a;
	unsigned i, j;

	FUZZ_CHECK(cfg.ndoors <= CFG_MAX_DOORS);
	for (i = 0; i < cfg.ndoors; i++)
		check_door(i);

	check_path(o->log_file, sizeof(o->log_file));
	check_path(o->pid_file, sizeof(o->pid_file));
	check_path(o->state_file, sizeof(o->state_file));
	check_path(o->control_socket, sizeof(o->control_socket));
	FUZZ_CHECK(o->state_file[0] != '\0');
	FUZZ_CHECK(o->control_socket[0] != '\0');
	FUZZ_CHECK(terminated(o->interface, sizeof(o->interface)));
	FUZZ_CHECK(strchr(o->interface, '/') == NULL);
	FUZZ_CHECK(o->queue <= 65535);
	FUZZ_CHECK(o->max_sources >= 1 &&
	    o->max_sources <= CFG_LIM_MAX_SOURCES);
	FUZZ_CHECK(o->use_syslog == 0 || o->use_syslog == 1);
	FUZZ_CHECK(o->monitor == 0 || o->monitor == 1);
	FUZZ_CHECK(o->ruleset_external == 0 || o->ruleset_external == 1);
	FUZZ_CHECK(o->log_refused == 0 || o->log_refused == 1);
	FUZZ_CHECK(o->scan_guard == 0 || o->scan_guard == 1);
	FUZZ_CHECK(o->protected_queue <= 65535);
	FUZZ_CHECK(o->protected_queue != o->queue);
	check_user(o->control_group);
	check_user(o->user);
	check_user(o->command_user);
	/* Log_Prefix goes into log lines: printable, no quotes. */
	FUZZ_CHECK(terminated(o->log_prefix, sizeof(o->log_prefix)));
	FUZZ_CHECK(o->log_prefix[strspn(o->log_prefix, printable)] == '\0');
	FUZZ_CHECK(strpbrk(o->log_prefix, "\"'") == NULL);
	FUZZ_CHECK(o->log_rate_n >= 1 && o->log_rate_n <= CFG_LIM_LOG_RATE);
	FUZZ_CHECK(o->log_rate_period == 1 || o->log_rate_period == 60 ||
	    o->log_rate_period == 3600 || o->log_rate_period == 86400);
	FUZZ_CHECK(o->log_burst >= 1 && o->log_burst <= CFG_LIM_LOG_BURST);
	FUZZ_CHECK(o->lockout_after <= CFG_LIM_LOCKOUT_AFTER);
	FUZZ_CHECK(o->lockout_time >= 1 &&
	    o->lockout_time <= CFG_LIM_TIMEOUT);
	/* Public ports are neither knocked nor opened by any door. */
	check_ports(o->public_ports, o->public_len, CFG_MAX_PUBLIC, 1);
	for (i = 0; i < o->public_len; i++)
		for (j = 0; j < cfg.ndoors; j++) {
			FUZZ_CHECK(!config_door_in_seq(&cfg.door[j],
			    o->public_ports[i].proto, o->public_ports[i].port));
			FUZZ_CHECK(!config_door_opens(&cfg.door[j],
			    o->public_ports[i].proto, o->public_ports[i].port));
		}
	FUZZ_CHECK(o->allow_len <= CFG_MAX_ALLOW);
	for (i = 0; i < o->allow_len; i++) {
		a = &o->allow[i];
		FUZZ_CHECK(a->net.family == AF_INET ||
		    a->net.family == AF_INET6);
		FUZZ_CHECK(a->prefix <= (a->net.family == AF_INET ? 32 : 128));
		/* Host bits are zero: the prefix matches its own address. */
		FUZZ_CHECK(cidr_match(a, &a->net));
		for (j = a->prefix; j < 128; j++)
			FUZZ_CHECK((a->net.b[j / 8] & (0x80u >> (j % 8))) == 0);
	}
}

/* Lines in the input, as config_parse() counts them. */
static unsigned
count_lines(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;
	unsigned n = 1;

	/* libc's memchr: not instrumented, so cheap per execution. */
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p = nl + 1;
	}
	return n;
}

static void
check_errors(const uint8_t *data, size_t size, unsigned nerr)
{
	static const char prefix[] = FILE_NAME ":";
	unsigned i, kept, lines;
	unsigned long line;
	const char *m;
	char *end;

	FUZZ_CHECK(nerr == err.n);
	kept = nerr < CFG_MAX_ERRORS ? nerr : CFG_MAX_ERRORS;
	lines = count_lines(data, size);
	for (i = 0; i < kept; i++) {
		m = err.msg[i];
		FUZZ_CHECK(terminated(m, CFG_ERR_MAX));
		FUZZ_CHECK(strncmp(m, prefix, sizeof(prefix) - 1) == 0);
		line = strtoul(m + sizeof(prefix) - 1, &end, 10);
		FUZZ_CHECK(end != m + sizeof(prefix) - 1);
		FUZZ_CHECK(line >= 1 && line <= lines);
		FUZZ_CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
		FUZZ_CHECK(m[strspn(m, printable)] == '\0');
	}
	/* Unused slots stay empty. */
	if (i < CFG_MAX_ERRORS)
		FUZZ_CHECK(err.msg[i][0] == '\0' &&
		    err.msg[CFG_MAX_ERRORS - 1][0] == '\0');
}

/* The same bytes as one line of a One_Time_Sequences file. */
static void
check_set_sequence(const uint8_t *data, size_t size)
{
	static struct cfg_door d, before;
	char e[CFG_ERR_MAX + 8];

	memset(&d, 0, sizeof(d));
	d.seq_len = 1;
	d.seq[0].port = 1;
	d.seq[0].proto = IPPROTO_TCP;
	before = d;
	memset(e, 'x', sizeof(e));
	if (config_door_set_sequence(&d, (const char *)data, size, e,
	    CFG_ERR_MAX) == 0) {
		FUZZ_CHECK(d.seq_len >= 1);
		check_ports(d.seq, d.seq_len, CFG_MAX_SEQ, 0);
		return;
	}
	FUZZ_CHECK(memcmp(&d, &before, sizeof(d)) == 0);
	FUZZ_CHECK(terminated(e, CFG_ERR_MAX) && e[0] != '\0');
	FUZZ_CHECK(memcmp(e + CFG_ERR_MAX, "xxxxxxxx", 8) == 0);
	FUZZ_CHECK(e[strspn(e, printable)] == '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned n;
	size_t i;

	if (printable[0] == '\0')
		for (i = 0; i < sizeof(printable) - 1; i++)
			printable[i] = (char)(0x20 + i);
	n = config_parse((const char *)data, size, FILE_NAME, &cfg, &err);
	check_errors(data, size, n);
	if (n == 0)
		check_config();
	check_set_sequence(data, size);
	return 0;
}
