/* logfmt: build key=value log lines and format gatekeeper's events (pure). */
#include <stdio.h>
#include <string.h>

#include "logfmt.h"
#include "spagate.h"
#include "pkt.h"

#define CUT_MARK " ..."

void
lf_init(struct lf *l, char *buf, size_t size)
{
	l->buf = buf;
	l->size = size;
	l->len = 0;
	l->cut = 0;
	if (size)
		buf[0] = '\0';
}

/* Append n bytes, always leaving room for CUT_MARK; once a piece does not
 * fit, end the line with the mark and take nothing more. */
static void
put(struct lf *l, const char *s, size_t n)
{
	size_t mark = sizeof(CUT_MARK);	/* with its NUL */

	if (l->cut)
		return;
	if (l->size < mark) {
		l->cut = 1;
		return;
	}
	if (l->len + n + mark > l->size) {
		memcpy(l->buf + l->len, CUT_MARK, mark);
		l->len += mark - 1;
		l->cut = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static int
needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || *v == '"' || *v == '=' ||
		    *v == '\\' || (unsigned char)*v == 0x7f)
			return 1;
	return 0;
}

/* " key=" in one piece, so a cut never splits it.  (No snprintf here or
 * below: a line is formatted for every verdict.) */
static void
put_key(struct lf *l, const char *key)
{
	char k[64];
	size_t n = 0, kl = strlen(key);

	if (kl > sizeof(k) - 2)
		kl = sizeof(k) - 2;
	if (l->len)
		k[n++] = ' ';
	memcpy(k + n, key, kl);
	n += kl;
	if (n < sizeof(k))
		k[n++] = '=';
	put(l, k, n);
}

/* Decimal digits of v at p (room for 20); their number. */
static size_t
put_dec(char *p, uint64_t v)
{
	char d[20];
	size_t n = 0, i;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = d[n - 1 - i];
	return n;
}

void
lf_str(struct lf *l, const char *key, const char *val)
{
	char esc[5];

	put_key(l, key);
	if (!needs_quotes(val)) {
		put(l, val, strlen(val));
		return;
	}
	put(l, "\"", 1);
	for (; *val; val++) {
		unsigned char c = (unsigned char)*val;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c < ' ' || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			put(l, esc, 4);
		} else
			put(l, val, 1);
	}
	put(l, "\"", 1);
}

void
lf_u64(struct lf *l, const char *key, uint64_t val)
{
	char num[24];

	num[put_dec(num, val)] = '\0';
	lf_str(l, key, num);
}

void
lf_i64(struct lf *l, const char *key, int64_t val)
{
	char num[24];
	size_t n = 0;

	if (val < 0)
		num[n++] = '-';
	n += put_dec(num + n, val < 0 ? 0 - (uint64_t)val : (uint64_t)val);
	num[n] = '\0';
	lf_str(l, key, num);
}

void
lf_addr(struct lf *l, const char *key, const struct addr *a)
{
	char buf[ADDR_STRLEN];

	lf_str(l, key, addr_format(a, buf, sizeof(buf)));
}

void
lf_port(struct lf *l, const char *key, uint16_t port, uint8_t proto)
{
	const char *name = pkt_proto_name(proto);
	char buf[32];
	size_t n = put_dec(buf, port), k = strlen(name);

	buf[n++] = '/';
	if (k > sizeof(buf) - n - 1)
		k = sizeof(buf) - n - 1;
	memcpy(buf + n, name, k);
	buf[n + k] = '\0';
	lf_str(l, key, buf);
}

void
logfmt_verdict(struct lf *l, const struct config *cfg,
    const struct verdict *v)
{
	lf_str(l, "event", "verdict");
	if (cfg->opt.log_prefix[0] != '\0' && verdict_refused(v))
		lf_str(l, "prefix", cfg->opt.log_prefix);
	lf_str(l, "verdict", v->accept ? "accept" : "drop");
	if (v->monitor) {
		lf_str(l, "would", v->would_accept ? "accept" : "drop");
		lf_str(l, "monitor", "yes");
	}
	if (v->reason != VR_MALFORMED) {
		lf_addr(l, "src", &v->pkt.src);
		lf_port(l, "dport", v->pkt.dport, v->pkt.proto);
	}
	if (v->door >= 0)
		lf_str(l, "door", cfg->door[v->door].name);
	lf_str(l, "reason", verdict_reason_name(v->reason));
	if (v->locked)
		lf_str(l, "locked", "yes");
	if (v->ignored != SW_OK)
		lf_str(l, "ignored", v->ignored == SW_SCANNER ? "scanner" :
		    "reset");
	if (v->waited)
		lf_str(l, "waited", "yes");
	if (v->reason == VR_MALFORMED)
		lf_str(l, "error", pkt_status_name(v->status));
}

