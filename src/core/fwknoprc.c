/* fwknoprc: a stanza of ~/.fwknoprc as a client profile (pure). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include "fwaccess.h"
#include "fwknoprc.h"

enum rkind {
	R_USE,		/* honoured */
	R_IGNORE,	/* changes nothing gatekeeper sends */
	R_REFUSE,	/* would change the packet in a way we cannot */
	R_REFUSE_YES,	/* refused when set to yes */
};

static const struct {
	const char *name;
	enum rkind kind;
	const char *why;	/* for the refused */
} rcvar[] = {
	{ "SPA_SERVER", R_USE, NULL }, { "SPA_SERVER_PORT", R_USE, NULL },
	{ "SPA_SERVER_PROTO", R_USE, NULL }, { "SPA_SOURCE_PORT", R_USE, NULL },
	{ "ACCESS", R_USE, NULL }, { "ALLOW_IP", R_USE, NULL },
	{ "FW_TIMEOUT", R_USE, NULL }, { "KEY", R_USE, NULL },
	{ "KEY_BASE64", R_USE, NULL }, { "HMAC_KEY", R_USE, NULL },
	{ "HMAC_KEY_BASE64", R_USE, NULL },
	{ "HMAC_DIGEST_TYPE", R_USE, NULL }, { "DIGEST_TYPE", R_USE, NULL },
	{ "USE_HMAC", R_USE, NULL }, { "SPOOF_USER", R_USE, NULL },
	{ "TIME_OFFSET", R_USE, NULL }, { "ENCRYPTION_MODE", R_USE, NULL },
	{ "SERVER_RESOLVE_IPV4", R_USE, NULL },
	{ "VERBOSE", R_IGNORE, NULL }, { "NO_SAVE_ARGS", R_IGNORE, NULL },
	{ "USE_GPG", R_REFUSE_YES, "GPG: gatekeeper sends Rijndael packets "
	    "with an HMAC" },
	{ "USE_GPG_AGENT", R_REFUSE_YES, "GPG" },
	{ "GPG_RECIPIENT", R_IGNORE, NULL }, { "GPG_SIGNER", R_IGNORE, NULL },
	{ "GPG_HOMEDIR", R_IGNORE, NULL }, { "GPG_EXE", R_IGNORE, NULL },
	{ "GPG_SIGNING_PW", R_IGNORE, NULL },
	{ "GPG_SIGNING_PW_BASE64", R_IGNORE, NULL },
	{ "GPG_NO_SIGNING_PW", R_IGNORE, NULL },
	{ "NAT_ACCESS", R_REFUSE, "NAT: gatekeeper opens ports on the host "
	    "itself" },
	{ "NAT_LOCAL", R_REFUSE_YES, "NAT" },
	{ "NAT_RAND_PORT", R_REFUSE_YES, "NAT" },
	{ "NAT_PORT", R_REFUSE, "NAT" },
	{ "SPOOF_SOURCE_IP", R_REFUSE, "spoofing the source needs raw "
	    "sockets, and the server's source checks would refuse it" },
	{ "RAND_PORT", R_REFUSE_YES, "the server listens on its SPA_Port "
	    "only" },
	{ "KEY_FILE", R_REFUSE, "put the key in the stanza (the file must be "
	    "private either way)" },
	{ "HMAC_KEY_FILE", R_REFUSE, "put the key in the stanza" },
	{ "RESOLVE_URL", R_IGNORE, NULL },
	{ "RESOLVE_IP_HTTP", R_REFUSE_YES, "resolving the address over HTTP; "
	    "use ALLOW_IP source or an address" },
	{ "RESOLVE_IP_HTTPS", R_REFUSE_YES, "resolving the address over HTTP" },
	{ "RESOLVE_HTTP_ONLY", R_IGNORE, NULL },
	{ "WGET_CMD", R_IGNORE, NULL }, { "HTTP_USER_AGENT", R_IGNORE, NULL },
	{ "USE_WGET_USER_AGENT", R_IGNORE, NULL },
};

#define NRCVAR (sizeof(rcvar) / sizeof(rcvar[0]))

