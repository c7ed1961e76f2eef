#!/usr/bin/env python3
"""Write the seed corpus of the pkt fuzz target: tests/fuzz/corpus/pkt/.

Each seed is a raw IP packet as NFQUEUE hands it over (no link header),
named for what it exercises.  The files are committed; run this again only
to change the set (it rewrites only the files it names).

    python3 tests/fuzz/gen_pkt_corpus.py [OUTDIR]
"""
import os
import struct
import sys

SRC4, DST4 = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8ffee0000000000000000dead")
TCP, UDP = 6, 17
SYN, ACK, PSH, ECE, CWR = 0x02, 0x10, 0x08, 0x40, 0x80
MSS = bytes([2, 4, 0x05, 0xb4])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp(sport, dport, flags=SYN, seq=0x11223344, opts=MSS, payload=b"",
        doff=None):
    if doff is None:
        doff = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, doff << 4, flags,
                      64240, 0, 0)
    return hdr + opts + payload


def udp(sport, dport, payload=b"", ulen=None):
    if ulen is None:
        ulen = 8 + len(payload)
    return struct.pack("!HHHH", sport, dport, ulen, 0) + payload


def ip4(proto, l4, opts=b"", total=None, frag=0, ihl=None):
    if ihl is None:
        ihl = (20 + len(opts)) // 4
    if total is None:
        total = 20 + len(opts) + len(l4)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 0x1234, frag,
                      64, proto, 0, SRC4, DST4) + opts
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + l4


