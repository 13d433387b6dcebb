"""Autobahn family 3 (client side): RSV bits set without a negotiated extension are
a protocol error: close 1002, nothing echoed or ponged after the bad frame."""

import unittest

from clientharness import (OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT,
                           ClientTestCase, close_payload, sframe)

HELLO = b"Hello, world!"


class ReservedBits(ClientTestCase):

    def test_3_1_rsv3_text(self):
        self.fail_case([sframe(OP_TEXT, HELLO, rsv=1)], 1002)

    def _after_echo(self, rsv, mode):
        self.fail_case([sframe(OP_TEXT, HELLO), sframe(OP_TEXT, HELLO, rsv=rsv),
                        sframe(OP_PING, b"")], 1002, mode=mode, before=[(OP_TEXT, HELLO)])

    def test_3_2_rsv2_after_echo_batch(self):
        self._after_echo(2, "batch")

    def test_3_3_rsv23_after_echo_per_frame(self):
        self._after_echo(3, "frame")

    def test_3_4_rsv1_after_echo_chop_1(self):
        self._after_echo(4, "chop")

    def test_3_5_rsv13_binary(self):
        self.fail_case([sframe(OP_BIN, bytes.fromhex("00fffefdfcfb00ff"), rsv=5)], 1002)

    def test_3_6_rsv12_binary(self):
        self.fail_case([sframe(OP_BIN, HELLO, rsv=6)], 1002)

    def test_3_7_rsv123_close(self):
        """A close frame with RSV bits is NOT a normal close: 1002, not 1000/empty."""
        self.fail_case([sframe(OP_CLOSE, b"", rsv=7)], 1002)

    # Duplex additions ----------------------------------------------------------------
    def test_3_x1_rsv1_on_ping(self):
        self.fail_case([sframe(OP_PING, b"ping", rsv=4)], 1002)

    def test_3_x2_rsv1_on_pong(self):
        self.fail_case([sframe(OP_PONG, b"pong", rsv=4)], 1002)

    def test_3_x3_rsv1_on_continuation(self):
        self.fail_case([sframe(OP_TEXT, b"fragment1", fin=False),
                        sframe(OP_CONT, b"fragment2", rsv=4)], 1002)

    def test_3_x4_rsv_on_close_with_code(self):
        self.fail_case([sframe(OP_CLOSE, close_payload(1000), rsv=1)], 1002)

    def test_3_x5_rsv_on_empty_text(self):
        self.fail_case([sframe(OP_TEXT, b"", rsv=2)], 1002)

    def test_3_x6_pong_before_violation_still_sent(self):
        self.fail_case([sframe(OP_PING, b"before"), sframe(OP_BIN, b"x", rsv=1),
                        sframe(OP_PING, b"after")], 1002, before=[(OP_PONG, b"before")])


if __name__ == "__main__":
    unittest.main()
