/* addr: IPv4/IPv6 address literals and CIDR prefixes (pure). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

int
addr_parse(const char *s, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->b) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->b) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

const char *
addr_format(const struct addr *a, char *buf, size_t len)
{
	char v4[16], *p = v4;
	unsigned i, o;

	if (len == 0)
		return buf;
	if (a->family == AF_INET) {	/* inet_ntop's goes through sprintf */
		for (i = 0; i < 4; i++) {
			o = a->b[i];
			if (o >= 100)
				*p++ = (char)('0' + o / 100);
			if (o >= 10)
				*p++ = (char)('0' + o / 10 % 10);
			*p++ = (char)('0' + o % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		if ((size_t)(p - v4) > len)
			strncpy(buf, "?", len);
		else
			memcpy(buf, v4, (size_t)(p - v4));
		buf[len - 1] = '\0';
		return buf;
	}
	if (a->family != AF_INET6 ||
	    inet_ntop(a->family, a->b, buf, (socklen_t)len) == NULL)
		strncpy(buf, "?", len);
	buf[len - 1] = '\0';
	return buf;
}

size_t
addr_len(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

/* Are the bits of a beyond prefix all zero? */
static int
host_bits_clear(const struct addr *a, unsigned prefix)
{
	unsigned i, bits = (unsigned)addr_len(a) * 8;

	for (i = prefix; i < bits; i++)
		if (a->b[i / 8] & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

int
cidr_parse(const char *s, struct cidr *out)
{
	char host[ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix;
	char *end;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (addr_parse(host, &out->net) != 0)
		return -1;
	prefix = addr_len(&out->net) * 8;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > addr_len(&out->net) * 8 ||
		    end - (slash + 1) > 3)
			return -1;
	}
	if (!host_bits_clear(&out->net, (unsigned)prefix))
		return -1;
	out->prefix = (uint8_t)prefix;
	return 0;
}

int
cidr_match(const struct cidr *c, const struct addr *a)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (c->net.family != a->family)
		return 0;
	if (memcmp(c->net.b, a->b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((c->net.b[full] ^ a->b[full]) & (0xff00 >> rest) & 0xff) == 0;
}

int
cidr_unmap_v4(struct cidr *c)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	struct cidr v4;

	if (c->net.family != AF_INET6 || c->prefix < 96 ||
	    memcmp(c->net.b, mapped, sizeof(mapped)) != 0)
		return 0;
	memset(&v4, 0, sizeof(v4));
	v4.net.family = AF_INET;
	memcpy(v4.net.b, c->net.b + 12, 4);
	v4.prefix = (uint8_t)(c->prefix - 96);
	*c = v4;
	return 1;
}

int
addr_is_unicast(const struct addr *a)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *b = a->b;

	if (a->family == AF_INET)
		return b[0] != 0 && b[0] != 127 && b[0] < 224;
	if (a->family != AF_INET6)
		return 0;
	/* Multicast, IPv4-mapped, and link-local (which names a host only
	 * with an interface, and a grant has none). */
	if (b[0] == 0xff || memcmp(b, mapped, 12) == 0 ||
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
		return 0;
	/* :: and ::1 */
	return !(memcmp(b, zero, 15) == 0 && b[15] <= 1);
}
