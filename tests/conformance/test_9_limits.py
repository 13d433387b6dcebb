"""Autobahn family 9: limits and performance (a representative subset, sized to
keep the suite fast), plus Duplex's --max-payload limit (close 1009)."""

import struct
import time
import unittest

from wsharness import (OP_BIN, OP_CONT, OP_TEXT, ServerTestCase, frame, fragments, pattern)

KIB, MIB = 1024, 1024 * 1024
TEXT_PAT = b"BAsd7&jh23"
BIN_PAT = bytes.fromhex("00fe23faf0")
BIG_TIMEOUT = 60.0


class Limits(ServerTestCase):

    def _single(self, opcode, pat, size, chop=None):
        payload = pattern(pat, size)
        c = self.connect()
        sending = c.send_background(frame(opcode, payload), chop=chop)
        c.expect_echo(opcode, payload, timeout=BIG_TIMEOUT)
        sending.wait()
        c.close_handshake(1000)

    # 9.1 text single frame ----------------------------------------------------------------
    def test_9_1_1_text_64k(self):
        self._single(OP_TEXT, TEXT_PAT, 64 * KIB)

    def test_9_1_2_text_256k(self):
        self._single(OP_TEXT, TEXT_PAT, 256 * KIB)

    def test_9_1_3_text_1m(self):
        self._single(OP_TEXT, TEXT_PAT, MIB)

    def test_9_1_4_text_4m(self):
        self._single(OP_TEXT, TEXT_PAT, 4 * MIB)

    def test_9_1_5_text_8m(self):
        self._single(OP_TEXT, TEXT_PAT, 8 * MIB)

    def test_9_1_6_text_16m(self):
        self._single(OP_TEXT, TEXT_PAT, 16 * MIB)

    # 9.2 binary single frame ----------------------------------------------------------------
    def test_9_2_1_binary_64k(self):
        self._single(OP_BIN, BIN_PAT, 64 * KIB)

    def test_9_2_2_binary_256k(self):
        self._single(OP_BIN, BIN_PAT, 256 * KIB)

    def test_9_2_3_binary_1m(self):
        self._single(OP_BIN, BIN_PAT, MIB)

    def test_9_2_4_binary_4m(self):
        self._single(OP_BIN, BIN_PAT, 4 * MIB)

    def test_9_2_5_binary_8m(self):
        self._single(OP_BIN, BIN_PAT, 8 * MIB)

    def test_9_2_6_binary_16m(self):
        self._single(OP_BIN, BIN_PAT, 16 * MIB)

    # 9.3 / 9.4: 4 MiB in fragments (each ends with an empty CONT fin=1) --------------------
    def _fragmented(self, opcode, fill, frag_size):
        payload = fill * (4 * MIB)
        frames = fragments(opcode, payload, frag_size)
        if frag_size < 4 * MIB:
            self.assertEqual(frames[-1][:2], b"\x80\x80")   # the empty final CONT
        c = self.connect()
        sending = c.send_background(b"".join(frames))
        c.expect_echo(opcode, payload, timeout=BIG_TIMEOUT)
        sending.wait()
        c.close_handshake(1000)

    def test_9_3_1_text_4m_fragments_64(self):
        self._fragmented(OP_TEXT, b"*", 64)

    def test_9_3_4_text_4m_fragments_4k(self):
        self._fragmented(OP_TEXT, b"*", 4 * KIB)

    def test_9_3_8_text_4m_fragments_1m(self):
        self._fragmented(OP_TEXT, b"*", MIB)

    def test_9_3_9_text_4m_one_fragment(self):
        self._fragmented(OP_TEXT, b"*", 4 * MIB)

    def test_9_4_1_binary_4m_fragments_64(self):
        self._fragmented(OP_BIN, b"\xfe", 64)

    def test_9_4_4_binary_4m_fragments_4k(self):
        self._fragmented(OP_BIN, b"*", 4 * KIB)

    def test_9_4_8_binary_4m_fragments_1m(self):
        self._fragmented(OP_BIN, b"*", MIB)

    # 9.5 / 9.6: 1 MiB frame written in small chops ---------------------------------------
    def test_9_5_1_text_1m_chop_64(self):
        self._single(OP_TEXT, TEXT_PAT, MIB, chop=64)

    def test_9_5_5_text_1m_chop_1024(self):
        self._single(OP_TEXT, TEXT_PAT, MIB, chop=1024)

    def test_9_6_1_binary_1m_chop_64(self):
        self._single(OP_BIN, BIN_PAT, MIB, chop=64)

    def test_9_6_5_binary_1m_chop_1024(self):
        self._single(OP_BIN, BIN_PAT, MIB, chop=1024)

    # 9.7 / 9.8: 1000 messages, each sent after the previous echo --------------------------
    def _sequential(self, opcode, fill, size, deadline):
        payload = fill * size
        encoded = frame(opcode, payload)   # one key for all; masking stays valid
        c = self.connect()
        start = time.monotonic()
        for i in range(1000):
            c.send(encoded)
            c.expect_echo(opcode, payload)
        self.assertLess(time.monotonic() - start, deadline)
        c.close_handshake(1000)

    def test_9_7_1_1000_text_0(self):
        self._sequential(OP_TEXT, b"*", 0, 60)

    def test_9_7_3_1000_text_64(self):
        self._sequential(OP_TEXT, b"*", 64, 60)

    def test_9_7_6_1000_text_4096(self):
        self._sequential(OP_TEXT, b"*", 4096, 480)

    def test_9_8_1_1000_binary_0(self):
        self._sequential(OP_BIN, b"\xfe", 0, 60)

    def test_9_8_3_1000_binary_64(self):
        self._sequential(OP_BIN, b"\xfe", 64, 60)

    def test_9_8_6_1000_binary_4096(self):
        self._sequential(OP_BIN, b"\xfe", 4096, 480)


