/* knock: per-source knock sequence state machine in bounded tables (pure).
 *
 * The rules, which hold for every door:
 *  - A knock counts only if it is the door's next port and protocol, goes
 *    to the door's Target (if any), and for TCP matches the door's
 *    TCPFlags; without TCPFlags only a plain SYN counts (SYN set, ACK, FIN
 *    and RST clear), so FIN, NULL, Xmas, ACK, Maimon and window scans
 *    never knock.
 *  - Every other packet the daemon sees on the knock queue from a source
 *    ends that source's attempts that it does not advance: a wrong knock,
 *    a knock of another door, or (Scan_Guard) a packet to any other port,
 *    with any flags.  A port scan therefore resets its own progress
 *    between two knock ports.  Protected ports are not shown here: their
 *    queue is in no fixed order with the knocks (verdict.c).
 *  - An exact retransmission of a packet that counted for the source
 *    (same ports, TCP sequence number or UDP payload) within the hold
 *    window is ignored: never a failure, never a second completion.
 *
 * Memory: a source costs one 64-byte record while it holds anything
 * (progress, recent failures, a lockout, the signature of its last
 * counted packet); its progress lives in 16-byte cells from a shared
 * pool, one per door in progress, and older signatures three to a cell.
 * The records are also the hash table's buckets, which grow with the
 * sources, so nothing else is kept per source.  Both arrays are sized by
 * Max_Sources at knock_new() and touched only as they fill. */
#ifndef GK_KNOCK_H
#define GK_KNOCK_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "pkt.h"
#include "siphash.h"
#include "srchash.h"

/* When a table is full, KNOCK_EVICT_SCAN sources at the eviction hand (a
 * clock sweeping the records) are examined; one worth nothing is reused,
 * otherwise the one worth least (least recently active on ties) is
 * evicted, and the hand moves one record on.  Worth: the furthest live
 * stage of any door; recent failures or a finished attempt alone weigh as
 * a first knock; a lockout weighs more than any progress.  A newcomer
 * (or a source's new attempt) never evicts a source worth more than a
 * first knock: if all examined are, up to 64 are, and if none will do,
 * the newcomer is refused (st.refused), so a flood of spoofed first
 * knocks can lift no lockout and end no advanced attempt. */
#define KNOCK_EVICT_SCAN	8
#define KNOCK_CELLS_PER_SOURCE	4	/* pool: this many cells per source */
#define KNOCK_HIST_SIGS		3	/* signatures per history cell */
#define KNOCK_HIST_CELLS	11	/* history cells kept per source (33
					 * signatures: a whole sequence) */

enum knock_ev_type {
	KEV_STAGE,	/* door advanced to stage/len */
	KEV_RESET,	/* a packet that is not the door's next knock */
	KEV_TIMEOUT,	/* Seq_Timeout passed since the first knock */
	KEV_COMPLETE,	/* the whole sequence was knocked */
	KEV_LOCKOUT,	/* Lockout_After failures: knocks ignored from now on
			 * for Lockout_Time; door = the door of the last
			 * failure, stage and len 0 */
};

struct knock_event {
	uint8_t type;	/* enum knock_ev_type */
	uint8_t door;	/* index into config.door */
	uint8_t stage;	/* stage reached (STAGE, COMPLETE) or lost (RESET,
			 * TIMEOUT) */
	uint8_t len;	/* length of the door's sequence */
};

/* At most two events per door per packet (a reset or timeout, then a
 * first knock), and a lockout. */
#define KNOCK_MAX_EVENTS (2 * CFG_MAX_DOORS + 1)

/* Where a packet went, as far as knocking is concerned. */
enum knock_where {
	KNOCK_AT_PORT,		/* a knock port of some door */
	KNOCK_ELSEWHERE,	/* any other port (Scan_Guard) */
};

/* One source's attempt at one door, as knock_peek() and the iterator
 * show it. */
struct knock_prog {
	struct addr src;
	unsigned door;
	unsigned stage;		/* knocks matched so far, >= 1 */
	int64_t start_ms;	/* time of the first knock of this attempt */
};

/* A slot of the table: a tracked source (KS_USED), or a released one on
 * the free list (KS_FREE), or never used (0).  Slot b also holds the head
 * of bucket b's chain, whatever the slot itself holds: a source is placed
 * in its own bucket's slot when that is free, so most lookups read one
 * cache line.  64 bytes, line aligned (asserted in knock.c). */
#define KS_USED	1
#define KS_FREE	2
struct knock_src {
	struct addr src;
	uint8_t flags;
	uint16_t fails;			/* recent failed attempts */
	uint32_t hnext;			/* hash chain; free list: next */
	uint32_t head;			/* bucket's first source (index + 1) */
	uint32_t attempts;		/* first attempt cell; free list: prev */
	uint32_t hist;			/* older signatures' cells, newest first */
	uint32_t sig;			/* last counted packet's; 0: none */
	int64_t last_ms;		/* last packet that changed something */
	int64_t fail_ms;		/* last failed attempt */
	int64_t locked_until_ms;	/* 0: not locked out */
};

