"""Interop of `duplex serve` with Python's `websockets` 10.4 client (Debian python3-websockets).

Run: DUPLEX_BIN=build/dev/duplex /usr/bin/python3 -m unittest discover -v \
         -s tests/interop/python -p "test_*.py"
"""

import asyncio
import os
import unittest

import websockets
from websockets.exceptions import ConnectionClosedError
from websockets.frames import Close

from duplex_server import DuplexServer, client_context, step, text_of_bytes

SIZES = [0, 125, 126, 64 * 1024, 1024 * 1024]


def connect(url, **kwargs):
    """websockets.connect with bounded handshakes, no size limit of our own, no compression
    unless asked for."""
    kwargs.setdefault("compression", None)
    kwargs.setdefault("max_size", 64 * 1024 * 1024)
    kwargs.setdefault("open_timeout", 10)
    kwargs.setdefault("close_timeout", 10)
    if url.startswith("wss:"):
        kwargs.setdefault("ssl", client_context())
    return websockets.connect(url, **kwargs)


class AsyncTestCase(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        # IsolatedAsyncioTestCase runs the loop in debug mode; hashing 1 MiB is not a hang.
        asyncio.get_running_loop().slow_callback_duration = 5.0


class ServerTestCase(AsyncTestCase):
    """One server per test class, started with FLAGS."""

    FLAGS: tuple = ()
    TLS = False

    @classmethod
    def setUpClass(cls):
        cls.server = DuplexServer(*cls.FLAGS, tls=cls.TLS).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()


class EchoTest(ServerTestCase):
    async def echo(self, payload, path="/"):
        async with connect(self.server.path(path)) as ws:
            await step(ws.send(payload))
            return await step(ws.recv())

    async def test_text_sizes(self):
        for size in SIZES:
            with self.subTest(size=size):
                text = text_of_bytes(size)
                got = await self.echo(text)
                self.assertIsInstance(got, str)
                self.assertEqual(got.encode("utf-8"), text.encode("utf-8"))

    async def test_binary_sizes(self):
        for size in SIZES:
            with self.subTest(size=size):
                data = os.urandom(size)
                got = await self.echo(data)
                self.assertIsInstance(got, bytes)
                self.assertEqual(len(got), size)
                self.assertEqual(got, data)

    async def test_echo_path(self):
        text = "héllo wörld ✓ 😀"
        got = await self.echo(text, "/echo")
        self.assertIsInstance(got, str)
        self.assertEqual(got, text)
        data = os.urandom(300)
        got = await self.echo(data, "/echo")
        self.assertIsInstance(got, bytes)
        self.assertEqual(got, data)

    async def test_many_messages_in_order(self):
        async with connect(self.server.url) as ws:
            sent = [os.urandom(i * 37) if i % 2 else f"msg {i} ✓ " + "é" * i for i in range(30)]
            for m in sent:
                await step(ws.send(m))
            for m in sent:
                got = await step(ws.recv())
                self.assertIs(type(got), type(m))
                self.assertEqual(got, m)

    async def test_fragmented_text_list(self):
        async with connect(self.server.url) as ws:
            fragments = ["héllo ", "", "wörld ✓ ", "😀" * 1000]
            await step(ws.send(fragments))
            got = await step(ws.recv())
            self.assertIsInstance(got, str)
            self.assertEqual(got, "".join(fragments))

    async def test_fragmented_binary_async_iterator(self):
        fragments = [os.urandom(10), os.urandom(200), os.urandom(70_000)]

        async def gen():
            for f in fragments:
                yield f
                await asyncio.sleep(0.01)  # separate TCP writes

        async with connect(self.server.url) as ws:
            await step(ws.send(gen()))
            got = await step(ws.recv())
            self.assertIsInstance(got, bytes)
            self.assertEqual(got, b"".join(fragments))

    async def test_ping_pong_payload(self):
        # websockets resolves a pong waiter only when a pong carries that ping's payload, and
        # only one ping is outstanding at a time here, so resolution proves an exact echo.
        async with connect(self.server.url) as ws:
            for payload in (b"ping-payload", "ping ✓".encode(), b"", os.urandom(125)):
                with self.subTest(len=len(payload)):
                    pong_waiter = await step(ws.ping(payload))
                    await step(pong_waiter)
            await step(ws.send("after ping"))
            self.assertEqual(await step(ws.recv()), "after ping")

    async def test_first_offered_subprotocol_without_protocol_flag(self):
        # No --protocol: the client's first offer is chosen, on / and /echo.
        for path in ("/", "/echo"):
            with self.subTest(path=path):
                async with connect(self.server.path(path), subprotocols=["chat", "superchat"]) as ws:
                    self.assertEqual(ws.subprotocol, "chat")
                    self.assertEqual(ws.response_headers.get("Sec-WebSocket-Protocol"), "chat")
                    await step(ws.send("hello with a subprotocol ✓"))
                    self.assertEqual(await step(ws.recv()), "hello with a subprotocol ✓")

    async def test_no_offer_no_subprotocol(self):
        async with connect(self.server.url) as ws:
            self.assertIsNone(ws.subprotocol)
            self.assertIsNone(ws.response_headers.get("Sec-WebSocket-Protocol"))

    async def test_concurrent_clients(self):
        clients, messages = 20, 50

        async def run(c):
            async with connect(self.server.url) as ws:
                expected = [
                    f"client {c} message {i} ✓".encode() if i % 5 == 4 else f"client {c} message {i} ✓"
                    for i in range(messages)
                ]
                got = []
                for i, m in enumerate(expected):
                    await step(ws.send(m))
                    if i % 10 == 9:  # keep several in flight
                        while len(got) <= i:
                            got.append(await step(ws.recv()))
                while len(got) < messages:
                    got.append(await step(ws.recv()))
                return expected, got

        results = await step(asyncio.gather(*(run(c) for c in range(clients))), 60)
        for expected, got in results:
            self.assertEqual(len(got), len(expected))
            for e, g in zip(expected, got):
                self.assertIs(type(g), type(e))
                self.assertEqual(g, e)


class CloseTest(ServerTestCase):
    async def test_close_codes_echoed(self):
        for code in (1000, 1001, 3000, 4999):
            with self.subTest(code=code):
                ws = await step(connect(self.server.url))
                await step(ws.close(code, f"bye {code} ✓"), 15)
                self.assertEqual(ws.close_code, code)
                self.assertEqual(ws.close_reason, "")

    async def test_close_without_code(self):
        # The public API always sends a code; write an empty close frame explicitly.
        ws = await step(connect(self.server.url))
        await step(ws.write_close_frame(Close(1005, ""), b""))
        await step(ws.wait_closed(), 15)
        self.assertEqual(ws.close_code, 1005)
        self.assertEqual(ws.close_reason, "")

    async def test_close_after_traffic(self):
        async with connect(self.server.url) as ws:
            await step(ws.send("one"))
            self.assertEqual(await step(ws.recv()), "one")
            await step(ws.close(1000, "done"), 15)
            self.assertEqual(ws.close_code, 1000)


class MaxPayloadTest(ServerTestCase):
    FLAGS = ("--max-payload", "1024")

    async def test_at_limit_is_echoed(self):
        async with connect(self.server.url) as ws:
            data = os.urandom(1024)
            await step(ws.send(data))
            self.assertEqual(await step(ws.recv()), data)
            text = text_of_bytes(1024)
            await step(ws.send(text))
            self.assertEqual(await step(ws.recv()), text)

    async def assert_closed_1009(self, payload):
        ws = await step(connect(self.server.url))
        await step(ws.send(payload))
        with self.assertRaises(ConnectionClosedError):
            await step(ws.recv(), 15)
        await step(ws.wait_closed(), 15)
        self.assertEqual(ws.close_code, 1009)

    async def test_binary_over_limit(self):
        await self.assert_closed_1009(os.urandom(1025))

    async def test_text_over_limit(self):
        await self.assert_closed_1009(text_of_bytes(1025))

    async def test_fragments_over_limit(self):
        await self.assert_closed_1009([os.urandom(600), os.urandom(425)])


class SubprotocolTest(ServerTestCase):
    FLAGS = ("--protocol", "chat", "--protocol", "superchat")

    async def negotiated(self, offer):
        async with connect(self.server.url, subprotocols=offer) as ws:
            return ws.subprotocol, ws.response_headers.get("Sec-WebSocket-Protocol")

    async def test_client_order_wins(self):
        self.assertEqual(await self.negotiated(["superchat", "chat"]), ("superchat", "superchat"))
        self.assertEqual(await self.negotiated(["chat", "superchat"]), ("chat", "chat"))
        self.assertEqual(await self.negotiated(["other", "chat"]), ("chat", "chat"))

    async def test_unsupported_offer(self):
        # The server must answer without Sec-WebSocket-Protocol. websockets 10.4's client does
        # NOT fail the handshake in that case (legacy/client.py process_subprotocol only checks
        # a header that is present): it connects with subprotocol None.
        async with connect(self.server.url, subprotocols=["other"]) as ws:
            self.assertIsNone(ws.response_headers.get("Sec-WebSocket-Protocol"))
            self.assertIsNone(ws.subprotocol)

    async def test_no_offer(self):
        self.assertEqual(await self.negotiated(None), (None, None))


class OneSubprotocolTest(ServerTestCase):
    FLAGS = ("--protocol", "superchat")

    async def test_listed_one_is_chosen(self):
        async with connect(self.server.path("/echo"), subprotocols=["chat", "superchat"]) as ws:
            self.assertEqual(ws.subprotocol, "superchat")
            self.assertEqual(ws.response_headers.get("Sec-WebSocket-Protocol"), "superchat")
            await step(ws.send("hello superchat"))
            self.assertEqual(await step(ws.recv()), "hello superchat")


class ShutdownTest(AsyncTestCase):
    async def test_sigterm_closes_1001_and_exits_0(self):
        server = DuplexServer().start()
        try:
            clients = [await step(connect(server.url)) for _ in range(3)]
            for ws in clients:
                await step(ws.send("ready"))
                self.assertEqual(await step(ws.recv()), "ready")
            server.terminate()
            for ws in clients:
                await step(ws.wait_closed(), 15)
                self.assertEqual(ws.close_code, 1001)
            self.assertEqual(await server.wait_exit(10), 0, server.output())
        finally:
            server.stop()


class DeflateTest(AsyncTestCase):
    """permessage-deflate, which websockets offers by default, in each `--deflate` mode:
    the agreed header, round trips of 0 B to 8 MiB text and binary, bytes on the wire."""

    SIZES = [0, 1, 127, 128, 1024, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024]
    MODES = {
        "shared": "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "dedicated": "permessage-deflate",
    }

    @staticmethod
    def json_like(size):
        parts, length, i = [], 0, 0
        while length < size:
            parts.append('{"id":%d,"name":"user-%d","tags":["héllo","wörld"]},' % (i, i % 97))
            length += len(parts[-1].encode())
            i += 1
        # Cut at `size` bytes without splitting a character; text_of pads the rest.
        return "".join(parts).encode()[:size].decode("utf-8", "ignore")

    def text_of(self, size):
        text = self.json_like(size)
        text += "x" * (size - len(text.encode()))
        self.assertEqual(len(text.encode()), size)
        return text

    async def test_modes(self):
        for mode, answer in self.MODES.items():
            server = DuplexServer("--deflate", mode).start()
            try:
                async with connect(server.url, compression="deflate") as ws:
                    with self.subTest(mode=mode):
                        self.assertEqual(ws.response_headers.get("Sec-WebSocket-Extensions"),
                                         answer)
                        self.assertEqual([e.name for e in ws.extensions], ["permessage-deflate"])
                        for size in self.SIZES:
                            text = self.text_of(size)
                            await step(ws.send(text))
                            self.assertEqual(await step(ws.recv()), text, size)
                            data = os.urandom(size)
                            await step(ws.send(data))
                            self.assertEqual(await step(ws.recv()), data, size)
                        # Compressible data is compressed both ways: count the bytes on the wire.
                        text = self.text_of(1 << 20)
                        received = []
                        original = ws.data_received
                        ws.data_received = lambda d: (received.append(len(d)), original(d))
                        await step(ws.send(text))
                        self.assertEqual(await step(ws.recv()), text)
                        ws.data_received = original
                        self.assertGreater(sum(received), 0)
                        self.assertLess(sum(received), len(text) // 4)
            finally:
                server.stop()

    async def test_off_declines(self):
        server = DuplexServer("--deflate", "off").start()
        try:
            async with connect(server.url, compression="deflate") as ws:
                self.assertIn("permessage-deflate",
                              ws.request_headers.get("Sec-WebSocket-Extensions", ""))
                self.assertIsNone(ws.response_headers.get("Sec-WebSocket-Extensions"))
                self.assertEqual(ws.extensions, [])
                text = text_of_bytes(4096)
                await step(ws.send(text))
                self.assertEqual(await step(ws.recv()), text)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()


# The same cases over wss://, the client trusting the test CA.
class EchoOverTlsTest(EchoTest):
    TLS = True


class CloseOverTlsTest(CloseTest):
    TLS = True


class MaxPayloadOverTlsTest(MaxPayloadTest):
    TLS = True
