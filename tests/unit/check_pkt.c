/* Unit tests for pkt: packets are built byte by byte by the helpers below. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "pkt.h"
#include "suites.h"

#define PKTMAX	2048

static const uint8_t SRC4[4] = { 192, 0, 2, 1 };
static const uint8_t DST4[4] = { 198, 51, 100, 2 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				  0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xee, 0, 0,
				  0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef };

/* ---- packet builders ---------------------------------------------------- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/*
 * TCP segment at b: 20-byte header, optlen bytes of options (MSS then NOPs,
 * optlen a multiple of 4, at most 40), then the payload.  Returns its length.
 */
static size_t
tcp_seg(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq,
    uint8_t flags, size_t optlen, const char *payload)
{
	size_t plen = payload ? strlen(payload) : 0;
	size_t i;

	memset(b, 0, 20 + optlen);
	put16(b, sport);
	put16(b + 2, dport);
	put32(b + 4, seq);
	put32(b + 8, 0x01020304);	/* ack: must not leak into seq */
	b[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	b[13] = flags;
	put16(b + 14, 65535);
	for (i = 0; i < optlen; i++)
		b[20 + i] = 1;		/* NOP */
	if (optlen >= 4) {
		b[20] = 2;		/* MSS */
		b[21] = 4;
		put16(b + 22, 1460);
	}
	if (plen)
		memcpy(b + 20 + optlen, payload, plen);
	return 20 + optlen + plen;
}

static size_t
udp_dgram(uint8_t *b, uint16_t sport, uint16_t dport, const char *payload)
{
	size_t plen = payload ? strlen(payload) : 0;

	put16(b, sport);
	put16(b + 2, dport);
	put16(b + 4, (uint16_t)(8 + plen));
	put16(b + 6, 0);
	if (plen)
		memcpy(b + 8, payload, plen);
	return 8 + plen;
}

/*
 * IPv4 packet at pkt: header with optlen bytes of options (multiple of 4,
 * at most 40), then the l4 bytes.  Returns the total length.
 */
static size_t
ip4_pkt(uint8_t *pkt, uint8_t proto, size_t optlen, const uint8_t *l4,
    size_t l4len)
{
	size_t hlen = 20 + optlen, i;

	memset(pkt, 0, hlen);
	pkt[0] = (uint8_t)(0x40 | hlen / 4);
	put16(pkt + 2, (uint16_t)(hlen + l4len));
	put16(pkt + 4, 0x1234);
	put16(pkt + 6, 0x4000);		/* DF, offset 0 */
	pkt[8] = 64;
	pkt[9] = proto;
	memcpy(pkt + 12, SRC4, 4);
	memcpy(pkt + 16, DST4, 4);
	for (i = 0; i < optlen; i++)
		pkt[20 + i] = 1;	/* NOP option */
	if (optlen >= 4) {
		pkt[20] = 0x94;		/* Router Alert, 4 bytes */
		pkt[21] = 4;
	}
	memcpy(pkt + hlen, l4, l4len);
	return hlen + l4len;
}

/* Size each extension header type gets from ip6_pkt(). */
static size_t
ext_size(uint8_t type)
{
	switch (type) {
	case 0:  return 8;	/* hop-by-hop, hdrlen 0 */
	case 60: return 16;	/* destination options, hdrlen 1 */
	case 43: return 24;	/* routing, hdrlen 2 */
	case 44: return 8;	/* fragment */
	case 51: return 24;	/* AH, hdrlen 4: (4 + 2) * 4 */
	default: return 0;
	}
}

/*
 * IPv6 packet at pkt: the extension headers listed in types (fragment
 * headers carry fragoff, in 8-octet units, and the M flag), then l4 bytes
 * of protocol l4proto.  Returns the total length.
 */
static size_t
ip6_pkt(uint8_t *pkt, const uint8_t *types, size_t ntypes, uint16_t fragoff,
    uint8_t l4proto, const uint8_t *l4, size_t l4len)
{
	size_t off = 40, i;

	memset(pkt, 0, 40);
	pkt[0] = 0x60;
	pkt[1] = 0x0a;			/* some traffic class / flow label */
	pkt[3] = 0x42;
	pkt[6] = ntypes ? types[0] : l4proto;
	pkt[7] = 64;
	memcpy(pkt + 8, SRC6, 16);
	memcpy(pkt + 24, DST6, 16);
	for (i = 0; i < ntypes; i++) {
		uint8_t *h = pkt + off;
		size_t size = ext_size(types[i]);

		memset(h, 0, size);
		h[0] = i + 1 < ntypes ? types[i + 1] : l4proto;
		switch (types[i]) {
		case 44:
			put16(h + 2, (uint16_t)(fragoff << 3 | 1));	/* M */
			put32(h + 4, 0xcafe);
			break;
		case 51:
			h[1] = (uint8_t)(size / 4 - 2);
			break;
		default:
			h[1] = (uint8_t)(size / 8 - 1);
			break;
		}
		off += size;
	}
	memcpy(pkt + off, l4, l4len);
	off += l4len;
	put16(pkt + 4, (uint16_t)(off - 40));
	return off;
}

/* Parse from an exact-size heap copy so ASan sees any overread. */
static enum pkt_status
parse_copy(const uint8_t *pkt, size_t len, struct pkt *out, uint8_t **copy)
{
	uint8_t *b = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(b);
	memcpy(b, pkt, len);
	memset(out, 0xa5, sizeof(*out));	/* garbage the parser must clear */
	*copy = b;
	return pkt_parse(b, len, 0, out);
}

/* Parse and free; for tests that only look at the status. */
static enum pkt_status
parse_st(const uint8_t *pkt, size_t len)
{
	struct pkt p;
	uint8_t *b;
	enum pkt_status st = parse_copy(pkt, len, &p, &b);

	free(b);
	return st;
}

static void
assert_in_buf(const struct pkt *p, const uint8_t *b, size_t len)
{
	if (p->payload == NULL) {
		ck_assert_uint_eq(p->payload_len, 0);
		return;
	}
	ck_assert(p->payload >= b);
	ck_assert(p->payload_len <= len);
	ck_assert(p->payload <= b + len - p->payload_len);
}

static void
assert_addr4(const struct addr *a, const uint8_t *bytes)
{
	static const uint8_t zero[12];

	ck_assert_uint_eq(a->family, AF_INET);
	ck_assert_mem_eq(a->b, bytes, 4);
	ck_assert_mem_eq(a->b + 4, zero, 12);
}

static void
assert_addr6(const struct addr *a, const uint8_t *bytes)
{
	ck_assert_uint_eq(a->family, AF_INET6);
	ck_assert_mem_eq(a->b, bytes, 16);
}

/* A v4 TCP packet with IP and TCP options and a payload. */
static size_t
build_v4_tcp(uint8_t *pkt)
{
	uint8_t l4[128];
	size_t n = tcp_seg(l4, 40000, 22, 0xdeadbeef, TCPF_SYN, 8, "abc");

	return ip4_pkt(pkt, IPPROTO_TCP, 4, l4, n);
}

/* A v6 TCP packet behind hop-by-hop, routing and fragment headers. */
static size_t
build_v6_tcp(uint8_t *pkt)
{
	static const uint8_t chain[] = { 0, 43, 44 };
	uint8_t l4[128];
	size_t n = tcp_seg(l4, 40000, 22, 0xdeadbeef, TCPF_SYN, 4, "xy");

	return ip6_pkt(pkt, chain, sizeof(chain), 0, IPPROTO_TCP, l4, n);
}

/* ---- well-formed packets ------------------------------------------------ */

START_TEST(v4_tcp_syn)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = tcp_seg(l4, 51515, 7000, 0x80000001u, TCPF_SYN, 0, NULL);
	size_t len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, n);
	struct pkt p;

	ck_assert_uint_eq(len, 40);
	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	assert_addr4(&p.src, SRC4);
	assert_addr4(&p.dst, DST4);
	ck_assert_uint_eq(p.proto, IPPROTO_TCP);
	ck_assert_uint_eq(p.sport, 51515);
	ck_assert_uint_eq(p.dport, 7000);
	ck_assert_uint_eq(p.tcpseq, 0x80000001u);
	ck_assert_uint_eq(p.tcpflags, TCPF_SYN);
	ck_assert_ptr_eq(p.payload, b + 40);
	ck_assert_uint_eq(p.payload_len, 0);
	free(b);
}
END_TEST

