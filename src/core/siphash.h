/* siphash: SipHash-2-4, a keyed hash, so table layout cannot be predicted
 * by a remote sender (pure). */
#ifndef GK_SIPHASH_H
#define GK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len);

#endif
