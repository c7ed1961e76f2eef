/*
 * pkt: bounds-checked parser of the IP packets NFQUEUE hands over (pure).
 *
 * Every byte of the packet is untrusted.  All reads go through a small
 * cursor (struct cur) that refuses to move past its end: a read that would
 * overrun yields zero and marks the cursor bad, so a group of fixed-size
 * reads can be checked once.  Lengths taken from the packet are always
 * compared against what the cursor holds before they are used to move it.
 */
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "pkt.h"

#define IP4_HLEN	20	/* fixed IPv4 header, without options */
#define IP4_OFFMASK	0x1fff	/* fragment offset bits of the frag field */
#define IP6_HLEN	40	/* fixed IPv6 header */
#define IP6_OFFMASK	0xfff8	/* fragment offset bits of the frag header */
#define FRAG6_HLEN	8	/* IPv6 fragment header, fixed size */
#define TCP_HLEN	20	/* TCP header without options */
#define UDP_HLEN	8

/* IPv6 next-header values walked as extension headers. */
#define NH_HOPOPTS	0
#define NH_ROUTING	43
#define NH_FRAGMENT	44
#define NH_AH		51
#define NH_DSTOPTS	60

struct cur {
	const uint8_t *p;
	size_t len;		/* bytes left at p */
	int bad;		/* a read or skip went past the end */
};

static int
cur_need(struct cur *c, size_t n)
{
	if (c->bad || c->len < n) {
		c->bad = 1;
		return 0;
	}
	return 1;
}

static uint8_t
get_u8(struct cur *c)
{
	uint8_t v;

	if (!cur_need(c, 1))
		return 0;
	v = c->p[0];
	c->p++;
	c->len--;
	return v;
}

static uint16_t
get_u16(struct cur *c)
{
	uint16_t v;

	if (!cur_need(c, 2))
		return 0;
	v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->len -= 2;
	return v;
}

static uint32_t
get_u32(struct cur *c)
{
	uint32_t v;

	if (!cur_need(c, 4))
		return 0;
	v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	c->p += 4;
	c->len -= 4;
	return v;
}

static void
get_bytes(struct cur *c, uint8_t *dst, size_t n)
{
	if (!cur_need(c, n)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->p, n);
	c->p += n;
	c->len -= n;
}

static void
skip(struct cur *c, size_t n)
{
	if (!cur_need(c, n))
		return;
	c->p += n;
	c->len -= n;
}

/* Forget bytes past the first n: the IP length field ends the datagram. */
static void
limit(struct cur *c, size_t n)
{
	if (!cur_need(c, n))
		return;
	c->len = n;
}

/* NFQUEUE copies at most its copy range: a longer packet arrives cut, and
 * wire is its real length (NFQA_CAP_LEN).  The IP and UDP length fields
 * then describe more than the buffer holds; that is no error as long as
 * they fit the real length, and the packet is judged on its headers. */
static enum pkt_status
parse_ip4(struct cur *c, struct pkt *out, uint8_t *proto, size_t wire)
{
	struct cur h = *c;
	uint8_t vihl;
	uint16_t total, frag;
	size_t hlen;

	if (c->len < IP4_HLEN)
		return PKT_ESHORT;
	vihl = get_u8(&h);
	skip(&h, 1);		/* TOS */
	total = get_u16(&h);
	skip(&h, 2);		/* id */
	frag = get_u16(&h);
	skip(&h, 1);		/* TTL */
	*proto = get_u8(&h);
	skip(&h, 2);		/* checksum: the kernel has verified it */
	out->src.family = AF_INET;
	get_bytes(&h, out->src.b, 4);
	out->dst.family = AF_INET;
	get_bytes(&h, out->dst.b, 4);
	if (h.bad)
		return PKT_ESHORT;

	hlen = (size_t)(vihl & 0x0f) * 4;
	if (hlen < IP4_HLEN || hlen > c->len)
		return PKT_EIHL;
	/* Zero: an aggregate larger than 64 KiB (BIG TCP), only when cut. */
	if (total == 0 && wire > c->len && wire > 0xffff)
		total = 0xffff;
	if (total < hlen || (total > c->len && (wire <= c->len ||
	    total > wire)))
		return PKT_ELENGTH;
	/* Only the first fragment holds the transport header. */
	if (frag & IP4_OFFMASK)
		return PKT_EFRAGMENT;

	/* Trailing bytes (Ethernet padding) are not ours; options skipped. */
	if (total <= c->len)
		limit(c, total);
	else
		out->truncated = 1;
	skip(c, hlen);
	return c->bad ? PKT_ELENGTH : PKT_OK;
}

