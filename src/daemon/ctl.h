/* ctl: the control socket server — a non-blocking UNIX stream socket
 * polled by the daemon's event loop (I/O).
 *
 * Bounds, so the control socket can never hold up verdicts for long:
 * at most CTL_MAX_CLIENTS connections at once (more are told "busy" and
 * closed), a request must arrive within CTL_READ_TIMEOUT_MS, a reply must be
 * taken within CTL_WRITE_TIMEOUT_MS; no call blocks.  The per-request work
 * is one pass over the grant or knock table (cost grows with Max_Sources),
 * or whatever the daemon's grant/revoke/reload callbacks do.
 *
 * Access: the socket file is 0600 (0660 with group), and each peer's
 * SO_PEERCRED is checked: uid 0, the daemon's own uid, and with a group
 * its members (primary gid or supplementary groups via SO_PEERGROUPS). */
#ifndef GK_CTL_H
#define GK_CTL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ctlproto.h"

#define CTL_MAX_CLIENTS		8
#define CTL_POLLFDS		(1 + CTL_MAX_CLIENTS)	/* ctl_pollfds() max */
#define CTL_READ_TIMEOUT_MS	2000
#define CTL_WRITE_TIMEOUT_MS	5000

struct ctl;

/* What the daemon does for the control socket.  Called from ctl_process()
 * only, so inside the daemon's event loop: no locking needed.  Any of
 * grant, revoke, reload may be NULL ("not supported" is replied). */
struct ctl_ops {
	/* Fill out with the current state; pointers must stay valid until
	 * the next call into the daemon (they are used at once). */
	void (*snapshot)(void *ctx, struct ctl_view *out);
	/* Grant a for door (an index into the snapshot's config) for
	 * seconds from now.  0, or -1 with a one-line reason in err. */
	int (*grant)(void *ctx, const struct addr *a, unsigned door,
	    unsigned seconds, char *err, size_t errlen);
	/* Remove a's grant of door, or of every door when door < 0;
	 * returns how many were removed. */
	unsigned (*revoke)(void *ctx, const struct addr *a, int door);
	/* Re-read the configuration; on failure keep the running one and
	 * return -1 with a one-line reason in err and the configuration
	 * errors (file:line: ...) in errs (errs->n = 0 when none apply). */
	int (*reload)(void *ctx, struct cfg_errors *errs, char *err,
	    size_t errlen);
	/* Optional: one finished logfmt line at a syslog priority
	 * ("event=ctl uid=0 pid=123 cmd=grant ..."). */
	void (*log)(void *ctx, int prio, const char *line);
};

/* Listen on path.  group: NULL or "" for owner-only (0600), else the
 * group name whose members may connect (0660, chown needs CAP_CHOWN when
 * the daemon is not itself a member).  owner: the user the daemon will
 * become (User), whose the socket file then is; NULL or "": as created.  A stale socket file is replaced;
 * anything else at path, or a live listener there, is an error.  The
 * parent directory is created (0755) if missing.
 * 0 with *out set, or -1 with a message in err. */
int ctl_open(struct ctl **out, const char *path, const char *group,
    const char *owner, const struct ctl_ops *ops, void *ctx, char *err,
    size_t errlen);
/* Close every connection and the socket, and remove the socket file if it
 * is still the one ctl_open() made.  NULL is fine. */
void ctl_close(struct ctl *c);
/* The listening socket. */
int ctl_fd(const struct ctl *c);
/* Write the descriptors to poll (listening socket, then clients) to out;
 * returns how many (at most max; give CTL_POLLFDS). */
unsigned ctl_pollfds(const struct ctl *c, struct pollfd *out, unsigned max);
/* After poll(): handle the entries ctl_pollfds() wrote (with revents),
 * accept new connections and enforce deadlines.  Call it after every
 * poll() return, also when nothing was ready. */
void ctl_process(struct ctl *c, const struct pollfd *pfd, unsigned n,
    int64_t now_ms);
/* Earliest client deadline, or INT64_MAX: poll no longer than that. */
int64_t ctl_next_deadline(const struct ctl *c);

#endif
