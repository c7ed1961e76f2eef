/* nftwatch: notice, through nf_tables' netlink events, when somebody else
 * deletes our table or parts of it (`nft flush ruleset`, an nftables.service
 * reload), so the daemon can reinstall it at once (I/O). */
#ifndef GK_NFTWATCH_H
#define GK_NFTWATCH_H

#include <stddef.h>

enum nftwatch_verdict {
	NFTWATCH_QUIET,		/* nothing that concerns our table */
	NFTWATCH_CHECK,		/* our table was deleted: is it back? */
	NFTWATCH_DAMAGED,	/* parts deleted, table left: reinstall */
};

/* Subscribe to NFNLGRP_NFTABLES.  A non-blocking fd, or -1 with err set. */
int nftwatch_open(char *err, size_t errlen);
/* Read every pending event; tell what they mean for table inet
 * gatekeeper.  An overrun (ENOBUFS) reads as NFTWATCH_CHECK. */
enum nftwatch_verdict nftwatch_read(int fd);
void nftwatch_close(int fd);

#endif
