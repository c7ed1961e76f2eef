/* scanwatch: see scanwatch.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scanwatch.h"

_Static_assert(sizeof(struct sw_entry) == 32, "a scanwatch entry is 32 bytes");
#define BUCKET (SW_WAYS * sizeof(struct sw_entry))	/* 128: two lines */

struct scanwatch *
sw_new(unsigned entries, const struct siphash_key *key)
{
	struct scanwatch *sw;
	unsigned want;

	want = entries < SW_MIN_ENTRIES ? SW_MIN_ENTRIES :
	    entries > SW_MAX_ENTRIES ? SW_MAX_ENTRIES : entries;
	if ((sw = calloc(1, sizeof(*sw))) == NULL)
		return NULL;
	for (sw->nbuckets = 1; sw->nbuckets * SW_WAYS < want;
	    sw->nbuckets <<= 1)
		;
	sw->key = *key;
	/* Which bit a port sets must not be known to the sender either. */
	sw->port_salt = siphash24(key, "scanwatch ports", 15) | 1;
	/* One bucket more, to start the buckets on a bucket's boundary. */
	sw->e_mem = calloc(((size_t)sw->nbuckets + 1) * SW_WAYS, sizeof(*sw->e));
	if (sw->e_mem == NULL) {
		free(sw);
		return NULL;
	}
	sw->e = (struct sw_entry *)(((uintptr_t)sw->e_mem + BUCKET - 1) &
	    ~(uintptr_t)(BUCKET - 1));
	return sw;
}

void
sw_free(struct scanwatch *sw)
{
	if (sw == NULL)
		return;
	free(sw->e_mem);
	free(sw);
}

uint64_t
sw_memory(const struct scanwatch *sw)
{
	return sizeof(*sw) + (uint64_t)sw->nbuckets * SW_WAYS *
	    sizeof(struct sw_entry);
}

/* A packet's source's hash: a verdict asks about it twice, and
 * sw_prefetch() before that (srchash.h). */
static uint64_t
hash_memo(struct scanwatch *sw, const struct addr *src)
{
	return srchash_memo(&sw->memo, &sw->key, src);
}

/* The bucket of hash h, and its tag (never 0). */
static struct sw_entry *
bucket_of(const struct scanwatch *sw, uint64_t h, uint32_t *tag)
{
	*tag = (uint32_t)(h >> 32) | 1;
	return &sw->e[(h & (sw->nbuckets - 1)) * SW_WAYS];
}

void
sw_prefetch(struct scanwatch *sw, const struct addr *src)
{
	uint32_t tag;
	const struct sw_entry *b = bucket_of(sw, hash_memo(sw, src), &tag);

	__builtin_prefetch(b);
	__builtin_prefetch((const char *)b + 64);	/* a bucket: two lines */
}

static int
live(const struct sw_entry *e, int64_t now_ms)
{
	return e->tag != 0 && now_ms - e->seen_ms <= SW_MEMORY_MS;
}

static unsigned
nports(const struct sw_entry *e)
{
	return (unsigned)(__builtin_popcountll(e->ports[0]) +
	    __builtin_popcountll(e->ports[1]));
}

static struct sw_entry *
lookup(const struct scanwatch *sw, uint64_t h, int64_t now_ms)
{
	uint32_t tag;
	struct sw_entry *b = bucket_of(sw, h, &tag);
	unsigned i;

	for (i = 0; i < SW_WAYS; i++)
		if (b[i].tag == tag && live(&b[i], now_ms))
			return &b[i];
	return NULL;
}

/* A free or forgotten way of bucket b, else the one that saw fewest
 * ports (oldest on ties): a scanner is the last to go. */
static struct sw_entry *
victim(struct sw_entry *b, int64_t now_ms)
{
	struct sw_entry *v = &b[0];
	unsigned i;

	for (i = 0; i < SW_WAYS; i++) {
		if (!live(&b[i], now_ms))
			return &b[i];
		if (nports(&b[i]) < nports(v) || (nports(&b[i]) == nports(v) &&
		    b[i].seen_ms < v->seen_ms))
			v = &b[i];
	}
	return v;
}

void
sw_note(struct scanwatch *sw, const struct addr *src, uint8_t proto,
    uint16_t port, int reset, int64_t now_ms)
{
	uint64_t h = hash_memo(sw, src), bit;
	uint32_t tag;
	struct sw_entry *b, *e = lookup(sw, h, now_ms);
	unsigned was;

	sw->st.noted++;
	if (e == NULL) {
		b = bucket_of(sw, h, &tag);
		e = victim(b, now_ms);
		if (live(e, now_ms))
			sw->st.replaced++;
		memset(e, 0, sizeof(*e));
		e->tag = tag;
		e->reset_age = UINT32_MAX;
	}
	/* The reset's time stays fixed while seen_ms moves on. */
	if (!reset && e->reset_age != UINT32_MAX) {
		int64_t age = (int64_t)e->reset_age + (now_ms - e->seen_ms);

		e->reset_age = age > (int64_t)UINT32_MAX - 1 ? UINT32_MAX :
		    (uint32_t)age;
	}
	if (reset)
		e->reset_age = 0;
	e->seen_ms = now_ms;
	was = nports(e);
	bit = ((uint64_t)proto << 16 | port) * sw->port_salt;
	bit >>= 57;			/* 0..127 */
	e->ports[bit >> 6] |= (uint64_t)1 << (bit & 63);
	if (was < SW_SCAN_PORTS && nports(e) >= SW_SCAN_PORTS)
		sw->st.scanners++;
}

enum sw_block
sw_check(struct scanwatch *sw, const struct addr *src, int64_t now_ms)
{
	const struct sw_entry *e = lookup(sw, hash_memo(sw, src), now_ms);

	if (e == NULL)
		return SW_OK;
	if (nports(e) >= SW_SCAN_PORTS)
		return SW_SCANNER;
	if (e->reset_age != UINT32_MAX &&
	    (now_ms - e->seen_ms) + (int64_t)e->reset_age <= SW_SETTLE_MS)
		return SW_RECENT;
	return SW_OK;
}

unsigned
sw_ports(const struct scanwatch *sw, const struct addr *src, int64_t now_ms)
{
	const struct sw_entry *e = lookup(sw, srchash(&sw->key, src), now_ms);

	return e != NULL ? nports(e) : 0;
}
