/* persist: grants and one-time positions to and from State_File (I/O). */
#ifndef GK_PERSIST_H
#define GK_PERSIST_H

#include <stdint.h>

#include "running.h"

/* Write r's grants and one-time positions (atomic replace).  0, or -1
 * (logged); mono and real are the two clocks' "now" in ms. */
int persist_save(const struct running *r, int64_t mono, int64_t real);
/* Restore the last run's state into r.  A missing file is a first start;
 * a corrupt or foreign one is set aside as State_File.bad and r starts
 * empty (logged). */
void persist_restore(struct running *r, int64_t mono, int64_t real);

#endif
