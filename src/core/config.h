/* config: knockd-compatible configuration parser working on a memory buffer
 * (pure).  Every error carries "file:line: what is wrong (what is allowed)". */
#ifndef GK_CONFIG_H
#define GK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "spa.h"

#define CFG_MAX_DOORS	64
#define CFG_MAX_SEQ	32	/* knock ports per sequence */
#define CFG_MAX_OPEN	32	/* ports one door opens */
#define CFG_MAX_ALLOW	64	/* always-allowed prefixes */
#define CFG_MAX_PUBLIC	64	/* Public_Ports */
#define CFG_NAME_MAX	64	/* door name, with NUL */
#define CFG_PATH_MAX	256
#define CFG_SOCK_MAX	108	/* sizeof(sun_path) */
#define CFG_CMD_MAX	1024
#define CFG_IFNAME_MAX	16	/* IFNAMSIZ */
#define CFG_USER_MAX	32	/* user or group name, with NUL */
#define CFG_PREFIX_MAX	30	/* Log_Prefix, with NUL (iptables' LOG: 29) */
#define CFG_MAX_ERRORS	32	/* errors kept; the rest are only counted */
#define CFG_ERR_MAX	512

/* knockd's defaults. */
#define CFG_DEF_SEQ_TIMEOUT	25
#define CFG_DEF_CMD_TIMEOUT	10
/* Gatekeeper's defaults. */
#define CFG_DEF_OPEN_TIMEOUT	30
#define CFG_DEF_MAX_SOURCES	16384
#define CFG_LIM_MAX_SOURCES	1048576
#define CFG_LIM_TIMEOUT		86400	/* one day, for every timeout */
#define CFG_DEF_LOG_RATE	5	/* refused-packet lines per source ... */
#define CFG_DEF_LOG_PERIOD	1	/* ... per this many seconds */
#define CFG_DEF_LOG_BURST	20
#define CFG_LIM_LOG_RATE	100000
#define CFG_LIM_LOG_BURST	10000
#define CFG_DEF_LOCKOUT_AFTER	5	/* failed attempts; 0: never */
#define CFG_LIM_LOCKOUT_AFTER	1000
#define CFG_DEF_LOCKOUT_TIME	60	/* seconds */
#define CFG_DEF_CONFIG		"/etc/gatekeeper/gatekeeper.conf"
#define CFG_DEF_CONTROL		"/run/gatekeeper/control"
#define CFG_DEF_STATE		"/var/lib/gatekeeper/state"
/* SPA (fwknop's defaults where it has one). */
#define CFG_MAX_SPA_PORTS	8	/* SPA_Port */
#define CFG_MAX_SPA_NETS	16	/* SOURCE / DESTINATION items */
#define CFG_MAX_SPA_USERS	8
#define CFG_DEF_SPA_PORT	62201
#define CFG_DEF_SPA_MAX_AGE	120	/* seconds, either way */
#define CFG_DEF_SPA_MAX_TIMEOUT	300	/* fwknopd's MAX_FW_TIMEOUT */
#define CFG_DEF_SPA_REPLAY	65536	/* packets remembered */
#define CFG_LIM_SPA_REPLAY	1048576

