/* spagate: the verdict on an SPA packet (pure; see spagate.h). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "replay.h"
#include "spagate.h"
#include "verdict.h"

static const char *const reason_names[SPAG_NREASONS] = {
	[SPAG_OK] = "ok",
	[SPAG_LENGTH] = "length",
	[SPAG_BASE64] = "not-base64",
	[SPAG_PREFIX] = "prefix",
	[SPAG_NO_DOOR] = "no-door-for-source",
	[SPAG_LIMIT_SOURCE] = "limit-source",
	[SPAG_LIMIT_ALL] = "limit-all",
	[SPAG_REPLAY] = "replay",
	[SPAG_AUTH] = "auth",
	[SPAG_FORMAT] = "format",
	[SPAG_STALE] = "stale",
	[SPAG_FUTURE] = "future",
	[SPAG_RESTART] = "before-restart",
	[SPAG_COMMAND] = "command-message",
	[SPAG_NAT] = "nat-message",
	[SPAG_PORTS] = "ports",
	[SPAG_USER] = "user",
	[SPAG_EXPIRED] = "door-expired",
	[SPAG_SOURCE] = "other-address",
	[SPAG_NEED_IP] = "no-address",
	[SPAG_FAMILY] = "ipv6-over-ipv4",
	[SPAG_NOT_UNICAST] = "not-unicast",
	[SPAG_REPLAY_FULL] = "replay-cache-full",
};

const char *
spag_reason_name(enum spag_reason r)
{
	return (unsigned)r < SPAG_NREASONS ? reason_names[r] : "unknown";
}

void
spag_limits_init(struct spag_limits *l, const struct siphash_key *key)
{
	memset(l, 0, sizeof(*l));
	l->key = *key;
	l->all.milli = (int64_t)SPAG_ALL_BURST * 1000;
	l->all.last_ms = INT64_MIN;
}

/* Take n tokens from b (rate per second, burst): 1, or 0 when short. */
static int
bucket_take(struct spag_bucket *b, unsigned n, unsigned rate, unsigned burst,
    int64_t now_ms)
{
	int64_t cap = (int64_t)burst * 1000;

	if (b->last_ms == INT64_MIN || now_ms - b->last_ms > 3600 * 1000)
		b->milli = cap;
	else if (now_ms > b->last_ms)
		b->milli += (now_ms - b->last_ms) * rate;
	if (b->milli > cap)
		b->milli = cap;
	b->last_ms = now_ms;
	if (b->milli < (int64_t)n * 1000)
		return 0;
	b->milli -= (int64_t)n * 1000;
	return 1;
}

static struct spag_bucket *
src_bucket(struct spag_limits *l, const struct addr *src)
{
	struct addr who = *src;
	uint64_t h;
	__typeof__(l->slot[0]) *s;

	/* An IPv6 host has a /64 to send from: it is one source. */
	if (who.family == AF_INET6)
		memset(who.b + 8, 0, 8);
	h = siphash24(&l->key, who.b, addr_len(&who));
	s = &l->slot[h % SPAG_SLOTS];
	/* A new source takes the slot with a full bucket: a collision
	 * cannot starve anybody for long, and needs the secret key. */
	if (!addr_equal(&s->src, &who)) {
		s->src = who;
		s->b.last_ms = INT64_MIN;
	}
	return &s->b;
}

static int
net_match(const struct cidr *c, unsigned n, const struct addr *a)
{
	if (n == 0)
		return 1;
	for (unsigned i = 0; i < n; i++)
		if (cidr_match(&c[i], a))
			return 1;
	return 0;
}

/* The door may be tried for this packet (SOURCE, DESTINATION). */
static int
door_fits(const struct cfg_door *d, const struct pkt *p)
{
	return d->spa && net_match(d->sp.src, d->sp.nsrc, &p->src) &&
	    net_match(d->sp.dst, d->sp.ndst, &p->dst);
}

/* The door's policy on an opened message. */
static enum spag_reason
policy(const struct gk_state *s, const struct cfg_door *d,
    const struct pkt *p, const struct spa_msg *m, struct spag_out *o)
{
	const struct cfg_spa *sp = &d->sp;
	int64_t age = s->real_s - m->timestamp;
	unsigned i, j;

	if (age > (int64_t)s->cfg->opt.spa_max_age)
		return SPAG_STALE;
	if (-age > (int64_t)s->cfg->opt.spa_max_age)
		return SPAG_FUTURE;
	if (m->timestamp < s->replay_floor_s)
		return SPAG_RESTART;
	if (m->type == SPA_COMMAND)
		return SPAG_COMMAND;
	if (m->type != SPA_ACCESS && m->type != SPA_TIMEOUT_ACCESS)
		return SPAG_NAT;
	if (sp->expire != 0 && s->real_s > sp->expire)
		return SPAG_EXPIRED;
	if (sp->nusers > 0) {
		for (i = 0; i < sp->nusers; i++)
			if (strcmp(sp->users[i], m->user) == 0)
				break;
		if (i == sp->nusers)
			return SPAG_USER;
	}
	if (m->allow_any) {
		if (sp->require_ip)
			return SPAG_NEED_IP;
		o->to = p->src;
	} else {
		if (m->allow.family == AF_INET6 && p->src.family != AF_INET6)
			return SPAG_FAMILY;
		if (sp->source_match && !addr_equal(&m->allow, &p->src))
			return SPAG_SOURCE;
		if (!addr_is_unicast(&m->allow))
			return SPAG_NOT_UNICAST;
		o->to = m->allow;
	}
	/* Every port asked for is one the door opens, none restricted. */
	o->ports = 0;
	for (i = 0; i < m->nports; i++) {
		int k = config_door_open_index(d, m->port[i].proto,
		    m->port[i].port);

		for (j = 0; j < sp->nrestrict; j++)
			if (sp->restrict_[j].port == m->port[i].port &&
			    sp->restrict_[j].proto == m->port[i].proto)
				return SPAG_PORTS;
		if (k < 0 && d->open_len > 0)
			return SPAG_PORTS;
		if (k >= 0)
			o->ports |= 1u << k;
	}
	return SPAG_OK;
}

