/* fwaccess: fwknopd's access.conf (2.6.10) read as SPA doors (pure).
 *
 * Each stanza (from one SOURCE line to the next) becomes a door named
 * after its file and line ("access.conf-12").  What fwknopd does and
 * gatekeeper can do inline is honoured; the rest (GPG, NAT, command
 * messages, legacy and non-CBC modes, unknown keywords) is refused with
 * file:line and the reason, as is what fwknopd allows but gatekeeper
 * cannot gate (no OPEN_PORTS: "any port"). */
#ifndef GK_FWACCESS_H
#define GK_FWACCESS_H

#include <stddef.h>

#include "config.h"

#define FWA_MAX_DEPTH	3	/* fwknopd's %include limit */

/* Reads a %include'd file (folder 0) or every *.conf of a folder
 * (folder 1) and calls fwaccess_parse on each with depth + 1 (I/O, the
 * caller's).  file and line say where the %include stands. */
typedef void (*fwa_include)(void *arg, const char *path, int folder,
    const char *file, unsigned line, int depth, struct config *cfg,
    struct cfg_errors *err);

/* Add the stanzas of buf (the file called file) to cfg as doors, and the
 * errors to err.  depth: 0 for the file Fwknop_Access names. */
void fwaccess_parse(const char *buf, size_t len, const char *file, int depth,
    struct config *cfg, struct cfg_errors *err, fwa_include inc, void *arg);

/* One of fwknop's port items, "tcp/22" or "udp/53" (the protocol in any
 * case, no blanks): 0 with *out set, or -1.  OPEN_PORTS here, ACCESS in
 * a client's .fwknoprc. */
int fwaccess_port_item(const char *item, struct cfg_port *out);

#endif
