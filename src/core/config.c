/* config: knockd-compatible configuration parser (pure).
 *
 * The caller reads the file; we get a buffer that need not be NUL-terminated.
 * Lines and values are handled as (pointer, length) spans, so no line is ever
 * copied whole and no line is too long.  Parsing goes on after an error, so a
 * single run reports every mistake in the file, each as
 * "file:line: what is wrong (what is allowed)". */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "pkt.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

/* Longest user name and Log_Prefix, as literals for STR(). */
#define NAME_LEN	31
#define PREFIX_LEN	29
_Static_assert(NAME_LEN == CFG_USER_MAX - 1, "NAME_LEN");
_Static_assert(PREFIX_LEN == CFG_PREFIX_MAX - 1, "PREFIX_LEN");

struct span {
	const char *p;
	size_t n;
};

enum key_id {
	/* [options] */
	K_USESYSLOG, K_LOGFILE, K_PIDFILE, K_INTERFACE, K_QUEUE,
	K_PROTECTED_QUEUE, K_CONTROL_SOCKET, K_CONTROL_GROUP, K_STATE_FILE,
	K_MAX_SOURCES, K_ALLOW, K_MONITOR, K_RULESET, K_USER, K_COMMAND_USER,
	K_LOG_REFUSED, K_LOG_PREFIX, K_LOG_RATE, K_LOG_BURST, K_SCAN_GUARD,
	K_PUBLIC_PORTS, K_LOCKOUT_AFTER, K_LOCKOUT_TIME, K_KNOCK_REPLY,
	K_GATE_LOOPBACK, K_SPA_PORT, K_SPA_MAX_AGE, K_SPA_REPLAY,
	K_FWKNOP_ACCESS, K_FWKNOP_PORTS,
	/* doors */
	K_SEQUENCE, K_ONE_TIME, K_SEQ_TIMEOUT, K_TCPFLAGS, K_START, K_START6,
	K_STOP, K_STOP6, K_CMD_TIMEOUT, K_TARGET, K_OPEN_PORTS, K_OPEN_TIMEOUT,
	K_CLOSE, K_DOOR_MONITOR, K_SPA_KEY, K_SPA_KEY64, K_SPA_HMAC,
	K_SPA_HMAC64, K_SPA_DIGEST, K_SPA_MAX_TIMEOUT, K_SPA_SOURCE_MATCH,
	K_SPA_USERS, K_SPA_NO_HMAC,
	K_COUNT
};
#define K_FIRST_DOOR	K_SEQUENCE

/* Canonical spelling, used in messages whatever case the file used. */
static const char *const key_name[K_COUNT] = {
	[K_USESYSLOG] = "UseSyslog",
	[K_LOGFILE] = "LogFile",
	[K_PIDFILE] = "PidFile",
	[K_INTERFACE] = "Interface",
	[K_QUEUE] = "Queue",
	[K_PROTECTED_QUEUE] = "Protected_Queue",
	[K_CONTROL_SOCKET] = "Control_Socket",
	[K_CONTROL_GROUP] = "Control_Group",
	[K_STATE_FILE] = "State_File",
	[K_MAX_SOURCES] = "Max_Sources",
	[K_ALLOW] = "Allow",
	[K_MONITOR] = "Monitor",
	[K_RULESET] = "Ruleset",
	[K_USER] = "User",
	[K_COMMAND_USER] = "Command_User",
	[K_LOG_REFUSED] = "Log_Refused",
	[K_LOG_PREFIX] = "Log_Prefix",
	[K_LOG_RATE] = "Log_Rate",
	[K_LOG_BURST] = "Log_Burst",
	[K_SCAN_GUARD] = "Scan_Guard",
	[K_PUBLIC_PORTS] = "Public_Ports",
	[K_LOCKOUT_AFTER] = "Lockout_After",
	[K_LOCKOUT_TIME] = "Lockout_Time",
	[K_KNOCK_REPLY] = "Knock_Reply",
	[K_GATE_LOOPBACK] = "Gate_Loopback",
	[K_SPA_PORT] = "SPA_Port",
	[K_SPA_MAX_AGE] = "SPA_Max_Age",
	[K_SPA_REPLAY] = "SPA_Replay_Cache",
	[K_FWKNOP_ACCESS] = "Fwknop_Access",
	[K_FWKNOP_PORTS] = "Fwknop_Open_Ports",
	[K_SEQUENCE] = "Sequence",
	[K_ONE_TIME] = "One_Time_Sequences",
	[K_SEQ_TIMEOUT] = "Seq_Timeout",
	[K_TCPFLAGS] = "TCPFlags",
	[K_START] = "Start_Command",
	[K_START6] = "Start_Command_6",
	[K_STOP] = "Stop_Command",
	[K_STOP6] = "Stop_Command_6",
	[K_CMD_TIMEOUT] = "Cmd_Timeout",
	[K_TARGET] = "Target",
	[K_OPEN_PORTS] = "Open_Ports",
	[K_OPEN_TIMEOUT] = "Open_Timeout",
	[K_CLOSE] = "Close",
	[K_DOOR_MONITOR] = "Monitor",	/* a door's; see key_lookup() */
	[K_SPA_KEY] = "SPA_Key",
	[K_SPA_KEY64] = "SPA_Key_Base64",
	[K_SPA_HMAC] = "SPA_HMAC_Key",
	[K_SPA_HMAC64] = "SPA_HMAC_Key_Base64",
	[K_SPA_DIGEST] = "SPA_HMAC_Digest",
	[K_SPA_MAX_TIMEOUT] = "SPA_Max_Timeout",
	[K_SPA_SOURCE_MATCH] = "SPA_Source_Match",
	[K_SPA_USERS] = "SPA_Users",
	[K_SPA_NO_HMAC] = "SPA_Allow_No_HMAC",
};

#define HINT_TIMEOUT	"1-" STR(CFG_LIM_TIMEOUT) " seconds"
#define HINT_PORTS	"port[:tcp|udp] items separated by commas"
#define HINT_FLAGS	"fin, syn, rst, psh, ack, urg, each optionally " \
			"negated with '!', separated by commas"
#define HINT_BOOL	"yes, no, true, false, on, off, 1 or 0"
#define HINT_NAME	"1-" STR(NAME_LEN) " characters out of " \
			"a-z 0-9 _ -, not starting with a digit or '-'"

/* What a value looks like, for the "(allowed: ...)" part of messages. */
static const char *const key_hint[K_COUNT] = {
	[K_USESYSLOG] = HINT_BOOL "; or UseSyslog alone",
	[K_LOGFILE] = "an absolute path",
	[K_PIDFILE] = "an absolute path",
	[K_INTERFACE] = "an interface name of 1-15 characters, or a prefix "
	    "ending in '*'",
	[K_QUEUE] = "0-65535",
	[K_PROTECTED_QUEUE] = "0-65535, not Queue's number",
	[K_CONTROL_SOCKET] = "an absolute path",
	[K_CONTROL_GROUP] = "a group name: " HINT_NAME,
	[K_STATE_FILE] = "an absolute path",
	[K_MAX_SOURCES] = "1-" STR(CFG_LIM_MAX_SOURCES),
	[K_ALLOW] = "address[/prefix] items separated by commas",
	[K_MONITOR] = HINT_BOOL,
	[K_RULESET] = "install or external",
	[K_USER] = "a user name: " HINT_NAME,
	[K_COMMAND_USER] = "a user name: " HINT_NAME,
	[K_LOG_REFUSED] = HINT_BOOL,
	[K_LOG_PREFIX] = "1-" STR(PREFIX_LEN) " printable "
	    "characters, no quotes",
	[K_LOG_RATE] = "N[/second|/minute|/hour|/day], N 1-"
	    STR(CFG_LIM_LOG_RATE),
	[K_LOG_BURST] = "1-" STR(CFG_LIM_LOG_BURST),
	[K_SCAN_GUARD] = HINT_BOOL,
	[K_PUBLIC_PORTS] = HINT_PORTS,
	[K_LOCKOUT_AFTER] = "0-" STR(CFG_LIM_LOCKOUT_AFTER) " failed "
	    "attempts; 0 never locks out",
	[K_LOCKOUT_TIME] = HINT_TIMEOUT,
	[K_KNOCK_REPLY] = "closed (answered as a closed port) or drop (silence)",
	[K_GATE_LOOPBACK] = HINT_BOOL,
	[K_SPA_PORT] = "UDP port numbers 1-65535 separated by commas",
	[K_SPA_MAX_AGE] = "1-3600 seconds",
	[K_SPA_REPLAY] = "16-" STR(CFG_LIM_SPA_REPLAY) " packets",
	[K_FWKNOP_ACCESS] = "an absolute path",
	[K_FWKNOP_PORTS] = HINT_PORTS,
	[K_SEQUENCE] = HINT_PORTS,
	[K_ONE_TIME] = "an absolute path",
	[K_SEQ_TIMEOUT] = HINT_TIMEOUT,
	[K_TCPFLAGS] = HINT_FLAGS,
	[K_START] = "a command",
	[K_START6] = "a command, or nothing",
	[K_STOP] = "a command",
	[K_STOP6] = "a command, or nothing",
	[K_CMD_TIMEOUT] = HINT_TIMEOUT,
	[K_TARGET] = "an IPv4 or IPv6 address",
	[K_OPEN_PORTS] = HINT_PORTS,
	[K_OPEN_TIMEOUT] = HINT_TIMEOUT,
	[K_CLOSE] = "door names separated by commas",
	[K_DOOR_MONITOR] = HINT_BOOL,
	[K_SPA_KEY] = "1-32 characters",
	[K_SPA_KEY64] = "base64 of 1-32 bytes",
	[K_SPA_HMAC] = "1-128 characters",
	[K_SPA_HMAC64] = "base64 of 1-128 bytes",
	[K_SPA_DIGEST] = "md5, sha1, sha256, sha384, sha512, sha3_256 or "
	    "sha3_512",
	[K_SPA_MAX_TIMEOUT] = HINT_TIMEOUT,
	[K_SPA_SOURCE_MATCH] = HINT_BOOL,
	[K_SPA_USERS] = "user names separated by commas",
	[K_SPA_NO_HMAC] = HINT_BOOL,
};

