"""Autobahn family 4: reserved opcodes (3-7 data, 11-15 control) are protocol
errors: close 1002, with the echo of any earlier message still delivered."""

import unittest

from wsharness import OP_CONT, OP_PING, OP_TEXT, ServerTestCase, frame

HELLO = b"Hello, world!"


class Opcodes(ServerTestCase):

    def _alone(self, opcode, payload):
        self.fail_case([frame(opcode, payload)], 1002)

    def _after_echo(self, opcode, payload, mode):
        frames = [frame(OP_TEXT, HELLO), frame(opcode, payload), frame(OP_PING, b"")]
        self.fail_case(frames, 1002, mode=mode, chop=1, before=[(OP_TEXT, HELLO)])

    # 4.1.x: reserved non-control opcodes
    def test_4_1_1_opcode_3_empty(self):
        self._alone(3, b"")

    def test_4_1_2_opcode_4_payload(self):
        self._alone(4, b"reserved opcode payload")

    def test_4_1_3_echo_then_opcode_5(self):
        self._after_echo(5, b"", "batch")

    def test_4_1_4_echo_then_opcode_6(self):
        self._after_echo(6, HELLO, "batch")

    def test_4_1_5_echo_then_opcode_7_chop_1(self):
        self._after_echo(7, HELLO, "chop")

    # 4.2.x: reserved control opcodes
    def test_4_2_1_opcode_11_empty(self):
        self._alone(11, b"")

    def test_4_2_2_opcode_12_payload(self):
        self._alone(12, b"reserved opcode payload")

    def test_4_2_3_echo_then_opcode_13(self):
        self._after_echo(13, b"", "batch")

    def test_4_2_4_echo_then_opcode_14(self):
        self._after_echo(14, HELLO, "batch")

    def test_4_2_5_echo_then_opcode_15_chop_1(self):
        self._after_echo(15, HELLO, "chop")

    # Duplex additions ----------------------------------------------------------------
    def test_4_x1_every_reserved_opcode(self):
        for opcode in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
            with self.subTest(opcode=opcode):
                self._alone(opcode, b"x")

    def test_4_x2_reserved_opcode_inside_fragmented_message(self):
        self.fail_case([frame(OP_TEXT, b"fragment1", fin=False), frame(3, b"x"),
                        frame(OP_CONT, b"fragment2")], 1002)

    def test_4_x3_reserved_opcode_non_final(self):
        self.fail_case([frame(4, b"x", fin=False)], 1002)


if __name__ == "__main__":
    unittest.main()