START_TEST(v4_tcp_ecn_syn)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	uint8_t flags = TCPF_SYN | TCPF_ECE | TCPF_CWR;
	size_t n = tcp_seg(l4, 1024, 22, 1, flags, 0, NULL);
	size_t len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, n);
	struct pkt p;

	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.tcpflags, 0xc2);
	ck_assert_uint_eq(p.tcpflags & (TCPF_SYN | TCPF_ACK), TCPF_SYN);
	free(b);
}
END_TEST

START_TEST(v4_tcp_all_flags)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = tcp_seg(l4, 1, 2, 3, 0xff, 0, NULL);
	size_t len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, n);
	struct pkt p;

	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.tcpflags, 0xff);
	free(b);
}
END_TEST

START_TEST(v4_options_and_tcp_options)
{
	/* Every legal IHL (5..15) and TCP data offset (5..15). */
	size_t ipopt, tcpopt;

	for (ipopt = 0; ipopt <= 40; ipopt += 4) {
		for (tcpopt = 0; tcpopt <= 40; tcpopt += 4) {
			uint8_t pkt[PKTMAX], l4[128], *b;
			size_t n = tcp_seg(l4, 4000, 5000, 77, TCPF_SYN,
			    tcpopt, "payload!");
			size_t len = ip4_pkt(pkt, IPPROTO_TCP, ipopt, l4, n);
			struct pkt p;

			ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
			ck_assert_uint_eq(p.sport, 4000);
			ck_assert_uint_eq(p.dport, 5000);
			ck_assert_uint_eq(p.tcpseq, 77);
			ck_assert_ptr_eq(p.payload, b + 20 + ipopt + 20 + tcpopt);
			ck_assert_uint_eq(p.payload_len, 8);
			ck_assert_mem_eq(p.payload, "payload!", 8);
			assert_addr4(&p.src, SRC4);
			assert_addr4(&p.dst, DST4);
			free(b);
		}
	}
}
END_TEST

START_TEST(v4_trailing_padding)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, NULL);
	size_t len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, n);
	struct pkt p;

	/* Pad to the 60-byte Ethernet minimum with junk. */
	memset(pkt + len, 0xee, 60 - len);
	ck_assert_int_eq(parse_copy(pkt, 60, &p, &b), PKT_OK);
	ck_assert_ptr_eq(p.payload, b + 40);
	ck_assert_uint_eq(p.payload_len, 0);
	free(b);
}
END_TEST

START_TEST(v4_udp_trailing_padding)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = udp_dgram(l4, 53, 1234, "hi");
	size_t len = ip4_pkt(pkt, IPPROTO_UDP, 0, l4, n);
	struct pkt p;

	memset(pkt + len, 0xee, 64 - len);
	ck_assert_int_eq(parse_copy(pkt, 64, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.proto, IPPROTO_UDP);
	ck_assert_ptr_eq(p.payload, b + 28);
	ck_assert_uint_eq(p.payload_len, 2);
	ck_assert_mem_eq(p.payload, "hi", 2);
	free(b);
}
END_TEST

