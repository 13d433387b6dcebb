"""Autobahn family 3: reserved bits (no extension is negotiated, so any RSV bit is a
protocol error: close 1002)."""

import unittest

from wsharness import (OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, ServerTestCase,
                       close_payload, frame)

HELLO = b"Hello, world!"


class ReservedBits(ServerTestCase):

    def test_3_1_text_rsv1(self):
        self.fail_case([frame(OP_TEXT, HELLO, rsv=1)], 1002)

    def _echo_then_rsv(self, rsv, mode):
        frames = [frame(OP_TEXT, HELLO), frame(OP_TEXT, HELLO, rsv=rsv), frame(OP_PING, b"")]
        self.fail_case(frames, 1002, mode=mode, chop=1, before=[(OP_TEXT, HELLO)])

    def test_3_2_echo_then_rsv2_batch(self):
        self._echo_then_rsv(2, "batch")

    def test_3_3_echo_then_rsv3_per_frame(self):
        self._echo_then_rsv(3, "frame")

    def test_3_4_echo_then_rsv4_chop_1(self):
        self._echo_then_rsv(4, "chop")

    def test_3_5_binary_rsv5(self):
        self.fail_case([frame(OP_BIN, bytes.fromhex("00fffefdfcfb00ff"), rsv=5)], 1002)

    def test_3_6_binary_rsv6(self):
        self.fail_case([frame(OP_BIN, HELLO, rsv=6)], 1002)

    def test_3_7_close_rsv7(self):
        """A close with RSV bits is not a normal close: 1002, not 1000/empty."""
        self.fail_case([frame(OP_CLOSE, b"", rsv=7)], 1002)

    # Duplex additions ----------------------------------------------------------------
    def test_3_x1_ping_rsv1(self):
        self.fail_case([frame(OP_PING, b"ping", rsv=4)], 1002)

    def test_3_x2_pong_rsv2(self):
        self.fail_case([frame(OP_PONG, b"pong", rsv=2)], 1002)

    def test_3_x3_continuation_rsv1(self):
        self.fail_case([frame(OP_TEXT, b"fragment1", fin=False),
                        frame(OP_CONT, b"fragment2", rsv=4)], 1002)

    def test_3_x4_close_1000_rsv1(self):
        self.fail_case([frame(OP_CLOSE, close_payload(1000), rsv=4)], 1002)

    def test_3_x5_every_rsv_value_on_text(self):
        for rsv in range(1, 8):
            with self.subTest(rsv=rsv):
                self.fail_case([frame(OP_TEXT, HELLO, rsv=rsv)], 1002)


if __name__ == "__main__":
    unittest.main()
