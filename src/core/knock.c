/* knock: per-source knock sequence state machine in bounded tables (pure).
 *
 * Sources live in a chained hash table keyed with SipHash and a secret
 * seed (a remote sender cannot aim at one chain).  The records are the
 * buckets: slot b holds the head of bucket b's chain, and a new source
 * takes its own bucket's slot when that is free, else a released slot
 * (free list), else one never used (a rover over the array), else an
 * evicted one: an eviction clock sweeps the slots, so no list is kept in
 * order of use and a packet touches no other source's record.  The
 * buckets grow one at a time with the sources (linear hashing: bucket
 * `split` is split in two when there are more sources than buckets), so
 * every slot touched lies below the peak number of sources: memory
 * follows use, not Max_Sources.  A source's
 * attempts (one cell per door in progress) and the signatures of its
 * older counted packets (history cells) hang off its record in singly
 * linked lists of cells from one pool; a source with nothing worth keeping
 * is freed at once.  Cells come from a free list first and then from the
 * never-used part of the pool.
 *
 * A packet that ends some attempt (reset or timeout) is one failure,
 * however many doors it ends, unless it is the right next knock of another
 * door (takes it past its first knock, or completes it): doors that share
 * ports end each other's attempts in normal use.  Failures are counted
 * while each comes within Lockout_Time of the one before; a completed
 * sequence does not clear them, or knowing one door's sequence would allow
 * guessing another's without end.
 *
 * Forgetting a door's attempts (knock_door_reset) bumps the door's
 * generation, and forgetting all (knock_reset_all) moves a time mark:
 * cells of an older generation or started before the mark are dead and
 * are collected when their source is next touched.  Both are O(doors). */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "knock.h"

#define LINE 64
_Static_assert(sizeof(struct knock_src) == LINE, "a source is 64 bytes");
_Static_assert(sizeof(union knock_cellu) == 16, "a cell is 16 bytes");
_Static_assert(CFG_MAX_DOORS <= 64, "doors fit a 64-bit mask");

/* Up to this many payload bytes tell two UDP packets apart. */
#define SIG_BYTES 64

static uint32_t
src_hash(const struct knock_table *t, const struct addr *src)
{
	return (uint32_t)srchash(&t->key, src);
}

/* Hash h's bucket: of the 2^level buckets, or of twice as many if its
 * bucket has been split already. */
static uint32_t
bucket_at(const struct knock_table *t, uint32_t h)
{
	uint32_t b = h & ((1u << t->level) - 1);

	return b < t->split ? h & ((2u << t->level) - 1) : b;
}

static uint32_t
bucket_of(const struct knock_table *t, const struct addr *src)
{
	return bucket_at(t, src_hash(t, src));
}

static unsigned
doors_of(const struct knock_table *t, const struct config *cfg)
{
	return t->ndoors < cfg->ndoors ? t->ndoors : cfg->ndoors;
}

struct knock_table *
knock_new(unsigned cap, const struct config *cfg,
    const struct siphash_key *key)
{
	struct knock_table *t;
	unsigned d;

	if (cap == 0 || cap > (1u << 24))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->cap = cap;
	while ((2u << t->level) <= cap && t->level < 4)
		t->level++;		/* 16 buckets to start with */
	t->ncells = cap * KNOCK_CELLS_PER_SOURCE;
	if (t->ncells < 64)
		t->ncells = 64;
	t->ndoors = cfg->ndoors;
	t->key = *key;
	t->hold_ms = 1000;
	for (d = 0; d < cfg->ndoors; d++)
		if ((int64_t)cfg->door[d].seq_timeout * 1000 > t->hold_ms)
			t->hold_ms = (int64_t)cfg->door[d].seq_timeout * 1000;
	/* One line more, to start the records on a cache line. */
	t->ent_mem = calloc((size_t)cap + 1, sizeof(*t->ent));
	t->cell = calloc(t->ncells, sizeof(*t->cell));
	if (t->ent_mem == NULL || t->cell == NULL) {
		knock_free(t);
		return NULL;
	}
	t->ent = (struct knock_src *)(((uintptr_t)t->ent_mem + LINE - 1) &
	    ~(uintptr_t)(LINE - 1));
	return t;
}

