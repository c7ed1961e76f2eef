/* grant: (source, door) grants with absolute expiry in a fixed-capacity
 * table (pure). */
#ifndef GK_GRANT_H
#define GK_GRANT_H

#include <stdint.h>

#include "addr.h"
#include "siphash.h"

#define GRANT_NONE INT64_MAX	/* "no deadline" */

struct grant {
	struct addr src;
	int64_t expires_ms;
	uint16_t door;
	uint8_t used;
	uint32_t hnext;		/* index + 1; 0 ends */
};

struct grant_stats {
	uint64_t added, refreshed, expired, revoked;
	uint64_t evicted;	/* dropped early because the table was full */
	unsigned used;
};

struct grant_table {
	unsigned cap, nbuckets;
	struct siphash_key key;
	struct grant *g;
	uint32_t *bucket;
	uint32_t free_head;
	int64_t next_deadline;	/* lower bound of the earliest expiry */
	struct grant_stats st;
};

struct grant_table *grant_new(unsigned cap, const struct siphash_key *key);
void grant_free(struct grant_table *t);

/* Grant (or refresh) src for door until expires_ms.  When full, the grant
 * that expires first is evicted and copied to *evicted (if not NULL), and
 * 1 is returned; 0 otherwise. */
int grant_add(struct grant_table *t, const struct addr *src, unsigned door,
    int64_t expires_ms, struct grant *evicted);
/* Unexpired grant of src for door, or NULL. */
const struct grant *grant_find(const struct grant_table *t,
    const struct addr *src, unsigned door, int64_t now_ms);
/* Remove src's grant for door, or for every door when door < 0.
 * Returns how many were removed. */
unsigned grant_revoke(struct grant_table *t, const struct addr *src, int door);
/* Earliest expiry, or GRANT_NONE. May be early (never late). */
int64_t grant_next_deadline(const struct grant_table *t);
/* Remove grants with expires_ms <= now_ms, copying up to max of them to out.
 * Returns the number copied; call again while it returns max. */
unsigned grant_expire(struct grant_table *t, int64_t now_ms,
    struct grant *out, unsigned max);

#endif
