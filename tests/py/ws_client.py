"""Drives tests/lua/ws_server.lua: the `websockets` package as a client (echo, fragments,
ping/pong, closes) and raw sockets for what that package refuses to send (unmasked and
oversized frames, a plain HTTP request).

usage: ws_client.py PORT ws|wss
Prints "WSCLIENT OK" when every check held; raises (exit status 1) otherwise.
"""

import asyncio
import base64
import hashlib
import os
import socket
import ssl
import struct
import sys

import websockets

PORT = int(sys.argv[1])
SCHEME = sys.argv[2]
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
IO_LIMIT = 30


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def url(path):
    return f"{SCHEME}://127.0.0.1:{PORT}{path}"


def ws_options():
    return {"ssl": tls_context()} if SCHEME == "wss" else {}


def expect(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


async def close_of(ws):
    """The close frame the server sent, once the connection ended."""
    try:
        msg = await asyncio.wait_for(ws.recv(), IO_LIMIT)
    except websockets.ConnectionClosed as e:
        return e.rcvd
    raise AssertionError(f"expected the connection to close, got a message {msg!r}")


async def echo_session():
    headers = {"X-Real-IP": "10.1.2.3"}
    async with websockets.connect(url("/echo?x=1"), extra_headers=headers, **ws_options()) as ws:
        await ws.send("hello")
        expect(await ws.recv(), "hello", "text echo")
        await ws.send(b"\x00\x01\xfe\xff")
        expect(await ws.recv(), b"\x00\x01\xfe\xff", "binary echo")
        await ws.send(["frag1-", "frag2-", "frag3"])
        expect(await ws.recv(), "frag1-frag2-frag3", "fragmented text")
        await ws.send([b"\x01" * 70000, b"\x02" * 70000])
        expect(await ws.recv(), b"\x01" * 70000 + b"\x02" * 70000, "fragmented binary")
        big = os.urandom(200 * 1024)
        await ws.send(big)
        expect(await ws.recv(), big, "200K binary echo")
        mid = "m" * 300
        await ws.send(mid)
        expect(await ws.recv(), mid, "300 byte text (16 bit length)")
        await ws.send("")
        expect(await ws.recv(), "", "empty message")
        await ws.send("who")
        expect(await ws.recv(), "url=/echo?x=1 real_ip=10.1.2.3", "url and x-real-ip")
        pong = await ws.ping(b"pp")
        await asyncio.wait_for(pong, IO_LIMIT)
        expect(await ws.recv(), "ping seen:pp", "server saw the ping")
        await ws.send("ping me")
        expect(await ws.recv(), "pong seen", "server saw our pong")
        await ws.close(4000, "bye")
        # the server answers a close with the same code
        expect(ws.close_code, 4000, "close code echoed")


async def server_close():
    async with websockets.connect(url("/close"), **ws_options()) as ws:
        await ws.send("close me")
        rcvd = await close_of(ws)
        expect((rcvd.code, rcvd.reason), (4001, "done"), "server close code and reason")


async def big_message():
    # every frame is within the limit, the message is not
    async with websockets.connect(url("/big-message"), **ws_options()) as ws:
        await ws.send([b"a" * 100000, b"b" * 100000, b"c" * 100000])
        rcvd = await close_of(ws)
        expect(rcvd.code, 1009, "close code for a message over the limit")


async def quit_session():
    async with websockets.connect(url("/quit"), **ws_options()) as ws:
        await ws.send("quit")
        await close_of(ws)


def raw_connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=IO_LIMIT)
    if SCHEME == "wss":
        s = tls_context().wrap_socket(s)
    return s


def read_until_close(s):
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
    return data


def raw_upgrade(path):
    s = raw_connect()
    key = base64.b64encode(os.urandom(16))
    s.sendall(
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise AssertionError(f"handshake cut short: {head!r}")
        head += chunk
    lines = head.decode().split("\r\n")
    expect(lines[0].split(" ")[1], "101", "raw upgrade status")
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
    fields = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    expect(fields.get("sec-websocket-accept"), accept, "Sec-WebSocket-Accept")
    return s


def close_code(data, what):
    """The status code of the close frame that `data` (server frames) must start with."""
    if len(data) < 4:
        raise AssertionError(f"{what}: no close frame, got {data!r}")
    b1, b2 = data[0], data[1]
    expect(b1, 0x88, f"{what}: a final close frame")
    expect(b2 & 0x80, 0, f"{what}: server frames are unmasked")
    return struct.unpack(">H", data[2:4])[0]


def unmasked_frame():
    s = raw_upgrade("/unmasked")
    s.sendall(bytes([0x81, 5]) + b"hello")
    expect(close_code(read_until_close(s), "unmasked frame"), 1002, "close code for an unmasked frame")
    s.close()


def big_frame():
    # only the header of a frame over the limit: the server must refuse before the payload
    s = raw_upgrade("/big-frame")
    s.sendall(bytes([0x82, 0x80 | 127]) + struct.pack(">Q", 300 * 1024) + b"\x01\x02\x03\x04")
    expect(close_code(read_until_close(s), "big frame"), 1009, "close code for a frame over the limit")
    s.close()


def plain_http():
    s = raw_connect()
    s.sendall(b"GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status = read_until_close(s).split(b"\r\n", 1)[0]
    expect(status.split(b" ")[1], b"426", "a request without Upgrade")
    s.close()


async def main():
    await echo_session()
    await server_close()
    await big_message()
    unmasked_frame()
    big_frame()
    plain_http()
    await quit_session()
    print("WSCLIENT OK", flush=True)


asyncio.run(main())
