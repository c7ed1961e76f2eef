/* spagate: the verdict on an SPA packet (pure): cheap checks, limits and
 * the replay cache before any crypto, then each door's keys, then the
 * door's policy; a packet that passes grants its address the ports it
 * asked for, at once (an SPA packet is no scan, nothing to settle). */
#ifndef GK_SPAGATE_H
#define GK_SPAGATE_H

#include <stdint.h>

#include "addr.h"
#include "siphash.h"
#include "spa.h"

enum spag_reason {
	SPAG_OK,
	SPAG_LENGTH,		/* not 140-1500 bytes, or cut short */
	SPAG_BASE64,		/* not base64 */
	SPAG_PREFIX,		/* fwknopd's prefix tricks */
	SPAG_NO_DOOR,		/* no SPA door for this source/destination */
	SPAG_LIMIT_SOURCE,	/* this source's verification budget spent */
	SPAG_LIMIT_ALL,		/* everybody's verification budget spent */
	SPAG_REPLAY,		/* honoured before */
	SPAG_AUTH,		/* no door's keys open it (HMAC, key) */
	SPAG_FORMAT,		/* opened, but no SPA message */
	SPAG_STALE,		/* timestamp too old */
	SPAG_FUTURE,		/* timestamp too far ahead */
	SPAG_RESTART,		/* stamped before a start with no replay cache */
	SPAG_COMMAND,		/* a command message (type 0) */
	SPAG_NAT,		/* a NAT message (types 2, 4, 5, 6) */
	SPAG_PORTS,		/* a port the door does not open, or restricted */
	SPAG_USER,		/* a user the door does not know */
	SPAG_EXPIRED,		/* the stanza's ACCESS_EXPIRE passed */
	SPAG_SOURCE,		/* names another address, the door forbids it */
	SPAG_NEED_IP,		/* 0.0.0.0, the door wants an address */
	SPAG_FAMILY,		/* IPv6 inside, but came over IPv4 */
	SPAG_NOT_UNICAST,	/* names no single host (::, 127.0.0.1, ...) */
	SPAG_REPLAY_FULL,	/* the replay cache has no room: refused */
	SPAG_NREASONS
};

/* Verification work (HMAC checks) per source and overall: a token bucket
 * each, so a junk flood costs a bounded share of a CPU. */
#define SPAG_SLOTS		1024
#define SPAG_SRC_RATE		20	/* packets per second per source (/64) */
#define SPAG_SRC_BURST		40
#define SPAG_ALL_RATE		50000	/* HMAC checks per second, for all
					 * (~3 µs each) */
#define SPAG_ALL_BURST		5000

struct spag_bucket {
	int64_t last_ms;
	int64_t milli;		/* tokens * 1000 */
};

struct spag_limits {
	struct siphash_key key;
	struct spag_bucket all;
	struct {
		struct addr src;
		struct spag_bucket b;
	} slot[SPAG_SLOTS];
};

/* What an SPA packet did, for main to log and act on. */
struct spag_out {
	int present;		/* the packet was an SPA packet */
	enum spag_reason reason;
	int door;		/* the door whose keys opened it, or -1 */
	char user[SPA_USER_MAX + 1];
	struct addr to;		/* granted to */
	uint32_t ports;		/* bits of the door's Open_Ports */
	int64_t expires_ms;
	uint8_t command;	/* run the door's Start_Command for to */
	uint8_t evicted_one;
};

const char *spag_reason_name(enum spag_reason r);
void spag_limits_init(struct spag_limits *l, const struct siphash_key *key);

#endif
