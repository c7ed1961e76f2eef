/* verdict: config + packet + state + time -> accept or drop, the reason,
 * and the events to log (pure). */
#ifndef GK_VERDICT_H
#define GK_VERDICT_H

#include <stdint.h>

#include "config.h"
#include "grant.h"
#include "knock.h"
#include "pkt.h"
#include "scanwatch.h"
#include "spagate.h"

enum verdict_reason {
	VR_GRANT,	/* protected port, source holds a grant */
	VR_NO_GRANT,	/* protected port, no grant */
	VR_ALLOW,	/* protected port, source in Allow */
	VR_KNOCK,	/* knock port: answered as Knock_Reply says */
	VR_MALFORMED,	/* could not be parsed: dropped */
	VR_UNWATCHED,	/* no port of ours, Scan_Guard off (stale ruleset) */
	VR_PUBLIC,	/* a Public_Ports port (should not even be queued) */
	VR_OBSERVED,	/* no port of ours: the scan guard reset the source */
	VR_NREASONS
};

/* Ports the verdict cares about, per protocol (0 = tcp, 1 = udp). */
#define PORT_KNOCK	0x01
#define PORT_OPEN	0x02
#define PORT_PUBLIC	0x04
#define PORT_ENFORCED	0x08	/* a door concerned has no Monitor = yes */
#define PORT_SPA	0x10	/* an SPA_Port (UDP) */

struct verdict_stats {
	uint64_t packets;
	uint64_t accepted, dropped;
	uint64_t reason[VR_NREASONS];
	uint64_t malformed[PKT_NSTATUS];
	uint64_t knocks;	/* packets that advanced a door */
	uint64_t grants;	/* sequences completed with a grant */
	uint64_t grant_evictions;
	uint64_t monitored;	/* would-be drops accepted by Monitor */
	uint64_t duplicates;	/* retransmitted knocks ignored */
	uint64_t scan_resets;	/* packets elsewhere that reset progress */
	uint64_t lockouts;	/* lockouts started */
	uint64_t locked;	/* knocks ignored during a lockout */
	uint64_t closes;	/* grants revoked by Close */
	uint64_t lost_resets;	/* progress dropped: packets lost unseen */
	uint64_t knocks_scanner;	/* knocks ignored: the source scans */
	uint64_t knocks_recent;	/* ... a reset came within SW_SETTLE_MS */
	uint64_t settled;	/* completions that held through the window */
	uint64_t cancelled;	/* ... that a reset in the window undid */
	uint64_t settle_full;	/* ... refused: too many settling at once */
	uint64_t held;		/* protected packets that waited for one */
	uint64_t spa[SPAG_NREASONS];	/* SPA packets, by outcome */
};

/* A completed sequence waits SW_SETTLE_MS before it grants or runs
 * anything: a packet of the scan that completed it may still be on its
 * way through another CPU (RSS, RPS), and then it undoes the completion.
 * A connection to the door's ports in the meantime waits (main holds its
 * verdict) instead of being dropped, so `knock && ssh` gets in at once. */
#define VERDICT_SETTLE_MAX	256
struct verdict_settling {
	struct addr src;
	uint16_t door;
	int64_t due_ms;
};

struct gk_state {
	const struct config *cfg;
	struct knock_table *knocks;
	struct grant_table *grants;
	struct scanwatch *sw;
	/* SPA: packets honoured, verification budgets, the wall clock
	 * (main sets it before each batch: packet ages are wall-clock),
	 * and the oldest timestamp honoured (the start, when no replay
	 * cache could be restored). */
	struct replay *replay;
	struct spag_limits *spal;
	int64_t real_s;
	int64_t replay_floor_s;
	uint8_t portmap[2][65536];	/* PORT_* bits */
	unsigned nsettling;
	struct verdict_settling settling[VERDICT_SETTLE_MAX];
	struct verdict_stats st;
};

/* A grant made when a completion settled, and the one it pushed out of a
 * full table. */
struct verdict_grant {
	uint8_t made, evicted_one;
	uint16_t door;
	int64_t expires_ms;
	struct grant evicted;
};

/* A door this packet completed: what main has to do at once.  The rest
 * (grant, commands, Close) waits for the completion to settle. */
