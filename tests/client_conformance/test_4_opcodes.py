"""Autobahn family 4 (client side): reserved opcodes (3-7 data, 11-15 control) are a
protocol error: close 1002, nothing echoed or ponged after the bad frame."""

import unittest

from clientharness import (OP_PING, OP_PONG, OP_TEXT, ClientTestCase, sframe)

HELLO = b"Hello, world!"


class Opcodes(ClientTestCase):

    def _alone(self, opcode, payload):
        self.fail_case([sframe(opcode, payload)], 1002)

    def _after_echo(self, opcode, payload, mode="batch"):
        self.fail_case([sframe(OP_TEXT, HELLO), sframe(opcode, payload), sframe(OP_PING, b"")],
                       1002, mode=mode, before=[(OP_TEXT, HELLO)])

    def test_4_1_1_opcode_3(self):
        self._alone(3, b"")

    def test_4_1_2_opcode_4_payload(self):
        self._alone(4, b"reserved opcode payload")

    def test_4_1_3_opcode_5_after_echo(self):
        self._after_echo(5, b"")

    def test_4_1_4_opcode_6_after_echo(self):
        self._after_echo(6, HELLO)

    def test_4_1_5_opcode_7_after_echo_chop_1(self):
        self._after_echo(7, HELLO, mode="chop")

    def test_4_2_1_opcode_11(self):
        self._alone(11, b"")

    def test_4_2_2_opcode_12_payload(self):
        self._alone(12, b"reserved opcode payload")

    def test_4_2_3_opcode_13_after_echo(self):
        self._after_echo(13, b"")

    def test_4_2_4_opcode_14_after_echo(self):
        self._after_echo(14, HELLO)

    def test_4_2_5_opcode_15_after_echo_chop_1(self):
        self._after_echo(15, HELLO, mode="chop")

    # Duplex additions ----------------------------------------------------------------
    def test_4_x1_reserved_opcode_inside_fragmented_message(self):
        self.fail_case([sframe(OP_TEXT, b"fragment1", fin=False), sframe(3, b"x", fin=False)],
                       1002)

    def test_4_x2_reserved_control_opcode_after_pong(self):
        self.fail_case([sframe(OP_PING, b"p"), sframe(11, b"x"), sframe(OP_PING, b"q")], 1002,
                       before=[(OP_PONG, b"p")])


if __name__ == "__main__":
    unittest.main()
