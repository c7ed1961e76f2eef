/* knock: per-source knock sequence state machine in a fixed-capacity table
 * (pure).
 *
 * Each tracked source holds one progress slot per door, so doors that share
 * a prefix advance in parallel.  Sources live in a chained hash table keyed
 * with SipHash and a secret seed (a remote sender cannot aim at one chain),
 * and on an LRU list that picks eviction candidates when the table is full.
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

/* Make room in a full table: see KNOCK_EVICT_SCAN in knock.h. */
static void
evict_one(struct knock_table *t, const struct config *cfg, int64_t now_ms)
{
	struct knock_entry *e, *victim = NULL;
	unsigned n, stage, victim_stage = ~0u;
	uint32_t i;

	for (i = t->lru_tail, n = 0; i && n < KNOCK_EVICT_SCAN;
	    i = e->lru_prev, n++) {
		e = &t->ent[i - 1];
		stage = best_stage(t, cfg, e, now_ms);
		if (stage == 0) {
			t->st.reclaimed++;
			release(t, e);
			return;
		}
		if (stage < victim_stage) {
			victim = e;
			victim_stage = stage;
		}
	}
	if (victim) {
		t->st.evicted++;
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

unsigned
knock_feed(struct knock_table *t, const struct config *cfg,
    const struct pkt *p, int64_t now_ms, struct knock_event *ev)
{
	struct knock_entry *e = find(t, &p->src);
	struct knock_prog *prog;
	unsigned d, n = 0, stage, any = 0;

	for (d = 0; d < cfg->ndoors && d < t->ndoors; d++) {
		const struct cfg_door *door = &cfg->door[d];

		if (!door_hears(door, p))
			continue;
		stage = e ? e->prog[d].stage : 0;
		if (stage > 0 && !knock_live(door, &e->prog[d], now_ms)) {
			event(ev, &n, KEV_TIMEOUT, d, stage, door->seq_len);
			e->prog[d].stage = stage = 0;
		}
		if (!is_step(door, stage, p)) {
			/* A port of this sequence out of turn: start over,
			 * and let it count as a first knock if it is one. */
			if (stage > 0) {
				event(ev, &n, KEV_RESET, d, stage,
				    door->seq_len);
				e->prog[d].stage = stage = 0;
			}
			if (!is_step(door, 0, p))
				continue;
		}
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
	if (any) {
		e->last_ms = now_ms;
		lru_unlink(t, e);
		lru_push_front(t, e);
	}
	/* Nothing left in progress: free the slot at once. */
	if (best_stage(t, cfg, e, now_ms) == 0)
		release(t, e);
	return n;
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
