/* pkt: bounds-checked parser of the IP packets NFQUEUE hands over (pure). */
#ifndef GK_PKT_H
#define GK_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* TCP flag bits as on the wire (byte 13 of the TCP header). */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80

/* Bound on IPv6 extension headers walked before giving up. */
#define PKT_MAX_EXTHDRS 8

enum pkt_status {
	PKT_OK = 0,
	PKT_ESHORT,	/* shorter than the IP header */
	PKT_EVERSION,	/* neither IPv4 nor IPv6 */
	PKT_EIHL,	/* IPv4 header length out of range */
	PKT_ELENGTH,	/* IP length field disagrees with the bytes */
	PKT_EFRAGMENT,	/* a non-first fragment: carries no ports */
	PKT_EEXTHDR,	/* IPv6 extension header chain truncated or too long */
	PKT_EPROTO,	/* not TCP or UDP */
	PKT_EL4SHORT,	/* transport header truncated */
	PKT_ETCPOFF,	/* TCP data offset out of range */
	PKT_EUDPLEN,	/* UDP length field out of range */
	PKT_NSTATUS
};

struct pkt {
	struct addr src, dst;
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t tcpflags;	/* raw flag byte, TCPF_* */
	uint16_t sport, dport;	/* host order */
	uint32_t tcpseq;	/* host order */
	const uint8_t *payload;	/* points into the parsed buffer */
	size_t payload_len;	/* bytes at payload (all of them, unless cut) */
	uint8_t truncated;	/* the buffer holds only the packet's head */
};

/* Parse buf, the first len bytes of a packet of wire_len bytes (the
 * kernel's copy range may cut it; 0 or len: buf is the whole packet). */
enum pkt_status pkt_parse(const uint8_t *buf, size_t len, size_t wire_len,
    struct pkt *out);
/* Short stable name for logs and counters, e.g. "l4-short". */
const char *pkt_status_name(enum pkt_status s);
/* Only the source address of buf, as pkt_parse() would give it when the
 * packet is well formed (a hint's key: checks the version and the header
 * length alone).  0, or -1 when buf is not long enough for one. */
int pkt_source(const uint8_t *buf, size_t len, struct addr *src);
/* "tcp", "udp", or "other". */
const char *pkt_proto_name(uint8_t proto);

#endif
