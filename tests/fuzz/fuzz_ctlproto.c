/*
 * Fuzz target for the control protocol (ctlproto): a request line is
 * untrusted bytes from the control socket.
 *
 * The input is one request line, passed as is (exactly `size` bytes, not
 * NUL-terminated).  Checked for every input:
 *  - ctlproto_parse() returns 0 or -1, and the same on a second call;
 *  - refused: a one-line, printable, NUL-terminated reason, also cut
 *    cleanly into a tiny err buffer (and err untouched when errlen is 0);
 *  - accepted: the line (without "\n" or "\r\n") is at most CTL_REQ_MAX - 1
 *    printable bytes; cmd is known; json 0 or 1; GRANT and REVOKE carry an
 *    IPv4 or IPv6 address (IPv4-mapped ones unmapped), GRANT a valid door
 *    name, REVOKE none or a valid one, seconds 0 or 1..CTL_GRANT_MAX_SECONDS
 *    (GRANT only); other commands carry nothing;
 *  - round trip: the canonical text of an accepted request parses to the
 *    same request;
 *  - ctlproto_door_name_ok() agrees with the config's door-name rule;
 *  - ctlproto_out_json_str() of the input (up to its first NUL) is a valid
 *    JSON string literal in valid UTF-8 that decodes back to the input
 *    when the input is valid UTF-8; never overruns a small buffer;
 *  - ctlproto_error() with the input as reason is exactly one printable
 *    line, "error <reason>\n", the reason cut at CTL_ERR_MAX - 1.
 */
#include <string.h>

#include <sys/socket.h>

#include "ctlproto.h"
#include "fuzz.h"

#define MAXIN	(64 * 1024)
#define GUARD	16

static char text[MAXIN + 1];		/* the input, NUL-terminated */
static char big[8 * MAXIN + 2 * CTL_OUT_RESERVE];
static char small[2 * CTL_OUT_RESERVE + GUARD];
static char decoded[MAXIN + 1];
static char expect[3 * MAXIN + 1];

static int
printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* Length of the well-formed UTF-8 sequence at s (Unicode 15, table 3-7),
 * or 0.  s is NUL-terminated, and NUL is never a continuation byte. */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long