struct cfg_port {
	uint16_t port;
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

/* What a door with SPA keys honours (a native door's SPA_* keys, or a
 * stanza of fwknopd's access.conf). */
struct cfg_spa {
	struct spa_keys keys;
	int allow_no_hmac;		/* keys.hmac_len 0 on purpose */
	unsigned max_timeout;		/* cap on the client's, seconds */
	int source_match;		/* the IP inside must be the source */
	int require_ip;			/* 0.0.0.0 refused (fwknop's
					 * REQUIRE_SOURCE_ADDRESS) */
	struct cidr src[CFG_MAX_SPA_NETS];	/* none: any source */
	unsigned nsrc;
	struct cidr dst[CFG_MAX_SPA_NETS];	/* none: any destination */
	unsigned ndst;
	struct cfg_port restrict_[CFG_MAX_OPEN];	/* never granted */
	unsigned nrestrict;
	char users[CFG_MAX_SPA_USERS][SPA_USER_MAX + 1];	/* none: any */
	unsigned nusers;
	int64_t expire;			/* wall-clock seconds; 0: never */
};

struct cfg_door {
	char name[CFG_NAME_MAX];
	unsigned line;				/* where [name] stands */
	char file[CFG_PATH_MAX];		/* where; "": the main file */
	int spa;				/* SPA keys: struct cfg_spa */
	struct cfg_spa sp;
	unsigned seq_line;			/* where Sequence is */
	struct cfg_port seq[CFG_MAX_SEQ];
	unsigned seq_len;
	char one_time_file[CFG_PATH_MAX];	/* One_Time_Sequences */
	unsigned seq_timeout;			/* seconds */
	uint8_t tcpflags_set;			/* TCPF_* that must be set */
	uint8_t tcpflags_clear;			/* TCPF_* that must be clear */
	char start_cmd[CFG_CMD_MAX];		/* Start_Command / Command */
	char start_cmd6[CFG_CMD_MAX];
	char stop_cmd[CFG_CMD_MAX];
	char stop_cmd6[CFG_CMD_MAX];
	unsigned cmd_timeout;			/* seconds */
	int has_cmd_timeout;
	struct addr target;			/* Target; family 0 = any */
	struct cfg_port open[CFG_MAX_OPEN];	/* Open_Ports */
	unsigned open_len;
	unsigned open_timeout;			/* seconds */
	uint8_t close[CFG_MAX_DOORS];		/* Close: door indices */
	unsigned close_len;
	int monitor;				/* Monitor: never drop */
};

struct cfg_options {
	int use_syslog;
	char log_file[CFG_PATH_MAX];
	char pid_file[CFG_PATH_MAX];
	char interface[CFG_IFNAME_MAX];		/* empty: every interface;
						 * "ens*": a prefix */
	unsigned interface_line;		/* where it was set */
	int gate_loopback;			/* lo is gated too */
	int knock_drop;				/* Knock_Reply = drop */
	unsigned queue;
	unsigned protected_queue;		/* protected ports' own queue */
	char control_socket[CFG_SOCK_MAX];
	char control_group[CFG_USER_MAX];	/* empty: owner only */
	char state_file[CFG_PATH_MAX];
	unsigned max_sources;
	struct cidr allow[CFG_MAX_ALLOW];
	unsigned allow_len;
	int monitor;				/* never drop, only log */
	int ruleset_external;			/* admin loads the rules */
	char user[CFG_USER_MAX];		/* empty: stay as started */
	char command_user[CFG_USER_MAX];	/* empty: the daemon's */
	/* Refused-packet lines: whether, how marked, how many per source
	 * (log_rate_n per log_rate_period seconds: 1, 60, 3600 or 86400,
	 * so a token bucket can count exactly in integers). */
	int log_refused;
	char log_prefix[CFG_PREFIX_MAX];
	uint32_t log_rate_n;
	uint32_t log_rate_period;
	unsigned log_burst;
	/* Scan guard: a touch of any other port resets a source's knocks;
	 * Public_Ports are served to all and not watched. */
	int scan_guard;
	struct cfg_port public_ports[CFG_MAX_PUBLIC];
	unsigned public_len;
	unsigned lockout_after;			/* failed attempts; 0: never */
	unsigned lockout_time;			/* seconds */
	/* SPA: the UDP ports packets come to, how old they may be, how many
	 * are remembered against replay; fwknopd's access.conf to read, and
	 * the ports its stanzas without OPEN_PORTS may open. */
	struct cfg_port spa_ports[CFG_MAX_SPA_PORTS];
	unsigned spa_nports;
	unsigned spa_max_age;
	unsigned spa_replay;
	char fwknop_access[CFG_PATH_MAX];
	unsigned fwknop_access_line;
	struct cfg_port fwknop_ports[CFG_MAX_OPEN];
	unsigned fwknop_nports;
};

#define CFG_MAX_WARN	8	/* warnings kept with a config */

struct config {
	struct cfg_options opt;
	struct cfg_door door[CFG_MAX_DOORS];
	unsigned ndoors;
	/* What loads but is weak ("file:line: ..."): said by -n, logged at
	 * start and reload. */
	unsigned nwarn;
	char warn[CFG_MAX_WARN][CFG_ERR_MAX];
};

struct cfg_errors {
	unsigned n;		/* errors found */
	char msg[CFG_MAX_ERRORS][CFG_ERR_MAX];
};

/* Parse buf (need not be NUL-terminated).  file names the source in errors.
 * Returns the number of errors; cfg is usable only when it is 0. */
unsigned config_parse(const char *buf, size_t len, const char *file,
    struct config *cfg, struct cfg_errors *err);
/* Reads the file Fwknop_Access names (I/O, the caller's): adds its
 * stanzas to cfg as doors (fwaccess_parse) and its errors to err.
 * line is where Fwknop_Access stands. */
typedef void (*cfg_access_reader)(void *arg, const char *path,
    const char *file, unsigned line, struct config *cfg,
    struct cfg_errors *err);
/* config_parse, reading Fwknop_Access with rd (NULL: not read, its
 * stanzas are missing: for the fuzzer and tests). */
unsigned config_parse_with(const char *buf, size_t len, const char *file,
    struct config *cfg, struct cfg_errors *err, cfg_access_reader rd,
    void *arg);
/* Add "file:line: message" to err (for the parsers of other formats). */
void config_add_error(struct cfg_errors *err, const char *file, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Is door d's SPA part sound?  0, or -1 with the reason in err (no
 * file:line): a key of 1-32 bytes, an HMAC key unless allowed without,
 * not the same as the key, ports to open. */
int config_spa_check(const struct cfg_door *d, char *err, size_t errlen);
/* Does any door take SPA packets? */
int config_has_spa(const struct config *cfg);
/* Does any door hold a secret from the main file (so that file must be
 * private)? */
int config_has_secrets(const struct config *cfg);
/* Index of (proto, port) in d's Open_Ports, or -1. */
int config_door_open_index(const struct cfg_door *d, uint8_t proto,
    uint16_t port);

/* Index of the door called name (case-sensitive), or -1. */
int config_door_find(const struct config *cfg, const char *name);
/* Does door d's Sequence or Open_Ports contain (proto, port)? */
int config_door_in_seq(const struct cfg_door *d, uint8_t proto, uint16_t port);
int config_door_opens(const struct cfg_door *d, uint8_t proto, uint16_t port);
/* Parse one sequence (Sequence's grammar: port[:tcp|udp], ...) into d's
 * seq, for One_Time_Sequences.  0, or -1 with a message in err (without
 * file:line) and d unchanged. */
int config_door_set_sequence(struct cfg_door *d, const char *text, size_t len,
    char *err, size_t errlen);
/* The same grammar for other programs (the client's profiles): a
 * Sequence, or with open set an Open_Ports list (each port once), into
 * out[max]; 0, or -1 with the first message in err. */
int config_parse_ports(const char *text, size_t len, int open,
    struct cfg_port *out, unsigned max, unsigned *n, char *err,
    size_t errlen);
/* Can door's sequence never work, or be opened by a port scan?  1 with
 * a message in err when it holds a port that a door opens or that is
 * public, or when an ordered scan completes it, else 0.  For sequences
 * set at run time (One_Time_Sequences). */
int config_door_seq_conflict(const struct config *cfg, unsigned door,
    char *err, size_t errlen);
/* A fingerprint of door d's commands (Start/Stop_Command, their _6 forms,
 * Cmd_Timeout): the daemon and the command helper read the file each on
 * its own, and a request names the digest it was made for, so the two
 * never disagree on what a door runs. */
uint64_t config_door_cmd_digest(const struct cfg_door *d);
/* "7000/tcp,8000/udp" into buf; returns buf. */
/* The ports some door of old opens and no door of cfg does (each once,
 * at most max): a reload makes them public. */
unsigned config_unprotected(const struct config *old,
    const struct config *cfg, struct cfg_port *out, unsigned max);
const char *config_ports_format(const struct cfg_port *p, unsigned n,
    char *buf, size_t len);

#endif
