/* conffile: read a configuration file from disk and parse it (I/O). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "fwaccess.h"
#include "pkt.h"
#include "readfile.h"

static int not_private(const struct stat *, uid_t, char *, size_t);

static unsigned
file_error(struct cfg_errors *err, const char *path, const char *what)
{
	err->n = 1;
	snprintf(err->msg[0], sizeof(err->msg[0]), "%s: %s", path, what);
	return 1;
}

/* The whole of path; with private set (the file holds keys) only if
 * private to root, us or owner. */
static char *
read_file(const char *path, int private, uid_t owner, size_t *len,
    struct stat *stp, char *why, size_t whylen)
{
	struct stat st;
	char *buf = readfile(path, len, &st, why, whylen);

	if (buf != NULL && private && not_private(&st, owner, why, whylen)) {
		free(buf);
		return NULL;
	}
	if (buf != NULL && stp != NULL)
		*stp = st;
	return buf;
}

static int
not_private(const struct stat *st, uid_t owner, char *why, size_t whylen)
{
	return readfile_not_private(st, owner, "root or by User", why, whylen);
}

/* The uid of the daemon's User, who may own key files too. */
static uid_t
user_uid(const struct config *cfg)
{
	struct passwd *pw;

	if (cfg->opt.user[0] == '\0' || (pw = getpwnam(cfg->opt.user)) == NULL)
		return (uid_t)-1;
	return pw->pw_uid;
}

