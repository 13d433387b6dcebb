"""Autobahn family 12: permessage-deflate with different payloads (5 data sets x 18
sizes), against `duplex serve` in both memory modes, plus Duplex's own cases for the
error paths Autobahn leaves out (RSV1 rules, corrupt data, decompression bombs, bad
offers) and the compression threshold."""

import unittest
import zlib

from deflate_support import (SIZES, TAIL, Deflate, connect_deflate, echo_series, messages,
                             message_frames, recv_message)
from wsharness import (OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, ServerTestCase,
                       close_payload, frame, ws_connect)

# Messages per case: Autobahn sends 1000; a few already exercise context takeover across
# messages and keep the suite quick.
COUNT = 4
DEFAULT_OFFER = "permessage-deflate; client_max_window_bits"


class Payloads:
    """Mixed into a ServerTestCase: the 90 family-12 cases."""

    expected_answer = None

    def _case(self, n, i):
        length, frag = SIZES[i - 1]
        c, deflate = connect_deflate(self.port, DEFAULT_OFFER)
        self.addCleanup(c.close)
        self.assertIsNotNone(deflate, "permessage-deflate was not agreed")
        self.assertEqual(c.response.header("Sec-WebSocket-Extensions"), self.expected_answer)
        opcode, payloads = messages(n, length, COUNT)
        compressed, _, _ = echo_series(self, c, deflate, opcode, payloads, frag)
        # Echoes of at least the threshold that compress are sent compressed.
        if n != 5 and length >= 256:
            self.assertEqual(compressed, COUNT)
        c.close_handshake(1000)


def _add_cases(cls):
    for n in range(1, 6):
        for i in range(1, 19):
            def fn(self, n=n, i=i):
                self._case(n, i)
            fn.__name__ = "test_12_%d_%d" % (n, i)
            setattr(cls, fn.__name__, fn)
    return cls


@_add_cases
class DeflateSharedPayloads(Payloads, ServerTestCase):
    """The default mode of `duplex serve`: shared codecs, no context takeover either way."""
    expected_answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"


@_add_cases
class DeflateDedicatedPayloads(Payloads, ServerTestCase):
    server_flags = ("--deflate", "dedicated")
    expected_answer = "permessage-deflate"


