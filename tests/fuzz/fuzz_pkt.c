/*
 * Fuzz target for pkt_parse(): every byte of a queued packet is untrusted.
 *
 * Besides "never crashes, never reads past the buffer" (ASan, and the
 * buffer libFuzzer hands over has exactly `size` bytes), every result is
 * checked against a small, independent reference parser written from the
 * RFCs, so a wrong answer is a finding too:
 *  - the reference accepts exactly the packets pkt_parse() calls PKT_OK;
 *  - on PKT_OK: family AF_INET/AF_INET6 (matching the version nibble),
 *    addresses, ports, TCP flags and sequence number as in the bytes,
 *    proto TCP or UDP, payload inside the input and ending where the IP
 *    (TCP) or UDP length says;
 *  - on an error: the status is a known one and nothing points outside;
 *  - bytes after the IP datagram (Ethernet padding) change nothing;
 *  - pkt_status_name() and pkt_proto_name() never return NULL;
 *  - pkt_source() (the prefetch hint's key) gives the very source
 *    pkt_parse() does, so the hint's memo serves the decision.
 */
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "pkt.h"

static unsigned
be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* What a correct parser must find in an acceptable packet. */
struct ref {
	int family;
	size_t l4;		/* offset of the transport header */
	size_t end;		/* end of the IP datagram */
	uint8_t proto;
};

/* Reference: 1 if data is a packet pkt_parse() must accept. */
static int
ref_parse(const uint8_t *d, size_t n, struct ref *r)
{
	size_t hl, l4len, doff, ulen, size;
	unsigned hops;
	uint8_t nh;

	if (n < 1)
		return 0;
	switch (d[0] >> 4) {
	case 4:
		if (n < 20)
			return 0;
		hl = (size_t)(d[0] & 0x0f) * 4;
		r->end = be16(d + 2);
		if (hl < 20 || hl > n || r->end < hl || r->end > n)
			return 0;
		if (be16(d + 6) & 0x1fff)	/* non-first fragment */
			return 0;
		r->family = AF_INET;
		r->proto = d[9];
		r->l4 = hl;
		break;
	case 6:
		if (n < 40)
			return 0;
		r->end = 40 + (size_t)be16(d + 4);
		if (r->end == 40 || r->end > n)	/* jumbogram or truncated */
			return 0;
		r->family = AF_INET6;
		nh = d[6];
		r->l4 = 40;
		for (hops = 0; nh == 0 || nh == 43 || nh == 44 || nh == 51 ||
		    nh == 60; hops++) {
			if (hops >= PKT_MAX_EXTHDRS)
				return 0;
			if (r->end - r->l4 < (nh == 44 ? 8 : 2))
				return 0;
			if (nh == 44) {
				if (be16(d + r->l4 + 2) & 0xfff8)
					return 0;
				size = 8;
			} else if (nh == 51) {
				size = ((size_t)d[r->l4 + 1] + 2) * 4;
			} else {
				size = ((size_t)d[r->l4 + 1] + 1) * 8;
			}
			if (size > r->end - r->l4)
				return 0;
			nh = d[r->l4];
			r->l4 += size;
		}
		r->proto = nh;
		break;
	default:
		return 0;
	}

	l4len = r->end - r->l4;
	switch (r->proto) {
	case IPPROTO_TCP:
		if (l4len < 20)
			return 0;
		doff = (size_t)(d[r->l4 + 12] >> 4) * 4;
		return doff >= 20 && doff <= l4len;
	case IPPROTO_UDP:
		if (l4len < 8)
			return 0;
		ulen = be16(d + r->l4 + 4);
		return ulen >= 8 && ulen - 8 <= l4len - 8;
	default:
		return 0;
	}
}

static void
check_names(enum pkt_status st, const struct pkt *p)
{
	const char *s = pkt_status_name(st);

	FUZZ_CHECK(s != NULL && s[0] != '\0');
	FUZZ_CHECK(strcmp(s, "unknown") != 0);
	s = pkt_proto_name(p->proto);
	FUZZ_CHECK(s != NULL && s[0] != '\0');
}

