/* verdict: config + packet + state + time -> accept or drop, the reason,
 * and the events to log (pure).
 *
 * A knock is answered like a closed port (Knock_Reply), so knock ports
 * look like their neighbours.  A packet to a protected port is accepted
 * only while its source holds an unexpired grant of a door that opens that
 * port (or is in Allow), whatever its flags.  Anything unparsable is
 * dropped: the gatekeeper fails closed.  Public ports pass; every other
 * packet the daemon sees on the knock queue (any other port, with
 * Scan_Guard) ends its source's attempts.  A knock from a scanner, or
 * within SW_SETTLE_MS of a reset, does not count (scanwatch.h); a
 * completed sequence settles for SW_SETTLE_MS before it grants (see
 * struct verdict_settling).  Monitor turns would-be drops into accepts,
 * and changes nothing else. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "verdict.h"

static const char *const reason_names[VR_NREASONS] = {
	[VR_GRANT] = "grant",
	[VR_NO_GRANT] = "no-grant",
	[VR_ALLOW] = "allow",
	[VR_KNOCK] = "knock",
	[VR_MALFORMED] = "malformed",
	[VR_UNWATCHED] = "unwatched",
	[VR_PUBLIC] = "public",
	[VR_OBSERVED] = "observed",
};

const char *
verdict_reason_name(enum verdict_reason r)
{
	return (unsigned)r < VR_NREASONS ? reason_names[r] : "?";
}

static int
proto_index(uint8_t proto)
{
	return proto == IPPROTO_UDP;
}

static void
mark(struct gk_state *s, const struct cfg_port *p, unsigned n, uint8_t bits)
{
	unsigned i;

	for (i = 0; i < n; i++)
		s->portmap[proto_index(p[i].proto)][p[i].port] |= bits;
}

static void
build_portmap(struct gk_state *s)
{
	const struct config *cfg = s->cfg;
	uint8_t enforced;
	unsigned d;

	memset(s->portmap, 0, sizeof(s->portmap));
	for (d = 0; d < cfg->ndoors; d++) {
		const struct cfg_door *door = &cfg->door[d];

		enforced = door->monitor ? 0 : PORT_ENFORCED;
		mark(s, door->seq, door->seq_len, PORT_KNOCK | enforced);
		mark(s, door->open, door->open_len, PORT_OPEN | enforced);
	}
	mark(s, cfg->opt.public_ports, cfg->opt.public_len, PORT_PUBLIC);
	if (config_has_spa(cfg))
		mark(s, cfg->opt.spa_ports, cfg->opt.spa_nports, PORT_SPA);
}

void
verdict_init(struct gk_state *s, const struct config *cfg,
    struct knock_table *knocks, struct grant_table *grants,
    struct scanwatch *sw)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->knocks = knocks;
	s->grants = grants;
	s->sw = sw;
	build_portmap(s);
}

void
verdict_door_changed(struct gk_state *s, unsigned door)
{
	knock_door_reset(s->knocks, door);
	build_portmap(s);
}

/* ---- completions settle before they grant ---- */

static struct verdict_settling *
settling_find(struct gk_state *s, const struct addr *src, unsigned door)
{
	unsigned i;

	for (i = 0; i < s->nsettling; i++)
		if (s->settling[i].door == door &&
		    addr_equal(&s->settling[i].src, src))
			return &s->settling[i];
	return NULL;
}

static void
settling_remove(struct gk_state *s, unsigned i)
{
	s->settling[i] = s->settling[--s->nsettling];
}

/* A packet that resets: the source's completions still settling are
 * undone (whatever the order the daemon read them in, it came within
 * SW_SETTLE_MS of the last knock). */
static void
cancel_settling(struct gk_state *s, struct verdict *v)
{
	unsigned i = 0;

	while (i < s->nsettling) {
		if (!addr_equal(&s->settling[i].src, &v->pkt.src)) {
			i++;
			continue;
		}
		if (v->ncancel < CFG_MAX_DOORS)
			v->cancel[v->ncancel++] = s->settling[i].door;
		s->st.cancelled++;
		settling_remove(s, i);
	}
}

/* The source's completion of a door that opens the packet's port, still
 * settling: when it is due, or 0. */
static int64_t
settling_due(const struct gk_state *s, const struct pkt *p)
{
	int64_t due = 0;
	unsigned i;

	for (i = 0; i < s->nsettling; i++) {
		const struct verdict_settling *w = &s->settling[i];

		if (addr_equal(&w->src, &p->src) && config_door_opens(
		    &s->cfg->door[w->door], p->proto, p->dport) &&
		    (due == 0 || w->due_ms < due))
			due = w->due_ms;
	}
	return due;
}