/* knockd's other spellings. */
static const struct {
	const char *name;
	enum key_id id;
} key_alias[] = {
	{ "Timeout", K_SEQ_TIMEOUT },
	{ "Command", K_START },
	{ "Command_6", K_START6 },
};

#define OPTION_KEYS	"UseSyslog, LogFile, PidFile, Interface, Queue, " \
			"Protected_Queue, Control_Socket, Control_Group, " \
			"State_File, Max_Sources, Allow, Monitor, Ruleset, " \
			"User, Command_User, Log_Refused, Log_Prefix, " \
			"Log_Rate, Log_Burst, Scan_Guard, Public_Ports, " \
			"Lockout_After, Lockout_Time, Knock_Reply, " \
			"Gate_Loopback, SPA_Port, SPA_Max_Age, " \
			"SPA_Replay_Cache, Fwknop_Access, Fwknop_Open_Ports"
#define DOOR_KEYS	"Sequence, One_Time_Sequences, Seq_Timeout, " \
			"TCPFlags, Start_Command, Start_Command_6, " \
			"Stop_Command, Stop_Command_6, Cmd_Timeout, Target, " \
			"Open_Ports, Open_Timeout, Close, Monitor, SPA_Key, " \
			"SPA_Key_Base64, SPA_HMAC_Key, SPA_HMAC_Key_Base64, " \
			"SPA_HMAC_Digest, SPA_Max_Timeout, SPA_Source_Match, " \
			"SPA_Users, SPA_Allow_No_HMAC"

static const struct {
	const char *name;
	uint8_t bit;
} tcp_flag[] = {
	{ "fin", TCPF_FIN }, { "syn", TCPF_SYN }, { "rst", TCPF_RST },
	{ "psh", TCPF_PSH }, { "ack", TCPF_ACK }, { "urg", TCPF_URG },
};

enum section { SEC_NONE, SEC_OPTIONS, SEC_DOOR };

struct parser {
	const char *file;
	struct config *cfg;
	struct cfg_errors *err;
	unsigned line;
	enum section sec;
	struct cfg_door *door;		/* current door: in cfg, or &scratch */
	int stored;			/* door is one of cfg's */
	unsigned seen[K_COUNT];		/* line each key was set on; 0: not */
	uint8_t valid[K_COUNT];		/* ... and its value was good */
	int start6_empty;		/* "Start_Command_6 =": do nothing */
	/* Close names other doors, maybe later ones: kept until the end. */
	struct span close_val[CFG_MAX_DOORS];
	unsigned close_line[CFG_MAX_DOORS];
	/* config_door_set_sequence(): no file, no list; the first message
	 * goes to msg1, bare. */
	char *msg1;
	size_t msg1len;
	unsigned nbare;
	/* A section we refuse (bad or duplicate name, too many doors) is
	 * still parsed, into here, so its other mistakes get reported. */
	struct cfg_door scratch;
};

/* Quote-size for untrusted text in messages: enough to recognise it. */
#define QUOTE_MAX	52

