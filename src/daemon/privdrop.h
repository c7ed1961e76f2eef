/* privdrop: become an unprivileged user that keeps only CAP_NET_ADMIN,
 * with no_new_privs (I/O). */
#ifndef GK_PRIVDROP_H
#define GK_PRIVDROP_H

#include <stddef.h>

/* Switch to user (its uid and primary gid, no supplementary groups),
 * keeping CAP_NET_ADMIN for the queue and the ruleset and nothing else,
 * the bounding set cleared, and no_new_privs set.  An empty user only sets
 * no_new_privs.  0, or -1 with err set. */
int privdrop(const char *user, char *err, size_t errlen);

#endif
