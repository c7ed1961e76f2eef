/* conffile: read a configuration file from disk and parse it (I/O). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "pkt.h"

static unsigned
file_error(struct cfg_errors *err, const char *path, const char *what)
{
	err->n = 1;
	snprintf(err->msg[0], sizeof(err->msg[0]), "%s: %s", path, what);
	return 1;
}

unsigned
conffile_load(const char *path, struct config *cfg, struct cfg_errors *err)
{
	struct stat st;
	char *buf;
	ssize_t r;
	size_t off = 0;
	unsigned n;
	int fd;

	memset(err, 0, sizeof(*err));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return file_error(err, path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return file_error(err, path, "not a regular file");
	}
	if (st.st_size > CONFFILE_MAX) {
		close(fd);
		return file_error(err, path, "larger than 1 MiB");
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return file_error(err, path, strerror(ENOMEM));
	}
	while (off < (size_t)st.st_size &&
	    (r = read(fd, buf + off, (size_t)st.st_size - off)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return file_error(err, path, strerror(errno));
		}
		off += (size_t)r;
	}
	close(fd);
	n = config_parse(buf, off, path, cfg, err);
	free(buf);
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
		else
			fprintf(f, "one-time sequences from %s",
			    d->one_time_file);
		fprintf(f, " within %us", d->seq_timeout);
		print_flags(f, d);
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
