"""Autobahn family 9 (client side): limits and performance -- a representative
subset sized to keep the suite fast (16 MiB single frames, 4 MiB in fragments,
1 MiB chopped, 1000 messages one after another) -- plus --max-payload (1009)."""

import struct
import time
import unittest

from clientharness import (OP_BIN, OP_CONT, OP_PING, OP_PONG, OP_TEXT, ClientTestCase, pattern,
                           sfragments, sframe)

KIB, MIB = 1024, 1024 * 1024
TEXT_PAT = b"BAsd7&jh23"
BIN_PAT = bytes.fromhex("00fe23faf0")
BIG_TIMEOUT = 30.0


class Limits(ClientTestCase):

    def _single(self, opcode, pat, size, chop=None):
        payload = pattern(pat, size)
        p = self.session()
        sending = p.send_background(sframe(opcode, payload), chop=chop)
        p.expect_echo(opcode, payload, timeout=BIG_TIMEOUT)
        sending.wait()
        self.server_close(p, 1000)

    # 9.1 text single frame ----------------------------------------------------------------
    def test_9_1_1_text_64k(self):
        self._single(OP_TEXT, TEXT_PAT, 64 * KIB)

    def test_9_1_3_text_1m(self):
        self._single(OP_TEXT, TEXT_PAT, MIB)

    def test_9_1_4_text_4m(self):
        self._single(OP_TEXT, TEXT_PAT, 4 * MIB)

    def test_9_1_6_text_16m(self):
        """16 MiB: exactly the default --max-payload, so it must be echoed."""
        self._single(OP_TEXT, TEXT_PAT, 16 * MIB)

    # 9.2 binary single frame ----------------------------------------------------------------
    def test_9_2_1_binary_64k(self):
        self._single(OP_BIN, BIN_PAT, 64 * KIB)

    def test_9_2_4_binary_4m(self):
        self._single(OP_BIN, BIN_PAT, 4 * MIB)

    def test_9_2_6_binary_16m(self):
        self._single(OP_BIN, BIN_PAT, 16 * MIB)

    # 9.3 / 9.4: 4 MiB in fragments (each ends with an empty CONT fin=1) --------------------
    def _fragmented(self, opcode, fill, frag_size):
        payload = fill * (4 * MIB)
        frames = sfragments(opcode, payload, frag_size)
        if frag_size < 4 * MIB:
            self.assertEqual(frames[-1], b"\x80\x00")   # the empty final CONT
        p = self.session()
        sending = p.send_background(b"".join(frames))
        p.expect_echo(opcode, payload, timeout=BIG_TIMEOUT)
        sending.wait()
        self.server_close(p, 1000)

    def test_9_3_1_text_4m_fragments_64(self):
        self._fragmented(OP_TEXT, b"*", 64)

    def test_9_3_6_text_4m_fragments_64k(self):
        self._fragmented(OP_TEXT, b"*", 64 * KIB)

    def test_9_4_6_binary_4m_fragments_64k(self):
        self._fragmented(OP_BIN, b"*", 64 * KIB)

    def test_9_4_9_binary_4m_one_fragment(self):
        self._fragmented(OP_BIN, b"*", 4 * MIB)

    # 9.5 / 9.6: 1 MiB frame written in small chops ---------------------------------------
    def test_9_5_1_text_1m_chop_64(self):
        self._single(OP_TEXT, TEXT_PAT, MIB, chop=64)

    def test_9_6_5_binary_1m_chop_1024(self):
        self._single(OP_BIN, BIN_PAT, MIB, chop=1024)

    # 9.7 / 9.8: 1000 messages, each sent after the previous echo --------------------------
    def _sequential(self, opcode, fill, size, deadline):
        payload = fill * size
        encoded = sframe(opcode, payload)
        p = self.session()
        start = time.monotonic()
        for _ in range(1000):
            p.send(encoded)
            p.expect_echo(opcode, payload)
        self.assertLess(time.monotonic() - start, deadline)
        self.server_close(p, 1000)

    def test_9_7_1_1000_text_0(self):
        self._sequential(OP_TEXT, b"*", 0, 60)

    def test_9_7_5_1000_text_1024(self):
        self._sequential(OP_TEXT, b"*", 1024, 240)

    def test_9_8_3_1000_binary_64(self):
        self._sequential(OP_BIN, b"\xfe", 64, 60)

    def test_9_8_6_1000_binary_4096(self):
        self._sequential(OP_BIN, b"\xfe", 4096, 480)

    # Duplex additions ----------------------------------------------------------------
    def test_9_x1_1000_messages_pipelined(self):
        """1000 small messages in one write: all echoed, in order."""
        msgs = [b"msg %04d" % i for i in range(1000)]
        p = self.session()
        sending = p.send_background(b"".join(sframe(OP_TEXT, m) for m in msgs))
        for m in msgs:
            p.expect_echo(OP_TEXT, m)
        sending.wait()
        self.server_close(p, 1000)

    def test_9_x2_over_default_limit(self):
        """16 MiB + 1 byte is over the default --max-payload: 1009, no echo."""
        head = bytes([0x82, 127]) + struct.pack("!Q", 16 * MIB + 1)
        p = self.session()
        p.send(head + b"\0" * 1000)
        self.assert_failed(p, 1009)

    def test_9_x14_pings_while_large_echo_is_written(self):
        """Pings arriving while the client is still writing an 8 MiB echo (the suite
        does not read, so the client's socket buffer is full) are answered without
        corrupting the echo: every frame parses, the echo is intact, the pongs come in
        order (before, between or after the echo's frames)."""
        payload = pattern(BIN_PAT, 8 * MIB)
        p = self.session()
        sending = p.send_background(sframe(OP_BIN, payload))
        sending.wait()
        time.sleep(0.3)
        pings = [b"while writing %d" % i for i in range(3)]
        p.send_frames([sframe(OP_PING, x) for x in pings])
        events = []
        deadline = time.monotonic() + BIG_TIMEOUT
        while len(events) < 4 and time.monotonic() < deadline:
            events.append(p.recv_client_event(deadline - time.monotonic(), "echo and pongs"))
        pongs = [e.payload for e in events if getattr(e, "opcode", None) == OP_PONG]
        echoes = [e for e in events if getattr(e, "opcode", None) == OP_BIN]
        self.assertEqual(pongs, pings, events)
        self.assertEqual(len(echoes), 1, events)
        self.assertTrue(echoes[0].payload == payload, "echo corrupted")
        self.server_close(p, 1000)


