/* srchash: see srchash.h. */
#include <string.h>

#include "srchash.h"

uint64_t
srchash(const struct siphash_key *key, const struct addr *src)
{
	uint8_t k[17];

	k[0] = src->family;
	memcpy(k + 1, src->b, 16);
	return siphash24(key, k, sizeof(k));
}

/* The memo's place for src: its last bytes, mixed. */
static unsigned
slot(const struct addr *a)
{
	return (unsigned)(a->b[3] ^ a->b[15] ^ (a->b[2] << 1) ^
	    (a->b[14] << 1)) & (SRCHASH_MEMO - 1);
}

uint64_t
srchash_memo(struct srchash_memo *m, const struct siphash_key *key,
    const struct addr *src)
{
	unsigned i = slot(src);

	if (!m->e[i].ok || !addr_equal(&m->e[i].src, src)) {
		m->e[i].h = srchash(key, src);
		m->e[i].src = *src;
		m->e[i].ok = 1;
	}
	return m->e[i].h;
}

uint64_t
srchash_peek(const struct srchash_memo *m, const struct siphash_key *key,
    const struct addr *src)
{
	unsigned i = slot(src);

	if (m->e[i].ok && addr_equal(&m->e[i].src, src))
		return m->e[i].h;
	return srchash(key, src);
}
