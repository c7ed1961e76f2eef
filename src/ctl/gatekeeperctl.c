/* gatekeeperctl: send one request to gatekeeperd's control socket and
 * print the reply.  Exit 0 on "ok", 1 on an "error" reply, 2 on bad usage
 * or when the daemon cannot be reached. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "conffile.h"
#include "ctlproto.h"

#ifndef GK_VERSION
#define GK_VERSION	"0.1.0"
#endif
#define TIMEOUT_S	10			/* a reload may take a moment */
#define REPLY_CAP	(4 * CTL_REPLY_MAX)	/* refuse more from a server */

static const char *sock_path = CFG_DEF_CONTROL;
static struct config conf;		/* -c FILE, for its Control_Socket */

static void
usage(FILE *f)
{
	fprintf(f, "usage: gatekeeperctl [-c file | -S path] [--json] command "
	    "[args]\n"
	    "commands:\n"
	    "  status                      version, uptime, queue, backend, "
	    "doors, counters\n"
	    "  grants                      active grants: source, door, "
	    "ports, time left\n"
	    "  knocks                      knock sequences in progress\n"
	    "  grant ADDR DOOR [--for T]   open DOOR's ports to ADDR for T "
	    "(default: the\n"
	    "                              door's Open_Timeout; 1s..1d, "
	    "suffix s, m, h or d)\n"
	    "  revoke ADDR [DOOR]          remove ADDR's grants (of DOOR "
	    "only)\n"
	    "  reload                      re-read the configuration\n"
	    "  stats                       packet, verdict, table and kernel "
	    "counters\n"
	    "options:\n"
	    "  -c, --config file   the daemon's configuration: its "
	    "Control_Socket\n"
	    "                      (default " CFG_DEF_CONFIG ", when "
	    "readable)\n"
	    "  -S, --socket path   control socket (default: from the "
	    "configuration,\n"
	    "                      else " CFG_DEF_CONTROL ")\n"
	    "  -j, --json          print the reply as JSON\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       print the version\n");
}

static void
bad_usage(const char *msg) __attribute__((noreturn));

static void
bad_usage(const char *msg)
{
	fprintf(stderr, "gatekeeperctl: %s\nusage: gatekeeperctl [-c file | "
	    "-S path] [--json] command [args]  (-h: help)\n", msg);
	exit(2);
}

static void
bad_duration(const char *s, const char *why) __attribute__((noreturn));

static void
bad_duration(const char *s, const char *why)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "bad duration '%.40s' (%s)", s, why);
	bad_usage(msg);
}

/* "90", "90s", "15m", "2h", "1d" -> seconds in 1..CTL_GRANT_MAX_SECONDS. */
static unsigned
parse_duration(const char *s)
{
	unsigned long v, mul = 1;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		bad_duration(s, "e.g. 90, 15m, 2h, 1d");
	errno = 0;
	v = strtoul(s, &end, 10);
	if (end[0] != '\0' && end[1] == '\0') {
		switch (end[0]) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: bad_duration(s, "e.g. 90, 15m, 2h, 1d");
		}
	} else if (end[0] != '\0') {
		bad_duration(s, "e.g. 90, 15m, 2h, 1d");
	}
	if (errno != 0 || v == 0 || v > CTL_GRANT_MAX_SECONDS / mul)
		bad_duration(s, "allowed: 1s to 1d");
	return (unsigned)(v * mul);
}

/* Join the request words into line; the pure parser checks it exactly as
 * the daemon will, so mistakes are reported before connecting. */
static void
build_request(char *line, size_t len, int json, char **words, int n,
    unsigned seconds)
{
	struct ctl_req req;
	char err[CTL_ERR_MAX];
	size_t used = 0;
	int i, k;

	k = snprintf(line, len, "%s", json ? "json" : "");
	used = k > 0 ? (size_t)k : 0;
	for (i = 0; i < n && used < len; i++) {
		k = snprintf(line + used, len - used, "%s%s", used ? " " : "",
		    words[i]);
		used += k > 0 ? (size_t)k : 0;
	}
	if (seconds && used < len) {
		k = snprintf(line + used, len - used, " %u", seconds);
		used += k > 0 ? (size_t)k : 0;
	}
	if (used >= len - 1)
		bad_usage("request too long");
	if (ctlproto_parse(line, used, &req, err, sizeof(err)) != 0)
		bad_usage(err);
	if (seconds && req.cmd != CTL_CMD_GRANT)
		bad_usage("--for only goes with grant");
	if (req.cmd == CTL_CMD_GRANT && n == 4)	/* SECONDS only via --for */
		bad_usage("usage: grant ADDR DOOR [--for SECONDS]");
	line[used++] = '\n';
	line[used] = '\0';
}

