/* profile: the client's knock.conf (pure). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include "profile.h"

/* The keys of a profile section. */
enum pkey {
	P_HOST, P_FAMILY, P_SEQUENCE, P_DELAY, P_SOURCE_PORT,
	P_KEY, P_KEY_B64, P_HMAC, P_HMAC_B64, P_HMAC_DIGEST, P_DIGEST,
	P_SPA_PORT, P_OPEN_PORTS, P_OPEN_TIMEOUT, P_ALLOW_IP, P_USER,
	P_TIME_OFFSET, P_WAIT_PORT, P_WAIT_TIMEOUT, P_COMMAND, P_NKEYS
};

static const char *const pkey_name[P_NKEYS] = {
	[P_HOST] = "Host", [P_FAMILY] = "Family", [P_SEQUENCE] = "Sequence",
	[P_DELAY] = "Delay", [P_SOURCE_PORT] = "Source_Port",
	[P_KEY] = "SPA_Key", [P_KEY_B64] = "SPA_Key_Base64",
	[P_HMAC] = "SPA_HMAC_Key", [P_HMAC_B64] = "SPA_HMAC_Key_Base64",
	[P_HMAC_DIGEST] = "SPA_HMAC_Digest", [P_DIGEST] = "SPA_Digest",
	[P_SPA_PORT] = "SPA_Port", [P_OPEN_PORTS] = "Open_Ports",
	[P_OPEN_TIMEOUT] = "Open_Timeout", [P_ALLOW_IP] = "Allow_IP",
	[P_USER] = "SPA_User", [P_TIME_OFFSET] = "Time_Offset",
	[P_WAIT_PORT] = "Wait_Port", [P_WAIT_TIMEOUT] = "Wait_Timeout",
	[P_COMMAND] = "Command",
};

#define HINT_HASH "md5, sha1, sha256, sha384, sha512, sha3_256 or sha3_512"

struct pparser {
	const char *file;
	unsigned line;
	struct cfg_errors *err;
};

/* An error at the parser's file and line. */
#define perr(ps, ...) \
	config_add_error((ps)->err, (ps)->file, (ps)->line, __VA_ARGS__)

/* A value for messages: printable, cut short. */
const char *
profile_quote(const char *v, char *buf, size_t len)
{
	size_t i, max = len > 4 ? len - 4 : 0;

	for (i = 0; v[i] != '\0' && i < max; i++)
		buf[i] = isprint((unsigned char)v[i]) ? v[i] : '?';
	if (v[i] != '\0' && len >= 4)
		memcpy(buf + i, "...", 3), i += 3;
	if (len > 0)
		buf[i < len ? i : len - 1] = '\0';
	return buf;
}
#define quote profile_quote

int
profile_parse_num(const char *v, long lo, long hi, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)v[0]) && !(v[0] == '-' && lo < 0))
		return -1;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

int
profile_parse_bool(const char *v, int *out)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "y") == 0 ||
	    strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "n") == 0 ||
	    strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* A key given as text or base64 into out[max]: its length, or -1. */
long
profile_parse_key(const char *v, int b64, uint8_t *out, size_t max)
{
	size_t n = strlen(v);
	uint8_t tmp[512];
	long r;

	if (!b64) {
		if (n == 0 || n > max)
			return -1;
		memcpy(out, v, n);
		return (long)n;
	}
	r = spa_b64_decode(v, n, tmp, sizeof(tmp));
	if (r <= 0 || (size_t)r > max)
		return -1;
	memcpy(out, tmp, (size_t)r);
	return r;
}

/* "30", "-90s", "5m", "2h", "1d": seconds. */
int
profile_parse_offset(const char *v, int64_t *out)
{
	char num[24], *end;
	size_t n = strlen(v);
	long long s, mul = 1;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, v, n + 1);
	switch (num[n - 1]) {
	case 's': mul = 1; num[--n] = '\0'; break;
	case 'm': mul = 60; num[--n] = '\0'; break;
	case 'h': mul = 3600; num[--n] = '\0'; break;
	case 'd': mul = 86400; num[--n] = '\0'; break;
	default: break;
	}
	if (n == 0)
		return -1;
	s = strtoll(num, &end, 10);
	if (*end != '\0' || s < -3650 * 86400LL || s > 3650 * 86400LL ||
	    s * mul < -3650 * 86400LL || s * mul > 3650 * 86400LL)
		return -1;
	*out = (int64_t)(s * mul);
	return 0;
}

