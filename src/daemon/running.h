/* running: what one configuration owns while it is in force: the
 * configuration, its knock and grant tables, the verdict state and the
 * active line of each One_Time_Sequences file (I/O). */
#ifndef GK_RUNNING_H
#define GK_RUNNING_H

#include <stdint.h>

#include "config.h"
#include "grant.h"
#include "knock.h"
#include "siphash.h"
#include "replay.h"
#include "verdict.h"

struct running {
	struct config *cfg;
	struct knock_table *knocks;
	struct grant_table *grants;
	struct scanwatch *sw;		/* config-free: carried on reload */
	struct gk_state *state;
	struct replay replay;		/* SPA packets honoured */
	struct spag_limits *spal;	/* SPA verification budgets */
	unsigned otline[CFG_MAX_DOORS];	/* active one-time sequence line;
					 * every line before it is used */
};

/* Tables sized by cfg, one-time sequences loaded; takes cfg over.
 * 0, or -1 (out of memory) with everything freed. */
int running_new(struct running *r, struct config *cfg,
    const struct siphash_key *key);
void running_free(struct running *r);
/* Load door d's active one-time sequence: the first usable line after
 * line `after`.  A door whose file is spent or broken stays inactive
 * (logged); lines that clash or a scan could complete are skipped. */
void running_load_one_time(struct running *r, unsigned d, unsigned after);
/* Copy grants of doors that still exist (by name) from old into next;
 * the others end, logged as event=expire reason=door-removed. */
void running_carry_grants(const struct running *old, struct running *next,
    int64_t now_ms);

/* SPA: the packets honoured, the budgets and the replay floor, from old
 * into next (next's cache may be of another size, the age window
 * another width).  Returns how many honoured packets found no room;
 * then every packet stamped up to now is refused. */
unsigned running_carry_spa(const struct running *old, struct running *next,
    int64_t now_real_s);

/* One-time positions of doors that still read the same file: a line the
 * old configuration used stays used, marked on disk or not. */
void running_carry_one_time(const struct running *old, struct running *next);
/* What old knows of scanners goes over to next (a reload forgets none). */
void running_carry_scanwatch(struct running *old, struct running *next);

#endif
