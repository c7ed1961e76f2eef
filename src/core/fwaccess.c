/* fwaccess: fwknopd's access.conf read as SPA doors (pure).
 *
 * The syntax is fwknopd's: a line whose first byte is '#' or ';' is a
 * comment; otherwise a keyword (its trailing ':' dropped), blanks, and a
 * value up to the first ';' or end of line.  Keywords are case-sensitive.
 * Where fwknopd only warns (an unknown keyword, a keyword before the
 * first SOURCE), gatekeeper refuses: a typo must not change a door. */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "fwaccess.h"

#define FWA_LINE_MAX	1024	/* fwknopd's MAX_LINE_LEN */

struct fwa {
	const char *file;
	unsigned line;
	int depth;
	struct config *cfg;
	struct cfg_errors *err;
	fwa_include inc;
	void *arg;
	struct cfg_door *d;	/* the stanza being read, or NULL */
	struct cfg_door scratch;	/* ... when cfg has no room left */
	/* Lines each keyword of the stanza was set on (0: not). */
	struct {
		unsigned key, key64, hmac, hmac64, digest, open, cycle_open,
		    cycle_close, cycle_timer;
		int close_none;
	} seen;
};

#define fail(a, ...) config_add_error((a)->err, (a)->file, (a)->line, \
    __VA_ARGS__)

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* "Y..." or "y...": fwknopd's booleans. */
static int
yes(const char *v)
{
	return v[0] == 'Y' || v[0] == 'y';
}

static const char *
trimmed(char *v)
{
	size_t n = strlen(v);

	while (n > 0 && blank(v[n - 1]))
		v[--n] = '\0';
	return v;
}

/* An unsigned decimal of at most max, or -1. */
static long
number(const char *v, long max)
{
	long n = 0;

	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		n = n * 10 + (*v - '0');
		if (n > max)
			return -1;
	}
	return n;
}

/* fwknopd's address items: ANY, ADDR, ADDR/NN, ADDR/M.M.M.M; the host
 * bits may be set (matching masks them).  IPv6 too, as ADDR or ADDR/NN. */
static int
net_parse(const char *s, struct cidr *out)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	struct addr m;
	unsigned bits, max;
	long v;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (addr_parse(buf, &out->net) < 0)
		return -1;
	max = out->net.family == AF_INET ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		if ((v = number(slash + 1, (long)max)) >= 1) {
			bits = (unsigned)v;
		} else if (out->net.family == AF_INET &&
		    addr_parse(slash + 1, &m) == 0 && m.family == AF_INET) {
			uint32_t w = (uint32_t)m.b[0] << 24 |
			    (uint32_t)m.b[1] << 16 | (uint32_t)m.b[2] << 8 |
			    m.b[3];

			if (w == 0 || (~w & (~w + 1)) != 0)	/* contiguous */
				return -1;
			for (bits = 0; w != 0; w <<= 1)
				bits++;
		} else {
			return -1;
		}
	}
	out->prefix = (uint8_t)bits;
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 :
		    bits > 8 * i ? bits - 8 * i : 0;

		out->net.b[i] &= (uint8_t)(0xff00u >> keep);
	}
	return 0;
}

