/* Helpers shared by the unit tests. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "testutil.h"

struct config *
tu_config(const char *text)
{
	static struct config cfg;
	static struct cfg_errors err;
	unsigned n = config_parse(text, strlen(text), "test.conf", &cfg, &err);
	unsigned i;

	/* The state machine's tests use one-knock doors for brevity; the
	 * config refuses them (check_config tests that), nothing else. */
	for (i = 0; i < n && i < CFG_MAX_ERRORS; i++)
		ck_assert_msg(strstr(err.msg[i], "a one-port sequence is "
		    "completed by any scan") != NULL, "config errors: %u, "
		    "first: %s", n, err.msg[i]);
	return &cfg;
}

struct addr
tu_addr(const char *text)
{
	struct addr a;

	ck_assert_int_eq(addr_parse(text, &a), 0);
	return a;
}

struct pkt
tu_pkt(const char *src, const char *dst, uint8_t proto, uint16_t dport,
    uint8_t tcpflags)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(addr_parse(src, &p.src), 0);
	ck_assert_int_eq(addr_parse(dst, &p.dst), 0);
	p.proto = proto;
	p.sport = 40000;
	p.dport = dport;
	p.tcpflags = proto == IPPROTO_TCP ? tcpflags : 0;
	return p;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t
tu_raw(uint8_t *buf, size_t len, const char *src, const char *dst,
    uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcpflags)
{
	struct addr s, d;
	size_t iph, l4 = proto == IPPROTO_TCP ? 20 : 8, total;
	uint8_t *t;

	ck_assert_int_eq(addr_parse(src, &s), 0);
	ck_assert_int_eq(addr_parse(dst, &d), 0);
	iph = s.family == AF_INET ? 20 : 40;
	total = iph + l4;
	ck_assert_uint_le(total, len);
	memset(buf, 0, total);
	if (s.family == AF_INET) {
		buf[0] = 0x45;
		put16(buf + 2, (uint16_t)total);
		buf[8] = 64;
		buf[9] = proto;
		memcpy(buf + 12, s.b, 4);
		memcpy(buf + 16, d.b, 4);
	} else {
		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)l4);
		buf[6] = proto;
		buf[7] = 64;
		memcpy(buf + 8, s.b, 16);
		memcpy(buf + 24, d.b, 16);
	}
	t = buf + iph;
	put16(t, sport);
	put16(t + 2, dport);
	if (proto == IPPROTO_TCP) {
		t[4] = 0x12;	/* some sequence number */
		t[12] = 5 << 4;
		t[13] = tcpflags;
		put16(t + 14, 65535);
	} else
		put16(t + 4, (uint16_t)l4);
	return total;
}