/* One access file: private, then parsed with its includes. */
static void
access_file(const char *path, const char *from, unsigned line, int depth,
    struct config *cfg, struct cfg_errors *err);

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fwaccess's %include: a file, or a folder's *.conf in name order (not
 * fwknopd's readdir order, so that door names are stable). */
static void
access_include(void *arg, const char *path, int folder, const char *file,
    unsigned line, int depth, struct config *cfg, struct cfg_errors *err)
{
	char *names[256], full[CFG_PATH_MAX];
	struct dirent *e;
	size_t n = 0;
	DIR *dir;

	(void)arg;
	if (!folder) {
		access_file(path, file, line, depth, cfg, err);
		return;
	}
	if ((dir = opendir(path)) == NULL) {
		config_add_error(err, file, line, "%%include_folder %s: %s",
		    path, strerror(errno));
		return;
	}
	while ((e = readdir(dir)) != NULL && n < sizeof(names) / sizeof(*names)) {
		const char *dot = strrchr(e->d_name, '.');

		if (e->d_name[0] != '.' && dot != NULL &&
		    strncmp(dot, ".conf", 5) == 0 &&
		    (names[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", path,
		    names[i]) < sizeof(full))
			access_file(full, file, line, depth, cfg, err);
		free(names[i]);
	}
}

static void
access_file(const char *path, const char *from, unsigned line, int depth,
    struct config *cfg, struct cfg_errors *err)
{
	char why[256], *buf;
	size_t len;

	if ((buf = read_file(path, 1, user_uid(cfg), &len, NULL, why,
	    sizeof(why))) == NULL) {
		config_add_error(err, from, line, "%s: %s", path, why);
		return;
	}
	fwaccess_parse(buf, len, path, depth, cfg, err, access_include, NULL);
	free(buf);
}

static void
access_reader(void *arg, const char *path, const char *file, unsigned line,
    struct config *cfg, struct cfg_errors *err)
{
	(void)arg;
	access_file(path, file, line, 0, cfg, err);
}

unsigned
conffile_load(const char *path, struct config *cfg, struct cfg_errors *err)
{
	char why[256], *buf;
	struct stat st;
	size_t len;
	unsigned n;

	memset(err, 0, sizeof(*err));
	if ((buf = read_file(path, 0, (uid_t)-1, &len, &st, why,
	    sizeof(why))) == NULL)
		return file_error(err, path, why);
	n = config_parse_with(buf, len, path, cfg, err, access_reader, NULL);
	free(buf);
	/* Keys in the main file make it a key file, too. */
	if (n == 0 && config_has_secrets(cfg) &&
	    not_private(&st, user_uid(cfg), why, sizeof(why)))
		return file_error(err, path, why);
	return n;
}

static void
add_error(struct cfg_errors *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_error(struct cfg_errors *err, const char *fmt, ...)
{
	va_list ap;

	if (err->n++ >= CFG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg[err->n - 1], sizeof(err->msg[0]), fmt, ap);
	va_end(ap);
}

/* Interface: "iifname != X return" matches every packet when this host
 * has no X, and then nothing is gated; a prefix must match one real
 * interface (not loopback) now. */
static void
check_interface(const char *path, const struct config *cfg,
    struct cfg_errors *err)
{
	const char *want = cfg->opt.interface;
	size_t n = strlen(want);
	struct if_nameindex *ifs, *i;
	char names[256] = "";
	int found = 0;

	if (n == 0)
		return;
	if ((ifs = if_nameindex()) == NULL) {
		add_error(err, "%s:%u: Interface = %s: cannot list this host's "
		    "interfaces: %s", path, cfg->opt.interface_line, want,
		    strerror(errno));
		return;
	}
	for (i = ifs; i->if_name != NULL; i++) {
		if (want[n - 1] == '*' ? strncmp(i->if_name, want, n - 1) == 0 &&
		    strcmp(i->if_name, "lo") != 0 : strcmp(i->if_name, want) == 0)
			found = 1;
		if (strcmp(i->if_name, "lo") != 0 &&
		    strlen(names) + strlen(i->if_name) + 3 < sizeof(names))
			snprintf(names + strlen(names), sizeof(names) -
			    strlen(names), "%s%s", names[0] ? ", " : "",
			    i->if_name);
	}
	if_freenameindex(ifs);
	if (!found)
		add_error(err, "%s:%u: Interface = %s: %s on this host, so "
		    "nothing would be gated (allowed: %s%s, or a prefix "
		    "ending in '*')", path, cfg->opt.interface_line, want,
		    want[n - 1] == '*' ? "no interface matches it" :
		    "no such interface", names[0] ? "one of " : "",
		    names[0] ? names : "an interface of this host");
}

unsigned
conffile_check_host(const char *path, const struct config *cfg,
    struct cfg_errors *err)
{
	unsigned before = err->n;

	check_interface(path, cfg, err);
	return err->n - before;
}

void
conffile_print_errors(FILE *f, const struct cfg_errors *err)
{
	unsigned i, kept = err->n < CFG_MAX_ERRORS ? err->n : CFG_MAX_ERRORS;

	for (i = 0; i < kept; i++)
		fprintf(f, "%s\n", err->msg[i]);
	if (err->n > kept)
		fprintf(f, "(%u more errors not shown)\n", err->n - kept);
}

static void
print_flags(FILE *f, const struct cfg_door *d)
{
	static const char *const names[] = { "fin", "syn", "rst", "psh",
	    "ack", "urg" };
	const char *sep = "";
	unsigned i;

	if (!d->tcpflags_set && !d->tcpflags_clear)
		return;
	fprintf(f, ", tcpflags ");
	for (i = 0; i < 6; i++) {
		if (d->tcpflags_set & (1u << i))
			fprintf(f, "%s%s", sep, names[i]);
		else if (d->tcpflags_clear & (1u << i))
			fprintf(f, "%s!%s", sep, names[i]);
		else
			continue;
		sep = ",";
	}
}

static const char *
period_name(uint32_t s)
{
	return s == 1 ? "second" : s == 60 ? "minute" : s == 3600 ? "hour" :
	    "day";
}

static void
print_options(FILE *f, const struct config *cfg)
{
	const struct cfg_options *o = &cfg->opt;
	char ports[CFG_MAX_PUBLIC * 12];

	fprintf(f, "queues %u (knock) and %u (protected), ruleset %s%s\n",
	    o->queue, o->protected_queue,
	    o->ruleset_external ? "external" : "installed by the daemon",
	    o->monitor ? ", MONITOR MODE: nothing is dropped" : "");
	if (o->scan_guard)
		fprintf(f, "scan guard on, public ports %s\n", o->public_len ?
		    config_ports_format(o->public_ports, o->public_len, ports,
		    sizeof(ports)) : "none");
	else
		fprintf(f, "scan guard off\n");
	if (o->lockout_after)
		fprintf(f, "lockout after %u failed sequences for %us\n",
		    o->lockout_after, o->lockout_time);
	else
		fprintf(f, "lockout never\n");
	fprintf(f, "log refused %s, %u per %s per source, burst %u\n",
	    o->log_refused ? "yes" : "no", o->log_rate_n,
	    period_name(o->log_rate_period), o->log_burst);
	for (unsigned i = 0; i < cfg->ndoors; i++)
		if (cfg->door[i].spa) {
			fprintf(f, "SPA on %s, packets up to %us old, %u "
			    "remembered against replay\n",
			    config_ports_format(o->spa_ports, o->spa_nports,
			    ports, sizeof(ports)), o->spa_max_age,
			    o->spa_replay);
			break;
		}
}

void
conffile_print_summary(FILE *f, const char *path, const struct config *cfg)
{
	char ports[CFG_MAX_SEQ * 12];
	unsigned i, j;

	fprintf(f, "%s: OK, %u door%s\n", path, cfg->ndoors,
	    cfg->ndoors == 1 ? "" : "s");
	for (i = 0; i < cfg->nwarn && i < CFG_MAX_WARN; i++)
		fprintf(f, "warning: %s\n", cfg->warn[i]);
	print_options(f, cfg);
	for (i = 0; i < cfg->ndoors; i++) {
		const struct cfg_door *d = &cfg->door[i];

		fprintf(f, "door %s: ", d->name);
		if (d->seq_len)
			fprintf(f, "sequence %s",
			    config_ports_format(d->seq, d->seq_len, ports,
			    sizeof(ports)));
		else if (d->one_time_file[0])
			fprintf(f, "one-time sequences from %s",
			    d->one_time_file);
		if (d->seq_len || d->one_time_file[0]) {
			fprintf(f, " within %us", d->seq_timeout);
			print_flags(f, d);
		}
		if (d->spa)
			fprintf(f, "%sSPA (HMAC %s%s, client timeouts up to "
			    "%us%s)", d->seq_len || d->one_time_file[0] ?
			    ", " : "", d->sp.keys.hmac_len ?
			    spa_hash_name(d->sp.keys.hmac_type) : "none",
			    d->file[0] ? ", from fwknopd's access file" : "",
			    d->sp.max_timeout, d->sp.source_match ?
			    ", for the sender only" : "");
		if (d->open_len)
			fprintf(f, ", opens %s for %us",
			    config_ports_format(d->open, d->open_len, ports,
			    sizeof(ports)), d->open_timeout);
		if (d->start_cmd[0] || d->start_cmd6[0])
			fprintf(f, ", runs a command");
		for (j = 0; j < d->close_len; j++)
			fprintf(f, "%s%s", j ? ", " : ", closes ",
			    cfg->door[d->close[j]].name);
		if (d->monitor)
			fprintf(f, ", monitor only");
		fputc('\n', f);
	}
}