START_TEST(v4_udp)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = udp_dgram(l4, 33333, 8888, "knock-knock");
	size_t len = ip4_pkt(pkt, IPPROTO_UDP, 8, l4, n);
	struct pkt p;

	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.proto, IPPROTO_UDP);
	ck_assert_uint_eq(p.sport, 33333);
	ck_assert_uint_eq(p.dport, 8888);
	ck_assert_uint_eq(p.tcpflags, 0);
	ck_assert_uint_eq(p.tcpseq, 0);
	ck_assert_ptr_eq(p.payload, b + 28 + 8);
	ck_assert_uint_eq(p.payload_len, 11);
	ck_assert_mem_eq(p.payload, "knock-knock", 11);
	assert_addr4(&p.src, SRC4);
	assert_addr4(&p.dst, DST4);
	free(b);
}
END_TEST

START_TEST(v4_udp_empty_payload)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = udp_dgram(l4, 1, 65535, NULL);
	size_t len = ip4_pkt(pkt, IPPROTO_UDP, 0, l4, n);
	struct pkt p;

	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.dport, 65535);
	ck_assert_uint_eq(p.payload_len, 0);
	assert_in_buf(&p, b, len);
	free(b);
}
END_TEST

/* UDP length shorter than the datagram: trailing bytes are not payload. */
START_TEST(v4_udp_length_short_of_ip)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = udp_dgram(l4, 1, 2, "abcdef");
	size_t len;
	struct pkt p;

	put16(l4 + 4, 8 + 2);
	len = ip4_pkt(pkt, IPPROTO_UDP, 0, l4, n);
	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.payload_len, 2);
	ck_assert_mem_eq(p.payload, "ab", 2);
	free(b);
}
END_TEST

START_TEST(v4_first_fragment_mf)
{
	uint8_t pkt[PKTMAX], *b;
	size_t len = build_v4_tcp(pkt);
	struct pkt p;

	put16(pkt + 6, 0x2000);			/* MF, offset 0 */
	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.dport, 22);
	free(b);
	put16(pkt + 6, 0x0000);			/* no flags at all */
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
	put16(pkt + 6, 0xe000);			/* reserved bit too: ignored */
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
}
END_TEST

START_TEST(v6_tcp)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = tcp_seg(l4, 60000, 443, 0xfffffffeu, TCPF_SYN, 12, "v6");
	size_t len = ip6_pkt(pkt, NULL, 0, 0, IPPROTO_TCP, l4, n);
	struct pkt p;

	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	assert_addr6(&p.src, SRC6);
	assert_addr6(&p.dst, DST6);
	ck_assert_uint_eq(p.proto, IPPROTO_TCP);
	ck_assert_uint_eq(p.sport, 60000);
	ck_assert_uint_eq(p.dport, 443);
	ck_assert_uint_eq(p.tcpseq, 0xfffffffeu);
	ck_assert_uint_eq(p.tcpflags, TCPF_SYN);
	ck_assert_ptr_eq(p.payload, b + 40 + 32);
	ck_assert_uint_eq(p.payload_len, 2);
	ck_assert_mem_eq(p.payload, "v6", 2);
	free(b);
}
END_TEST

START_TEST(v6_udp)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = udp_dgram(l4, 5353, 9999, "hello6");
	size_t len = ip6_pkt(pkt, NULL, 0, 0, IPPROTO_UDP, l4, n);
	struct pkt p;

	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	assert_addr6(&p.src, SRC6);
	assert_addr6(&p.dst, DST6);
	ck_assert_uint_eq(p.proto, IPPROTO_UDP);
	ck_assert_uint_eq(p.sport, 5353);
	ck_assert_uint_eq(p.dport, 9999);
	ck_assert_uint_eq(p.tcpflags, 0);
	ck_assert_uint_eq(p.tcpseq, 0);
	ck_assert_ptr_eq(p.payload, b + 48);
	ck_assert_uint_eq(p.payload_len, 6);
	ck_assert_mem_eq(p.payload, "hello6", 6);
	free(b);
}
END_TEST

START_TEST(v6_trailing_bytes)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = udp_dgram(l4, 1, 2, "x");
	size_t len = ip6_pkt(pkt, NULL, 0, 0, IPPROTO_UDP, l4, n);
	struct pkt p;

	memset(pkt + len, 0x11, 20);
	ck_assert_int_eq(parse_copy(pkt, len + 20, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.payload_len, 1);
	ck_assert_ptr_eq(p.payload, b + 48);
	free(b);
}
END_TEST

/* Trailing bytes past the payload length are neither payload nor headers. */
START_TEST(v6_tcp_trailing_bytes)
{
	static const uint8_t chain[] = { 60 };
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, "abc");
	size_t len = ip6_pkt(pkt, chain, 1, 0, IPPROTO_TCP, l4, n);
	struct pkt p;

	memset(pkt + len, 0x77, 16);
	ck_assert_int_eq(parse_copy(pkt, len + 16, &p, &b), PKT_OK);
	ck_assert_ptr_eq(p.payload, b + 40 + 16 + 20);
	ck_assert_uint_eq(p.payload_len, 3);
	free(b);
	/* Payload length ends inside the destination options header. */
	put16(pkt + 4, 8);
	ck_assert_int_eq(parse_st(pkt, len + 16), PKT_EEXTHDR);
	/* Payload length ends inside the TCP header. */
	put16(pkt + 4, 16 + 19);
	ck_assert_int_eq(parse_st(pkt, len + 16), PKT_EL4SHORT);
}
END_TEST

START_TEST(v6_ext_chain)
{
	static const uint8_t chain[] = { 0, 60, 43, 44 };
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = tcp_seg(l4, 2222, 22, 99, TCPF_SYN, 4, "chain");
	size_t len = ip6_pkt(pkt, chain, sizeof(chain), 0, IPPROTO_TCP, l4, n);
	size_t hdrs = 40 + 8 + 16 + 24 + 8;
	struct pkt p;

	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.proto, IPPROTO_TCP);
	ck_assert_uint_eq(p.sport, 2222);
	ck_assert_uint_eq(p.dport, 22);
	ck_assert_uint_eq(p.tcpseq, 99);
	ck_assert_ptr_eq(p.payload, b + hdrs + 24);
	ck_assert_uint_eq(p.payload_len, 5);
	ck_assert_mem_eq(p.payload, "chain", 5);
	assert_addr6(&p.src, SRC6);
	free(b);
}
END_TEST