/* What the events of this packet do at once: knocks counted, and each
 * completed door settling (or refused, when too many are) and in the
 * list main acts on (a one-time line is used from this packet on). */
static void
apply_events(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	const struct config *cfg = s->cfg;
	unsigned i;

	for (i = 0; i < v->nev; i++) {
		const struct knock_event *ev = &v->ev[i];
		struct verdict_done *dn;
		struct verdict_settling *w;

		if (ev->type == KEV_STAGE || ev->type == KEV_COMPLETE)
			s->st.knocks++;
		if (ev->type == KEV_LOCKOUT)
			s->st.lockouts++;
		if (ev->type != KEV_COMPLETE)
			continue;
		dn = &v->done[v->ndone++];
		dn->door = ev->door;
		dn->one_time = cfg->door[ev->door].one_time_file[0] != '\0';
		dn->settling = 1;
		if (settling_find(s, &v->pkt.src, ev->door) != NULL)
			continue;	/* the first one stands */
		if (s->nsettling == VERDICT_SETTLE_MAX) {
			dn->settling = 0;
			s->st.settle_full++;
			continue;
		}
		w = &s->settling[s->nsettling++];
		w->src = v->pkt.src;
		w->door = ev->door;
		w->due_ms = now_ms + SW_SETTLE_MS;
	}
}

static int
has_close(const struct verdict_settled *out, unsigned door)
{
	unsigned i;

	for (i = 0; i < out->ncloses; i++)
		if (out->close[i].door == door)
			return 1;
	return 0;
}

static void
add_close(struct gk_state *s, struct verdict_settled *out, unsigned door,
    unsigned by)
{
	struct verdict_close *c;

	if (has_close(out, door))
		return;		/* closed already by this one */
	c = &out->close[out->ncloses++];
	c->door = (uint16_t)door;
	c->by = (uint16_t)by;
	c->revoked = grant_revoke(s->grants, &out->src, (int)door) > 0;
	s->st.closes += c->revoked;
}

/* A completion that held: its grant (from the time of the last knock:
 * Open_Timeout counts from there). */
static void
settle_one(struct gk_state *s, const struct verdict_settling *w,
    struct verdict_settled *out)
{
	const struct cfg_door *door = &s->cfg->door[w->door];
	int v6 = w->src.family == AF_INET6;
	struct verdict_grant *vg = &out->grant;
	const struct grant *g;

	memset(out, 0, sizeof(*out));
	out->src = w->src;
	out->door = w->door;
	out->command = (v6 ? door->start_cmd6 : door->start_cmd)[0] != '\0';
	out->monitor = s->cfg->opt.monitor || door->monitor;
	s->st.settled++;
	if (door->open_len > 0) {
		vg->made = 1;
		vg->door = w->door;
		vg->expires_ms = w->due_ms - SW_SETTLE_MS +
		    (int64_t)door->open_timeout * 1000;
		vg->evicted_one = (uint8_t)grant_add(s->grants, &w->src,
		    w->door, vg->expires_ms, &vg->evicted);
		/* A longer grant the source holds is kept: say how long. */
		g = grant_find(s->grants, &w->src, w->door, INT64_MIN);
		if (g != NULL)
			vg->expires_ms = g->expires_ms;
		s->st.grants++;
		s->st.grant_evictions += vg->evicted_one;
	}
}

/* Every grant of the batch first, then every Close: Close wins over a
 * grant the same knock made, and each door is closed once. */
unsigned
verdict_settle(struct gk_state *s, int64_t now_ms,
    struct verdict_settled *out, unsigned max)
{
	unsigned i = 0, n = 0, j, k, m;

	while (i < s->nsettling && n < max) {
		if (s->settling[i].due_ms > now_ms) {
			i++;
			continue;
		}
		settle_one(s, &s->settling[i], &out[n++]);
		settling_remove(s, i);
	}
	for (i = 0; i < n; i++) {
		const struct cfg_door *door = &s->cfg->door[out[i].door];

		for (j = 0; j < door->close_len; j++) {
			/* Closed already by another door of the source? */
			for (k = 0, m = 0; k < i && !m; k++)
				m = addr_equal(&out[k].src, &out[i].src) &&
				    has_close(&out[k], door->close[j]);
			if (!m)
				add_close(s, &out[i], door->close[j],
				    out[i].door);
		}
	}
	return n;
}

int64_t
verdict_next_settle(const struct gk_state *s)
{
	int64_t next = INT64_MAX;
	unsigned i;

	for (i = 0; i < s->nsettling; i++)
		if (s->settling[i].due_ms < next)
			next = s->settling[i].due_ms;
	return next;
}