hex4(const char *s)
{
	long v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if ((h = hexval(s[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static size_t
put_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode the JSON string literal s (RFC 8259, strictly: raw text valid
 * UTF-8, no raw control characters, no lone surrogates) into decoded.
 * Returns the decoded length, or -1 if s is not one valid literal. */
static long
json_decode(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 1, k, o = 0;
	long cp, lo;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return -1;
	while (i < n - 1) {
		if (u[i] < 0x20 || u[i] == '"')
			return -1;
		if (u[i] >= 0x80) {
			if ((k = utf8_seq(u + i)) == 0 || i + k > n - 1)
				return -1;
			memcpy(decoded + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		if (u[i] != '\\') {
			decoded[o++] = s[i++];
			continue;
		}
		if (i + 1 >= n - 1)
			return -1;
		switch (s[i + 1]) {
		case '"': decoded[o++] = '"'; break;
		case '\\': decoded[o++] = '\\'; break;
		case '/': decoded[o++] = '/'; break;
		case 'b': decoded[o++] = '\b'; break;
		case 'f': decoded[o++] = '\f'; break;
		case 'n': decoded[o++] = '\n'; break;
		case 'r': decoded[o++] = '\r'; break;
		case 't': decoded[o++] = '\t'; break;
		case 'u':
			if (i + 6 > n - 1 || (cp = hex4(s + i + 2)) < 0)
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (i + 12 > n - 1 || s[i + 6] != '\\' ||
				    s[i + 7] != 'u' ||
				    (lo = hex4(s + i + 8)) < 0xdc00 ||
				    lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 6;
			}
			/* A NUL would end the C string it came from. */
			if (cp == 0)
				return -1;
			o += put_utf8(decoded + o, (unsigned long)cp);
			i += 4;
			break;
		default:
			return -1;
		}
		i += 2;
	}
	decoded[o] = '\0';
	return (long)o;
}

static void
check_door_name_ok(size_t len)
{
	size_t i;
	int want = len > 0 && len < CFG_NAME_MAX;

	for (i = 0; want && i < len; i++)
		want = (text[i] >= 'a' && text[i] <= 'z') ||
		    (text[i] >= 'A' && text[i] <= 'Z') ||
		    (text[i] >= '0' && text[i] <= '9') || text[i] == '_' ||
		    text[i] == '.' || text[i] == '-';
	FUZZ_CHECK(ctlproto_door_name_ok(text) == want);
}

static void
check_json_str(size_t len)
{
	struct ctl_out o;
	const unsigned char *u = (const unsigned char *)text;
	size_t i, k, e = 0;
	long n;
	int valid = 1;

	/* Room for everything: complete, valid, and faithful. */
	ctlproto_out_init(&o, big, sizeof(big));
	ctlproto_out_json_str(&o, text);
	FUZZ_CHECK(!o.full && o.len < o.size && big[o.len] == '\0');
	FUZZ_CHECK(strlen(big) == o.len);
	n = json_decode(big, o.len);
	FUZZ_CHECK(n >= 0);
	for (i = 0; i < len; i += k) {
		if ((k = utf8_seq(u + i)) == 0) {
			valid = 0;
			memcpy(expect + e, "\xef\xbf\xbd", 3);	/* U+FFFD */
			e += 3;
			k = 1;
		} else {
			memcpy(expect + e, text + i, k);
			e += k;
		}
	}
	if (valid)
		FUZZ_CHECK((size_t)n == len && memcmp(decoded, text, len) == 0);
	else	/* One U+FFFD per byte that starts no valid sequence. */
		FUZZ_CHECK((size_t)n == e && memcmp(decoded, expect, e) == 0);

	/* Too little room (the least allowed): cut, never overrun, still
	 * terminated. */
	memset(small, 'x', sizeof(small));
	ctlproto_out_init(&o, small, sizeof(small) - GUARD);
	ctlproto_out_json_str(&o, text);
	FUZZ_CHECK(o.len < o.size && small[o.len] == '\0');
	FUZZ_CHECK(o.len <= o.limit);
	for (i = sizeof(small) - GUARD; i < sizeof(small); i++)
		FUZZ_CHECK(small[i] == 'x');
	if (!o.full)
		FUZZ_CHECK(o.len == strlen(big) &&
		    memcmp(small, big, o.len) == 0);
}

static void
check_error_reply(size_t len)
{
	struct ctl_out o;
	size_t want = len < CTL_ERR_MAX - 1 ? len : CTL_ERR_MAX - 1;

	ctlproto_out_init(&o, big, 4 * CTL_OUT_RESERVE);
	ctlproto_error(&o, "%s", text);
	FUZZ_CHECK(!o.full);
	FUZZ_CHECK(o.len == 6 + want + 1);
	FUZZ_CHECK(memcmp(big, "error ", 6) == 0);
	FUZZ_CHECK(big[o.len - 1] == '\n' && big[o.len] == '\0');
	FUZZ_CHECK(printable(big, o.len - 1));
}

static void
check_accepted(const char *line, size_t size, const struct ctl_req *r)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	size_t n = size;
	size_t i;

	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	FUZZ_CHECK(n <= CTL_REQ_MAX - 1);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((line[i] >= 0x20 && line[i] <= 0x7e) ||
		    line[i] == '\t');

	FUZZ_CHECK((unsigned)r->cmd < CTL_NCMDS);
	FUZZ_CHECK(strcmp(ctlproto_cmd_name(r->cmd), "?") != 0);
	FUZZ_CHECK(r->json == 0 || r->json == 1);
	FUZZ_CHECK(memchr(r->door, '\0', sizeof(r->door)) != NULL);
	switch (r->cmd) {
	case CTL_CMD_GRANT:
	case CTL_CMD_REVOKE:
		FUZZ_CHECK(r->addr.family == AF_INET ||
		    r->addr.family == AF_INET6);
		FUZZ_CHECK(r->addr.family == AF_INET ||
		    memcmp(r->addr.b, mapped, sizeof(mapped)) != 0);
		if (r->cmd == CTL_CMD_GRANT)
			FUZZ_CHECK(ctlproto_door_name_ok(r->door));
		else
			FUZZ_CHECK(r->door[0] == '\0' ||
			    ctlproto_door_name_ok(r->door));
		FUZZ_CHECK(r->seconds <= CTL_GRANT_MAX_SECONDS);
		FUZZ_CHECK(r->cmd == CTL_CMD_GRANT || r->seconds == 0);
		break;
	default:
		FUZZ_CHECK(r->addr.family == 0 && r->door[0] == '\0' &&
		    r->seconds == 0);
	}
}

/* The canonical text of r parses back to r. */
static void
check_round_trip(const struct ctl_req *r)
{
	char line[CTL_REQ_MAX + 64], a[ADDR_STRLEN], err[CTL_ERR_MAX];
	struct ctl_req q;
	int k;

	if (r->cmd == CTL_CMD_GRANT || r->cmd == CTL_CMD_REVOKE)
		k = snprintf(line, sizeof(line), "%s%s %s%s%s", r->json ?
		    "json " : "", ctlproto_cmd_name(r->cmd),
		    addr_format(&r->addr, a, sizeof(a)), r->door[0] ? " " : "",
		    r->door);
	else
		k = snprintf(line, sizeof(line), "%s%s", r->json ? "json " :
		    "", ctlproto_cmd_name(r->cmd));
	FUZZ_CHECK(k > 0 && (size_t)k < sizeof(line) - 12);
	if (r->seconds)
		k += snprintf(line + k, sizeof(line) - (size_t)k, " %u",
		    r->seconds);
	line[k++] = '\n';
	FUZZ_CHECK(ctlproto_parse(line, (size_t)k, &q, err, sizeof(err)) ==
	    0);
	FUZZ_CHECK(q.cmd == r->cmd && q.json == r->json);
	FUZZ_CHECK(q.addr.family == r->addr.family);
	FUZZ_CHECK(memcmp(q.addr.b, r->addr.b, sizeof(q.addr.b)) == 0);
	FUZZ_CHECK(strcmp(q.door, r->door) == 0);
	FUZZ_CHECK(q.seconds == r->seconds);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct ctl_req r, r2;
	char err[CTL_ERR_MAX], tiny[8 + GUARD];
	size_t tlen, i, len;
	int rc;

	if (size > MAXIN)
		return 0;

	memset(err, 'x', sizeof(err));
	rc = ctlproto_parse(line, size, &r, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		check_accepted(line, size, &r);
		check_round_trip(&r);
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_CHECK(err[0] != '\0' && printable(err, strlen(err)));
	}

	/* Again, with a tiny err buffer, then none. */
	tlen = 1 + size % 8;
	memset(tiny, 'x', sizeof(tiny));
	FUZZ_CHECK(ctlproto_parse(line, size, &r2, tiny, tlen) == rc);
	FUZZ_CHECK(rc != 0 || memcmp(&r, &r2, sizeof(r)) == 0);
	if (rc != 0)
		FUZZ_CHECK(memchr(tiny, '\0', tlen) != NULL);
	for (i = tlen; i < sizeof(tiny); i++)
		FUZZ_CHECK(tiny[i] == 'x');
	memset(tiny, 'x', sizeof(tiny));
	FUZZ_CHECK(ctlproto_parse(line, size, &r2, tiny, 0) == rc);
	for (i = 0; i < sizeof(tiny); i++)
		FUZZ_CHECK(tiny[i] == 'x');

	/* The bytes as a C string, for the string functions. */
	memcpy(text, data, size);
	text[size] = '\0';
	len = strlen(text);
	check_door_name_ok(len);
	check_json_str(len);
	check_error_reply(len);
	return 0;
}