START_TEST(v6_ext_chain_udp_ah)
{
	static const uint8_t chain[] = { 0, 51, 60 };
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = udp_dgram(l4, 7, 8, "ah");
	size_t len = ip6_pkt(pkt, chain, sizeof(chain), 0, IPPROTO_UDP, l4, n);
	struct pkt p;

	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.proto, IPPROTO_UDP);
	ck_assert_uint_eq(p.dport, 8);
	/* AH is (hdrlen + 2) * 4 = 24 bytes, not (hdrlen + 1) * 8 = 40. */
	ck_assert_ptr_eq(p.payload, b + 40 + 8 + 24 + 16 + 8);
	ck_assert_uint_eq(p.payload_len, 2);
	free(b);
}
END_TEST

START_TEST(v6_max_exthdrs)
{
	uint8_t chain[PKT_MAX_EXTHDRS + 1];
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, NULL), len;

	memset(chain, 60, sizeof(chain));
	len = ip6_pkt(pkt, chain, PKT_MAX_EXTHDRS, 0, IPPROTO_TCP, l4, n);
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
	len = ip6_pkt(pkt, chain, PKT_MAX_EXTHDRS + 1, 0, IPPROTO_TCP, l4, n);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EEXTHDR);
}
END_TEST

START_TEST(v6_long_chain)
{
	uint8_t chain[100];
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, NULL), len;

	memset(chain, 0, sizeof(chain));	/* 100 hop-by-hop headers */
	len = ip6_pkt(pkt, chain, sizeof(chain), 0, IPPROTO_TCP, l4, n);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EEXTHDR);
}
END_TEST

START_TEST(v6_nonfirst_fragment)
{
	static const uint8_t chain[] = { 0, 44 };
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, NULL), len;

	len = ip6_pkt(pkt, chain, sizeof(chain), 1, IPPROTO_TCP, l4, n);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EFRAGMENT);
	len = ip6_pkt(pkt, chain, sizeof(chain), 0x1fff, IPPROTO_TCP, l4, n);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EFRAGMENT);
	/* Last fragment: M clear, offset set. */
	put16(pkt + 48 + 2, 185 << 3);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EFRAGMENT);
	/* Atomic fragment: M clear, offset 0 -> the whole packet. */
	put16(pkt + 48 + 2, 0);
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
	/* Reserved bits in the fragment header are not an offset. */
	put16(pkt + 48 + 2, 0x0006);
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
}
END_TEST

START_TEST(v4_nonfirst_fragment)
{
	uint8_t pkt[PKTMAX];
	size_t len = build_v4_tcp(pkt);

	put16(pkt + 6, 0x2001);			/* MF, offset 1 */
	ck_assert_int_eq(parse_st(pkt, len), PKT_EFRAGMENT);
	put16(pkt + 6, 0x00b9);			/* last fragment */
	ck_assert_int_eq(parse_st(pkt, len), PKT_EFRAGMENT);
	put16(pkt + 6, 0x5fff);			/* DF, maximal offset */
	ck_assert_int_eq(parse_st(pkt, len), PKT_EFRAGMENT);
	/* A non-first fragment of anything is refused as a fragment. */
	pkt[9] = IPPROTO_ICMP;
	ck_assert_int_eq(parse_st(pkt, len), PKT_EFRAGMENT);
}
END_TEST

/* ---- truncation --------------------------------------------------------- */

/* Cut the buffer short at every length: the length fields still say more. */
static void
truncate_all(const uint8_t *pkt, size_t full)
{
	size_t n;

	for (n = 0; n < full; n++) {
		struct pkt p;
		uint8_t *b;
		enum pkt_status st = parse_copy(pkt, n, &p, &b);

		ck_assert_msg(st != PKT_OK, "length %zu of %zu parsed", n, full);
		ck_assert_int_lt(st, PKT_NSTATUS);
		assert_in_buf(&p, b, n);
		free(b);
	}
	ck_assert_int_eq(parse_st(pkt, full), PKT_OK);
}

START_TEST(v4_truncate_every_length)
{
	uint8_t pkt[PKTMAX];
	size_t full = build_v4_tcp(pkt), n;

	truncate_all(pkt, full);
	/* Pin the status of the interesting boundaries. */
	for (n = 0; n < full; n++) {
		enum pkt_status st = parse_st(pkt, n);

		if (n < 20)
			ck_assert_int_eq(st, PKT_ESHORT);
		else if (n < 24)
			ck_assert_int_eq(st, PKT_EIHL);
		else
			ck_assert_int_eq(st, PKT_ELENGTH);
	}
}
END_TEST

/* The copy range cut the packet (the real length is known): past the
 * transport header it is judged on what was copied; before it, as
 * before, it cannot be judged. */
static enum pkt_status
parse_cut(const uint8_t *pkt, size_t len, size_t wire, struct pkt *out)
{
	uint8_t *b = malloc(len ? len : 1);
	enum pkt_status st;

	ck_assert_ptr_nonnull(b);
	memcpy(b, pkt, len);
	st = pkt_parse(b, len, wire, out);
	assert_in_buf(out, b, len);
	free(b);
	return st;
}