static int
fail_connect(const char *what)
{
	int e = errno;
	const char *hint = "";

	if (e == ENOENT || e == ECONNREFUSED)
		hint = " (is gatekeeperd running?)";
	else if (e == EACCES || e == EPERM)
		hint = " (run as root or as a member of the control group)";
	fprintf(stderr, "gatekeeperctl: %s: %s%s\n", what, strerror(e), hint);
	return -1;
}

static int
connect_to(const char *path)
{
	struct timeval tv = { .tv_sec = TIMEOUT_S };
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "gatekeeperctl: %s: socket path too long\n",
		    path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return fail_connect("socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fail_connect(path);
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const char *s, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = send(fd, s, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += k;
		n -= (size_t)k;
	}
	shutdown(fd, SHUT_WR);
	return 0;
}

/* Read to EOF into a malloc'd buffer; NULL on error (message printed). */
static char *
read_all(int fd, size_t *len)
{
	size_t cap = 4096;
	char *buf = malloc(cap + 1), *nb;
	ssize_t k;

	*len = 0;
	while (buf != NULL) {
		if (*len == cap) {
			if (cap >= REPLY_CAP || (nb = realloc(buf, cap * 2 + 1))
			    == NULL) {
				fprintf(stderr, "gatekeeperctl: %s: reply too "
				    "large\n", sock_path);
				break;
			}
			buf = nb;
			cap *= 2;
		}
		k = recv(fd, buf + *len, cap - *len, 0);
		if (k > 0) {
			*len += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		/* A reset after the reply is just an impolite close. */
		if (k == 0 || (errno == ECONNRESET && *len > 0)) {
			if (*len == 0) {
				fprintf(stderr, "gatekeeperctl: %s: connection "
				    "closed without a reply\n", sock_path);
				break;
			}
			buf[*len] = '\0';
			return buf;
		}
		fprintf(stderr, "gatekeeperctl: %s: %s\n", sock_path,
		    errno == EAGAIN || errno == EWOULDBLOCK ?
		    "timed out waiting for gatekeeperd" : strerror(errno));
		break;
	}
	free(buf);
	return NULL;
}

/* Print the reply; returns the exit status. */
static int
print_reply(const char *r, size_t len, int json)
{
	const char *nl = memchr(r, '\n', len);
	const char *body = nl ? nl + 1 : r + len;
	size_t blen = len - (size_t)(body - r);

	if (nl != NULL && nl - r == 2 && memcmp(r, "ok", 2) == 0) {
		fwrite(body, 1, blen, stdout);
		return fflush(stdout) == 0 ? 0 : 2;
	}
	if (nl != NULL && nl - r > 6 && memcmp(r, "error ", 6) == 0) {
		fprintf(stderr, "gatekeeperctl: %.*s\n", (int)(nl - r - 6),
		    r + 6);
		fwrite(body, 1, blen, json ? stdout : stderr);
		return 1;
	}
	fprintf(stderr, "gatekeeperctl: %s: unexpected reply from "
	    "gatekeeperd\n", sock_path);
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "for", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cfg_errors errs;
	char line[CTL_REQ_MAX + 1], *reply;
	const char *conf_path = NULL;
	unsigned seconds = 0;
	int c, fd, json = 0, rc, sock_given = 0;
	size_t len;

	while ((c = getopt_long(argc, argv, "c:S:jhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'S': sock_path = optarg; sock_given = 1; break;
		case 'j': json = 1; break;
		case 'F': seconds = parse_duration(optarg); break;
		case 'h': usage(stdout); return 0;
		case 'V': puts("gatekeeperctl " GK_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc)
		bad_usage("no command given");
	if (conf_path != NULL && sock_given)
		bad_usage("-c and -S both say where the socket is: one of them");
	/* The socket the daemon's configuration names.  A file named with
	 * -c must be read; the default one is used when it can be (it is
	 * root's to read). */
	if (conf_path != NULL) {
		if (conffile_load(conf_path, &conf, &errs) != 0) {
			conffile_print_errors(stderr, &errs);
			return 2;
		}
		sock_path = conf.opt.control_socket;
	} else if (!sock_given && access(CFG_DEF_CONFIG, R_OK) == 0 &&
	    conffile_load(CFG_DEF_CONFIG, &conf, &errs) == 0)
		sock_path = conf.opt.control_socket;
	build_request(line, sizeof(line), json, argv + optind, argc - optind,
	    seconds);
	if ((fd = connect_to(sock_path)) < 0)
		return 2;
	/* A refusal ("busy", "permission denied") may be sent and the
	 * socket closed before our request is: read it anyway. */
	if (send_all(fd, line, strlen(line)) != 0 && errno != EPIPE &&
	    errno != ECONNRESET) {
		fail_connect(sock_path);
		close(fd);
		return 2;
	}
	reply = read_all(fd, &len);
	close(fd);
	if (reply == NULL)
		return 2;
	rc = print_reply(reply, len, json);
	free(reply);
	return rc;
}
