/* replay: the SPA packets already honoured, so that none is honoured
 * twice (pure).  A packet is named by spa_replay_digest() and kept until
 * its own timestamp refuses it (the caller says when: the stamp, or now
 * if later, plus the age window and a second).  Fixed capacity, in sets
 * of REPLAY_WAYS: when a set holds only live entries the packet is
 * refused (fail closed), never another entry dropped. */
#ifndef GK_REPLAY_H
#define GK_REPLAY_H

#include <stdint.h>

#include "spa.h"

#define REPLAY_WAYS	8
#define REPLAY_KEY	16	/* bytes of the digest kept: 128 bits */

struct replay_entry {
	uint8_t key[REPLAY_KEY];
	int64_t until_s;	/* wall clock; 0: free */
};

struct replay {
	unsigned nsets;		/* a power of two */
	unsigned used;
	uint64_t full;		/* packets refused: their set was full */
	struct replay_entry *e;	/* nsets * REPLAY_WAYS */
};

/* Room for at least cap packets; -1 when out of memory. */
int replay_init(struct replay *r, unsigned cap);
void replay_free(struct replay *r);
/* Seen before (and not yet forgotten at now_s)? */
int replay_seen(const struct replay *r, const uint8_t d[SPA_DIGEST_LEN],
    int64_t now_s);
/* Remember d until until_s: 0, or -1 when its set is full of live
 * entries (the caller refuses the packet). */
int replay_add(struct replay *r, const uint8_t d[SPA_DIGEST_LEN],
    int64_t until_s, int64_t now_s);
/* Copy the live entries of other into r (a reload resizing the cache),
 * each kept extend_s longer (a reload that widened the age window).
 * Returns how many did not fit (also counted in r->full), and the latest
 * "until" among them in *lost_until: the caller must then refuse every
 * packet stamped early enough to be one of them. */
unsigned replay_copy(struct replay *r, const struct replay *other,
    int64_t now_s, int64_t extend_s, int64_t *lost_until);

#endif