static void config_error(struct parser *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void config_warn(struct parser *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
config_warn(struct parser *p, unsigned line, const char *fmt, ...)
{
	struct config *cfg = p->cfg;
	va_list ap;
	int n;

	if (cfg->nwarn >= CFG_MAX_WARN)
		return;
	n = snprintf(cfg->warn[cfg->nwarn], CFG_ERR_MAX, "%s:%u: ", p->file,
	    line);
	if (n > 0 && (size_t)n < CFG_ERR_MAX) {
		va_start(ap, fmt);
		vsnprintf(cfg->warn[cfg->nwarn] + n, CFG_ERR_MAX - (size_t)n,
		    fmt, ap);
		va_end(ap);
	}
	cfg->nwarn++;
}

static void
config_error(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char *m;
	size_t len = 0;
	int n;

	if (p->err == NULL) {
		if (p->nbare++ == 0 && p->msg1len > 0) {
			va_start(ap, fmt);
			vsnprintf(p->msg1, p->msg1len, fmt, ap);
			va_end(ap);
		}
		return;
	}
	/* Count them all, keep the first CFG_MAX_ERRORS. */
	if (p->err->n++ >= CFG_MAX_ERRORS)
		return;
	m = p->err->msg[p->err->n - 1];
	n = snprintf(m, CFG_ERR_MAX, "%s:%u: ", p->file, line);
	if (n > 0)
		len = (size_t)n;
	if (len < CFG_ERR_MAX) {
		va_start(ap, fmt);
		n = vsnprintf(m + len, CFG_ERR_MAX - len, fmt, ap);
		va_end(ap);
		if (n > 0)
			len += (size_t)n;
	}
	/* Show that a message was cut rather than let it end mid-word. */
	if (len >= CFG_ERR_MAX)
		memcpy(m + CFG_ERR_MAX - 4, "...", 4);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_ctrl(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f;
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static struct span
span_make(const char *b, const char *e)
{
	struct span s = { b, (size_t)(e - b) };

	return s;
}

static struct span
span_trim(struct span s)
{
	while (s.n > 0 && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Case-insensitive comparison with a NUL-terminated word. */
static int
span_ieq(struct span s, const char *w)
{
	size_t i;

	for (i = 0; i < s.n; i++)
		if (w[i] == '\0' || ascii_lower(s.p[i]) != ascii_lower(w[i]))
			return 0;
	return w[i] == '\0';
}

/* Is s a non-empty beginning of w, ignoring case? */
static int
span_iprefix(struct span s, const char *w)
{
	size_t i;

	if (s.n == 0 || s.n > strlen(w))
		return 0;
	for (i = 0; i < s.n; i++)
		if (ascii_lower(s.p[i]) != ascii_lower(w[i]))
			return 0;
	return 1;
}

/* Split *rest at the first sep: the trimmed item before it goes to *item.
 * Returns 0 once rest is used up.  An empty rest yields one empty item, so a
 * trailing comma shows up as an empty item. */
static int
span_next(struct span *rest, char sep, struct span *item)
{
	const char *c;

	if (rest->p == NULL)
		return 0;
	c = memchr(rest->p, sep, rest->n);
	if (c == NULL) {
		*item = span_trim(*rest);
		rest->p = NULL;
		rest->n = 0;
	} else {
		*item = span_trim(span_make(rest->p, c));
		*rest = span_make(c + 1, rest->p + rest->n);
	}
	return 1;
}

static int
span_has_ctrl(struct span s, int allow_tab)
{
	size_t i;

	for (i = 0; i < s.n; i++)
		if (is_ctrl(s.p[i]) && !(allow_tab && s.p[i] == '\t'))
			return 1;
	return 0;
}

/* Bounded copy; -1 (dst untouched) when s and its NUL do not fit. */
static int
span_copy(char *dst, size_t size, struct span s)
{
	if (s.n >= size)
		return -1;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return 0;
}

/* Printable, bounded copy of untrusted text for a message or a name. */
static const char *
quote(char *dst, size_t size, struct span s)
{
	size_t i, n = s.n;

	if (n >= size)
		n = size - 4;		/* room for "..." */
	for (i = 0; i < n; i++)
		dst[i] = is_ctrl(s.p[i]) || (unsigned char)s.p[i] >= 0x80 ?
		    '?' : s.p[i];
	if (n < s.n) {
		memcpy(dst + n, "...", 4);
		return dst;
	}
	dst[n] = '\0';
	return dst;
}

/* Decimal digits only: no sign, no blanks, no junk. */
static int
parse_uint(struct span s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (s.n == 0)
		return -1;
	for (i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s.p[i] - '0');
		if (v > max)		/* also stops overflow */
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

static const char *
proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : proto == IPPROTO_TCP ? "tcp" :
	    "?";
}

static const char *
section_desc(const struct parser *p, char *buf, size_t len)
{
	if (p->sec == SEC_OPTIONS)
		snprintf(buf, len, "[options]");
	else
		snprintf(buf, len, "door '%s'", p->door->name);
	return buf;
}

static int
set_number(struct parser *p, enum key_id id, struct span v,
    unsigned long min, unsigned long max, unsigned *dst)
{
	char q[QUOTE_MAX];
	unsigned long n;

	if (parse_uint(v, min, max, &n) != 0) {
		config_error(p, p->line, "bad value '%s' for %s (allowed: %s)",
		    quote(q, sizeof(q), v), key_name[id], key_hint[id]);
		return -1;
	}
	*dst = (unsigned)n;
	return 0;
}

static void
set_path(struct parser *p, enum key_id id, struct span v, char *dst,
    size_t size)
{
	char q[QUOTE_MAX];

	if (span_has_ctrl(v, 0))
		config_error(p, p->line, "control character in %s "
		    "(allowed: printable characters)", key_name[id]);
	else if (v.p[0] != '/')
		config_error(p, p->line, "relative path '%s' for %s "
		    "(allowed: an absolute path, starting with '/')",
		    quote(q, sizeof(q), v), key_name[id]);
	else if (span_copy(dst, size, v) != 0)
		config_error(p, p->line, "%s too long: %zu bytes "
		    "(allowed: at most %zu)", key_name[id], v.n, size - 1);
}

/* Commands run through a shell, where a tab is just a blank. */
static void
set_command(struct parser *p, enum key_id id, struct span v, char *dst)
{
	if (span_has_ctrl(v, 1))
		config_error(p, p->line, "control character in %s "
		    "(allowed: printable characters and tabs)", key_name[id]);
	else if (span_copy(dst, CFG_CMD_MAX, v) != 0)
		config_error(p, p->line, "%s too long: %zu bytes "
		    "(allowed: at most %d)", key_name[id], v.n,
		    CFG_CMD_MAX - 1);
}

static void
set_bool(struct parser *p, enum key_id id, struct span v, int *dst)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	char q[QUOTE_MAX];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (span_ieq(v, yes[i])) {
			*dst = 1;
			return;
		}
		if (span_ieq(v, no[i])) {
			*dst = 0;
			return;
		}
	}
	config_error(p, p->line, "bad value '%s' for %s (allowed: %s)",
	    quote(q, sizeof(q), v), key_name[id], key_hint[id]);
}

/* User and group names as useradd(8) takes them by default; they are
 * looked up later, by the I/O code. */
static void
set_name(struct parser *p, enum key_id id, struct span v, char *dst)
{
	char q[QUOTE_MAX];
	size_t i;
	int ok = v.n > 0 && v.n < CFG_USER_MAX &&
	    ((v.p[0] >= 'a' && v.p[0] <= 'z') || v.p[0] == '_');

	for (i = 1; ok && i < v.n; i++)
		ok = (v.p[i] >= 'a' && v.p[i] <= 'z') ||
		    (v.p[i] >= '0' && v.p[i] <= '9') || v.p[i] == '_' ||
		    v.p[i] == '-';
	if (!ok || span_copy(dst, CFG_USER_MAX, v) != 0)
		config_error(p, p->line, "bad name '%s' for %s (allowed: %s)",
		    quote(q, sizeof(q), v), key_name[id], key_hint[id]);
}

/* It ends up inside a log line: printable, and no quotes to escape. */
static void
set_prefix(struct parser *p, struct span v)
{
	char q[QUOTE_MAX];
	size_t i;

	for (i = 0; i < v.n; i++)
		if (v.p[i] < ' ' || v.p[i] > '~' || v.p[i] == '"' ||
		    v.p[i] == '\'')
			break;
	if (i < v.n)
		config_error(p, p->line, "bad character in Log_Prefix '%s' "
		    "(allowed: %s)", quote(q, sizeof(q), v),
		    key_hint[K_LOG_PREFIX]);
	else if (span_copy(p->cfg->opt.log_prefix, CFG_PREFIX_MAX, v) != 0)
		config_error(p, p->line, "Log_Prefix too long: %zu characters "
		    "(allowed: %s)", v.n, key_hint[K_LOG_PREFIX]);
}

/* N[/unit], where unit is any prefix of second, minute, hour or day, as
 * iptables' --limit takes it. */
static void
set_rate(struct parser *p, struct span v)
{
	static const struct {
		const char *name;
		uint32_t seconds;
	} unit[] = {
		{ "second", 1 }, { "minute", 60 }, { "hour", 3600 },
		{ "day", 86400 },
	};
	struct cfg_options *o = &p->cfg->opt;
	const char *slash = memchr(v.p, '/', v.n);
	struct span num = v, u;
	char q[QUOTE_MAX];
	unsigned long n;
	uint32_t period = 1;
	size_t i;

	if (slash != NULL) {
		num = span_trim(span_make(v.p, slash));
		u = span_trim(span_make(slash + 1, v.p + v.n));
		for (i = 0; i < sizeof(unit) / sizeof(unit[0]); i++)
			if (span_iprefix(u, unit[i].name))
				break;
		if (i == sizeof(unit) / sizeof(unit[0])) {
			config_error(p, p->line, "bad unit '%s' in Log_Rate "
			    "(allowed: %s)", quote(q, sizeof(q), u),
			    key_hint[K_LOG_RATE]);
			return;
		}
		period = unit[i].seconds;
	}
	if (parse_uint(num, 1, CFG_LIM_LOG_RATE, &n) != 0) {
		config_error(p, p->line, "bad value '%s' for Log_Rate "
		    "(allowed: %s)", quote(q, sizeof(q), v),
		    key_hint[K_LOG_RATE]);
		return;
	}
	o->log_rate_n = (uint32_t)n;
	o->log_rate_period = period;
}

static void
set_ruleset(struct parser *p, struct span v)
{
	char q[QUOTE_MAX];

	if (span_ieq(v, "install"))
		p->cfg->opt.ruleset_external = 0;
	else if (span_ieq(v, "external"))
		p->cfg->opt.ruleset_external = 1;
	else
		config_error(p, p->line, "bad value '%s' for Ruleset "
		    "(allowed: %s)", quote(q, sizeof(q), v),
		    key_hint[K_RULESET]);
}

/* An interface name, or a prefix with '*' at its end as nft's iifname
 * takes it.  Whether it exists is the I/O side's to check
 * (conffile_check_host); what can never be right is refused here:
 * "lo" would gate only loopback and let everything else through. */
static void
set_interface(struct parser *p, struct span v)
{
	char q[QUOTE_MAX];
	size_t i;
	int bad = v.n >= CFG_IFNAME_MAX;

	for (i = 0; i < v.n; i++)
		if (v.p[i] == '/' || is_blank(v.p[i]) || is_ctrl(v.p[i]) ||
		    v.p[i] == '"' || (v.p[i] == '*' && i + 1 < v.n))
			bad = 1;
	if (bad || span_copy(p->cfg->opt.interface, CFG_IFNAME_MAX, v) != 0) {
		p->cfg->opt.interface[0] = '\0';
		config_error(p, p->line, "bad interface name '%s' "
		    "(allowed: 1-%d characters, no '/', quotes or blanks; "
		    "'*' only at the end)", quote(q, sizeof(q), v),
		    CFG_IFNAME_MAX - 1);
	} else if (span_ieq(v, "*")) {
		p->cfg->opt.interface[0] = '\0';
		config_error(p, p->line, "Interface = * matches every "
		    "interface (allowed: a name or prefix; leave Interface "
		    "out to gate every interface)");
	} else if (span_ieq(v, "lo")) {
		p->cfg->opt.interface[0] = '\0';
		config_error(p, p->line, "Interface = lo would gate only "
		    "loopback and let every other interface through "
		    "(allowed: the interface the knocks arrive on; "
		    "Gate_Loopback = yes gates loopback too)");
	} else
		p->cfg->opt.interface_line = p->line;
}

static void
set_knock_reply(struct parser *p, struct span v)
{
	char q[QUOTE_MAX];

	if (span_ieq(v, "closed"))
		p->cfg->opt.knock_drop = 0;
	else if (span_ieq(v, "drop"))
		p->cfg->opt.knock_drop = 1;
	else
		config_error(p, p->line, "bad value '%s' for Knock_Reply "
		    "(allowed: %s)", quote(q, sizeof(q), v),
		    key_hint[K_KNOCK_REPLY]);
}

/* cidr_parse() refused s.  If only host bits are set, put the prefix that
 * was probably meant into buf and return 0. */
static int
cidr_masked(const char *s, char *buf, size_t len)
{
	const char *slash = strchr(s, '/');
	char host[ADDR_STRLEN];
	struct addr a;
	unsigned long plen;
	unsigned i;

	if (slash == NULL || span_copy(host, sizeof(host),
	    span_make(s, slash)) != 0 || addr_parse(host, &a) != 0)
		return -1;
	if (parse_uint(span_make(slash + 1, slash + strlen(slash)), 0,
	    addr_len(&a) * 8, &plen) != 0)
		return -1;
	for (i = (unsigned)plen; i < addr_len(&a) * 8; i++)
		a.b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	snprintf(buf, len, "%s/%lu", addr_format(&a, host, sizeof(host)),
	    plen);
	return 0;
}

static void
set_allow(struct parser *p, struct span v)
{
	struct cfg_options *o = &p->cfg->opt;
	struct span rest = v, item;
	char buf[ADDR_STRLEN + 8], q[QUOTE_MAX], meant[ADDR_STRLEN + 8];

	while (span_next(&rest, ',', &item)) {
		if (item.n == 0) {
			config_error(p, p->line, "empty item in Allow "
			    "(allowed: %s)", key_hint[K_ALLOW]);
			continue;
		}
		if (o->allow_len >= CFG_MAX_ALLOW) {
			config_error(p, p->line, "too many Allow prefixes "
			    "(allowed: at most %d in all)", CFG_MAX_ALLOW);
			return;
		}
		if (span_copy(buf, sizeof(buf), item) == 0 &&
		    cidr_parse(buf, &o->allow[o->allow_len]) == 0) {
			struct cidr *c = &o->allow[o->allow_len];

			/* IPv4 packets carry IPv4 addresses: ::ffff:a.b.c.d
			 * can only mean a.b.c.d. */
			cidr_unmap_v4(c);
			if (c->prefix == 0) {
				config_error(p, p->line, "Allow = %s lets every "
				    "%s source past the gate (allowed: a "
				    "narrower prefix; to watch without "
				    "enforcing, Monitor = yes)",
				    quote(q, sizeof(q), item),
				    c->net.family == AF_INET ? "IPv4" : "IPv6");
				continue;
			}
			o->allow_len++;
			continue;
		}
		quote(q, sizeof(q), item);
		if (span_copy(buf, sizeof(buf), item) == 0 &&
		    cidr_masked(buf, meant, sizeof(meant)) == 0)
			config_error(p, p->line, "host bits set in '%s' in "
			    "Allow (allowed: a network prefix, such as %s)",
			    q, meant);
		else
			config_error(p, p->line, "bad prefix '%s' in Allow "
			    "(allowed: IPv4 or IPv6 address, optionally "
			    "/prefix length)", q);
	}
}

static int
parse_port(struct parser *p, enum key_id id, struct span item,
    struct cfg_port *out)
{
	const char *colon = memchr(item.p, ':', item.n);
	struct span num = item, proto;
	char q[QUOTE_MAX];
	unsigned long port;

	out->proto = IPPROTO_TCP;		/* knockd's default */
	if (colon != NULL) {
		num = span_trim(span_make(item.p, colon));
		proto = span_trim(span_make(colon + 1, item.p + item.n));
		if (span_ieq(proto, "udp"))
			out->proto = IPPROTO_UDP;
		else if (!span_ieq(proto, "tcp")) {
			config_error(p, p->line, "bad protocol '%s' in %s "
			    "(allowed: tcp or udp)", quote(q, sizeof(q), proto),
			    key_name[id]);
			return -1;
		}
	}
	if (parse_uint(num, 1, 65535, &port) != 0) {
		config_error(p, p->line, "bad port '%s' in %s (allowed: "
		    "1-65535, optionally :tcp or :udp)",
		    quote(q, sizeof(q), num.n ? num : item), key_name[id]);
		return -1;
	}
	out->port = (uint16_t)port;
	return 0;
}

/* Sequence and Open_Ports: port[:proto], ...  A knock sequence may repeat a
 * port; a list of ports to open may not (it is surely a typo). */
static void
set_ports(struct parser *p, enum key_id id, struct span v,
    struct cfg_port *out, unsigned max, unsigned *len, int unique)
{
	struct span rest = v, item;
	struct cfg_port port;
	unsigned i;

	*len = 0;
	while (span_next(&rest, ',', &item)) {
		if (item.n == 0) {
			config_error(p, p->line, "empty item in %s "
			    "(allowed: %s)", key_name[id], HINT_PORTS);
			continue;
		}
		if (parse_port(p, id, item, &port) != 0)
			continue;
		if (*len >= max) {
			config_error(p, p->line, "too many ports in %s "
			    "(allowed: at most %u)", key_name[id], max);
			return;
		}
		for (i = 0; unique && i < *len; i++)
			if (out[i].port == port.port &&
			    out[i].proto == port.proto)
				break;
		if (unique && i < *len) {
			config_error(p, p->line, "port %u/%s listed twice in "
			    "%s (allowed: each port once)", port.port,
			    proto_name(port.proto), key_name[id]);
			continue;
		}
		out[(*len)++] = port;
	}
}

static void
set_tcpflags(struct parser *p, struct span v)
{
	struct cfg_door *d = p->door;
	struct span rest = v, item;
	char q[QUOTE_MAX];
	size_t i;
	int neg;

	while (span_next(&rest, ',', &item)) {
		neg = item.n > 0 && item.p[0] == '!';
		if (neg)
			item = span_trim(span_make(item.p + 1,
			    item.p + item.n));
		for (i = 0; i < sizeof(tcp_flag) / sizeof(tcp_flag[0]); i++)
			if (span_ieq(item, tcp_flag[i].name))
				break;
		if (i == sizeof(tcp_flag) / sizeof(tcp_flag[0])) {
			config_error(p, p->line, "unknown TCP flag '%s' in "
			    "TCPFlags (allowed: %s)", quote(q, sizeof(q), item),
			    HINT_FLAGS);
			continue;
		}
		if (neg)
			d->tcpflags_clear |= tcp_flag[i].bit;
		else
			d->tcpflags_set |= tcp_flag[i].bit;
	}
	for (i = 0; i < sizeof(tcp_flag) / sizeof(tcp_flag[0]); i++)
		if (d->tcpflags_set & d->tcpflags_clear & tcp_flag[i].bit)
			config_error(p, p->line, "TCP flag '%s' both required "
			    "and forbidden in TCPFlags (allowed: %s or !%s, "
			    "not both)", tcp_flag[i].name, tcp_flag[i].name,
			    tcp_flag[i].name);
}

static void
set_target(struct parser *p, struct span v)
{
	char buf[ADDR_STRLEN], q[QUOTE_MAX];

	if (span_copy(buf, sizeof(buf), v) != 0 ||
	    addr_parse(buf, &p->door->target) != 0) {
		memset(&p->door->target, 0, sizeof(p->door->target));
		config_error(p, p->line, "bad address '%s' in Target "
		    "(allowed: an IPv4 or IPv6 address; no host names)",
		    quote(q, sizeof(q), v));
	}
}

static int
door_name_ok(struct span n)
{
	size_t i;
	char c;

	if (n.n == 0 || n.n >= CFG_NAME_MAX)
		return 0;
	for (i = 0; i < n.n; i++) {
		c = n.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

/* Close names doors that may come later in the file: check the names
 * now, keep the value and resolve it at the end (config_resolve_close). */
static void
set_close(struct parser *p, struct span v)
{
	struct span rest = v, item;
	char q[QUOTE_MAX];
	unsigned i;

	while (span_next(&rest, ',', &item))
		if (item.n == 0)
			config_error(p, p->line, "empty item in Close "
			    "(allowed: %s)", key_hint[K_CLOSE]);
		else if (!door_name_ok(item))
			config_error(p, p->line, "bad door name '%s' in Close "
			    "(allowed: %s)", quote(q, sizeof(q), item),
			    key_hint[K_CLOSE]);
	if (!p->stored)
		return;
	i = (unsigned)(p->door - p->cfg->door);
	p->close_val[i] = v;
	p->close_line[i] = p->line;
}

static void
set_spa_ports(struct parser *p, struct span v)
{
	struct cfg_options *o = &p->cfg->opt;
	struct span rest = v, item;
	unsigned long n;
	char q[QUOTE_MAX];

	o->spa_nports = 0;
	while (span_next(&rest, ',', &item)) {
		if (parse_uint(item, 1, 65535, &n) != 0) {
			config_error(p, p->line, "bad port '%s' in SPA_Port "
			    "(allowed: %s)", quote(q, sizeof(q), item),
			    key_hint[K_SPA_PORT]);
			continue;
		}
		if (o->spa_nports == CFG_MAX_SPA_PORTS) {
			config_error(p, p->line, "too many ports in SPA_Port "
			    "(allowed: at most %d)", CFG_MAX_SPA_PORTS);
			return;
		}
		o->spa_ports[o->spa_nports].proto = IPPROTO_UDP;
		o->spa_ports[o->spa_nports++].port = (uint16_t)n;
	}
}

/* SPA_Key and SPA_HMAC_Key are the bytes as written; the _Base64 forms
 * decode (libcrypto's base64, '=' padding optional). */
static void
set_spa_key(struct parser *p, enum key_id id, struct span v)
{
	struct spa_keys *k = &p->door->sp.keys;
	int hmac = id == K_SPA_HMAC || id == K_SPA_HMAC64;
	uint8_t *dst = hmac ? k->hmac : k->key;
	size_t max = hmac ? SPA_HMAC_KEY_MAX : SPA_KEY_MAX, *len =
	    hmac ? &k->hmac_len : &k->key_len;
	long n;

	if ((hmac ? p->seen[K_SPA_HMAC] && p->seen[K_SPA_HMAC64] :
	    p->seen[K_SPA_KEY] && p->seen[K_SPA_KEY64])) {
		config_error(p, p->line, "%s and its other form are both set "
		    "(allowed: one of them)", key_name[id]);
		return;
	}
	p->door->spa = 1;
	if (id == K_SPA_KEY || id == K_SPA_HMAC) {
		if (v.n > max || span_has_ctrl(v, 0)) {
			config_error(p, p->line, "bad %s (allowed: %s)",
			    key_name[id], key_hint[id]);
			return;
		}
		memcpy(dst, v.p, v.n);
		*len = v.n;
		return;
	}
	if ((n = spa_b64_decode(v.p, v.n, dst, max)) <= 0) {
		config_error(p, p->line, "bad %s: not base64 of 1-%zu bytes "
		    "(allowed: %s)", key_name[id], max, key_hint[id]);
		*len = 0;
		return;
	}
	*len = (size_t)n;
}

static void
set_spa_users(struct parser *p, struct span v)
{
	struct cfg_spa *sp = &p->door->sp;
	struct span rest = v, item;
	char q[QUOTE_MAX];

	while (span_next(&rest, ',', &item)) {
		if (item.n == 0 || item.n > SPA_USER_MAX ||
		    span_has_ctrl(item, 0)) {
			config_error(p, p->line, "bad user name '%s' in "
			    "SPA_Users (allowed: 1-%d printable characters)",
			    quote(q, sizeof(q), item), SPA_USER_MAX);
			continue;
		}
		if (sp->nusers == CFG_MAX_SPA_USERS) {
			config_error(p, p->line, "too many names in SPA_Users "
			    "(allowed: at most %d)", CFG_MAX_SPA_USERS);
			return;
		}
		span_copy(sp->users[sp->nusers++], SPA_USER_MAX + 1, item);
	}
}

static void
set_value(struct parser *p, enum key_id id, struct span v)
{
	struct cfg_options *o = &p->cfg->opt;
	struct cfg_door *d = p->door;
	unsigned nerr;

	switch (id) {
	case K_USESYSLOG:
		set_bool(p, id, v, &o->use_syslog);
		break;
	case K_MONITOR:
		set_bool(p, id, v, &o->monitor);
		break;
	case K_LOG_REFUSED:
		set_bool(p, id, v, &o->log_refused);
		break;
	case K_SCAN_GUARD:
		set_bool(p, id, v, &o->scan_guard);
		break;
	case K_GATE_LOOPBACK:
		set_bool(p, id, v, &o->gate_loopback);
		break;
	case K_KNOCK_REPLY:
		set_knock_reply(p, v);
		break;
	case K_LOGFILE:
		set_path(p, id, v, o->log_file, sizeof(o->log_file));
		break;
	case K_PIDFILE:
		set_path(p, id, v, o->pid_file, sizeof(o->pid_file));
		break;
	case K_INTERFACE:
		set_interface(p, v);
		break;
	case K_QUEUE:
		set_number(p, id, v, 0, 65535, &o->queue);
		break;
	case K_PROTECTED_QUEUE:
		set_number(p, id, v, 0, 65535, &o->protected_queue);
		break;
	case K_CONTROL_GROUP:
		set_name(p, id, v, o->control_group);
		break;
	case K_USER:
		set_name(p, id, v, o->user);
		break;
	case K_COMMAND_USER:
		set_name(p, id, v, o->command_user);
		break;
	case K_RULESET:
		set_ruleset(p, v);
		break;
	case K_LOG_PREFIX:
		set_prefix(p, v);
		break;
	case K_LOG_RATE:
		set_rate(p, v);
		break;
	case K_LOG_BURST:
		set_number(p, id, v, 1, CFG_LIM_LOG_BURST, &o->log_burst);
		break;
	case K_PUBLIC_PORTS:
		set_ports(p, id, v, o->public_ports, CFG_MAX_PUBLIC,
		    &o->public_len, 1);
		break;
	case K_LOCKOUT_AFTER:
		set_number(p, id, v, 0, CFG_LIM_LOCKOUT_AFTER,
		    &o->lockout_after);
		break;
	case K_LOCKOUT_TIME:
		set_number(p, id, v, 1, CFG_LIM_TIMEOUT, &o->lockout_time);
		break;
	case K_CONTROL_SOCKET:
		set_path(p, id, v, o->control_socket,
		    sizeof(o->control_socket));
		break;
	case K_STATE_FILE:
		set_path(p, id, v, o->state_file, sizeof(o->state_file));
		break;
	case K_MAX_SOURCES:
		set_number(p, id, v, 1, CFG_LIM_MAX_SOURCES, &o->max_sources);
		break;
	case K_ALLOW:
		set_allow(p, v);
		break;
	case K_SEQUENCE:
		nerr = p->err->n;
		set_ports(p, id, v, d->seq, CFG_MAX_SEQ, &d->seq_len, 0);
		/* A sequence with mistakes is not also judged as a whole. */
		if (p->err->n == nerr)
			d->seq_line = p->line;
		break;
	case K_ONE_TIME:
		set_path(p, id, v, d->one_time_file,
		    sizeof(d->one_time_file));
		break;
	case K_SEQ_TIMEOUT:
		set_number(p, id, v, 1, CFG_LIM_TIMEOUT, &d->seq_timeout);
		break;
	case K_TCPFLAGS:
		set_tcpflags(p, v);
		break;
	case K_START:
		set_command(p, id, v, d->start_cmd);
		break;
	case K_START6:
		p->start6_empty = v.n == 0;
		set_command(p, id, v, d->start_cmd6);
		break;
	case K_STOP:
		set_command(p, id, v, d->stop_cmd);
		break;
	case K_STOP6:
		set_command(p, id, v, d->stop_cmd6);
		break;
	case K_CMD_TIMEOUT:
		if (set_number(p, id, v, 1, CFG_LIM_TIMEOUT,
		    &d->cmd_timeout) == 0)
			d->has_cmd_timeout = 1;
		break;
	case K_TARGET:
		set_target(p, v);
		break;
	case K_OPEN_PORTS:
		set_ports(p, id, v, d->open, CFG_MAX_OPEN, &d->open_len, 1);
		break;
	case K_OPEN_TIMEOUT:
		set_number(p, id, v, 1, CFG_LIM_TIMEOUT, &d->open_timeout);
		break;
	case K_CLOSE:
		set_close(p, v);
		break;
	case K_DOOR_MONITOR:
		set_bool(p, id, v, &d->monitor);
		break;
	case K_SPA_PORT:
		set_spa_ports(p, v);
		break;
	case K_SPA_MAX_AGE:
		set_number(p, id, v, 1, 3600, &o->spa_max_age);
		break;
	case K_SPA_REPLAY:
		set_number(p, id, v, 16, CFG_LIM_SPA_REPLAY, &o->spa_replay);
		break;
	case K_FWKNOP_ACCESS:
		set_path(p, id, v, o->fwknop_access, sizeof(o->fwknop_access));
		o->fwknop_access_line = p->line;
		break;
	case K_FWKNOP_PORTS:
		set_ports(p, id, v, o->fwknop_ports, CFG_MAX_OPEN,
		    &o->fwknop_nports, 1);
		break;
	case K_SPA_KEY:
	case K_SPA_KEY64:
	case K_SPA_HMAC:
	case K_SPA_HMAC64:
		set_spa_key(p, id, v);
		break;
	case K_SPA_DIGEST:
		if ((d->sp.keys.hmac_type = spa_hash_from_name(v.p, v.n)) ==
		    SPA_HASH_NONE)
			config_error(p, p->line, "bad value for %s (allowed: "
			    "%s)", key_name[id], key_hint[id]);
		break;
	case K_SPA_MAX_TIMEOUT:
		set_number(p, id, v, 1, CFG_LIM_TIMEOUT, &d->sp.max_timeout);
		break;
	case K_SPA_SOURCE_MATCH:
		set_bool(p, id, v, &d->sp.source_match);
		break;
	case K_SPA_USERS:
		set_spa_users(p, v);
		break;
	case K_SPA_NO_HMAC:
		set_bool(p, id, v, &d->sp.allow_no_hmac);
		break;
	case K_COUNT:
		break;
	}
}

static int
key_lookup(struct span key)
{
	size_t i;

	for (i = 0; i < K_COUNT; i++)
		if (span_ieq(key, key_name[i]))
			return (int)i;
	for (i = 0; i < sizeof(key_alias) / sizeof(key_alias[0]); i++)
		if (span_ieq(key, key_alias[i].name))
			return (int)key_alias[i].id;
	return -1;
}

static void
config_keyline(struct parser *p, struct span l)
{
	const char *eq = memchr(l.p, '=', l.n);
	struct span key = l, val = { "", 0 };
	char q[QUOTE_MAX], sec[CFG_NAME_MAX + 8];
	enum key_id id;
	unsigned nerr;
	int k;

	if (eq != NULL) {
		key = span_trim(span_make(l.p, eq));
		val = span_trim(span_make(eq + 1, l.p + l.n));
	}
	quote(q, sizeof(q), key);
	if (p->sec == SEC_NONE) {
		config_error(p, p->line, "'%s' before any section (allowed: "
		    "keys after an [options] or [door] line)", q);
		return;
	}
	section_desc(p, sec, sizeof(sec));
	if (key.n == 0) {
		config_error(p, p->line, "no key before '=' in %s "
		    "(allowed: key = value)", sec);
		return;
	}
	if ((k = key_lookup(key)) < 0) {
		config_error(p, p->line, "unknown key '%s' in %s (known: %s)",
		    q, sec, p->sec == SEC_OPTIONS ? OPTION_KEYS : DOOR_KEYS);
		return;
	}
	id = (enum key_id)k;
	/* Monitor is a key of both sections. */
	if (id == K_MONITOR && p->sec == SEC_DOOR)
		id = K_DOOR_MONITOR;
	if (p->sec == SEC_OPTIONS && id >= K_FIRST_DOOR) {
		config_error(p, p->line, "%s belongs in a door section, not "
		    "in [options] (allowed here: %s)", key_name[id],
		    OPTION_KEYS);
		return;
	}
	if (p->sec == SEC_DOOR && id < K_FIRST_DOOR) {
		config_error(p, p->line, "%s belongs in [options], not in %s "
		    "(allowed here: %s)", key_name[id], sec, DOOR_KEYS);
		return;
	}
	/* A second value would silently win in knockd; Allow adds up. */
	if (id != K_ALLOW && p->seen[id] != 0) {
		config_error(p, p->line, "duplicate key '%s' in %s, first set "
		    "at line %u (allowed: each key once per section)", q, sec,
		    p->seen[id]);
		return;
	}
	p->seen[id] = p->line;
	if (eq == NULL && id == K_USESYSLOG) {
		p->cfg->opt.use_syslog = 1;
		return;
	}
	/* knockd: an empty _6 command means "nothing for IPv6". */
	if (eq == NULL || (val.n == 0 && id != K_START6 && id != K_STOP6)) {
		config_error(p, p->line, "no value for %s (allowed: %s = %s)",
		    key_name[id], key_name[id], key_hint[id]);
		return;
	}
	nerr = p->err->n;
	set_value(p, id, val);
	p->valid[id] = p->err->n == nerr;
}

static void
door_init(struct cfg_door *d, unsigned line)
{
	memset(d, 0, sizeof(*d));
	d->line = line;
	d->seq_timeout = CFG_DEF_SEQ_TIMEOUT;
	d->cmd_timeout = CFG_DEF_CMD_TIMEOUT;
	d->open_timeout = CFG_DEF_OPEN_TIMEOUT;
}

/* End of a door section: fill in what depends on other keys, then check the
 * door as a whole.  Errors point at the door's [name] line. */
static void
door_finish(struct parser *p)
{
	struct cfg_door *d = p->door;
	const unsigned *seen = p->seen;

	if (p->sec != SEC_DOOR)
		return;
	/* knockd runs the IPv4 command for IPv6 knocks unless told. */
	if (!seen[K_START6])
		memcpy(d->start_cmd6, d->start_cmd, sizeof(d->start_cmd6));
	if (!seen[K_STOP6])
		memcpy(d->stop_cmd6, d->stop_cmd, sizeof(d->stop_cmd6));
	if (!seen[K_OPEN_TIMEOUT])
		d->open_timeout = d->has_cmd_timeout ? d->cmd_timeout :
		    CFG_DEF_OPEN_TIMEOUT;
	if (!p->stored)
		return;
	/* Judge by the keys present, not their parsed values, so a bad value
	 * is not reported a second time as a missing key. */
	if (!seen[K_SEQUENCE] && !seen[K_ONE_TIME] && !d->spa)
		config_error(p, d->line, "door '%s' has no knock sequence "
		    "and no SPA key (allowed: Sequence = %s, One_Time_Sequences"
		    " = an absolute path, or SPA_Key_Base64 and "
		    "SPA_HMAC_Key_Base64)", d->name, HINT_PORTS);
	if (!d->spa && (seen[K_SPA_DIGEST] || seen[K_SPA_MAX_TIMEOUT] ||
	    seen[K_SPA_SOURCE_MATCH] || seen[K_SPA_USERS] ||
	    seen[K_SPA_NO_HMAC]))
		config_error(p, d->line, "door '%s' has SPA settings but no "
		    "SPA_Key or SPA_Key_Base64 (allowed: SPA_* keys with a "
		    "key)", d->name);
	if (d->spa) {
		char why[CFG_ERR_MAX];

		if (!seen[K_SPA_MAX_TIMEOUT])
			d->sp.max_timeout = CFG_DEF_SPA_MAX_TIMEOUT;
		if (!seen[K_SPA_SOURCE_MATCH])
			d->sp.source_match = 1;
		if (!seen[K_SPA_DIGEST])
			d->sp.keys.hmac_type = SPA_SHA256;
		if (config_spa_check(d, why, sizeof(why)) < 0)
			config_error(p, d->line, "door '%s': %s", d->name, why);
	}
	if (seen[K_SEQUENCE] && seen[K_ONE_TIME])
		config_error(p, d->line, "door '%s' has both Sequence (line "
		    "%u) and One_Time_Sequences (line %u) (allowed: one of "
		    "them)", d->name, seen[K_SEQUENCE], seen[K_ONE_TIME]);
	/* Closing other doors is an action of its own. */
	if (!seen[K_OPEN_PORTS] && !seen[K_START] &&
	    !(seen[K_START6] && !p->start6_empty) && !seen[K_CLOSE])
		config_error(p, d->line, "door '%s' does nothing: add "
		    "Open_Ports, Start_Command or Close (a door must open "
		    "ports, run a command or close doors)", d->name);
}

/* Index of the door called name (case-sensitive), or -1. */
static int
door_index(const struct config *cfg, struct span name)
{
	unsigned i;

	for (i = 0; i < cfg->ndoors; i++)
		if (strlen(cfg->door[i].name) == name.n &&
		    memcmp(cfg->door[i].name, name.p, name.n) == 0)
			return (int)i;
	return -1;
}

static void
config_section(struct parser *p, struct span l)
{
	struct config *cfg = p->cfg;
	const char *close = memchr(l.p, ']', l.n);
	struct span name, rest;
	char q[QUOTE_MAX];
	int k;

	door_finish(p);
	memset(p->seen + K_FIRST_DOOR, 0,
	    (K_COUNT - K_FIRST_DOOR) * sizeof(p->seen[0]));
	memset(p->valid + K_FIRST_DOOR, 0,
	    (K_COUNT - K_FIRST_DOOR) * sizeof(p->valid[0]));
	p->start6_empty = 0;
	/* Until the header proves good, keys go to the scratch door. */
	p->sec = SEC_DOOR;
	p->door = &p->scratch;
	p->stored = 0;
	door_init(&p->scratch, p->line);

	if (close == NULL) {
		quote(p->scratch.name, sizeof(p->scratch.name),
		    span_make(l.p + 1, l.p + l.n));
		config_error(p, p->line, "missing ']' in section header '%s' "
		    "(allowed: [options] or [door_name])",
		    quote(q, sizeof(q), l));
		return;
	}
	name = span_trim(span_make(l.p + 1, close));
	rest = span_trim(span_make(close + 1, l.p + l.n));
	quote(p->scratch.name, sizeof(p->scratch.name), name);
	if (rest.n > 0) {
		config_error(p, p->line, "text after ']' in section header: "
		    "'%s' (allowed: nothing; comments go on a line of their "
		    "own)", quote(q, sizeof(q), rest));
		return;
	}
	if (span_ieq(name, "options")) {
		p->sec = SEC_OPTIONS;
		return;
	}
	if (!door_name_ok(name)) {
		config_error(p, p->line, "bad door name '%s' (allowed: 1-%d "
		    "characters out of A-Z a-z 0-9 _ . -)",
		    quote(q, sizeof(q), name), CFG_NAME_MAX - 1);
		return;
	}
	if ((k = door_index(cfg, name)) >= 0) {
		config_error(p, p->line, "duplicate door '%s', first defined "
		    "at line %u (allowed: each name once)", p->scratch.name,
		    cfg->door[k].line);
		return;
	}
	if (cfg->ndoors >= CFG_MAX_DOORS) {
		config_error(p, p->line, "too many doors at '%s' (allowed: "
		    "at most %d)", p->scratch.name, CFG_MAX_DOORS);
		return;
	}
	p->door = &cfg->door[cfg->ndoors++];
	p->stored = 1;
	door_init(p->door, p->line);
	span_copy(p->door->name, sizeof(p->door->name), name);
}

static void
config_line(struct parser *p, struct span l)
{
	/* CRLF files: drop the CR before trimming blanks. */
	if (l.n > 0 && l.p[l.n - 1] == '\r')
		l.n--;
	l = span_trim(l);
	/* knockd knows only whole-line comments: commands may hold '#'. */
	if (l.n == 0 || l.p[0] == '#')
		return;
	if (l.p[0] == '[')
		config_section(p, l);
	else
		config_keyline(p, l);
}

/* The first door whose Sequence holds (proto, port), or NULL. */
static const struct cfg_door *
config_knocked_by(const struct config *cfg, uint8_t proto, uint16_t port)
{
	unsigned i;

	for (i = 0; i < cfg->ndoors; i++)
		if (config_door_in_seq(&cfg->door[i], proto, port))
			return &cfg->door[i];
	return NULL;
}

/* The first door whose Open_Ports holds (proto, port), or NULL. */
static const struct cfg_door *
config_opened_by(const struct config *cfg, uint8_t proto, uint16_t port)
{
	unsigned i;

	for (i = 0; i < cfg->ndoors; i++)
		if (config_door_opens(&cfg->door[i], proto, port))
			return &cfg->door[i];
	return NULL;
}

/* Knock packets are always dropped, so a port that is a knock port and an
 * opened port at once could never be opened. */
static void
config_check_overlap(struct parser *p)
{
	const struct cfg_door *a, *b;
	const struct cfg_port *o;
	unsigned i, j;

	for (i = 0; i < p->cfg->ndoors; i++) {
		a = &p->cfg->door[i];
		for (j = 0; j < a->open_len; j++) {
			o = &a->open[j];
			if ((b = config_knocked_by(p->cfg, o->proto,
			    o->port)) == NULL)
				continue;
			const char *main_file = p->file;

			if (a->file[0] != '\0')
				p->file = a->file;
			config_error(p, a->line, "port %u/%s is opened by door "
			    "'%s' but is a knock port of door '%s' (allowed: "
			    "Open_Ports outside every Sequence; knock packets "
			    "are always dropped)", o->port,
			    proto_name(o->proto), a->name, b->name);
			p->file = main_file;
		}
	}
}

/* A public port is never queued, so it can be neither knocked nor opened. */
static void
config_check_public(struct parser *p)
{
	const struct cfg_options *o = &p->cfg->opt;
	const struct cfg_port *pp;
	const struct cfg_door *b;
	unsigned i;

	for (i = 0; i < o->public_len; i++) {
		pp = &o->public_ports[i];
		if ((b = config_knocked_by(p->cfg, pp->proto, pp->port)))
			config_error(p, p->seen[K_PUBLIC_PORTS], "port %u/%s "
			    "is public but is a knock port of door '%s' "
			    "(allowed: Public_Ports outside every Sequence "
			    "and Open_Ports)", pp->port, proto_name(pp->proto),
			    b->name);
		else if ((b = config_opened_by(p->cfg, pp->proto, pp->port)))
			config_error(p, p->seen[K_PUBLIC_PORTS], "port %u/%s "
			    "is public but is opened by door '%s' (allowed: "
			    "Public_Ports outside every Sequence and "
			    "Open_Ports)", pp->port, proto_name(pp->proto),
			    b->name);
	}
}

/* ---- can a port scan complete a sequence? ----
 *
 * With Scan_Guard every packet the daemon sees that is not a door's next
 * knock resets the door, so an ordered scan resets its own progress
 * between two knock ports, unless every port it probes in between is
 * quiet: public (never queued) or protected (queued on another queue, out
 * of order with the knocks).  A sequence whose every step is such a quiet
 * walk in one direction is completed by an ascending or descending scan of
 * all ports; a one-port sequence by any scan at all. */
struct quiet {
	uint8_t bm[2][65536 / 8];
	unsigned n[2];
};

static int
proto_idx(uint8_t proto)
{
	return proto == IPPROTO_UDP;
}

static int
quiet_has(const struct quiet *q, int pi, unsigned port)
{
	return (q->bm[pi][port / 8] >> (port % 8)) & 1;
}

static void
quiet_mark(struct quiet *q, const struct cfg_port *p, unsigned n)
{
	unsigned i;
	int pi;

	for (i = 0; i < n; i++) {
		pi = proto_idx(p[i].proto);
		if (!quiet_has(q, pi, p[i].port))
			q->n[pi]++;
		q->bm[pi][p[i].port / 8] |= (uint8_t)(1u << (p[i].port % 8));
	}
}

static void
quiet_build(const struct config *cfg, struct quiet *q)
{
	unsigned d;

	memset(q, 0, sizeof(*q));
	quiet_mark(q, cfg->opt.public_ports, cfg->opt.public_len);
	for (d = 0; d < cfg->ndoors; d++)
		quiet_mark(q, cfg->door[d].open, cfg->door[d].open_len);
}

/* Does a scan get from knock a to knock b without a reset between?  A
 * scan of both protocols at once probes the other one's ports too. */
static int
quiet_walk(const struct quiet *q, const struct cfg_port *a,
    const struct cfg_port *b)
{
	unsigned lo = a->port < b->port ? a->port : b->port;
	unsigned hi = a->port < b->port ? b->port : a->port, port;
	int pi = proto_idx(a->proto), k;

	if (a->proto == b->proto) {
		if (hi - lo <= 1)
			return 1;
		if (hi - lo - 1 > q->n[pi])
			return 0;
		for (port = lo + 1; port < hi; port++)
			if (!quiet_has(q, pi, port))
				return 0;
		return 1;
	}
	if (2 * (hi - lo + 1) - 2 > q->n[0] + q->n[1])
		return 0;
	for (port = lo; port <= hi; port++)
		for (k = 0; k < 2; k++) {
			if ((port == a->port && k == pi) ||
			    (port == b->port && k == proto_idx(b->proto)))
				continue;
			if (!quiet_has(q, k, port))
				return 0;
		}
	return 1;
}

static int
seq_scannable(const struct config *cfg, const struct cfg_port *seq,
    unsigned len, char *why, size_t whylen)
{
	struct quiet q;
	int up = 1, down = 1;
	unsigned i;

	if (len == 0)
		return 0;
	if (len == 1) {
		snprintf(why, whylen, "a one-port sequence is completed by "
		    "any scan that reaches %u/%s", seq[0].port,
		    proto_name(seq[0].proto));
		return 1;
	}
	/* Without the guard, see config_check_scans. */
	if (!cfg->opt.scan_guard)
		return 0;
	quiet_build(cfg, &q);
	for (i = 0; i + 1 < len && (up || down); i++) {
		if (!quiet_walk(&q, &seq[i], &seq[i + 1]))
			return 0;
		if (seq[i + 1].port < seq[i].port)
			up = 0;
		if (seq[i + 1].port > seq[i].port)
			down = 0;
	}
	if (!up && !down)
		return 0;
	snprintf(why, whylen, "%s port scan completes it: no port it "
	    "probes between %u/%s and %u/%s resets the attempt",
	    up ? "an ascending" : "a descending", seq[0].port,
	    proto_name(seq[0].proto), seq[1].port, proto_name(seq[1].proto));
	return 1;
}

#define HINT_SCAN	"at least two knocks, with an unlisted port between " \
			"knock ports or in an order no scan follows"

/* Every step in one direction (ports ascending, or descending)? */
static int
seq_monotonic(const struct cfg_port *seq, unsigned len)
{
	int up = 1, down = 1;
	unsigned i;

	for (i = 0; i + 1 < len; i++) {
		up &= seq[i + 1].port > seq[i].port;
		down &= seq[i + 1].port < seq[i].port;
	}
	return len > 1 && (up || down);
}

static void
config_check_scans(struct parser *p)
{
	char why[160], list[CFG_MAX_SEQ * 12];
	unsigned i;

	for (i = 0; i < p->cfg->ndoors; i++) {
		const struct cfg_door *d = &p->cfg->door[i];

		/* Without the guard nothing between knocks resets: what loads
		 * is the admin's risk, said out loud. */
		if (d->seq_line && !p->cfg->opt.scan_guard &&
		    seq_monotonic(d->seq, d->seq_len))
			config_warn(p, d->seq_line, "door '%s': with Scan_Guard "
			    "= no an ordered port scan completes Sequence %s "
			    "(nothing it probes between the knocks resets the "
			    "attempt, as with knockd)", d->name,
			    config_ports_format(d->seq, d->seq_len, list,
			    sizeof(list)));

		if (d->seq_line && seq_scannable(p->cfg, d->seq, d->seq_len,
		    why, sizeof(why)))
			config_error(p, d->seq_line, "door '%s': Sequence %s "
			    "can be opened by a port scan: %s (allowed: %s)",
			    d->name, config_ports_format(d->seq, d->seq_len,
			    list, sizeof(list)), why, HINT_SCAN);
	}
}

/* Close values, now that every door is known. */
static void
config_resolve_close(struct parser *p)
{
	struct config *cfg = p->cfg;
	struct cfg_door *d;
	struct span rest, item;
	char q[QUOTE_MAX];
	unsigned i, j;
	int k;

	for (i = 0; i < cfg->ndoors; i++) {
		d = &cfg->door[i];
		rest = p->close_val[i];
		if (p->close_line[i] == 0)
			continue;
		while (span_next(&rest, ',', &item)) {
			if (!door_name_ok(item))
				continue;	/* already reported */
			quote(q, sizeof(q), item);
			if ((k = door_index(cfg, item)) < 0) {
				config_error(p, p->close_line[i], "unknown "
				    "door '%s' in Close of door '%s' (allowed: "
				    "names of [door] sections of this file)",
				    q, d->name);
				continue;
			}
			if ((unsigned)k == i) {
				config_error(p, p->close_line[i], "door '%s' "
				    "closes itself (allowed: other doors)", q);
				continue;
			}
			for (j = 0; j < d->close_len; j++)
				if (d->close[j] == k)
					break;
			if (j < d->close_len) {
				config_error(p, p->close_line[i], "door '%s' "
				    "listed twice in Close (allowed: each door "
				    "once)", q);
				continue;
			}
			d->close[d->close_len++] = (uint8_t)k;
		}
	}
}

/* Do the first bits of a and b agree? */
static int
bits_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned i;

	for (i = 0; i < bits / 8; i++)
		if (a[i] != b[i])
			return 0;
	return bits % 8 == 0 ||
	    ((a[i] ^ b[i]) & (uint8_t)(0xff00u >> (bits % 8))) == 0;
}

/* Is every address of net/len in some Allow prefix?  Only halves that
 * hold a longer prefix are looked into: a few thousand steps at most. */
static int
allow_covers(const struct cfg_options *o, int family, const uint8_t *net,
    unsigned len, unsigned max)
{
	uint8_t half[16];
	int inside = 0;
	unsigned i;

	for (i = 0; i < o->allow_len; i++) {
		const struct cidr *c = &o->allow[i];

		if (c->net.family != family)
			continue;
		if (c->prefix <= len && bits_equal(c->net.b, net, c->prefix))
			return 1;
		if (c->prefix > len && bits_equal(c->net.b, net, len))
			inside = 1;
	}
	if (!inside || len >= max)
		return 0;
	memcpy(half, net, sizeof(half));
	half[len / 8] &= (uint8_t)~(0x80u >> (len % 8));
	if (!allow_covers(o, family, half, len + 1, max))
		return 0;
	half[len / 8] |= (uint8_t)(0x80u >> (len % 8));
	return allow_covers(o, family, half, len + 1, max);
}

/* [options] values that depend on each other. */
static void
config_finish_options(struct parser *p)
{
	struct cfg_options *o = &p->cfg->opt;
	static const uint8_t zero[16];

	/* Allow = 0.0.0.0/1, 128.0.0.0/1 is Allow = 0.0.0.0/0. */
	if (allow_covers(o, AF_INET, zero, 0, 32) ||
	    allow_covers(o, AF_INET6, zero, 0, 128))
		config_error(p, p->seen[K_ALLOW], "the Allow prefixes together "
		    "cover every %s address: nothing would be gated (allowed: "
		    "prefixes that leave the rest of the world out; to watch "
		    "without enforcing, Monitor = yes)",
		    allow_covers(o, AF_INET, zero, 0, 32) ? "IPv4" : "IPv6");

	if (!p->seen[K_PROTECTED_QUEUE])
		o->protected_queue = o->queue < 65535 ? o->queue + 1 :
		    o->queue - 1;
	else if (p->valid[K_PROTECTED_QUEUE] &&
	    (!p->seen[K_QUEUE] || p->valid[K_QUEUE]) &&
	    o->protected_queue == o->queue)
		config_error(p, p->seen[K_PROTECTED_QUEUE], "Protected_Queue "
		    "%u is Queue's number (allowed: another queue, so knocks "
		    "cannot crowd out granted connections)", o->queue);
}

static void
config_defaults(struct config *cfg)
{
	struct cfg_options *o = &cfg->opt;

	memset(cfg, 0, sizeof(*cfg));
	memcpy(o->control_socket, CFG_DEF_CONTROL, sizeof(CFG_DEF_CONTROL));
	memcpy(o->state_file, CFG_DEF_STATE, sizeof(CFG_DEF_STATE));
	o->max_sources = CFG_DEF_MAX_SOURCES;
	o->log_refused = 1;
	o->log_rate_n = CFG_DEF_LOG_RATE;
	o->log_rate_period = CFG_DEF_LOG_PERIOD;
	o->log_burst = CFG_DEF_LOG_BURST;
	o->scan_guard = 1;
	o->lockout_after = CFG_DEF_LOCKOUT_AFTER;
	o->lockout_time = CFG_DEF_LOCKOUT_TIME;
	o->spa_ports[0].proto = IPPROTO_UDP;
	o->spa_ports[0].port = CFG_DEF_SPA_PORT;
	o->spa_nports = 1;
	o->spa_max_age = CFG_DEF_SPA_MAX_AGE;
	o->spa_replay = CFG_DEF_SPA_REPLAY;
}

void
config_add_error(struct cfg_errors *err, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list ap;
	char *m;
	int n;

	if (err->n++ >= CFG_MAX_ERRORS)
		return;
	m = err->msg[err->n - 1];
	n = snprintf(m, CFG_ERR_MAX, "%s:%u: ", file, line);
	if (n < 0 || n >= CFG_ERR_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(m + n, CFG_ERR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
}

int
config_spa_check(const struct cfg_door *d, char *err, size_t errlen)
{
	const struct cfg_spa *sp = &d->sp;
	const struct spa_keys *k = &sp->keys;

	if (k->key_len < 1 || k->key_len > SPA_KEY_MAX)
		snprintf(err, errlen, "the SPA key must be 1-%d bytes (it is "
		    "%zu; fwknop's Rijndael key is used as given)",
		    SPA_KEY_MAX, k->key_len);
	else if (k->hmac_len == 0 && !sp->allow_no_hmac)
		snprintf(err, errlen, "no HMAC key: without one anybody can "
		    "flip bits of a captured packet (allowed: an HMAC key; "
		    "or, for old clients only, SPA_Allow_No_HMAC = yes)");
	else if (k->hmac_len > SPA_HMAC_KEY_MAX)
		snprintf(err, errlen, "the HMAC key is longer than %d bytes",
		    SPA_HMAC_KEY_MAX);
	else if (k->hmac_len == k->key_len &&
	    memcmp(k->hmac, k->key, k->key_len) == 0)
		snprintf(err, errlen, "the HMAC key is the encryption key "
		    "(allowed: two different keys, as fwknop requires)");
	else if (d->open_len == 0 && d->start_cmd[0] == '\0')
		snprintf(err, errlen, "no Open_Ports: an SPA door opens the "
		    "ports it lists, and a client may ask for those only");
	else
		return 0;
	return -1;
}

int
config_has_spa(const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->ndoors; i++)
		if (cfg->door[i].spa)
			return 1;
	return 0;
}

int
config_has_secrets(const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->ndoors; i++)
		if (cfg->door[i].spa && cfg->door[i].file[0] == '\0')
			return 1;
	return 0;
}

int
config_door_open_index(const struct cfg_door *d, uint8_t proto,
    uint16_t port)
{
	for (unsigned i = 0; i < d->open_len; i++)
		if (d->open[i].port == port && d->open[i].proto == proto)
			return (int)i;
	return -1;
}

/* SPA ports are their own: no knock, open or public port may be one. */
static void
config_check_spa_ports(struct parser *p)
{
	const struct cfg_options *o = &p->cfg->opt;
	const struct cfg_door *b;
	unsigned i, spa = 0;

	for (i = 0; i < p->cfg->ndoors; i++)
		spa |= (unsigned)p->cfg->door[i].spa;
	if (!spa && p->seen[K_SPA_PORT])
		config_warn(p, p->seen[K_SPA_PORT], "SPA_Port is set but no "
		    "door has an SPA key: the port is not listened to");
	for (i = 0; spa && i < o->spa_nports; i++) {
		const struct cfg_port *sp = &o->spa_ports[i];
		const char *what = NULL;

		if ((b = config_knocked_by(p->cfg, sp->proto, sp->port)))
			what = "a knock port of door";
		else if ((b = config_opened_by(p->cfg, sp->proto, sp->port)))
			what = "opened by door";
		if (what != NULL)
			config_error(p, p->seen[K_SPA_PORT] ? p->seen[K_SPA_PORT]
			    : 1, "SPA port %u/udp is %s '%s' (allowed: an SPA "
			    "port of its own)", sp->port, what, b->name);
		for (unsigned j = 0; j < o->public_len; j++)
			if (o->public_ports[j].port == sp->port &&
			    o->public_ports[j].proto == IPPROTO_UDP)
				config_error(p, p->seen[K_PUBLIC_PORTS],
				    "port %u/udp is public but is an SPA port "
				    "(allowed: Public_Ports outside SPA_Port)",
				    sp->port);
	}
}

unsigned
config_parse(const char *buf, size_t len, const char *file,
    struct config *cfg, struct cfg_errors *err)
{
	return config_parse_with(buf, len, file, cfg, err, NULL, NULL);
}

unsigned
config_parse_with(const char *buf, size_t len, const char *file,
    struct config *cfg, struct cfg_errors *err, cfg_access_reader rd,
    void *arg)
{
	struct parser p;
	const char *s = buf, *end, *nl;

	memset(err, 0, sizeof(*err));
	config_defaults(cfg);
	memset(&p, 0, sizeof(p));
	p.file = file != NULL ? file : "(config)";
	p.cfg = cfg;
	p.err = err;
	p.door = &p.scratch;
	if (buf == NULL)
		len = 0;
	end = len > 0 ? buf + len : buf;
	/* A UTF-8 byte-order mark, as some editors write. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		p.line++;
		config_line(&p, span_make(s, nl != NULL ? nl : end));
		s = nl != NULL ? nl + 1 : end;
	}
	door_finish(&p);
	if (rd != NULL && cfg->opt.fwknop_access[0] != '\0')
		rd(arg, cfg->opt.fwknop_access, p.file,
		    cfg->opt.fwknop_access_line, cfg, err);
	/* An empty or truncated file must not ungate what the last one
	 * gated: a configuration without a door is no configuration. */
	if (cfg->ndoors == 0 && err->n == 0)
		config_error(&p, p.line ? p.line : 1, "no door in the file: it "
		    "would gate nothing (allowed: at least one [door] section "
		    "with a Sequence or One_Time_Sequences)");
	config_finish_options(&p);
	config_resolve_close(&p);
	config_check_overlap(&p);
	config_check_public(&p);
	config_check_spa_ports(&p);
	config_check_scans(&p);
	return err->n;
}

int
config_door_find(const struct config *cfg, const char *name)
{
	unsigned i;

	if (name == NULL)
		return -1;
	for (i = 0; i < cfg->ndoors; i++)
		if (strcmp(cfg->door[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
ports_contain(const struct cfg_port *p, unsigned n, uint8_t proto,
    uint16_t port)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (p[i].port == port && p[i].proto == proto)
			return 1;
	return 0;
}

int
config_door_in_seq(const struct cfg_door *d, uint8_t proto, uint16_t port)
{
	return ports_contain(d->seq, d->seq_len, proto, port);
}

int
config_door_opens(const struct cfg_door *d, uint8_t proto, uint16_t port)
{
	return ports_contain(d->open, d->open_len, proto, port);
}

int
config_parse_ports(const char *text, size_t len, int open, struct cfg_port *out,
    unsigned max, unsigned *n, char *err, size_t errlen)
{
	struct parser p;
	struct span v = span_make(text, text + len);

	memset(&p, 0, sizeof(p));
	p.msg1 = err;
	p.msg1len = errlen;
	if (errlen > 0)
		err[0] = '\0';
	*n = 0;
	while (v.n > 0 && (v.p[v.n - 1] == '\n' || v.p[v.n - 1] == '\r'))
		v.n--;
	v = span_trim(v);
	if (v.n == 0)
		config_error(&p, 0, "empty %s (allowed: %s)",
		    open ? "port list" : "sequence", HINT_PORTS);
	else
		set_ports(&p, open ? K_OPEN_PORTS : K_SEQUENCE, v, out, max, n,
		    open);
	return p.nbare > 0 ? -1 : 0;
}

int
config_door_set_sequence(struct cfg_door *d, const char *text, size_t len,
    char *err, size_t errlen)
{
	struct cfg_port seq[CFG_MAX_SEQ];
	unsigned n;

	if (config_parse_ports(text, len, 0, seq, CFG_MAX_SEQ, &n, err,
	    errlen) != 0)
		return -1;
	memcpy(d->seq, seq, n * sizeof(seq[0]));
	d->seq_len = n;
	return 0;
}

int
config_door_seq_conflict(const struct config *cfg, unsigned door, char *err,
    size_t errlen)
{
	const struct cfg_door *d = &cfg->door[door], *b;
	const struct cfg_port *s;
	char why[160];
	unsigned i;

	for (i = 0; i < d->seq_len; i++) {
		s = &d->seq[i];
		if ((b = config_opened_by(cfg, s->proto, s->port)) != NULL) {
			snprintf(err, errlen, "port %u/%s of door '%s''s "
			    "sequence is opened by door '%s' (allowed: knock "
			    "ports outside every Open_Ports)", s->port,
			    proto_name(s->proto), d->name, b->name);
			return 1;
		}
		if (ports_contain(cfg->opt.public_ports, cfg->opt.public_len,
		    s->proto, s->port)) {
			snprintf(err, errlen, "port %u/%s of door '%s''s "
			    "sequence is public (allowed: knock ports outside "
			    "Public_Ports)", s->port, proto_name(s->proto),
			    d->name);
			return 1;
		}
	}
	if (seq_scannable(cfg, d->seq, d->seq_len, why, sizeof(why))) {
		snprintf(err, errlen, "door '%s''s sequence can be opened by a "
		    "port scan: %s (allowed: %s)", d->name, why, HINT_SCAN);
		return 1;
	}
	return 0;
}

/* Whole items only: a list that does not fit ends in "...", never in half a
 * port, so each item but the last leaves room for that mark. */
const char *
config_ports_format(const struct cfg_port *p, unsigned n, char *buf,
    size_t len)
{
	char item[24];
	size_t used = 0, room;
	unsigned i;
	int k;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		k = snprintf(item, sizeof(item), "%s%u/%s", i > 0 ? "," : "",
		    p[i].port, proto_name(p[i].proto));
		room = len - used;
		if (k < 0 || (size_t)k >= room ||
		    (i + 1 < n && (size_t)k + 3 >= room)) {
			if (room >= 4)
				memcpy(buf + used, "...", 4);
			break;
		}
		memcpy(buf + used, item, (size_t)k + 1);
		used += (size_t)k;
	}
	return buf;
}

static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

uint64_t
config_door_cmd_digest(const struct cfg_door *d)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t t = d->cmd_timeout;

	h = fnv1a(h, d->name, strlen(d->name) + 1);
	h = fnv1a(h, d->start_cmd, strlen(d->start_cmd) + 1);
	h = fnv1a(h, d->start_cmd6, strlen(d->start_cmd6) + 1);
	h = fnv1a(h, d->stop_cmd, strlen(d->stop_cmd) + 1);
	h = fnv1a(h, d->stop_cmd6, strlen(d->stop_cmd6) + 1);
	return fnv1a(h, &t, sizeof(t));
}

unsigned
config_unprotected(const struct config *old, const struct config *cfg,
    struct cfg_port *out, unsigned max)
{
	unsigned i, j, k, n = 0;

	for (i = 0; i < old->ndoors; i++)
		for (j = 0; j < old->door[i].open_len; j++) {
			const struct cfg_port *o = &old->door[i].open[j];

			if (config_opened_by(cfg, o->proto, o->port) != NULL)
				continue;
			for (k = 0; k < n; k++)
				if (out[k].port == o->port &&
				    out[k].proto == o->proto)
					break;
			if (k == n && n < max)
				out[n++] = *o;
		}
	return n;
}