class MaxPayload(ClientTestCase):
    """--max-payload 1000: a message (single frame or sum of fragments) over 1000
    bytes makes the client close with 1009."""

    client_flags = ("--max-payload", "1000")

    def test_9_x3_text_at_limit_echoed(self):
        self.echo_case([sframe(OP_TEXT, b"*" * 1000)], OP_TEXT, b"*" * 1000)

    def test_9_x4_binary_at_limit_echoed(self):
        self.echo_case([sframe(OP_BIN, b"\xfe" * 1000)], OP_BIN, b"\xfe" * 1000)

    def test_9_x5_text_over_limit(self):
        self.fail_case([sframe(OP_TEXT, b"*" * 1001)], 1009)

    def test_9_x6_binary_over_limit(self):
        self.fail_case([sframe(OP_BIN, b"\xfe" * 1001)], 1009)

    def test_9_x7_fragments_over_limit(self):
        self.fail_case([sframe(OP_TEXT, b"*" * 600, fin=False), sframe(OP_CONT, b"*" * 600)],
                       1009)

    def test_9_x8_fragments_at_limit_echoed(self):
        self.echo_case([sframe(OP_BIN, b"a" * 500, fin=False), sframe(OP_CONT, b"b" * 500)],
                       OP_BIN, b"a" * 500 + b"b" * 500)

    def test_9_x9_many_small_fragments_over_limit(self):
        frames = [sframe(OP_BIN, b"x" * 100, fin=False)]
        frames += [sframe(OP_CONT, b"x" * 100, fin=False) for _ in range(9)]
        frames.append(sframe(OP_CONT, b"x"))
        self.fail_case(frames, 1009)

    def test_9_x10_echo_before_oversized_message(self):
        self.fail_case([sframe(OP_TEXT, b"ok"), sframe(OP_BIN, b"\0" * 5000)], 1009,
                       before=[(OP_TEXT, b"ok")])

    def test_9_x11_oversized_header_rejected_before_payload(self):
        """A header announcing 1 MiB is rejected without waiting for the payload."""
        head = bytes([0x82, 127]) + struct.pack("!Q", MIB)
        p = self.session()
        p.send(head + b"\0" * 100)
        self.assert_failed(p, 1009)

    def test_9_x12_limit_applies_per_message(self):
        p = self.session()
        for i in range(5):
            p.send(sframe(OP_BIN, bytes([i]) * 900))
            p.expect_echo(OP_BIN, bytes([i]) * 900)
        self.server_close(p, 1000)

    def test_9_x13_control_frames_do_not_count(self):
        """Pings between fragments do not count towards the message size."""
        p = self.session()
        p.send_frames([sframe(OP_BIN, b"a" * 600, fin=False), sframe(OP_PING, b"p" * 125),
                       sframe(OP_PING, b"q" * 125), sframe(OP_CONT, b"b" * 400)])
        p.expect_pong(b"p" * 125)
        p.expect_pong(b"q" * 125)
        p.expect_echo(OP_BIN, b"a" * 600 + b"b" * 400)
        self.server_close(p, 1000)


if __name__ == "__main__":
    unittest.main()
