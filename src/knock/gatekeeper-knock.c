/*
 * gatekeeper-knock: the client.  Knocks a sequence (knock's command line,
 * or a profile), sends an SPA packet in fwknop's wire format (a profile,
 * or a stanza of ~/.fwknoprc), then optionally waits for a port to answer
 * and runs a command.  The decisions live in the core (profile, fwknoprc,
 * spa); this file is the I/O: files, names, sockets, the clock.
 *
 * A TCP hit is a non-blocking connect() closed at once: the kernel sends
 * one SYN and forgets the socket, so the SYN is never retransmitted (and
 * a SYN-ACK, should one come, is answered with a reset).  A UDP hit is
 * one datagram of one zero byte, as knock sends.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "fwknoprc.h"
#include "profile.h"
#include "readfile.h"
#include "spa.h"

#define EX_SENT		0
#define EX_NOTSENT	1	/* a hit or the packet could not be sent */
#define EX_USAGE	2	/* bad command line or profile */
#define EX_NOANSWER	3	/* Wait_Port did not answer in time */

static const char *prog = "gatekeeper-knock";
static int verbose, quiet, dry_run;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [-u] [-d MS] [-4|-6] [-v] [-q] [-n] HOST PORT[:tcp|udp]...\n"
	    "       %s [-d MS] [-4|-6] [-v] [-q] [-n] [-c FILE] [-r FILE] NAME\n"
	    "       %s --key-gen [NAME]\n"
	    "  -u, --udp        hits are UDP unless a port says :tcp\n"
	    "  -d, --delay MS   wait MS milliseconds between hits\n"
	    "  -4, -6           use IPv4 / IPv6 only\n"
	    "  -c, --config F   profiles from F only (default: "
	    "~/.config/gatekeeper/knock.conf,\n"
	    "                   then /etc/gatekeeper/knock.conf, then "
	    "~/.fwknoprc)\n"
	    "  -r, --fwknoprc F fwknop's stanzas from F (default ~/.fwknoprc)\n"
	    "  -n, --dry-run    print what would be sent, send nothing (the host\n"
	    "                   is still resolved)\n"
	    "  -v, --verbose    say each hit; -q, --quiet: say only errors\n"
	    "      --key-gen    print a new SPA key pair as a profile and as "
	    "server lines\n"
	    "  -V, --version    print the version\n", prog, prog, prog);
}

/* --- files --------------------------------------------------------------- */

/* Read path; NULL (and *missing set) when it does not exist and need
 * not (a default place).  A file anyone but us or root can change is
 * refused: a profile names a command to run and where to knock. */
static char *
read_profiles(const char *path, int must, size_t *len, struct stat *st,
    int *missing)
{
	char why[512];
	char *buf = readfile(path, len, st, why, sizeof(why));

	*missing = 0;
	if (buf == NULL) {
		/* A default place that is not ours to read is not there
		 * (a root-only /etc/gatekeeper/knock.conf). */
		if (!must && (errno == ENOENT || errno == ENOTDIR ||
		    errno == EACCES)) {
			*missing = 1;
			return NULL;
		}
		fprintf(stderr, "%s: %s: %s\n", prog, path, why);
		return NULL;
	}
	if (readfile_not_safe(st, why, sizeof(why))) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, why);
		free(buf);
		return NULL;
	}
	return buf;
}

static void
print_errors(const struct cfg_errors *err)
{
	for (unsigned i = 0; i < err->n && i < CFG_MAX_ERRORS; i++)
		fprintf(stderr, "%s: %s\n", prog, err->msg[i]);
	if (err->n > CFG_MAX_ERRORS)
		fprintf(stderr, "%s: ... and %u more errors\n", prog,
		    err->n - CFG_MAX_ERRORS);
}

static int
private_or_complain(const char *path, const struct stat *st)
{
	char why[512];

	if (!readfile_not_private(st, (uid_t)-1, "you or root", why,
	    sizeof(why)))
		return 0;
	fprintf(stderr, "%s: %s: %s\n", prog, path, why);
	return -1;
}

/* Look for profile name in a knock.conf: 1 found (into *out), 0 not
 * there (or no file), -1 an error (said). */
static int
from_knock_conf(const char *path, int must, const char *name,
    struct profile *out)
{
	static struct profile_file pf;
	struct cfg_errors err = { 0 };
	const struct profile *p;
	struct stat st;
	size_t len;
	int missing;
	char *buf = read_profiles(path, must, &len, &st, &missing);

