/* ratelimit: token buckets that bound per-packet log lines (pure).
 * Each millisecond adds n tokens, a line costs period_s * 1000, a bucket
 * holds at most burst lines: exact for any "n per period" in integers. */
#include <string.h>

#include "ratelimit.h"

static uint64_t
cost(const struct rl_rate *r)
{
	return (uint64_t)r->period_s * 1000;
}

static void
fill(struct rl_bucket *b, const struct rl_rate *r, int64_t now_ms)
{
	b->last_ms = now_ms;
	b->tokens = (uint64_t)r->burst * cost(r);
}

void
rl_init(struct ratelimit *rl, const struct siphash_key *key,
    struct rl_rate per_src)
{
	memset(rl, 0, sizeof(*rl));
	rl->key = *key;
	rl->all = (struct rl_rate){ RL_ALL_RATE, 1, RL_ALL_BURST };
	rl->rare = (struct rl_rate){ RL_RARE_RATE, 1, RL_RARE_BURST };
	rl_set_rate(rl, per_src);
	fill(&rl->all_b, &rl->all, 0);
	fill(&rl->rare_b, &rl->rare, 0);
}

void
rl_set_rate(struct ratelimit *rl, struct rl_rate per_src)
{
	if (per_src.n == 0 || per_src.period_s == 0 || per_src.burst == 0)
		per_src = (struct rl_rate){ 5, 1, 20 };
	rl->per_src = per_src;
}

/* Would take() succeed?  Refills, takes nothing. */
static int
can_take(struct rl_bucket *b, const struct rl_rate *r, int64_t now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (uint64_t)(now_ms - b->last_ms) * r->n;
		b->last_ms = now_ms;
	}
	if (b->tokens > (uint64_t)r->burst * cost(r))
		b->tokens = (uint64_t)r->burst * cost(r);
	return b->tokens >= cost(r);
}

/* Refill for the time passed, then take one line if there is one. */
static int
take(struct rl_bucket *b, const struct rl_rate *r, int64_t now_ms)
{
	if (!can_take(b, r, now_ms))
		return 0;
	b->tokens -= cost(r);
	return 1;
}

int
rl_allow(struct ratelimit *rl, const struct addr *src, int64_t now_ms)
{
	uint8_t k[17];
	struct rl_slot *s;

	/* Nobody may log now (a flood): refused without hashing the
	 * source, so a flood costs no SipHash here. */
	if (!can_take(&rl->all_b, &rl->all, now_ms)) {
		rl->suppressed++;
		rl->suppressed_total++;
		return 0;
	}
	k[0] = src->family;
	memcpy(k + 1, src->b, 16);
	s = &rl->slot[siphash24(&rl->key, k, sizeof(k)) % RL_SLOTS];
	if (!addr_equal(&s->src, src)) {
		s->src = *src;
		fill(&s->b, &rl->per_src, now_ms);
	}
	if (!take(&s->b, &rl->per_src, now_ms) ||
	    !take(&rl->all_b, &rl->all, now_ms)) {
		rl->suppressed++;
		rl->suppressed_total++;
		return 0;
	}
	return 1;
}

int
rl_allow_rare(struct ratelimit *rl, int64_t now_ms)
{
	if (take(&rl->rare_b, &rl->rare, now_ms))
		return 1;
	rl->suppressed++;
	rl->suppressed_total++;
	return 0;
}

uint64_t
rl_take_suppressed(struct ratelimit *rl)
{
	uint64_t n = rl->suppressed;

	rl->suppressed = 0;
	return n;
}