START_TEST(cut_packets)
{
	uint8_t pkt[PKTMAX], l4[128];
	size_t full = build_v4_tcp(pkt), n, hdr = 20 + 4 + 20 + 8;
	struct pkt p;

	for (n = 0; n < full; n++) {
		enum pkt_status st = parse_cut(pkt, n, full, &p);

		if (n >= hdr) {
			ck_assert_int_eq(st, PKT_OK);
			ck_assert_uint_eq(p.dport, 22);
			ck_assert_uint_eq(p.truncated, 1);
			ck_assert_uint_eq(p.payload_len, n - hdr);
		} else
			ck_assert_int_ne(st, PKT_OK);
	}
	/* A length field beyond even the real length is still wrong. */
	ck_assert_int_eq(parse_cut(pkt, hdr, hdr + 1, &p), PKT_ELENGTH);
	/* UDP, v4 and v6: the datagram's own length may exceed the copy. */
	n = udp_dgram(l4, 1, 53, "0123456789");
	full = ip4_pkt(pkt, IPPROTO_UDP, 0, l4, n);
	ck_assert_int_eq(parse_cut(pkt, 30, full, &p), PKT_OK);
	ck_assert_uint_eq(p.payload_len, 2);
	ck_assert_uint_eq(p.dport, 53);
	ck_assert_int_eq(parse_cut(pkt, 30, 31, &p), PKT_ELENGTH);
	full = ip6_pkt(pkt, NULL, 0, 0, IPPROTO_UDP, l4, n);
	ck_assert_int_eq(parse_cut(pkt, 50, full, &p), PKT_OK);
	ck_assert_uint_eq(p.payload_len, 2);
	ck_assert_int_eq(parse_cut(pkt, 50, 0, &p), PKT_ELENGTH);
}
END_TEST

START_TEST(v6_truncate_every_length)
{
	uint8_t pkt[PKTMAX];
	size_t full = build_v6_tcp(pkt), n;

	truncate_all(pkt, full);
	for (n = 0; n < full; n++) {
		enum pkt_status st = parse_st(pkt, n);

		ck_assert_int_eq(st, n < 40 ? PKT_ESHORT : PKT_ELENGTH);
	}
}
END_TEST

START_TEST(v6_udp_truncate_every_length)
{
	static const uint8_t chain[] = { 60, 51 };
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = udp_dgram(l4, 1, 2, "data");
	size_t full = ip6_pkt(pkt, chain, sizeof(chain), 0, IPPROTO_UDP, l4, n);

	truncate_all(pkt, full);
}
END_TEST

/*
 * Cut the packet short and make the IP length field agree, so the cut
 * lands in the options, extension headers or transport header instead.
 */
START_TEST(v4_truncate_consistent)
{
	uint8_t pkt[PKTMAX];
	size_t full = build_v4_tcp(pkt), n;

	/* IHL 6 (24 bytes), TCP data offset 7 (28 bytes), 3 bytes payload. */
	for (n = 0; n <= full; n++) {
		enum pkt_status st, want;

		put16(pkt + 2, (uint16_t)n);
		st = parse_st(pkt, n);
		if (n < 20)
			want = PKT_ESHORT;
		else if (n < 24)
			want = PKT_EIHL;
		else if (n < 24 + 20)
			want = PKT_EL4SHORT;
		else if (n < 24 + 28)
			want = PKT_ETCPOFF;
		else
			want = PKT_OK;
		ck_assert_msg(st == want, "length %zu: %s, want %s", n,
		    pkt_status_name(st), pkt_status_name(want));
	}
}
END_TEST

START_TEST(v6_truncate_consistent)
{
	uint8_t pkt[PKTMAX];
	size_t full = build_v6_tcp(pkt), n;
	size_t ext = 40 + 8 + 24 + 8;	/* hop-by-hop, routing, fragment */

	for (n = 40; n <= full; n++) {
		enum pkt_status st, want;

		put16(pkt + 4, (uint16_t)(n - 40));
		st = parse_st(pkt, n);
		if (n == 40)
			want = PKT_ELENGTH;	/* payload length 0 */
		else if (n < ext)
			want = PKT_EEXTHDR;
		else if (n < ext + 20)
			want = PKT_EL4SHORT;
		else if (n < ext + 24)
			want = PKT_ETCPOFF;
		else
			want = PKT_OK;
		ck_assert_msg(st == want, "length %zu: %s, want %s", n,
		    pkt_status_name(st), pkt_status_name(want));
	}
}
END_TEST

START_TEST(udp_truncate_consistent)
{
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = udp_dgram(l4, 1, 2, "abcd");
	size_t full = ip4_pkt(pkt, IPPROTO_UDP, 0, l4, n);

	for (n = 20; n <= full; n++) {
		enum pkt_status st;

		put16(pkt + 2, (uint16_t)n);
		st = parse_st(pkt, n);
		if (n < 28)
			ck_assert_int_eq(st, PKT_EL4SHORT);
		else if (n < full)
			ck_assert_int_eq(st, PKT_EUDPLEN);
		else
			ck_assert_int_eq(st, PKT_OK);
	}
}
END_TEST

/* ---- malformed headers -------------------------------------------------- */

START_TEST(empty_and_null)
{
	struct pkt p;
	uint8_t one = 0x45;

	ck_assert_int_eq(pkt_parse(NULL, 0, 0, &p), PKT_ESHORT);
	ck_assert_int_eq(pkt_parse(&one, 0, 0, &p), PKT_ESHORT);
	ck_assert_int_eq(pkt_parse(&one, 1, 0, &p), PKT_ESHORT);
	one = 0x60;
	ck_assert_int_eq(pkt_parse(&one, 1, 0, &p), PKT_ESHORT);
}
END_TEST

START_TEST(bad_version)
{
	uint8_t pkt[PKTMAX];
	size_t len = build_v4_tcp(pkt);
	unsigned int v;

	for (v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		pkt[0] = (uint8_t)(v << 4 | 6);
		ck_assert_int_eq(parse_st(pkt, len), PKT_EVERSION);
		ck_assert_int_eq(parse_st(pkt, 1), PKT_EVERSION);
	}
	pkt[0] = 0x56;		/* version 5 (ST) */
	ck_assert_int_eq(parse_st(pkt, len), PKT_EVERSION);
	/* A v6 header claiming version 4 is judged as IPv4. */
	len = build_v6_tcp(pkt);
	pkt[0] = 0x40;
	ck_assert_int_eq(parse_st(pkt, len), PKT_EIHL);
}
END_TEST

