/* grant: (source, door) grants with absolute expiry in a fixed-capacity
 * table (pure).  Chains are keyed by source only, so every grant of one
 * source sits on one chain (revoke-all and lookups stay short). */
#include <stdlib.h>
#include <string.h>

#include "grant.h"

static uint32_t
src_hash(const struct grant_table *t, const struct addr *src)
{
	uint8_t k[17];

	k[0] = src->family;
	memcpy(k + 1, src->b, 16);
	return (uint32_t)siphash24(&t->key, k, sizeof(k)) & (t->nbuckets - 1);
}

struct grant_table *
grant_new(unsigned cap, const struct siphash_key *key)
{
	struct grant_table *t;
	unsigned i;

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
	if (t->g == NULL || t->bucket == NULL) {
		grant_free(t);
		return NULL;
	}
	for (i = 0; i < cap; i++)
		t->g[i].hnext = i + 1 < cap ? i + 2 : 0;
	t->free_head = 1;
	t->next_deadline = GRANT_NONE;
	return t;
}

void
grant_free(struct grant_table *t)
{
	if (t == NULL)
		return;
	free(t->g);
	free(t->bucket);
	free(t);
}

/* Link that points at the grant of (src, door), or at the chain's end. */
static uint32_t *
slot(struct grant_table *t, const struct addr *src, unsigned door)
{
	uint32_t *pp = &t->bucket[src_hash(t, src)];

	while (*pp) {
		struct grant *g = &t->g[*pp - 1];

		if (g->door == door && addr_equal(&g->src, src))
			break;
		pp = &g->hnext;
	}
	return pp;
}

static void
unlink_at(struct grant_table *t, uint32_t *pp)
{
	uint32_t i = *pp;
	struct grant *g = &t->g[i - 1];

	*pp = g->hnext;
	memset(g, 0, sizeof(*g));
	g->hnext = t->free_head;
	t->free_head = i;
	t->st.used--;
}

static void
remove_grant(struct grant_table *t, struct grant *g)
{
	unlink_at(t, slot(t, &g->src, g->door));
}

int
grant_add(struct grant_table *t, const struct addr *src, unsigned door,
    int64_t expires_ms, struct grant *evicted)
{
	uint32_t *pp = slot(t, src, door);
	struct grant *g;
	int pushed = 0;
	unsigned i;

	if (*pp) {
		t->g[*pp - 1].expires_ms = expires_ms;
		t->st.refreshed++;
		goto done;
	}
	if (t->free_head == 0) {
		/* Full: the grant closest to its end makes room. */
		struct grant *soonest = &t->g[0];

		for (i = 1; i < t->cap; i++)
			if (t->g[i].expires_ms < soonest->expires_ms)
				soonest = &t->g[i];
		if (evicted)
			*evicted = *soonest;
		remove_grant(t, soonest);
		t->st.evicted++;
		pushed = 1;
	}
	g = &t->g[t->free_head - 1];
	t->free_head = g->hnext;
	g->src = *src;
	g->door = (uint16_t)door;
	g->expires_ms = expires_ms;
	g->used = 1;
	pp = &t->bucket[src_hash(t, src)];
	g->hnext = *pp;
	*pp = (uint32_t)(g - t->g) + 1;
	t->st.used++;
	t->st.added++;
done:
	if (expires_ms < t->next_deadline)
		t->next_deadline = expires_ms;
	return pushed;
}

const struct grant *
grant_find(const struct grant_table *t, const struct addr *src,
    unsigned door, int64_t now_ms)
{
	/* slot() only reads; the cast keeps one lookup routine. */
	uint32_t *pp = slot((struct grant_table *)(uintptr_t)t, src, door);

	if (*pp == 0 || t->g[*pp - 1].expires_ms <= now_ms)
		return NULL;
	return &t->g[*pp - 1];
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
grant_next_deadline(const struct grant_table *t)
{
	return t->next_deadline;
}

unsigned
grant_expire(struct grant_table *t, int64_t now_ms, struct grant *out,
    unsigned max)
{
	int64_t next = GRANT_NONE;
	unsigned i, n = 0;

	if (t->next_deadline > now_ms)
		return 0;
	for (i = 0; i < t->cap; i++) {
		struct grant *g = &t->g[i];

		if (!g->used)
			continue;
		if (g->expires_ms > now_ms) {
			if (g->expires_ms < next)
				next = g->expires_ms;
			continue;
		}
		if (n == max) {
			next = now_ms;	/* more to collect: call again */
			break;
		}
		out[n++] = *g;
		remove_grant(t, g);
		t->st.expired++;
	}
	t->next_deadline = next;
	return n;
}
