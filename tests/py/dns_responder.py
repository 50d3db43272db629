"""A tiny authoritative DNS responder on UDP for the skynet.dns tests (tests/lua_channel.rs).

usage: dns_responder.py
Binds a free loopback UDP port and prints "PORT <n>", then "Q <name> <type>" for each
query it receives (type A, AAAA or the number). Exits when stdin closes.

Zone (answers name the question through a compression pointer, as real servers do):
  host-a.test  A 10.1.2.3, 10.1.2.4 (TTL 300)
  host6.test   AAAA 2001:db8::1 (TTL 300); no A record
  alias.test   CNAME host-a.test, plus host-a.test's A records
  chain.test   CNAME target.test only;  target.test A 10.9.9.9
  zero.test    A 10.0.0.1 with TTL 0
  drop1.test   the first query is dropped, later ones get A 10.5.5.5
  drop.test    never answered
  junk.test    a truncated reply and a reply with another id first, then A 10.6.6.6
  anything else: NXDOMAIN
"""

import ipaddress
import os
import selectors
import socket
import struct
import sys

TYPES = {1: "A", 5: "CNAME", 28: "AAAA"}


def encode_name(name):
    out = b""
    for label in name.split("."):
        out += struct.pack("B", len(label)) + label.encode()
    return out + b"\0"


def record(owner, rtype, ttl, rdata):
    # owner is either bytes (already encoded, e.g. a pointer) or a name
    if isinstance(owner, str):
        owner = encode_name(owner)
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def a(ip):
    return ipaddress.IPv4Address(ip).packed


def aaaa(ip):
    return ipaddress.IPv6Address(ip).packed


QUESTION = b"\xc0\x0c"  # pointer to the question name at offset 12


def answers(name, qtype):
    """(rcode, [records]) for a question."""
    if name == "host-a.test":
        if qtype == 1:
            return 0, [record(QUESTION, 1, 300, a("10.1.2.3")), record(QUESTION, 1, 300, a("10.1.2.4"))]
        return 0, []
    if name == "host6.test":
        if qtype == 28:
            return 0, [record(QUESTION, 28, 300, aaaa("2001:db8::1"))]
        return 0, []
    if name == "alias.test":
        if qtype == 1:
            return 0, [
                record(QUESTION, 5, 300, encode_name("host-a.test")),
                record("host-a.test", 1, 300, a("10.1.2.3")),
                record("host-a.test", 1, 300, a("10.1.2.4")),
            ]
        return 0, []
    if name == "chain.test":
        return 0, [record(QUESTION, 5, 300, encode_name("target.test"))]
    if name == "target.test" and qtype == 1:
        return 0, [record(QUESTION, 1, 300, a("10.9.9.9"))]
    if name == "zero.test" and qtype == 1:
        return 0, [record(QUESTION, 1, 0, a("10.0.0.1"))]
    if name == "drop1.test" and qtype == 1:
        return 0, [record(QUESTION, 1, 300, a("10.5.5.5"))]
    if name == "junk.test" and qtype == 1:
        return 0, [record(QUESTION, 1, 300, a("10.6.6.6"))]
    return 3, []


def parse_question(packet):
    tid, _flags, qdcount = struct.unpack(">HHH", packet[:6])
    pos = 12
    labels = []
    while packet[pos] != 0:
        n = packet[pos]
        labels.append(packet[pos + 1:pos + 1 + n].decode())
        pos += 1 + n
    qtype, qclass = struct.unpack(">HH", packet[pos + 1:pos + 5])
    return tid, qdcount, ".".join(labels), qtype, packet[12:pos + 5]


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    seen = {}
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is sys.stdin:
                if not os.read(sys.stdin.fileno(), 4096):
                    return
                continue
            packet, peer = sock.recvfrom(4096)
            tid, qdcount, name, qtype, question = parse_question(packet)
            print(f"Q {name} {TYPES.get(qtype, qtype)}", flush=True)
            seen[name] = seen.get(name, 0) + 1
            if name == "drop.test" or (name == "drop1.test" and seen[name] == 1):
                continue
            rcode, recs = answers(name, qtype)
            flags = 0x8180 | rcode  # response, RD, RA
            header = struct.pack(">HHHHHH", tid, flags, qdcount, len(recs), 0, 0)
            reply = header + question + b"".join(recs)
            if name == "junk.test":
                sock.sendto(reply[:20], peer)
                sock.sendto(struct.pack(">H", (tid + 1) & 0xFFFF) + reply[2:], peer)
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