class MaxPayload(ServerTestCase):
    """--max-payload 1000: a message (single frame or sum of fragments) of more than
    1000 bytes is closed with 1009."""

    server_flags = ("--max-payload", "1000")

    def test_9_x1_text_at_limit_echoed(self):
        self.echo_case([frame(OP_TEXT, b"*" * 1000)], OP_TEXT, b"*" * 1000)

    def test_9_x2_binary_at_limit_echoed(self):
        self.echo_case([frame(OP_BIN, b"\xfe" * 1000)], OP_BIN, b"\xfe" * 1000)

    def test_9_x3_text_over_limit(self):
        self.fail_case([frame(OP_TEXT, b"*" * 1001)], 1009)

    def test_9_x4_binary_over_limit(self):
        self.fail_case([frame(OP_BIN, b"\xfe" * 1001)], 1009)

    def test_9_x5_fragments_over_limit(self):
        self.fail_case([frame(OP_TEXT, b"*" * 600, fin=False), frame(OP_CONT, b"*" * 600)], 1009)

    def test_9_x6_fragments_at_limit_echoed(self):
        self.echo_case([frame(OP_BIN, b"a" * 500, fin=False), frame(OP_CONT, b"b" * 500)],
                       OP_BIN, b"a" * 500 + b"b" * 500)

    def test_9_x7_many_small_fragments_over_limit(self):
        frames = [frame(OP_BIN, b"x" * 100, fin=False)]
        frames += [frame(OP_CONT, b"x" * 100, fin=False) for _ in range(9)]
        frames.append(frame(OP_CONT, b"x"))
        self.fail_case(frames, 1009)

    def test_9_x8_echo_before_oversized_message(self):
        self.fail_case([frame(OP_TEXT, b"ok"), frame(OP_BIN, b"\0" * 5000)], 1009,
                       before=[(OP_TEXT, b"ok")])

    def test_9_x9_huge_declared_length_rejected_from_header(self):
        """A header announcing 2^40 bytes is rejected without waiting for the payload."""
        head = bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 1 << 40) + b"\1\2\3\4"
        c = self.connect()
        c.send(head + b"\0" * 100)
        c.expect_fail(1009)

    def test_9_x10_limit_applies_per_message(self):
        """Many messages each below the limit are fine (the limit is per message)."""
        c = self.connect()
        for i in range(5):
            c.send(frame(OP_BIN, bytes([i]) * 900))
            c.expect_echo(OP_BIN, bytes([i]) * 900)
        c.close_handshake(1000)


if __name__ == "__main__":
    unittest.main()
