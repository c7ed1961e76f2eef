/* linkwatch: rtnetlink link events (I/O).  An interface that comes, goes
 * or is renamed may change what Interface matches: the caller checks
 * again on every event. */
#ifndef GK_LINKWATCH_H
#define GK_LINKWATCH_H

#include <stddef.h>

/* The event socket (non-blocking), or -1 with err set. */
int linkwatch_open(char *err, size_t errlen);
/* Read every event waiting: 1 if some link changed (or events were lost),
 * 0 if none. */
int linkwatch_read(int fd);
void linkwatch_close(int fd);

#endif
