/* addr: IPv4/IPv6 address literals and CIDR prefixes (pure). */
#ifndef GK_ADDR_H
#define GK_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* Longest text form of an address, with NUL ("ffff:...:255.255.255.255"). */
#define ADDR_STRLEN 46

struct addr {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t b[16];		/* network order; IPv4 uses the first 4 bytes */
};

struct cidr {
	struct addr net;	/* host bits cleared */
	uint8_t prefix;		/* 0..32 or 0..128 */
};

/* Parse a numeric literal; never resolves names. 0 on success, -1 otherwise. */
int addr_parse(const char *s, struct addr *out);
/* Text form into buf (at least ADDR_STRLEN bytes). Returns buf. */
const char *addr_format(const struct addr *a, char *buf, size_t len);
/* Inline: every table lookup compares addresses, and the constant
 * lengths let the compiler compare in registers instead of calling
 * memcmp. */
static inline int
addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return 0;
	return a->family == AF_INET ? memcmp(a->b, b->b, 4) == 0 :
	    memcmp(a->b, b->b, 16) == 0;
}
/* Could a be a single host's address, without an interface (not
 * unspecified, loopback, multicast, broadcast, reserved, IPv4-mapped or
 * IPv6 link-local)?  1 or 0. */
int addr_is_unicast(const struct addr *a);
/* Number of meaningful bytes: 4 or 16. */
size_t addr_len(const struct addr *a);

/* "ADDR" or "ADDR/PREFIX"; host bits must be zero. 0 or -1. */
int cidr_parse(const char *s, struct cidr *out);
int cidr_match(const struct cidr *c, const struct addr *a);
/* An IPv4-mapped prefix (::ffff:a.b.c.d/n, n >= 96) becomes the IPv4
 * prefix it stands for (a.b.c.d/n-96): 1 if it was one, else 0. */
int cidr_unmap_v4(struct cidr *c);

#endif
