"""Echo server on Python's `websockets` 10.4 for the Duplex client interop suite.

Run with Debian's /usr/bin/python3. Listens on 127.0.0.1, port 0, prints `PORT <n>` on stdout
and serves, by request path:
  /echo                      echoes every message with its type
  /close?code=C&reason=R     closes right after open with that code and reason
  /send?n=N&size=S           pushes N binary messages of S bytes (pattern below), then waits
On every path the subprotocol is the client's first offer found in ["chat", "superchat"]; with
no match the response has no Sec-WebSocket-Protocol header.
With the argument `--deflate`, permessage-deflate is accepted (websockets' defaults).
With `--tls CERT KEY` it serves wss:// with that PEM certificate and key.
Exits on SIGTERM or when stdin closes. Loopback only.
"""

import asyncio
import os
import signal
import ssl
import sys
from urllib.parse import parse_qs, urlsplit

import websockets

SUPPORTED = ["chat", "superchat"]


def pushed(k: int, size: int) -> bytes:
    """Message k of /send: byte j is (k * 7 + j) % 251, the same in every server of this suite."""
    period = bytes((k * 7 + j) % 251 for j in range(251))
    return (period * (size // 251 + 1))[:size]


def select_subprotocol(client_subprotocols, server_subprotocols):
    # The client's preference wins (the default sums both ranks, and ties are unordered).
    for p in client_subprotocols:
        if p in server_subprotocols:
            return p
    return None


async def handler(ws):
    url = urlsplit(ws.path)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    try:
        if url.path == "/close":
            await ws.close(int(query.get("code", 1000)), query.get("reason", ""))
        elif url.path == "/send":
            for k in range(int(query.get("n", 0))):
                await ws.send(pushed(k, int(query.get("size", 0))))
            await ws.wait_closed()
        else:  # /echo, /protocols
            async for message in ws:
                await ws.send(message)
    except websockets.ConnectionClosed:
        pass  # the test decides whether that was right; nothing to log here


async def main():
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def finish():
        if not done.done():
            done.set_result(None)

    def on_stdin():
        try:
            data = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(sys.stdin.fileno())
            finish()

    loop.add_signal_handler(signal.SIGTERM, finish)
    loop.add_reader(sys.stdin.fileno(), on_stdin)
    tls = None
    if "--tls" in sys.argv:
        at = sys.argv.index("--tls")
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[at + 1], sys.argv[at + 2])
    async with websockets.serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=SUPPORTED,
        select_subprotocol=select_subprotocol,
        compression="deflate" if "--deflate" in sys.argv else None,
        max_size=None,
        ping_interval=None,
        close_timeout=1,
        ssl=tls,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await done
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
