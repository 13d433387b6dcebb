"""Autobahn family 1 (client side): framing -- echo of text/binary messages with
7-, 16- and 64-bit length encodings, plus Duplex's additions: masking of every
client frame with fresh keys, masked server frames rejected (1002), non-minimal
server lengths, 64-bit lengths with the MSB set."""

import struct
import unittest

from clientharness import (OP_BIN, OP_CLOSE, OP_PING, OP_TEXT, ClientTestCase,
                           close_payload, sframe)


class Framing(ClientTestCase):

    def _echo(self, opcode, fill, length, chop=None):
        payload = fill * length
        p = self.session()
        p.send(sframe(opcode, payload), chop=chop)
        p.expect_echo(opcode, payload, timeout=10)
        self.server_close(p, 1000)

    # 1.1.x text ------------------------------------------------------------------------
    def test_1_1_1_text_empty(self):
        self._echo(OP_TEXT, b"*", 0)

    def test_1_1_2_text_125(self):
        self._echo(OP_TEXT, b"*", 125)

    def test_1_1_3_text_126(self):
        self._echo(OP_TEXT, b"*", 126)

    def test_1_1_4_text_127(self):
        self._echo(OP_TEXT, b"*", 127)

    def test_1_1_5_text_128(self):
        self._echo(OP_TEXT, b"*", 128)

    def test_1_1_6_text_65535(self):
        self._echo(OP_TEXT, b"*", 65535)

    def test_1_1_7_text_65536(self):
        self._echo(OP_TEXT, b"*", 65536)

    def test_1_1_8_text_65536_chop_997(self):
        self._echo(OP_TEXT, b"*", 65536, chop=997)

    # 1.2.x binary ------------------------------------------------------------------------
    def test_1_2_1_binary_empty(self):
        self._echo(OP_BIN, b"\xfe", 0)

    def test_1_2_2_binary_125(self):
        self._echo(OP_BIN, b"\xfe", 125)

    def test_1_2_3_binary_126(self):
        self._echo(OP_BIN, b"\xfe", 126)

    def test_1_2_4_binary_127(self):
        self._echo(OP_BIN, b"\xfe", 127)

    def test_1_2_5_binary_128(self):
        self._echo(OP_BIN, b"\xfe", 128)

    def test_1_2_6_binary_65535(self):
        self._echo(OP_BIN, b"\xfe", 65535)

    def test_1_2_7_binary_65536(self):
        self._echo(OP_BIN, b"\xfe", 65536)

    def test_1_2_8_binary_65536_chop_997(self):
        self._echo(OP_BIN, b"\xfe", 65536, chop=997)

    # Duplex additions ----------------------------------------------------------------
    def test_1_x1_text_100k(self):
        self._echo(OP_TEXT, b"0123456789", 10 * 1024 * 10)

    def test_1_x2_binary_all_byte_values(self):
        payload = bytes(range(256)) * 300
        p = self.session()
        p.send(sframe(OP_BIN, payload))
        p.expect_echo(OP_BIN, payload)
        self.server_close(p, 1000)

    def test_1_x3_every_frame_masked_with_fresh_keys(self):
        """30 messages of varied sizes: every echo frame is masked (checked for each
        frame), and no two frames share a key (30 random 32-bit keys)."""
        p = self.session()
        msgs = [(OP_TEXT if i % 2 else OP_BIN, b"m%d-" % i + b"x" * (i * 50)) for i in range(30)]
        p.send_frames([sframe(op, m) for op, m in msgs])
        for op, m in msgs:
            p.expect_echo(op, m)
        self.assertEqual(len(set(p.keys)), len(p.keys),
                         "masking keys repeat: %s" % [k.hex() for k in p.keys])
        self.server_close(p, 1000)

    def test_1_x4_masked_text_from_server(self):
        """A masked server frame is a protocol error (RFC 6455 5.1)."""
        self.fail_case([sframe(OP_TEXT, b"Hello, world!", mask=True)], 1002)

    def test_1_x5_masked_ping_from_server(self):
        self.fail_case([sframe(OP_PING, b"ping", mask=True)], 1002)

    def test_1_x6_masked_close_from_server(self):
        self.fail_case([sframe(OP_CLOSE, close_payload(1000), mask=True)], 1002)

    def test_1_x6b_masked_empty_ping_from_server(self):
        """The mask bit alone (empty payload, key present) is already a violation."""
        self.fail_case([sframe(OP_PING, b"", mask=True)], 1002)

    def test_1_x7_masked_after_valid_message(self):
        """Frames before the violation are still echoed; nothing after it."""
        self.fail_case([sframe(OP_TEXT, b"first"), sframe(OP_BIN, b"second", mask=True),
                        sframe(OP_PING, b"")], 1002, before=[(OP_TEXT, b"first")])

    def test_1_x8_non_minimal_lengths_accepted(self):
        """Lengths in a longer form than needed are accepted; the echo uses the
        minimal form (checked for every client frame)."""
        p = self.session()
        for n, bits in ((100, 16), (100, 64), (1000, 64), (0, 16)):
            payload = b"\x01" * n
            p.send(sframe(OP_BIN, payload, length_bits=bits))
            p.expect_echo(OP_BIN, payload)
        self.server_close(p, 1000)

    def test_1_x9_64bit_length_msb_set(self):
        """A 64-bit length with the most significant bit set: 1002 (1009 accepted too,
        as it is also over the default 16 MiB limit)."""
        head = bytes([0x82, 127]) + struct.pack("!Q", (1 << 63) | 5)
        self.fail_case([head + b"hello"], (1002, 1009))

    def test_1_x10_many_messages_one_write(self):
        msgs = [(OP_TEXT if i % 2 else OP_BIN, b"message-%d" % i) for i in range(10)]
        p = self.session()
        p.send_frames([sframe(op, m) for op, m in msgs])
        for op, m in msgs:
            p.expect_echo(op, m)
        self.server_close(p, 1000)

    def test_1_x11_header_byte_by_byte_64bit(self):
        """A 64-bit-length frame whose header arrives one byte per write."""
        payload = b"\xab" * 70000
        f = sframe(OP_BIN, payload)
        p = self.session()
        p.send(f[:10], chop=1, pause=0.002)
        p.send(f[10:])
        p.expect_echo(OP_BIN, payload, timeout=5)
        self.server_close(p, 1000)


if __name__ == "__main__":
    unittest.main()
