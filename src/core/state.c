/* state: serialise and parse gatekeeper's state file (pure).
 *
 * Parsing runs twice over the buffer: the first pass validates every line
 * and the record count, the second applies the records.  So a file that is
 * wrong anywhere, even in its last line, changes nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "state.h"

/* Longest "end N" line, with '\n': reserved while formatting. */
#define END_RESERVE	(sizeof("end 1048576\n") - 1)
#define NUM_DIGITS_MAX	19	/* INT64_MAX has 19 */

enum rec_type { REC_GRANT, REC_OTSEQ, REC_STOP, REC_END };

/* One parsed line after the header. */
struct rec {
	enum rec_type type;
	struct addr src;
	char door[CFG_NAME_MAX];
	int64_t real_ms;	/* grant expiry, stop due */
	uint64_t num;		/* otseq line, end count, stop job */
	uint64_t digest;	/* stop */
};

struct field {
	const char *p;
	size_t n;
};

/* a - b, saturated instead of overflowing. */
static int64_t
sub_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t
add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* The charset config.c allows in door names. */
static int
name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n >= CFG_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

const char *
state_drop_reason(unsigned why)
{
	switch (why) {
	case STATE_DROP_NO_DOOR:	return "door-removed";
	case STATE_DROP_NO_PORTS:	return "door-opens-nothing";
	case STATE_DROP_NO_OTSEQ:	return "door-has-no-one-time-sequences";
	case STATE_DROP_OT_FULL:	return "too-many-doors";
	}
	return "unknown";
}

/* ---- format ---- */

struct out {
	char *buf;
	size_t len, need;
};

static void
out_put(struct out *o, const char *s, size_t n)
{
	if (o->need < o->len) {
		size_t room = o->len - 1 - o->need;

		memcpy(o->buf + o->need, s, n < room ? n : room);
	}
	o->need += n;
}

/* Append a line formatted into a scratch buffer, unless it is too long or
 * it would leave less than reserve bytes below STATE_MAX_BYTES. */