/*
 * Walk the IPv6 extension headers up to the transport header.  On return
 * *nh is the first next-header value that is not an extension header we
 * know how to skip, and c is positioned at it.
 */
static enum pkt_status
walk_ext6(struct cur *c, uint8_t *nh)
{
	unsigned int n;

	for (n = 0;; n++) {
		struct cur h = *c;
		uint8_t next, hdrlen;
		uint16_t offlg;
		size_t size;

		switch (*nh) {
		case NH_HOPOPTS:
		case NH_ROUTING:
		case NH_DSTOPTS:
		case NH_FRAGMENT:
		case NH_AH:
			break;
		default:
			return PKT_OK;	/* the caller judges the protocol */
		}
		/* A chain this long is not a knock; stop the work here. */
		if (n >= PKT_MAX_EXTHDRS)
			return PKT_EEXTHDR;

		next = get_u8(&h);
		hdrlen = get_u8(&h);
		if (*nh == NH_FRAGMENT) {
			offlg = get_u16(&h);
			if (h.bad || c->len < FRAG6_HLEN)
				return PKT_EEXTHDR;
			if (offlg & IP6_OFFMASK)
				return PKT_EFRAGMENT;
			size = FRAG6_HLEN;
		} else if (*nh == NH_AH) {
			/* RFC 4302: length in 4-octet units, minus 2. */
			size = ((size_t)hdrlen + 2) * 4;
		} else {
			/* RFC 8200: length in 8-octet units, minus the first. */
			size = ((size_t)hdrlen + 1) * 8;
		}
		if (h.bad || size > c->len)
			return PKT_EEXTHDR;
		skip(c, size);
		*nh = next;
	}
}

static enum pkt_status
parse_ip6(struct cur *c, struct pkt *out, uint8_t *proto, size_t wire)
{
	struct cur h = *c;
	uint16_t plen;

	if (c->len < IP6_HLEN)
		return PKT_ESHORT;
	skip(&h, 4);		/* version, traffic class, flow label */
	plen = get_u16(&h);
	*proto = get_u8(&h);
	skip(&h, 1);		/* hop limit */
	out->src.family = AF_INET6;
	get_bytes(&h, out->src.b, 16);
	out->dst.family = AF_INET6;
	get_bytes(&h, out->dst.b, 16);
	if (h.bad)
		return PKT_ESHORT;

	/* Zero: a jumbogram or BIG TCP aggregate, real only when cut and
	 * longer than any IPv6 length field can say. */
	if (plen == 0 && !(wire > c->len && wire > IP6_HLEN + 0xffff))
		return PKT_ELENGTH;
	if ((size_t)plen > c->len - IP6_HLEN &&
	    (wire <= c->len || IP6_HLEN + (size_t)plen > wire))
		return PKT_ELENGTH;
	if (plen != 0 && IP6_HLEN + (size_t)plen <= c->len)
		limit(c, IP6_HLEN + (size_t)plen);
	else
		out->truncated = 1;
	skip(c, IP6_HLEN);
	if (c->bad)
		return PKT_ELENGTH;
	return walk_ext6(c, proto);
}