/* A cell: an attempt, or three signatures of counted packets. */
struct knock_cell {
	uint32_t next;
	uint8_t door, stage;
	uint16_t gen;			/* the door's generation at start */
	int64_t start_ms;
};
struct knock_hcell {
	uint32_t next;
	uint32_t sig[KNOCK_HIST_SIGS];	/* 0: empty */
};
union knock_cellu {
	struct knock_cell a;
	struct knock_hcell h;
};

struct knock_stats {
	uint64_t evicted;	/* sources dropped with something worth keeping */
	uint64_t evicted_locked;	/* ... of which locked out */
	uint64_t reclaimed;	/* stale sources reused */
	uint64_t duplicates;	/* retransmissions ignored */
	uint64_t scan_resets;	/* packets elsewhere that reset progress */
	uint64_t refused;	/* newcomers refused: all examined worth more */
	uint64_t lockouts;	/* lockouts started */
	uint64_t locked;	/* knocks ignored during a lockout */
	uint64_t invalidated;	/* knock_reset_all() calls */
	unsigned used;		/* sources tracked */
	unsigned cells_used;
};

struct knock_table {
	unsigned cap, ncells, ndoors;
	int64_t hold_ms;		/* history window: longest Seq_Timeout */
	struct siphash_key key;
	struct knock_src *ent;		/* cap slots, cache line aligned */
	void *ent_mem;			/* as allocated */
	union knock_cellu *cell;
	uint32_t free_head;		/* released slots (index + 1) */
	uint32_t rover;			/* slots below it were all used once */
	uint32_t hand;			/* the eviction clock */
	uint32_t top;			/* slots touched lie below it */
	uint32_t level, split;		/* 2^level + split buckets */
	uint32_t cell_free, cell_fresh;
	struct srchash_memo memo;	/* a burst's sources' hashes */
	uint16_t gen[CFG_MAX_DOORS];	/* bumped to forget a door's attempts */
	int64_t reset_ms;		/* cells started before it are dead */
	struct knock_stats st;
};

/* A table for cap sources and the doors of cfg; NULL when out of memory
 * or cap is 0. */
struct knock_table *knock_new(unsigned cap, const struct config *cfg,
    const struct siphash_key *key);
void knock_free(struct knock_table *t);

/* Feed one packet the daemon sees.  Writes events (at most
 * KNOCK_MAX_EVENTS) and returns their number.  A source is only recorded
 * once a packet of it starts an attempt. */
unsigned knock_packet(struct knock_table *t, const struct config *cfg,
    const struct pkt *p, enum knock_where where, int64_t now_ms,
    struct knock_event *ev);
/* A hint: src's packet comes soon; its hash is kept and its bucket's
 * slot fetched into the cache, so a burst's lookups overlap their misses.
 * Changes nothing the table does. */
void knock_prefetch(struct knock_table *t, const struct addr *src);
/* Forget every source's progress for door (its sequence changed). O(1). */
void knock_door_reset(struct knock_table *t, unsigned door);
/* Packets were lost unseen (a queue overflowed): a reset may be among
 * them, so every attempt of every source ends, as no failure.  O(doors). */
void knock_reset_all(struct knock_table *t, int64_t now_ms);
/* Is src locked out at now_ms?  Sets *until_ms when it is. */
int knock_locked(struct knock_table *t, const struct addr *src,
    int64_t now_ms, int64_t *until_ms);

/* Does the packet's TCP flags satisfy door d's TCPFlags (or the default:
 * a plain SYN)?  UDP always does. */
int knock_flags_match(const struct cfg_door *d, const struct pkt *p);

/* Drop everything known about src. */
void knock_forget(struct knock_table *t, const struct addr *src);
/* src's attempt at door d, live or not: 1 with *out set, else 0. */
int knock_peek(const struct knock_table *t, const struct addr *src,
    unsigned door, struct knock_prog *out);
/* Is p an attempt of door d that has not timed out at now_ms? */
int knock_live(const struct cfg_door *d, const struct knock_prog *p,
    int64_t now_ms);

/* Live attempts, in table order (one source's one after another). */
struct knock_iter {
	uint32_t src;		/* slot + 1 */
	uint32_t cell;		/* next cell of that source, index + 1 */
	int started;
};
void knock_iter_init(struct knock_iter *it);
int knock_iter_next(const struct knock_table *t, const struct config *cfg,
    struct knock_iter *it, int64_t now_ms, struct knock_prog *out);

/* Bytes of the tables in use now (records and cells touched so far). */
size_t knock_memory(const struct knock_table *t);

#endif
