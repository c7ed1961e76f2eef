/* config: knockd-compatible configuration parser working on a memory buffer
 * (pure).  Every error carries "file:line: what is wrong (what is allowed)". */
#ifndef GK_CONFIG_H
#define GK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define CFG_MAX_DOORS	64
#define CFG_MAX_SEQ	32	/* knock ports per sequence */
#define CFG_MAX_OPEN	32	/* ports one door opens */
#define CFG_MAX_ALLOW	64	/* always-allowed prefixes */
#define CFG_NAME_MAX	64	/* door name, with NUL */
#define CFG_PATH_MAX	256
#define CFG_SOCK_MAX	108	/* sizeof(sun_path) */
#define CFG_CMD_MAX	1024
#define CFG_IFNAME_MAX	16	/* IFNAMSIZ */
#define CFG_MAX_ERRORS	32	/* errors kept; the rest are only counted */
#define CFG_ERR_MAX	320

/* knockd's defaults. */
#define CFG_DEF_SEQ_TIMEOUT	25
#define CFG_DEF_CMD_TIMEOUT	10
/* Gatekeeper's defaults. */
#define CFG_DEF_OPEN_TIMEOUT	30
#define CFG_DEF_MAX_SOURCES	4096
#define CFG_LIM_MAX_SOURCES	1048576
#define CFG_LIM_TIMEOUT		86400	/* one day, for every timeout */
#define CFG_DEF_CONFIG		"/etc/gatekeeper/gatekeeper.conf"
#define CFG_DEF_CONTROL		"/run/gatekeeper/control"
#define CFG_DEF_STATE		"/var/lib/gatekeeper/state"

struct cfg_port {
	uint16_t port;
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

struct cfg_door {
	char name[CFG_NAME_MAX];
	unsigned line;				/* where [name] stands */
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
};

struct cfg_options {
	int use_syslog;
	char log_file[CFG_PATH_MAX];
	char pid_file[CFG_PATH_MAX];
	char interface[CFG_IFNAME_MAX];		/* empty: every interface */
	unsigned queue;
	char control_socket[CFG_SOCK_MAX];
	char state_file[CFG_PATH_MAX];
	unsigned max_sources;
	struct cidr allow[CFG_MAX_ALLOW];
	unsigned allow_len;
};

struct config {
	struct cfg_options opt;
	struct cfg_door door[CFG_MAX_DOORS];
	unsigned ndoors;
};

struct cfg_errors {
	unsigned n;		/* errors found */
	char msg[CFG_MAX_ERRORS][CFG_ERR_MAX];
};

/* Parse buf (need not be NUL-terminated).  file names the source in errors.
 * Returns the number of errors; cfg is usable only when it is 0. */
unsigned config_parse(const char *buf, size_t len, const char *file,
    struct config *cfg, struct cfg_errors *err);

/* Index of the door called name (case-sensitive), or -1. */
int config_door_find(const struct config *cfg, const char *name);
/* Does door d's Sequence or Open_Ports contain (proto, port)? */
int config_door_in_seq(const struct cfg_door *d, uint8_t proto, uint16_t port);
int config_door_opens(const struct cfg_door *d, uint8_t proto, uint16_t port);
/* "7000/tcp,8000/udp" into buf; returns buf. */
const char *config_ports_format(const struct cfg_port *p, unsigned n,
    char *buf, size_t len);

#endif