static int
allowed(const struct config *cfg, const struct addr *src)
{
	unsigned i;

	for (i = 0; i < cfg->opt.allow_len; i++)
		if (cidr_match(&cfg->opt.allow[i], src))
			return 1;
	return 0;
}

/* First door that opens the packet's port and granted its source. */
static int
granting_door(const struct gk_state *s, const struct pkt *p, int64_t now_ms)
{
	unsigned d;

	for (d = 0; d < s->cfg->ndoors; d++) {
		int k = config_door_open_index(&s->cfg->door[d], p->proto,
		    p->dport);

		if (k >= 0 && grant_find_ports(s->grants, &p->src, d,
		    1u << k, now_ms))
			return (int)d;
	}
	return -1;
}

/* A knock is answered as Knock_Reply says: by default accepted, so the
 * host's own stack answers it as it answers any closed port (RST, ICMP
 * port unreachable, or whatever its policy does) and a scan cannot tell
 * knock ports from their neighbours; with Knock_Reply = drop, silence. */
/* A packet that resets the source's knocks (another port, a wrong
 * knock): noted for the scanner and settle tests, and it undoes the
 * source's completions that are still settling. */
static void
reset_seen(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	if (s->sw != NULL)
		sw_note(s->sw, &v->pkt.src, v->pkt.proto, v->pkt.dport, 1,
		    now_ms);
	cancel_settling(s, v);
}

static int
counted(const struct verdict *v)
{
	unsigned i;

	for (i = 0; i < v->nev; i++)
		if (v->ev[i].type == KEV_STAGE || v->ev[i].type == KEV_COMPLETE)
			return 1;
	return 0;
}

static void
decide_knock(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	struct knock_stats *kst = &s->knocks->st;
	uint64_t dups = kst->duplicates, locked = kst->locked;

	v->accept = !s->cfg->opt.knock_drop;
	v->reason = VR_KNOCK;
	/* A lockout says it first: it outlasts any of these. */
	v->ignored = s->sw != NULL && !knock_locked(s->knocks, &v->pkt.src,
	    now_ms, NULL) ? sw_check(s->sw, &v->pkt.src, now_ms) : SW_OK;
	if (v->ignored != SW_OK) {
		/* No knock: it ends attempts like any other port does. */
		v->nev = knock_packet(s->knocks, s->cfg, &v->pkt,
		    KNOCK_ELSEWHERE, now_ms, v->ev);
		if (v->ignored == SW_SCANNER)
			s->st.knocks_scanner++;
		else
			s->st.knocks_recent++;
		reset_seen(s, v, now_ms);
		return;
	}
	v->nev = knock_packet(s->knocks, s->cfg, &v->pkt, KNOCK_AT_PORT,
	    now_ms, v->ev);
	v->locked = kst->locked != locked;
	/* A wrong knock resets; a retransmission or a locked source's knock
	 * is nothing at all. */
	if (!counted(v) && kst->duplicates == dups && !v->locked)
		reset_seen(s, v, now_ms);
}

static void
decide_protected(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	const struct pkt *p = &v->pkt;

	if (allowed(s->cfg, &p->src)) {
		v->accept = 1;
		v->reason = VR_ALLOW;
		return;
	}
	if ((v->door = granting_door(s, p, now_ms)) >= 0) {
		v->accept = 1;
		v->reason = VR_GRANT;
		return;
	}
	v->accept = 0;
	v->reason = VR_NO_GRANT;
	if ((v->hold_until = settling_due(s, p)) != 0)
		v->hold = 1;
	/* Knocks are left alone: this packet came on the other queue, in no
	 * fixed order with them, so `knock && ssh` would lose its last
	 * knock to its own SYN whenever the two came read together.  It
	 * tells of a scan all the same. */
	if (s->sw != NULL && !v->hold)
		sw_note(s->sw, &p->src, p->proto, p->dport, 0, now_ms);
}