void
knock_free(struct knock_table *t)
{
	if (t == NULL)
		return;
	free(t->ent_mem);
	free(t->cell);
	free(t);
}

/* ---- sources ---- */

static struct knock_src *
find_in(const struct knock_table *t, uint32_t b, const struct addr *src)
{
	uint32_t i;

	for (i = t->ent[b].head; i; i = t->ent[i - 1].hnext)
		if (addr_equal(&t->ent[i - 1].src, src))
			return &t->ent[i - 1];
	return NULL;
}

static struct knock_src *
find(const struct knock_table *t, const struct addr *src)
{
	return find_in(t, bucket_of(t, src), src);
}

/* bucket_of() for a packet's source: the verdict asks about the same
 * source twice or more (locked? then the packet), and knock_prefetch()
 * before that; one hash does (srchash.h). */
static uint32_t
bucket_memo(struct knock_table *t, const struct addr *src)
{
	return bucket_at(t, (uint32_t)srchash_memo(&t->memo, &t->key, src));
}

void
knock_prefetch(struct knock_table *t, const struct addr *src)
{
	__builtin_prefetch(&t->ent[bucket_memo(t, src)]);
}

static void
touch(struct knock_table *t, uint32_t slot)
{
	if (slot + 1 > t->top)
		t->top = slot + 1;
}

/* One bucket more: bucket `split` gives the sources whose hash has the
 * next bit set to bucket split + 2^level.  O(its chain). */
static void
grow(struct knock_table *t)
{
	uint32_t nb = (1u << t->level) + t->split, *pp, *tp, i;

	if (nb >= t->cap)
		return;
	touch(t, nb);
	tp = &t->ent[nb].head;		/* a new bucket: empty */
	for (pp = &t->ent[t->split].head; (i = *pp) != 0;) {
		struct knock_src *e = &t->ent[i - 1];

		if ((src_hash(t, &e->src) & ((2u << t->level) - 1)) == nb) {
			*pp = e->hnext;		/* both keep their order */
			e->hnext = 0;
			*tp = i;
			tp = &e->hnext;
		} else
			pp = &e->hnext;
	}
	if (++t->split == 1u << t->level) {
		t->level++;
		t->split = 0;
	}
}

static uint32_t
idx1(const struct knock_table *t, const struct knock_src *e)
{
	return (uint32_t)(e - t->ent) + 1;
}

/* The free list is doubly linked (hnext: next, attempts: previous), so a
 * source can take its own bucket's slot off it. */
static void
free_push(struct knock_table *t, struct knock_src *e)
{
	e->flags = KS_FREE;
	e->hnext = t->free_head;
	e->attempts = 0;
	if (t->free_head)
		t->ent[t->free_head - 1].attempts = idx1(t, e);
	t->free_head = idx1(t, e);
}

static void
free_unlink(struct knock_table *t, struct knock_src *e)
{
	if (e->attempts)
		t->ent[e->attempts - 1].hnext = e->hnext;
	else
		t->free_head = e->hnext;
	if (e->hnext)
		t->ent[e->hnext - 1].attempts = e->attempts;
	e->hnext = e->attempts = 0;
	e->flags = 0;
}

/* Clear a slot, keeping its bucket's head. */
static void
slot_clear(struct knock_src *e)
{
	uint32_t head = e->head;

	memset(e, 0, sizeof(*e));
	e->head = head;
}

/* ---- cells ---- */

static void
cell_put(struct knock_table *t, uint32_t i)
{
	memset(&t->cell[i - 1], 0, sizeof(t->cell[0]));
	t->cell[i - 1].a.next = t->cell_free;
	t->cell_free = i;
	t->st.cells_used--;
}

static void
chain_free(struct knock_table *t, uint32_t *head)
{
	uint32_t i, next;

	for (i = *head; i; i = next) {
		next = t->cell[i - 1].a.next;
		cell_put(t, i);
	}
	*head = 0;
}

/* Unlink the cell *pp points at; returns pp (now at the next one). */
static uint32_t *
cell_unlink(struct knock_table *t, uint32_t *pp)
{
	uint32_t i = *pp;

	*pp = t->cell[i - 1].a.next;
	cell_put(t, i);
	return pp;
}

