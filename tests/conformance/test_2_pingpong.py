"""Autobahn family 2: ping/pong."""

import unittest

from wsharness import (OP_BIN, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, ServerTestCase,
                       close_payload, frame)


class PingPong(ServerTestCase):

    def _ping(self, payload, chop=None):
        c = self.connect()
        c.send(frame(OP_PING, payload), chop=chop, pause=0.001 if chop else 0.0)
        c.expect_pong(payload)
        c.expect_silence()
        c.close_handshake(1000)

    def test_2_1_ping_empty(self):
        self._ping(b"")

    def test_2_2_ping_text_payload(self):
        self._ping(b"Hello, world!")

    def test_2_3_ping_binary_payload(self):
        self._ping(bytes.fromhex("00fffefdfcfb00ff"))

    def test_2_4_ping_125_bytes(self):
        self._ping(b"\xfe" * 125)

    def test_2_5_ping_126_bytes_fails(self):
        self.fail_case([frame(OP_PING, b"\xfe" * 126)], 1002)

    def test_2_6_ping_125_bytes_chop_1(self):
        self._ping(b"\xfe" * 125, chop=1)

    def test_2_7_unsolicited_pong_empty(self):
        c = self.connect()
        c.send(frame(OP_PONG, b""))
        c.expect_silence()
        c.close_handshake(1000)

    def test_2_8_unsolicited_pong_payload(self):
        c = self.connect()
        c.send(frame(OP_PONG, b"unsolicited pong payload"))
        c.expect_silence()
        c.close_handshake(1000)

    def test_2_9_unsolicited_pong_then_ping(self):
        c = self.connect()
        c.send_frames([frame(OP_PONG, b"unsolicited pong payload"), frame(OP_PING, b"ping payload")])
        c.expect_pong(b"ping payload")
        c.expect_silence()
        c.close_handshake(1000)

    def _ten_pings(self, mode):
        payloads = [b"payload-%d" % i for i in range(10)]
        c = self.connect()
        c.send_frames([frame(OP_PING, p) for p in payloads], mode=mode, chop=1)
        for p in payloads:
            c.expect_pong(p)
        c.expect_silence()
        c.close_handshake(1000)

    def test_2_10_ten_pings_batch(self):
        self._ten_pings("batch")

    def test_2_11_ten_pings_chop_1(self):
        self._ten_pings("chop")

    # Duplex additions ----------------------------------------------------------------
    def test_2_x1_pong_126_bytes_fails(self):
        """A pong longer than 125 bytes is a protocol error too."""
        self.fail_case([frame(OP_PONG, b"\xfe" * 126)], 1002)

    def test_2_x2_ping_interleaved_with_messages(self):
        """Pongs and echoes come back in the order of the requests."""
        c = self.connect()
        c.send_frames([frame(OP_TEXT, b"a"), frame(OP_PING, b"p1"), frame(OP_BIN, b"b"),
                       frame(OP_PING, b"p2")])
        c.expect_echo(OP_TEXT, b"a")
        c.expect_pong(b"p1")
        c.expect_echo(OP_BIN, b"b")
        c.expect_pong(b"p2")
        c.close_handshake(1000)

    def test_2_x3_ping_after_close_not_answered(self):
        c = self.connect()
        c.send_frames([frame(OP_CLOSE, close_payload(1000)), frame(OP_PING, b"late")])
        c.expect_close(1000, empty_reason=True)
        c.expect_eof()

    def test_2_x4_hundred_pings(self):
        payloads = [bytes([i]) * (i % 126) for i in range(100)]
        c = self.connect()
        c.send_frames([frame(OP_PING, p) for p in payloads])
        for p in payloads:
            c.expect_pong(p)
        c.close_handshake(1000)


if __name__ == "__main__":
    unittest.main()
