"""A `websockets` client for the echo example (examples/simplewebsocket.lua).

usage: ws_echo.py PORT ws|wss
Sends a text and a binary message and expects each back, pings, then closes with 1000
"done". Prints "ECHO OK" when all of that held; raises (exit status 1) otherwise.
"""

import asyncio
import ssl
import sys

import websockets

IO_LIMIT = 30


async def main(port, scheme):
    options = {}
    if scheme == "wss":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        options["ssl"] = ctx
    url = f"{scheme}://127.0.0.1:{port}/echo"
    async with websockets.connect(url, **options) as ws:
        for msg in ["hello from python", "x" * 70000]:
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), IO_LIMIT)
            if got != msg:
                raise AssertionError(f"echo of a {len(msg)} byte text: got {got[:40]!r}")
        # the example answers in the type it was sent
        await ws.send(b"\x00\x01\xff")
        got = await asyncio.wait_for(ws.recv(), IO_LIMIT)
        if got != b"\x00\x01\xff":
            raise AssertionError(f"binary echo: got {got!r}")
        await asyncio.wait_for(await ws.ping(b"are you there"), IO_LIMIT)
        await ws.close(1000, "done")
        if ws.close_code != 1000:
            raise AssertionError(f"close code {ws.close_code}")
    print("ECHO OK", flush=True)


asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