/* Unhash e, free its cells and put it on the free list. */
static void
release(struct knock_table *t, struct knock_src *e)
{
	/* The packet's own source, usually: its hash is in the memo. */
	uint32_t *pp = &t->ent[bucket_at(t, (uint32_t)srchash_peek(&t->memo,
	    &t->key, &e->src))].head, i = idx1(t, e);

	while (*pp && *pp != i)
		pp = &t->ent[*pp - 1].hnext;
	if (*pp)
		*pp = e->hnext;
	chain_free(t, &e->attempts);
	chain_free(t, &e->hist);
	slot_clear(e);
	free_push(t, e);
	t->st.used--;
}

/* ---- what a source is worth ---- */

static int
locked(const struct knock_src *e, int64_t now_ms)
{
	return e->locked_until_ms != 0 && now_ms < e->locked_until_ms;
}

static int
fails_fresh(const struct config *cfg, const struct knock_src *e,
    int64_t now_ms)
{
	return cfg->opt.lockout_after > 0 && e->fails > 0 &&
	    now_ms - e->fail_ms <= (int64_t)cfg->opt.lockout_time * 1000;
}

static int
hist_fresh(const struct knock_table *t, const struct knock_src *e,
    int64_t now_ms)
{
	return (e->sig != 0 || e->hist != 0) &&
	    now_ms - e->last_ms <= t->hold_ms;
}

/* A lockout that is over leaves nothing behind: a fresh start. */
static void
unlock_expired(struct knock_src *e, int64_t now_ms)
{
	if (e->locked_until_ms != 0 && !locked(e, now_ms)) {
		e->locked_until_ms = 0;
		e->fails = 0;
	}
}

/* Still an attempt of the door as it is now (not forgotten)? */
static int
cell_current(const struct knock_table *t, const struct config *cfg,
    const struct knock_cell *c)
{
	return c->door < doors_of(t, cfg) && c->gen == t->gen[c->door] &&
	    c->start_ms >= t->reset_ms && c->stage > 0 &&
	    c->stage < cfg->door[c->door].seq_len;
}

static int
cell_live(const struct config *cfg, const struct knock_cell *c,
    int64_t now_ms)
{
	return now_ms - c->start_ms <=
	    (int64_t)cfg->door[c->door].seq_timeout * 1000;
}

/* A source's first knock: stage 1, worth 1 + 1. */
#define WORTH_FIRST_KNOCK 2

/* How much e is worth keeping; 0: nothing.  See KNOCK_EVICT_SCAN. */
static unsigned
worth(const struct knock_table *t, const struct config *cfg,
    const struct knock_src *e, int64_t now_ms)
{
	unsigned w = 0;
	uint32_t i;

	if (locked(e, now_ms))
		return CFG_MAX_SEQ + 2;
	for (i = e->attempts; i; i = t->cell[i - 1].a.next) {
		const struct knock_cell *c = &t->cell[i - 1].a;

		if (cell_current(t, cfg, c) && cell_live(cfg, c, now_ms) &&
		    c->stage + 1u > w)
			w = c->stage + 1u;
	}
	if (w == 0 && (fails_fresh(cfg, e, now_ms) || hist_fresh(t, e, now_ms)))
		w = 1;
	return w;
}

/* Slots the hand may pass looking for sources to examine: a table that
 * is full of sources has one in every slot; one whose cell pool is dry
 * has one in at least every 4 * (CFG_MAX_DOORS + KNOCK_HIST_CELLS). */
#define EVICT_STEPS_MAX 4096
/* Sources examined at most when the first KNOCK_EVICT_SCAN are all worth
 * more than the newcomer. */
#define EVICT_WIDE 64

/* Is e a better victim than *v (less worth; older on ties)? */
static void
consider(const struct knock_table *t, const struct config *cfg,
    struct knock_src *e, int64_t now_ms, struct knock_src **v, unsigned *vw)
{
	unsigned w = worth(t, cfg, e, now_ms);

	if (*v == NULL || w < *vw || (w == *vw && e->last_ms < (*v)->last_ms)) {
		*v = e;
		*vw = w;
	}
}

