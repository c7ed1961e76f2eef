/* verdict: config + packet + state + time -> accept or drop, the reason,
 * and the events to log (pure).
 *
 * A knock is answered like a closed port (Knock_Reply), so knock ports
 * look like their neighbours.  A packet to a protected port is accepted
 * only while its source holds an unexpired grant of a door that opens that
 * port (or is in Allow), whatever its flags.  Anything unparsable is
 * dropped: the gatekeeper fails closed.  Public ports pass; every other
 * packet the daemon sees (a protected port, or any other port with
 * Scan_Guard) ends its source's attempts.  Monitor turns would-be drops
 * into accepts, and changes nothing else. */
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
}

void
verdict_init(struct gk_state *s, const struct config *cfg,
    struct knock_table *knocks, struct grant_table *grants)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->knocks = knocks;
	s->grants = grants;
	build_portmap(s);
}

void
verdict_door_changed(struct gk_state *s, unsigned door)
{
	knock_door_reset(s->knocks, door);
	build_portmap(s);
}

static void
add_close(struct gk_state *s, struct verdict *v, unsigned door, unsigned by)
{
	struct verdict_close *c;
	unsigned i;

	for (i = 0; i < v->ncloses; i++)
		if (v->close[i].door == door)
			return;		/* closed already by this packet */
	c = &v->close[v->ncloses++];
	c->door = (uint16_t)door;
	c->by = (uint16_t)by;
	c->revoked = grant_revoke(s->grants, &v->pkt.src, (int)door) > 0;
	s->st.closes += c->revoked;
}

/* What the events of this packet do: grants for completed doors that open
 * ports, then their Close (so Close wins over a grant made by the same
 * packet), and the list of completed doors main acts on. */
static void
apply_events(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	const struct config *cfg = s->cfg;
	int v6 = v->pkt.src.family == AF_INET6;
	unsigned i, j;

	for (i = 0; i < v->nev; i++) {
		const struct knock_event *ev = &v->ev[i];
		const struct cfg_door *door = &cfg->door[ev->door];
		const struct grant *g;
		struct verdict_grant *vg;
		struct verdict_done *dn;

		if (ev->type == KEV_STAGE || ev->type == KEV_COMPLETE)
			s->st.knocks++;
		if (ev->type == KEV_LOCKOUT)
			s->st.lockouts++;
		if (ev->type != KEV_COMPLETE)
			continue;
		dn = &v->done[v->ndone++];
		dn->door = ev->door;
		dn->command = (v6 ? door->start_cmd6 : door->start_cmd)[0] !=
		    '\0';
		dn->one_time = door->one_time_file[0] != '\0';
		dn->monitor = cfg->opt.monitor || door->monitor;
		if (door->open_len == 0)
			continue;
		vg = &v->grant[v->ngrants++];
		vg->made = 1;
		vg->door = ev->door;
		vg->expires_ms = now_ms + (int64_t)door->open_timeout * 1000;
		vg->evicted_one = (uint8_t)grant_add(s->grants, &v->pkt.src,
		    ev->door, vg->expires_ms, &vg->evicted);
		/* A longer grant the source holds is kept: say how long. */
		g = grant_find(s->grants, &v->pkt.src, ev->door, INT64_MIN);
		if (g != NULL)
			vg->expires_ms = g->expires_ms;
		s->st.grants++;
		s->st.grant_evictions += vg->evicted_one;
	}
	for (i = 0; i < v->ndone; i++) {
		const struct cfg_door *door = &cfg->door[v->done[i].door];

		for (j = 0; j < door->close_len; j++)
			add_close(s, v, door->close[j], v->done[i].door);
	}
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

	for (d = 0; d < s->cfg->ndoors; d++)
		if (config_door_opens(&s->cfg->door[d], p->proto, p->dport) &&
		    grant_find(s->grants, &p->src, d, now_ms))
			return (int)d;
	return -1;
}

/* A knock is answered as Knock_Reply says: by default accepted, so the
 * host's own stack answers it as it answers any closed port (RST, ICMP
 * port unreachable, or whatever its policy does) and a scan cannot tell
 * knock ports from their neighbours; with Knock_Reply = drop, silence. */
static void
decide(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	const struct pkt *p = &v->pkt;
	struct knock_stats *kst = &s->knocks->st;
	uint8_t kind = s->portmap[proto_index(p->proto)][p->dport];
	uint64_t dups = kst->duplicates, locked = kst->locked;
	uint64_t resets = kst->scan_resets;

	if (kind & PORT_KNOCK) {
		v->accept = !s->cfg->opt.knock_drop;
		v->reason = VR_KNOCK;
		v->nev = knock_packet(s->knocks, s->cfg, p, KNOCK_AT_PORT,
		    now_ms, v->ev);
		v->locked = kst->locked != locked;
	} else if (kind & PORT_OPEN) {
		if (allowed(s->cfg, &p->src)) {
			v->accept = 1;
			v->reason = VR_ALLOW;
		} else if ((v->door = granting_door(s, p, now_ms)) >= 0) {
			v->accept = 1;
			v->reason = VR_GRANT;
		} else {
			v->accept = 0;
			v->reason = VR_NO_GRANT;
		}
		/* Knocks are left alone: this packet came on the other queue,
		 * in no fixed order with them, so `knock && ssh` would lose
		 * its last knock to its own SYN whenever the two came read
		 * together (and scans cannot rely on it: config.c). */
	} else if (kind & PORT_PUBLIC) {
		v->accept = 1;
		v->reason = VR_PUBLIC;
	} else if (s->cfg->opt.scan_guard) {
		v->accept = 1;
		v->reason = VR_OBSERVED;
		v->nev = knock_packet(s->knocks, s->cfg, p, KNOCK_ELSEWHERE,
		    now_ms, v->ev);
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

void
verdict_lost(struct gk_state *s, int64_t now_ms)
{
	knock_reset_all(s->knocks, now_ms);
	s->st.lost_resets++;
}

void
verdict_decide(struct gk_state *s, const uint8_t *buf, size_t len,
    size_t wire_len, int64_t now_ms, struct verdict *v)
{
	v->nev = 0;
	v->ngrants = 0;
	v->ndone = 0;
	v->ncloses = 0;
	v->door = -1;
	v->monitor = 0;
	v->locked = 0;
	s->st.packets++;
	v->status = pkt_parse(buf, len, wire_len, &v->pkt);
	if (v->status != PKT_OK) {
		v->accept = 0;
		v->reason = VR_MALFORMED;
		s->st.malformed[v->status]++;
	} else
		decide(s, v, now_ms);
	v->would_accept = v->accept;
	if (!v->accept && monitored(s, v)) {
		v->accept = 1;
		v->monitor = 1;
		s->st.monitored++;
	}
	if (v->accept)
		s->st.accepted++;
	else
		s->st.dropped++;
	s->st.reason[v->reason]++;
}
