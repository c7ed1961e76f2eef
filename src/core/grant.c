/* grant: (source, door) grants with absolute expiry in a fixed-capacity
 * table (pure).  See grant.h.
 *
 * Hash chains are keyed by source only, so every grant of one source sits
 * on one chain (revoke-all and lookups stay short).  A grant's wheel slot
 * is its expiry second modulo the wheel; every grant lies in the window
 * [base_s, base_s + GRANT_WHEEL), whose start is the earliest grant's
 * second (lowered by an earlier grant, raised as grants expire), so the
 * first slot in use from base_s on holds the earliest expiry.  Expiries
 * past the window's end are cut to it (grants last at most a day; the
 * wheel covers 36 hours). */
#include <stdlib.h>
#include <string.h>

#include "grant.h"

#define MASK (GRANT_WHEEL - 1)

static uint32_t
src_hash(const struct grant_table *t, const struct addr *src)
{
	return (uint32_t)srchash(&t->key, src) & (t->nbuckets - 1);
}

struct grant_table *
grant_new(unsigned cap, const struct siphash_key *key)
{
	struct grant_table *t;

	if (cap == 0 || cap > (1u << 24))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->cap = cap;
	t->key = *key;
	for (t->nbuckets = 16; t->nbuckets < cap; t->nbuckets <<= 1)
		;
	t->g = calloc(cap, sizeof(*t->g));
	t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
	t->slot = calloc(GRANT_WHEEL, sizeof(*t->slot));
	t->bits = calloc(GRANT_WORDS, sizeof(*t->bits));
	if (t->g == NULL || t->bucket == NULL || t->slot == NULL ||
	    t->bits == NULL) {
		grant_free(t);
		return NULL;
	}
	t->deadline = GRANT_NONE;
	return t;
}

void
grant_free(struct grant_table *t)
{
	if (t == NULL)
		return;
	free(t->g);
	free(t->bucket);
	free(t->slot);
	free(t->bits);
	free(t);
}

unsigned
grant_span(const struct grant_table *t)
{
	return t->fresh;
}

/* ---- the wheel ---- */

static int
ctz64(uint64_t v)
{
	return __builtin_ctzll(v);
}

/* First slot in use at or after index x (no wrap), or -1.  At most
 * GRANT_SUMMARY steps. */
static int64_t
bits_from(const struct grant_table *t, uint32_t x)
{
	uint32_t w = x / 64, sw;
	uint64_t m = t->bits[w] & (~(uint64_t)0 << (x % 64)), sm;

	if (m)
		return (int64_t)w * 64 + ctz64(m);
	for (w++; w < GRANT_WORDS; w = (sw + 1) * 64) {
		sw = w / 64;
		sm = t->sum[sw] & (~(uint64_t)0 << (w % 64));
		if (sm) {
			w = sw * 64 + (uint32_t)ctz64(sm);
			return (int64_t)w * 64 + ctz64(t->bits[w]);
		}
	}
	return -1;
}

/* The second of the earliest slot in use, or -1 when the table is empty. */
static int64_t
first_second(const struct grant_table *t)
{
	uint32_t b = (uint32_t)(t->base_s & MASK);
	int64_t i;

	if (t->st.used == 0)
		return -1;
	if ((i = bits_from(t, b)) < 0)
		i = bits_from(t, 0);		/* wrapped */
	return t->base_s + (int64_t)(((uint32_t)i - b) & MASK);
}

static void
slot_mark(struct grant_table *t, uint32_t s, int on)
{
	uint32_t w = s / 64;

	if (on)
		t->bits[w] |= (uint64_t)1 << (s % 64);
	else
		t->bits[w] &= ~((uint64_t)1 << (s % 64));
	if (t->bits[w])
		t->sum[w / 64] |= (uint64_t)1 << (w % 64);
	else
		t->sum[w / 64] &= ~((uint64_t)1 << (w % 64));
}

