"""A `websockets` server for tests/lua/ws_client.lua (our websocket client).

usage: ws_server.py HOST PORT [CERT KEY]   (with a certificate and key: wss)
HOST may be a name (localhost: every address it has). Prints "PORT <n>" once listening, "SNI <name>" for each TLS server name a client sent,
"HDR <value>" for each X-Test request header and "CLOSED <path> <code> <reason>" when a
connection ends. Runs until killed.
"""

import asyncio
import http
import ssl
import sys

import websockets


def log(*words):
    print(*words, flush=True)


async def handler(ws, path):
    log("HDR", ws.request_headers.get("X-Test"))
    try:
        async for msg in ws:
            if msg == "frag please":
                await ws.send(["part1-", "part2"])
            elif msg == "big please":
                await ws.send(bytes(range(256)) * 400)
            elif msg == "ping please":
                await asyncio.wait_for(await ws.ping(b"srv"), 30)
                await ws.send("pong received")
            elif msg == "close please":
                await ws.close(4002, "server bye")
            else:
                await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    log("CLOSED", path, ws.close_code, ws.close_reason)


async def refuse_some(path, headers):
    if path == "/forbidden":
        return http.HTTPStatus.FORBIDDEN, [], b"no websocket here\n"
    return None


async def main():
    ctx = None
    host, port = sys.argv[1], int(sys.argv[2])
    if len(sys.argv) == 5:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        ctx.sni_callback = lambda sock, name, _ctx: log("SNI", name)
    async with websockets.serve(handler, host, port, ssl=ctx, process_request=refuse_some) as server:
        log("PORT", server.sockets[0].getsockname()[1])
        await asyncio.Future()


asyncio.run(main())
