/* ctlproto: parse control requests and format replies (pure).
 *
 * Requests come from local admins but are still untrusted bytes: every
 * token is length-checked, addresses must be literals (no DNS), numbers are
 * range-checked.  Replies are built in a caller's fixed buffer: list items
 * are written whole or not at all, and CTL_OUT_RESERVE bytes stay free to
 * close the document and say that it was cut, so JSON stays valid. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ctlproto.h"
#include "pkt.h"

#define MAX_TOKENS	5	/* "json" + command + 3 arguments */
#define TOKEN_SHOW	48	/* bytes of a bad token quoted in an error */
#define WIDTH_SCAN	16384	/* rows scanned for column widths (more never fit) */
#define JW_DEPTH	8

static const struct {
	const char *name;
	unsigned min_args, max_args;
} cmds[CTL_NCMDS] = {
	[CTL_CMD_STATUS] = { "status", 0, 0 },
	[CTL_CMD_GRANTS] = { "grants", 0, 0 },
	[CTL_CMD_KNOCKS] = { "knocks", 0, 0 },
	[CTL_CMD_GRANT] = { "grant", 2, 3 },
	[CTL_CMD_REVOKE] = { "revoke", 1, 2 },
	[CTL_CMD_RELOAD] = { "reload", 0, 0 },
	[CTL_CMD_STATS] = { "stats", 0, 0 },
};

#define CMD_LIST "status grants knocks grant revoke reload stats"
#define CMD_USAGE_GRANT "grant ADDR DOOR [SECONDS]"
#define CMD_USAGE_REVOKE "revoke ADDR [DOOR]"

struct tok {
	const char *p;
	size_t n;
};

const char *
ctlproto_cmd_name(enum ctl_cmd cmd)
{
	return (unsigned)cmd < CTL_NCMDS ? cmds[cmd].name : "?";
}

static int
tok_is(struct tok t, const char *s)
{
	return strlen(s) == t.n && memcmp(t.p, s, t.n) == 0;
}



/* Split at spaces and tabs; -1 when there are more than max tokens. */
static int
split(const char *s, size_t len, struct tok *t, unsigned max, unsigned *nt)
{
	size_t i = 0, start;

	*nt = 0;
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			return 0;
		if (*nt == max)
			return -1;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		t[*nt].p = s + start;
		t[*nt].n = i - start;
		(*nt)++;
	}
}

/* Printable ASCII, spaces and tabs only; the offset of the first other
 * byte, or len. */
static size_t
first_bad_byte(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c > 0x7e)
			return i;
	}
	return len;
}

/* An IPv4-mapped IPv6 literal means the IPv4 source the daemon sees. */
static void
unmap_v4(struct addr *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (a->family == AF_INET6 && memcmp(a->b, prefix, 12) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->family = AF_INET;
	}
}

static int
parse_addr(struct tok t, struct addr *a, char *err, size_t errlen)
{
	char s[ADDR_STRLEN];

	if (t.n < sizeof(s)) {
		memcpy(s, t.p, t.n);
		s[t.n] = '\0';
		if (addr_parse(s, a) == 0) {
			unmap_v4(a);
			return 0;
		}
	}
	snprintf(err, errlen, "bad address '%.*s' (allowed: an IPv4 or IPv6 "
	    "literal; host names are not resolved)", (int)(t.n > TOKEN_SHOW ?
	    TOKEN_SHOW : t.n), t.p);
	return -1;
}

