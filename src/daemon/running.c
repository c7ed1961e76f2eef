/* running: what one configuration owns while it is in force (I/O: it
 * reads One_Time_Sequences files and logs). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logfmt.h"
#include "otseq.h"
#include "running.h"

/* The active line of door d's One_Time_Sequences file.  A door whose file
 * is spent, broken or clashes with an opened port stays inactive. */
void
running_load_one_time(struct running *r, unsigned d)
{
	struct cfg_door *door = &r->cfg->door[d];
	char err[512];
	int rc;

	rc = otseq_load(door->one_time_file, door, &r->otline[d], err,
	    sizeof(err));
	if (rc == 0 && config_door_seq_conflict(r->cfg, d, err, sizeof(err))) {
		door->seq_len = 0;
		rc = -1;
	}
	if (rc == 1)
		log_msg(LOG_WARNING, "one-time-spent", "door %s: %s",
		    door->name, err);
	else if (rc != 0)
		log_msg(LOG_ERR, "one-time-error", "door %s: %s", door->name,
		    err);
}

static void
load_all_one_time(struct running *r)
{
	unsigned d;

	for (d = 0; d < r->cfg->ndoors; d++)
		if (r->cfg->door[d].one_time_file[0])
			running_load_one_time(r, d);
}

void
running_free(struct running *r)
{
	knock_free(r->knocks);
	grant_free(r->grants);
	free(r->state);
	free(r->cfg);
	memset(r, 0, sizeof(*r));
}

int
running_new(struct running *r, struct config *cfg,
    const struct siphash_key *key)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	load_all_one_time(r);
	r->knocks = knock_new(cfg->opt.max_sources, cfg, key);
	r->grants = grant_new(cfg->opt.max_sources, key);
	r->state = malloc(sizeof(*r->state));
	if (r->knocks == NULL || r->grants == NULL || r->state == NULL) {
		running_free(r);
		return -1;
	}
	verdict_init(r->state, cfg, r->knocks, r->grants);
	return 0;
}

void
running_carry_grants(const struct running *old, struct running *next, int64_t now)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	unsigned i;
	int d;

	for (i = 0; i < old->grants->cap; i++) {
		const struct grant *g = &old->grants->g[i];

		if (!g->used || g->expires_ms <= now)
			continue;
		d = config_door_find(next->cfg, old->cfg->door[g->door].name);
		if (d >= 0 && next->cfg->door[d].open_len > 0) {
			grant_add(next->grants, &g->src, (unsigned)d,
			    g->expires_ms, NULL);
			continue;
		}
		lf_init(&l, line, sizeof(line));
		logfmt_expire(&l, old->cfg, g);
		lf_str(&l, "reason", "door-removed");
		log_line(LOG_NOTICE, line);
	}
}