def ext(nh, body_len=6):
    """Hop-by-hop, routing or destination options header: next, len, body
    padded to a multiple of 8 bytes (len in 8-octet units minus one)."""
    size = 2 + body_len
    assert size % 8 == 0
    return bytes([nh, size // 8 - 1]) + bytes(body_len)


def ah(nh):
    """Authentication header with a 96-bit ICV: 24 bytes, len = 24/4 - 2."""
    return bytes([nh, 4, 0, 0]) + struct.pack("!II", 0x100, 1) + bytes(12)


def frag6(nh, offset=0, more=1):
    return bytes([nh, 0]) + struct.pack("!HI", offset << 3 | more, 0xabcd)


def ip6(nh, rest, plen=None):
    if plen is None:
        plen = len(rest)
    return struct.pack("!IHBB16s16s", 6 << 28, plen, nh, 64, SRC6,
                       DST6) + rest


def seeds():
    s = {}
    # IPv4, accepted.
    s["v4-tcp-syn"] = ip4(TCP, tcp(40000, 7000))
    s["v4-tcp-syn-ecn"] = ip4(TCP, tcp(40000, 7000, SYN | ECE | CWR))
    s["v4-tcp-syn-noopts"] = ip4(TCP, tcp(40001, 22, opts=b""))
    s["v4-tcp-ack-payload"] = ip4(TCP, tcp(22, 40001, ACK | PSH, opts=b"",
                                           payload=b"SSH-2.0-x\r\n"))
    s["v4-tcp-opts-max"] = ip4(TCP, tcp(40002, 9000, opts=MSS + bytes(
        [1] * 36)))
    s["v4-udp-knock"] = ip4(UDP, udp(40003, 8000, b"knock"))
    s["v4-udp-empty"] = ip4(UDP, udp(40004, 51820))
    s["v4-udp-spa-512"] = ip4(UDP, udp(40023, 62201, bytes(range(256)) * 2))
    s["v4-ipopts-tcp"] = ip4(TCP, tcp(40005, 7000), opts=bytes([1, 1, 1, 0]))
    s["v4-ipopts-max-udp"] = ip4(UDP, udp(40006, 8000),
                                 opts=bytes([1] * 39 + [0]))
    s["v4-eth-padding"] = ip4(UDP, udp(40007, 8000)) + bytes(18)
    s["v4-frag-first-mf"] = ip4(TCP, tcp(40008, 7000), frag=0x2000)
    s["v4-dont-fragment"] = ip4(TCP, tcp(40009, 7000), frag=0x4000)
    # IPv4, refused.
    s["v4-frag-nonfirst"] = ip4(TCP, tcp(40010, 7000), frag=0x2000 | 185)
    s["v4-icmp-echo"] = ip4(1, bytes([8, 0, 0, 0, 0, 1, 0, 1]) + b"ping")
    s["v4-short-19"] = ip4(TCP, tcp(40011, 7000))[:19]
    s["v4-ihl-4"] = ip4(TCP, tcp(40012, 7000), ihl=4)
    s["v4-ihl-past-end"] = ip4(UDP, b"", ihl=15)
    s["v4-total-short"] = ip4(TCP, tcp(40013, 7000), total=19)
    s["v4-total-past-end"] = ip4(TCP, tcp(40014, 7000), total=200)
    s["v4-tcp-truncated"] = ip4(TCP, tcp(40015, 7000))[:35]
    s["v4-tcp-l4-short"] = ip4(TCP, tcp(40016, 7000)[:12])
    s["v4-tcp-doff-4"] = ip4(TCP, tcp(40017, 7000, opts=b"", doff=4))
    s["v4-tcp-doff-past-end"] = ip4(TCP, tcp(40018, 7000, doff=15))
    s["v4-udp-len-7"] = ip4(UDP, udp(40019, 8000, b"abc", ulen=7))
    s["v4-udp-len-past-end"] = ip4(UDP, udp(40020, 8000, b"abc", ulen=400))
    s["v4-udp-len-short"] = ip4(UDP, udp(40021, 8000, b"abcdef", ulen=10))
    s["v4-udp-l4-short"] = ip4(UDP, udp(40022, 8000)[:6])
    # IPv6, accepted.
    s["v6-tcp-syn"] = ip6(TCP, tcp(40100, 7000))
    s["v6-tcp-syn-ecn"] = ip6(TCP, tcp(40100, 7000, SYN | ECE | CWR))
    s["v6-udp-knock"] = ip6(UDP, udp(40101, 8000, b"knock"))
    s["v6-hop-dst-tcp"] = ip6(0, ext(60) + ext(TCP) + tcp(40102, 9000))
    s["v6-hop-route-frag-tcp"] = ip6(0, ext(43) + ext(44, 14) +
                                     frag6(TCP) + tcp(40103, 7000))
    s["v6-ah-udp"] = ip6(51, ah(UDP) + udp(40104, 8000, b"x"))
    s["v6-hop-ah-dst-tcp"] = ip6(0, ext(51) + ah(60) + ext(TCP) +
                                 tcp(40105, 7000))
    s["v6-frag-first"] = ip6(44, frag6(UDP) + udp(40106, 8000, b"first"))
    chain = b""
    for _ in range(8):
        chain = ext(60) + chain
    s["v6-exthdr-8"] = ip6(60, chain[:-8] + ext(TCP) + tcp(40107, 7000))
    s["v6-dst-tcp-data-900"] = ip6(60, ext(TCP, 30) + tcp(
        40115, 443, ACK | PSH, payload=b"x" * 900))
    s["v6-padding"] = ip6(UDP, udp(40108, 8000, b"pad")) + bytes(9)
    # IPv6, refused.
    s["v6-exthdr-9"] = ip6(60, ext(60) + chain[:-8] + ext(TCP) +
                           tcp(40109, 7000))
    s["v6-frag-nonfirst"] = ip6(44, frag6(TCP, offset=185, more=0) +
                                b"rest of the segment")
    s["v6-frag-hdr-truncated"] = ip6(44, frag6(TCP)[:6])
    s["v6-exthdr-truncated"] = ip6(0, ext(TCP, 14)[:10])
    s["v6-exthdr-len-past-end"] = ip6(0, bytes([TCP, 200]) + bytes(6) +
                                      tcp(40110, 7000))
    s["v6-jumbogram"] = ip6(TCP, tcp(40111, 7000), plen=0)
    s["v6-plen-past-end"] = ip6(TCP, tcp(40112, 7000), plen=1000)
    s["v6-short-39"] = ip6(TCP, b"")[:39]
    s["v6-icmpv6-echo"] = ip6(58, bytes([128, 0, 0, 0, 0, 1, 0, 1]))
    s["v6-no-next-header"] = ip6(0, ext(59))
    s["v6-tcp-truncated"] = ip6(TCP, tcp(40113, 7000)[:18])
    s["v6-udp-len-past-end"] = ip6(UDP, udp(40114, 8000, b"ab", ulen=99))
    # Neither.
    s["empty"] = b""
    s["version-5"] = bytes([0x50]) + ip4(TCP, tcp(1, 2))[1:]
    s["version-0"] = bytes(40)
    s["one-byte-v4"] = b"\x45"
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus",
                                                             "pkt")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