/* The next used slot at or after *i (wrapping below t->top), not pin;
 * NULL after *steps reaches the bound. */
static struct knock_src *
next_used(struct knock_table *t, uint32_t *i, unsigned *steps,
    const struct knock_src *pin)
{
	unsigned bound = t->top < EVICT_STEPS_MAX ? t->top : EVICT_STEPS_MAX;

	while (*steps < bound) {
		struct knock_src *e = &t->ent[*i];

		(*steps)++;
		*i = *i + 1 < t->top ? *i + 1 : 0;
		if ((e->flags & KS_USED) && e != pin)
			return e;
	}
	return NULL;
}

/* Make room for something worth `want` (see KNOCK_EVICT_SCAN): a source
 * worth no more than that is evicted, the least worth of the first
 * KNOCK_EVICT_SCAN from the hand, else the first such of up to
 * EVICT_WIDE.  None: the newcomer is refused and the hand moves past
 * them, so newcomers never break into a run of locked or advanced
 * sources.  Never touches pin.  1 if a source was freed. */
static int
evict_one(struct knock_table *t, const struct config *cfg, int64_t now_ms,
    const struct knock_src *pin, unsigned want)
{
	struct knock_src *cand[KNOCK_EVICT_SCAN], *e, *victim = NULL;
	uint32_t i = t->hand < t->top ? t->hand : 0, first = 0;
	unsigned n, k, steps = 0, seen, victim_w = ~0u;

	/* The first candidates' first cells asked for at once: in a large
	 * table each is a cache miss, and worth() needs them all. */
	for (n = 0; n < KNOCK_EVICT_SCAN &&
	    (e = next_used(t, &i, &steps, pin)) != NULL; n++) {
		cand[n] = e;
		if (e->attempts)
			__builtin_prefetch(&t->cell[e->attempts - 1]);
	}
	if (n > 0)
		first = (uint32_t)(cand[0] - t->ent);
	for (k = 0; k < n && victim_w != 0; k++)
		consider(t, cfg, cand[k], now_ms, &victim, &victim_w);
	for (seen = n; victim_w > want && seen < EVICT_WIDE &&
	    (e = next_used(t, &i, &steps, pin)) != NULL; seen++)
		consider(t, cfg, e, now_ms, &victim, &victim_w);
	if (victim == NULL || victim_w > want) {
		t->hand = i;		/* past them: look further next time */
		t->st.refused++;
		return 0;
	}
	/* One on: what it spared it examines again next time, as the tail
	 * of a list in order of use would be. */
	t->hand = first + 1 < t->top ? first + 1 : 0;
	if (victim_w == 0)
		t->st.reclaimed++;
	else {
		t->st.evicted++;
		t->st.evicted_locked += locked(victim, now_ms);
	}
	release(t, victim);
	return 1;
}

static uint32_t
cell_take(struct knock_table *t)
{
	uint32_t i = t->cell_free;

	if (i)
		t->cell_free = t->cell[i - 1].a.next;
	else if (t->cell_fresh < t->ncells)
		i = ++t->cell_fresh;
	if (i) {
		memset(&t->cell[i - 1], 0, sizeof(t->cell[0]));
		t->st.cells_used++;
	}
	return i;
}

/* A zeroed cell, evicting other sources than pin if the pool is dry. */
static uint32_t
cell_alloc(struct knock_table *t, const struct config *cfg, int64_t now_ms,
    const struct knock_src *pin)
{
	uint32_t i = cell_take(t);
	unsigned tries, want;

	if (i != 0)
		return i;
	/* For pin's progress: others worth no more than a first knock, or
	 * than pin itself, may go. */
	want = worth(t, cfg, pin, now_ms);
	if (want < WORTH_FIRST_KNOCK)
		want = WORTH_FIRST_KNOCK;
	for (tries = 0; i == 0 && tries < KNOCK_EVICT_SCAN &&
	    evict_one(t, cfg, now_ms, pin, want); tries++)
		i = cell_take(t);
	return i;
}

/* A slot for a source of bucket b: b itself when free, else a released
 * one, else one never used; NULL when every slot holds a source. */
