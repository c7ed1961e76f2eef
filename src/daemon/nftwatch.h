/* nftwatch: notice, through nf_tables' netlink events, when somebody else
 * deletes or changes our table (`nft flush ruleset`, an nftables.service
 * reload, a rule added by hand), so the daemon can put it right at once
 * (I/O). */
#ifndef GK_NFTWATCH_H
#define GK_NFTWATCH_H

#include <stddef.h>

enum nftwatch_verdict {
	NFTWATCH_QUIET,		/* nothing that concerns our table, or
				 * only our own changes */
	NFTWATCH_CHECK,		/* somebody deleted or made our table */
	NFTWATCH_DAMAGED,	/* somebody changed parts of it */
};

/* Subscribe to NFNLGRP_NFTABLES.  A non-blocking fd, or -1 with err set. */
int nftwatch_open(char *err, size_t errlen);
/* Read every pending event; tell what they mean for table inet
 * gatekeeper.  An overrun (ENOBUFS) reads as NFTWATCH_CHECK. */
enum nftwatch_verdict nftwatch_read(int fd);
void nftwatch_close(int fd);

#endif