static void
decide(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	const struct pkt *p = &v->pkt;
	struct knock_stats *kst = &s->knocks->st;
	uint8_t kind = s->portmap[proto_index(p->proto)][p->dport];
	uint64_t dups = kst->duplicates, locked = kst->locked;
	uint64_t resets = kst->scan_resets;

	if (kind & PORT_KNOCK) {
		decide_knock(s, v, now_ms);
	} else if ((kind & PORT_SPA) && s->replay != NULL) {
		spagate_decide(s, v, now_ms);
		/* What is not even SPA-shaped (a UDP scan's probe) is a
		 * touch of another port, as anywhere else. */
		if ((v->spa.reason == SPAG_LENGTH ||
		    v->spa.reason == SPAG_BASE64) && s->cfg->opt.scan_guard) {
			v->nev = knock_packet(s->knocks, s->cfg, p,
			    KNOCK_ELSEWHERE, now_ms, v->ev);
			reset_seen(s, v, now_ms);
		}
	} else if (kind & PORT_OPEN) {
		decide_protected(s, v, now_ms);
	} else if (kind & PORT_PUBLIC) {
		v->accept = 1;
		v->reason = VR_PUBLIC;
	} else if (s->cfg->opt.scan_guard) {
		v->accept = 1;
		v->reason = VR_OBSERVED;
		v->nev = knock_packet(s->knocks, s->cfg, p, KNOCK_ELSEWHERE,
		    now_ms, v->ev);
		reset_seen(s, v, now_ms);
	} else {
		v->accept = 1;
		v->reason = VR_UNWATCHED;
	}
	s->st.duplicates += kst->duplicates - dups;
	s->st.locked += kst->locked - locked;
	s->st.scan_resets += kst->scan_resets - resets;
	if (v->nev > 0)
		apply_events(s, v, now_ms);
}

/* Global Monitor, or every door concerned with the port has Monitor. */
static int
monitored(const struct gk_state *s, const struct verdict *v)
{
	uint8_t kind;

	if (s->cfg->opt.monitor)
		return 1;
	if (v->reason == VR_MALFORMED)
		return 0;
	kind = s->portmap[proto_index(v->pkt.proto)][v->pkt.dport];
	return (kind & (PORT_KNOCK | PORT_OPEN)) && !(kind & PORT_ENFORCED);
}

int
verdict_refused(const struct verdict *v)
{
	return v->reason == VR_NO_GRANT;
}

/* A reset may be among the lost packets: completions still settling go
 * too (fail closed). */
void
verdict_lost(struct gk_state *s, int64_t now_ms)
{
	knock_reset_all(s->knocks, now_ms);
	s->st.lost_resets++;
	s->st.cancelled += s->nsettling;
	s->nsettling = 0;
}

static void
verdict_clear(struct verdict *v)
{
	v->nev = 0;
	v->ndone = 0;
	v->ncancel = 0;
	v->spa.present = 0;
	v->door = -1;
	v->monitor = 0;
	v->locked = 0;
	v->ignored = SW_OK;
	v->hold = 0;
	v->hold_until = 0;
	v->waited = 0;
}

/* Monitor, and the counters every verdict ends with. */
static void
verdict_finish(struct gk_state *s, struct verdict *v)
{
	v->would_accept = v->accept;
	if (!v->accept && monitored(s, v)) {
		v->accept = 1;
		v->monitor = 1;
		v->hold = 0;
		s->st.monitored++;
	}
	if (v->accept)
		s->st.accepted++;
	else
		s->st.dropped++;
	s->st.reason[v->reason]++;
}

void
verdict_recheck(struct gk_state *s, const struct pkt *p, int64_t now_ms,
    struct verdict *v)
{
	verdict_clear(v);
	v->status = PKT_OK;
	v->pkt = *p;
	decide_protected(s, v, now_ms);
	v->hold = 0;		/* once is enough */
	v->waited = 1;
	verdict_finish(s, v);
}

/* Tables smaller than this stay in the caches: nothing to fetch early
 * (measured: the hint then costs more than it saves). */
#define PREFETCH_BYTES (4u << 20)

static int
big_knocks(const struct gk_state *s)
{
	return s->knocks != NULL && knock_memory(s->knocks) >= PREFETCH_BYTES;
}

static int
big_sw(const struct gk_state *s)
{
	return s->sw != NULL && sw_memory(s->sw) >= PREFETCH_BYTES;
}

int
verdict_prefetch_helps(const struct gk_state *s)
{
	return big_knocks(s) || big_sw(s);
}

void
verdict_prefetch(struct gk_state *s, const uint8_t *buf, size_t len)
{
	int knocks = big_knocks(s), sw = big_sw(s);
	struct addr a;

	if (!knocks && !sw)
		return;
	if (pkt_source(buf, len, &a) != 0)
		return;
	if (knocks)
		knock_prefetch(s->knocks, &a);
	if (sw)
		sw_prefetch(s->sw, &a);
}

void
verdict_decide(struct gk_state *s, const uint8_t *buf, size_t len,
    size_t wire_len, int64_t now_ms, struct verdict *v)
{
	verdict_clear(v);
	s->st.packets++;
	v->status = pkt_parse(buf, len, wire_len, &v->pkt);
	if (v->status != PKT_OK) {
		v->accept = 0;
		v->reason = VR_MALFORMED;
		s->st.malformed[v->status]++;
		verdict_finish(s, v);
		return;
	}
	decide(s, v, now_ms);
	verdict_finish(s, v);
	if (v->hold)
		s->st.held++;
}