int
profile_user_ok(const char *u)
{
	return strlen(u) <= SPA_USER_MAX && spa_user_ok(u);
}

int
profile_check_spa(const struct profile *p, char *why, size_t whylen)
{
	/* The longest address the client may put inside. */
	char ip[64] = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
	char msg[512];

	if (p->keys.key_len > 0 && p->keys.key_len == p->keys.hmac_len &&
	    memcmp(p->keys.key, p->keys.hmac, p->keys.key_len) == 0) {
		snprintf(why, whylen, "the key and the HMAC key are the same "
		    "(allowed: two different keys)");
		return -1;
	}
	if (!p->allow_source)
		addr_format(&p->allow, ip, sizeof(ip));
	if (profile_access_message(p, ip, msg, sizeof(msg)) != 0 ||
	    strlen(msg) > SPA_MESSAGE_MAX) {
		snprintf(why, whylen, "asks for too many ports: the access "
		    "message would be longer than fwknop's %u bytes",
		    SPA_MESSAGE_MAX);
		return -1;
	}
	return 0;
}

int
profile_access_message(const struct profile *p, const char *ip, char *out,
    size_t outlen)
{
	size_t o;
	int w;

	w = snprintf(out, outlen, "%s", ip);
	if (w < 0 || (size_t)w >= outlen)
		return -1;
	o = (size_t)w;
	for (unsigned i = 0; i < p->nopen; i++) {
		w = snprintf(out + o, outlen - o, ",%s/%u",
		    p->open[i].proto == IPPROTO_UDP ? "udp" : "tcp",
		    p->open[i].port);
		if (w < 0 || (size_t)w >= outlen - o)
			return -1;
		o += (size_t)w;
	}
	return 0;
}