static int64_t
floor_s(int64_t ms)
{
	return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

/* Fit g's expiry into the window, moving the window's start back for an
 * earlier grant when the latest still fits; returns its second. */
static int64_t
window_fit(struct grant_table *t, struct grant *g)
{
	int64_t s = floor_s(g->expires_ms);

	if (t->st.used == 1) {			/* the first grant */
		t->base_s = t->top_s = s;
		return s;
	}
	if (s > t->base_s + MASK) {
		s = t->base_s + MASK;
		g->expires_ms = s * 1000;
	}
	if (s < t->base_s) {
		if (t->top_s - s <= MASK)
			t->base_s = s;
		else
			s = t->base_s;	/* long expired: first in line */
	}
	if (s > t->top_s)
		t->top_s = s;
	return s;
}

static void
wheel_insert(struct grant_table *t, struct grant *g)
{
	uint32_t i = (uint32_t)(g - t->g) + 1, s;

	s = (uint32_t)(window_fit(t, g) & MASK);
	g->wslot = s;
	g->wprev = 0;
	g->wnext = t->slot[s];
	if (t->slot[s])
		t->g[t->slot[s] - 1].wprev = i;
	else
		slot_mark(t, s, 1);
	t->slot[s] = i;
	if (g->expires_ms < t->deadline)
		t->deadline = g->expires_ms;
}

static void
wheel_remove(struct grant_table *t, struct grant *g)
{
	uint32_t s = g->wslot;

	if (g->wprev)
		t->g[g->wprev - 1].wnext = g->wnext;
	else
		t->slot[s] = g->wnext;
	if (g->wnext)
		t->g[g->wnext - 1].wprev = g->wprev;
	if (t->slot[s] == 0)
		slot_mark(t, s, 0);
	g->wprev = g->wnext = 0;
	if (g->expires_ms <= t->deadline)
		t->deadline_stale = 1;
}

/* ---- entries ---- */

/* Link that points at the grant of (src, door, ports), or at the chain's
 * end. */
static uint32_t *
slot_link(struct grant_table *t, const struct addr *src, unsigned door,
    uint32_t ports)
{
	uint32_t *pp = &t->bucket[src_hash(t, src)];

	while (*pp) {
		struct grant *g = &t->g[*pp - 1];

		if (g->door == door && g->ports == ports &&
		    addr_equal(&g->src, src))
			break;
		pp = &g->hnext;
	}
	return pp;
}

/* Unhash the grant *pp points at (pp is then at the next one), take it
 * off the wheel and free it. */
static void
unlink_at(struct grant_table *t, uint32_t *pp)
{
	uint32_t i = *pp;
	struct grant *g = &t->g[i - 1];

	*pp = g->hnext;
	wheel_remove(t, g);
	memset(g, 0, sizeof(*g));
	g->hnext = t->free_head;
	t->free_head = i;
	t->st.used--;
}

static void
remove_grant(struct grant_table *t, struct grant *g)
{
	unlink_at(t, slot_link(t, &g->src, g->door, g->ports));
}

/* The grant that expires first (of the earliest slot), or NULL. */
static struct grant *
earliest(struct grant_table *t)
{
	int64_t s = first_second(t);

	return s < 0 ? NULL : &t->g[t->slot[(uint32_t)(s & MASK)] - 1];
}

int
grant_add(struct grant_table *t, const struct addr *src, unsigned door,
    int64_t expires_ms, struct grant *evicted)
{
	return grant_add_ports(t, src, door, GRANT_ALL_PORTS, expires_ms,
	    evicted);
}

int
grant_add_ports(struct grant_table *t, const struct addr *src, unsigned door,
    uint32_t ports, int64_t expires_ms, struct grant *evicted)
{
	uint32_t *pp = slot_link(t, src, door, ports);
	struct grant *g;
	int pushed = 0;

	if (*pp) {
		g = &t->g[*pp - 1];
		if (expires_ms <= g->expires_ms) {
			t->st.kept++;
			return 0;
		}
		wheel_remove(t, g);
		g->expires_ms = expires_ms;
		wheel_insert(t, g);
		t->st.refreshed++;
		return 0;
	}
	if (t->free_head == 0 && t->fresh == t->cap) {
		/* Full: the grant closest to its end makes room. */
		g = earliest(t);
		if (evicted)
			*evicted = *g;
		remove_grant(t, g);
		t->st.evicted++;
		pushed = 1;
	}
	if (t->free_head) {
		g = &t->g[t->free_head - 1];
		t->free_head = g->hnext;
	} else
		g = &t->g[t->fresh++];
	memset(g, 0, sizeof(*g));
	g->src = *src;
	g->door = (uint16_t)door;
	g->ports = ports;
	g->expires_ms = expires_ms;
	g->used = 1;
	pp = &t->bucket[src_hash(t, src)];
	g->hnext = *pp;
	*pp = (uint32_t)(g - t->g) + 1;
	t->st.used++;
	t->st.added++;
	wheel_insert(t, g);
	return pushed;
}

const struct grant *
grant_find(const struct grant_table *t, const struct addr *src,
    unsigned door, int64_t now_ms)
{
	return grant_find_ports(t, src, door, GRANT_ALL_PORTS, now_ms);
}

/* The unexpired grant of src for door that covers any of ports and lasts
 * longest, or NULL. */
const struct grant *
grant_find_ports(const struct grant_table *t, const struct addr *src,
    unsigned door, uint32_t ports, int64_t now_ms)
{
	const struct grant *best = NULL;
	uint32_t i = t->bucket[src_hash(t, src)];

	for (; i != 0; i = t->g[i - 1].hnext) {
		const struct grant *g = &t->g[i - 1];

		if (g->door == door && (g->ports & ports) != 0 &&
		    g->expires_ms > now_ms && addr_equal(&g->src, src) &&
		    (best == NULL || g->expires_ms > best->expires_ms))
			best = g;
	}
	return best;
}

unsigned
grant_revoke(struct grant_table *t, const struct addr *src, int door)
{
	uint32_t *pp = &t->bucket[src_hash(t, src)];
	unsigned n = 0;

	while (*pp) {
		struct grant *g = &t->g[*pp - 1];

		if (addr_equal(&g->src, src) && (door < 0 || g->door == door)) {
			unlink_at(t, pp);
			n++;
		} else
			pp = &g->hnext;
	}
	t->st.revoked += n;
	return n;
}

int64_t
grant_next_deadline(struct grant_table *t)
{
	int64_t s;
	uint32_t i;

	if (!t->deadline_stale)
		return t->deadline;
	t->deadline_stale = 0;
	t->deadline = GRANT_NONE;
	if ((s = first_second(t)) < 0)
		return GRANT_NONE;
	/* The earliest slot holds the earliest expiry (a clamped one too). */
	for (i = t->slot[(uint32_t)(s & MASK)]; i; i = t->g[i - 1].wnext)
		if (t->g[i - 1].expires_ms < t->deadline)
			t->deadline = t->g[i - 1].expires_ms;
	return t->deadline;
}

unsigned
grant_expire(struct grant_table *t, int64_t now_ms, struct grant *out,
    unsigned max)
{
	int64_t s, now_s = floor_s(now_ms);
	unsigned n = 0;
	uint32_t i, next;
	int left;

	while (n < max && (s = first_second(t)) >= 0 && s <= now_s) {
		left = 0;
		for (i = t->slot[(uint32_t)(s & MASK)]; i && n < max;
		    i = next) {
			struct grant *g = &t->g[i - 1];

			next = g->wnext;
			if (g->expires_ms > now_ms) {
				left = 1;
				continue;
			}
			out[n++] = *g;
			remove_grant(t, g);
			t->st.expired++;
		}
		if (left)
			break;		/* the rest of this second is still due */
	}
	/* The window starts at the earliest second that holds a grant. */
	if ((s = first_second(t)) >= 0)
		t->base_s = s;
	return n;
}