class DeflateErrors(ServerTestCase):
    """Duplex additions (12.x*): what Autobahn does not test."""

    server_flags = ("--deflate", "dedicated", "--max-payload", "65536")

    def _connect(self, offer=DEFAULT_OFFER):
        c, deflate = connect_deflate(self.port, offer)
        self.addCleanup(c.close)
        return c, deflate

    def test_12_x1_rsv1_on_continuation(self):
        c, d = self._connect()
        body = d.compress(b"Hello, Hello, Hello")
        c.send(frame(OP_TEXT, body[:3], fin=False, rsv=4) + frame(OP_CONT, body[3:], rsv=4))
        c.expect_fail(1002)

    def test_12_x2_rsv1_on_control_frames(self):
        for opcode, payload in ((OP_PING, b""), (OP_PONG, b"x"), (OP_CLOSE, close_payload(1000))):
            with self.subTest(opcode=opcode):
                c, _ = self._connect()
                c.send(frame(opcode, payload, rsv=4))
                c.expect_fail(1002)

    def test_12_x3_rsv1_without_negotiation(self):
        c, d = self._connect(offer=None)
        self.assertIsNone(d)
        c.send(frame(OP_TEXT, bytes.fromhex("f248cdc9c90700"), rsv=4))
        c.expect_fail(1002)

    def test_12_x4_rsv2_and_rsv3_stay_errors(self):
        for rsv in (1, 2, 5, 6):
            with self.subTest(rsv=rsv):
                c, _ = self._connect()
                c.send(frame(OP_BIN, bytes.fromhex("f248cdc9c90700"), rsv=rsv))
                c.expect_fail(1002)

    def test_12_x5_corrupt_data_closes_1007(self):
        c, _ = self._connect()
        c.send(frame(OP_BIN, b"\xff\xfe\xfd\xfc", rsv=4))
        c.expect_fail(1007)

    def test_12_x6_message_cut_inside_a_block_closes_1007(self):
        c, _ = self._connect()
        c.send(frame(OP_BIN, bytes.fromhex("f248cdc9"), rsv=4))
        c.expect_fail(1007)

    def test_12_x7_inflated_text_must_be_utf8(self):
        c, d = self._connect()
        c.send(frame(OP_TEXT, d.compress(b"valid until \xc3\x28"), rsv=4))
        c.expect_fail(1007)

    def test_12_x8_decompression_bomb_closes_1009(self):
        """64 KiB of deflate that would inflate to 64 MiB, against a 64 KiB limit."""
        c, _ = self._connect()
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        bomb = z.compress(b"\0" * (64 << 20)) + z.flush(zlib.Z_SYNC_FLUSH)
        self.assertTrue(bomb.endswith(TAIL))
        self.assertLess(len(bomb), 65536)
        c.send(frame(OP_BIN, bomb[:-4], rsv=4))
        c.expect_fail(1009)

    def test_12_x9_exactly_max_payload_inflated_is_echoed(self):
        c, d = self._connect()
        payload = b"a" * 65536
        c.send(frame(OP_BIN, d.compress(payload), rsv=4))
        self.assertEqual(recv_message(c, d)[1], payload)
        c.send(frame(OP_BIN, d.compress(payload + b"a"), rsv=4))
        c.expect_fail(1009)

    def test_12_x10_uncompressed_messages_after_negotiation(self):
        c, d = self._connect()
        c.send(frame(OP_TEXT, b"plain"))
        self.assertEqual(recv_message(c, d), (OP_TEXT, b"plain", False))
        c.send(frame(OP_TEXT, d.compress(b"squeezed"), rsv=4))
        self.assertEqual(recv_message(c, d), (OP_TEXT, b"squeezed", False))  # under threshold
        c.close_handshake(1000)

    def test_12_x11_threshold(self):
        """Echoes under 128 bytes go out plain, larger ones compressed."""
        c, d = self._connect()
        for size, compressed in ((127, False), (128, True), (5000, True)):
            payload = (b"threshold " * 600)[:size]
            c.send(frame(OP_TEXT, d.compress(payload), rsv=4))
            self.assertEqual(recv_message(c, d), (OP_TEXT, payload, compressed))
        c.close_handshake(1000)

    def test_12_x12_control_frames_between_compressed_fragments(self):
        c, d = self._connect()
        payload = b"fragmented and compressed " * 100
        frames = message_frames(OP_TEXT, d.compress(payload), frag=10)
        c.send(b"".join(frames[:2]) + frame(OP_PING, b"p") + b"".join(frames[2:]))
        c.expect_pong(b"p")
        self.assertEqual(recv_message(c, d), (OP_TEXT, payload, True))
        c.close_handshake(1000)

    def test_12_x13_invalid_offers_are_declined(self):
        for offer in ("permessage-deflate; server_max_window_bits",
                      "permessage-deflate; server_max_window_bits=16",
                      "permessage-deflate; server_max_window_bits=08",
                      "permessage-deflate; client_max_window_bits=7",
                      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                      "permessage-deflate; server_no_context_takeover=yes",
                      "permessage-deflate; unknown_parameter",
                      "x-webkit-deflate-frame"):
            with self.subTest(offer=offer):
                c, d = self._connect(offer)
                self.assertIsNone(d)
                self.assertEqual(c.response.header_all("Sec-WebSocket-Extensions"), [])
                c.send(frame(OP_TEXT, b"still works"))
                c.expect_echo(OP_TEXT, b"still works")

    def test_12_x14_first_valid_offer_wins(self):
        c, d = self._connect("permessage-deflate; bogus, "
                             "permessage-deflate; server_max_window_bits=10, "
                             "permessage-deflate")
        self.assertEqual(c.response.header("Sec-WebSocket-Extensions"),
                         "permessage-deflate; server_max_window_bits=10")
        payload = b"window ten " * 500
        c.send(frame(OP_TEXT, d.compress(payload), rsv=4))
        self.assertEqual(recv_message(c, d), (OP_TEXT, payload, True))
        c.close_handshake(1000)

    def test_12_x15_window_bits_8_is_agreed_and_sent_plain(self):
        """zlib cannot compress with a 256-byte window: the server agrees and sends plain."""
        c, d = self._connect("permessage-deflate; server_max_window_bits=8")
        self.assertEqual(c.response.header("Sec-WebSocket-Extensions"),
                         "permessage-deflate; server_max_window_bits=8")
        payload = b"eight bits " * 100
        c.send(frame(OP_TEXT, d.compress(payload), rsv=4))
        self.assertEqual(recv_message(c, d), (OP_TEXT, payload, False))
        c.close_handshake(1000)


class DeflateOff(ServerTestCase):
    server_flags = ("--deflate", "off")

    def test_12_x16_off_declines_every_offer(self):
        c, d = connect_deflate(self.port, DEFAULT_OFFER)
        self.addCleanup(c.close)
        self.assertIsNone(d)
        c.send(frame(OP_TEXT, bytes.fromhex("f248cdc9c90700"), rsv=4))
        c.expect_fail(1002)


class DeflateClientWindow(ServerTestCase):
    server_flags = ("--deflate", "dedicated", "--deflate-client-window-bits", "10",
                    "--deflate-window-bits", "12")

    def test_12_x17_client_window_bounded_or_offer_declined(self):
        c, d = connect_deflate(self.port, "permessage-deflate")
        self.addCleanup(c.close)
        self.assertIsNone(d)
        c, d = connect_deflate(self.port, DEFAULT_OFFER)
        self.addCleanup(c.close)
        self.assertEqual(c.response.header("Sec-WebSocket-Extensions"),
                         "permessage-deflate; client_max_window_bits=10")
        self.assertEqual(d.client_bits, 10)
        opcode, payloads = messages(1, 20000, 3)
        echo_series(self, c, d, opcode, payloads, 0)
        c.close_handshake(1000)

    def test_12_x18_server_window_answered_when_offered(self):
        c, d = connect_deflate(self.port, "permessage-deflate; server_max_window_bits=15; "
                                          "client_max_window_bits=9")
        self.addCleanup(c.close)
        self.assertEqual(c.response.header("Sec-WebSocket-Extensions"),
                         "permessage-deflate; server_max_window_bits=12; client_max_window_bits=9")
        opcode, payloads = messages(3, 30000, 3)
        echo_series(self, c, d, opcode, payloads, 0)
        c.close_handshake(1000)


if __name__ == "__main__":
    unittest.main()