/* One Key = value of a knock.conf profile. */
static void
set_key(struct pparser *ps, struct profile *p, enum pkey k, const char *v)
{
	char q[64], why[CFG_ERR_MAX];
	long n, r;

	switch (k) {
	case P_HOST:
		if (strlen(v) >= sizeof(p->host) || strpbrk(v, " \t/") != NULL)
			perr(ps, "bad Host '%s' (allowed: a host name or an "
			    "address)", quote(v, q, sizeof(q)));
		else
			snprintf(p->host, sizeof(p->host), "%s", v);
		break;
	case P_FAMILY:
		if (strcmp(v, "4") == 0 || strcasecmp(v, "ipv4") == 0)
			p->family = 4;
		else if (strcmp(v, "6") == 0 || strcasecmp(v, "ipv6") == 0)
			p->family = 6;
		else if (strcasecmp(v, "any") == 0)
			p->family = 0;
		else
			perr(ps, "bad Family '%s' (allowed: 4, 6 or any)",
			    quote(v, q, sizeof(q)));
		break;
	case P_SEQUENCE:
	case P_OPEN_PORTS:
		if (config_parse_ports(v, strlen(v), k == P_OPEN_PORTS,
		    k == P_OPEN_PORTS ? p->open : p->seq,
		    k == P_OPEN_PORTS ? SPA_MAX_PORTS : CFG_MAX_SEQ,
		    k == P_OPEN_PORTS ? &p->nopen : &p->seq_len, why,
		    sizeof(why)) != 0)
			perr(ps, "%s", why);
		break;
	case P_DELAY:
		if (profile_parse_num(v, 0, PROF_LIM_DELAY, &n) != 0)
			perr(ps, "bad Delay '%s' (allowed: 0-%u milliseconds)",
			    quote(v, q, sizeof(q)), PROF_LIM_DELAY);
		else
			p->delay_ms = (unsigned)n;
		break;
	case P_SOURCE_PORT:
	case P_SPA_PORT:
	case P_WAIT_PORT:
		if (profile_parse_num(v, 1, 65535, &n) != 0) {
			perr(ps, "bad %s '%s' (allowed: 1-65535)", pkey_name[k],
			    quote(v, q, sizeof(q)));
			break;
		}
		if (k == P_SOURCE_PORT)
			p->source_port = (uint16_t)n;
		else if (k == P_SPA_PORT)
			p->spa_port = (uint16_t)n;
		else
			p->wait_port = (uint16_t)n;
		break;
	case P_KEY:
	case P_KEY_B64:
		r = profile_parse_key(v, k == P_KEY_B64, p->keys.key, SPA_KEY_MAX);
		if (r < 0)
			perr(ps, "bad %s (allowed: 1-%u bytes%s)", pkey_name[k],
			    SPA_KEY_MAX, k == P_KEY_B64 ? ", in base64" : "");
		else
			p->keys.key_len = (size_t)r;
		break;
	case P_HMAC:
	case P_HMAC_B64:
		r = profile_parse_key(v, k == P_HMAC_B64, p->keys.hmac,
		    SPA_HMAC_KEY_MAX);
		if (r < 0)
			perr(ps, "bad %s (allowed: 1-%u bytes%s)", pkey_name[k],
			    SPA_HMAC_KEY_MAX, k == P_HMAC_B64 ?
			    ", in base64" : "");
		else
			p->keys.hmac_len = (size_t)r;
		break;
	case P_HMAC_DIGEST:
	case P_DIGEST: {
		enum spa_hash h = spa_hash_from_name(v, strlen(v));

		if (h == SPA_HASH_NONE)
			perr(ps, "bad %s '%s' (allowed: %s)", pkey_name[k],
			    quote(v, q, sizeof(q)), HINT_HASH);
		else if (k == P_DIGEST)
			p->digest = h;
		else
			p->keys.hmac_type = h;
		break;
	}
	case P_OPEN_TIMEOUT:
		if (profile_parse_num(v, 0, SPA_MAX_CLIENT_TIMEOUT, &n) != 0)
			perr(ps, "bad Open_Timeout '%s' (allowed: 0-%u seconds;"
			    " 0: the server's)", quote(v, q, sizeof(q)),
			    SPA_MAX_CLIENT_TIMEOUT);
		else
			p->timeout = (unsigned)n;
		break;
	case P_ALLOW_IP:
		if (strcasecmp(v, "source") == 0)
			p->allow_source = 1;
		else if (addr_parse(v, &p->allow) == 0)
			p->allow_source = 0;
		else
			perr(ps, "bad Allow_IP '%s' (allowed: source, or an "
			    "IPv4 or IPv6 address)", quote(v, q, sizeof(q)));
		break;
	case P_USER:
		if (!profile_user_ok(v))
			perr(ps, "bad SPA_User '%s' (allowed: at most %u "
			    "printable characters, none of \"/\\[]:;|=,+*?<>)",
			    quote(v, q, sizeof(q)), SPA_USER_MAX);
		else
			snprintf(p->user, sizeof(p->user), "%.*s", SPA_USER_MAX, v);
		break;
	case P_TIME_OFFSET:
		if (profile_parse_offset(v, &p->time_offset) != 0)
			perr(ps, "bad Time_Offset '%s' (allowed: seconds, or "
			    "a number with s, m, h or d; may be negative)",
			    quote(v, q, sizeof(q)));
		break;
	case P_WAIT_TIMEOUT:
		if (profile_parse_num(v, 1, 3600, &n) != 0)
			perr(ps, "bad Wait_Timeout '%s' (allowed: 1-3600 "
			    "seconds)", quote(v, q, sizeof(q)));
		else
			p->wait_timeout = (unsigned)n;
		break;
	case P_COMMAND:
		if (strlen(v) >= sizeof(p->command))
			perr(ps, "Command too long (allowed: %zu bytes)",
			    sizeof(p->command) - 1);
		else
			snprintf(p->command, sizeof(p->command), "%s", v);
		break;
	case P_NKEYS:
		break;
	}
}

