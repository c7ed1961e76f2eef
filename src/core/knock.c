/* knock: per-source knock sequence state machine in a fixed-capacity table
 * (pure).
 *
 * Each tracked source holds one progress slot per door, so doors that share
 * a prefix advance in parallel.  Sources live in a chained hash table keyed
 * with SipHash and a secret seed (a remote sender cannot aim at one chain),
 * and on an LRU list that picks eviction candidates when the table is full.
 *
 * A source also carries what outlives one attempt, in the same bounded
 * entry: its last counted knock (a retransmission of it is not a wrong
 * knock), and its failed attempts and lockout.  A packet that ends some
 * attempt (reset or timeout) is one failure, however many doors it ends,
 * unless it is the right next knock of another door (takes it past its
 * first knock, or completes it): doors that share ports end each other's
 * attempts in normal use.  Failures are counted while each comes within
 * Lockout_Time of the one before; a completed sequence does not clear
 * them, or knowing one door's sequence would allow guessing another's
 * without end.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "knock.h"

static uint32_t
src_hash(const struct knock_table *t, const struct addr *src)
{
	uint8_t k[17];

	k[0] = src->family;
	memcpy(k + 1, src->b, 16);
	return (uint32_t)siphash24(&t->key, k, sizeof(k)) & (t->nbuckets - 1);
}

struct knock_table *
knock_new(unsigned cap, unsigned ndoors, const struct siphash_key *key)
{
	struct knock_table *t;
	unsigned i, slots = ndoors ? ndoors : 1;

	if (cap == 0 || cap > (1u << 24))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->cap = cap;
	t->ndoors = ndoors;
	t->key = *key;
	for (t->nbuckets = 16; t->nbuckets < cap; t->nbuckets <<= 1)
		;
	t->ent = calloc(cap, sizeof(*t->ent));
	t->progs = calloc((size_t)cap * slots, sizeof(*t->progs));
	t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
	if (t->ent == NULL || t->progs == NULL || t->bucket == NULL) {
		knock_free(t);
		return NULL;
	}
	for (i = 0; i < cap; i++) {
		t->ent[i].prog = t->progs + (size_t)i * slots;
		t->ent[i].hnext = i + 1 < cap ? i + 2 : 0;
	}
	t->free_head = 1;
	return t;
}

void
knock_free(struct knock_table *t)
{
	if (t == NULL)
		return;
	free(t->ent);
	free(t->progs);
	free(t->bucket);
	free(t);
}

static struct knock_entry *
find(const struct knock_table *t, const struct addr *src)
{
	uint32_t i;

	for (i = t->bucket[src_hash(t, src)]; i; i = t->ent[i - 1].hnext)
		if (addr_equal(&t->ent[i - 1].src, src))
			return &t->ent[i - 1];
	return NULL;
}

static uint32_t
idx1(const struct knock_table *t, const struct knock_entry *e)
{
	return (uint32_t)(e - t->ent) + 1;
}

static void
lru_unlink(struct knock_table *t, struct knock_entry *e)
{
	if (e->lru_prev)
		t->ent[e->lru_prev - 1].lru_next = e->lru_next;
	else
		t->lru_head = e->lru_next;
	if (e->lru_next)
		t->ent[e->lru_next - 1].lru_prev = e->lru_prev;
	else
		t->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = 0;
}

static void
lru_push_front(struct knock_table *t, struct knock_entry *e)
{
	uint32_t i = idx1(t, e);

	e->lru_prev = 0;
	e->lru_next = t->lru_head;
	if (t->lru_head)
		t->ent[t->lru_head - 1].lru_prev = i;
	t->lru_head = i;
	if (t->lru_tail == 0)
		t->lru_tail = i;
}

/* Unhash e and put it on the free list. */
static void
release(struct knock_table *t, struct knock_entry *e)
{
	uint32_t *pp = &t->bucket[src_hash(t, &e->src)], i = idx1(t, e);

	while (*pp && *pp != i)
		pp = &t->ent[*pp - 1].hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(t, e);
	memset(e->prog, 0, (t->ndoors ? t->ndoors : 1) * sizeof(*e->prog));
	e->used = 0;
	e->hnext = t->free_head;
	t->free_head = i;
	t->st.used--;
}

