/* conffile: read a configuration file from disk and parse it (I/O). */
#ifndef GK_CONFFILE_H
#define GK_CONFFILE_H

#include <stdio.h>

#include "config.h"
#include "readfile.h"

#define CONFFILE_MAX READFILE_MAX

/* Read and parse path.  Returns the number of errors (0: cfg is valid);
 * a file that cannot be read is one error naming it. */
unsigned conffile_load(const char *path, struct config *cfg,
    struct cfg_errors *err);
/* What the file cannot tell by itself but this host can, checked by
 * -n, at start and at reload: Interface must name an interface the host
 * has (a prefix "ens*": one it matches).  Adds the errors (file:line) to
 * err and returns how many. */
unsigned conffile_check_host(const char *path, const struct config *cfg,
    struct cfg_errors *err);
/* Print every error, one per line, and a count of those not kept. */
void conffile_print_errors(FILE *f, const struct cfg_errors *err);
/* The short human summary `gatekeeperd -n` prints. */
void conffile_print_summary(FILE *f, const char *path,
    const struct config *cfg);

#endif
