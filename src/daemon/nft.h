/* nft: install and remove gatekeeper's own nftables table over libnftnl,
 * in single netlink transactions (I/O). */
#ifndef GK_NFT_H
#define GK_NFT_H

#include <stddef.h>

#include "config.h"
#include "rules.h"


enum nft_backend {
	NFT_BACKEND_NATIVE,	/* nft "queue" expression (nft_queue) */
	NFT_BACKEND_COMPAT,	/* xtables NFQUEUE target via nft_compat */
};

/* Which queue statement does the kernel accept?  Commits nothing.
 * 0, or -1 with a message in err. */
int nft_probe(enum nft_backend *out, char *err, size_t errlen);
/* Install the table, or update our own in place, in one transaction: the
 * base chain stays, so packets waiting in any queue survive.  Refuses a
 * table called NFT_TABLE that we did not create.  0; 1 when it could not
 * be updated in place and was replaced whole (err says why; packets that
 * were waiting were dropped); -1 with a message in err. */
int nft_install(const struct config *cfg, enum nft_backend be,
    char *err, size_t errlen);
/* Is our table there?  1 yes, 0 absent, -1 error or not ours (err). */
int nft_present(char *err, size_t errlen);
/* Delete our table; absent is fine.  0 or -1. */
int nft_remove(char *err, size_t errlen);
const char *nft_backend_name(enum nft_backend be);

#endif
