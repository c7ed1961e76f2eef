/* fwknoprc: a stanza of fwknop's ~/.fwknoprc as a client profile (pure),
 * so that fwknop users keep their keys and habits.
 *
 * fwknop's syntax: "[name]" starts a stanza, "VARIABLE value" lines
 * (the value ends at a blank, ';' or '#'), a line starting with '#' or
 * ';' is a comment.  [default] applies under every stanza.  Variables
 * gatekeeper cannot honour (GPG, NAT, spoofing, resolving the address over
 * HTTP, key files) are refused with file:line, not ignored. */
#ifndef GK_FWKNOPRC_H
#define GK_FWKNOPRC_H

#include "profile.h"

/* The stanza called name (case-insensitive, as fwknop) over [default],
 * into out.  Other stanzas are not judged.  Returns the number of errors;
 * *found says whether the stanza exists (0 errors and !*found: none). */
unsigned fwknoprc_parse(const char *buf, size_t len, const char *file,
    const char *name, struct profile *out, int *found,
    struct cfg_errors *err);

#endif