static void
check_ok(const uint8_t *d, size_t n, const struct pkt *p, const struct ref *r)
{
	const uint8_t *l4 = d + r->l4;
	size_t alen = r->family == AF_INET ? 4 : 16;
	size_t aoff = r->family == AF_INET ? 12 : 8;

	FUZZ_CHECK(p->src.family == AF_INET || p->src.family == AF_INET6);
	FUZZ_CHECK(p->src.family == r->family);
	FUZZ_CHECK(p->dst.family == p->src.family);
	FUZZ_CHECK(memcmp(p->src.b, d + aoff, alen) == 0);
	FUZZ_CHECK(memcmp(p->dst.b, d + aoff + alen, alen) == 0);
	FUZZ_CHECK(p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP);
	FUZZ_CHECK(p->proto == r->proto);

	/* The payload lies inside the input, and inside the datagram. */
	FUZZ_CHECK(p->payload != NULL);
	FUZZ_CHECK(p->payload >= d && p->payload <= d + n);
	FUZZ_CHECK(p->payload_len <= (size_t)(d + n - p->payload));
	FUZZ_CHECK(p->payload + p->payload_len <= d + r->end);

	FUZZ_CHECK(p->sport == be16(l4));
	FUZZ_CHECK(p->dport == be16(l4 + 2));
	if (p->proto == IPPROTO_TCP) {
		FUZZ_CHECK(p->tcpseq == be32(l4 + 4));
		FUZZ_CHECK(p->tcpflags == l4[13]);
		FUZZ_CHECK(p->payload == l4 + (l4[12] >> 4) * 4);
		FUZZ_CHECK(p->payload + p->payload_len == d + r->end);
	} else {
		FUZZ_CHECK(p->tcpflags == 0 && p->tcpseq == 0);
		FUZZ_CHECK(p->payload == l4 + 8);
		FUZZ_CHECK(p->payload_len == be16(l4 + 4) - 8u);
	}
}

/* Bytes after the datagram must not change what is parsed. */
static void
check_padding(const uint8_t *d, size_t n, const struct pkt *p)
{
	static uint8_t buf[65536 + 16];
	struct pkt q;
	size_t pad = 1 + n % 15;

	if (n > sizeof(buf) - pad)
		return;
	memcpy(buf, d, n);
	memset(buf + n, 0xa5, pad);
	FUZZ_CHECK(pkt_parse(buf, n + pad, 0, &q) == PKT_OK);
	FUZZ_CHECK(q.src.family == p->src.family);
	FUZZ_CHECK(memcmp(q.src.b, p->src.b, sizeof(q.src.b)) == 0);
	FUZZ_CHECK(memcmp(q.dst.b, p->dst.b, sizeof(q.dst.b)) == 0);
	FUZZ_CHECK(q.proto == p->proto && q.tcpflags == p->tcpflags);
	FUZZ_CHECK(q.sport == p->sport && q.dport == p->dport);
	FUZZ_CHECK(q.tcpseq == p->tcpseq);
	FUZZ_CHECK(q.payload - buf == p->payload - d);
	FUZZ_CHECK(q.payload_len == p->payload_len);
}

/* The bytes as the head of a longer packet (the copy range cut it): any
 * status, nothing pointing outside them. */
static void
check_cut_any(const uint8_t *d, size_t n)
{
	struct pkt q;
	enum pkt_status st = pkt_parse(d, n, n + 1 + n % 3000, &q);

	FUZZ_CHECK((unsigned)st < PKT_NSTATUS);
	FUZZ_CHECK(q.payload == NULL || (q.payload >= d &&
	    q.payload_len <= (size_t)(d + n - q.payload)));
}

/* A good packet cut anywhere past its headers is judged on them: the
 * same addresses and ports, never an error for being long. */
static void
check_cut_ok(const uint8_t *d, size_t n, const struct pkt *p)
{
	size_t hdr = (size_t)(p->payload - d), k = hdr + (n - hdr) / 2;
	struct pkt q;

	if (k >= n)
		return;
	FUZZ_CHECK(pkt_parse(d, k, n, &q) == PKT_OK);
	FUZZ_CHECK(q.sport == p->sport && q.dport == p->dport &&
	    q.proto == p->proto && q.tcpflags == p->tcpflags);
	FUZZ_CHECK(memcmp(q.src.b, p->src.b, sizeof(q.src.b)) == 0);
	FUZZ_CHECK(q.payload == q.payload && q.payload_len <= k - hdr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt p;
	struct ref r;
	enum pkt_status st;
	int ok;

	memset(&r, 0, sizeof(r));
	st = pkt_parse(data, size, 0, &p);
	check_cut_any(data, size);
	FUZZ_CHECK((unsigned)st < PKT_NSTATUS);
	check_names(st, &p);
	/* Any value, even out of range, has a name. */
	FUZZ_CHECK(pkt_status_name((enum pkt_status)(size > 0 ?
	    data[0] : 0)) != NULL);

	ok = ref_parse(data, size, &r);
	if (st != PKT_OK) {
		if (ok)
			fprintf(stderr, "pkt_parse: %s, reference: ok\n",
			    pkt_status_name(st));
		FUZZ_CHECK(!ok);
		/* Nothing points outside the input, even on an error. */
		FUZZ_CHECK(p.payload == NULL || (p.payload >= data &&
		    p.payload_len <= (size_t)(data + size - p.payload)));
		return 0;
	}
	FUZZ_CHECK(ok);
	{
		struct addr a;

		FUZZ_CHECK(pkt_source(data, size, &a) == 0);
		FUZZ_CHECK(memcmp(&a, &p.src, sizeof(a)) == 0);
	}
	check_ok(data, size, &p, &r);
	check_padding(data, size, &p);
	check_cut_ok(data, size, &p);
	return 0;
}
