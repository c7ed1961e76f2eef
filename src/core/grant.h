/* grant: (source, door) grants with absolute expiry in a fixed-capacity
 * table (pure).
 *
 * Lookups go through a hash table keyed by source; time goes through a
 * wheel of one-second slots (2^17 of them: 36 hours, more than any grant
 * may last), each a list of the grants that expire in that second, with a
 * two-level bitmap of the slots in use.  So adding, finding, revoking,
 * evicting the grant that expires first and expiring one are O(1)
 * (bounded bitmap walks, no scan of the table), and restoring n grants is
 * O(n). */
#ifndef GK_GRANT_H
#define GK_GRANT_H

#include <stdint.h>

#include "addr.h"
#include "siphash.h"
#include "srchash.h"

#define GRANT_NONE		INT64_MAX	/* "no deadline" */
#define GRANT_ALL_PORTS		0xffffffffu	/* every port the door opens */
#define GRANT_WHEEL_BITS	17
#define GRANT_WHEEL		(1u << GRANT_WHEEL_BITS)	/* slots */
#define GRANT_WORDS		(GRANT_WHEEL / 64)
#define GRANT_SUMMARY		(GRANT_WORDS / 64)

struct grant {
	struct addr src;
	uint8_t used;
	uint16_t door;
	uint32_t ports;		/* bits of the door's Open_Ports granted */
	uint32_t hnext;		/* hash chain, index + 1; 0 ends */
	uint32_t wprev, wnext;	/* its wheel slot's list, index + 1 */
	uint32_t wslot;		/* that slot */
	int64_t expires_ms;
};

struct grant_stats {
	uint64_t added, refreshed, expired, revoked;
	uint64_t kept;		/* a shorter grant asked for: the longer kept */
	uint64_t evicted;	/* dropped early because the table was full */
	unsigned used;
};

struct grant_table {
	unsigned cap, nbuckets;
	struct siphash_key key;
	struct grant *g;
	uint32_t *bucket;
	uint32_t free_head;	/* free list through hnext */
	uint32_t fresh;		/* entries below it have been used */
	uint32_t *slot;		/* GRANT_WHEEL list heads, index + 1 */
	uint64_t *bits;		/* GRANT_WORDS: slot in use */
	uint64_t sum[GRANT_SUMMARY];	/* bits word in use */
	int64_t base_s;		/* the earliest second that may hold a grant */
	int64_t top_s;		/* the latest second that held one */
	int64_t deadline;	/* cached earliest expiry */
	int deadline_stale;
	struct grant_stats st;
};

struct grant_table *grant_new(unsigned cap, const struct siphash_key *key);
void grant_free(struct grant_table *t);

/* Grant src for door until expires_ms.  An existing grant that lasts
 * longer is kept as it is: a grant is never shortened.  Expiries more than
 * the wheel (36 hours) after the earliest grant's are cut to that; no
 * grant is made to last more than a day.  When the table is full, the
 * grant that expires first is evicted and copied to *evicted (if not
 * NULL), and 1 is returned; 0 otherwise. */
int grant_add(struct grant_table *t, const struct addr *src, unsigned door,
    int64_t expires_ms, struct grant *evicted);
/* The same, for some of the door's ports only (bit i: Open_Ports[i]; an
 * SPA client asks for some).  Grants of other port sets are grants of
 * their own, with their own expiry. */
int grant_add_ports(struct grant_table *t, const struct addr *src,
    unsigned door, uint32_t ports, int64_t expires_ms, struct grant *evicted);
/* Unexpired grant of src for door covering some of ports (longest
 * first), or NULL. */
const struct grant *grant_find_ports(const struct grant_table *t,
    const struct addr *src, unsigned door, uint32_t ports, int64_t now_ms);
/* Unexpired grant of src for door (any of its ports), or NULL. */
const struct grant *grant_find(const struct grant_table *t,
    const struct addr *src, unsigned door, int64_t now_ms);
/* Remove src's grant for door, or for every door when door < 0.
 * Returns how many were removed. */
unsigned grant_revoke(struct grant_table *t, const struct addr *src, int door);
/* Earliest expiry, or GRANT_NONE. */
int64_t grant_next_deadline(struct grant_table *t);
/* Remove grants with expires_ms <= now_ms, copying up to max of them to out.
 * Returns the number copied; call again while it returns max. */
unsigned grant_expire(struct grant_table *t, int64_t now_ms,
    struct grant *out, unsigned max);
/* Entries that may be in use: walk g[0 .. grant_span(t)) for used ones. */
unsigned grant_span(const struct grant_table *t);

#endif
