/* persist: grants and one-time positions to and from State_File, around
 * the pure format of state.c (I/O). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bgio.h"
#include "log.h"
#include "logfmt.h"
#include "otseq.h"
#include "persist.h"
#include "state.h"
#include "statefile.h"

char *
persist_format(const struct running *r, const struct state_stop *stops,
    unsigned n_stops, int64_t mono, int64_t real, size_t *len)
{
	struct state_otseq ot[CFG_MAX_DOORS];
	struct state_wstats ws;
	unsigned d, n_ot = 0;
	char *buf;

	for (d = 0; d < r->cfg->ndoors; d++)
		if (r->cfg->door[d].one_time_file[0])
			ot[n_ot++] = (struct state_otseq){ d, r->otline[d] };
	*len = state_format(NULL, 0, r->cfg, r->grants, ot, n_ot, stops,
	    n_stops, mono, real, &ws);
	if ((buf = malloc(*len + 1)) == NULL)
		return NULL;
	state_format(buf, *len + 1, r->cfg, r->grants, ot, n_ot, stops,
	    n_stops, mono, real, &ws);
	if (ws.omitted)
		log_msg(LOG_WARNING, "state-save-partial",
		    "%u records left out of %s", ws.omitted,
		    r->cfg->opt.state_file);
	return buf;
}

int
persist_write(const struct running *r, const char *buf, size_t len)
{
	char err[512];
	int rc;

	if ((rc = statefile_save(r->cfg->opt.state_file, buf, len, err,
	    sizeof(err))) != 0)
		log_msg(LOG_WARNING, "state-save-failed", "%s", err);
	return rc;
}

static void
log_restore_drops(const struct state_report *rep)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;
	unsigned i;

	for (i = 0; i < rep->ndrop; i++) {
		const struct state_dropped *dr = &rep->drop[i];

		lf_init(&l, line, sizeof(line));
		lf_str(&l, "event", dr->is_grant ? "expire" : "one-time-drop");
		if (dr->is_grant)
			lf_addr(&l, "src", &dr->src);
		lf_str(&l, "door", dr->door);
		lf_str(&l, "reason", state_drop_reason(dr->why));
		log_line(LOG_NOTICE, line);
	}
}

/* One-time positions: the saved line is the active one, every line before
 * it was used, whether or not the file could be marked; mark what it does
 * not show yet (in the background, best effort). */
static void
catch_up_one_time(struct running *r, const struct state_otseq *ot,
    unsigned n_ot)
{
	struct cfg_door tmp;
	char err[512];
	unsigned i, ln, after;

	for (i = 0; i < n_ot; i++) {
		struct cfg_door *door = &r->cfg->door[ot[i].door];

		if (ot[i].line == 0)
			continue;
		for (after = 0; otseq_load(door->one_time_file, after, &tmp,
		    &ln, err, sizeof(err)) == 0 && ln < ot[i].line; after = ln)
			(void)bgio_mark(door->one_time_file, ln,
			    (int)ot[i].door);
		running_load_one_time(r, ot[i].door, ot[i].line - 1);
		verdict_door_changed(r->state, ot[i].door);
	}
}

/* "Now" for the grants of the state file: the wall clock, or the file's
 * write time if the clock has been set back since, so a clock jump never
 * stretches a restored grant beyond what it had left when saved. */
static int64_t
restore_real_ms(const char *path, int64_t now)
{
	int64_t saved;
	struct stat sb;

	if (stat(path, &sb) != 0)
		return now;
	saved = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
	return saved > now ? saved : now;
}

/* Grants and one-time positions of the last run; a bad file is set aside
 * and the daemon starts empty. */
void
persist_restore(struct running *r, struct state_stop *stops, unsigned max,
    unsigned *n_stops, int64_t mono, int64_t real)
{
	const char *path = r->cfg->opt.state_file;
	struct state_otseq ot[CFG_MAX_DOORS];
	struct state_report rep;
	char err[512], aside[CFG_PATH_MAX + 16], *buf = NULL;
	size_t len = 0;
	unsigned n_ot = 0;
	int rc;

	*n_stops = 0;
	rc = statefile_load(path, &buf, &len, err, sizeof(err));
	if (rc == -1) {
		log_msg(LOG_WARNING, "state-unreadable", "%s; starting empty",
		    err);
		return;
	}
	if (rc == 0 && buf == NULL)
		return;				/* first start */
	if (rc == 0 && state_parse(buf, len, r->cfg, r->grants, ot,
	    CFG_MAX_DOORS, &n_ot, stops, max, n_stops, mono,
	    restore_real_ms(path, real), &rep, err, sizeof(err)) == 0) {
		free(buf);
		log_msg(LOG_NOTICE, "state-restore", "%s: %u grants restored, "
		    "%u expired, %u clamped, %u dropped, %u one-time positions, "
		    "%u owed stop commands", path, rep.restored, rep.expired,
		    rep.clamped, rep.dropped + rep.ot_dropped + rep.stops_dropped,
		    rep.ot_restored, rep.stops_restored);
		log_restore_drops(&rep);
		catch_up_one_time(r, ot, n_ot);
		return;
	}
	free(buf);
	if (statefile_set_aside(path, aside, sizeof(aside)) != 0)
		snprintf(aside, sizeof(aside), "(could not rename: %s)",
		    strerror(errno));
	log_msg(LOG_WARNING, "state-corrupt", "%s: %s; kept as %s, starting "
	    "empty", path, rc == -2 ? "too large" : err, aside);
}
