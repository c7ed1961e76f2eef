/* verdict: config + packet + state + time -> accept or drop, the reason,
 * and the events to log (pure). */
#ifndef GK_VERDICT_H
#define GK_VERDICT_H

#include <stdint.h>

#include "config.h"
#include "grant.h"
#include "knock.h"
#include "pkt.h"

enum verdict_reason {
	VR_GRANT,	/* protected port, source holds a grant */
	VR_NO_GRANT,	/* protected port, no grant */
	VR_ALLOW,	/* protected port, source in Allow */
	VR_KNOCK,	/* knock port: always dropped */
	VR_MALFORMED,	/* could not be parsed: dropped */
	VR_UNWATCHED,	/* neither knock nor protected port (stale ruleset) */
	VR_NREASONS
};

/* Ports the verdict cares about, per protocol (0 = tcp, 1 = udp). */
#define PORT_KNOCK	0x01
#define PORT_OPEN	0x02

struct verdict_stats {
	uint64_t packets;
	uint64_t accepted, dropped;
	uint64_t reason[VR_NREASONS];
	uint64_t malformed[PKT_NSTATUS];
	uint64_t knocks;	/* packets that advanced a door */
	uint64_t grants;	/* sequences completed with a grant */
	uint64_t grant_evictions;
};

struct gk_state {
	const struct config *cfg;
	struct knock_table *knocks;
	struct grant_table *grants;
	uint8_t portmap[2][65536];	/* PORT_* bits */
	struct verdict_stats st;
};

/* A grant made by this packet (a completed sequence of a door with
 * Open_Ports), and the one it pushed out of a full table. */
struct verdict_grant {
	uint8_t made, evicted_one;
	uint16_t door;
	int64_t expires_ms;
	struct grant evicted;
};

struct verdict {
	int accept;			/* 1 accept, 0 drop */
	enum verdict_reason reason;
	enum pkt_status status;		/* PKT_OK unless VR_MALFORMED */
	int door;			/* door of VR_GRANT, else -1 */
	struct pkt pkt;			/* valid unless VR_MALFORMED */
	unsigned nev;
	struct knock_event ev[KNOCK_MAX_EVENTS];
	unsigned ngrants;
	struct verdict_grant grant[CFG_MAX_DOORS];
};

/* Wire state to cfg and build the port map; tables are owned by caller. */
void verdict_init(struct gk_state *s, const struct config *cfg,
    struct knock_table *knocks, struct grant_table *grants);
void verdict_decide(struct gk_state *s, const uint8_t *buf, size_t len,
    int64_t now_ms, struct verdict *v);
const char *verdict_reason_name(enum verdict_reason r);

#endif
