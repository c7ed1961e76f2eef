/* profile: what the client knocks, from its own profiles file
 * (knock.conf: one [name] section per profile, the server's door syntax)
 * or from a stanza of fwknop's ~/.fwknoprc (pure: bytes in, profiles or
 * "file:line: what is wrong (what is allowed)" out). */
#ifndef GK_PROFILE_H
#define GK_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "spa.h"

#define PROF_MAX		64	/* profiles per file */
#define PROF_HOST_MAX		256
#define PROF_DEF_WAIT_TIMEOUT	10	/* seconds */
#define PROF_LIM_DELAY		60000	/* ms */

struct profile {
	char name[CFG_NAME_MAX];
	unsigned line;			/* where its section starts */
	char host[PROF_HOST_MAX];	/* a name or an address */
	int family;			/* 0 (either), 4 or 6 */
	unsigned delay_ms;		/* between hits */
	uint16_t source_port;		/* 0: any */
	/* A knock sequence (may be empty when the profile sends SPA). */
	struct cfg_port seq[CFG_MAX_SEQ];
	unsigned seq_len;
	/* SPA: sent when spa is set (after the sequence, if any). */
	int spa;
	struct spa_keys keys;
	enum spa_hash digest;		/* the inner digest; NONE: SHA-256 */
	uint16_t spa_port;
	struct cfg_port open[SPA_MAX_PORTS];	/* what to ask for */
	unsigned nopen;
	unsigned timeout;		/* 0: the server's Open_Timeout */
	int allow_source;		/* the address the server sees */
	struct addr allow;		/* else this one */
	char user[SPA_USER_MAX + 1];	/* empty: the login name */
	int64_t time_offset;		/* seconds added to the clock */
	/* Once sent: wait until this TCP port answers, then run command. */
	uint16_t wait_port;
	unsigned wait_timeout;		/* seconds */
	char command[CFG_CMD_MAX];
};

struct profile_file {
	unsigned n;
	struct profile p[PROF_MAX];
	int secrets;		/* some profile holds a key */
};

/* Parse a knock.conf.  The number of errors; out is usable when 0. */
unsigned profile_parse(const char *buf, size_t len, const char *file,
    struct profile_file *out, struct cfg_errors *err);
/* The profile called name (case-sensitive), or NULL. */
const struct profile *profile_find(const struct profile_file *f,
    const char *name);

/* The access message of an SPA profile: "IP,tcp/22,udp/53" with ip the
 * address to put inside (the caller's choice for allow_source). */
int profile_access_message(const struct profile *p, const char *ip,
    char *out, size_t outlen);

/* Can the client send this SPA profile (two different keys, an access
 * message within fwknop's limit for any address inside)?  0, or -1 with
 * the reason in why. */
int profile_check_spa(const struct profile *p, char *why, size_t whylen);
/* A user name the client may send (fwknopd takes at most 63). */
int profile_user_ok(const char *u);
/* Value helpers shared with the .fwknoprc parser: 0 or -1 (a key: its
 * length or -1; an offset: "90", "-5m", "2h", "1d" in seconds). */
void profile_defaults(struct profile *p);
int profile_parse_num(const char *v, long lo, long hi, long *out);
int profile_parse_bool(const char *v, int *out);
long profile_parse_key(const char *v, int b64, uint8_t *out, size_t max);
int profile_parse_offset(const char *v, int64_t *out);
const char *profile_quote(const char *v, char *buf, size_t len);

#endif