static struct knock_src *
slot_take(struct knock_table *t, uint32_t b)
{
	struct knock_src *e = &t->ent[b];

	if (e->flags & KS_USED) {
		if (t->free_head)
			e = &t->ent[t->free_head - 1];
		else {
			while (t->rover < t->cap && t->ent[t->rover].flags != 0)
				t->rover++;
			if (t->rover == t->cap)
				return NULL;
			e = &t->ent[t->rover++];
		}
	}
	if (e->flags & KS_FREE)
		free_unlink(t, e);
	touch(t, (uint32_t)(e - t->ent));
	return e;
}

static struct knock_src *
insert(struct knock_table *t, const struct config *cfg,
    const struct addr *src, int64_t now_ms)
{
	uint32_t b = bucket_memo(t, src), *pp;
	struct knock_src *e = slot_take(t, b);

	if (e == NULL && evict_one(t, cfg, now_ms, NULL, WORTH_FIRST_KNOCK))
		e = slot_take(t, b);
	if (e == NULL)
		return NULL;
	slot_clear(e);
	e->src = *src;
	e->flags = KS_USED;
	e->last_ms = now_ms;
	/* At the chain's end (the lookup just walked it: no miss), so a
	 * chain runs from its oldest source: the eviction's victim is most
	 * often first, and its release walks no chain. */
	for (pp = &t->ent[b].head; *pp; pp = &t->ent[*pp - 1].hnext)
		;
	e->hnext = 0;
	*pp = idx1(t, e);
	if (++t->st.used > (1u << t->level) + t->split)
		grow(t);
	return e;
}

/* ---- history: signatures of counted packets ---- */

/* What identifies a packet: a retransmission repeats all of it (but not
 * always the TCP flags: a SYN is retried without ECN). */
static uint32_t
packet_sig(const struct knock_table *t, const struct pkt *p)
{
	uint8_t b[1 + 4 + 17 + 4 + SIG_BYTES];
	size_t n = 0, k;
	uint32_t v, h;

	b[n++] = p->proto;
	b[n++] = (uint8_t)(p->sport >> 8);
	b[n++] = (uint8_t)p->sport;
	b[n++] = (uint8_t)(p->dport >> 8);
	b[n++] = (uint8_t)p->dport;
	b[n++] = p->dst.family;
	memcpy(b + n, p->dst.b, 16);
	n += 16;
	v = p->proto == IPPROTO_TCP ? p->tcpseq : (uint32_t)p->payload_len;
	b[n++] = (uint8_t)(v >> 24);
	b[n++] = (uint8_t)(v >> 16);
	b[n++] = (uint8_t)(v >> 8);
	b[n++] = (uint8_t)v;
	if (p->proto != IPPROTO_TCP && p->payload != NULL) {
		k = p->payload_len < SIG_BYTES ? p->payload_len : SIG_BYTES;
		memcpy(b + n, p->payload, k);
		n += k;
	}
	h = (uint32_t)siphash24(&t->key, b, n);
	return h ? h : 1;
}

static int
hist_has(const struct knock_table *t, const struct knock_src *e,
    uint32_t sig, int64_t now_ms)
{
	uint32_t i;
	unsigned k;

	if (!hist_fresh(t, e, now_ms))
		return 0;
	if (e->sig == sig)
		return 1;
	for (i = e->hist; i; i = t->cell[i - 1].h.next)
		for (k = 0; k < KNOCK_HIST_SIGS; k++)
			if (t->cell[i - 1].h.sig[k] == sig)
				return 1;
	return 0;
}

/* Take e's oldest history cell off its list, zeroed.  The list must not
 * be empty. */
static uint32_t
hist_pop_oldest(struct knock_table *t, struct knock_src *e)
{
	uint32_t *pp = &e->hist, i;

	while (t->cell[*pp - 1].h.next)
		pp = &t->cell[*pp - 1].h.next;
	i = *pp;
	*pp = 0;
	memset(&t->cell[i - 1], 0, sizeof(t->cell[0]));
	return i;
}

/* Keep an older signature in the history cells (the oldest go first when
 * a source has KNOCK_HIST_CELLS, or the pool is dry). */