START_TEST(v4_bad_ihl)
{
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, NULL);
	size_t len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, n);
	unsigned int ihl;

	for (ihl = 0; ihl < 5; ihl++) {
		pkt[0] = (uint8_t)(0x40 | ihl);
		ck_assert_int_eq(parse_st(pkt, len), PKT_EIHL);
	}
	/* IHL 15 = 60 bytes, more than the 40 we hold. */
	pkt[0] = 0x4f;
	ck_assert_int_eq(parse_st(pkt, len), PKT_EIHL);
	/* IHL 11 = 44 bytes: past the 40 bytes. */
	pkt[0] = 0x4b;
	ck_assert_int_eq(parse_st(pkt, len), PKT_EIHL);
	/* IHL 10 = exactly the 40 bytes: then no room for TCP. */
	pkt[0] = 0x4a;
	ck_assert_int_eq(parse_st(pkt, len), PKT_EL4SHORT);
}
END_TEST

START_TEST(v4_ihl_past_total_length)
{
	uint8_t pkt[PKTMAX];
	size_t len = build_v4_tcp(pkt);

	/* IHL 12 (48 bytes) fits the 55-byte buffer, not the total 40. */
	ck_assert_uint_eq(len, 55);
	pkt[0] = 0x4c;
	put16(pkt + 2, 40);
	ck_assert_int_eq(parse_st(pkt, len), PKT_ELENGTH);
}
END_TEST

START_TEST(v4_total_length_mismatch)
{
	uint8_t pkt[PKTMAX];
	size_t len = build_v4_tcp(pkt);

	put16(pkt + 2, (uint16_t)(len + 1));		/* claims more */
	ck_assert_int_eq(parse_st(pkt, len), PKT_ELENGTH);
	put16(pkt + 2, 0xffff);
	ck_assert_int_eq(parse_st(pkt, len), PKT_ELENGTH);
	put16(pkt + 2, 23);				/* < IHL * 4 (24) */
	ck_assert_int_eq(parse_st(pkt, len), PKT_ELENGTH);
	put16(pkt + 2, 0);
	ck_assert_int_eq(parse_st(pkt, len), PKT_ELENGTH);
	/* Exactly the header: parse stops there, TCP is beyond it. */
	put16(pkt + 2, 24);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EL4SHORT);
	/* Shorter than the buffer: the payload shrinks to match. */
	{
		struct pkt p;
		uint8_t *b;

		put16(pkt + 2, (uint16_t)(len - 2));
		ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
		ck_assert_uint_eq(p.payload_len, 1);
		ck_assert_ptr_eq(p.payload, b + len - 3);
		free(b);
	}
}
END_TEST

START_TEST(v6_bad_payload_length)
{
	uint8_t pkt[PKTMAX];
	size_t len = build_v6_tcp(pkt);

	put16(pkt + 4, 0);				/* jumbogram */
	ck_assert_int_eq(parse_st(pkt, len), PKT_ELENGTH);
	put16(pkt + 4, (uint16_t)(len - 40 + 1));
	ck_assert_int_eq(parse_st(pkt, len), PKT_ELENGTH);
	put16(pkt + 4, 0xffff);
	ck_assert_int_eq(parse_st(pkt, len), PKT_ELENGTH);
	/* Shorter than the buffer is fine: the rest is trailing bytes. */
	put16(pkt + 4, (uint16_t)(len - 40 - 1));
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
}
END_TEST

START_TEST(v6_truncated_exthdr)
{
	static const uint8_t chain[] = { 0, 43 };
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, NULL);
	size_t len = ip6_pkt(pkt, chain, sizeof(chain), 0, IPPROTO_TCP, l4, n);

	/* Hop-by-hop at 40 (8 bytes), routing at 48 (24), TCP at 72 (20). */
	ck_assert_uint_eq(len, 92);
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
	/* Routing header claims (255 + 1) * 8 bytes. */
	pkt[48 + 1] = 255;
	ck_assert_int_eq(parse_st(pkt, len), PKT_EEXTHDR);
	/* 48 bytes where 44 remain. */
	pkt[48 + 1] = 5;
	ck_assert_int_eq(parse_st(pkt, len), PKT_EEXTHDR);
	/* 40 bytes: fits, and swallows most of the TCP header. */
	pkt[48 + 1] = 4;
	ck_assert_int_eq(parse_st(pkt, len), PKT_EL4SHORT);
	/* One byte of extension header: not even its length field. */
	put16(pkt + 4, 1);
	ck_assert_int_eq(parse_st(pkt, 41), PKT_EEXTHDR);
}
END_TEST

START_TEST(v6_truncated_fragment_header)
{
	static const uint8_t chain[] = { 44 };
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, NULL), cut;

	ip6_pkt(pkt, chain, 1, 0, IPPROTO_TCP, l4, n);
	for (cut = 1; cut < 8; cut++) {
		put16(pkt + 4, (uint16_t)cut);
		ck_assert_int_eq(parse_st(pkt, 40 + cut), PKT_EEXTHDR);
	}
	put16(pkt + 4, 8);
	ck_assert_int_eq(parse_st(pkt, 48), PKT_EL4SHORT);
	/* A truncated header is refused as such even if its offset is set. */
	put16(pkt + 40 + 2, 1 << 3);
	for (cut = 1; cut < 8; cut++) {
		put16(pkt + 4, (uint16_t)cut);
		ck_assert_int_eq(parse_st(pkt, 40 + cut), PKT_EEXTHDR);
	}
}
END_TEST

START_TEST(tcp_bad_offset)
{
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, "abcd");
	size_t len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, n);
	unsigned int off;

	for (off = 0; off < 5; off++) {
		pkt[20 + 12] = (uint8_t)(off << 4);
		ck_assert_int_eq(parse_st(pkt, len), PKT_ETCPOFF);
	}
	pkt[20 + 12] = 6 << 4;			/* 24 bytes: eats the payload */
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
	pkt[20 + 12] = 7 << 4;			/* 28: past the end */
	ck_assert_int_eq(parse_st(pkt, len), PKT_ETCPOFF);
	pkt[20 + 12] = 0xf0;
	ck_assert_int_eq(parse_st(pkt, len), PKT_ETCPOFF);
	/* The low (reserved) nibble is not part of the offset. */
	pkt[20 + 12] = 0x5f;
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
}
END_TEST