struct rc {
	const char *file;
	unsigned line;
	struct cfg_errors *err;
	struct profile *p;
	unsigned stanza_line;	/* where the stanza wanted starts */
	int use_hmac_no;
	/* [default] is read first; an error there waits, since the
	 * stanza may set the same variable to what we can honour. */
	struct cfg_errors *real;	/* err, when err is the scratch */
	struct cfg_errors scratch;
	char pending[NRCVAR][CFG_ERR_MAX];	/* a default's error, or "" */
};

static void
rc_err(struct rc *r, const char *var, const char *val, const char *allowed)
{
	char q[64];

	config_add_error(r->err, r->file, r->line, "bad %s '%s' (allowed: %s)",
	    var, profile_quote(val, q, sizeof(q)), allowed);
}

/* ACCESS: "tcp/22,udp/53" into p->open (fwknop's items, as in
 * access.conf). */
static int
parse_access(const char *v, struct profile *p)
{
	char item[32];
	const char *s = v, *e;

	p->nopen = 0;
	while (*s != '\0') {
		e = strchr(s, ',');
		if (e == NULL)
			e = s + strlen(s);
		if ((size_t)(e - s) >= sizeof(item) || p->nopen >= SPA_MAX_PORTS)
			return -1;
		memcpy(item, s, (size_t)(e - s));
		item[e - s] = '\0';
		if (fwaccess_port_item(item, &p->open[p->nopen++]) != 0)
			return -1;
		s = *e == ',' ? e + 1 : e;
	}
	return p->nopen > 0 ? 0 : -1;
}

static void rc_value(struct rc *r, size_t i, const char *val);

static void
rc_set(struct rc *r, const char *var, const char *val)
{
	size_t i;

	for (i = 0; i < NRCVAR; i++)
		if (strcasecmp(var, rcvar[i].name) == 0)
			break;
	if (i == NRCVAR) {
		config_add_error(r->real != NULL ? r->real : r->err, r->file,
		    r->line, "unknown variable '%s' (fwknop 2.6.10 has no such "
		    "variable either)", var);
		return;
	}
	if (rcvar[i].kind == R_IGNORE)
		return;
	r->pending[i][0] = '\0';	/* set again: the last word counts */
	if (r->real != NULL) {		/* [default]: errors wait */
		r->err->n = 0;
		rc_value(r, i, val);
		if (r->err->n > 0)
			snprintf(r->pending[i], sizeof(r->pending[i]), "%s",
			    r->err->msg[0]);
		return;
	}
	rc_value(r, i, val);
}

