/* persist: grants, one-time positions and owed stop commands to and from
 * State_File (I/O). */
#ifndef GK_PERSIST_H
#define GK_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "running.h"
#include "state.h"

/* The text of the state file for r and the owed stops, in a new buffer
 * (*len without the NUL), for bgio_save() or persist_write(); NULL when
 * out of memory.  Logs records left out.  mono and real are the two
 * clocks' "now" in ms. */
char *persist_format(const struct running *r, const struct state_stop *stops,
    unsigned n_stops, int64_t mono, int64_t real, size_t *len);
/* Write it now (atomic replace): at start and at stop, not in the loop.
 * 0, or -1 (logged). */
int persist_write(const struct running *r, const char *buf, size_t len);
/* Restore the last run's state into r, and the owed stops into stops
 * (at most max, their number in *n_stops).  A missing file is a first
 * start; a corrupt or foreign one is set aside as State_File.bad and r
 * starts empty (logged).  One-time positions: lines before the saved one
 * count as used, and are marked so in the file by bgio (best effort). */
void persist_restore(struct running *r, struct state_stop *stops,
    unsigned max, unsigned *n_stops, int64_t mono, int64_t real);

#endif
