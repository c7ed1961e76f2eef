/* spawner: a helper process, forked while the daemon is still root, that
 * runs doors' Start_Command / Stop_Command for it (I/O).
 *
 * Privilege separation: the daemon itself may then drop to User with only
 * CAP_NET_ADMIN, while commands still run as Command_User (root by
 * default, as knockd users' iptables lines need).  The helper trusts
 * nothing it is sent: a request names a door and an address literal, and
 * the command lines come from the helper's own copy of the configuration
 * (re-read from the file on reload).  When the daemon goes away, even by
 * SIGKILL, the helper runs every pending Stop_Command and exits. */
#ifndef GK_SPAWNER_H
#define GK_SPAWNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "config.h"

struct spawner {
	int fd;			/* -1: none */
	pid_t pid;
	uint64_t sent, lost;	/* requests sent; not deliverable */
};

/* Fork the helper with cfg's doors and Command_User; conf_path is what it
 * re-reads on spawner_reload().  Call before opening anything the helper
 * must not hold (queues, netlink, the control socket).  0 or -1 (err). */
int spawner_start(struct spawner *sp, const char *conf_path,
    const struct config *cfg, char *err, size_t errlen);
/* Ask for door's commands for src; never blocks.  0, or -1 (counted). */
int spawner_run(struct spawner *sp, const char *door, const struct addr *src);
/* The configuration file changed: the helper re-reads it. */
void spawner_reload(struct spawner *sp);
/* Let the helper run pending stop commands and exit; waits for it at most
 * timeout_ms, then kills it. */
void spawner_stop(struct spawner *sp, int timeout_ms);

#endif