START_TEST(tcp_offset_past_ip_length)
{
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 8, NULL);
	size_t len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, n);

	/* The options are in the buffer but beyond the IP total length. */
	memset(pkt + len, 0, 16);
	put16(pkt + 2, (uint16_t)(len - 4));
	ck_assert_int_eq(parse_st(pkt, len + 16), PKT_ETCPOFF);
}
END_TEST

START_TEST(tcp_exact_header_offset)
{
	uint8_t pkt[PKTMAX], l4[128], *b;
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 40, NULL);
	size_t len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, n);
	struct pkt p;

	ck_assert_int_eq(parse_copy(pkt, len, &p, &b), PKT_OK);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_ptr_eq(p.payload, b + len);
	free(b);
}
END_TEST

START_TEST(udp_bad_length)
{
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = udp_dgram(l4, 1, 2, "abcd");
	size_t len = ip4_pkt(pkt, IPPROTO_UDP, 0, l4, n);
	unsigned int ulen;

	for (ulen = 0; ulen < 8; ulen++) {
		put16(pkt + 20 + 4, (uint16_t)ulen);
		ck_assert_int_eq(parse_st(pkt, len), PKT_EUDPLEN);
	}
	put16(pkt + 20 + 4, 8);
	ck_assert_int_eq(parse_st(pkt, len), PKT_OK);
	put16(pkt + 20 + 4, 13);			/* one past */
	ck_assert_int_eq(parse_st(pkt, len), PKT_EUDPLEN);
	put16(pkt + 20 + 4, 0xffff);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EUDPLEN);
	/* Past the IP total length though within the buffer. */
	memset(pkt + len, 0, 8);
	put16(pkt + 20 + 4, 14);
	ck_assert_int_eq(parse_st(pkt, len + 8), PKT_EUDPLEN);
}
END_TEST

START_TEST(l4_short)
{
	uint8_t pkt[PKTMAX], l4[128];
	size_t len;

	memset(l4, 0, sizeof(l4));
	len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, 19);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EL4SHORT);
	len = ip4_pkt(pkt, IPPROTO_TCP, 0, l4, 0);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EL4SHORT);
	len = ip4_pkt(pkt, IPPROTO_UDP, 0, l4, 7);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EL4SHORT);
	len = ip6_pkt(pkt, NULL, 0, 0, IPPROTO_UDP, l4, 7);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EL4SHORT);
	len = ip6_pkt(pkt, NULL, 0, 0, IPPROTO_TCP, l4, 19);
	ck_assert_int_eq(parse_st(pkt, len), PKT_EL4SHORT);
}
END_TEST

START_TEST(not_tcp_udp)
{
	static const uint8_t v4protos[] = { IPPROTO_ICMP, IPPROTO_IGMP, 41,
		47, 50, 51, 132, 136, 255, 0 };
	static const uint8_t v6protos[] = { 58, 59, 50, 132, 136, 255, 4, 41 };
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, NULL), len, i;

	for (i = 0; i < sizeof(v4protos); i++) {
		len = ip4_pkt(pkt, v4protos[i], 0, l4, n);
		ck_assert_int_eq(parse_st(pkt, len), PKT_EPROTO);
	}
	for (i = 0; i < sizeof(v6protos); i++) {
		len = ip6_pkt(pkt, NULL, 0, 0, v6protos[i], l4, n);
		ck_assert_int_eq(parse_st(pkt, len), PKT_EPROTO);
	}
}
END_TEST

START_TEST(v6_chain_ends_badly)
{
	static const uint8_t chain[] = { 0, 60, 44 };
	uint8_t pkt[PKTMAX], l4[128];
	size_t n = tcp_seg(l4, 1, 2, 3, TCPF_SYN, 0, NULL), len;

	len = ip6_pkt(pkt, chain, sizeof(chain), 0, 59, l4, n);	/* no next */
	ck_assert_int_eq(parse_st(pkt, len), PKT_EPROTO);
	len = ip6_pkt(pkt, chain, sizeof(chain), 0, 50, l4, n);	/* ESP */
	ck_assert_int_eq(parse_st(pkt, len), PKT_EPROTO);
	len = ip6_pkt(pkt, chain, sizeof(chain), 0, 58, l4, n);	/* ICMPv6 */
	ck_assert_int_eq(parse_st(pkt, len), PKT_EPROTO);
}
END_TEST

START_TEST(v6_exthdr_ends_at_payload_end)
{
	static const uint8_t chain[] = { 0 };
	uint8_t pkt[PKTMAX], l4[1] = { 0 };
	size_t len = ip6_pkt(pkt, chain, 1, 0, IPPROTO_TCP, l4, 0);

	/* Headers fill the payload exactly: TCP is missing. */
	ck_assert_int_eq(parse_st(pkt, len), PKT_EL4SHORT);
}
END_TEST

/* ---- names -------------------------------------------------------------- */

