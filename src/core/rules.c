/* rules: the sets and rules of table inet gatekeeper, and their text form
 * exactly as `nft list ruleset` prints them (pure: libc only, no I/O). */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"

static const struct {
	const char *name;
	uint8_t proto;
	enum rules_kind kind;
} sets[RULES_NSETS] = {
	[RULES_PUBLIC_TCP] = { "public_tcp", IPPROTO_TCP, RULES_PUBLIC },
	[RULES_PUBLIC_UDP] = { "public_udp", IPPROTO_UDP, RULES_PUBLIC },
	[RULES_KNOCK_TCP]  = { "knock_tcp",  IPPROTO_TCP, RULES_KNOCK },
	[RULES_KNOCK_UDP]  = { "knock_udp",  IPPROTO_UDP, RULES_KNOCK },
	[RULES_OPEN_TCP]   = { "open_tcp",   IPPROTO_TCP, RULES_OPEN },
	[RULES_OPEN_UDP]   = { "open_udp",   IPPROTO_UDP, RULES_OPEN },
};

const char *
rules_set_name(enum rules_set s)
{
	return sets[s].name;
}

uint8_t
rules_set_proto(enum rules_set s)
{
	return sets[s].proto;
}

enum rules_kind
rules_set_kind(enum rules_set s)
{
	return sets[s].kind;
}

unsigned
rules_set_queue(const struct config *cfg, enum rules_set s)
{
	return sets[s].kind == RULES_OPEN ? cfg->opt.protected_queue :
	    cfg->opt.queue;
}

int
rules_set_bypass(const struct config *cfg, enum rules_set s)
{
	return sets[s].kind == RULES_KNOCK && !cfg->opt.knock_drop;
}

static void
mark_ports(uint8_t *seen, const struct cfg_port *p, unsigned n,
    uint8_t proto)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i].proto == proto)
			seen[p[i].port / 8] |= (uint8_t)(1u << (p[i].port % 8));
}

unsigned
rules_set_ports(const struct config *cfg, enum rules_set s, uint16_t *out)
{
	/* A bitmap sorts and removes duplicates in one pass. */
	uint8_t seen[65536 / 8];
	unsigned n = 0;

	memset(seen, 0, sizeof(seen));
	if (sets[s].kind == RULES_PUBLIC)
		mark_ports(seen, cfg->opt.public_ports, cfg->opt.public_len,
		    sets[s].proto);
	for (unsigned d = 0; d < cfg->ndoors && sets[s].kind != RULES_PUBLIC;
	    d++) {
		const struct cfg_door *door = &cfg->door[d];

		if (sets[s].kind == RULES_OPEN)
			mark_ports(seen, door->open, door->open_len,
			    sets[s].proto);
		else
			mark_ports(seen, door->seq, door->seq_len,
			    sets[s].proto);
	}
	/* SPA packets come to the knock queue, and are answered as knocks. */
	if (sets[s].kind != RULES_PUBLIC && sets[s].kind != RULES_OPEN &&
	    config_has_spa(cfg))
		mark_ports(seen, cfg->opt.spa_ports, cfg->opt.spa_nports,
		    sets[s].proto);
	for (unsigned port = 0; port < 65536 && n < RULES_MAX_PORTS; port++)
		if (seen[port / 8] & (1u << (port % 8)))
			out[n++] = (uint16_t)port;
	return n;
}

/* Output cursor with snprintf semantics: counts what it could not store. */
struct out {
	char *buf;
	size_t len;
	size_t need;
};

static void out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->need < o->len ? o->len - o->need : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->need : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

/* nft prints five services a line, continuing under the first one. */
static void
format_set(struct out *o, const struct config *cfg, enum rules_set s)
{
	uint16_t port[RULES_MAX_PORTS];
	unsigned n = rules_set_ports(cfg, s, port);

	if (n == 0)
		return;
	out_printf(o, "\tset %s {\n\t\ttype inet_service\n\t\telements = { ",
	    sets[s].name);
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			out_printf(o, "%s", i % 5 ? ", " : ",\n\t\t\t     ");
		out_printf(o, "%u", port[i]);
	}
	out_printf(o, " }\n\t}\n\n");
}

