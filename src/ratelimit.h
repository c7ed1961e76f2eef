/* ratelimit: token buckets that bound per-packet log lines, per source and
 * overall, in a fixed-size table (pure). */
#ifndef GK_RATELIMIT_H
#define GK_RATELIMIT_H

#include <stdint.h>

#include "addr.h"
#include "siphash.h"

#define RL_SLOTS	1024	/* sources tracked; a collision takes the slot */
#define RL_SRC_BURST	20	/* lines one source may log at once */
#define RL_SRC_RATE	5	/* ... and per second after that */
#define RL_ALL_BURST	400	/* lines everybody together may log at once */
#define RL_ALL_RATE	100	/* ... and per second after that */

struct rl_bucket {
	int64_t last_ms;
	uint32_t tokens_milli;	/* thousandths of a line */
};

struct rl_slot {
	struct addr src;
	struct rl_bucket b;
};

struct ratelimit {
	struct siphash_key key;
	struct rl_bucket all;
	uint64_t suppressed;	/* lines refused since the last take */
	struct rl_slot slot[RL_SLOTS];
};

void rl_init(struct ratelimit *rl, const struct siphash_key *key);
/* May src log one more line at now_ms?  Counts refusals. */
int rl_allow(struct ratelimit *rl, const struct addr *src, int64_t now_ms);
/* Lines refused since the last call; resets the count. */
uint64_t rl_take_suppressed(struct ratelimit *rl);

#endif
