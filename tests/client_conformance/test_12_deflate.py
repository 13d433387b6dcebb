"""Families 12 and 13 (client side): permessage-deflate with `duplex connect --deflate`.

The suite's server answers the client's offer the way Autobahn's tester does for each
parameter set of family 13, sends compressed messages (with the server parameters it
answered), and checks the client's echoes, which it inflates with the client
parameters it answered (a window of client_max_window_bits only). Duplex additions:
the offer itself, and answers that must fail the handshake (RFC 7692 section 7)."""

import sys
import os
import unittest
import zlib

from clientharness import OP_BIN, OP_TEXT, ClientTestCase, Message, sframe

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))
from deflate_support import SIZES, TAIL, Deflate, messages, parse_params  # noqa: E402

OFFER = "permessage-deflate; client_max_window_bits"

# Family 13's sets as the tester (server) answers a client that offers client_max_window_bits.
ANSWERS = {
    1: "permessage-deflate",
    2: "permessage-deflate; client_no_context_takeover",
    3: "permessage-deflate; client_max_window_bits=9",
    4: "permessage-deflate; client_max_window_bits=15",
    5: "permessage-deflate; client_no_context_takeover; client_max_window_bits=9",
    6: "permessage-deflate; client_no_context_takeover; client_max_window_bits=15",
    # Not in Autobahn: the server's own parameters.
    8: "permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
}


class ServerSide(Deflate):
    """The server's half: compresses with server_*, inflates the client's with client_*."""

    def compress(self, data):
        if self._c is None or not self.server_takeover:
            self._c = zlib.compressobj(6, zlib.DEFLATED, -max(9, self.server_bits))
        out = self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4]

    def decompress(self, payload):
        if self._d is None or not self.client_takeover:
            self._d = zlib.decompressobj(-self.client_bits)
        return self._d.decompress(payload + TAIL)


class Deflate13(ClientTestCase):
    echo = True

    def _session(self, answer, flags=("--deflate", "--deflate-threshold", "0")):
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args(flags))
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        self.assertEqual(req.header_all("Sec-WebSocket-Extensions"), [OFFER])
        peer.accept_upgrade(req, add=[("Sec-WebSocket-Extensions", answer)])
        peer.deflate = True
        return peer, ServerSide(parse_params(answer))

    def _case(self, n, i):
        length, frag = SIZES[i - 1]
        peer, side = self._session(ANSWERS[n])
        opcode, payloads = messages(1, length, 3)
        for payload in payloads:
            body = side.compress(payload)
            if frag and len(body) > frag:
                frames = [sframe(OP_TEXT, body[:frag], fin=False, rsv=4)]
                for pos in range(frag, len(body), frag):
                    frames.append(sframe(0, body[pos:pos + frag], fin=pos + frag >= len(body)))
                peer.send(b"".join(frames))
            else:
                peer.send(sframe(opcode, body, rsv=4))
            ev = peer.recv_client_event(what="an echo")
            self.assertIsInstance(ev, Message)
            self.assertEqual(ev.opcode, opcode)
            # Without context takeover a message that does not shrink goes out plain.
            if length >= 256:
                self.assertTrue(ev.compressed, "the echo was not compressed")
            self.assertEqual(side.decompress(ev.payload) if ev.compressed else ev.payload,
                             payload)
        self.server_close(peer, 1000)
        self.expect_exit(peer.client, 0)


def _add_cases(cls):
    for n in ANSWERS:
        for i in (1, 3, 5, 8, 10, 11, 16, 18):
            def fn(self, n=n, i=i):
                self._case(n, i)
            fn.__name__ = "test_13_%d_%d" % (n, i)
            setattr(cls, fn.__name__, fn)
    return cls


_add_cases(Deflate13)


class DeflateAnswers(ClientTestCase):
    """Answers that break the offer fail the handshake (Duplex additions)."""

    def _broken(self, answer, *phrases):
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args(["--deflate"]))
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        peer.accept_upgrade(req, add=[("Sec-WebSocket-Extensions", answer)])
        peer.expect_no_bytes_then_eof()
        self.expect_exit(client, 1, "handshake failed", *phrases)

    def test_12_x1_unknown_parameter(self):
        self._broken("permessage-deflate; foo=1", "unknown parameter foo")

    def test_12_x2_repeated_parameter(self):
        self._broken("permessage-deflate; client_no_context_takeover; client_no_context_takeover",
                     "repeated parameter")

    def test_12_x3_server_bits_without_value(self):
        self._broken("permessage-deflate; server_max_window_bits", "server_max_window_bits")

    def test_12_x4_server_bits_out_of_range(self):
        self._broken("permessage-deflate; server_max_window_bits=7", "server_max_window_bits")

    def test_12_x5_client_bits_without_value(self):
        self._broken("permessage-deflate; client_max_window_bits", "without a value")

    def test_12_x6_flag_with_value(self):
        self._broken("permessage-deflate; server_no_context_takeover=1", "with a value")

    def test_12_x7_answered_twice(self):
        self._broken("permessage-deflate, permessage-deflate", "more than once")

    def test_12_x8_not_offered(self):
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args())
        peer = self.accept(lst, client)
        req = peer.read_http_request()
        self.assertEqual(req.header_all("Sec-WebSocket-Extensions"), [])
        peer.accept_upgrade(req, add=[("Sec-WebSocket-Extensions", "permessage-deflate")])
        peer.expect_no_bytes_then_eof()
        self.expect_exit(client, 1, "handshake failed", "not offered")

    def test_12_x9_declined_offer_means_plain_frames(self):
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args(["--deflate"]))
        peer = self.accept(lst, client)
        peer.accept_upgrade(peer.read_http_request())
        payload = b"no extension agreed " * 50
        peer.send(sframe(OP_BIN, payload))
        ev = peer.recv_client_event()
        self.assertEqual((ev.opcode, ev.payload, ev.compressed), (OP_BIN, payload, False))
        # RSV1 is then a protocol error.
        peer.send(sframe(OP_TEXT, bytes.fromhex("f248cdc9c90700"), rsv=4))
        self.assert_failed(peer, 1002)

    def test_12_x10_corrupt_data_fails_1007(self):
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args(["--deflate"]))
        peer = self.accept(lst, client)
        peer.accept_upgrade(peer.read_http_request(),
                            add=[("Sec-WebSocket-Extensions", "permessage-deflate")])
        peer.deflate = True
        peer.send(sframe(OP_BIN, b"\xff\xfe\xfd", rsv=4))
        self.assert_failed(peer, 1007)

    def test_12_x11_bomb_fails_1009(self):
        lst = self.listen()
        client = self.start_client(lst.url(), *self.client_args(["--deflate",
                                                                 "--max-payload", "65536"]))
        peer = self.accept(lst, client)
        peer.accept_upgrade(peer.read_http_request(),
                            add=[("Sec-WebSocket-Extensions", "permessage-deflate")])
        peer.deflate = True
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        bomb = z.compress(b"\0" * (32 << 20)) + z.flush(zlib.Z_SYNC_FLUSH)
        peer.send(sframe(OP_BIN, bomb[:-4], rsv=4))
        self.assert_failed(peer, 1009)


if __name__ == "__main__":
    unittest.main()
