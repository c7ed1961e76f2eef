/* knock: per-source knock sequence state machine in a fixed-capacity table
 * (pure).  Memory is allocated once, at knock_new(). */
#ifndef GK_KNOCK_H
#define GK_KNOCK_H

#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "pkt.h"
#include "siphash.h"

/* When the table is full, the KNOCK_EVICT_SCAN least recently active
 * sources are examined; one worth nothing is reused, otherwise the one worth
 * least (oldest on ties) is evicted.  Worth: the furthest live stage of any
 * door; recent failures alone weigh as a first knock; a lockout weighs more
 * than any progress, so a flood of spoofed first knocks evicts its own
 * entries before it can lift a lockout.  A scan full of locked sources
 * still evicts the oldest: the table stays bounded. */
#define KNOCK_EVICT_SCAN 8

enum knock_ev_type {
	KEV_STAGE,	/* door advanced to stage/len */
	KEV_RESET,	/* a port of the door's sequence, but not the next one */
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
 * stage), and a lockout. */
#define KNOCK_MAX_EVENTS (2 * CFG_MAX_DOORS + 1)

struct knock_prog {
	int64_t start_ms;	/* time of the first knock of this attempt */
	uint8_t stage;		/* knocks matched so far; 0 = none */
};

/* The last knock that counted (changed some door's state), to tell a
 * retransmission of it from a new knock. */
struct knock_last {
	uint8_t proto;		/* 0: none yet */
	uint16_t sport, dport;
	uint32_t sig;		/* TCP sequence number, or hash of UDP payload */
	uint32_t len;		/* UDP payload length */
};

struct knock_entry {
	struct addr src;
	int64_t last_ms;		/* last knock that advanced something */
	int64_t fail_ms;		/* last failed attempt */
	int64_t locked_until_ms;	/* 0: not locked out */
	uint16_t fails;			/* recent failed attempts */
	struct knock_last last;
	uint32_t hnext;			/* hash chain (index + 1; 0 ends) */
	uint32_t lru_prev, lru_next;	/* LRU list (index + 1; 0 ends) */
	uint8_t used;
	struct knock_prog *prog;	/* ndoors slots */
};

struct knock_stats {
	uint64_t evicted;	/* sources dropped with something worth keeping */
	uint64_t evicted_locked;	/* ... of which locked out */
	uint64_t reclaimed;	/* stale sources reused */
	uint64_t duplicates;	/* retransmitted knocks ignored */
	uint64_t scan_resets;	/* packets elsewhere that reset progress */
	uint64_t lockouts;	/* lockouts started */
	uint64_t locked;	/* knocks ignored during a lockout */
	unsigned used;
};

struct knock_table {
	unsigned cap, ndoors, nbuckets;
	struct siphash_key key;
	struct knock_entry *ent;
	struct knock_prog *progs;
	uint32_t *bucket;		/* index + 1; 0 = empty */
	uint32_t lru_head, lru_tail;	/* head = most recent */
	uint32_t free_head;		/* free list through hnext */
	struct knock_stats st;
};

/* NULL when out of memory or cap is 0. */
struct knock_table *knock_new(unsigned cap, unsigned ndoors,
    const struct siphash_key *key);
void knock_free(struct knock_table *t);

/* Feed one packet addressed to a knock port.  Writes events (at most
 * KNOCK_MAX_EVENTS) and returns their number.  A source is only recorded
 * once a knock of it advances some door.  An exact retransmission of the
 * source's last counted knock is ignored, and so is every knock during a
 * lockout (no events; counted in st). */
unsigned knock_feed(struct knock_table *t, const struct config *cfg,
    const struct pkt *p, int64_t now_ms, struct knock_event *ev);
/* Scan guard: p went to a port that is neither a knock port nor public.
 * Ends every attempt of a source already in the table (RESET, or TIMEOUT
 * for one already dead); that is a failure like any other.  Returns the
 * number of events. */
unsigned knock_observe(struct knock_table *t, const struct config *cfg,
    const struct pkt *p, int64_t now_ms, struct knock_event *ev);
/* Forget every source's progress for door (its sequence changed). */
void knock_door_reset(struct knock_table *t, unsigned door);
/* Is src locked out at now_ms?  Sets *until_ms when it is. */
int knock_locked(const struct knock_table *t, const struct addr *src,
    int64_t now_ms, int64_t *until_ms);

/* Does the packet's TCP flags satisfy door d's TCPFlags? */
int knock_flags_match(const struct cfg_door *d, const struct pkt *p);

/* Drop everything known about src. */
void knock_forget(struct knock_table *t, const struct addr *src);
/* Progress of src for door d, or NULL; it may have timed out. */
const struct knock_prog *knock_peek(const struct knock_table *t,
    const struct addr *src, unsigned door);
/* Is p a started attempt of door d that has not timed out at now_ms? */
int knock_live(const struct cfg_door *d, const struct knock_prog *p,
    int64_t now_ms);

#endif