/* SOURCE and DESTINATION: items separated by commas; ANY alone is all. */
static void
set_nets(struct fwa *a, const char *key, char *v, struct cidr *out,
    unsigned *n)
{
	char *save = NULL;

	*n = 0;
	for (char *item = strtok_r(v, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		while (blank(*item))
			item++;
		trimmed(item);
		if (strcasecmp(item, "ANY") == 0) {
			*n = 0;
			return;
		}
		if (*n == CFG_MAX_SPA_NETS) {
			fail(a, "too many items in %s (allowed: at most %d)",
			    key, CFG_MAX_SPA_NETS);
			return;
		}
		if (net_parse(item, &out[*n]) < 0) {
			fail(a, "bad %s item '%.48s' (allowed: ANY, an "
			    "address, ADDR/NN or ADDR/M.M.M.M)", key, item);
			continue;
		}
		(*n)++;
	}
}

int
fwaccess_port_item(const char *item, struct cfg_port *out)
{
	const char *slash = strchr(item, '/');
	long port;

	if (slash == NULL || (port = number(slash + 1, 65535)) < 1)
		return -1;
	if (slash - item == 3 && strncasecmp(item, "tcp", 3) == 0)
		out->proto = IPPROTO_TCP;
	else if (slash - item == 3 && strncasecmp(item, "udp", 3) == 0)
		out->proto = IPPROTO_UDP;
	else
		return -1;
	out->port = (uint16_t)port;
	return 0;
}

/* OPEN_PORTS and RESTRICT_PORTS: proto/port items. */
static void
set_ports(struct fwa *a, const char *key, char *v, struct cfg_port *out,
    unsigned *n)
{
	char *save = NULL;

	*n = 0;
	for (char *item = strtok_r(v, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		struct cfg_port port;

		while (blank(*item))
			item++;
		trimmed(item);
		if (fwaccess_port_item(item, &port) != 0) {
			fail(a, "bad %s item '%.56s' (allowed: tcp/N or "
			    "udp/N, N 1-65535)", key, item);
			continue;
		}
		if (*n == CFG_MAX_OPEN) {
			fail(a, "too many ports in %s (allowed: at most %d)",
			    key, CFG_MAX_OPEN);
			return;
		}
		out[(*n)++] = port;
	}
}

static void
set_key(struct fwa *a, const char *key, const char *v, int b64, int hmac)
{
	struct spa_keys *k = &a->d->sp.keys;
	uint8_t *dst = hmac ? k->hmac : k->key;
	size_t max = hmac ? SPA_HMAC_KEY_MAX : SPA_KEY_MAX;
	size_t *len = hmac ? &k->hmac_len : &k->key_len;
	long n;

	if (strcasecmp(v, "__CHANGEME__") == 0) {
		fail(a, "%s is still __CHANGEME__ (allowed: a real key, e.g. "
		    "from fwknop --key-gen)", key);
		return;
	}
	if (!b64) {
		/* fwknopd keeps the bytes as written, trailing blanks too. */
		if (strlen(v) > max) {
			fail(a, "%s is longer than %zu bytes (allowed: 1-%zu; "
			    "fwknop cannot use a longer one)", key, max, max);
			return;
		}
		memcpy(dst, v, strlen(v));
		*len = strlen(v);
		return;
	}
	if ((n = spa_b64_decode(v, strlen(v), dst, max)) <= 0) {
		fail(a, "%s is not base64 of 1-%zu bytes", key, max);
		return;
	}
	*len = (size_t)n;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* MM/DD/YYYY (or YY: 20YY), the start of that day in UTC (fwknopd uses
 * local time; servers mostly run in UTC). */
static void
set_expire_date(struct fwa *a, const char *v)
{
	unsigned m, d, y;
	char end;

	if (sscanf(v, "%2u/%2u/%4u%c", &m, &d, &y, &end) != 3 || m < 1 ||
	    m > 12 || d < 1 || d > 31) {
		fail(a, "bad ACCESS_EXPIRE '%.32s' (allowed: MM/DD/YYYY)", v);
		return;
	}
	if (y < 100)
		y += 2000;
	a->d->sp.expire = days_from_civil(y, m, d) * 86400;
}

/* $IP and $SRC are the address granted: knockd's %IP%.  The others
 * (fwknopd's $PORT, $PROTO, $DST, $TIMEOUT, $PKT_SRC) have no equivalent
 * in a door's command: refused rather than passed on to a shell. */
static int
set_cycle(struct fwa *a, const char *key, const char *v, char *dst)
{
	size_t o = 0;

	if (strlen(v) >= 256) {
		fail(a, "%s is longer than 255 characters (fwknopd's limit)",
		    key);
		return -1;
	}
	for (const char *p = v; *p != '\0';) {
		if (*p == '$' && (strncmp(p, "$IP", 3) == 0 ||
		    strncmp(p, "$SRC", 4) == 0)) {
			memcpy(dst + o, "%IP%", 4);
			o += 4;
			p += p[1] == 'I' ? 3 : 4;
			continue;
		}
		if (*p == '$' && strchr("PDT", p[1]) != NULL && p[1] != '\0') {
			fail(a, "%s uses '%.9s', which gatekeeper cannot fill "
			    "in (allowed: $IP or $SRC, the address granted)",
			    key, p);
			return -1;
		}
		if (*p == '%') {
			fail(a, "%s contains '%%' (allowed: $IP or $SRC; "
			    "gatekeeper's commands use %%IP%%)", key);
			return -1;
		}
		dst[o++] = *p++;
	}
	dst[o] = '\0';
	return 0;
}

/* The door's name: the file's base name and the SOURCE line, in the
 * characters a door name may have. */
static void
stanza_name(const struct fwa *a, char *out, size_t len)
{
	const char *base = strrchr(a->file, '/');
	size_t n;

	base = base != NULL ? base + 1 : a->file;
	snprintf(out, len, "%.40s-%u", base, a->line);
	for (n = 0; out[n] != '\0'; n++)
		if (!((out[n] >= 'a' && out[n] <= 'z') ||
		    (out[n] >= 'A' && out[n] <= 'Z') ||
		    (out[n] >= '0' && out[n] <= '9') || out[n] == '_' ||
		    out[n] == '.' || out[n] == '-'))
			out[n] = '_';
}

/* End of a stanza: fwknopd's defaults, then the checks, at its SOURCE
 * line. */
static void
stanza_finish(struct fwa *a)
{
	struct cfg_door *d = a->d;
	unsigned line = a->line;
	char why[CFG_ERR_MAX];

	if (d == NULL)
		return;
	a->line = d->line;
	if (!a->seen.digest)
		d->sp.keys.hmac_type = SPA_SHA256;
	if (d->sp.keys.key_len == 0 && !a->seen.key && !a->seen.key64)
		fail(a, "stanza has no KEY or KEY_BASE64 (GPG is not "
		    "supported: gatekeeper verifies Rijndael packets with an "
		    "HMAC)");
	else if (d->sp.keys.hmac_len == 0 && !a->seen.hmac && !a->seen.hmac64)
		fail(a, "stanza has no HMAC_KEY or HMAC_KEY_BASE64: without "
		    "an HMAC anybody can alter a captured packet (allowed: "
		    "an HMAC key, fwknop --key-gen makes one)");
	if (!a->seen.open && !a->seen.cycle_open) {
		if (a->cfg->opt.fwknop_nports > 0) {
			memcpy(d->open, a->cfg->opt.fwknop_ports,
			    sizeof(d->open));
			d->open_len = a->cfg->opt.fwknop_nports;
		} else {
			fail(a, "no OPEN_PORTS: fwknopd then opens any port a "
			    "client asks for, and gatekeeper gates only the "
			    "ports it knows (allowed: OPEN_PORTS here, or "
			    "Fwknop_Open_Ports in gatekeeper.conf's [options])");
		}
	}
	if ((a->seen.cycle_open != 0) != (a->seen.cycle_close != 0))
		fail(a, "CMD_CYCLE_OPEN and CMD_CYCLE_CLOSE go together "
		    "(fwknopd requires both)");
	if (a->seen.cycle_close && !a->seen.close_none && !a->seen.cycle_timer)
		fail(a, "CMD_CYCLE_CLOSE needs CMD_CYCLE_TIMER (fwknopd "
		    "requires it)");
	if (d->sp.keys.key_len > 0 && d->sp.keys.hmac_len > 0 &&
	    config_spa_check(d, why, sizeof(why)) < 0)
		fail(a, "%s", why);
	a->line = line;
	a->d = NULL;
}

static void
stanza_start(struct fwa *a, char *v)
{
	struct config *cfg = a->cfg;

	stanza_finish(a);
	memset(&a->seen, 0, sizeof(a->seen));
	if (cfg->ndoors >= CFG_MAX_DOORS) {
		fail(a, "too many doors with this stanza (allowed: at most %d "
		    "in gatekeeper.conf and access files together)",
		    CFG_MAX_DOORS);
		a->d = &a->scratch;
	} else {
		a->d = &cfg->door[cfg->ndoors++];
	}
	memset(a->d, 0, sizeof(*a->d));
	a->d->line = a->line;
	snprintf(a->d->file, sizeof(a->d->file), "%s", a->file);
	stanza_name(a, a->d->name, sizeof(a->d->name));
	a->d->spa = 1;
	a->d->open_timeout = 30;		/* FW_ACCESS_TIMEOUT */
	a->d->cmd_timeout = CFG_DEF_CMD_TIMEOUT;
	a->d->sp.max_timeout = CFG_DEF_SPA_MAX_TIMEOUT;
	set_nets(a, "SOURCE", v, a->d->sp.src, &a->d->sp.nsrc);
}

/* What gatekeeper refuses, by name, and why. */
static const struct {
	const char *key;
	int bool_ok;		/* "N" is harmless */
	const char *why;
} refused[] = {
	{ "GPG_HOME_DIR", 0, "GPG" }, { "GPG_EXE", 0, "GPG" },
	{ "GPG_DECRYPT_ID", 0, "GPG" }, { "GPG_DECRYPT_PW", 0, "GPG" },
	{ "GPG_ALLOW_NO_PW", 1, "GPG" }, { "GPG_REQUIRE_SIG", 1, "GPG" },
	{ "GPG_DISABLE_SIG", 1, "GPG" },
	{ "GPG_IGNORE_SIG_VERIFY_ERROR", 1, "GPG" },
	{ "GPG_REMOTE_ID", 0, "GPG" }, { "GPG_FINGERPRINT_ID", 0, "GPG" },
	{ "FORCE_NAT", 0, "NAT" }, { "FORCE_SNAT", 0, "NAT" },
	{ "FORCE_MASQUERADE", 1, "NAT" }, { "DISABLE_DNAT", 1, "NAT" },
	{ "FORWARD_ALL", 1, "NAT" },
	{ "ENABLE_CMD_EXEC", 1, "command messages" },
	{ "ENABLE_CMD_SUDO_EXEC", 1, "command messages" },
	{ "CMD_SUDO_EXEC_USER", 0, "command messages" },
	{ "CMD_SUDO_EXEC_GROUP", 0, "command messages" },
	{ "CMD_EXEC_USER", 0, "command messages" },
	{ "CMD_EXEC_GROUP", 0, "command messages" },
	{ "%include_keys", 0, "keys from another file" },
};

static const char *const why_text[] = {
	"GPG", "gatekeeper verifies Rijndael packets with an HMAC only",
	"NAT", "gatekeeper grants access to this host, it forwards nothing",
	"command messages", "a packet must never name a command to run",
	"keys from another file",
	("put the keys in the stanza (the file must be private either way)"),
};

static int
refuse(struct fwa *a, const char *key, const char *v)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (strcmp(key, refused[i].key) != 0)
			continue;
		if (refused[i].bool_ok && !yes(v))
			return 1;
		for (size_t j = 0; j < sizeof(why_text) / sizeof(why_text[0]);
		    j += 2)
			if (strcmp(why_text[j], refused[i].why) == 0)
				fail(a, "%s: %s are not supported (%s)", key,
				    refused[i].why, why_text[j + 1]);
		return 1;
	}
	return 0;
}

static void
stanza_key(struct fwa *a, const char *key, char *raw)
{
	struct cfg_door *d = a->d;
	const char *v = trimmed(raw);
	long n;

	if (strcmp(key, "DESTINATION") == 0) {
		set_nets(a, key, raw, d->sp.dst, &d->sp.ndst);
	} else if (strcmp(key, "OPEN_PORTS") == 0) {
		a->seen.open = a->line;
		set_ports(a, key, raw, d->open, &d->open_len);
	} else if (strcmp(key, "RESTRICT_PORTS") == 0) {
		set_ports(a, key, raw, d->sp.restrict_, &d->sp.nrestrict);
	} else if (strcmp(key, "KEY_BASE64") == 0) {
		a->seen.key64 = a->line;
		set_key(a, key, v, 1, 0);
	} else if (strcmp(key, "HMAC_KEY_BASE64") == 0) {
		a->seen.hmac64 = a->line;
		set_key(a, key, v, 1, 1);
	} else if (strcmp(key, "HMAC_DIGEST_TYPE") == 0) {
		a->seen.digest = a->line;
		if ((d->sp.keys.hmac_type = spa_hash_from_name(v, strlen(v))) ==
		    SPA_HASH_NONE)
			fail(a, "bad HMAC_DIGEST_TYPE '%.16s' (allowed: md5, "
			    "sha1, sha256, sha384, sha512, sha3_256, "
			    "sha3_512)", v);
	} else if (strcmp(key, "FW_ACCESS_TIMEOUT") == 0 ||
	    strcmp(key, "MAX_FW_TIMEOUT") == 0) {
		int fw = key[0] == 'F';

		if ((n = number(v, 8388608)) < 0 || n > CFG_LIM_TIMEOUT)
			fail(a, "bad %s '%.16s' (allowed: 0-%d seconds)", key,
			    v, CFG_LIM_TIMEOUT);
		else if (fw)
			d->open_timeout = n < 1 ? 30 : (unsigned)n;
		else
			d->sp.max_timeout = n < 1 ? CFG_DEF_SPA_MAX_TIMEOUT :
			    (unsigned)n;
	} else if (strcmp(key, "REQUIRE_SOURCE_ADDRESS") == 0 ||
	    strcmp(key, "REQUIRE_SOURCE") == 0) {
		d->sp.require_ip = yes(v);
	} else if (strcmp(key, "REQUIRE_USERNAME") == 0) {
		if (strlen(v) > SPA_USER_MAX)
			fail(a, "REQUIRE_USERNAME is longer than %d characters",
			    SPA_USER_MAX);
		else {
			snprintf(d->sp.users[0], sizeof(d->sp.users[0]), "%s",
			    v);
			d->sp.nusers = 1;
		}
	} else if (strcmp(key, "ACCESS_EXPIRE") == 0) {
		set_expire_date(a, v);
	} else if (strcmp(key, "ACCESS_EXPIRE_EPOCH") == 0) {
		if ((n = number(v, 0x7fffffffL * 2)) < 0)
			fail(a, "bad ACCESS_EXPIRE_EPOCH '%.24s' (allowed: "
			    "seconds since 1970)", v);
		else
			d->sp.expire = n;
	} else if (strcmp(key, "ENCRYPTION_MODE") == 0) {
		if (strcasecmp(v, "legacy") == 0)
			fail(a, "ENCRYPTION_MODE legacy is not supported: it "
			    "pads short keys with '0' and cannot carry an HMAC "
			    "(allowed: CBC, fwknop's default)");
		else if (strcasecmp(v, "Asymmetric") == 0)
			fail(a, "ENCRYPTION_MODE Asymmetric (GPG) is not "
			    "supported (allowed: CBC)");
		else if (strcasecmp(v, "CBC") != 0)
			fail(a, "ENCRYPTION_MODE %.16s is not supported "
			    "(allowed: CBC, fwknop's default)", v);
	} else if (strcmp(key, "CMD_CYCLE_OPEN") == 0) {
		a->seen.cycle_open = a->line;
		set_cycle(a, key, v, d->start_cmd);
		memcpy(d->start_cmd6, d->start_cmd, sizeof(d->start_cmd6));
	} else if (strcmp(key, "CMD_CYCLE_CLOSE") == 0) {
		a->seen.cycle_close = a->line;
		a->seen.close_none = strcmp(v, "NONE") == 0;
		if (!a->seen.close_none) {
			set_cycle(a, key, v, d->stop_cmd);
			memcpy(d->stop_cmd6, d->stop_cmd, sizeof(d->stop_cmd6));
		}
	} else if (strcmp(key, "CMD_CYCLE_TIMER") == 0) {
		a->seen.cycle_timer = a->line;
		if ((n = number(v, CFG_LIM_TIMEOUT)) < 1)
			fail(a, "bad CMD_CYCLE_TIMER '%.16s' (allowed: 1-%d "
			    "seconds)", v, CFG_LIM_TIMEOUT);
		else {
			d->cmd_timeout = (unsigned)n;
			d->has_cmd_timeout = 1;
		}
	} else if (!refuse(a, key, v)) {
		fail(a, "unknown keyword '%.40s' (fwknopd 2.6.10 ignores it; "
		    "gatekeeper refuses it, so a typo cannot change a door)",
		    key);
	}
}

static void
fwa_line(struct fwa *a, char *l)
{
	char *key = l, *v, *end;
	size_t kn;

	/* fwknopd: a comment is '#' or ';' in the first column. */
	if (l[0] == '\0' || l[0] == '#' || l[0] == ';')
		return;
	while (blank(*key))
		key++;
	if (*key == '\0')
		return;
	for (v = key; *v != '\0' && !blank(*v); v++)
		;
	kn = (size_t)(v - key);
	if (*v != '\0')
		*v++ = '\0';
	while (blank(*v))
		v++;
	if ((end = strchr(v, ';')) != NULL)
		*end = '\0';
	if (kn > 1 && key[kn - 1] == ':')
		key[--kn] = '\0';
	if (*v == '\0') {
		fail(a, "'%.40s' has no value (fwknopd refuses it too)", key);
		return;
	}
	if (strcmp(key, "%include") == 0 || strcmp(key, "%include_folder") ==
	    0) {
		if (a->depth + 1 > FWA_MAX_DEPTH)
			fail(a, "%s nested deeper than %d files (fwknopd's "
			    "limit)", key, FWA_MAX_DEPTH);
		else if (a->inc != NULL)
			a->inc(a->arg, trimmed(v), key[8] == '_', a->file,
			    a->line, a->depth + 1, a->cfg, a->err);
		return;
	}
	if (strcmp(key, "SOURCE") == 0) {
		stanza_start(a, v);
		return;
	}
	if (a->d == NULL) {
		fail(a, "'%.40s' before the first SOURCE line (a stanza starts "
		    "with SOURCE; fwknopd ignores such lines, gatekeeper "
		    "refuses them)", key);
		return;
	}
	if (strcmp(key, "KEY") == 0 || strcmp(key, "HMAC_KEY") == 0) {
		int hmac = key[0] == 'H';

		*(hmac ? &a->seen.hmac : &a->seen.key) = a->line;
		set_key(a, key, v, 0, hmac);
		return;
	}
	stanza_key(a, key, v);
}

void
fwaccess_parse(const char *buf, size_t len, const char *file, int depth,
    struct config *cfg, struct cfg_errors *err, fwa_include inc, void *arg)
{
	struct fwa a;
	const char *s = buf, *end = buf + len, *nl;
	char line[FWA_LINE_MAX + 1];
	size_t n;
	unsigned before = cfg->ndoors;

	memset(&a, 0, sizeof(a));
	a.file = file;
	a.depth = depth;
	a.cfg = cfg;
	a.err = err;
	a.inc = inc;
	a.arg = arg;
	while (buf != NULL && s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (size_t)((nl != NULL ? nl : end) - s);
		a.line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > FWA_LINE_MAX || memchr(s, '\0', n) != NULL)
			fail(&a, "line longer than %d bytes or with a NUL "
			    "(fwknopd's limit)", FWA_LINE_MAX);
		else {
			memcpy(line, s, n);
			line[n] = '\0';
			fwa_line(&a, line);
		}
		s = nl != NULL ? nl + 1 : end;
	}
	stanza_finish(&a);
	if (depth == 0 && cfg->ndoors == before && err->n == 0)
		config_add_error(err, file, a.line ? a.line : 1, "no SOURCE "
		    "stanza in the file (fwknopd refuses it too)");
}
