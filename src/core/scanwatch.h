/* scanwatch: what each source did besides knocking, in a bounded table
 * (pure).  Two facts decide whether a knock may count at all:
 *
 *  - A scanner: a source that sent packets to SW_SCAN_PORTS or more
 *    distinct ports that are no knock of theirs (and kept doing so within
 *    SW_MEMORY_MS) has its knocks ignored.  An ordered scan of a port list
 *    that happens to hold a door's knocks next to each other, a slow one,
 *    or a UDP scan's later rounds (which probe only the ports that did not
 *    answer) are all scanners long before they reach the knocks.
 *  - A recent reset: a knock within SW_SETTLE_MS of a packet that resets
 *    (to another port, or a wrong knock) is ignored too, whichever of the
 *    two the daemon read first.  RSS and RPS spread one source's probes of
 *    different ports over CPUs, so they reach the queue out of wire order;
 *    a reset that the daemon reads after the knock it came before must
 *    still count.  (The other half of this, a reset read just after the
 *    last knock, is verdict.c's settle window.)
 *
 * Memory is fixed at creation: SW_WAYS entries of 32 bytes per bucket.  A
 * full bucket gives up the entry with the fewest ports seen (oldest on
 * ties), so a flood of spoofed one-port sources cannot wash out a scanner. */
#ifndef GK_SCANWATCH_H
#define GK_SCANWATCH_H

#include <stdint.h>

#include "addr.h"
#include "siphash.h"
#include "srchash.h"

#define SW_SCAN_PORTS	10	/* distinct other ports: a scanner */
#define SW_MEMORY_MS	(10 * 60 * 1000)	/* forgotten after this quiet */
#define SW_SETTLE_MS	50	/* a reset this close voids a knock */
#define SW_WAYS		4
#define SW_MIN_ENTRIES	4096
#define SW_MAX_ENTRIES	(1u << 18)	/* 8 MiB at most */

/* One source: 32 bytes (asserted in scanwatch.c). */
struct sw_entry {
	uint32_t tag;		/* 0: empty */
	uint32_t reset_age;	/* seen_ms - time of the last reset;
				 * UINT32_MAX: none */
	int64_t seen_ms;	/* last packet noted */
	uint64_t ports[2];	/* a 128-bit set of the ports seen (hashed) */
};

struct sw_stats {
	uint64_t noted;		/* packets noted */
	uint64_t replaced;	/* live entries given up for another source */
	uint64_t scanners;	/* sources that became scanners */
};

struct scanwatch {
	unsigned nbuckets;	/* power of two */
	struct siphash_key key;
	uint64_t port_salt;
	struct sw_entry *e;	/* nbuckets * SW_WAYS, a bucket's lines aligned */
	void *e_mem;		/* as allocated */
	struct srchash_memo memo;	/* a burst's sources' hashes */
	struct sw_stats st;
};

enum sw_block {
	SW_OK,			/* the knock may count */
	SW_SCANNER,		/* the source is scanning */
	SW_RECENT,		/* a reset came within SW_SETTLE_MS */
};

/* A table for about entries sources (clamped to SW_MIN_ENTRIES ..
 * SW_MAX_ENTRIES), or NULL. */
struct scanwatch *sw_new(unsigned entries, const struct siphash_key *key);
void sw_free(struct scanwatch *sw);
/* src sent a packet to (proto, port) that is no knock of its own; reset:
 * the packet ends knock attempts (to another port, a wrong knock), so it
 * also starts the settle window; a packet to a protected port only counts
 * towards the scanner test. */
void sw_note(struct scanwatch *sw, const struct addr *src, uint8_t proto,
    uint16_t port, int reset, int64_t now_ms);
/* May a knock of src count now? */
/* A hint: src's packet comes soon (see knock_prefetch). */
void sw_prefetch(struct scanwatch *sw, const struct addr *src);
enum sw_block sw_check(struct scanwatch *sw, const struct addr *src,
    int64_t now_ms);
/* Distinct ports src was seen at (as the set counts them), 0 if unknown. */
unsigned sw_ports(const struct scanwatch *sw, const struct addr *src,
    int64_t now_ms);
/* Bytes held. */
uint64_t sw_memory(const struct scanwatch *sw);

#endif