static void
format_allow(struct out *o, const struct cidr *c)
{
	int v4 = c->net.family == AF_INET;
	char text[INET6_ADDRSTRLEN];

	if (c->prefix == 0) {	/* nft.c matches only the family */
		out_printf(o, "\t\tmeta nfproto %s accept\n",
		    v4 ? "ipv4" : "ipv6");
		return;
	}
	if (inet_ntop(c->net.family, c->net.b, text, sizeof(text)) == NULL)
		text[0] = '\0';
	out_printf(o, "\t\t%s saddr %s", v4 ? "ip" : "ip6", text);
	if (c->prefix < (v4 ? 32 : 128))
		out_printf(o, "/%u", c->prefix);
	out_printf(o, " accept\n");
}

/* The rule for one set; nft elides the meta l4proto dependency.  Every
 * packet that gets this far is not part of an established connection:
 * knocks and protected ports are queued whatever their flags or conntrack
 * state (new, invalid, untracked), so notrack cannot bypass them. */
static void
format_queue_rule(struct out *o, const struct config *cfg, enum rules_set s)
{
	uint16_t port[RULES_MAX_PORTS];
	const char *l4 = sets[s].proto == IPPROTO_TCP ? "tcp" : "udp";

	if (rules_set_ports(cfg, s, port) == 0)
		return;
	out_printf(o, "\t\t%s dport @%s ", l4, sets[s].name);
	if (sets[s].kind == RULES_PUBLIC)
		out_printf(o, "accept\n");
	else if (rules_set_bypass(cfg, s))
		out_printf(o, "queue flags bypass to %u\n",
		    rules_set_queue(cfg, s));
	else
		out_printf(o, "queue num %u\n", rules_set_queue(cfg, s));
}

/* Scan_Guard: every other TCP or UDP packet is shown to the daemon, on the
 * knock queue and with bypass (see rules.h). */
static void
format_observe(struct out *o, const struct config *cfg)
{
	if (!cfg->opt.scan_guard)
		return;
	out_printf(o, "\t\tmeta l4proto tcp queue flags bypass to %u\n",
	    cfg->opt.queue);
	out_printf(o, "\t\tmeta l4proto udp queue flags bypass to %u\n",
	    cfg->opt.queue);
}

static void
format_chain(struct out *o, const struct config *cfg)
{
	out_printf(o, "\tchain %s {\n", NFT_CHAIN);
	out_printf(o, "\t\ttype filter hook input priority filter - %d; "
	    "policy accept;\n", -RULES_PRIORITY);
	if (cfg->opt.interface[0] != '\0')
		out_printf(o, "\t\tiifname != \"%s\" return\n",
		    cfg->opt.interface);
	if (!cfg->opt.gate_loopback && cfg->opt.interface[0] == '\0')
		out_printf(o, "\t\tiifname \"%s\" accept\n",
		    RULES_IF_LOOPBACK);
	out_printf(o, "\t\tct state established,related accept\n");
	for (unsigned i = 0; i < cfg->opt.allow_len; i++)
		format_allow(o, &cfg->opt.allow[i]);
	for (int s = 0; s < RULES_NSETS; s++)
		format_queue_rule(o, cfg, (enum rules_set)s);
	format_observe(o, cfg);
	out_printf(o, "\t}\n");
}

int
rules_format(const struct config *cfg, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	if (len > 0)
		buf[0] = '\0';
	out_printf(&o, "table inet %s {\n\tcomment \"%s\"\n", NFT_TABLE,
	    NFT_OWNER_TAG);
	for (int s = 0; s < RULES_NSETS; s++)
		format_set(&o, cfg, (enum rules_set)s);
	format_chain(&o, cfg);
	out_printf(&o, "}\n");
	return o.need > INT_MAX ? INT_MAX : (int)o.need;
}