void
profile_defaults(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	p->spa_port = CFG_DEF_SPA_PORT;
	p->allow_source = 1;
	p->keys.hmac_type = SPA_SHA256;
	p->wait_timeout = PROF_DEF_WAIT_TIMEOUT;
}

/* Is the finished profile one the client can send? */
static void
profile_finish(struct pparser *ps, struct profile *p, const unsigned *seen)
{
	int haskey = p->keys.key_len > 0 || p->keys.hmac_len > 0;

	ps->line = p->line;
	if (p->host[0] == '\0')
		perr(ps, "profile [%s] has no Host (allowed: Host = a name or "
		    "an address)", p->name);
	if (p->seq_len == 0 && !haskey)
		perr(ps, "profile [%s] knocks nothing (allowed: a Sequence, "
		    "or SPA keys with Open_Ports)", p->name);
	if (haskey && p->keys.key_len == 0)
		perr(ps, "profile [%s] has an HMAC key but no SPA_Key "
		    "(allowed: SPA_Key or SPA_Key_Base64)", p->name);
	if (haskey && p->keys.hmac_len == 0)
		perr(ps, "profile [%s] has no SPA_HMAC_Key (gatekeeper sends "
		    "SPA packets with an HMAC only; allowed: "
		    "SPA_HMAC_Key_Base64 or SPA_HMAC_Key)", p->name);
	if (haskey && p->nopen == 0)
		perr(ps, "profile [%s] asks for no port (allowed: Open_Ports "
		    "= what the SPA packet asks the server to open)", p->name);
	if (!haskey && (seen[P_OPEN_PORTS] || seen[P_OPEN_TIMEOUT] ||
	    seen[P_ALLOW_IP] || seen[P_USER] || seen[P_SPA_PORT] ||
	    seen[P_HMAC_DIGEST] || seen[P_DIGEST] || seen[P_TIME_OFFSET]))
		perr(ps, "profile [%s] sets SPA options but has no SPA keys "
		    "(allowed: SPA_Key_Base64 and SPA_HMAC_Key_Base64)",
		    p->name);
	if (haskey && p->nopen > 0) {
		char why[CFG_ERR_MAX];

		if (profile_check_spa(p, why, sizeof(why)) != 0)
			perr(ps, "profile [%s]: %s", p->name, why);
	}
	p->spa = haskey;
}

/* One line, cut into its parts: blank/comment (0), a section (1, name in
 * *a), or key = value (2).  Comments: a line starting with '#' or ';',
 * and " #" to the end of a line. */
static int
split_line(char *s, char **a, char **b)
{
	char *e, *h;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '#' || *s == ';' || *s == '\0')
		return 0;
	for (h = s + 1; (h = strchr(h, '#')) != NULL; h++)
		if (h[-1] == ' ' || h[-1] == '\t') {
			*h = '\0';
			break;
		}
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (*s == '[') {
		*a = s;
		return 1;
	}
	*a = s;
	*b = strchr(s, '=');
	if (*b == NULL)
		return -1;
	e = *b;
	*(*b)++ = '\0';
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	while (**b == ' ' || **b == '\t')
		(*b)++;
	return 2;
}

static int
name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len >= CFG_NAME_MAX)
		return 0;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '-' && *n != '_' &&
		    *n != '.' && *n != '@')
			return 0;
	return 1;
}

/* Each line of buf in turn, NUL-terminated in line[] (a line too long is
 * reported and skipped).  Returns 0 at the end. */
struct lines {
	const char *p, *end;
	unsigned no;
	char line[2048];
	int toolong;
};