	if (buf == NULL)
		return missing ? 0 : -1;
	profile_parse(buf, len, path, &pf, &err);
	free(buf);
	if (err.n > 0) {
		print_errors(&err);
		return -1;
	}
	if (pf.secrets && private_or_complain(path, &st) != 0)
		return -1;
	if ((p = profile_find(&pf, name)) == NULL)
		return 0;
	*out = *p;
	return 1;
}

static int
from_fwknoprc(const char *path, int must, const char *name,
    struct profile *out)
{
	struct cfg_errors err = { 0 };
	struct stat st;
	size_t len;
	int missing, found;
	char *buf = read_profiles(path, must, &len, &st, &missing);

	if (buf == NULL)
		return missing ? 0 : -1;
	fwknoprc_parse(buf, len, path, name, out, &found, &err);
	free(buf);
	if (err.n > 0) {
		print_errors(&err);
		return -1;
	}
	if (!found)
		return 0;
	if (private_or_complain(path, &st) != 0)
		return -1;
	return 1;
}

static void
home_path(char *out, size_t len, const char *env, const char *fallback,
    const char *rest)
{
	const char *base = getenv(env);
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (base != NULL && base[0] == '/') {
		snprintf(out, len, "%s/%s", base, rest);
		return;
	}
	if ((home == NULL || home[0] != '/') &&
	    (pw = getpwuid(geteuid())) != NULL)
		home = pw->pw_dir;
	snprintf(out, len, "%s/%s%s", home != NULL ? home : "",
	    fallback, rest);
}

/* The profile NAME, from -c FILE, or from the usual places in turn. */
static int
find_profile(const char *name, const char *conf, const char *rc,
    struct profile *out)
{
	char user[4096], rcdef[4096];
	int r, must = rc != NULL;

	if (conf != NULL) {
		if ((r = from_knock_conf(conf, 1, name, out)) == 0)
			fprintf(stderr, "%s: %s: no profile [%s]\n", prog,
			    conf, name);
		return r;
	}
	home_path(user, sizeof(user), "XDG_CONFIG_HOME", ".config/",
	    "gatekeeper/knock.conf");
	if ((r = from_knock_conf(user, 0, name, out)) != 0)
		return r;
	if ((r = from_knock_conf("/etc/gatekeeper/knock.conf", 0, name,
	    out)) != 0)
		return r;
	if (rc == NULL) {		/* -r FILE must exist; ~/.fwknoprc need not */
		home_path(rcdef, sizeof(rcdef), "HOME", "", ".fwknoprc");
		rc = rcdef;
	}
	if ((r = from_fwknoprc(rc, must, name, out)) != 0)
		return r;
	fprintf(stderr, "%s: no profile [%s] in %s, "
	    "/etc/gatekeeper/knock.conf or %s\n", prog, name, user, rc);
	return 0;
}

/* --- the network --------------------------------------------------------- */

struct target {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
	char text[INET6_ADDRSTRLEN];
};

/* Resolve host (a name or an address) for family (0: either). */
static int
resolve(const char *host, int family, struct target *t)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	int e;

	hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 :
	    AF_UNSPEC;
	if ((e = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, host, gai_strerror(e));
		return -1;
	}
	memcpy(&t->ss, res->ai_addr, res->ai_addrlen);
	t->len = res->ai_addrlen;
	t->family = res->ai_family;
	freeaddrinfo(res);
	if (t->family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&t->ss)->sin_addr,
		    t->text, sizeof(t->text));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&t->ss)->sin6_addr,
		    t->text, sizeof(t->text));
	return 0;
}

static void
set_port(struct target *t, uint16_t port)
{
	if (t->family == AF_INET)
		((struct sockaddr_in *)&t->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&t->ss)->sin6_port = htons(port);
}

