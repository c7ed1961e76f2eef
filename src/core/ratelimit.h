/* ratelimit: token buckets that bound per-packet log lines, per source and
 * overall, in a fixed-size table (pure).  Rates are "n lines per period
 * seconds" (pktables' --log-limit 10/minute is n 10, period 60). */
#ifndef GK_RATELIMIT_H
#define GK_RATELIMIT_H

#include <stdint.h>

#include "addr.h"
#include "siphash.h"

#define RL_SLOTS	1024	/* sources tracked; a collision takes the slot */
#define RL_ALL_BURST	400	/* lines everybody together may log at once */
#define RL_ALL_RATE	100	/* ... and per second after that */
/* Rare lines (completions, grants, lockouts, closes, expiries): not per
 * packet, but a flood of spoofed sources or of replayed knocks could still
 * make many, so they have a bucket of their own, generous enough that no
 * honest use meets it. */
#define RL_RARE_BURST	1000
#define RL_RARE_RATE	200

struct rl_rate {
	uint32_t n, period_s, burst;
};

struct rl_bucket {
	int64_t last_ms;
	uint64_t tokens;	/* a line costs period_s * 1000 */
};

struct rl_slot {
	struct addr src;
	struct rl_bucket b;
};

struct ratelimit {
	struct siphash_key key;
	struct rl_rate per_src, all;
	struct rl_bucket all_b;
	struct rl_rate rare;
	struct rl_bucket rare_b;
	uint64_t suppressed;	/* lines refused since the last take */
	uint64_t suppressed_total;
	struct rl_slot slot[RL_SLOTS];
};

/* per_src: Log_Rate and Log_Burst; the overall bucket is fixed. */
void rl_init(struct ratelimit *rl, const struct siphash_key *key,
    struct rl_rate per_src);
/* Change the per-source rate (reload); buckets keep their tokens. */
void rl_set_rate(struct ratelimit *rl, struct rl_rate per_src);
/* May src log one more line at now_ms?  Counts refusals. */
int rl_allow(struct ratelimit *rl, const struct addr *src, int64_t now_ms);
/* May one more rare line go out at now_ms?  Counts refusals with the
 * others. */
int rl_allow_rare(struct ratelimit *rl, int64_t now_ms);
/* Lines refused since the last call; resets that count (not the total). */
uint64_t rl_take_suppressed(struct ratelimit *rl);

#endif