/* Variable i (known, not ignored) set to val. */
static void
rc_value(struct rc *r, size_t i, const char *val)
{
	struct profile *p = r->p;
	const char *var;
	long n;
	int yes = 0;

	if (rcvar[i].kind == R_REFUSE_YES) {
		if (profile_parse_bool(val, &yes) != 0)
			yes = toupper((unsigned char)val[0]) == 'Y';
		if (!yes)
			return;
	}
	if (rcvar[i].kind == R_REFUSE || rcvar[i].kind == R_REFUSE_YES) {
		config_add_error(r->err, r->file, r->line, "%s is refused: %s",
		    rcvar[i].name, rcvar[i].why);
		return;
	}
	var = rcvar[i].name;
	if (strcmp(var, "SPA_SERVER") == 0) {
		if (strlen(val) >= sizeof(p->host))
			rc_err(r, var, val, "a host name or an address");
		else
			snprintf(p->host, sizeof(p->host), "%s", val);
	} else if (strcmp(var, "SPA_SERVER_PORT") == 0 ||
	    strcmp(var, "SPA_SOURCE_PORT") == 0) {
		if (profile_parse_num(val, 1, 65535, &n) != 0)
			rc_err(r, var, val, "1-65535");
		else if (var[4] == 'S' && var[5] == 'E')
			p->spa_port = (uint16_t)n;
		else
			p->source_port = (uint16_t)n;
	} else if (strcmp(var, "SPA_SERVER_PROTO") == 0) {
		if (strcasecmp(val, "udp") != 0)
			rc_err(r, var, val, "udp: gatekeeper takes SPA packets "
			    "over UDP");
	} else if (strcmp(var, "ACCESS") == 0) {
		if (parse_access(val, p) != 0)
			rc_err(r, var, val, "tcp/PORT or udp/PORT, comma "
			    "separated, at most 32");
	} else if (strcmp(var, "ALLOW_IP") == 0) {
		if (strcasecmp(val, "source") == 0)
			p->allow_source = 1;
		else if (strcasecmp(val, "resolve") == 0)
			config_add_error(r->err, r->file, r->line, "ALLOW_IP "
			    "resolve is refused: it asks a web site for the "
			    "address (allowed: source, or an address)");
		else if (addr_parse(val, &p->allow) == 0)
			p->allow_source = 0;
		else
			rc_err(r, var, val, "source, or an address");
	} else if (strcmp(var, "FW_TIMEOUT") == 0) {
		if (profile_parse_num(val, 0, SPA_MAX_CLIENT_TIMEOUT, &n) != 0)
			rc_err(r, var, val, "0-65536 seconds");
		else
			p->timeout = (unsigned)n;
	} else if (strcmp(var, "KEY") == 0 || strcmp(var, "KEY_BASE64") == 0) {
		long k = profile_parse_key(val, var[3] == '_', p->keys.key,
		    SPA_KEY_MAX);

		if (k < 0)
			rc_err(r, var, "...", "1-32 bytes");
		else
			p->keys.key_len = (size_t)k;
	} else if (strcmp(var, "HMAC_KEY") == 0 ||
	    strcmp(var, "HMAC_KEY_BASE64") == 0) {
		long k = profile_parse_key(val, var[8] == '_', p->keys.hmac,
		    SPA_HMAC_KEY_MAX);

		if (k < 0)
			rc_err(r, var, "...", "1-128 bytes");
		else
			p->keys.hmac_len = (size_t)k;
	} else if (strcmp(var, "HMAC_DIGEST_TYPE") == 0 ||
	    strcmp(var, "DIGEST_TYPE") == 0) {
		enum spa_hash h = spa_hash_from_name(val, strlen(val));

		if (h == SPA_HASH_NONE)
			rc_err(r, var, val, "md5, sha1, sha256, sha384, sha512,"
			    " sha3_256 or sha3_512");
		else if (var[0] == 'H')
			p->keys.hmac_type = h;
		else
			p->digest = h;
	} else if (strcmp(var, "USE_HMAC") == 0) {
		if (profile_parse_bool(val, &yes) != 0)
			yes = toupper((unsigned char)val[0]) == 'Y';
		r->use_hmac_no = !yes;
	} else if (strcmp(var, "SPOOF_USER") == 0) {
		if (!profile_user_ok(val))
			rc_err(r, var, val, "at most 48 printable characters, "
			    "none of \"/\\[]:;|=,+*?<>");
		else
			snprintf(p->user, sizeof(p->user), "%.*s", SPA_USER_MAX, val);
	} else if (strcmp(var, "TIME_OFFSET") == 0) {
		if (profile_parse_offset(val, &p->time_offset) != 0)
			rc_err(r, var, val, "[-]N[s|m|h|d]");
	} else if (strcmp(var, "ENCRYPTION_MODE") == 0) {
		if (strcasecmp(val, "cbc") != 0)
			rc_err(r, var, val, "cbc (legacy IV mode is refused)");
	} else if (strcmp(var, "SERVER_RESOLVE_IPV4") == 0) {
		if (profile_parse_bool(val, &yes) != 0)
			yes = toupper((unsigned char)val[0]) == 'Y';
		if (yes)
			p->family = 4;
	}
}

/* The section name of a "[name]" line into name, or 0. */
static int
rc_section(const char *s, char *name, size_t len)
{
	const char *e;

	while (isspace((unsigned char)*s))
		s++;
	if (*s != '[' || (e = strchr(s, ']')) == NULL ||
	    (size_t)(e - s - 1) >= len)
		return 0;
	memcpy(name, s + 1, (size_t)(e - s - 1));
	name[e - s - 1] = '\0';
	return 1;
}