/* A socket of type to t, bound to source port sport when not 0. */
static int
open_socket(const struct target *t, int type, uint16_t sport)
{
	struct sockaddr_storage src = { .ss_family = (sa_family_t)t->family };
	int one = 1, fd;

	fd = socket(t->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || sport == 0)
		return fd;
	if (t->family == AF_INET)
		((struct sockaddr_in *)&src)->sin_port = htons(sport);
	else
		((struct sockaddr_in6 *)&src)->sin6_port = htons(sport);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&src, t->family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One hit: 0 sent, -1 not (said). */
static int
hit(struct target *t, const struct cfg_port *port, uint16_t sport)
{
	int fd, r, e;

	set_port(t, port->port);
	if (verbose)
		printf("hitting %s %s:%u\n", port->proto == IPPROTO_UDP ?
		    "udp" : "tcp", t->text, port->port);
	if (dry_run)
		return 0;
	fd = open_socket(t, port->proto == IPPROTO_UDP ? SOCK_DGRAM :
	    SOCK_STREAM, sport);
	if (fd < 0) {
		fprintf(stderr, "%s: %u/%s: %s\n", prog, port->port,
		    port->proto == IPPROTO_UDP ? "udp" : "tcp", strerror(errno));
		return -1;
	}
	if (port->proto == IPPROTO_UDP)
		r = sendto(fd, "", 1, 0, (struct sockaddr *)&t->ss, t->len) == 1
		    ? 0 : -1;
	else {
		/* Should the port be open and answer before close(), the
		 * connection is reset, not closed with a FIN exchange. */
		struct linger lg = { 1, 0 };

		r = connect(fd, (struct sockaddr *)&t->ss, t->len) == 0 ||
		    errno == EINPROGRESS ? 0 : -1;
		e = errno;
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		errno = e;
	}
	e = errno;
	close(fd);
	if (r != 0)
		fprintf(stderr, "%s: hit on %s %u/%s not sent: %s\n", prog,
		    t->text, port->port, port->proto == IPPROTO_UDP ?
		    "udp" : "tcp", strerror(e));
	return r;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The address the server will see us come from, toward t (for Allow_IP
 * = source over IPv6, where fwknop's 0.0.0.0 cannot be said). */
static int
own_address(const struct target *t, char *out, size_t len)
{
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	int fd = socket(t->family, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok;

	ok = fd >= 0 && connect(fd, (const struct sockaddr *)&t->ss,
	    t->len) == 0 && getsockname(fd, (struct sockaddr *)&me, &ml) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || me.ss_family != AF_INET6)
		return -1;
	inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&me)->sin6_addr, out,
	    (socklen_t)len);
	return 0;
}

/* The SPA packet of p to t into wire (its length, or 0, said). */
static size_t
make_spa(const struct target *t, const struct profile *p, char *wire,
    size_t wlen, char *msg, size_t msglen, const char **user)
{
	char ip[INET6_ADDRSTRLEN];
	uint8_t rnd[SPA_RANDOM_LEN];
	struct passwd *pw;
	struct spa_request rq = { .digest = p->digest, .timeout = p->timeout };
	size_t n;

	if (!p->allow_source) {
		addr_format(&p->allow, ip, sizeof(ip));
	} else if (t->family == AF_INET) {
		snprintf(ip, sizeof(ip), "0.0.0.0");
	} else if (own_address(t, ip, sizeof(ip)) != 0) {
		fprintf(stderr, "%s: no IPv6 route to %s\n", prog, t->text);
		return 0;
	}
	if (profile_access_message(p, ip, msg, msglen) != 0) {
		fprintf(stderr, "%s: too many ports to ask for\n", prog);
		return 0;
	}
	rq.message = msg;
	rq.user = p->user[0] != '\0' ? p->user :
	    (pw = getpwuid(geteuid())) != NULL ? pw->pw_name : "nobody";
	if (!profile_user_ok(rq.user)) {
		fprintf(stderr, "%s: the login name '%s' cannot be sent (set "
		    "SPA_User)\n", prog, rq.user);
		return 0;
	}
	*user = rq.user;
	rq.timestamp = (int64_t)time(NULL) + p->time_offset;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		fprintf(stderr, "%s: getrandom: %s\n", prog, strerror(errno));
		return 0;
	}
	n = spa_seal(&rq, &p->keys, rnd, wire, wlen);
	explicit_bzero(rnd, sizeof(rnd));
	if (n == 0)
		fprintf(stderr, "%s: the SPA packet cannot be made\n", prog);
	return n;
}

/* Make the packet afresh and send it on fd (opened, and bound to the
 * source port, before any hit; -1 with -n). */
static int
send_spa(struct target *t, const struct profile *p, int fd)
{
	char msg[256], wire[SPA_MAX_LEN + 1];
	const char *user = "";
	size_t n = make_spa(t, p, wire, sizeof(wire), msg, sizeof(msg), &user);

	if (n == 0)
		return -1;
	set_port(t, p->spa_port);
	if (verbose || dry_run) {
		printf("SPA to %s port %u/udp: user %s, access %s, ", t->text,
		    p->spa_port, user, msg);
		if (p->timeout)
			printf("timeout %u s", p->timeout);
		else
			printf("the server's timeout");
		printf(", HMAC %s, %zu bytes\n", spa_hash_name(p->keys.hmac_type),
		    n);
	}
	/* Not even -n prints the packet: unsent, it is a live credential
	 * (fresh, not in any replay cache) for whoever reads the output. */
	if (dry_run) {
		explicit_bzero(wire, sizeof(wire));
		return 0;
	}
	if (sendto(fd, wire, n, 0, (struct sockaddr *)&t->ss, t->len) !=
	    (ssize_t)n) {
		fprintf(stderr, "%s: SPA packet to %s not sent: %s\n", prog,
		    t->text, strerror(errno));
		return -1;
	}
	return 0;
}

