/* verdict: config + packet + state + time -> accept or drop, the reason,
 * and the events to log (pure).
 *
 * Knock packets are always dropped, so knock ports look filtered.  A new
 * connection to a protected port is accepted only while its source holds an
 * unexpired grant of a door that opens that port (or is in Allow).  Anything
 * unparsable is dropped: the gatekeeper fails closed. */
#include <netinet/in.h>
#include <string.h>

#include "verdict.h"

static const char *const reason_names[VR_NREASONS] = {
	[VR_GRANT] = "grant",
	[VR_NO_GRANT] = "no-grant",
	[VR_ALLOW] = "allow",
	[VR_KNOCK] = "knock",
	[VR_MALFORMED] = "malformed",
	[VR_UNWATCHED] = "unwatched",
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

void
verdict_init(struct gk_state *s, const struct config *cfg,
    struct knock_table *knocks, struct grant_table *grants)
{
	unsigned d, i;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->knocks = knocks;
	s->grants = grants;
	for (d = 0; d < cfg->ndoors; d++) {
		const struct cfg_door *door = &cfg->door[d];

		for (i = 0; i < door->seq_len; i++)
			s->portmap[proto_index(door->seq[i].proto)]
			    [door->seq[i].port] |= PORT_KNOCK;
		for (i = 0; i < door->open_len; i++)
			s->portmap[proto_index(door->open[i].proto)]
			    [door->open[i].port] |= PORT_OPEN;
	}
}

/* Turn completed sequences into grants for doors that open ports. */
static void
make_grants(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	unsigned i;

	for (i = 0; i < v->nev; i++) {
		const struct knock_event *ev = &v->ev[i];
		const struct cfg_door *door = &s->cfg->door[ev->door];
		struct verdict_grant *vg;

		if (ev->type == KEV_STAGE || ev->type == KEV_COMPLETE)
			s->st.knocks++;
		if (ev->type != KEV_COMPLETE || door->open_len == 0)
			continue;
		vg = &v->grant[v->ngrants++];
		vg->made = 1;
		vg->door = ev->door;
		vg->expires_ms = now_ms + (int64_t)door->open_timeout * 1000;
		vg->evicted_one = (uint8_t)grant_add(s->grants, &v->pkt.src,
		    ev->door, vg->expires_ms, &vg->evicted);
		s->st.grants++;
		s->st.grant_evictions += vg->evicted_one;
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

static void
decide(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	const struct pkt *p = &v->pkt;
	uint8_t kind = s->portmap[proto_index(p->proto)][p->dport];

	if (kind & PORT_KNOCK) {
		v->accept = 0;
		v->reason = VR_KNOCK;
		v->nev = knock_feed(s->knocks, s->cfg, p, now_ms, v->ev);
		make_grants(s, v, now_ms);
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
	} else {
		v->accept = 1;
		v->reason = VR_UNWATCHED;
	}
}

void
verdict_decide(struct gk_state *s, const uint8_t *buf, size_t len,
    int64_t now_ms, struct verdict *v)
{
	v->nev = 0;
	v->ngrants = 0;
	v->door = -1;
	s->st.packets++;
	v->status = pkt_parse(buf, len, &v->pkt);
	if (v->status != PKT_OK) {
		v->accept = 0;
		v->reason = VR_MALFORMED;
		s->st.malformed[v->status]++;
	} else
		decide(s, v, now_ms);
	if (v->accept)
		s->st.accepted++;
	else
		s->st.dropped++;
	s->st.reason[v->reason]++;
}
