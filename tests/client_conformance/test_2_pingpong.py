"""Autobahn family 2 (client side): ping/pong.  Every ping gets one masked pong with
the same payload, in order; unsolicited pongs are ignored; a ping over 125 bytes
is a protocol error (1002) and gets no pong."""

import unittest

from clientharness import (OP_BIN, OP_PING, OP_PONG, OP_TEXT, ClientTestCase, sframe)


class PingPong(ClientTestCase):

    def _ping(self, payload, chop=None):
        p = self.session()
        p.send(sframe(OP_PING, payload), chop=chop, pause=0.001 if chop else 0.0)
        p.expect_pong(payload)
        p.expect_silence()
        self.server_close(p, 1000)

    def test_2_1_ping_empty(self):
        self._ping(b"")

    def test_2_2_ping_text_payload(self):
        self._ping(b"Hello, world!")

    def test_2_3_ping_binary_payload(self):
        self._ping(bytes.fromhex("00fffefdfcfb00ff"))

    def test_2_4_ping_125_bytes(self):
        self._ping(b"\xfe" * 125)

    def test_2_5_ping_126_bytes_fails(self):
        self.fail_case([sframe(OP_PING, b"\xfe" * 126)], 1002)

    def test_2_6_ping_125_bytes_chop_1(self):
        self._ping(b"\xfe" * 125, chop=1)

    def _unsolicited(self, frames, pongs=()):
        p = self.session()
        p.send_frames(frames)
        for payload in pongs:
            p.expect_pong(payload)
        p.expect_silence()
        self.server_close(p, 1000)

    def test_2_7_unsolicited_pong_empty(self):
        self._unsolicited([sframe(OP_PONG, b"")])

    def test_2_8_unsolicited_pong_payload(self):
        self._unsolicited([sframe(OP_PONG, b"unsolicited pong payload")])

    def test_2_9_unsolicited_pong_then_ping(self):
        self._unsolicited([sframe(OP_PONG, b"unsolicited pong payload"),
                           sframe(OP_PING, b"ping payload")], pongs=[b"ping payload"])

    def _ten_pings(self, mode):
        payloads = [b"payload-%d" % i for i in range(10)]
        p = self.session()
        p.send_frames([sframe(OP_PING, x) for x in payloads], mode=mode, chop=1)
        for x in payloads:
            p.expect_pong(x)
        p.expect_silence()
        self.server_close(p, 1000)

    def test_2_10_ten_pings_batch(self):
        self._ten_pings("batch")

    def test_2_11_ten_pings_chop_1(self):
        self._ten_pings("chop")

    # Duplex additions ----------------------------------------------------------------
    def test_2_x1_pings_interleaved_with_messages(self):
        """Pongs and echoes come back in the order of the server's frames."""
        p = self.session()
        p.send_frames([sframe(OP_TEXT, b"one"), sframe(OP_PING, b"p1"), sframe(OP_BIN, b"two"),
                       sframe(OP_PING, b"p2"), sframe(OP_PING, b"p3"), sframe(OP_TEXT, b"three")])
        p.expect_echo(OP_TEXT, b"one")
        p.expect_pong(b"p1")
        p.expect_echo(OP_BIN, b"two")
        p.expect_pong(b"p2")
        p.expect_pong(b"p3")
        p.expect_echo(OP_TEXT, b"three")
        self.server_close(p, 1000)

    def test_2_x2_hundred_pings_each_answered(self):
        payloads = [b"ping %03d" % i + b"." * (i % 100) for i in range(100)]
        p = self.session()
        p.send_frames([sframe(OP_PING, x) for x in payloads])
        for x in payloads:
            p.expect_pong(x)
        self.assertEqual(len(set(p.keys)), len(p.keys), "pong masking keys repeat")
        self.server_close(p, 1000)

    def test_2_x3_ping_of_126_in_16bit_form_fails(self):
        """A ping whose (non-minimal) 16-bit length says 126: 1002, no pong."""
        self.fail_case([sframe(OP_PING, b"x" * 126, length_bits=16)], 1002)

    def test_2_x4_ping_after_valid_messages_then_too_long(self):
        self.fail_case([sframe(OP_PING, b"ok"), sframe(OP_PING, b"\xfe" * 200)], 1002,
                       before=[(OP_PONG, b"ok")])


if __name__ == "__main__":
    unittest.main()
