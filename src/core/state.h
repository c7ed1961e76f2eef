/* state: grants and one-time-sequence positions to and from the text of
 * State_File, so a restart loses no grant (pure: the caller reads the
 * clocks and does the file I/O, see statefile.h).
 *
 * The file is line based, every line ends in '\n':
 *
 *	gatekeeper-state 2
 *	otseq DOOR LINE
 *	grant ADDR DOOR EXPIRES_REAL_MS
 *	stop JOB DOOR DIGEST ADDR DUE_REAL_MS
 *	end N
 *
 * A stop record is a Stop_Command still owed (JOB and DIGEST are 16 hex
 * digits: the job's id, and the door's commands as the daemon knew them).
 * Version 1 files (no stop records) are read too.
 * DOOR is a door's name (indices change when the configuration is
 * edited), EXPIRES_REAL_MS a CLOCK_REALTIME instant in ms (monotonic time
 * means nothing to the next boot), N the number of records before "end"
 * (a truncated file has no matching "end").  Fields are separated by one
 * space.  Any deviation rejects the whole file. */
#ifndef GK_STATE_H
#define GK_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "grant.h"

#define STATE_MAGIC		"gatekeeper-state"
#define STATE_VERSION		2
#define STATE_MAX_BYTES		(16u << 20)	/* larger files are refused */
#define STATE_MAX_RECORDS	1048576u	/* grant and otseq lines */
#define STATE_LINE_MAX		255		/* bytes, without '\n' */
/* Latest instant the file may hold: 9999-12-31T23:59:59.999Z. */
#define STATE_MAX_REAL_MS	INT64_C(253402300799999)
#define STATE_REPORT_MAX	16	/* dropped records kept for the log */

/* Position in a door's One_Time_Sequences file. */
struct state_otseq {
	unsigned door;		/* index into config.door */
	unsigned line;		/* line of the active sequence */
};

/* A Stop_Command owed to a source. */
struct state_stop {
	uint64_t job;		/* the daemon's id for it */
	uint64_t digest;	/* config_door_cmd_digest() of its door */
	char door[CFG_NAME_MAX];
	struct addr src;
	int64_t due_ms;		/* when it must run (monotonic clock) */
};

/* What state_format() wrote. */
struct state_wstats {
	unsigned grants, otseqs, stops;
	unsigned omitted;	/* left out to stay within the limits above */
};

enum state_drop_why {
	STATE_DROP_NO_DOOR,	/* no door of that name any more */
	STATE_DROP_NO_PORTS,	/* grant: the door opens no port now */
	STATE_DROP_NO_OTSEQ,	/* otseq: the door has no One_Time_Sequences */
	STATE_DROP_OT_FULL,	/* otseq: more doors than the caller's array */
};

/* One record that state_parse() did not restore, for the log. */
struct state_dropped {
	uint8_t is_grant;	/* 1: grant (src, remaining_ms); 0: otseq */
	uint8_t why;		/* enum state_drop_why */
	char door[CFG_NAME_MAX];
	struct addr src;
	int64_t remaining_ms;	/* time the grant had left */
	unsigned line;		/* otseq line */
};

/* What state_parse() did with an accepted file. */
struct state_report {
	unsigned grants;	/* grant records in the file */
	unsigned restored;	/* put into the grant table */
	unsigned expired;	/* already past their expiry: dropped */
	unsigned clamped;	/* cut to CFG_LIM_TIMEOUT (a day) */
	unsigned evicted;	/* pushed out because the table was full */
	unsigned dropped;	/* door gone or opens nothing (enum above) */
	unsigned otseqs;	/* otseq records in the file */
	unsigned ot_restored, ot_dropped;
	unsigned stops;		/* stop records in the file */
	unsigned stops_restored, stops_dropped;
	unsigned ndrop;		/* entries in drop[]: the first dropped ones */
	struct state_dropped drop[STATE_REPORT_MAX];
};

/* Write the state file's text into buf, like snprintf: at most len bytes
 * with a NUL (when len > 0); returns the length the whole text needs,
 * without the NUL (call with len 0 to size the buffer).  Grants expiring
 * at or before now_mono_ms are left out; others are stored as
 * now_real_ms + (expires_ms - now_mono_ms).  ot[0..n_ot) are the doors'
 * one-time-sequence positions.  Records that would break the limits are
 * omitted and counted in *ws (may be NULL). */
size_t state_format(char *buf, size_t len, const struct config *cfg,
    const struct grant_table *gt, const struct state_otseq *ot, unsigned n_ot,
    const struct state_stop *stops, unsigned n_stops,
    int64_t now_mono_ms, int64_t now_real_ms, struct state_wstats *ws);

/* Parse buf[0..len) (need not be NUL-terminated).  On success returns 0,
 * adds the grants to gt with expiry now_mono_ms + (expires_real -
 * now_real_ms), clamped to CFG_LIM_TIMEOUT, stores up to max_ot
 * positions in ot and their number in *n_ot, up to max_stops owed stops
 * (of doors that still exist; one due already is due now) in stops and
 * their number in *n_stops (stops and n_stops may be NULL), and fills
 * *rep.  A repeated
 * record replaces the earlier one.  On any error returns -1, writes
 * "line N: reason" to err and changes neither gt, ot nor *n_ot. */
int state_parse(const char *buf, size_t len, const struct config *cfg,
    struct grant_table *gt, struct state_otseq *ot, unsigned max_ot,
    unsigned *n_ot, struct state_stop *stops, unsigned max_stops,
    unsigned *n_stops, int64_t now_mono_ms, int64_t now_real_ms,
    struct state_report *rep, char *err, size_t errlen);

/* "door-removed", "door-opens-nothing", ...: for reason= in the log. */
const char *state_drop_reason(unsigned why);

#endif
