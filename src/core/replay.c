/* replay: SPA packets already honoured (pure; see replay.h). */
#include <stdlib.h>
#include <string.h>

#include "replay.h"

int
replay_init(struct replay *r, unsigned cap)
{
	unsigned sets = 1;

	memset(r, 0, sizeof(*r));
	while (sets * REPLAY_WAYS < cap)
		sets <<= 1;
	if ((r->e = calloc((size_t)sets * REPLAY_WAYS, sizeof(*r->e))) ==
	    NULL)
		return -1;
	r->nsets = sets;
	return 0;
}

void
replay_free(struct replay *r)
{
	free(r->e);
	memset(r, 0, sizeof(*r));
}

/* The digest is SHA-256: its first bytes are as good as any hash. */
static struct replay_entry *
set_of(const struct replay *r, const uint8_t d[SPA_DIGEST_LEN])
{
	uint32_t h = (uint32_t)d[0] | (uint32_t)d[1] << 8 |
	    (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;

	return &r->e[(size_t)(h & (r->nsets - 1)) * REPLAY_WAYS];
}

int
replay_seen(const struct replay *r, const uint8_t d[SPA_DIGEST_LEN],
    int64_t now_s)
{
	const struct replay_entry *s;

	if (r->nsets == 0)
		return 0;
	s = set_of(r, d);
	for (unsigned i = 0; i < REPLAY_WAYS; i++)
		if (s[i].until_s > now_s &&
		    memcmp(s[i].key, d, REPLAY_KEY) == 0)
			return 1;
	return 0;
}

int
replay_add(struct replay *r, const uint8_t d[SPA_DIGEST_LEN],
    int64_t until_s, int64_t now_s)
{
	struct replay_entry *s, *slot = NULL;

	if (r->nsets == 0) {
		r->full++;
		return -1;
	}
	s = set_of(r, d);
	for (unsigned i = 0; i < REPLAY_WAYS; i++) {
		if (s[i].until_s > now_s &&
		    memcmp(s[i].key, d, REPLAY_KEY) == 0) {
			if (until_s > s[i].until_s)
				s[i].until_s = until_s;
			return 0;
		}
		if (slot == NULL && s[i].until_s <= now_s)
			slot = &s[i];
	}
	if (slot == NULL) {
		r->full++;
		return -1;
	}
	if (slot->until_s == 0)
		r->used++;
	memcpy(slot->key, d, REPLAY_KEY);
	slot->until_s = until_s;
	return 0;
}

unsigned
replay_copy(struct replay *r, const struct replay *other, int64_t now_s,
    int64_t extend_s, int64_t *lost_until)
{
	uint8_t d[SPA_DIGEST_LEN] = { 0 };
	unsigned lost = 0;
	int64_t u;

	*lost_until = 0;
	for (size_t i = 0; i < (size_t)other->nsets * REPLAY_WAYS; i++) {
		if (other->e[i].until_s <= now_s)
			continue;
		memcpy(d, other->e[i].key, REPLAY_KEY);
		u = other->e[i].until_s + extend_s;
		if (replay_add(r, d, u, now_s) < 0) {
			lost++;
			if (u > *lost_until)
				*lost_until = u;
		}
	}
	return lost;
}