/* Wait until port answers a TCP connect, for at most secs seconds. */
static int
wait_port(struct target *t, uint16_t port, unsigned secs)
{
	struct pollfd pfd;
	int64_t deadline = now_ms() + (int64_t)secs * 1000;
	int fd, err;
	socklen_t el;

	set_port(t, port);
	for (;;) {
		fd = open_socket(t, SOCK_STREAM, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&t->ss, t->len) == 0) {
			close(fd);
			return 0;
		}
		if (errno == EINPROGRESS) {
			pfd = (struct pollfd){ fd, POLLOUT, 0 };
			err = 0;
			el = sizeof(err);
			if (poll(&pfd, 1, 500) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
			    err == 0) {
				close(fd);
				return 0;
			}
		}
		close(fd);
		if (now_ms() + 200 >= deadline)
			return -1;
		sleep_ms(200);
	}
}

/* Knock profile p: the sequence, the SPA packet, the wait, the command. */
static int
run(const struct profile *p, int family)
{
	struct target t;
	int rc = EX_SENT, spafd = -1;

	if (resolve(p->host, family ? family : p->family, &t) != 0)
		return EX_NOTSENT;
	/* Nothing is sent unless all of it can be: the packet is made once
	 * before the hits (and made again, fresh, after them), and its
	 * socket is bound before the first hit. */
	if (p->spa) {
		char wire[SPA_MAX_LEN + 1], msg[256];
		const char *user;

		if (make_spa(&t, p, wire, sizeof(wire), msg, sizeof(msg),
		    &user) == 0)
			return EX_USAGE;
		explicit_bzero(wire, sizeof(wire));
		if (!dry_run &&
		    (spafd = open_socket(&t, SOCK_DGRAM, p->source_port)) < 0) {
			fprintf(stderr, "%s: SPA socket%s: %s\n", prog,
			    p->source_port ? " (Source_Port)" : "",
			    strerror(errno));
			return EX_NOTSENT;
		}
	}
	if (dry_run && p->seq_len > 0)
		printf("knock %s (%s):", p->host, t.text);
	for (unsigned i = 0; i < p->seq_len; i++) {
		if (dry_run)
			printf(" %u/%s", p->seq[i].port, p->seq[i].proto ==
			    IPPROTO_UDP ? "udp" : "tcp");
		else if (hit(&t, &p->seq[i], p->source_port) != 0) {
			/* The rest would be a knock out of order. */
			if (spafd >= 0)
				close(spafd);
			return EX_NOTSENT;
		}
		if (!dry_run && p->delay_ms > 0 &&
		    (i + 1 < p->seq_len || p->spa))
			sleep_ms(p->delay_ms);
	}
	if (dry_run && p->seq_len > 0)
		printf(p->delay_ms ? ", %u ms apart\n" : "\n", p->delay_ms);
	if (p->spa && send_spa(&t, p, spafd) != 0)
		rc = EX_NOTSENT;
	if (spafd >= 0)
		close(spafd);
	if (rc != EX_SENT || dry_run)
		return rc;
	if (p->wait_port && wait_port(&t, p->wait_port, p->wait_timeout) != 0) {
		fprintf(stderr, "%s: %s port %u did not answer within %u s\n",
		    prog, t.text, p->wait_port, p->wait_timeout);
		return EX_NOANSWER;
	}
	if (p->command[0] != '\0') {
		fflush(stdout);
		setenv("GK_HOST", p->host, 1);
		setenv("GK_ADDR", t.text, 1);
		execl("/bin/sh", "sh", "-c", p->command, (char *)NULL);
		fprintf(stderr, "%s: /bin/sh: %s\n", prog, strerror(errno));
		return EX_NOTSENT;
	}
	return rc;
}

/* --- --key-gen ----------------------------------------------------------- */

