"""Autobahn family 1: framing (echo, length encodings), plus Duplex's masking and
length-encoding rules (Autobahn §13: unmasked client frames, non-minimal lengths,
64-bit lengths with the MSB set)."""

import struct
import unittest

from wsharness import (OP_BIN, OP_CLOSE, OP_PING, OP_TEXT, REPLY_TIMEOUT, ServerTestCase,
                       close_payload, frame)

# (case suffix, length, chop)
SIZES = [(1, 0, None), (2, 125, None), (3, 126, None), (4, 127, None), (5, 128, None),
         (6, 65535, None), (7, 65536, None), (8, 65536, 997)]


class Framing(ServerTestCase):

    def _echo(self, opcode, fill, length, chop):
        payload = fill * length
        c = self.connect()
        c.send(frame(opcode, payload), chop=chop)
        c.expect_echo(opcode, payload, timeout=10)
        c.close_handshake(1000)

    # 1.1.x text ------------------------------------------------------------------------
    def test_1_1_1_text_empty(self):
        self._echo(OP_TEXT, b"*", 0, None)

    def test_1_1_2_text_125(self):
        self._echo(OP_TEXT, b"*", 125, None)

    def test_1_1_3_text_126(self):
        self._echo(OP_TEXT, b"*", 126, None)

    def test_1_1_4_text_127(self):
        self._echo(OP_TEXT, b"*", 127, None)

    def test_1_1_5_text_128(self):
        self._echo(OP_TEXT, b"*", 128, None)

    def test_1_1_6_text_65535(self):
        self._echo(OP_TEXT, b"*", 65535, None)

    def test_1_1_7_text_65536(self):
        self._echo(OP_TEXT, b"*", 65536, None)

    def test_1_1_8_text_65536_chop_997(self):
        self._echo(OP_TEXT, b"*", 65536, 997)

    # 1.2.x binary ------------------------------------------------------------------------
    def test_1_2_1_binary_empty(self):
        self._echo(OP_BIN, b"\xfe", 0, None)

    def test_1_2_2_binary_125(self):
        self._echo(OP_BIN, b"\xfe", 125, None)

    def test_1_2_3_binary_126(self):
        self._echo(OP_BIN, b"\xfe", 126, None)

    def test_1_2_4_binary_127(self):
        self._echo(OP_BIN, b"\xfe", 127, None)

    def test_1_2_5_binary_128(self):
        self._echo(OP_BIN, b"\xfe", 128, None)

    def test_1_2_6_binary_65535(self):
        self._echo(OP_BIN, b"\xfe", 65535, None)

    def test_1_2_7_binary_65536(self):
        self._echo(OP_BIN, b"\xfe", 65536, None)

    def test_1_2_8_binary_65536_chop_997(self):
        self._echo(OP_BIN, b"\xfe", 65536, 997)

    # Duplex additions ----------------------------------------------------------------
    def test_1_x1_non_minimal_16bit_length_accepted(self):
        """100 bytes sent with the 16-bit length form: accepted, echoed minimally."""
        payload = b"x" * 100
        self.echo_case([frame(OP_TEXT, payload, length_bits=16)], OP_TEXT, payload)

    def test_1_x2_non_minimal_64bit_length_accepted(self):
        """100 and 1000 bytes sent with the 64-bit length form: accepted and echoed."""
        c = self.connect()
        for n in (100, 1000, 0):
            payload = b"\x01" * n
            c.send(frame(OP_BIN, payload, length_bits=64))
            c.expect_echo(OP_BIN, payload)
        c.close_handshake(1000)

    def test_1_x3_unmasked_text_frame(self):
        """An unmasked client data frame is a protocol error (RFC 6455 5.1)."""
        self.fail_case([frame(OP_TEXT, b"Hello, world!", mask=False)], 1002)

    def test_1_x4_unmasked_ping(self):
        self.fail_case([frame(OP_PING, b"ping", mask=False)], 1002)

    def test_1_x5_unmasked_after_valid_message(self):
        """Frames before the violation are still echoed."""
        self.fail_case([frame(OP_TEXT, b"first"), frame(OP_BIN, b"second", mask=False),
                        frame(OP_PING, b"")], 1002, before=[(OP_TEXT, b"first")])

    def test_1_x6_unmasked_close(self):
        self.fail_case([frame(OP_CLOSE, close_payload(1000), mask=False)], 1002)

    def test_1_x7_64bit_length_msb_set(self):
        """A 64-bit length with the most significant bit set is invalid."""
        head = bytes([0x82, 0x80 | 127]) + struct.pack("!Q", (1 << 63) | 5) + b"\x00\x00\x00\x00"
        c = self.connect()
        c.send(head + b"hello")
        c.expect_fail(1002)

    def test_1_x8_zero_mask_key(self):
        """An all-zero masking key is legal."""
        payload = b"zero key"
        self.echo_case([frame(OP_TEXT, payload, key=b"\0\0\0\0")], OP_TEXT, payload)

    def test_1_x9_many_frames_one_write(self):
        """Ten messages in one TCP write come back as ten echoes in order."""
        msgs = [(OP_TEXT if i % 2 else OP_BIN, b"message-%d" % i) for i in range(10)]
        c = self.connect()
        c.send_frames([frame(op, p) for op, p in msgs])
        for op, p in msgs:
            c.expect_echo(op, p)
        c.close_handshake(1000)

    def test_1_x10_header_byte_by_byte_64bit(self):
        """A 64-bit-length frame chopped into 1-byte writes (header and key split)."""
        payload = b"\xab" * 70000
        c = self.connect()
        f = frame(OP_BIN, payload)
        c.send(f[:14], chop=1, pause=0.002)
        c.send(f[14:])
        c.expect_echo(OP_BIN, payload, timeout=REPLY_TIMEOUT * 2)
        c.close_handshake(1000)

    def test_1_x11_echo_path_echo(self):
        """The /echo endpoint echoes like /."""
        c = self.connect(path="/echo")
        c.send(frame(OP_TEXT, b"via /echo"))
        c.expect_echo(OP_TEXT, b"via /echo")
        c.close_handshake(1000)


if __name__ == "__main__":
    unittest.main()
