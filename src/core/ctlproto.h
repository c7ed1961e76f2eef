/* ctlproto: the control protocol spoken over gatekeeperd's UNIX socket —
 * parse one request line, format the reply from plain data (pure).
 *
 * One request per connection: "[json ]COMMAND [ARGS...]\n", at most
 * CTL_REQ_MAX bytes with the newline, printable ASCII separated by spaces.
 * The reply is a first line "ok" or "error <reason>", then a body (text, or
 * one JSON document when the request began with "json"), then EOF.  A reply
 * never exceeds its buffer: lists are cut short and marked as truncated. */
#ifndef GK_CTLPROTO_H
#define GK_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "grant.h"
#include "knock.h"
#include "verdict.h"

#define CTL_REQ_MAX	512		/* request line, newline included */
#define CTL_REPLY_MAX	(256 * 1024)	/* whole reply, first line included */
#define CTL_OUT_RESERVE	512		/* kept free to close a cut reply */
#define CTL_GRANT_MAX_SECONDS	CFG_LIM_TIMEOUT	/* 86400 */
#define CTL_ERR_MAX	256		/* one-line reasons */

enum ctl_cmd {
	CTL_CMD_STATUS,
	CTL_CMD_GRANTS,
	CTL_CMD_KNOCKS,
	CTL_CMD_GRANT,		/* ADDR DOOR [SECONDS] */
	CTL_CMD_REVOKE,		/* ADDR [DOOR] */
	CTL_CMD_RELOAD,
	CTL_CMD_STATS,
	CTL_NCMDS
};

struct ctl_req {
	enum ctl_cmd cmd;
	int json;			/* reply body as JSON */
	struct addr addr;		/* GRANT, REVOKE */
	char door[CFG_NAME_MAX];	/* GRANT; REVOKE: "" = every door */
	unsigned seconds;		/* GRANT: 0 = the door's Open_Timeout */
};

#define CTL_MAX_QUEUES	4

/* One NFQUEUE the daemon reads, with the kernel's counters for it. */
struct ctl_queue {
	unsigned num;
	const char *role;		/* e.g. "knock", "protected" */
	int kernel_found;		/* 0: kernel counters unknown */
	uint64_t waiting;		/* waiting in the kernel queue */
	uint64_t queue_dropped;		/* dropped by the kernel: queue full */
	uint64_t user_dropped;		/* dropped by the kernel: socket full */
};

#define CTL_MAX_HEALTH	8
#define CTL_HEALTH_MAX	256

/* One part of the daemon that can fail without stopping it: the table,
 * the queues, the command helper, the log, the state file.  Shown, so a
 * loss of enforcement is never silent. */
struct ctl_health {
	const char *name;
	int ok;
	char detail[CTL_HEALTH_MAX];	/* what is wrong, or how it is */
};

/* What the daemon shows besides its tables; plain data, no pointers into
 * I/O modules. */
struct ctl_status {
	const char *version;
	const char *backend;		/* nft_backend_name() */
	const char *config_path;
	int64_t started_ms;		/* same clock as now_ms */
	uint64_t log_suppressed;	/* log lines suppressed since start */
	unsigned nqueues;
	struct ctl_queue queue[CTL_MAX_QUEUES];
	unsigned nhealth;
	struct ctl_health health[CTL_MAX_HEALTH];
};

/* A read-only view of the running daemon, lent for one request. */
struct ctl_view {
	const struct config *cfg;
	const struct grant_table *grants;
	const struct knock_table *knocks;
	const struct verdict_stats *stats;
	struct ctl_status st;
};

/* Bounded output buffer; always NUL-terminated, never overrun. */
struct ctl_out {
	char *buf;
	size_t size;		/* bytes at buf */
	size_t len;		/* bytes written, without the NUL */
	size_t limit;		/* list items stop here (size - reserve) */
	int full;		/* a write did not fit */
	int truncated;		/* a list was cut short */
};

/* Parse one request line of len bytes (a final "\n" or "\r\n" is allowed).
 * 0, or -1 with a one-line reason in err. */
int ctlproto_parse(const char *line, size_t len, struct ctl_req *req,
    char *err, size_t errlen);
const char *ctlproto_cmd_name(enum ctl_cmd cmd);
/* Does the door name follow the config's rules (1-63 of A-Za-z0-9_.-)? */
int ctlproto_door_name_ok(const char *name);

/* Resolve a GRANT request against cfg: the door must exist and have
 * Open_Ports.  Sets *door and *seconds (default: Open_Timeout).  0 or -1. */
int ctlproto_grant_args(const struct ctl_req *req, const struct config *cfg,
    unsigned *door, unsigned *seconds, char *err, size_t errlen);
/* Resolve a REVOKE request: *door = index, or -1 for every door.  0 or -1. */
int ctlproto_revoke_args(const struct ctl_req *req, const struct config *cfg,
    int *door, char *err, size_t errlen);

/* Output buffer of size bytes (at least 2 * CTL_OUT_RESERVE for whole
 * replies; size >= 2 is safe). */
void ctlproto_out_init(struct ctl_out *o, char *buf, size_t size);
void ctlproto_out_printf(struct ctl_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal, quotes included; invalid UTF-8 becomes
 * U+FFFD, so the document stays valid. */
void ctlproto_out_json_str(struct ctl_out *o, const char *s);

/* Whole replies, first line included; each replaces what o held. */
void ctlproto_error(struct ctl_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* status, grants, knocks, stats: the read-only commands. */
void ctlproto_show(struct ctl_out *o, const struct ctl_req *req,
    const struct ctl_view *v, int64_t now_ms);
void ctlproto_granted(struct ctl_out *o, int json, const struct config *cfg,
    const struct addr *a, unsigned door, unsigned seconds);
/* door: index, or -1 for every door. */
void ctlproto_revoked(struct ctl_out *o, int json, const struct config *cfg,
    const struct addr *a, int door, unsigned removed);
void ctlproto_reloaded(struct ctl_out *o, int json, const struct config *cfg);
/* An error reply whose body lists the configuration errors (may be NULL). */
void ctlproto_reload_failed(struct ctl_out *o, int json, const char *reason,
    const struct cfg_errors *errs);

#endif
