"""Autobahn family 7: close handling.

Duplex replies to a valid client close with the SAME code and an empty reason (an
empty body for an empty body), then closes TCP within 1 s; it ignores anything the
client sends after its close; it rejects invalid codes and malformed close frames
with 1002, and an invalid UTF-8 reason with 1007.
"""

import unittest

from wsharness import (KOSME, OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, ServerTestCase,
                       close_payload, frame, pattern)


class Close(ServerTestCase):

    def _close_then(self, trailing, code=1000):
        """Send CLOSE code followed by `trailing` frames in one write: exactly one
        close reply with the same code, then EOF."""
        c = self.connect()
        c.send_frames([frame(OP_CLOSE, close_payload(code))] + trailing)
        c.expect_close(code, empty_reason=True)
        c.expect_eof()

    def test_7_1_1_echo_then_close(self):
        c = self.connect()
        c.send(frame(OP_TEXT, b"Hello World!"))
        c.expect_echo(OP_TEXT, b"Hello World!")
        c.close_handshake(1000)

    def test_7_1_2_second_close_ignored(self):
        self._close_then([frame(OP_CLOSE, b"")])

    def test_7_1_3_ping_after_close_ignored(self):
        self._close_then([frame(OP_PING, b"")])

    def test_7_1_4_text_after_close_ignored(self):
        self._close_then([frame(OP_TEXT, b"Hello World!")])

    def test_7_1_5_close_inside_fragmented_message(self):
        c = self.connect()
        c.send_frames([frame(OP_TEXT, b"fragment1", fin=False),
                       frame(OP_CLOSE, close_payload(1000)),
                       frame(OP_CONT, b"fragment2")])
        c.expect_close(1000, empty_reason=True)
        c.expect_eof()

    def test_7_1_6_large_message_then_close(self):
        """(Informational in Autobahn.)  Duplex processes frames in order: both
        messages before the close are echoed, then the close reply; the ping after
        the close gets no pong."""
        big = pattern(b"BAsd7&jh23", 262144)
        c = self.connect()
        c.send_frames([frame(OP_TEXT, big), frame(OP_TEXT, b"Hello World!"),
                       frame(OP_CLOSE, close_payload(1000)), frame(OP_PING, b"")])
        c.expect_echo(OP_TEXT, big, timeout=10)
        c.expect_echo(OP_TEXT, b"Hello World!")
        c.expect_close(1000, empty_reason=True)
        c.expect_eof()

    # 7.3 close frame structure -------------------------------------------------------------
    def test_7_3_1_close_empty_body(self):
        c = self.connect()
        c.send(frame(OP_CLOSE, b""))
        c.expect_close(None)
        c.expect_eof()

    def test_7_3_2_close_one_byte_body(self):
        self.fail_case([frame(OP_CLOSE, b"a")], 1002)

    def test_7_3_3_close_1000(self):
        self.connect().close_handshake(1000)

    def test_7_3_4_close_1000_with_reason(self):
        self.connect().close_handshake(1000, b"Hello World!")

    def test_7_3_5_close_125_byte_body(self):
        self.connect().close_handshake(1000, b"*" * 123)

    def test_7_3_6_close_126_byte_body(self):
        self.fail_case([frame(OP_CLOSE, close_payload(1000, b"*" * 124))], 1002)

    # 7.5 reason must be UTF-8 ------------------------------------------------------------------
    def test_7_5_1_close_reason_invalid_utf8(self):
        reason = KOSME + bytes.fromhex("eda080") + b"edited"
        self.fail_case([frame(OP_CLOSE, close_payload(1000, reason))], 1007)

    # Duplex additions ----------------------------------------------------------------
    def test_7_x1_close_reason_valid_utf8(self):
        self.connect().close_handshake(1000, KOSME)

    def test_7_x2_close_reason_truncated_utf8(self):
        self.fail_case([frame(OP_CLOSE, close_payload(1000, KOSME[:-1]))], 1007)

    def test_7_x3_close_code_with_reason_echoes_code_only(self):
        self.connect().close_handshake(4321, b"custom reason")

    def test_7_x4_close_chop_1(self):
        c = self.connect()
        c.send(frame(OP_CLOSE, close_payload(1001, b"bye")), chop=1, pause=0.002)
        c.expect_close(1001, empty_reason=True)
        c.expect_eof()

    def test_7_x5_close_after_several_messages(self):
        c = self.connect()
        c.send_frames([frame(OP_TEXT, b"one"), frame(OP_BIN, b"two"), frame(OP_PING, b"three"),
                       frame(OP_CLOSE, close_payload(1000)), frame(OP_BIN, b"late")])
        c.expect_echo(OP_TEXT, b"one")
        c.expect_echo(OP_BIN, b"two")
        c.expect_pong(b"three")
        c.expect_close(1000, empty_reason=True)
        c.expect_eof()

    def test_7_x6_close_inside_binary_fragmented_message(self):
        c = self.connect()
        c.send_frames([frame(OP_BIN, b"fragment1", fin=False), frame(OP_CLOSE, close_payload(3000)),
                       frame(OP_CONT, b"fragment2")])
        c.expect_close(3000, empty_reason=True)
        c.expect_eof()

    def test_7_x7_empty_close_then_more(self):
        c = self.connect()
        c.send_frames([frame(OP_CLOSE, b""), frame(OP_TEXT, b"late"), frame(OP_CLOSE, close_payload(1000))])
        c.expect_close(None)
        c.expect_eof()


# 7.7.x valid codes (Autobahn's 13, then Duplex's 1012-1014 as 7.7.x*) and
# 7.9.x invalid codes (Autobahn's 9, plus 1015, 5000 = 7.13.1, 65535 = 7.13.2).
VALID = [(str(i), c) for i, c in enumerate(
    [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999], 1)]
VALID += [("x%d" % i, c) for i, c in enumerate([1012, 1013, 1014], 1)]
INVALID = [("7_9_%d" % i, c) for i, c in enumerate([0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999], 1)]
INVALID += [("7_9_x1", 1015), ("7_13_1", 5000), ("7_13_2", 65535)]


def _valid(code):
    def test(self):
        self.connect().close_handshake(code)
    return test


def _invalid(code):
    def test(self):
        self.fail_case([frame(OP_CLOSE, close_payload(code))], 1002)
    return test


for _id, _code in VALID:
    _fn = _valid(_code)
    _fn.__name__ = "test_7_7_%s_close_code_%d_echoed" % (_id, _code)
    _fn.__doc__ = "CLOSE %d -> CLOSE %d (empty reason), EOF" % (_code, _code)
    setattr(Close, _fn.__name__, _fn)

for _id, _code in INVALID:
    _fn = _invalid(_code)
    _fn.__name__ = "test_%s_close_code_%d_rejected" % (_id, _code)
    _fn.__doc__ = "CLOSE %d -> CLOSE 1002, EOF" % _code
    setattr(Close, _fn.__name__, _fn)


if __name__ == "__main__":
    unittest.main()