static void
hist_keep(struct knock_table *t, const struct config *cfg,
    struct knock_src *e, uint32_t sig, int64_t now_ms)
{
	struct knock_hcell *h;
	uint32_t i, c;
	unsigned k, ncells = 0;

	if (e->hist) {
		h = &t->cell[e->hist - 1].h;
		for (k = 0; k < KNOCK_HIST_SIGS; k++)
			if (h->sig[k] == 0) {
				h->sig[k] = sig;
				return;
			}
	}
	for (i = e->hist; i; i = t->cell[i - 1].h.next)
		ncells++;
	c = ncells < KNOCK_HIST_CELLS ? cell_alloc(t, cfg, now_ms, e) : 0;
	if (c == 0 && e->hist == 0)
		return;			/* no room at all: forget it */
	if (c == 0)
		c = hist_pop_oldest(t, e);
	t->cell[c - 1].h.next = e->hist;
	t->cell[c - 1].h.sig[0] = sig;
	e->hist = c;
}

/* The newest signature lives in the record; older ones in cells. */
static void
hist_add(struct knock_table *t, const struct config *cfg,
    struct knock_src *e, uint32_t sig, int64_t now_ms)
{
	if (!hist_fresh(t, e, now_ms)) {
		chain_free(t, &e->hist);
		e->sig = 0;
	}
	if (e->sig != 0)
		hist_keep(t, cfg, e, e->sig, now_ms);
	e->sig = sig;
}

/* ---- the rules ---- */

int
knock_flags_match(const struct cfg_door *d, const struct pkt *p)
{
	if (p->proto != IPPROTO_TCP)
		return 1;
	if (d->tcpflags_set == 0 && d->tcpflags_clear == 0)
		return (p->tcpflags & (TCPF_SYN | TCPF_ACK | TCPF_FIN |
		    TCPF_RST)) == TCPF_SYN;
	return (p->tcpflags & d->tcpflags_set) == d->tcpflags_set &&
	    (p->tcpflags & d->tcpflags_clear) == 0;
}

