/* ctl: the control socket server (I/O).
 *
 * Every socket is non-blocking and every client has a deadline, so a slow,
 * silent or hostile local peer costs at most a slot, never a verdict.  The
 * protocol itself (parsing, formatting) lives in ctlproto, which is pure;
 * changes to the daemon's state go through the ctl_ops callbacks. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "ctl.h"
#include "logfmt.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59	/* Linux 4.13 */
#endif

#define CTL_BACKLOG		16
#define CTL_ACCEPT_BURST	16	/* connections accepted per call */
#define CTL_DRAIN_MAX		4096	/* unread request bytes discarded */

struct ctl_client {
	int fd;			/* -1: slot free */
	struct ucred peer;
	int64_t deadline_ms;
	size_t req_len;
	char req[CTL_REQ_MAX];
	char *reply;		/* NULL while reading the request */
	size_t reply_len, reply_off;
};

struct ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;		/* the socket file we made, to remove */
	ino_t ino;
	int has_group;
	uid_t owner;		/* (uid_t)-1: as created */
	gid_t gid;
	struct ctl_ops ops;
	void *ctx;
	struct ctl_client cl[CTL_MAX_CLIENTS];
	struct cfg_errors errs;		/* reload's, lent to the callback */
	char out[CTL_REPLY_MAX];	/* replies are built here, then copied */
};



/* ---- opening ---- */

static int
resolve_group(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	long sz = sysconf(_SC_GETGR_R_SIZE_MAX);
	size_t len = sz > 0 ? (size_t)sz : 16384;
	char *buf = NULL;
	int rc;

	do {
		char *nb = realloc(buf, len);

		if (nb == NULL) {
			rc = ENOMEM;
			break;
		}
		buf = nb;
		rc = getgrnam_r(name, &gr, buf, len, &res);
		len *= 2;
	} while (rc == ERANGE && len <= (1u << 20));
	if (rc == 0 && res != NULL)
		*gid = gr.gr_gid;
	free(buf);
	if (rc == 0 && res != NULL)
		return 0;
	if (rc == 0)
		snprintf(err, errlen, "control group '%s': no such group", name);
	else
		snprintf(err, errlen, "control group '%s': %s", name,
		    strerror(rc));
	return -1;
}

