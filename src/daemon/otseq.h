/* otseq: knockd's One_Time_Sequences files (I/O).
 *
 * One sequence per line, in Sequence's grammar.  A used line is marked by
 * overwriting its first byte with '#' in place, as knockd does, so the file
 * itself remembers which sequences are spent.  Blank lines and lines whose
 * first non-blank character is '#' are skipped. */
#ifndef GK_OTSEQ_H
#define GK_OTSEQ_H

#include <stddef.h>

#include "config.h"

/* Load the first unused sequence of path after line `after` (0: from the
 * start) into d and its line number into *line: 0.  Lines up to `after`
 * count as used whatever the file says (the daemon may have used them
 * without being able to mark them).  1 when no unused line is left, -1 on
 * error ("path:line: ..." or "path: ..." in err); in both cases d is left
 * inactive (seq_len 0), so a spent or broken file closes the door rather
 * than crash it. */
int otseq_load(const char *path, unsigned after, struct cfg_door *d,
    unsigned *line, char *err, size_t errlen);
/* Mark line (1-based) of path used, on disk (fsync'd) before returning 0;
 * -1 with err set.  A line marked already is left alone. */
int otseq_mark_used(const char *path, unsigned line, char *err,
    size_t errlen);

#endif
