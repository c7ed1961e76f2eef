/* rules: what gatekeeper's nftables table holds, derived from the config,
 * and its text form as `nft list ruleset` prints it (pure).  nft.c builds
 * the same sets and rules over netlink from these helpers. */
#ifndef GK_RULES_H
#define GK_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define NFT_TABLE	"gatekeeper"		/* table inet gatekeeper */
#define NFT_CHAIN	"input"
#define NFT_OWNER_TAG	"managed by gatekeeperd"	/* table comment */
#define RULES_PRIORITY	(-10)	/* filter - 10: before the admin's filter */

/* The named sets, in the order they are created and printed. */
enum rules_set {
	RULES_PUBLIC_TCP,	/* Public_Ports: accepted, never queued */
	RULES_PUBLIC_UDP,
	RULES_KNOCK_TCP,	/* knock ports: Queue */
	RULES_KNOCK_UDP,
	RULES_OPEN_TCP,		/* protected ports: Protected_Queue */
	RULES_OPEN_UDP,
	RULES_NSETS
};

enum rules_kind { RULES_PUBLIC, RULES_KNOCK, RULES_OPEN };

/* The two observation rules of Scan_Guard: every other TCP/UDP packet
 * that is not part of an established connection (any flags, any conntrack
 * state), on the knock queue, so the daemon sees them in order with the
 * knocks (a scan's reset must come between its knocks), with bypass:
 * observed packets are accepted anyway, so a stopped daemon keeps nobody
 * from an ungated port.  The knock queue fails open when full (the
 * daemon sees the gap and ends every attempt), so a flood cannot hold up
 * the host's other services either. */
enum rules_observe { RULES_OBSERVE_TCP, RULES_OBSERVE_UDP, RULES_NOBSERVE };

/* Most ports one set can hold: every door's list, all distinct. */
#define RULES_MAX_PORTS	(CFG_MAX_DOORS * \
	(CFG_MAX_SEQ > CFG_MAX_OPEN ? CFG_MAX_SEQ : CFG_MAX_OPEN))
#define RULES_IF_LOOPBACK "lo"	/* not gated unless Gate_Loopback */

const char *rules_set_name(enum rules_set s);
uint8_t rules_set_proto(enum rules_set s);	/* IPPROTO_TCP or _UDP */
enum rules_kind rules_set_kind(enum rules_set s);
/* The queue a set's rule sends to. */
unsigned rules_set_queue(const struct config *cfg, enum rules_set s);
/* Does the set's rule accept when nobody reads the queue?  Knock ports
 * do with Knock_Reply = closed: while the daemon is away the host answers
 * them as it answers their neighbours, so they never stand out.  Protected
 * ports never do: the gate stays closed. */
int rules_set_bypass(const struct config *cfg, enum rules_set s);
/* The set's ports over all doors, ascending and distinct, into out
 * (RULES_MAX_PORTS entries).  Returns how many; 0 means the set and its
 * rule are left out. */
unsigned rules_set_ports(const struct config *cfg, enum rules_set s,
    uint16_t *out);

/* The whole table as nft text.  Returns the length it needs, like
 * snprintf; buf holds a NUL-terminated prefix when len is too small. */
int rules_format(const struct config *cfg, char *buf, size_t len);

#endif