START_TEST(status_names)
{
	static const char *const want[PKT_NSTATUS] = {
		"ok", "short", "version", "ihl", "length", "fragment",
		"ext-header", "proto", "l4-short", "tcp-offset", "udp-length",
	};
	int i, j;

	ck_assert_str_eq(pkt_status_name(PKT_OK), "ok");
	ck_assert_str_eq(pkt_status_name(PKT_ESHORT), "short");
	ck_assert_str_eq(pkt_status_name(PKT_EVERSION), "version");
	ck_assert_str_eq(pkt_status_name(PKT_EIHL), "ihl");
	ck_assert_str_eq(pkt_status_name(PKT_ELENGTH), "length");
	ck_assert_str_eq(pkt_status_name(PKT_EFRAGMENT), "fragment");
	ck_assert_str_eq(pkt_status_name(PKT_EEXTHDR), "ext-header");
	ck_assert_str_eq(pkt_status_name(PKT_EPROTO), "proto");
	ck_assert_str_eq(pkt_status_name(PKT_EL4SHORT), "l4-short");
	ck_assert_str_eq(pkt_status_name(PKT_ETCPOFF), "tcp-offset");
	ck_assert_str_eq(pkt_status_name(PKT_EUDPLEN), "udp-length");
	for (i = 0; i < PKT_NSTATUS; i++) {
		const char *s = pkt_status_name((enum pkt_status)i);

		ck_assert_str_eq(s, want[i]);
		/* kebab-case: usable as a logfmt value and a counter key */
		ck_assert_uint_eq(strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-"),
		    strlen(s));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(s, pkt_status_name((enum pkt_status)j));
	}
	ck_assert_ptr_nonnull(pkt_status_name(PKT_NSTATUS));
	ck_assert_ptr_nonnull(pkt_status_name((enum pkt_status)-1));
}
END_TEST

START_TEST(proto_names)
{
	ck_assert_str_eq(pkt_proto_name(IPPROTO_TCP), "tcp");
	ck_assert_str_eq(pkt_proto_name(IPPROTO_UDP), "udp");
	ck_assert_str_eq(pkt_proto_name(IPPROTO_ICMP), "other");
	ck_assert_str_eq(pkt_proto_name(0), "other");
	ck_assert_str_eq(pkt_proto_name(255), "other");
}
END_TEST

/* ---- robustness --------------------------------------------------------- */

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Flip random bytes of good packets: never crash, never point outside. */
START_TEST(mutations)
{
	uint8_t base[2][PKTMAX];
	size_t blen[2];
	uint32_t seed = 0x9e3779b9u;
	int i;

	blen[0] = build_v4_tcp(base[0]);
	blen[1] = build_v6_tcp(base[1]);
	for (i = 0; i < 20000; i++) {
		uint8_t pkt[PKTMAX], *b;
		size_t k = (size_t)(i & 1), len = blen[k], flips, f;
		struct pkt p;
		enum pkt_status st;

		memcpy(pkt, base[k], len);
		flips = 1 + xorshift(&seed) % 4;
		for (f = 0; f < flips; f++)
			pkt[xorshift(&seed) % len] = (uint8_t)xorshift(&seed);
		if (xorshift(&seed) % 4 == 0)
			len = xorshift(&seed) % (len + 1);
		st = parse_copy(pkt, len, &p, &b);
		ck_assert_int_lt(st, PKT_NSTATUS);
		assert_in_buf(&p, b, len);
		if (st == PKT_OK) {
			ck_assert(p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP);
			ck_assert(p.src.family == AF_INET ||
			    p.src.family == AF_INET6);
			ck_assert_uint_eq(p.src.family, p.dst.family);
			ck_assert_ptr_nonnull(p.payload);
		}
		free(b);
	}
}
END_TEST

Suite *
pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, v4_tcp_syn);
	tcase_add_test(tc, v4_tcp_ecn_syn);
	tcase_add_test(tc, v4_tcp_all_flags);
	tcase_add_test(tc, v4_options_and_tcp_options);
	tcase_add_test(tc, v4_trailing_padding);
	tcase_add_test(tc, v4_udp_trailing_padding);
	tcase_add_test(tc, v4_udp);
	tcase_add_test(tc, v4_udp_empty_payload);
	tcase_add_test(tc, v4_udp_length_short_of_ip);
	tcase_add_test(tc, v4_first_fragment_mf);
	tcase_add_test(tc, v6_tcp);
	tcase_add_test(tc, v6_udp);
	tcase_add_test(tc, v6_trailing_bytes);
	tcase_add_test(tc, v6_tcp_trailing_bytes);
	tcase_add_test(tc, v6_ext_chain);
	tcase_add_test(tc, v6_ext_chain_udp_ah);
	tcase_add_test(tc, v6_max_exthdrs);
	tcase_add_test(tc, tcp_exact_header_offset);
	suite_add_tcase(s, tc);

	tc = tcase_create("fragments");
	tcase_add_test(tc, v4_nonfirst_fragment);
	tcase_add_test(tc, v6_nonfirst_fragment);
	suite_add_tcase(s, tc);

	tc = tcase_create("truncation");
	tcase_add_test(tc, v4_truncate_every_length);
	tcase_add_test(tc, cut_packets);
	tcase_add_test(tc, v6_truncate_every_length);
	tcase_add_test(tc, v6_udp_truncate_every_length);
	tcase_add_test(tc, v4_truncate_consistent);
	tcase_add_test(tc, v6_truncate_consistent);
	tcase_add_test(tc, udp_truncate_consistent);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_test(tc, empty_and_null);
	tcase_add_test(tc, bad_version);
	tcase_add_test(tc, v4_bad_ihl);
	tcase_add_test(tc, v4_ihl_past_total_length);
	tcase_add_test(tc, v4_total_length_mismatch);
	tcase_add_test(tc, v6_bad_payload_length);
	tcase_add_test(tc, v6_truncated_exthdr);
	tcase_add_test(tc, v6_truncated_fragment_header);
	tcase_add_test(tc, v6_long_chain);
	tcase_add_test(tc, tcp_bad_offset);
	tcase_add_test(tc, tcp_offset_past_ip_length);
	tcase_add_test(tc, udp_bad_length);
	tcase_add_test(tc, l4_short);
	tcase_add_test(tc, not_tcp_udp);
	tcase_add_test(tc, v6_chain_ends_badly);
	tcase_add_test(tc, v6_exthdr_ends_at_payload_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, status_names);
	tcase_add_test(tc, proto_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_add_test(tc, mutations);
	suite_add_tcase(s, tc);

	return s;
}