static const char *const knock_events[] = {
	[KEV_STAGE] = "knock",
	[KEV_RESET] = "knock-reset",
	[KEV_TIMEOUT] = "knock-timeout",
	[KEV_COMPLETE] = "knock-complete",
	[KEV_LOCKOUT] = "lockout",
};

void
logfmt_knock(struct lf *l, const struct config *cfg, const struct addr *src,
    const struct knock_event *ev)
{
	char stage[48];
	size_t n;

	lf_str(l, "event", ev->type <= KEV_LOCKOUT ?
	    knock_events[ev->type] : "knock-?");
	lf_addr(l, "src", src);
	lf_str(l, "door", ev->door < cfg->ndoors ? cfg->door[ev->door].name :
	    "?");
	if (ev->type == KEV_LOCKOUT) {
		lf_u64(l, "failures", cfg->opt.lockout_after);
		lf_u64(l, "expires_in", cfg->opt.lockout_time);
		return;
	}
	n = put_dec(stage, ev->stage);
	stage[n++] = '/';
	n += put_dec(stage + n, ev->len);
	stage[n] = '\0';
	lf_str(l, "stage", stage);
}

void
logfmt_cancel(struct lf *l, const struct config *cfg, const struct addr *src,
    unsigned door)
{
	lf_str(l, "event", "knock-cancelled");
	lf_addr(l, "src", src);
	lf_str(l, "door", door < cfg->ndoors ? cfg->door[door].name : "?");
	lf_str(l, "reason", "reset");
}

void
logfmt_close(struct lf *l, const struct config *cfg, const struct addr *src,
    const struct verdict_close *c)
{
	lf_str(l, "event", "close");
	lf_addr(l, "src", src);
	lf_str(l, "door", c->door < cfg->ndoors ? cfg->door[c->door].name :
	    "?");
	lf_str(l, "by", c->by < cfg->ndoors ? cfg->door[c->by].name : "?");
	lf_str(l, "revoked", c->revoked ? "yes" : "no");
}

void
logfmt_grant(struct lf *l, const struct config *cfg, const struct addr *src,
    unsigned door, int64_t expires_in_ms)
{
	const struct cfg_door *d = &cfg->door[door];
	char ports[CFG_MAX_OPEN * 12];

	lf_str(l, "event", "grant");
	lf_addr(l, "src", src);
	lf_str(l, "door", d->name);
	lf_str(l, "ports", config_ports_format(d->open, d->open_len, ports,
	    sizeof(ports)));
	lf_i64(l, "expires_in", (expires_in_ms + 999) / 1000);
}

void
logfmt_spa(struct lf *l, const struct config *cfg, const struct addr *src,
    const struct spag_out *o, int64_t now_ms)
{
	char ports[CFG_MAX_OPEN * 12];
	struct cfg_port p[CFG_MAX_OPEN];
	unsigned n = 0;

	lf_str(l, "event", o->reason == SPAG_OK ? "spa" : "spa-refused");
	lf_addr(l, "src", src);
	if (o->door >= 0)
		lf_str(l, "door", cfg->door[o->door].name);
	if (o->door >= 0 && o->user[0] != '\0')
		lf_str(l, "user", o->user);
	if (o->reason != SPAG_OK) {
		lf_str(l, "reason", spag_reason_name(o->reason));
		return;
	}
	lf_addr(l, "grant", &o->to);
	for (unsigned i = 0; i < cfg->door[o->door].open_len; i++)
		if ((o->ports >> i) & 1)
			p[n++] = cfg->door[o->door].open[i];
	lf_str(l, "ports", n ? config_ports_format(p, n, ports,
	    sizeof(ports)) : "none");
	lf_i64(l, "expires_in", (o->expires_ms - now_ms + 999) / 1000);
}

void
logfmt_expire(struct lf *l, const struct config *cfg, const struct grant *g)
{
	lf_str(l, "event", "expire");
	lf_addr(l, "src", &g->src);
	lf_str(l, "door", g->door < cfg->ndoors ?
	    cfg->door[g->door].name : "?");
}
