/* running: what one configuration owns while it is in force (I/O: it
 * reads One_Time_Sequences files and logs). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logfmt.h"
#include "otseq.h"
#include "running.h"

/* Door d's active one-time sequence: the first usable line after line
 * `after` (0: from the start).  A line that clashes with an opened or
 * public port, or that a port scan could complete, is skipped (logged).
 * A door whose file is spent or broken stays inactive; otline[d] then
 * still moves past every line used. */
void
running_load_one_time(struct running *r, unsigned d, unsigned after)
{
	struct cfg_door *door = &r->cfg->door[d];
	char err[512], why[512];
	unsigned line = 0, guard;
	int rc = 1;

	for (guard = 0; guard < 65536; guard++) {
		rc = otseq_load(door->one_time_file, after, door, &line, err,
		    sizeof(err));
		if (rc != 0)
			break;
		if (!config_door_seq_conflict(r->cfg, d, why, sizeof(why))) {
			r->otline[d] = line;
			return;
		}
		log_msg(LOG_ERR, "one-time-error", "door %s: %s:%u: %s (line "
		    "skipped)", door->name, door->one_time_file, line, why);
		after = line;
	}
	door->seq_len = 0;
	r->otline[d] = after + 1;	/* nothing at or before it is usable */
	if (rc == 1)
		log_msg(LOG_WARNING, "one-time-spent", "door %s: %s",
		    door->name, err);
	else
		log_msg(LOG_ERR, "one-time-error", "door %s: %s", door->name,
		    err);
}

static void
load_all_one_time(struct running *r)
{
	unsigned d;

	for (d = 0; d < r->cfg->ndoors; d++)
		if (r->cfg->door[d].one_time_file[0])
			running_load_one_time(r, d, 0);
}

void
running_free(struct running *r)
{
	knock_free(r->knocks);
	grant_free(r->grants);
	sw_free(r->sw);
	replay_free(&r->replay);
	free(r->spal);
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
	r->sw = sw_new(cfg->opt.max_sources, key);
	r->state = malloc(sizeof(*r->state));
	r->spal = malloc(sizeof(*r->spal));
	if (r->knocks == NULL || r->grants == NULL || r->sw == NULL ||
	    r->state == NULL || r->spal == NULL ||
	    replay_init(&r->replay, cfg->opt.spa_replay) != 0) {
		running_free(r);
		return -1;
	}
	verdict_init(r->state, cfg, r->knocks, r->grants, r->sw);
	spag_limits_init(r->spal, key);
	r->state->replay = &r->replay;
	r->state->spal = r->spal;
	return 0;
}

unsigned
running_carry_spa(const struct running *old, struct running *next,
    int64_t now_real_s)
{
	int64_t old_age = old->cfg->opt.spa_max_age;
	int64_t new_age = next->cfg->opt.spa_max_age;
	int64_t wider = new_age - old_age, *floor, lost_until;
	unsigned lost;

	/* An entry must outlive its packet's age window: a wider window
	 * keeps every entry longer... */
	lost = replay_copy(&next->replay, &old->replay, now_real_s,
	    wider > 0 ? wider : 0, &lost_until);
	*next->spal = *old->spal;
	floor = &next->state->replay_floor_s;
	*floor = old->state->replay_floor_s;
	/* ... and entries already forgotten under the narrow window were
	 * of packets stamped before now - old_age: refuse those. */
	if (wider > 0 && *floor < now_real_s - old_age)
		*floor = now_real_s - old_age;
	/* Entries that found no room in a smaller cache would be honoured
	 * again: refuse, as after a restart, whatever could be one of them
	 * (an entry lives until its stamp + the age + 1). */
	if (lost > 0 && *floor < lost_until - (wider > 0 ? new_age : old_age))
		*floor = lost_until - (wider > 0 ? new_age : old_age);
	return lost;
}

/* A grant of some of a door's ports, as bits of the new door's. */
static uint32_t
remap_ports(const struct cfg_door *from, const struct cfg_door *to,
    uint32_t ports)
{
	uint32_t out = 0;

	if (ports == GRANT_ALL_PORTS)
		return ports;
	for (unsigned i = 0; i < from->open_len && i < 32; i++) {
		int k;

		if (!((ports >> i) & 1))
			continue;
		k = config_door_open_index(to, from->open[i].proto,
		    from->open[i].port);
		if (k >= 0)
			out |= 1u << k;
	}
	return out;
}

void
running_carry_grants(const struct running *old, struct running *next, int64_t now)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	unsigned i;
	int d;

	for (i = 0; i < grant_span(old->grants); i++) {
		const struct grant *g = &old->grants->g[i];

		if (!g->used || g->expires_ms <= now)
			continue;
		d = config_door_find(next->cfg, old->cfg->door[g->door].name);
		if (d >= 0 && next->cfg->door[d].open_len > 0 &&
		    remap_ports(&old->cfg->door[g->door], &next->cfg->door[d],
		    g->ports) != 0) {
			grant_add_ports(next->grants, &g->src, (unsigned)d,
			    remap_ports(&old->cfg->door[g->door],
			    &next->cfg->door[d], g->ports), g->expires_ms,
			    NULL);
			continue;
		}
		lf_init(&l, line, sizeof(line));
		logfmt_expire(&l, old->cfg, g);
		lf_str(&l, "reason", "door-removed");
		log_line(LOG_NOTICE, line);
	}
}

void
running_carry_one_time(const struct running *old, struct running *next)
{
	unsigned d;
	int o;

	for (d = 0; d < next->cfg->ndoors; d++) {
		const struct cfg_door *door = &next->cfg->door[d];

		if (!door->one_time_file[0])
			continue;
		o = config_door_find(old->cfg, door->name);
		if (o < 0 || strcmp(old->cfg->door[o].one_time_file,
		    door->one_time_file) != 0 ||
		    old->otline[o] <= next->otline[d])
			continue;
		/* Used in memory, maybe not marked on disk: never again. */
		running_load_one_time(next, d, old->otline[o] - 1);
		verdict_door_changed(next->state, d);
	}
}

void
running_carry_scanwatch(struct running *old, struct running *next)
{
	sw_free(next->sw);
	next->sw = old->sw;
	next->state->sw = old->sw;
	old->sw = NULL;
	old->state->sw = NULL;
}