struct verdict_done {
	uint16_t door;
	uint8_t one_time;	/* One_Time_Sequences: the line is used */
	uint8_t settling;	/* 0: refused, too many settling at once */
};

/* A door whose grant to the source a completed door's Close revoked (or
 * would have: revoked 0 when there was none). */
struct verdict_close {
	uint16_t door;		/* the door closed */
	uint16_t by;		/* the door whose Close did it */
	uint8_t revoked;
};

struct verdict {
	int accept;			/* 1 accept, 0 drop */
	int would_accept;		/* the verdict without Monitor */
	int monitor;			/* Monitor turned a drop into accept */
	int locked;			/* a knock ignored: source locked out */
	enum sw_block ignored;		/* a knock ignored: scanner, recent */
	int hold;			/* a drop that should wait for ... */
	int64_t hold_until;		/* ... this settling completion */
	int waited;			/* decided again after it waited */
	enum verdict_reason reason;
	enum pkt_status status;		/* PKT_OK unless VR_MALFORMED */
	int door;			/* door of VR_GRANT, else -1 */
	struct pkt pkt;			/* valid unless VR_MALFORMED */
	unsigned nev;
	struct knock_event ev[KNOCK_MAX_EVENTS];
	unsigned ndone;
	struct verdict_done done[CFG_MAX_DOORS];
	unsigned ncancel;		/* settling completions it undid */
	uint16_t cancel[CFG_MAX_DOORS];
	struct spag_out spa;		/* an SPA packet: what it did */
};

/* A completion that settled: what it did, for main to log and act on. */
struct verdict_settled {
	struct addr src;
	uint16_t door;
	uint8_t command;	/* it has a Start_Command for the source's family */
	uint8_t monitor;	/* global or the door's Monitor is on */
	struct verdict_grant grant;	/* made: 0 if the door opens no port */
	unsigned ncloses;
	struct verdict_close close[CFG_MAX_DOORS];
};

/* Wire state to cfg and build the port map; tables are owned by caller
 * (sw may be NULL: no scanner or settle checks). */
void verdict_init(struct gk_state *s, const struct config *cfg,
    struct knock_table *knocks, struct grant_table *grants,
    struct scanwatch *sw);
/* The SPA part of verdict_decide (spagate.c). */
void spagate_decide(struct gk_state *s, struct verdict *v, int64_t now_ms);
/* Decide one packet: buf holds the first len bytes of a packet of
 * wire_len bytes (0: len, i.e. not truncated). */
/* A hint before a burst is decided: buf's source will be looked up soon
 * (its tables' lines are fetched, its hashes kept).  Decides nothing. */
void verdict_prefetch(struct gk_state *s, const uint8_t *buf, size_t len);
/* Would verdict_prefetch() fetch anything now?  (The caller may then
 * skip finding the packets for it.) */
int verdict_prefetch_helps(const struct gk_state *s);
void verdict_decide(struct gk_state *s, const uint8_t *buf, size_t len,
    size_t wire_len, int64_t now_ms, struct verdict *v);
/* Completions due by now: grants made, Close applied; into out (at most
 * max; the rest stay for the next call).  Returns how many. */
unsigned verdict_settle(struct gk_state *s, int64_t now_ms,
    struct verdict_settled *out, unsigned max);
/* When the next settling completion is due; INT64_MAX: none. */
int64_t verdict_next_settle(const struct gk_state *s);
/* Decide again a protected-port packet that waited (v->hold), once its
 * completion settled or was undone: accept with the grant, else drop. */
void verdict_recheck(struct gk_state *s, const struct pkt *p, int64_t now_ms,
    struct verdict *v);
/* Packets of the knock queue were lost before the daemon saw them: a
 * reset may be among them, so every attempt ends (fail closed). */
void verdict_lost(struct gk_state *s, int64_t now_ms);
/* Door's sequence changed (One_Time_Sequences): forget every source's
 * progress for it and rebuild the port map. */
void verdict_door_changed(struct gk_state *s, unsigned door);
/* A refused new connection to a protected port (Log_Refused, Log_Prefix
 * apply to its line), whether or not Monitor let it through. */
int verdict_refused(const struct verdict *v);
const char *verdict_reason_name(enum verdict_reason r);

#endif