static int
locked(const struct knock_entry *e, int64_t now_ms)
{
	return e->locked_until_ms != 0 && now_ms < e->locked_until_ms;
}

static int
fails_fresh(const struct config *cfg, const struct knock_entry *e,
    int64_t now_ms)
{
	return cfg->opt.lockout_after > 0 && e->fails > 0 &&
	    now_ms - e->fail_ms <= (int64_t)cfg->opt.lockout_time * 1000;
}

/* A lockout that is over leaves nothing behind: a fresh start. */
static void
unlock_expired(struct knock_entry *e, int64_t now_ms)
{
	if (e->locked_until_ms != 0 && !locked(e, now_ms)) {
		e->locked_until_ms = 0;
		e->fails = 0;
	}
}

int
knock_live(const struct cfg_door *d, const struct knock_prog *p,
    int64_t now_ms)
{
	return p->stage > 0 &&
	    now_ms - p->start_ms <= (int64_t)d->seq_timeout * 1000;
}

/* Furthest live stage of e over all doors; 0 when nothing is in progress. */
static unsigned
best_stage(const struct knock_table *t, const struct config *cfg,
    const struct knock_entry *e, int64_t now_ms)
{
	unsigned d, best = 0;

	for (d = 0; d < t->ndoors && d < cfg->ndoors; d++)
		if (knock_live(&cfg->door[d], &e->prog[d], now_ms) &&
		    e->prog[d].stage > best)
			best = e->prog[d].stage;
	return best;
}

/* How much e is worth keeping; 0: nothing.  See KNOCK_EVICT_SCAN. */
static unsigned
worth(const struct knock_table *t, const struct config *cfg,
    const struct knock_entry *e, int64_t now_ms)
{
	unsigned w;

	if (locked(e, now_ms))
		return CFG_MAX_SEQ + 1;
	w = best_stage(t, cfg, e, now_ms);
	if (w == 0 && fails_fresh(cfg, e, now_ms))
		w = 1;
	return w;
}

/* Make room in a full table: see KNOCK_EVICT_SCAN in knock.h. */
static void
evict_one(struct knock_table *t, const struct config *cfg, int64_t now_ms)
{
	struct knock_entry *e, *victim = NULL;
	unsigned n, w, victim_w = ~0u;
	uint32_t i;

	for (i = t->lru_tail, n = 0; i && n < KNOCK_EVICT_SCAN;
	    i = e->lru_prev, n++) {
		e = &t->ent[i - 1];
		w = worth(t, cfg, e, now_ms);
		if (w == 0) {
			t->st.reclaimed++;
			release(t, e);
			return;
		}
		if (w < victim_w) {
			victim = e;
			victim_w = w;
		}
	}
	if (victim) {
		t->st.evicted++;
		t->st.evicted_locked += locked(victim, now_ms);
		release(t, victim);
	}
}

static struct knock_entry *
insert(struct knock_table *t, const struct config *cfg,
    const struct addr *src, int64_t now_ms)
{
	struct knock_entry *e;
	uint32_t h;

	if (t->free_head == 0)
		evict_one(t, cfg, now_ms);
	if (t->free_head == 0)
		return NULL;
	e = &t->ent[t->free_head - 1];
	t->free_head = e->hnext;
	e->src = *src;
	e->used = 1;
	e->last_ms = now_ms;
	e->fail_ms = e->locked_until_ms = 0;
	e->fails = 0;
	memset(&e->last, 0, sizeof(e->last));
	h = src_hash(t, src);
	e->hnext = t->bucket[h];
	t->bucket[h] = idx1(t, e);
	lru_push_front(t, e);
	t->st.used++;
	return e;
}

int
knock_flags_match(const struct cfg_door *d, const struct pkt *p)
{
	if (p->proto != IPPROTO_TCP)
		return 1;
	return (p->tcpflags & d->tcpflags_set) == d->tcpflags_set &&
	    (p->tcpflags & d->tcpflags_clear) == 0;
}

static int
is_step(const struct cfg_door *d, unsigned stage, const struct pkt *p)
{
	return stage < d->seq_len && d->seq[stage].port == p->dport &&
	    d->seq[stage].proto == p->proto;
}