static int
out_line(struct out *o, size_t reserve, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
out_line(struct out *o, size_t reserve, const char *fmt, ...)
{
	char line[STATE_LINE_MAX + 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > STATE_LINE_MAX + 1 ||
	    o->need + (size_t)n + reserve > STATE_MAX_BYTES)
		return -1;
	out_put(o, line, (size_t)n);
	return 0;
}

/* Wall-clock instant for a monotonic one, within the parser's range. */
static int64_t
to_real(int64_t mono_ms, int64_t now_mono_ms, int64_t now_real_ms)
{
	int64_t rem = sub_sat(mono_ms, now_mono_ms), real;

	if (rem > (int64_t)CFG_LIM_TIMEOUT * 1000)
		rem = (int64_t)CFG_LIM_TIMEOUT * 1000;
	real = add_sat(now_real_ms, rem);
	if (real < 1)
		real = 1;
	if (real > STATE_MAX_REAL_MS)
		real = STATE_MAX_REAL_MS;
	return real;
}

size_t
state_format(char *buf, size_t len, const struct config *cfg,
    const struct grant_table *gt, const struct state_otseq *ot, unsigned n_ot,
    const struct state_stop *stops, unsigned n_stops,
    int64_t now_mono_ms, int64_t now_real_ms, struct state_wstats *ws)
{
	struct state_wstats st = { 0, 0, 0, 0 };
	struct out o = { buf, len, 0 };
	char a[ADDR_STRLEN];
	unsigned i, nrec = 0;
	int64_t real;

	out_line(&o, END_RESERVE, "%s %d\n", STATE_MAGIC, STATE_VERSION);
	/* Positions first: few, and worth more than any one grant. */
	for (i = 0; i < n_ot; i++) {
		const char *name;

		if (ot[i].door >= cfg->ndoors)
			continue;	/* not a door of cfg: nothing to name */
		name = cfg->door[ot[i].door].name;
		if (nrec == STATE_MAX_RECORDS || !name_ok(name, strlen(name)) ||
		    out_line(&o, END_RESERVE, "otseq %s %u\n", name, ot[i].line) != 0) {
			st.omitted++;
			continue;
		}
		st.otseqs++;
		nrec++;
	}
	/* Owed stop commands next: each undoes something a command did. */
	for (i = 0; stops != NULL && i < n_stops; i++) {
		const struct state_stop *t = &stops[i];

		addr_format(&t->src, a, sizeof(a));
		if (nrec == STATE_MAX_RECORDS ||
		    !name_ok(t->door, strlen(t->door)) || a[0] == '?' ||
		    out_line(&o, END_RESERVE, "stop %016llx %s %016llx %s %lld\n",
		    (unsigned long long)t->job, t->door,
		    (unsigned long long)t->digest, a, (long long)to_real(
		    t->due_ms, now_mono_ms, now_real_ms)) != 0) {
			st.omitted++;
			continue;
		}
		st.stops++;
		nrec++;
	}
	for (i = 0; gt != NULL && i < grant_span(gt); i++) {
		const struct grant *g = &gt->g[i];
		const char *name;

		if (!g->used || g->door >= cfg->ndoors ||
		    g->expires_ms <= now_mono_ms)
			continue;	/* unnamed door, or expired anyway */
		/* A grant of some ports (SPA) is not kept over a restart:
		 * the record would grant them all.  The client asks again. */
		if (g->ports != GRANT_ALL_PORTS)
			continue;
		name = cfg->door[g->door].name;
		/* Capped so the stored instant stays within the parser's
		 * range; the reader clamps to Open_Timeout in any case. */
		real = to_real(g->expires_ms, now_mono_ms, now_real_ms);
		/* Only what the parser takes back: never "?" for an
		 * address of no known family. */
		addr_format(&g->src, a, sizeof(a));
		if (nrec == STATE_MAX_RECORDS || !name_ok(name, strlen(name)) ||
		    a[0] == '?' ||
		    out_line(&o, END_RESERVE, "grant %s %s %lld\n", a, name,
		    (long long)real) != 0) {
			st.omitted++;
			continue;
		}
		st.grants++;
		nrec++;
	}
	out_line(&o, 0, "end %u\n", nrec);	/* its room was kept */
	if (len > 0)
		buf[o.need < len ? o.need : len - 1] = '\0';
	if (ws)
		*ws = st;
	return o.need;
}

/* ---- parse ---- */

static int
fail(char *err, size_t errlen, unsigned lineno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, unsigned lineno, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (errlen == 0)
		return -1;
	n = snprintf(err, errlen, "line %u: ", lineno);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Split p[0..n) at single spaces into at most max fields.  Returns the
 * number of fields, max + 1 when there are more, 0 on an empty field
 * (leading, trailing or doubled space). */
static unsigned
split(const char *p, size_t n, struct field *f, unsigned max)
{
	unsigned nf = 0;
	size_t start = 0, i;

	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != ' ')
			continue;
		if (i == start)
			return 0;
		if (nf == max)
			return max + 1;
		f[nf].p = p + start;
		f[nf].n = i - start;
		nf++;
		start = i + 1;
	}
	return nf;
}

static int
field_is(struct field f, const char *s)
{
	return f.n == strlen(s) && memcmp(f.p, s, f.n) == 0;
}

