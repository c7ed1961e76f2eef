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

struct span {
	const char *p;
	size_t n;
};

enum key_id {
	/* [options] */
	K_USESYSLOG, K_LOGFILE, K_PIDFILE, K_INTERFACE, K_QUEUE,
	K_CONTROL_SOCKET, K_STATE_FILE, K_MAX_SOURCES, K_ALLOW,
	/* doors */
	K_SEQUENCE, K_ONE_TIME, K_SEQ_TIMEOUT, K_TCPFLAGS, K_START, K_START6,
	K_STOP, K_STOP6, K_CMD_TIMEOUT, K_TARGET, K_OPEN_PORTS, K_OPEN_TIMEOUT,
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
	[K_CONTROL_SOCKET] = "Control_Socket",
	[K_STATE_FILE] = "State_File",
	[K_MAX_SOURCES] = "Max_Sources",
	[K_ALLOW] = "Allow",
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
};

#define HINT_TIMEOUT	"1-" STR(CFG_LIM_TIMEOUT) " seconds"
#define HINT_PORTS	"port[:tcp|udp] items separated by commas"
#define HINT_FLAGS	"fin, syn, rst, psh, ack, urg, each optionally " \
			"negated with '!', separated by commas"

/* What a value looks like, for the "(allowed: ...)" part of messages. */
static const char *const key_hint[K_COUNT] = {
	[K_USESYSLOG] = "yes, no, true, false, 1 or 0; or UseSyslog alone",
	[K_LOGFILE] = "an absolute path",
	[K_PIDFILE] = "an absolute path",
	[K_INTERFACE] = "an interface name of 1-15 characters",
	[K_QUEUE] = "0-65535",
	[K_CONTROL_SOCKET] = "an absolute path",
	[K_STATE_FILE] = "an absolute path",
	[K_MAX_SOURCES] = "1-" STR(CFG_LIM_MAX_SOURCES),
	[K_ALLOW] = "address[/prefix] items separated by commas",
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
			"Control_Socket, State_File, Max_Sources, Allow"
#define DOOR_KEYS	"Sequence, One_Time_Sequences, Seq_Timeout, " \
			"TCPFlags, Start_Command, Start_Command_6, " \
			"Stop_Command, Stop_Command_6, Cmd_Timeout, Target, " \
			"Open_Ports, Open_Timeout"

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
	int start6_empty;		/* "Start_Command_6 =": do nothing */
	/* A section we refuse (bad or duplicate name, too many doors) is
	 * still parsed, into here, so its other mistakes get reported. */
	struct cfg_door scratch;
};

/* Quote-size for untrusted text in messages: enough to recognise it. */
#define QUOTE_MAX	52

static void config_error(struct parser *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
config_error(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char *m;
	size_t len = 0;
	int n;

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
set_syslog(struct parser *p, struct span v)
{
	char q[QUOTE_MAX];

	if (span_ieq(v, "yes") || span_ieq(v, "true") || span_ieq(v, "1"))
		p->cfg->opt.use_syslog = 1;
	else if (span_ieq(v, "no") || span_ieq(v, "false") ||
	    span_ieq(v, "0"))
		p->cfg->opt.use_syslog = 0;
	else
		config_error(p, p->line, "bad value '%s' for UseSyslog "
		    "(allowed: %s)", quote(q, sizeof(q), v),
		    key_hint[K_USESYSLOG]);
}

static void
set_interface(struct parser *p, struct span v)
{
	char q[QUOTE_MAX];
	size_t i;
	int bad = v.n >= CFG_IFNAME_MAX;

	for (i = 0; i < v.n; i++)
		if (v.p[i] == '/' || is_blank(v.p[i]) || is_ctrl(v.p[i]))
			bad = 1;
	if (bad || span_copy(p->cfg->opt.interface, CFG_IFNAME_MAX, v) != 0)
		config_error(p, p->line, "bad interface name '%s' "
		    "(allowed: 1-%d characters, no '/' or blanks)",
		    quote(q, sizeof(q), v), CFG_IFNAME_MAX - 1);
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

static void
set_value(struct parser *p, enum key_id id, struct span v)
{
	struct cfg_options *o = &p->cfg->opt;
	struct cfg_door *d = p->door;

	switch (id) {
	case K_USESYSLOG:
		set_syslog(p, v);
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
		set_ports(p, id, v, d->seq, CFG_MAX_SEQ, &d->seq_len, 0);
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
	set_value(p, id, val);
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
	if (!seen[K_SEQUENCE] && !seen[K_ONE_TIME])
		config_error(p, d->line, "door '%s' has no knock sequence "
		    "(allowed: Sequence = %s, or One_Time_Sequences = an "
		    "absolute path)", d->name, HINT_PORTS);
	if (seen[K_SEQUENCE] && seen[K_ONE_TIME])
		config_error(p, d->line, "door '%s' has both Sequence (line "
		    "%u) and One_Time_Sequences (line %u) (allowed: one of "
		    "them)", d->name, seen[K_SEQUENCE], seen[K_ONE_TIME]);
	if (!seen[K_OPEN_PORTS] && !seen[K_START] &&
	    !(seen[K_START6] && !p->start6_empty))
		config_error(p, d->line, "door '%s' does nothing: add "
		    "Open_Ports or Start_Command (a door must open ports or "
		    "run a command)", d->name);
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

static void
config_section(struct parser *p, struct span l)
{
	struct config *cfg = p->cfg;
	const char *close = memchr(l.p, ']', l.n);
	struct span name, rest;
	char q[QUOTE_MAX];
	unsigned i;

	door_finish(p);
	memset(p->seen + K_FIRST_DOOR, 0,
	    (K_COUNT - K_FIRST_DOOR) * sizeof(p->seen[0]));
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
	for (i = 0; i < cfg->ndoors; i++)
		if (strlen(cfg->door[i].name) == name.n &&
		    memcmp(cfg->door[i].name, name.p, name.n) == 0) {
			config_error(p, p->line, "duplicate door '%s', first "
			    "defined at line %u (allowed: each name once)",
			    p->scratch.name, cfg->door[i].line);
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
			config_error(p, a->line, "port %u/%s is opened by door "
			    "'%s' but is a knock port of door '%s' (allowed: "
			    "Open_Ports outside every Sequence; knock packets "
			    "are always dropped)", o->port,
			    proto_name(o->proto), a->name, b->name);
		}
	}
}

static void
config_defaults(struct config *cfg)
{
	struct cfg_options *o = &cfg->opt;

	memset(cfg, 0, sizeof(*cfg));
	memcpy(o->control_socket, CFG_DEF_CONTROL, sizeof(CFG_DEF_CONTROL));
	memcpy(o->state_file, CFG_DEF_STATE, sizeof(CFG_DEF_STATE));
	o->max_sources = CFG_DEF_MAX_SOURCES;
}

unsigned
config_parse(const char *buf, size_t len, const char *file,
    struct config *cfg, struct cfg_errors *err)
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
	config_check_overlap(&p);
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