int
ctlproto_door_name_ok(const char *name)
{
	size_t i, n = strlen(name);
	char c;

	if (n == 0 || n >= CFG_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int
parse_door(struct tok t, char *door, char *err, size_t errlen)
{
	if (t.n < CFG_NAME_MAX) {
		memcpy(door, t.p, t.n);
		door[t.n] = '\0';
		if (ctlproto_door_name_ok(door))
			return 0;
	}
	door[0] = '\0';
	snprintf(err, errlen, "bad door name '%.*s' (allowed: 1-%d characters "
	    "out of A-Z a-z 0-9 _ . -)", (int)(t.n > TOKEN_SHOW ? TOKEN_SHOW :
	    t.n), t.p, CFG_NAME_MAX - 1);
	return -1;
}

/* Decimal seconds, 1..CTL_GRANT_MAX_SECONDS, digits only. */
static int
parse_seconds(struct tok t, unsigned *out, char *err, size_t errlen)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < t.n && t.n <= 6; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			break;
		v = v * 10 + (unsigned long)(t.p[i] - '0');
	}
	if (t.n == 0 || t.n > 6 || i != t.n || v < 1 ||
	    v > CTL_GRANT_MAX_SECONDS) {
		snprintf(err, errlen, "bad seconds '%.*s' (allowed: 1-%u)",
		    (int)(t.n > TOKEN_SHOW ? TOKEN_SHOW : t.n), t.p,
		    (unsigned)CTL_GRANT_MAX_SECONDS);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
find_cmd(struct tok t, enum ctl_cmd *cmd)
{
	unsigned i;

	for (i = 0; i < CTL_NCMDS; i++)
		if (tok_is(t, cmds[i].name)) {
			*cmd = (enum ctl_cmd)i;
			return 0;
		}
	return -1;
}

static int
parse_args(struct ctl_req *req, const struct tok *arg, unsigned n,
    char *err, size_t errlen)
{
	switch (req->cmd) {
	case CTL_CMD_GRANT:
		if (parse_addr(arg[0], &req->addr, err, errlen) != 0 ||
		    parse_door(arg[1], req->door, err, errlen) != 0)
			return -1;
		return n == 3 ? parse_seconds(arg[2], &req->seconds, err,
		    errlen) : 0;
	case CTL_CMD_REVOKE:
		if (parse_addr(arg[0], &req->addr, err, errlen) != 0)
			return -1;
		return n == 2 ? parse_door(arg[1], req->door, err, errlen) : 0;
	default:
		return 0;
	}
}

static const char *
cmd_usage(enum ctl_cmd cmd)
{
	switch (cmd) {
	case CTL_CMD_GRANT:
		return CMD_USAGE_GRANT;
	case CTL_CMD_REVOKE:
		return CMD_USAGE_REVOKE;
	default:
		return cmds[cmd].name;
	}
}

int
ctlproto_parse(const char *line, size_t len, struct ctl_req *req,
    char *err, size_t errlen)
{
	struct tok t[MAX_TOKENS];
	unsigned nt, first;
	size_t bad;

	memset(req, 0, sizeof(*req));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > CTL_REQ_MAX - 1) {
		snprintf(err, errlen, "request too long (allowed: %d bytes with "
		    "the newline)", CTL_REQ_MAX);
		return -1;
	}
	if ((bad = first_bad_byte(line, len)) < len) {
		snprintf(err, errlen, "non-printable byte 0x%02x at offset %zu "
		    "(allowed: printable ASCII)", (unsigned char)line[bad], bad);
		return -1;
	}
	if (split(line, len, t, MAX_TOKENS, &nt) != 0) {
		snprintf(err, errlen, "too many arguments");
		return -1;
	}
	first = nt > 0 && tok_is(t[0], "json");
	req->json = (int)first;
	if (nt == first) {
		snprintf(err, errlen, "empty request (commands: " CMD_LIST ")");
		return -1;
	}
	if (find_cmd(t[first], &req->cmd) != 0) {
		snprintf(err, errlen, "unknown command '%.*s' (commands: "
		    CMD_LIST ")", (int)(t[first].n > TOKEN_SHOW ? TOKEN_SHOW :
		    t[first].n), t[first].p);
		return -1;
	}
	nt -= first + 1;
	if (nt < cmds[req->cmd].min_args || nt > cmds[req->cmd].max_args) {
		snprintf(err, errlen, "%s arguments (usage: %s)",
		    nt < cmds[req->cmd].min_args ? "missing" : "too many",
		    cmd_usage(req->cmd));
		return -1;
	}
	return parse_args(req, t + first + 1, nt, err, errlen);
}

int
ctlproto_grant_args(const struct ctl_req *req, const struct config *cfg,
    unsigned *door, unsigned *seconds, char *err, size_t errlen)
{
	int d = config_door_find(cfg, req->door);

	if (d < 0) {
		snprintf(err, errlen, "no door named '%s'", req->door);
		return -1;
	}
	if (cfg->door[d].open_len == 0) {
		snprintf(err, errlen, "door '%s' has no Open_Ports: nothing to "
		    "grant", req->door);
		return -1;
	}
	*door = (unsigned)d;
	*seconds = req->seconds ? req->seconds : cfg->door[d].open_timeout;
	return 0;
}

int
ctlproto_revoke_args(const struct ctl_req *req, const struct config *cfg,
    int *door, char *err, size_t errlen)
{
	*door = -1;
	if (req->door[0] == '\0')
		return 0;
	if ((*door = config_door_find(cfg, req->door)) < 0) {
		snprintf(err, errlen, "no door named '%s'", req->door);
		return -1;
	}
	return 0;
}

/* ---- bounded output ---- */

static void
out_reset(struct ctl_out *o)
{
	o->len = 0;
	o->buf[0] = '\0';
	/* Tiny buffers (tests) keep half for closing. */
	o->limit = o->size > 2 * CTL_OUT_RESERVE ? o->size - CTL_OUT_RESERVE :
	    o->size / 2;
	o->full = o->truncated = 0;
}

void
ctlproto_out_init(struct ctl_out *o, char *buf, size_t size)
{
	o->buf = buf;
	o->size = size;
	out_reset(o);
}

/* Whole or nothing; after a miss nothing more is written until rollback. */
static void
out_write(struct ctl_out *o, const char *s, size_t n)
{
	if (o->full)
		return;
	if (n > o->limit - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
out_puts(struct ctl_out *o, const char *s)
{
	out_write(o, s, strlen(s));
}

static void
out_vprintf(struct ctl_out *o, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
out_vprintf(struct ctl_out *o, const char *fmt, va_list ap)
{
	size_t room = o->limit - o->len + 1;
	int k;

	if (o->full)
		return;
	k = vsnprintf(o->buf + o->len, room, fmt, ap);
	if (k < 0 || (size_t)k >= room) {
		o->buf[o->len] = '\0';
		o->full = 1;
		return;
	}
	o->len += (size_t)k;
}

void
ctlproto_out_printf(struct ctl_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(o, fmt, ap);
	va_end(ap);
}

/* Text for a terminal: control bytes and non-ASCII become '?'. */
static void
out_text(struct ctl_out *o, const char *s)
{
	char c;

	for (; *s && !o->full; s++) {
		c = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
		out_write(o, &c, 1);
	}
}

/* s, then spaces up to width, then one more space. */
static void
out_col(struct ctl_out *o, const char *s, size_t width)
{
	size_t n = strlen(s);

	out_text(o, s);
	do
		out_write(o, " ", 1);
	while (n++ < width && !o->full);
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned c = s[0];
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static void
out_json_char(struct ctl_out *o, unsigned char c)
{
	char esc[8];

	switch (c) {
	case '"': out_puts(o, "\\\""); break;
	case '\\': out_puts(o, "\\\\"); break;
	case '\n': out_puts(o, "\\n"); break;
	case '\r': out_puts(o, "\\r"); break;
	case '\t': out_puts(o, "\\t"); break;
	default:
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			out_puts(o, esc);
		} else {
			out_write(o, (const char *)&c, 1);
		}
	}
}

void
ctlproto_out_json_str(struct ctl_out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	out_write(o, "\"", 1);
	while (*p && !o->full) {
		if (*p < 0x80) {
			out_json_char(o, *p++);
		} else if ((n = utf8_len(p)) > 0) {
			out_write(o, (const char *)p, n);
			p += n;
		} else {
			out_puts(o, "\\ufffd");
			p++;
		}
	}
	out_write(o, "\"", 1);
}

/* Start a list item; item_end() keeps it, or removes it if it did not fit
 * and reports that the list must stop. */
static size_t
item_begin(const struct ctl_out *o)
{
	return o->len;
}

static int
item_end(struct ctl_out *o, size_t mark)
{
	if (!o->full)
		return 1;
	o->len = mark;
	o->buf[mark] = '\0';
	o->full = 0;
	o->truncated = 1;
	return 0;
}

/* The reserve is for closing the document: release it. */
static void
out_lift(struct ctl_out *o)
{
	o->limit = o->size - 1;
}

/* ---- a minimal JSON writer over ctl_out ---- */

struct jw {
	struct ctl_out *o;
	unsigned depth;
	uint8_t more[JW_DEPTH];	/* a value was written at this depth */
};

static void
jw_init(struct jw *j, struct ctl_out *o)
{
	memset(j, 0, sizeof(*j));
	j->o = o;
}

/* Separator and key before a value; key is NULL inside arrays. */
static void
jw_key(struct jw *j, const char *key)
{
	if (j->more[j->depth])
		out_write(j->o, ",", 1);
	j->more[j->depth] = 1;
	if (key != NULL) {
		ctlproto_out_json_str(j->o, key);
		out_write(j->o, ":", 1);
	}
}

static void
jw_open(struct jw *j, const char *key, char bracket)
{
	jw_key(j, key);
	out_write(j->o, &bracket, 1);
	if (j->depth + 1 < JW_DEPTH)
		j->more[++j->depth] = 0;
}

static void
jw_close(struct jw *j, char bracket)
{
	out_write(j->o, &bracket, 1);
	if (j->depth > 0)
		j->depth--;
}

static void
jw_str(struct jw *j, const char *key, const char *val)
{
	jw_key(j, key);
	ctlproto_out_json_str(j->o, val);
}

static void
jw_u64(struct jw *j, const char *key, uint64_t val)
{
	jw_key(j, key);
	ctlproto_out_printf(j->o, "%llu", (unsigned long long)val);
}

static void
jw_bool(struct jw *j, const char *key, int val)
{
	jw_key(j, key);
	out_puts(j->o, val ? "true" : "false");
}

static void
jw_null(struct jw *j, const char *key)
{
	jw_key(j, key);
	out_puts(j->o, "null");
}

static void
jw_ports(struct jw *j, const char *key, const struct cfg_port *p, unsigned n)
{
	char s[16];
	unsigned i;

	jw_open(j, key, '[');
	for (i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "%u/%s", p[i].port,
		    pkt_proto_name(p[i].proto));
		jw_str(j, NULL, s);
	}
	jw_close(j, ']');
}

static void
jw_end(struct jw *j)
{
	jw_close(j, '}');
	out_write(j->o, "\n", 1);
}

/* ---- walking the tables read-only ---- */

static uint64_t
secs_left(int64_t deadline_ms, int64_t now_ms)
{
	int64_t d = deadline_ms - now_ms;

	return d <= 0 ? 0 : (uint64_t)((d + 999) / 1000);
}

/* Next unexpired grant at or after *i, or NULL. */
static const struct grant *
grant_next(const struct grant_table *t, unsigned *i, int64_t now_ms)
{
	const struct grant *g;

	for (; t != NULL && *i < grant_span(t); (*i)++) {
		g = &t->g[*i];
		if (g->used && g->expires_ms > now_ms) {
			(*i)++;
			return g;
		}
	}
	return NULL;
}

static unsigned
count_grants(const struct grant_table *t, int64_t now_ms)
{
	unsigned i = 0, n = 0;

	while (grant_next(t, &i, now_ms) != NULL)
		n++;
	return n;
}

/* Sources with at least one live attempt (the iterator gives one
 * source's attempts one after another). */
static unsigned
count_knocking(const struct knock_table *t, const struct config *cfg,
    int64_t now_ms)
{
	struct knock_prog p;
	struct knock_iter it;
	struct addr last;
	unsigned n = 0;

	memset(&last, 0, sizeof(last));
	knock_iter_init(&it);
	while (knock_iter_next(t, cfg, &it, now_ms, &p))
		if (n == 0 || !addr_equal(&p.src, &last)) {
			n++;
			last = p.src;
		}
	return n;
}

static size_t
max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* ---- replies ---- */

static void
reply_ok(struct ctl_out *o)
{
	out_reset(o);
	out_puts(o, "ok\n");
}

void
ctlproto_error(struct ctl_out *o, const char *fmt, ...)
{
	char msg[CTL_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out_reset(o);
	out_puts(o, "error ");
	out_text(o, msg);
	out_puts(o, "\n");
}

static void
fmt_duration(char *buf, size_t len, uint64_t s)
{
	if (s >= 86400)
		snprintf(buf, len, "%llud %lluh %llum %llus",
		    (unsigned long long)(s / 86400),
		    (unsigned long long)(s / 3600 % 24),
		    (unsigned long long)(s / 60 % 60),
		    (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%lluh %llum %llus",
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s / 60 % 60),
		    (unsigned long long)(s % 60));
}

static uint64_t
uptime_s(const struct ctl_view *v, int64_t now_ms)
{
	return now_ms > v->st.started_ms ?
	    (uint64_t)((now_ms - v->st.started_ms) / 1000) : 0;
}

static const char *
str_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

static void
status_doors_text(struct ctl_out *o, const struct config *cfg)
{
	char seq[CFG_MAX_SEQ * 12], open[CFG_MAX_OPEN * 12], t[16];
	size_t wname = 4, wseq = 8, wopen = 5;
	const struct cfg_door *d;
	unsigned i;

	for (i = 0; i < cfg->ndoors; i++) {
		d = &cfg->door[i];
		wname = max_size(wname, strlen(d->name));
		wseq = max_size(wseq, strlen(config_ports_format(d->seq,
		    d->seq_len, seq, sizeof(seq))));
		wopen = max_size(wopen, strlen(config_ports_format(d->open,
		    d->open_len, open, sizeof(open))));
	}
	out_puts(o, "\n");
	out_col(o, "DOOR", wname);
	out_col(o, "SEQUENCE", wseq);
	out_col(o, "WITHIN", 6);
	out_col(o, "OPENS", wopen);
	out_puts(o, "FOR\n");
	for (i = 0; i < cfg->ndoors; i++) {
		d = &cfg->door[i];
		out_col(o, d->name, wname);
		out_col(o, config_ports_format(d->seq, d->seq_len, seq,
		    sizeof(seq)), wseq);
		snprintf(t, sizeof(t), "%us", d->seq_timeout);
		out_col(o, t, 6);
		if (d->open_len == 0) {
			out_col(o, "-", wopen);
			out_puts(o, d->start_cmd[0] ? "- (command)\n" : "-\n");
			continue;
		}
		out_col(o, config_ports_format(d->open, d->open_len, open,
		    sizeof(open)), wopen);
		ctlproto_out_printf(o, "%us\n", d->open_timeout);
	}
}

/* "7 (knock), 8 (protected)" */
static void
queues_text(struct ctl_out *o, const struct ctl_status *s)
{
	unsigned i;

	for (i = 0; i < s->nqueues && i < CTL_MAX_QUEUES; i++) {
		ctlproto_out_printf(o, "%s%u", i ? ", " : " ", s->queue[i].num);
		if (s->queue[i].role != NULL) {
			out_puts(o, " (");
			out_text(o, s->queue[i].role);
			out_puts(o, ")");
		}
	}
}

/* Packets the kernel dropped before we saw them, over every queue. */
static void
kernel_drops_text(struct ctl_out *o, const struct ctl_status *s)
{
	uint64_t qd = 0, ud = 0;
	unsigned i, found = 0;

	for (i = 0; i < s->nqueues && i < CTL_MAX_QUEUES; i++) {
		if (!s->queue[i].kernel_found)
			continue;
		found++;
		qd += s->queue[i].queue_dropped;
		ud += s->queue[i].user_dropped;
	}
	if (found == 0)
		out_puts(o, "counters unavailable\n");
	else
		ctlproto_out_printf(o, "%llu queue-dropped, %llu user-dropped"
		    "\n", (unsigned long long)qd, (unsigned long long)ud);
}

/* "health    ok: table, queues, ..." or the parts that are not, each with
 * what is wrong, one per line. */
static void
health_text(struct ctl_out *o, const struct ctl_status *s)
{
	unsigned i, bad = 0;

	for (i = 0; i < s->nhealth && i < CTL_MAX_HEALTH; i++)
		bad += !s->health[i].ok;
	out_puts(o, bad ? "health    NOT OK\n" : "health    ok\n");
	for (i = 0; i < s->nhealth && i < CTL_MAX_HEALTH; i++) {
		ctlproto_out_printf(o, "  %-8s %s ", str_or(s->health[i].name,
		    "?"), s->health[i].ok ? "ok  " : "LOST");
		out_text(o, s->health[i].detail);
		out_puts(o, "\n");
	}
}

static void
health_json(struct jw *j, const struct ctl_status *s)
{
	unsigned i;

	jw_open(j, "health", '[');
	for (i = 0; i < s->nhealth && i < CTL_MAX_HEALTH; i++) {
		jw_open(j, NULL, '{');
		jw_str(j, "name", str_or(s->health[i].name, "?"));
		jw_bool(j, "ok", s->health[i].ok);
		jw_str(j, "detail", s->health[i].detail);
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

static void
status_text(struct ctl_out *o, const struct ctl_view *v, int64_t now_ms)
{
	const struct verdict_stats *st = v->stats;
	char up[64];

	fmt_duration(up, sizeof(up), uptime_s(v, now_ms));
	out_puts(o, "gatekeeperd ");
	out_text(o, str_or(v->st.version, "?"));
	ctlproto_out_printf(o, "\nuptime    %llu s (%s)\nconfig    ",
	    (unsigned long long)uptime_s(v, now_ms), up);
	out_text(o, str_or(v->st.config_path, "?"));
	out_puts(o, "\nqueues   ");
	queues_text(o, &v->st);
	out_puts(o, "\nbackend   ");
	out_text(o, str_or(v->st.backend, "?"));
	out_puts(o, v->cfg->opt.monitor ? "\nmode      monitor (logs, never "
	    "drops)" : "\nmode      enforcing");
	ctlproto_out_printf(o, "\nsources   %u granted, %u knocking "
	    "(capacity %u)\n", count_grants(v->grants, now_ms),
	    count_knocking(v->knocks, v->cfg, now_ms),
	    v->cfg->opt.max_sources);
	ctlproto_out_printf(o, "packets   %llu seen, %llu accepted, %llu "
	    "dropped\n", (unsigned long long)st->packets,
	    (unsigned long long)st->accepted, (unsigned long long)st->dropped);
	out_puts(o, "kernel    ");
	kernel_drops_text(o, &v->st);
	ctlproto_out_printf(o, "log       %llu lines suppressed\n",
	    (unsigned long long)v->st.log_suppressed);
	health_text(o, &v->st);
	status_doors_text(o, v->cfg);
}

static void
status_doors_json(struct jw *j, const struct config *cfg)
{
	const struct cfg_door *d;
	unsigned i;

	jw_open(j, "doors", '[');
	for (i = 0; i < cfg->ndoors; i++) {
		d = &cfg->door[i];
		jw_open(j, NULL, '{');
		jw_str(j, "name", d->name);
		jw_ports(j, "sequence", d->seq, d->seq_len);
		jw_u64(j, "seq_timeout", d->seq_timeout);
		jw_ports(j, "open_ports", d->open, d->open_len);
		jw_u64(j, "open_timeout", d->open_timeout);
		jw_bool(j, "command", d->start_cmd[0] != '\0');
		jw_bool(j, "monitor", d->monitor);
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

/* Each queue with its kernel counters (null when unknown). */
static void
queues_json(struct jw *j, const struct ctl_status *s)
{
	const struct ctl_queue *q;
	unsigned i;

	jw_open(j, "queues", '[');
	for (i = 0; i < s->nqueues && i < CTL_MAX_QUEUES; i++) {
		q = &s->queue[i];
		jw_open(j, NULL, '{');
		jw_u64(j, "num", q->num);
		jw_str(j, "role", str_or(q->role, ""));
		if (q->kernel_found) {
			jw_u64(j, "waiting", q->waiting);
			jw_u64(j, "queue_dropped", q->queue_dropped);
			jw_u64(j, "user_dropped", q->user_dropped);
		} else {
			jw_null(j, "waiting");
			jw_null(j, "queue_dropped");
			jw_null(j, "user_dropped");
		}
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

static void
status_json(struct ctl_out *o, const struct ctl_view *v, int64_t now_ms)
{
	const struct verdict_stats *st = v->stats;
	struct jw j;

	jw_init(&j, o);
	jw_open(&j, NULL, '{');
	jw_str(&j, "version", str_or(v->st.version, "?"));
	jw_u64(&j, "uptime", uptime_s(v, now_ms));
	jw_str(&j, "config", str_or(v->st.config_path, "?"));
	queues_json(&j, &v->st);
	jw_str(&j, "backend", str_or(v->st.backend, "?"));
	jw_bool(&j, "monitor", v->cfg->opt.monitor);
	jw_u64(&j, "max_sources", v->cfg->opt.max_sources);
	health_json(&j, &v->st);
	status_doors_json(&j, v->cfg);
	jw_open(&j, "counters", '{');
	jw_u64(&j, "packets", st->packets);
	jw_u64(&j, "accepted", st->accepted);
	jw_u64(&j, "dropped", st->dropped);
	jw_u64(&j, "grants_active", count_grants(v->grants, now_ms));
	jw_u64(&j, "knocking_sources", count_knocking(v->knocks, v->cfg,
	    now_ms));
	jw_u64(&j, "log_suppressed", v->st.log_suppressed);
	jw_close(&j, '}');
	jw_end(&j);
}

/* Widths of the SOURCE, DOOR and PORTS columns of the grants list. */

/* The ports a grant holds: the door's Open_Ports its bits name (an SPA
 * grant may hold only some). */
static unsigned
grant_port_list(const struct cfg_door *d, const struct grant *g,
    struct cfg_port out[CFG_MAX_OPEN])
{
	unsigned n = 0;

	for (unsigned i = 0; i < d->open_len && i < 32; i++)
		if (g->ports & (1u << i))
			out[n++] = d->open[i];
	return n;
}

static const char *
granted_ports(const struct cfg_door *d, const struct grant *g, char *buf,
    size_t len)
{
	struct cfg_port ports[CFG_MAX_OPEN];

	return config_ports_format(ports, grant_port_list(d, g, ports), buf,
	    len);
}
static void
grants_widths(const struct ctl_view *v, int64_t now_ms, size_t w[3])
{
	char a[ADDR_STRLEN], p[CFG_MAX_OPEN * 12];
	const struct grant *g;
	unsigned i = 0, n = 0;

	w[0] = strlen("SOURCE"), w[1] = strlen("DOOR"), w[2] = strlen("PORTS");
	while (n++ < WIDTH_SCAN &&
	    (g = grant_next(v->grants, &i, now_ms)) != NULL) {
		const struct cfg_door *d = &v->cfg->door[g->door];

		w[0] = max_size(w[0], strlen(addr_format(&g->src, a,
		    sizeof(a))));
		w[1] = max_size(w[1], strlen(d->name));
		w[2] = max_size(w[2], strlen(granted_ports(d, g, p,
		    sizeof(p))));
	}
}

static void
grant_row_text(struct ctl_out *o, const struct config *cfg,
    const struct grant *g, int64_t now_ms, const size_t w[3])
{
	char a[ADDR_STRLEN], p[CFG_MAX_OPEN * 12];
	const struct cfg_door *d = &cfg->door[g->door];

	out_col(o, addr_format(&g->src, a, sizeof(a)), w[0]);
	out_col(o, d->name, w[1]);
	out_col(o, granted_ports(d, g, p, sizeof(p)), w[2]);
	ctlproto_out_printf(o, "%llus\n",
	    (unsigned long long)secs_left(g->expires_ms, now_ms));
}

static void
grant_row_json(struct jw *j, const struct config *cfg, const struct grant *g,
    int64_t now_ms)
{
	char a[ADDR_STRLEN];
	const struct cfg_door *d = &cfg->door[g->door];

	jw_open(j, NULL, '{');
	jw_str(j, "src", addr_format(&g->src, a, sizeof(a)));
	jw_str(j, "door", d->name);
	{
		struct cfg_port ports[CFG_MAX_OPEN];
		unsigned n = grant_port_list(d, g, ports);

		jw_ports(j, "ports", ports, n);
	}
	jw_u64(j, "expires_in", secs_left(g->expires_ms, now_ms));
	jw_close(j, '}');
}

/* The human marker line of a cut list. */
static void
truncated_text(struct ctl_out *o, unsigned shown, unsigned total,
    const char *what)
{
	ctlproto_out_printf(o, "... truncated: %u of %u %s shown (reply "
	    "limit %u bytes)\n", shown, total, what, (unsigned)o->size);
}

/* Close a listing: the JSON array with its count (j not NULL), or the
 * text's truncation marker, or "none" when nothing was listed. */
static void
list_end(struct ctl_out *o, struct jw *j, unsigned shown, unsigned total,
    const char *what, const char *none)
{
	if (j != NULL) {
		jw_close(j, ']');
		jw_u64(j, "count", total);
		jw_bool(j, "truncated", o->truncated);
		jw_end(j);
	} else if (o->truncated) {
		truncated_text(o, shown, total, what);
	} else if (shown == 0) {
		out_reset(o);
		ctlproto_out_printf(o, "ok\n%s\n", none);
	}
}

static void
grants_reply(struct ctl_out *o, int json, const struct ctl_view *v,
    int64_t now_ms)
{
	const struct grant *g;
	unsigned i = 0, shown = 0, total;
	size_t w[3], mark;
	struct jw j;

	jw_init(&j, o);
	if (json) {
		jw_open(&j, NULL, '{');
		jw_open(&j, "grants", '[');
	} else {
		grants_widths(v, now_ms, w);
		out_col(o, "SOURCE", w[0]);
		out_col(o, "DOOR", w[1]);
		out_col(o, "PORTS", w[2]);
		out_puts(o, "LEFT\n");
	}
	while ((g = grant_next(v->grants, &i, now_ms)) != NULL) {
		mark = item_begin(o);
		if (json)
			grant_row_json(&j, v->cfg, g, now_ms);
		else
			grant_row_text(o, v->cfg, g, now_ms, w);
		if (!item_end(o, mark))
			break;
		shown++;
	}
	out_lift(o);
	total = o->truncated ? count_grants(v->grants, now_ms) : shown;
	list_end(o, json ? &j : NULL, shown, total, "grants",
	    "no active grants");
}

static void
knocks_widths(const struct ctl_view *v, int64_t now_ms, size_t w[2])
{
	struct knock_prog p;
	char a[ADDR_STRLEN];
	struct knock_iter it;
	unsigned n = 0;

	w[0] = strlen("SOURCE"), w[1] = strlen("DOOR");
	knock_iter_init(&it);
	while (n++ < WIDTH_SCAN &&
	    knock_iter_next(v->knocks, v->cfg, &it, now_ms, &p)) {
		w[0] = max_size(w[0], strlen(addr_format(&p.src, a,
		    sizeof(a))));
		w[1] = max_size(w[1], strlen(v->cfg->door[p.door].name));
	}
}

static void
knock_row(struct ctl_out *o, struct jw *j, const struct config *cfg,
    const struct knock_prog *p, int64_t now_ms, const size_t *w)
{
	const struct cfg_door *door = &cfg->door[p->door];
	uint64_t left = secs_left(p->start_ms +
	    (int64_t)door->seq_timeout * 1000, now_ms);
	char a[ADDR_STRLEN], stage[16];

	addr_format(&p->src, a, sizeof(a));
	if (j != NULL) {
		jw_open(j, NULL, '{');
		jw_str(j, "src", a);
		jw_str(j, "door", door->name);
		jw_u64(j, "stage", p->stage);
		jw_u64(j, "of", door->seq_len);
		jw_u64(j, "expires_in", left);
		jw_close(j, '}');
		return;
	}
	out_col(o, a, w[0]);
	out_col(o, door->name, w[1]);
	snprintf(stage, sizeof(stage), "%u/%u", p->stage, door->seq_len);
	out_col(o, stage, 5);
	ctlproto_out_printf(o, "%llus\n", (unsigned long long)left);
}

static unsigned
count_knocks(const struct ctl_view *v, int64_t now_ms)
{
	struct knock_prog p;
	struct knock_iter it;
	unsigned n = 0;

	knock_iter_init(&it);
	while (knock_iter_next(v->knocks, v->cfg, &it, now_ms, &p))
		n++;
	return n;
}

static void
knocks_reply(struct ctl_out *o, int json, const struct ctl_view *v,
    int64_t now_ms)
{
	struct knock_prog p;
	unsigned shown = 0, total;
	struct knock_iter it;
	size_t w[2] = { 0, 0 }, mark;
	struct jw j;

	jw_init(&j, o);
	if (json) {
		jw_open(&j, NULL, '{');
		jw_open(&j, "knocks", '[');
	} else {
		knocks_widths(v, now_ms, w);
		out_col(o, "SOURCE", w[0]);
		out_col(o, "DOOR", w[1]);
		out_col(o, "STAGE", 5);
		out_puts(o, "LEFT\n");
	}
	knock_iter_init(&it);
	while (knock_iter_next(v->knocks, v->cfg, &it, now_ms, &p)) {
		mark = item_begin(o);
		knock_row(o, json ? &j : NULL, v->cfg, &p, now_ms, w);
		if (!item_end(o, mark))
			break;
		shown++;
	}
	out_lift(o);
	total = o->truncated ? count_knocks(v, now_ms) : shown;
	list_end(o, json ? &j : NULL, shown, total, "knocks",
	    "no knocks in progress");
}

/* One counter: "a.b  N" as text, "b": N inside the open object as JSON. */
static void
stat_put(struct ctl_out *o, struct jw *j, const char *group,
    const char *name, uint64_t val)
{
	char key[64];

	if (j != NULL) {
		jw_u64(j, name, val);
		return;
	}
	snprintf(key, sizeof(key), "%s%s%s", group ? group : "",
	    group ? "." : "", name);
	out_col(o, key, 26);
	ctlproto_out_printf(o, "%llu\n", (unsigned long long)val);
}

static void
stat_group(struct jw *j, const char *group)
{
	if (j != NULL)
		jw_open(j, group, '{');
}

static void
stat_group_end(struct jw *j)
{
	if (j != NULL)
		jw_close(j, '}');
}

static void
stats_verdicts(struct ctl_out *o, struct jw *j, const struct verdict_stats *st)
{
	unsigned i;

	stat_put(o, j, NULL, "packets", st->packets);
	stat_put(o, j, NULL, "accepted", st->accepted);
	stat_put(o, j, NULL, "dropped", st->dropped);
	stat_group(j, "verdict");
	for (i = 0; i < VR_NREASONS; i++)
		stat_put(o, j, "verdict", verdict_reason_name(i),
		    st->reason[i]);
	stat_group_end(j);
	stat_group(j, "malformed");
	for (i = 1; i < PKT_NSTATUS; i++)
		stat_put(o, j, "malformed", pkt_status_name(i),
		    st->malformed[i]);
	stat_group_end(j);
	stat_group(j, "spa");
	for (i = 0; i < SPAG_NREASONS; i++)
		stat_put(o, j, "spa", spag_reason_name(i), st->spa[i]);
	stat_group_end(j);
	stat_put(o, j, NULL, "knocks", st->knocks);
	stat_put(o, j, NULL, "grants", st->grants);
	stat_put(o, j, NULL, "grant_evictions", st->grant_evictions);
	stat_put(o, j, NULL, "monitored", st->monitored);
	stat_put(o, j, NULL, "duplicates", st->duplicates);
	stat_put(o, j, NULL, "scan_resets", st->scan_resets);
	stat_put(o, j, NULL, "lockouts", st->lockouts);
	stat_put(o, j, NULL, "locked", st->locked);
	stat_put(o, j, NULL, "closes", st->closes);
	stat_put(o, j, NULL, "lost_resets", st->lost_resets);
	stat_put(o, j, NULL, "knocks_scanner", st->knocks_scanner);
	stat_put(o, j, NULL, "knocks_recent", st->knocks_recent);
	stat_put(o, j, NULL, "settled", st->settled);
	stat_put(o, j, NULL, "cancelled", st->cancelled);
	stat_put(o, j, NULL, "settle_full", st->settle_full);
	stat_put(o, j, NULL, "held", st->held);
}

static void
stats_tables(struct ctl_out *o, struct jw *j, const struct ctl_view *v,
    int64_t now_ms)
{
	static const struct grant_stats gnone;
	static const struct knock_stats knone;
	const struct grant_stats *gs = v->grants ? &v->grants->st : &gnone;
	const struct knock_stats *ks = v->knocks ? &v->knocks->st : &knone;

	stat_group(j, "grant_table");
	stat_put(o, j, "grant_table", "active", count_grants(v->grants,
	    now_ms));
	stat_put(o, j, "grant_table", "added", gs->added);
	stat_put(o, j, "grant_table", "refreshed", gs->refreshed);
	stat_put(o, j, "grant_table", "expired", gs->expired);
	stat_put(o, j, "grant_table", "revoked", gs->revoked);
	stat_put(o, j, "grant_table", "evicted", gs->evicted);
	stat_group_end(j);
	stat_group(j, "knock_table");
	stat_put(o, j, "knock_table", "active", count_knocking(v->knocks,
	    v->cfg, now_ms));
	stat_put(o, j, "knock_table", "evicted", ks->evicted);
	stat_put(o, j, "knock_table", "evicted_locked", ks->evicted_locked);
	stat_put(o, j, "knock_table", "reclaimed", ks->reclaimed);
	stat_put(o, j, "knock_table", "refused", ks->refused);
	stat_put(o, j, "knock_table", "sources", ks->used);
	stat_put(o, j, "knock_table", "cells", ks->cells_used);
	stat_put(o, j, "knock_table", "bytes", v->knocks ?
	    knock_memory(v->knocks) : 0);
	stat_group_end(j);
	stat_put(o, j, NULL, "log_suppressed", v->st.log_suppressed);
}

/* Text: "kernel.7.queue_dropped  N" per queue; JSON: the queues array. */
static void
stats_kernel(struct ctl_out *o, struct jw *j, const struct ctl_status *s)
{
	const struct ctl_queue *q;
	char group[32];
	unsigned i;

	if (j != NULL) {
		queues_json(j, s);
		return;
	}
	for (i = 0; i < s->nqueues && i < CTL_MAX_QUEUES; i++) {
		q = &s->queue[i];
		snprintf(group, sizeof(group), "kernel.%u", q->num);
		if (!q->kernel_found) {
			out_col(o, group, 26);
			out_puts(o, "unavailable\n");
			continue;
		}
		stat_put(o, NULL, group, "waiting", q->waiting);
		stat_put(o, NULL, group, "queue_dropped", q->queue_dropped);
		stat_put(o, NULL, group, "user_dropped", q->user_dropped);
	}
}

static void
stats_reply(struct ctl_out *o, int json, const struct ctl_view *v,
    int64_t now_ms)
{
	struct jw j, *jp = json ? &j : NULL;

	jw_init(&j, o);
	if (jp)
		jw_open(jp, NULL, '{');
	stats_verdicts(o, jp, v->stats);
	stats_tables(o, jp, v, now_ms);
	stats_kernel(o, jp, &v->st);
	if (jp)
		jw_end(jp);
}

void
ctlproto_show(struct ctl_out *o, const struct ctl_req *req,
    const struct ctl_view *v, int64_t now_ms)
{
	reply_ok(o);
	switch (req->cmd) {
	case CTL_CMD_STATUS:
		if (req->json)
			status_json(o, v, now_ms);
		else
			status_text(o, v, now_ms);
		break;
	case CTL_CMD_GRANTS:
		grants_reply(o, req->json, v, now_ms);
		break;
	case CTL_CMD_KNOCKS:
		knocks_reply(o, req->json, v, now_ms);
		break;
	case CTL_CMD_STATS:
		stats_reply(o, req->json, v, now_ms);
		break;
	default:
		ctlproto_error(o, "%s is not a read-only command",
		    ctlproto_cmd_name(req->cmd));
		return;
	}
	if (o->full)	/* only a buffer far below CTL_REPLY_MAX gets here */
		ctlproto_error(o, "reply too large for %zu bytes", o->size);
}

void
ctlproto_granted(struct ctl_out *o, int json, const struct config *cfg,
    const struct addr *a, unsigned door, unsigned seconds)
{
	const struct cfg_door *d = &cfg->door[door];
	char as[ADDR_STRLEN], ports[CFG_MAX_OPEN * 12];
	struct jw j;

	addr_format(a, as, sizeof(as));
	reply_ok(o);
	if (!json) {
		ctlproto_out_printf(o, "granted %s door %s (%s) for %u s\n",
		    as, d->name, config_ports_format(d->open, d->open_len,
		    ports, sizeof(ports)), seconds);
		return;
	}
	jw_init(&j, o);
	jw_open(&j, NULL, '{');
	jw_str(&j, "src", as);
	jw_str(&j, "door", d->name);
	jw_ports(&j, "ports", d->open, d->open_len);
	jw_u64(&j, "expires_in", seconds);
	jw_end(&j);
}

void
ctlproto_revoked(struct ctl_out *o, int json, const struct config *cfg,
    const struct addr *a, int door, unsigned removed)
{
	char as[ADDR_STRLEN];
	struct jw j;

	addr_format(a, as, sizeof(as));
	reply_ok(o);
	if (!json) {
		ctlproto_out_printf(o, "revoked %u grant%s of %s", removed,
		    removed == 1 ? "" : "s", as);
		if (door >= 0)
			ctlproto_out_printf(o, " door %s", cfg->door[door].name);
		out_puts(o, "\n");
		return;
	}
	jw_init(&j, o);
	jw_open(&j, NULL, '{');
	jw_str(&j, "src", as);
	if (door >= 0)
		jw_str(&j, "door", cfg->door[door].name);
	else
		jw_null(&j, "door");
	jw_u64(&j, "revoked", removed);
	jw_end(&j);
}

void
ctlproto_reloaded(struct ctl_out *o, int json, const struct config *cfg)
{
	struct jw j;

	reply_ok(o);
	if (!json) {
		ctlproto_out_printf(o, "reloaded: %u door%s, queue %u\n",
		    cfg->ndoors, cfg->ndoors == 1 ? "" : "s", cfg->opt.queue);
		return;
	}
	jw_init(&j, o);
	jw_open(&j, NULL, '{');
	jw_bool(&j, "reloaded", 1);
	jw_u64(&j, "doors", cfg->ndoors);
	jw_u64(&j, "queue", cfg->opt.queue);
	jw_end(&j);
}

void
ctlproto_reload_failed(struct ctl_out *o, int json, const char *reason,
    const struct cfg_errors *errs)
{
	unsigned i, kept = errs ? (errs->n < CFG_MAX_ERRORS ? errs->n :
	    CFG_MAX_ERRORS) : 0;
	struct jw j;

	ctlproto_error(o, "%s", reason);
	jw_init(&j, o);
	if (json) {
		jw_open(&j, NULL, '{');
		jw_open(&j, "errors", '[');
	}
	for (i = 0; i < kept; i++) {
		if (json) {
			jw_str(&j, NULL, errs->msg[i]);
		} else {
			out_text(o, errs->msg[i]);
			out_puts(o, "\n");
		}
	}
	out_lift(o);
	if (json) {
		jw_close(&j, ']');
		jw_u64(&j, "count", errs ? errs->n : 0);
		jw_end(&j);
	} else if (errs && errs->n > kept) {
		ctlproto_out_printf(o, "... and %u more errors\n",
		    errs->n - kept);
	}
}