static enum pkt_status
parse_tcp(struct cur *c, struct pkt *out)
{
	struct cur h = *c;
	size_t off;

	if (c->len < TCP_HLEN)
		return PKT_EL4SHORT;
	out->sport = get_u16(&h);
	out->dport = get_u16(&h);
	out->tcpseq = get_u32(&h);
	skip(&h, 4);		/* ack */
	off = (size_t)(get_u8(&h) >> 4) * 4;
	out->tcpflags = get_u8(&h);	/* raw: ECE/CWR kept, callers mask */
	if (h.bad)
		return PKT_EL4SHORT;

	if (off < TCP_HLEN || off > c->len)
		return PKT_ETCPOFF;
	skip(c, off);		/* header and options */
	if (c->bad)
		return PKT_ETCPOFF;
	out->payload = c->p;
	out->payload_len = c->len;
	return PKT_OK;
}

static enum pkt_status
parse_udp(struct cur *c, struct pkt *out, size_t wire)
{
	uint16_t ulen;

	if (c->len < UDP_HLEN)
		return PKT_EL4SHORT;
	out->sport = get_u16(c);
	out->dport = get_u16(c);
	ulen = get_u16(c);
	skip(c, 2);		/* checksum */
	if (c->bad)
		return PKT_EL4SHORT;

	/* c->len is what is left after the 8-byte header. */
	if (ulen < UDP_HLEN || ((size_t)ulen - UDP_HLEN > c->len &&
	    (!out->truncated || (size_t)ulen > wire)))
		return PKT_EUDPLEN;
	out->tcpflags = 0;
	out->tcpseq = 0;
	out->payload = c->p;
	out->payload_len = (size_t)ulen - UDP_HLEN;
	if (out->payload_len > c->len)
		out->payload_len = c->len;	/* cut: what was copied */
	return PKT_OK;
}

enum pkt_status
pkt_parse(const uint8_t *buf, size_t len, size_t wire_len, struct pkt *out)
{
	struct cur c = { buf, len, 0 };
	enum pkt_status st;
	uint8_t proto = 0;

	/* Start clean: on error nothing may point outside buf. */
	memset(out, 0, sizeof(*out));
	out->payload = buf;
	if (buf == NULL || len < 1)
		return PKT_ESHORT;
	if (wire_len < len)
		wire_len = len;

	switch (buf[0] >> 4) {
	case 4:
		st = parse_ip4(&c, out, &proto, wire_len);
		break;
	case 6:
		st = parse_ip6(&c, out, &proto, wire_len);
		break;
	default:
		return PKT_EVERSION;
	}
	if (st != PKT_OK)
		return st;

	out->proto = proto;
	switch (proto) {
	case IPPROTO_TCP:
		return parse_tcp(&c, out);
	case IPPROTO_UDP:
		return parse_udp(&c, out, wire_len);
	default:
		return PKT_EPROTO;
	}
}

static const char *const status_names[] = {
	[PKT_OK] = "ok",
	[PKT_ESHORT] = "short",
	[PKT_EVERSION] = "version",
	[PKT_EIHL] = "ihl",
	[PKT_ELENGTH] = "length",
	[PKT_EFRAGMENT] = "fragment",
	[PKT_EEXTHDR] = "ext-header",
	[PKT_EPROTO] = "proto",
	[PKT_EL4SHORT] = "l4-short",
	[PKT_ETCPOFF] = "tcp-offset",
	[PKT_EUDPLEN] = "udp-length",
};

_Static_assert(sizeof(status_names) / sizeof(status_names[0]) == PKT_NSTATUS,
    "every pkt_status needs a name");

const char *
pkt_status_name(enum pkt_status s)
{
	if ((unsigned int)s >= PKT_NSTATUS)
		return "unknown";
	return status_names[s];
}

const char *
pkt_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	default:
		return "other";
	}
}

int
pkt_source(const uint8_t *buf, size_t len, struct addr *src)
{
	memset(src, 0, sizeof(*src));
	if (len >= 20 && buf[0] >> 4 == 4) {
		src->family = AF_INET;
		memcpy(src->b, buf + 12, 4);
	} else if (len >= 40 && buf[0] >> 4 == 6) {
		src->family = AF_INET6;
		memcpy(src->b, buf + 8, 16);
	} else
		return -1;
	return 0;
}