/* Open the packet with each door that fits, in file order; the first
 * that authenticates it decides. */
static enum spag_reason
try_doors(struct gk_state *s, const struct pkt *p, struct spa_msg *m,
    struct spag_out *o)
{
	const struct config *cfg = s->cfg;
	enum spa_result r = SPA_E_HMAC;

	for (unsigned d = 0; d < cfg->ndoors; d++) {
		if (!door_fits(&cfg->door[d], p))
			continue;
		r = spa_open(p->payload, p->payload_len,
		    &cfg->door[d].sp.keys, m);
		if (r == SPA_E_HMAC || r == SPA_E_DECRYPT)
			continue;
		o->door = (int)d;
		snprintf(o->user, sizeof(o->user), "%s", m->user);
		if (r != SPA_OK)
			return SPAG_FORMAT;
		return policy(s, &cfg->door[d], p, m, o);
	}
	return SPAG_AUTH;
}

/* How long a burned packet is remembered: while its own timestamp
 * would still pass the age check (|now - stamp| <= age), and a second
 * more: from its stamp, but from now if the stamp is older and from at
 * most now + age if it is newer (so an entry never outlives now + twice
 * the age: a key holder's far-future packets cannot fill the cache for
 * years; such a packet, refused now, is the residual of design.md). */
static int64_t
replay_until(const struct gk_state *s, const struct spa_msg *m,
    unsigned max_age)
{
	int64_t from = m->timestamp > s->real_s ? m->timestamp : s->real_s;

	if (from > s->real_s + (int64_t)max_age)
		from = s->real_s + (int64_t)max_age;
	return from + (int64_t)max_age + 1;
}

void
spagate_decide(struct gk_state *s, struct verdict *v, int64_t now_ms)
{
	const struct pkt *p = &v->pkt;
	const struct config *cfg = s->cfg;
	struct spag_out *o = &v->spa;
	uint8_t digest[SPA_DIGEST_LEN];
	struct spa_msg m;
	enum spa_result pre;
	unsigned tries = 0;

	memset(o, 0, sizeof(*o));
	o->present = 1;
	o->door = -1;
	pre = spa_precheck(p->payload, p->payload_len);
	if (p->truncated || pre == SPA_E_LENGTH)
		o->reason = SPAG_LENGTH;
	else if (pre == SPA_E_BASE64)
		o->reason = SPAG_BASE64;
	else if (pre != SPA_OK)
		o->reason = SPAG_PREFIX;
	if (o->reason != SPAG_OK)
		goto out;
	for (unsigned d = 0; d < cfg->ndoors; d++)
		tries += (unsigned)door_fits(&cfg->door[d], p);
	if (tries == 0)
		o->reason = SPAG_NO_DOOR;
	else if (!bucket_take(src_bucket(s->spal, &p->src), 1,
	    SPAG_SRC_RATE, SPAG_SRC_BURST, now_ms))
		o->reason = SPAG_LIMIT_SOURCE;
	else if (!bucket_take(&s->spal->all, tries, SPAG_ALL_RATE,
	    SPAG_ALL_BURST, now_ms))
		o->reason = SPAG_LIMIT_ALL;
	else {
		/* Hashed only once the budgets allow work on it. */
		spa_replay_digest(p->payload, p->payload_len, digest);
		o->reason = replay_seen(s->replay, digest, s->real_s) ?
		    SPAG_REPLAY : try_doors(s, p, &m, o);
	}
	/* Authentic packets are burned whatever the policy said, as
	 * fwknopd does: a refused one cannot be tried again elsewhere. */
	if (o->door >= 0 && replay_add(s->replay, digest, replay_until(s, &m,
	    cfg->opt.spa_max_age), s->real_s) < 0 && o->reason == SPAG_OK)
		o->reason = SPAG_REPLAY_FULL;
	if (o->reason == SPAG_OK) {
		const struct cfg_door *d = &cfg->door[o->door];
		unsigned t = m.timeout > 0 ? m.timeout : d->open_timeout;
		struct grant ev;

		if (m.timeout > d->sp.max_timeout)
			t = d->sp.max_timeout;
		o->expires_ms = now_ms + (int64_t)t * 1000;
		o->command = ((o->to.family == AF_INET6 ? d->start_cmd6 :
		    d->start_cmd)[0] != '\0');
		if (o->ports != 0) {
			o->evicted_one = (uint8_t)grant_add_ports(s->grants,
			    &o->to, (unsigned)o->door, o->ports,
			    o->expires_ms, &ev);
			s->st.grants++;
			s->st.grant_evictions += o->evicted_one;
		}
	}
out:
	s->st.spa[o->reason]++;
	/* Answered as a knock is: like a closed port, or silence. */
	v->accept = !cfg->opt.knock_drop;
	v->reason = VR_KNOCK;
}
