"""UDP DNS responder standing in for the public servers of tutorial chapter 11.

usage: tutorial2_dns.py
Binds a free loopback UDP port, prints "PORT <n>", then answers A queries from the zone
below (anything else: NXDOMAIN) and prints "Q <name>" per query. Exits when stdin closes.
"""

import ipaddress
import os
import selectors
import socket
import struct
import sys

# The addresses the tutorial's own runs printed.
ZONE = {
    "github.com": ["192.30.255.112", "192.30.255.113"],
    "www.baidu.com": ["14.215.177.39"],
}


def question(packet):
    """(id, name, qtype, raw question section) of a query."""
    tid = struct.unpack(">H", packet[:2])[0]
    pos, labels = 12, []
    while packet[pos]:
        size = packet[pos]
        labels.append(packet[pos + 1:pos + 1 + size].decode())
        pos += 1 + size
    qtype = struct.unpack(">H", packet[pos + 1:pos + 3])[0]
    return tid, ".".join(labels), qtype, packet[12:pos + 5]


def reply(packet):
    tid, name, qtype, raw = question(packet)
    print(f"Q {name}", flush=True)
    ips = ZONE.get(name) if qtype == 1 else None
    found = name in ZONE
    rrs = b""
    for ip in ips or []:
        # owner: a pointer to the question's name at offset 12
        rrs += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 600, 4) + ipaddress.IPv4Address(ip).packed
    rcode = 0 if found else 3
    head = struct.pack(">HHHHHH", tid, 0x8180 | rcode, 1, len(ips or []), 0, 0)
    return head + raw + rrs


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
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
            sock.sendto(reply(packet), peer)


if __name__ == "__main__":
    main()
