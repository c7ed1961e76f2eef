/* srchash: a source address's keyed hash, and a small memo of recent
 * sources' hashes (pure).
 *
 * Every per-source table hashes the address (family and its 16 bytes)
 * with SipHash and a secret key, so a remote sender cannot aim at one
 * chain.  A verdict asks a table about the same source two or three
 * times, and the burst hint (verdict_prefetch) once before that: the
 * memo keeps the hashes of a burst's sources so each is hashed once.  A
 * source's place in the memo is picked from its last bytes, not secret:
 * a sender who aims at one place only costs itself a hash. */
#ifndef GK_SRCHASH_H
#define GK_SRCHASH_H

#include <stdint.h>

#include "addr.h"
#include "siphash.h"

#define SRCHASH_MEMO	128	/* sources whose hash is kept: a burst */

struct srchash_memo {
	struct {
		struct addr src;
		uint8_t ok;
		uint64_t h;
	} e[SRCHASH_MEMO];
};

uint64_t srchash(const struct siphash_key *key, const struct addr *src);
/* srchash(), through the memo (the source is kept there). */
uint64_t srchash_memo(struct srchash_memo *m, const struct siphash_key *key,
    const struct addr *src);
/* srchash(), from the memo when it is there (the memo is left as it is:
 * for a source that is going away). */
uint64_t srchash_peek(const struct srchash_memo *m,
    const struct siphash_key *key, const struct addr *src);

#endif