/* One pass over buf, applying the lines of stanza want. */
static int
rc_pass(struct rc *r, const char *buf, size_t len, const char *want)
{
	const char *p = buf, *end = buf + len, *nl;
	char line[1024], sect[128], var[128], val[512];
	int in = 0, found = 0;
	size_t n;

	r->line = 0;
	for (; p < end; p = nl != NULL ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		r->line++;
		if (n >= sizeof(line)) {
			if (in)
				config_add_error(r->real != NULL ? r->real : r->err, r->file, r->line,
				    "line too long (allowed: %zu bytes)",
				    sizeof(line) - 1);
			continue;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (line[i] == '\0')
				line[i] = ' ';
		if (line[0] == '#' || line[0] == ';' || line[0] == '\r' ||
		    line[0] == '\0')
			continue;
		if (rc_section(line, sect, sizeof(sect))) {
			in = strcasecmp(sect, want) == 0;
			if (in && !found)
				r->stanza_line = r->line;
			found |= in;
			continue;
		}
		if (!in)
			continue;
		/* "VAR value", the value up to a blank, ';' or '#'. */
		{
			const char *s = line, *v;
			size_t vn, an;

			while (isspace((unsigned char)*s))
				s++;
			if (*s == '\0' || *s == '#')
				continue;
			for (vn = 0; s[vn] && !isspace((unsigned char)s[vn]);
			    vn++)
				;
			v = s + vn;
			while (*v == ' ' || *v == '\t')
				v++;
			an = strcspn(v, " ;\t\r\n#");
			if (an == 0 || vn >= sizeof(var) || an >= sizeof(val)) {
				char q[64];

				memcpy(var, s, vn < sizeof(var) ? vn : 0);
				var[vn < sizeof(var) ? vn : 0] = '\0';
				config_add_error(r->real != NULL ? r->real : r->err, r->file, r->line,
				    "'%s' is not 'VARIABLE value' (as fwknop "
				    "reads it)", profile_quote(line, q,
				    sizeof(q)));
				continue;
			}
			memcpy(var, s, vn);
			var[vn] = '\0';
			if (vn > 0 && var[vn - 1] == ':')
				var[vn - 1] = '\0';
			memcpy(val, v, an);
			val[an] = '\0';
			rc_set(r, var, val);
		}
	}
	return found;
}

unsigned
fwknoprc_parse(const char *buf, size_t len, const char *file,
    const char *name, struct profile *out, int *found,
    struct cfg_errors *err)
{
	struct rc r = { .file = file, .err = err, .p = out };
	unsigned first = err->n;

	profile_defaults(out);
	snprintf(out->name, sizeof(out->name), "%s", name);
	*found = 0;
	if (strcasecmp(name, "default") == 0)
		return 0;
	r.real = err;
	r.err = &r.scratch;
	rc_pass(&r, buf, len, "default");
	r.err = err;
	r.real = NULL;
	*found = rc_pass(&r, buf, len, name);
	if (!*found)
		return err->n - first;
	/* What [default] got wrong and the stanza did not set again. */
	for (size_t i = 0; i < NRCVAR; i++)
		if (r.pending[i][0] != '\0' && err->n++ < CFG_MAX_ERRORS)
			snprintf(err->msg[err->n - 1], CFG_ERR_MAX, "%s",
			    r.pending[i]);
	out->line = r.stanza_line;
	if (out->host[0] == '\0')
		config_add_error(err, file, out->line, "stanza [%s] has no SPA_SERVER",
		    name);
	if (out->keys.key_len == 0)
		config_add_error(err, file, out->line, "stanza [%s] has no KEY_BASE64 "
		    "or KEY", name);
	if (out->keys.hmac_len == 0)
		config_add_error(err, file, out->line, "stanza [%s] has no "
		    "HMAC_KEY_BASE64 or HMAC_KEY (gatekeeper sends SPA packets "
		    "with an HMAC only)%s", name, r.use_hmac_no ?
		    "; USE_HMAC N is refused" : "");
	if (out->nopen == 0)
		config_add_error(err, file, out->line, "stanza [%s] has no ACCESS "
		    "(allowed: ACCESS tcp/22)", name);
	if (out->keys.key_len > 0 && out->nopen > 0) {
		char why[CFG_ERR_MAX];

		if (profile_check_spa(out, why, sizeof(why)) != 0)
			config_add_error(err, file, out->line, "stanza [%s]: %s",
			    name, why);
	}
	out->spa = 1;
	return err->n - first;
}
