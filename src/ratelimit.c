/* ratelimit: token buckets that bound per-packet log lines (pure). */
#include <string.h>

#include "ratelimit.h"

void
rl_init(struct ratelimit *rl, const struct siphash_key *key)
{
	memset(rl, 0, sizeof(*rl));
	rl->key = *key;
	rl->all.tokens_milli = RL_ALL_BURST * 1000u;
}

/* Refill by rate lines per second up to burst, then take one line. */
static int
take(struct rl_bucket *b, int64_t now_ms, uint32_t rate, uint32_t burst)
{
	int64_t dt = now_ms - b->last_ms;
	uint64_t t = b->tokens_milli;

	if (dt > 0) {
		t += (uint64_t)dt * rate;	/* ms * lines/s = milli-lines */
		b->last_ms = now_ms;
	}
	if (t > (uint64_t)burst * 1000)
		t = (uint64_t)burst * 1000;
	if (t < 1000) {
		b->tokens_milli = (uint32_t)t;
		return 0;
	}
	b->tokens_milli = (uint32_t)(t - 1000);
	return 1;
}

int
rl_allow(struct ratelimit *rl, const struct addr *src, int64_t now_ms)
{
	uint8_t k[17];
	struct rl_slot *s;

	k[0] = src->family;
	memcpy(k + 1, src->b, 16);
	s = &rl->slot[siphash24(&rl->key, k, sizeof(k)) % RL_SLOTS];
	if (!addr_equal(&s->src, src)) {
		s->src = *src;
		s->b.last_ms = now_ms;
		s->b.tokens_milli = RL_SRC_BURST * 1000u;
	}
	if (!take(&s->b, now_ms, RL_SRC_RATE, RL_SRC_BURST) ||
	    !take(&rl->all, now_ms, RL_ALL_RATE, RL_ALL_BURST)) {
		rl->suppressed++;
		return 0;
	}
	return 1;
}

uint64_t
rl_take_suppressed(struct ratelimit *rl)
{
	uint64_t n = rl->suppressed;

	rl->suppressed = 0;
	return n;
}