/* Decimal without sign or leading zeros, at most max.  0 or -1. */
static int
parse_num(struct field f, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (f.n == 0 || f.n > NUM_DIGITS_MAX || (f.p[0] == '0' && f.n > 1))
		return -1;
	for (i = 0; i < f.n; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(f.p[i] - '0');	/* 19 digits fit */
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_door(struct field f, char *door)
{
	if (!name_ok(f.p, f.n))
		return -1;
	memcpy(door, f.p, f.n);
	door[f.n] = '\0';
	return 0;
}

/* A numeric address only: the charset keeps out names, zones and spaces
 * before inet_pton sees it. */
static int
parse_addr(struct field f, struct addr *a)
{
	char s[ADDR_STRLEN];
	size_t i;

	if (f.n == 0 || f.n >= sizeof(s))
		return -1;
	for (i = 0; i < f.n; i++) {
		char c = f.p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
			return -1;
	}
	memcpy(s, f.p, f.n);
	s[f.n] = '\0';
	return addr_parse(s, a);
}

/* Exactly 16 lowercase hex digits. */
static int
parse_hex64(struct field f, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (f.n != 16)
		return -1;
	for (i = 0; i < f.n; i++) {
		char c = f.p[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Field text for a message: printable (checked before), cut short. */
#define SHOW(f) (int)((f).n > 48 ? 48 : (f).n), (f).p

/* Parse one record line (not the header). */
static int
parse_record(const char *p, size_t n, unsigned lineno, struct rec *r,
    char *err, size_t errlen)
{
	struct field f[6];
	unsigned nf = split(p, n, f, 6);
	uint64_t v;

	memset(r, 0, sizeof(*r));
	if (n == 0)
		return fail(err, errlen, lineno, "empty line");
	if (nf == 0)
		return fail(err, errlen, lineno, "empty field (allowed: fields "
		    "separated by one space)");
	if (field_is(f[0], "grant")) {
		if (nf != 4)
			return fail(err, errlen, lineno, "grant needs 3 fields "
			    "(allowed: grant ADDR DOOR EXPIRES_REAL_MS)");
		if (parse_addr(f[1], &r->src) != 0)
			return fail(err, errlen, lineno, "bad address '%.*s' "
			    "(allowed: a numeric IPv4 or IPv6 address)",
			    SHOW(f[1]));
		if (parse_door(f[2], r->door) != 0)
			return fail(err, errlen, lineno, "bad door name "
			    "'%.*s' (allowed: 1-%d characters out of "
			    "A-Z a-z 0-9 _ . -)", SHOW(f[2]), CFG_NAME_MAX - 1);
		if (parse_num(f[3], (uint64_t)STATE_MAX_REAL_MS, &v) != 0 ||
		    v == 0)
			return fail(err, errlen, lineno, "bad expiry '%.*s' "
			    "(allowed: ms since 1970, 1-%lld)", SHOW(f[3]),
			    (long long)STATE_MAX_REAL_MS);
		r->type = REC_GRANT;
		r->real_ms = (int64_t)v;
		return 0;
	}
	if (field_is(f[0], "otseq")) {
		if (nf != 3)
			return fail(err, errlen, lineno, "otseq needs 2 fields "
			    "(allowed: otseq DOOR LINE)");
		if (parse_door(f[1], r->door) != 0)
			return fail(err, errlen, lineno, "bad door name "
			    "'%.*s' (allowed: 1-%d characters out of "
			    "A-Z a-z 0-9 _ . -)", SHOW(f[1]), CFG_NAME_MAX - 1);
		if (parse_num(f[2], UINT32_MAX, &r->num) != 0)
			return fail(err, errlen, lineno, "bad line number "
			    "'%.*s' (allowed: 0-%u)", SHOW(f[2]), UINT32_MAX);
		r->type = REC_OTSEQ;
		return 0;
	}
	if (field_is(f[0], "stop")) {
		if (nf != 6)
			return fail(err, errlen, lineno, "stop needs 5 fields "
			    "(allowed: stop JOB DOOR DIGEST ADDR DUE_REAL_MS)");
		if (parse_hex64(f[1], &r->num) != 0 ||
		    parse_hex64(f[3], &r->digest) != 0)
			return fail(err, errlen, lineno, "bad job or digest "
			    "(allowed: 16 lowercase hex digits each)");
		if (parse_door(f[2], r->door) != 0)
			return fail(err, errlen, lineno, "bad door name "
			    "'%.*s' (allowed: 1-%d characters out of "
			    "A-Z a-z 0-9 _ . -)", SHOW(f[2]), CFG_NAME_MAX - 1);
		if (parse_addr(f[4], &r->src) != 0)
			return fail(err, errlen, lineno, "bad address '%.*s' "
			    "(allowed: a numeric IPv4 or IPv6 address)",
			    SHOW(f[4]));
		if (parse_num(f[5], (uint64_t)STATE_MAX_REAL_MS, &v) != 0 ||
		    v == 0)
			return fail(err, errlen, lineno, "bad due time '%.*s' "
			    "(allowed: ms since 1970, 1-%lld)", SHOW(f[5]),
			    (long long)STATE_MAX_REAL_MS);
		r->type = REC_STOP;
		r->real_ms = (int64_t)v;
		return 0;
	}
	if (field_is(f[0], "end")) {
		if (nf != 2 || parse_num(f[1], STATE_MAX_RECORDS, &r->num) != 0)
			return fail(err, errlen, lineno, "bad end record "
			    "(allowed: end N, N at most %u)",
			    STATE_MAX_RECORDS);
		r->type = REC_END;
		return 0;
	}
	return fail(err, errlen, lineno, "unknown record '%.*s' (allowed: "
	    "grant, otseq, stop, end)", SHOW(f[0]));
}

static int
parse_header(const char *p, size_t n, char *err, size_t errlen)
{
	struct field f[2];
	unsigned nf = split(p, n, f, 2);
	uint64_t v;

	if (nf == 0 || !field_is(f[0], STATE_MAGIC))
		return fail(err, errlen, 1, "not a gatekeeper state file "
		    "(expected '%s %d')", STATE_MAGIC, STATE_VERSION);
	if (nf != 2 || parse_num(f[1], UINT32_MAX, &v) != 0)
		return fail(err, errlen, 1, "bad header (expected '%s %d')",
		    STATE_MAGIC, STATE_VERSION);
	if (v != 1 && v != STATE_VERSION)
		return fail(err, errlen, 1, "unsupported version %llu "
		    "(allowed: 1 or %d)", (unsigned long long)v, STATE_VERSION);
	return 0;
}

struct apply {
	const struct config *cfg;
	struct grant_table *gt;
	struct state_otseq *ot;
	unsigned max_ot, n_ot;
	struct state_stop *stops;
	unsigned max_stops, n_stops;
	int64_t now_mono, now_real;
	struct state_report *rep;
};

static struct state_dropped *
note_drop(struct state_report *rep, const struct rec *r, unsigned why)
{
	struct state_dropped *d;

	if (rep->ndrop == STATE_REPORT_MAX)
		return NULL;
	d = &rep->drop[rep->ndrop++];
	memset(d, 0, sizeof(*d));
	d->is_grant = r->type == REC_GRANT;
	d->why = (uint8_t)why;
	memcpy(d->door, r->door, sizeof(d->door));
	d->src = r->src;
	d->line = (unsigned)r->num;
	return d;
}

static void
apply_grant(struct apply *a, const struct rec *r)
{
	struct state_report *rep = a->rep;
	struct state_dropped *d;
	int64_t rem, limit;
	int i = config_door_find(a->cfg, r->door);

	rep->grants++;
	rem = sub_sat(r->real_ms, a->now_real);
	if (rem <= 0) {
		rep->expired++;
		return;
	}
	if (i < 0 || a->cfg->door[i].open_len == 0) {
		rep->dropped++;
		d = note_drop(rep, r, i < 0 ? STATE_DROP_NO_DOOR :
		    STATE_DROP_NO_PORTS);
		if (d)
			d->remaining_ms = rem;
		return;
	}
	/* More left than any grant can have: cut.  Not the door's
	 * Open_Timeout: gatekeeperctl grant --for may grant longer (up to
	 * CFG_LIM_TIMEOUT), and a restart must keep such grants.  A wall
	 * clock set back since the file was written is the caller's to
	 * handle (main counts from the file's mtime then). */
	limit = (int64_t)CFG_LIM_TIMEOUT * 1000;
	if (rem > limit) {
		rem = limit;
		rep->clamped++;
	}
	if (grant_add(a->gt, &r->src, (unsigned)i,
	    add_sat(a->now_mono, rem), NULL))
		rep->evicted++;
	rep->restored++;
}

static void
apply_otseq(struct apply *a, const struct rec *r)
{
	struct state_report *rep = a->rep;
	int i = config_door_find(a->cfg, r->door);
	unsigned k;

	rep->otseqs++;
	if (i < 0 || a->cfg->door[i].one_time_file[0] == '\0') {
		rep->ot_dropped++;
		note_drop(rep, r, i < 0 ? STATE_DROP_NO_DOOR :
		    STATE_DROP_NO_OTSEQ);
		return;
	}
	for (k = 0; k < a->n_ot; k++)
		if (a->ot[k].door == (unsigned)i)
			break;
	if (k == a->n_ot) {
		if (a->n_ot == a->max_ot) {
			rep->ot_dropped++;
			note_drop(rep, r, STATE_DROP_OT_FULL);
			return;
		}
		a->n_ot++;
		rep->ot_restored++;
	}
	a->ot[k].door = (unsigned)i;
	a->ot[k].line = (unsigned)r->num;
}

static void
apply_stop(struct apply *a, const struct rec *r)
{
	struct state_report *rep = a->rep;
	struct state_stop *t;
	int64_t rem;
	unsigned k;

	rep->stops++;
	if (config_door_find(a->cfg, r->door) < 0 ||
	    a->n_stops == a->max_stops) {
		rep->stops_dropped++;
		note_drop(rep, r, config_door_find(a->cfg, r->door) < 0 ?
		    STATE_DROP_NO_DOOR : STATE_DROP_OT_FULL);
		return;
	}
	for (k = 0; k < a->n_stops; k++)
		if (a->stops[k].job == r->num)
			break;			/* a repeat replaces */
	if (k == a->n_stops) {
		a->n_stops++;
		rep->stops_restored++;
	}
	t = &a->stops[k];
	memset(t, 0, sizeof(*t));
	t->job = r->num;
	t->digest = r->digest;
	memcpy(t->door, r->door, sizeof(t->door));
	t->src = r->src;
	rem = sub_sat(r->real_ms, a->now_real);
	if (rem < 0)
		rem = 0;		/* overdue: as soon as possible */
	if (rem > (int64_t)CFG_LIM_TIMEOUT * 1000)
		rem = (int64_t)CFG_LIM_TIMEOUT * 1000;
	t->due_ms = add_sat(a->now_mono, rem);
}

/* Walk every line; with a == NULL only validate. */
static int
walk(const char *buf, size_t len, struct apply *a, char *err, size_t errlen)
{
	size_t off = 0, n, j;
	unsigned lineno = 0, nrec = 0;
	const char *p, *nl;
	struct rec r;
	int ended = 0;

	while (off < len) {
		lineno++;
		p = buf + off;
		n = len - off;
		if (ended)
			return fail(err, errlen, lineno, "data after the end "
			    "record");
		nl = memchr(p, '\n', n < STATE_LINE_MAX + 1 ? n :
		    STATE_LINE_MAX + 1);
		if (nl == NULL && n > STATE_LINE_MAX)
			return fail(err, errlen, lineno, "line too long "
			    "(allowed: at most %d bytes)", STATE_LINE_MAX);
		if (nl == NULL)
			return fail(err, errlen, lineno, "no newline at the "
			    "end (file truncated?)");
		n = (size_t)(nl - p);
		off += n + 1;
		for (j = 0; j < n; j++)
			if ((unsigned char)p[j] < 0x20 ||
			    (unsigned char)p[j] > 0x7e)
				return fail(err, errlen, lineno, "bad byte "
				    "0x%02x at column %zu (allowed: printable "
				    "ASCII)", (unsigned char)p[j], j + 1);
		if (lineno == 1) {
			if (parse_header(p, n, err, errlen) != 0)
				return -1;
			continue;
		}
		if (parse_record(p, n, lineno, &r, err, errlen) != 0)
			return -1;
		if (r.type == REC_END && r.num != nrec)
			return fail(err, errlen, lineno, "end says %llu "
			    "records, the file has %u (truncated or edited?)",
			    (unsigned long long)r.num, nrec);
		if (r.type == REC_END) {
			ended = 1;
			continue;
		}
		if (++nrec > STATE_MAX_RECORDS)
			return fail(err, errlen, lineno, "too many records "
			    "(allowed: at most %u)", STATE_MAX_RECORDS);
		if (a != NULL && r.type == REC_GRANT)
			apply_grant(a, &r);
		else if (a != NULL && r.type == REC_OTSEQ)
			apply_otseq(a, &r);
		else if (a != NULL)
			apply_stop(a, &r);
	}
	if (lineno == 0)
		return fail(err, errlen, 1, "empty file (expected '%s %d')",
		    STATE_MAGIC, STATE_VERSION);
	if (!ended)
		return fail(err, errlen, lineno + 1, "no end record (file "
		    "truncated?)");
	return 0;
}

int
state_parse(const char *buf, size_t len, const struct config *cfg,
    struct grant_table *gt, struct state_otseq *ot, unsigned max_ot,
    unsigned *n_ot, struct state_stop *stops, unsigned max_stops,
    unsigned *n_stops, int64_t now_mono_ms, int64_t now_real_ms,
    struct state_report *rep, char *err, size_t errlen)
{
	struct apply a;

	memset(rep, 0, sizeof(*rep));
	if (errlen > 0)
		err[0] = '\0';
	if (len > STATE_MAX_BYTES) {
		snprintf(err, errlen, "file too large: %zu bytes (allowed: at "
		    "most %u)", len, STATE_MAX_BYTES);
		return -1;
	}
	if (walk(buf, len, NULL, err, errlen) != 0)
		return -1;
	a.cfg = cfg;
	a.gt = gt;
	a.ot = ot;
	a.max_ot = max_ot;
	a.n_ot = 0;
	a.stops = stops;
	a.max_stops = stops != NULL ? max_stops : 0;
	a.n_stops = 0;
	a.now_mono = now_mono_ms;
	a.now_real = now_real_ms;
	a.rep = rep;
	walk(buf, len, &a, err, errlen);	/* validated: cannot fail */
	*n_ot = a.n_ot;
	if (n_stops != NULL)
		*n_stops = a.n_stops;
	return 0;
}