/* Is p the knock number stage (0-based) of door d? */
static int
is_next(const struct cfg_door *d, unsigned stage, const struct pkt *p)
{
	return stage < d->seq_len && d->seq[stage].port == p->dport &&
	    d->seq[stage].proto == p->proto &&
	    (d->target.family == 0 || addr_equal(&d->target, &p->dst)) &&
	    knock_flags_match(d, p);
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

/* One more failed attempt, ended at door d (one per packet, however many
 * doors it ended).  Enough of them lock the source out. */
static void
fail(struct knock_table *t, const struct config *cfg, struct knock_src *e,
    unsigned d, int64_t now_ms, struct knock_event *ev, unsigned *n)
{
	if (cfg->opt.lockout_after == 0)
		return;
	if (!fails_fresh(cfg, e, now_ms))
		e->fails = 0;
	e->fails++;
	e->fail_ms = now_ms;
	if (e->fails < cfg->opt.lockout_after)
		return;
	e->locked_until_ms = now_ms + (int64_t)cfg->opt.lockout_time * 1000;
	chain_free(t, &e->attempts);
	t->st.lockouts++;
	event(ev, n, KEV_LOCKOUT, d, 0, 0);
}

static int
attempt_new(struct knock_table *t, const struct config *cfg,
    struct knock_src *e, unsigned d, int64_t now_ms)
{
	uint32_t i = cell_alloc(t, cfg, now_ms, e), *pp;
	struct knock_cell *c;

	if (i == 0)
		return -1;
	c = &t->cell[i - 1].a;
	c->door = (uint8_t)d;
	c->stage = 1;
	c->gen = t->gen[d];
	c->start_ms = now_ms;
	/* At the end: a source's attempts stay in the order they began. */
	for (pp = &e->attempts; *pp; pp = &t->cell[*pp - 1].a.next)
		;
	*pp = i;
	return 0;
}

/* What one packet did to a source's attempts. */
struct outcome {
	int ended;		/* first door whose attempt ended, or -1 */
	int deep;		/* an attempt past its first knock ended */
	int right;		/* it advanced an attempt, or completed a door */
	uint64_t touched;	/* doors it advanced */
};

/* Step 1: every attempt of e either takes p as its next knock or ends. */
static void
advance_or_end(struct knock_table *t, const struct config *cfg,
    struct knock_src *e, const struct pkt *p, enum knock_where where,
    int64_t now_ms, struct knock_event *ev, unsigned *n, struct outcome *o)
{
	uint32_t *pp = &e->attempts;

	while (*pp) {
		struct knock_cell *c = &t->cell[*pp - 1].a;
		const struct cfg_door *door;

		if (!cell_current(t, cfg, c)) {
			pp = cell_unlink(t, pp);	/* forgotten: silently */
			continue;
		}
		door = &cfg->door[c->door];
		if (!cell_live(cfg, c, now_ms)) {
			event(ev, n, KEV_TIMEOUT, c->door, c->stage,
			    door->seq_len);
		} else if (where == KNOCK_AT_PORT &&
		    is_next(door, c->stage, p)) {
			c->stage++;
			o->right = 1;
			o->touched |= (uint64_t)1 << c->door;
			if (c->stage < door->seq_len) {
				event(ev, n, KEV_STAGE, c->door, c->stage,
				    door->seq_len);
				pp = &c->next;
				continue;
			}
			event(ev, n, KEV_COMPLETE, c->door, c->stage,
			    door->seq_len);
			pp = cell_unlink(t, pp);
			continue;
		} else {
			event(ev, n, KEV_RESET, c->door, c->stage,
			    door->seq_len);
		}
		if (o->ended < 0 || c->door < o->ended)
			o->ended = c->door;
		o->deep |= c->stage > 1;
		pp = cell_unlink(t, pp);
	}
}

/* Doors p would start (it is their first knock), besides those it just
 * advanced; a one-knock door it completes makes it a right knock. */
static uint64_t
would_start(const struct config *cfg, unsigned nd, const struct pkt *p,
    struct outcome *o)
{
	uint64_t m = 0;
	unsigned d;

	for (d = 0; d < nd; d++)
		if (!((o->touched >> d) & 1) && is_next(&cfg->door[d], 0, p)) {
			m |= (uint64_t)1 << d;
			if (cfg->door[d].seq_len == 1)
				o->right = 1;
		}
	return m;
}

/* Step 2: start (or, one knock long, complete) the doors in m. */
static struct knock_src *
start_doors(struct knock_table *t, const struct config *cfg,
    struct knock_src *e, const struct pkt *p, uint64_t m, int64_t now_ms,
    struct knock_event *ev, unsigned *n)
{
	unsigned d;

	for (d = 0; m != 0 && d < CFG_MAX_DOORS; d++) {
		const struct cfg_door *door = &cfg->door[d];

		if (!((m >> d) & 1))
			continue;
		m &= ~((uint64_t)1 << d);
		if (e == NULL && (e = insert(t, cfg, &p->src, now_ms)) == NULL)
			break;
		if (door->seq_len == 1) {
			event(ev, n, KEV_COMPLETE, d, 1, 1);
			continue;
		}
		if (attempt_new(t, cfg, e, d, now_ms) != 0)
			break;
		event(ev, n, KEV_STAGE, d, 1, door->seq_len);
	}
	return e;
}

/* A packet that ends attempts is a failure unless it advanced one, or
 * merely starts over: every attempt it ended was at its first knock and it
 * is the first knock of some door (a knock client's retry, or one door's
 * knock that another door began with). */
unsigned
knock_packet(struct knock_table *t, const struct config *cfg,
    const struct pkt *p, enum knock_where where, int64_t now_ms,
    struct knock_event *ev)
{
	struct knock_src *e = find_in(t, bucket_memo(t, &p->src), &p->src);
	struct outcome o = { -1, 0, 0, 0 };
	unsigned n = 0, nd = doors_of(t, cfg);
	uint64_t starts = 0;
	uint32_t sig = 0;

	if (e != NULL) {
		unlock_expired(e, now_ms);
		if (locked(e, now_ms)) {
			if (where == KNOCK_AT_PORT)
				t->st.locked++;
			return 0;
		}
		sig = packet_sig(t, p);
		if (hist_has(t, e, sig, now_ms)) {
			t->st.duplicates++;
			return 0;
		}
		advance_or_end(t, cfg, e, p, where, now_ms, ev, &n, &o);
	} else if (where != KNOCK_AT_PORT)
		return 0;		/* nothing to reset, nothing to start */
	if (where == KNOCK_AT_PORT)
		starts = would_start(cfg, nd, p, &o);
	if (o.ended >= 0) {
		if (where != KNOCK_AT_PORT)
			t->st.scan_resets++;
		if (!o.right && o.deep)
			fail(t, cfg, e, (unsigned)o.ended, now_ms, ev, &n);
	}
	if (e == NULL || !locked(e, now_ms))
		e = start_doors(t, cfg, e, p, starts, now_ms, ev, &n);
	if (e == NULL)
		return n;
	if (n > 0) {
		hist_add(t, cfg, e, sig ? sig : packet_sig(t, p), now_ms);
		e->last_ms = now_ms;
	}
	/* Nothing worth keeping: free the record at once. */
	if (worth(t, cfg, e, now_ms) == 0)
		release(t, e);
	return n;
}

void
knock_door_reset(struct knock_table *t, unsigned door)
{
	if (door < t->ndoors)
		t->gen[door]++;
}

void
knock_reset_all(struct knock_table *t, int64_t now_ms)
{
	/* Cells started before the mark are dead; +1 so that one started
	 * in this very millisecond (before the loss was seen) is too. */
	if (now_ms + 1 > t->reset_ms)
		t->reset_ms = now_ms + 1;
	t->st.invalidated++;
}

int
knock_locked(struct knock_table *t, const struct addr *src,
    int64_t now_ms, int64_t *until_ms)
{
	const struct knock_src *e = find_in(t, bucket_memo(t, src), src);

	if (e == NULL || !locked(e, now_ms))
		return 0;
	if (until_ms != NULL)
		*until_ms = e->locked_until_ms;
	return 1;
}

void
knock_forget(struct knock_table *t, const struct addr *src)
{
	struct knock_src *e = find(t, src);

	if (e)
		release(t, e);
}

int
knock_peek(const struct knock_table *t, const struct addr *src,
    unsigned door, struct knock_prog *out)
{
	const struct knock_src *e = find(t, src);
	uint32_t i;

	for (i = e ? e->attempts : 0; i; i = t->cell[i - 1].a.next) {
		const struct knock_cell *c = &t->cell[i - 1].a;

		if (c->door != door || door >= t->ndoors ||
		    c->gen != t->gen[door] || c->start_ms < t->reset_ms)
			continue;
		out->src = e->src;
		out->door = door;
		out->stage = c->stage;
		out->start_ms = c->start_ms;
		return 1;
	}
	return 0;
}

int
knock_live(const struct cfg_door *d, const struct knock_prog *p,
    int64_t now_ms)
{
	return p->stage > 0 &&
	    now_ms - p->start_ms <= (int64_t)d->seq_timeout * 1000;
}

void
knock_iter_init(struct knock_iter *it)
{
	memset(it, 0, sizeof(*it));
}

int
knock_iter_next(const struct knock_table *t, const struct config *cfg,
    struct knock_iter *it, int64_t now_ms, struct knock_prog *out)
{
	if (t == NULL)
		return 0;
	if (!it->started) {
		it->started = 1;
		it->src = 0;
		it->cell = 0;
	}
	for (;;) {
		while (it->cell) {
			const struct knock_src *e = &t->ent[it->src - 1];
			const struct knock_cell *c = &t->cell[it->cell - 1].a;

			it->cell = c->next;
			if (!cell_current(t, cfg, c) ||
			    !cell_live(cfg, c, now_ms))
				continue;
			out->src = e->src;
			out->door = c->door;
			out->stage = c->stage;
			out->start_ms = c->start_ms;
			return 1;
		}
		do {
			if (it->src >= t->top)
				return 0;
			it->src++;
		} while (!(t->ent[it->src - 1].flags & KS_USED));
		it->cell = t->ent[it->src - 1].attempts;
	}
}

size_t
knock_memory(const struct knock_table *t)
{
	return sizeof(*t) + (size_t)t->top * sizeof(t->ent[0]) +
	    (size_t)t->cell_fresh * sizeof(t->cell[0]);
}