static int
key_gen(const char *name)
{
	uint8_t k[32], h[64];
	char kb[64], hb[128];

	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k) ||
	    getrandom(h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		fprintf(stderr, "%s: getrandom: %s\n", prog, strerror(errno));
		return EX_NOTSENT;
	}
	spa_b64_encode(k, sizeof(k), kb, sizeof(kb));
	spa_b64_encode(h, sizeof(h), hb, sizeof(hb));
	explicit_bzero(k, sizeof(k));
	explicit_bzero(h, sizeof(h));
	/* fwknop's keys carry their '=' padding; both readers take either. */
	printf("# client: ~/.config/gatekeeper/knock.conf (chmod 600)\n"
	    "[%s]\n"
	    "    Host                = server.example.org\n"
	    "    SPA_Key_Base64      = %s=\n"
	    "    SPA_HMAC_Key_Base64 = %s==\n"
	    "    SPA_HMAC_Digest     = sha256\n"
	    "    Open_Ports          = 22\n\n"
	    "# server: a door in /etc/gatekeeper/gatekeeper.conf (chmod 600)\n"
	    "[%s]\n"
	    "    SPA_Key_Base64      = %s=\n"
	    "    SPA_HMAC_Key_Base64 = %s==\n"
	    "    SPA_HMAC_Digest     = sha256\n"
	    "    Open_Ports          = 22\n\n"
	    "# server: or a stanza of fwknopd's access.conf (chmod 600)\n"
	    "SOURCE              ANY\n"
	    "KEY_BASE64          %s=\n"
	    "HMAC_KEY_BASE64     %s==\n"
	    "HMAC_DIGEST_TYPE    sha256\n"
	    "OPEN_PORTS          tcp/22\n",
	    name, kb, hb, name, kb, hb, kb, hb);
	explicit_bzero(kb, sizeof(kb));
	explicit_bzero(hb, sizeof(hb));
	return EX_SENT;
}

/* --- main ---------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "udp", no_argument, NULL, 'u' },
		{ "delay", required_argument, NULL, 'd' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "fwknoprc", required_argument, NULL, 'r' },
		{ "key-gen", no_argument, NULL, 'K' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct profile p;
	const char *conf = NULL, *rc = NULL;
	int c, udp = 0, family = 0, keygen = 0, delay = -1, r;
	long n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "ud:46vqnc:r:Vh", lo, NULL)) != -1) {
		switch (c) {
		case 'u': udp = 1; break;
		case 'd':
			if (profile_parse_num(optarg, 0, PROF_LIM_DELAY, &n) != 0) {
				fprintf(stderr, "%s: bad delay '%s' (allowed: "
				    "0-%u ms)\n", prog, optarg, PROF_LIM_DELAY);
				return EX_USAGE;
			}
			delay = (int)n;
			break;
		case '4': family = 4; break;
		case '6': family = 6; break;
		case 'v': verbose = 1; quiet = 0; break;
		case 'q': quiet = 1; verbose = 0; break;
		case 'n': dry_run = 1; break;
		case 'c': conf = optarg; break;
		case 'r': rc = optarg; break;
		case 'K': keygen = 1; break;
		case 'V': printf("gatekeeper-knock %s\n", GK_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (keygen)
		return argc <= 1 ? key_gen(argc == 1 ? argv[0] : "myserver") :
		    (usage(stderr), EX_USAGE);
	if (argc == 0) {
		usage(stderr);
		return EX_USAGE;
	}
	if (argc == 1) {		/* a profile */
		if (udp) {
			fprintf(stderr, "%s: -u is for the command line form: "
			    "a profile's Sequence says each port's protocol\n",
			    prog);
			return EX_USAGE;
		}
		if ((r = find_profile(argv[0], conf, rc, &p)) <= 0)
			return EX_USAGE;
		if (delay >= 0)
			p.delay_ms = (unsigned)delay;
		return run(&p, family);
	}
	/* knock's command line: HOST PORT[:proto]... */
	profile_defaults(&p);
	snprintf(p.host, sizeof(p.host), "%s", argv[0]);
	for (int i = 1; i < argc; i++) {
		char why[CFG_ERR_MAX];
		unsigned got;

		if (p.seq_len >= CFG_MAX_SEQ) {
			fprintf(stderr, "%s: too many ports (allowed: at most "
			    "%u)\n", prog, CFG_MAX_SEQ);
			return EX_USAGE;
		}
		if (config_parse_ports(argv[i], strlen(argv[i]), 0,
		    &p.seq[p.seq_len], 1, &got, why, sizeof(why)) != 0 ||
		    got != 1) {
			fprintf(stderr, "%s: %s\n", prog, why[0] ? why :
			    "bad port");
			return EX_USAGE;
		}
		/* knock: -u changes the default, a :tcp still says TCP. */
		if (udp && strchr(argv[i], ':') == NULL)
			p.seq[p.seq_len].proto = IPPROTO_UDP;
		p.seq_len++;
	}
	p.delay_ms = delay >= 0 ? (unsigned)delay : 0;
	return run(&p, family);
}