/* Does this packet concern door d at all? */
static int
door_hears(const struct cfg_door *d, const struct pkt *p)
{
	if (d->seq_len == 0 || !config_door_in_seq(d, p->proto, p->dport))
		return 0;
	if (d->target.family && !addr_equal(&d->target, &p->dst))
		return 0;
	return knock_flags_match(d, p);
}

static void
event(struct knock_event *ev, unsigned *n, int type, unsigned door,
    unsigned stage, unsigned len)
{
	ev[*n].type = (uint8_t)type;
	ev[*n].door = (uint8_t)door;
	ev[*n].stage = (uint8_t)stage;
	ev[*n].len = (uint8_t)len;
	(*n)++;
}

/* Up to this many payload bytes tell two UDP knocks apart. */
#define SIG_BYTES 64

/* FNV-1a: no secret needed, a sender can only fool its own entry. */
static uint32_t
payload_hash(const uint8_t *b, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len && i < SIG_BYTES; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* What identifies a knock packet: a retransmission repeats all of it
 * (but not always the TCP flags: a SYN is retried without ECN). */
static void
knock_sig(const struct pkt *p, struct knock_last *k)
{
	k->proto = p->proto;
	k->sport = p->sport;
	k->dport = p->dport;
	if (p->proto == IPPROTO_TCP) {
		k->sig = p->tcpseq;
		k->len = 0;
	} else {
		k->sig = p->payload ? payload_hash(p->payload,
		    p->payload_len) : 0;
		k->len = (uint32_t)p->payload_len;
	}
}

static int
is_retransmission(const struct knock_entry *e, const struct pkt *p)
{
	struct knock_last k;

	knock_sig(p, &k);
	return e->last.proto == k.proto && e->last.sport == k.sport &&
	    e->last.dport == k.dport && e->last.sig == k.sig &&
	    e->last.len == k.len;
}

/* End door d's attempt: TIMEOUT when it was dead anyway, else RESET. */
static void
end_attempt(const struct config *cfg, struct knock_entry *e, unsigned d,
    int64_t now_ms, struct knock_event *ev, unsigned *n)
{
	const struct cfg_door *door = &cfg->door[d];

	event(ev, n, knock_live(door, &e->prog[d], now_ms) ? KEV_RESET :
	    KEV_TIMEOUT, d, e->prog[d].stage, door->seq_len);
	e->prog[d].stage = 0;
}

/* One more failed attempt, ended at door d (one per packet, however many
 * doors it ended).  Enough of them lock the source out: returns 1 then. */
static int
fail(struct knock_table *t, const struct config *cfg, struct knock_entry *e,
    unsigned d, int64_t now_ms, struct knock_event *ev, unsigned *n)
{
	if (cfg->opt.lockout_after == 0)
		return 0;
	if (!fails_fresh(cfg, e, now_ms))
		e->fails = 0;
	e->fails++;
	e->fail_ms = now_ms;
	if (e->fails < cfg->opt.lockout_after)
		return 0;
	e->locked_until_ms = now_ms + (int64_t)cfg->opt.lockout_time * 1000;
	memset(e->prog, 0, t->ndoors * sizeof(*e->prog));
	t->st.lockouts++;
	event(ev, n, KEV_LOCKOUT, d, 0, 0);
	return 1;
}

/* End the attempts of e that knock p breaks, and count the failure unless
 * p is some door's right next knock.  Returns 1 if that locked e out. */
static int
break_attempts(struct knock_table *t, const struct config *cfg,
    struct knock_entry *e, const struct pkt *p, int64_t now_ms,
    struct knock_event *ev, unsigned *n)
{
	unsigned d, stage, failed = ~0u;
	int right = 0;

	for (d = 0; d < cfg->ndoors && d < t->ndoors; d++) {
		const struct cfg_door *door = &cfg->door[d];

		stage = e->prog[d].stage;
		if (stage == 0 || !door_hears(door, p) ||
		    (is_step(door, stage, p) &&
		    knock_live(door, &e->prog[d], now_ms)))
			continue;
		end_attempt(cfg, e, d, now_ms, ev, n);
		if (failed == ~0u)
			failed = d;
	}
	for (d = 0; d < cfg->ndoors && d < t->ndoors; d++) {
		const struct cfg_door *door = &cfg->door[d];

		stage = e->prog[d].stage;
		if (door_hears(door, p) && is_step(door, stage, p) &&
		    (stage > 0 || door->seq_len == 1))
			right = 1;
	}
	return failed != ~0u && !right &&
	    fail(t, cfg, e, failed, now_ms, ev, n);
}

unsigned
knock_feed(struct knock_table *t, const struct config *cfg,
    const struct pkt *p, int64_t now_ms, struct knock_event *ev)
{
	struct knock_entry *e = find(t, &p->src);
	struct knock_prog *prog;
	unsigned d, n = 0, stage, any = 0;

	if (e != NULL) {
		unlock_expired(e, now_ms);
		if (locked(e, now_ms)) {
			t->st.locked++;
			return 0;
		}
		if (is_retransmission(e, p)) {
			t->st.duplicates++;
			return 0;
		}
		/* Locked out now: this knock advances nothing either. */
		if (break_attempts(t, cfg, e, p, now_ms, ev, &n)) {
			knock_sig(p, &e->last);
			return n;
		}
	}
	/* A port of a sequence out of turn counts as a first knock if it is
	 * one. */
	for (d = 0; d < cfg->ndoors && d < t->ndoors; d++) {
		const struct cfg_door *door = &cfg->door[d];

		stage = e ? e->prog[d].stage : 0;
		if (!door_hears(door, p) || !is_step(door, stage, p))
			continue;
		if (e == NULL && (e = insert(t, cfg, &p->src, now_ms)) == NULL)
			break;
		prog = &e->prog[d];
		if (stage == 0)
			prog->start_ms = now_ms;
		stage++;
		any = 1;
		if (stage == door->seq_len) {
			event(ev, &n, KEV_COMPLETE, d, stage, door->seq_len);
			prog->stage = 0;
		} else {
			event(ev, &n, KEV_STAGE, d, stage, door->seq_len);
			prog->stage = (uint8_t)stage;
		}
	}
	if (e == NULL)
		return n;
	if (n > 0)
		knock_sig(p, &e->last);
	if (any) {
		e->last_ms = now_ms;
		lru_unlink(t, e);
		lru_push_front(t, e);
	}
	/* Nothing worth keeping: free the slot at once. */
	if (worth(t, cfg, e, now_ms) == 0)
		release(t, e);
	return n;
}

unsigned
knock_observe(struct knock_table *t, const struct config *cfg,
    const struct pkt *p, int64_t now_ms, struct knock_event *ev)
{
	struct knock_entry *e = find(t, &p->src);
	unsigned d, n = 0, failed = ~0u;

	if (e == NULL)
		return 0;
	unlock_expired(e, now_ms);
	for (d = 0; d < cfg->ndoors && d < t->ndoors; d++) {
		if (e->prog[d].stage == 0)
			continue;
		end_attempt(cfg, e, d, now_ms, ev, &n);
		if (failed == ~0u)
			failed = d;
	}
	if (failed != ~0u) {
		t->st.scan_resets++;
		(void)fail(t, cfg, e, failed, now_ms, ev, &n);
	}
	if (worth(t, cfg, e, now_ms) == 0)
		release(t, e);
	return n;
}

void
knock_door_reset(struct knock_table *t, unsigned door)
{
	unsigned i;

	if (door >= t->ndoors)
		return;
	for (i = 0; i < t->cap; i++)
		t->ent[i].prog[door].stage = 0;
}

int
knock_locked(const struct knock_table *t, const struct addr *src,
    int64_t now_ms, int64_t *until_ms)
{
	const struct knock_entry *e = find(t, src);

	if (e == NULL || !locked(e, now_ms))
		return 0;
	if (until_ms != NULL)
		*until_ms = e->locked_until_ms;
	return 1;
}

void
knock_forget(struct knock_table *t, const struct addr *src)
{
	struct knock_entry *e = find(t, src);

	if (e)
		release(t, e);
}

const struct knock_prog *
knock_peek(const struct knock_table *t, const struct addr *src,
    unsigned door)
{
	const struct knock_entry *e = find(t, src);

	if (e == NULL || door >= t->ndoors)
		return NULL;
	return &e->prog[door];
}