static int
sockaddr_for(const char *path, struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "control socket path '%.120s': empty or "
		    "longer than %zu bytes", path, sizeof(sun->sun_path) - 1);
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Create the socket's directory if it is missing (one level only). */
static int
make_parent(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	/* Past the umask: traversable, the socket's own mode protects it. */
	if (chmod(dir, 0755) != 0) {
		snprintf(err, errlen, "chmod %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Is somebody listening on the socket file at sun? */
static int
socket_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int live;

	if (fd < 0)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return live;
}

/* Remove a stale socket file at path; never anything else. */
static int
remove_stale(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	const char *path = sun->sun_path;
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; not "
		    "removing it", path);
		return -1;
	}
	if (socket_live(sun)) {
		snprintf(err, errlen, "%s: another process is listening there "
		    "(is gatekeeperd already running?)", path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot remove stale socket: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* 0600, or 0660 owned by the control group.  Born 0600 (umask at bind), so
 * the socket is never more open than intended. */
static int
set_access(struct ctl *c, char *err, size_t errlen)
{
	if ((c->has_group || c->owner != (uid_t)-1) && chown(c->path,
	    c->owner, c->has_group ? c->gid : (gid_t)-1) != 0) {
		snprintf(err, errlen, "chown %s to user %d, group %d: %s%s",
		    c->path, (int)c->owner, c->has_group ? (int)c->gid : -1,
		    strerror(errno), errno == EPERM ? " (needs CAP_CHOWN)" : "");
		return -1;
	}
	if (chmod(c->path, c->has_group ? 0660 : 0600) != 0) {
		snprintf(err, errlen, "chmod %s: %s", c->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
listen_on(struct ctl *c, const struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	struct stat st;
	mode_t old;
	int rc;

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	rc = bind(c->fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old);
	if (rc != 0) {
		snprintf(err, errlen, "bind %s: %s", c->path, strerror(errno));
		return -1;
	}
	if (lstat(c->path, &st) == 0) {
		c->dev = st.st_dev;
		c->ino = st.st_ino;
	}
	if (set_access(c, err, errlen) != 0)
		return -1;
	if (listen(c->fd, CTL_BACKLOG) != 0) {
		snprintf(err, errlen, "listen %s: %s", c->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The user the daemon becomes: the socket is its. */
static int
resolve_owner(const char *name, uid_t *uid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	*uid = (uid_t)-1;
	if (name == NULL || name[0] == '\0')
		return 0;
	rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(err, errlen, "User '%s': %s", name, rc ? strerror(rc) :
		    "no such user");
		return -1;
	}
	*uid = pw.pw_uid;
	return 0;
}

int
ctl_open(struct ctl **out, const char *path, const char *group,
    const char *owner, const struct ctl_ops *ops, void *ctx, char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	struct ctl *c;
	unsigned i;

	*out = NULL;
	if (sockaddr_for(path, &sun, err, errlen) != 0)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "control socket: out of memory");
		return -1;
	}
	c->fd = -1;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	memcpy(c->path, sun.sun_path, sizeof(c->path));
	c->ops = *ops;
	c->ctx = ctx;
	c->has_group = group != NULL && group[0] != '\0';
	if ((c->has_group && resolve_group(group, &c->gid, err, errlen) != 0) ||
	    resolve_owner(owner, &c->owner, err, errlen) != 0 ||
	    make_parent(path, err, errlen) != 0 ||
	    remove_stale(&sun, err, errlen) != 0) {
		ctl_close(c);
		return -1;
	}
	if (listen_on(c, &sun, err, errlen) != 0) {
		ctl_close(c);	/* removes the file if bind made it */
		return -1;
	}
	*out = c;
	return 0;
}

/* ---- connections ---- */

/* event=ctl uid= pid= [cmd= [src= door= seconds=]] result= [error=]:
 * who asked what, for the audit trail. */
static void
ctl_log(struct ctl *c, int prio, const struct ucred *peer,
    const struct ctl_req *req, const char *result, const char *why)
{
	char line[LOGFMT_LINE_MAX];
	struct lf l;

	if (c->ops.log == NULL)
		return;
	lf_init(&l, line, sizeof(line));
	lf_str(&l, "event", "ctl");
	lf_u64(&l, "uid", peer->uid);
	lf_u64(&l, "pid", (uint64_t)peer->pid);
	if (req != NULL) {
		lf_str(&l, "cmd", ctlproto_cmd_name(req->cmd));
		if (req->cmd == CTL_CMD_GRANT || req->cmd == CTL_CMD_REVOKE)
			lf_addr(&l, "src", &req->addr);
		if (req->door[0] != '\0')
			lf_str(&l, "door", req->door);
		if (req->seconds != 0)
			lf_u64(&l, "seconds", req->seconds);
	}
	lf_str(&l, "result", result);
	if (why != NULL && why[0] != '\0')
		lf_str(&l, "error", why);
	c->ops.log(c->ctx, prio, line);
}

/* Discard what the peer sent beyond its request, so closing does not
 * reset the connection under the reply (a UNIX socket closed with unread
 * data makes the peer's read fail with ECONNRESET). */
static void
drain_and_close(int fd)
{
	char junk[512];
	size_t total = 0;
	ssize_t n;

	shutdown(fd, SHUT_WR);
	while (total < CTL_DRAIN_MAX &&
	    (n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	close(fd);
}

static void
client_free(struct ctl_client *cl)
{
	if (cl->fd >= 0)
		drain_and_close(cl->fd);
	free(cl->reply);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

/* A short error reply on a fresh socket, best effort, then close. */
static void
reject(int fd, const char *msg)
{
	char line[CTL_ERR_MAX];
	int n = snprintf(line, sizeof(line), "error %s\n", msg);

	if (n > 0)
		(void)send(fd, line, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	drain_and_close(fd);
}

static int
in_groups(int fd, gid_t gid)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof(small);
	size_t i;
	int found = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0) {
		if (errno != ERANGE || (g = malloc(len)) == NULL)
			return 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0)
			len = 0;
	}
	for (i = 0; i < len / sizeof(*g) && !found; i++)
		found = g[i] == gid;
	if (g != small)
		free(g);
	return found;
}

static int
peer_allowed(const struct ctl *c, int fd, const struct ucred *peer)
{
	/* Our uid now, so dropping privileges after ctl_open() is fine. */
	if (peer->uid == 0 || peer->uid == geteuid())
		return 1;
	return c->has_group && (peer->gid == c->gid || in_groups(fd, c->gid));
}

static struct ctl_client *
free_slot(struct ctl *c)
{
	unsigned i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->cl[i].fd < 0)
			return &c->cl[i];
	return NULL;
}

static void
accept_one(struct ctl *c, int fd, int64_t now_ms)
{
	socklen_t len = sizeof(struct ucred);
	struct ctl_client *cl;
	struct ucred peer;
	char why[64];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
		close(fd);
		return;
	}
	if (!peer_allowed(c, fd, &peer)) {
		snprintf(why, sizeof(why), "permission denied for uid %u",
		    (unsigned)peer.uid);
		ctl_log(c, LOG_WARNING, &peer, NULL, "denied", why);
		reject(fd, why);
		return;
	}
	if ((cl = free_slot(c)) == NULL) {
		ctl_log(c, LOG_WARNING, &peer, NULL, "busy", NULL);
		reject(fd, "busy: too many control connections, try again");
		return;
	}
	cl->fd = fd;
	cl->peer = peer;
	cl->deadline_ms = now_ms + CTL_READ_TIMEOUT_MS;
}

static void
accept_all(struct ctl *c, int64_t now_ms)
{
	unsigned i;
	int fd;

	for (i = 0; i < CTL_ACCEPT_BURST; i++) {
		fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			accept_one(c, fd, now_ms);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    c->ops.log != NULL) {
			char line[LOGFMT_LINE_MAX];
			struct lf l;

			lf_init(&l, line, sizeof(line));
			lf_str(&l, "event", "ctl-error");
			lf_str(&l, "error", strerror(errno));
			c->ops.log(c->ctx, LOG_ERR, line);
		}
		return;
	}
}

/* ---- requests ---- */

static void
do_grant(struct ctl *c, const struct ctl_req *req, const struct ctl_view *v,
    struct ctl_out *o)
{
	char err[CTL_ERR_MAX];
	unsigned door, secs;

	if (c->ops.grant == NULL)
		ctlproto_error(o, "grant is not supported");
	else if (ctlproto_grant_args(req, v->cfg, &door, &secs, err,
	    sizeof(err)) != 0 || c->ops.grant(c->ctx, &req->addr, door, secs,
	    err, sizeof(err)) != 0)
		ctlproto_error(o, "%s", err);
	else
		ctlproto_granted(o, req->json, v->cfg, &req->addr, door, secs);
}

static void
do_revoke(struct ctl *c, const struct ctl_req *req, const struct ctl_view *v,
    struct ctl_out *o)
{
	char err[CTL_ERR_MAX];
	unsigned n;
	int door;

	if (c->ops.revoke == NULL) {
		ctlproto_error(o, "revoke is not supported");
		return;
	}
	if (ctlproto_revoke_args(req, v->cfg, &door, err, sizeof(err)) != 0) {
		ctlproto_error(o, "%s", err);
		return;
	}
	n = c->ops.revoke(c->ctx, &req->addr, door);
	ctlproto_revoked(o, req->json, v->cfg, &req->addr, door, n);
}

static void
do_reload(struct ctl *c, const struct ctl_req *req, struct ctl_out *o)
{
	char err[CTL_ERR_MAX] = "";
	struct ctl_view v;

	if (c->ops.reload == NULL) {
		ctlproto_error(o, "reload is not supported");
		return;
	}
	c->errs.n = 0;
	if (c->ops.reload(c->ctx, &c->errs, err, sizeof(err)) != 0) {
		ctlproto_reload_failed(o, req->json, err[0] ? err :
		    "reload failed", &c->errs);
		return;
	}
	memset(&v, 0, sizeof(v));
	c->ops.snapshot(c->ctx, &v);	/* the new configuration */
	ctlproto_reloaded(o, req->json, v.cfg);
}

static void
execute(struct ctl *c, const struct ctl_req *req, struct ctl_out *o,
    int64_t now_ms)
{
	struct ctl_view v;

	memset(&v, 0, sizeof(v));
	c->ops.snapshot(c->ctx, &v);
	if (v.cfg == NULL || v.stats == NULL) {
		ctlproto_error(o, "daemon not ready");
		return;
	}
	switch (req->cmd) {
	case CTL_CMD_GRANT:
		do_grant(c, req, &v, o);
		break;
	case CTL_CMD_REVOKE:
		do_revoke(c, req, &v, o);
		break;
	case CTL_CMD_RELOAD:
		do_reload(c, req, o);
		break;
	default:
		ctlproto_show(o, req, &v, now_ms);
	}
}

/* The reason of an "error ..." reply, for the log. */
static const char *
reply_error(const struct ctl_out *o, char *buf, size_t len)
{
	const char *nl;

	if (strncmp(o->buf, "error ", 6) != 0)
		return NULL;
	nl = strchr(o->buf, '\n');
	snprintf(buf, len, "%.*s", nl ? (int)(nl - o->buf - 6) : 0,
	    o->buf + 6);
	return buf;
}

static void client_write(struct ctl *c, struct ctl_client *cl);

/* Build the reply to the first len bytes of the request (len 0: no line
 * within CTL_REQ_MAX bytes), log it, then start sending. */
static void
handle(struct ctl *c, struct ctl_client *cl, size_t len, int64_t now_ms)
{
	char err[CTL_ERR_MAX], why[CTL_ERR_MAX];
	struct ctl_out o;
	struct ctl_req req;
	const char *e;
	int parsed = 0, prio = LOG_INFO;

	ctlproto_out_init(&o, c->out, sizeof(c->out));
	if (len == 0)
		ctlproto_error(&o, "request too long (allowed: %d bytes with "
		    "the newline)", CTL_REQ_MAX);
	else if (ctlproto_parse(cl->req, len, &req, err, sizeof(err)) != 0)
		ctlproto_error(&o, "%s", err);
	else
		parsed = 1;
	if (parsed) {
		execute(c, &req, &o, now_ms);
		prio = req.cmd == CTL_CMD_GRANT || req.cmd == CTL_CMD_REVOKE ||
		    req.cmd == CTL_CMD_RELOAD ? LOG_NOTICE : LOG_DEBUG;
	}
	e = reply_error(&o, why, sizeof(why));
	ctl_log(c, prio, &cl->peer, parsed ? &req : NULL, e ? "error" : "ok",
	    e);
	if ((cl->reply = malloc(o.len)) == NULL) {
		reject(cl->fd, "out of memory");
		cl->fd = -1;
		client_free(cl);
		return;
	}
	memcpy(cl->reply, o.buf, o.len);
	cl->reply_len = o.len;
	cl->reply_off = 0;
	cl->deadline_ms = now_ms + CTL_WRITE_TIMEOUT_MS;
	client_write(c, cl);
}

static void
client_read(struct ctl *c, struct ctl_client *cl, int64_t now_ms)
{
	const char *nl;
	ssize_t n;

	n = recv(cl->fd, cl->req + cl->req_len, sizeof(cl->req) - cl->req_len,
	    MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			client_free(cl);
		return;
	}
	if (n == 0) {		/* EOF: the line may lack its newline */
		if (cl->req_len == 0)
			client_free(cl);
		else
			handle(c, cl, cl->req_len, now_ms);
		return;
	}
	nl = memchr(cl->req + cl->req_len, '\n', (size_t)n);
	cl->req_len += (size_t)n;
	if (nl != NULL)
		handle(c, cl, (size_t)(nl - cl->req) + 1, now_ms);
	else if (cl->req_len == sizeof(cl->req))	/* no newline in bound */
		handle(c, cl, 0, now_ms);
}

static void
client_write(struct ctl *c, struct ctl_client *cl)
{
	ssize_t n;

	(void)c;
	while (cl->reply_off < cl->reply_len) {
		n = send(cl->fd, cl->reply + cl->reply_off,
		    cl->reply_len - cl->reply_off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;		/* poll for POLLOUT */
			if (errno == EINTR)
				continue;
			break;
		}
		cl->reply_off += (size_t)n;
	}
	client_free(cl);
}

static void
client_timeout(struct ctl *c, struct ctl_client *cl)
{
	if (cl->reply == NULL) {
		ctl_log(c, LOG_INFO, &cl->peer, NULL, "error", "timeout");
		reject(cl->fd, "timeout: no complete request line within 2 s");
		cl->fd = -1;
	}
	client_free(cl);
}

/* ---- event loop interface ---- */

int
ctl_fd(const struct ctl *c)
{
	return c->fd;
}

unsigned
ctl_pollfds(const struct ctl *c, struct pollfd *out, unsigned max)
{
	unsigned i, n = 0;

	if (n < max) {
		out[n].fd = c->fd;
		out[n].events = POLLIN;
		out[n++].revents = 0;
	}
	for (i = 0; i < CTL_MAX_CLIENTS && n < max; i++) {
		if (c->cl[i].fd < 0)
			continue;
		out[n].fd = c->cl[i].fd;
		out[n].events = c->cl[i].reply ? POLLOUT : POLLIN;
		out[n++].revents = 0;
	}
	return n;
}

static struct ctl_client *
client_by_fd(struct ctl *c, int fd)
{
	unsigned i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->cl[i].fd >= 0 && c->cl[i].fd == fd)
			return &c->cl[i];
	return NULL;
}

void
ctl_process(struct ctl *c, const struct pollfd *pfd, unsigned n,
    int64_t now_ms)
{
	struct ctl_client *cl;
	int listen_ready = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (pfd[i].fd == c->fd) {
			listen_ready = 1;
			continue;
		}
		if ((cl = client_by_fd(c, pfd[i].fd)) == NULL)
			continue;
		if (cl->reply == NULL)
			client_read(c, cl, now_ms);
		else if (pfd[i].revents & (POLLOUT | POLLHUP | POLLERR))
			client_write(c, cl);
	}
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->cl[i].fd >= 0 && c->cl[i].deadline_ms <= now_ms)
			client_timeout(c, &c->cl[i]);
	/* Last, so a new fd cannot be mistaken for an entry of this round. */
	if (listen_ready)
		accept_all(c, now_ms);
}

int64_t
ctl_next_deadline(const struct ctl *c)
{
	int64_t next = INT64_MAX;
	unsigned i;

	for (i = 0; c != NULL && i < CTL_MAX_CLIENTS; i++)
		if (c->cl[i].fd >= 0 && c->cl[i].deadline_ms < next)
			next = c->cl[i].deadline_ms;
	return next;
}

void
ctl_close(struct ctl *c)
{
	struct stat st;
	unsigned i;

	if (c == NULL)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->cl[i].fd >= 0)
			client_free(&c->cl[i]);
	if (c->fd >= 0)
		close(c->fd);
	/* Only our own socket file: a successor may already own the path. */
	if (c->ino != 0 && lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c);
}