static int
next_line(struct lines *l)
{
	const char *nl;
	size_t n;

	if (l->p >= l->end)
		return 0;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	n = (size_t)((nl != NULL ? nl : l->end) - l->p);
	l->no++;
	l->toolong = n >= sizeof(l->line);
	if (l->toolong)
		n = 0;
	memcpy(l->line, l->p, n);
	l->line[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (l->line[i] == '\0' || l->line[i] == '\r')
			l->line[i] = ' ';
	l->p = nl != NULL ? nl + 1 : l->end;
	return 1;
}

unsigned
profile_parse(const char *buf, size_t len, const char *file,
    struct profile_file *out, struct cfg_errors *err)
{
	struct pparser ps = { .file = file, .err = err };
	struct lines l = { .p = buf, .end = buf + len };
	struct profile scratch, *cur = NULL;
	unsigned seen[P_NKEYS];
	char *a, *b, q[64];
	unsigned first = err->n;
	int t;

	memset(out, 0, sizeof(*out));
	while (next_line(&l)) {
		ps.line = l.no;
		if (l.toolong) {
			perr(&ps, "line too long (allowed: %zu bytes)",
			    sizeof(l.line) - 1);
			continue;
		}
		t = split_line(l.line, &a, &b);
		if (t == 0)
			continue;
		if (t == 1) {
			char *close = strchr(a, ']');

			if (cur != NULL)
				profile_finish(&ps, cur, seen);
			ps.line = l.no;
			cur = &scratch;
			if (close == NULL || close[1] != '\0') {
				perr(&ps, "bad section '%s' (allowed: [name])",
				    quote(a, q, sizeof(q)));
			} else {
				*close = '\0';
				if (!name_ok(a + 1))
					perr(&ps, "bad profile name '%s' "
					    "(allowed: letters, digits, - _ . @;"
					    " at most %u)", quote(a + 1, q,
					    sizeof(q)), CFG_NAME_MAX - 1);
				else if (profile_find(out, a + 1) != NULL)
					perr(&ps, "profile [%s] defined twice "
					    "(allowed: each name once)", a + 1);
				else if (out->n >= PROF_MAX)
					perr(&ps, "too many profiles (allowed:"
					    " at most %u)", PROF_MAX);
				else
					cur = &out->p[out->n++];
			}
			profile_defaults(cur);
			snprintf(cur->name, sizeof(cur->name), "%s",
			    close != NULL ? a + 1 : "?");
			cur->line = l.no;
			memset(seen, 0, sizeof(seen));
			continue;
		}
		if (t < 0) {
			perr(&ps, "'%s' is not 'Key = value' (allowed: a "
			    "[profile] line, Key = value, or a # comment)",
			    quote(a, q, sizeof(q)));
			continue;
		}
		if (cur == NULL) {
			perr(&ps, "'%s' before any [profile] (allowed: a "
			    "[name] line first)", quote(a, q, sizeof(q)));
			continue;
		}
		{
			enum pkey k;

			for (k = 0; k < P_NKEYS; k++)
				if (strcasecmp(a, pkey_name[k]) == 0)
					break;
			if (k == P_NKEYS) {
				perr(&ps, "unknown key '%s' (allowed: Host, "
				    "Family, Sequence, Delay, Source_Port, "
				    "SPA_Key(_Base64), SPA_HMAC_Key(_Base64), "
				    "SPA_HMAC_Digest, SPA_Digest, SPA_Port, "
				    "Open_Ports, Open_Timeout, Allow_IP, "
				    "SPA_User, Time_Offset, Wait_Port, "
				    "Wait_Timeout, Command)",
				    quote(a, q, sizeof(q)));
				continue;
			}
			if (seen[k]++) {
				perr(&ps, "%s given twice in [%s] (allowed: "
				    "once)", pkey_name[k], cur->name);
				continue;
			}
			if (*b == '\0') {
				perr(&ps, "%s has no value", pkey_name[k]);
				continue;
			}
			set_key(&ps, cur, k, b);
			if (k >= P_KEY && k <= P_HMAC_B64)
				out->secrets = 1;
		}
	}
	if (cur != NULL)
		profile_finish(&ps, cur, seen);
	return err->n - first;
}

const struct profile *
profile_find(const struct profile_file *f, const char *name)
{
	for (unsigned i = 0; i < f->n; i++)
		if (strcmp(f->p[i].name, name) == 0)
			return &f->p[i];
	return NULL;
}
