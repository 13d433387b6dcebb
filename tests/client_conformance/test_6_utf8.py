"""Autobahn family 6 (client side): UTF-8 handling.  Text from the server that is
not valid UTF-8 makes the client close with 1007 -- as soon as the first invalid
byte arrives, even mid-fragment and mid-frame ("fail fast") -- and exit 1.

6.1-6.4 are written out; 6.5-6.23 are the server suite's table of 132 generated
cases (each one unfragmented TEXT frame; valid -> echo, invalid -> 1007), loaded
from tests/conformance/test_6_utf8.py.
"""

import unittest

from clientharness import (KOSME, OP_BIN, OP_CONT, OP_PING, OP_TEXT, PAUSE, ClientTestCase, h,
                           header_len, load_server_module, sfragments, sframe)

_server_utf8 = load_server_module("test_6_utf8")
GENERATED = _server_utf8.GENERATED
HELLO_UTF8 = _server_utf8.HELLO_UTF8
EDITED = _server_utf8.EDITED


class Utf8(ClientTestCase):

    def assert_echo(self, payload):
        self.echo_case([sframe(OP_TEXT, payload)], OP_TEXT, payload)

    def assert_1007(self, frames, mode="batch", before=()):
        self.fail_case(frames, 1007, mode=mode, before=before)

    # 6.1 empty / fragmented empty ------------------------------------------------------
    def test_6_1_1_empty_text(self):
        self.assert_echo(b"")

    def test_6_1_2_three_empty_fragments(self):
        self.echo_case([sframe(OP_TEXT, b"", fin=False), sframe(OP_CONT, b"", fin=False),
                        sframe(OP_CONT, b"")], OP_TEXT, b"")

    def test_6_1_3_empty_first_and_last_fragment(self):
        self.echo_case([sframe(OP_TEXT, b"", fin=False),
                        sframe(OP_CONT, b"middle frame payload", fin=False),
                        sframe(OP_CONT, b"")], OP_TEXT, b"middle frame payload")

    # 6.2 valid UTF-8 split in various ways -----------------------------------------------
    def test_6_2_1_valid_single_frame(self):
        self.assert_echo(HELLO_UTF8)

    def test_6_2_2_valid_split_on_code_point(self):
        self.echo_case([sframe(OP_TEXT, HELLO_UTF8[:15], fin=False),
                        sframe(OP_CONT, HELLO_UTF8[15:])], OP_TEXT, HELLO_UTF8)

    def test_6_2_3_valid_one_byte_fragments(self):
        self.echo_case(sfragments(OP_TEXT, HELLO_UTF8, 1), OP_TEXT, HELLO_UTF8)

    def test_6_2_4_kosme_one_byte_fragments(self):
        self.echo_case(sfragments(OP_TEXT, KOSME, 1), OP_TEXT, KOSME)

    # 6.3 invalid UTF-8 --------------------------------------------------------------------
    BAD = KOSME + h("eda080") + EDITED

    def test_6_3_1_surrogate_single_frame(self):
        self.assert_1007([sframe(OP_TEXT, self.BAD)])

    def test_6_3_2_surrogate_one_byte_fragments(self):
        self.assert_1007(sfragments(OP_TEXT, self.BAD, 1))

    # 6.4 fail fast -------------------------------------------------------------------------
    def _fail_fast(self, parts):
        """parts: three chunks of encoded frames.  Send part 0 (valid so far), pause and
        check the connection is still open and quiet, send part 1 (holds the first
        invalid byte), and require the client's CLOSE 1007 -- then EOF -- BEFORE part
        2 is sent."""
        p = self.session()
        p.send(parts[0])
        p.expect_silence(PAUSE)
        p.send(parts[1])
        self.assert_failed(p, 1007)

    def test_6_4_1_fail_fast_invalid_fragment(self):
        self._fail_fast([sframe(OP_TEXT, KOSME, fin=False),
                         sframe(OP_CONT, h("f4908080"), fin=False),
                         sframe(OP_CONT, EDITED)])

    def test_6_4_2_fail_fast_invalid_byte_own_fragment(self):
        self._fail_fast([sframe(OP_TEXT, KOSME + h("f4"), fin=False),
                         sframe(OP_CONT, h("90"), fin=False),
                         sframe(OP_CONT, h("8080") + EDITED)])

    def _mid_frame(self, cut1, cut2, fin=False, trailer=True):
        payload = KOSME + h("f4908080") + EDITED   # 21 bytes; the bad byte 0x90 is at 12
        f = sframe(OP_TEXT, payload, fin=fin)
        n = header_len(f)
        rest = f[n + cut2:] + (sframe(OP_CONT, b"") if trailer and not fin else b"")
        self._fail_fast([f[:n + cut1], f[n + cut1:n + cut2], rest])

    def test_6_4_3_fail_fast_mid_frame(self):
        self._mid_frame(11, 15)

    def test_6_4_4_fail_fast_mid_frame_single_byte(self):
        self._mid_frame(12, 13)

    # Duplex additions -----------------------------------------------------------------
    def test_6_x1_fail_fast_mid_final_frame(self):
        """Same as 6.4.4 in one unfragmented (FIN=1) frame."""
        self._mid_frame(12, 13, fin=True)

    def test_6_x2_fail_fast_stray_continuation_mid_frame(self):
        """0x80 right after ASCII, in the middle of a 1004-byte frame."""
        payload = b"abc" + h("80") + b"x" * 1000
        f = sframe(OP_TEXT, payload)
        n = header_len(f)
        self._fail_fast([f[:n + 3], f[n + 3:n + 4], f[n + 4:]])

    def test_6_x3_fail_fast_in_later_fragment_of_long_message(self):
        """The invalid byte in the 3rd fragment is caught before the 4th is sent."""
        self._fail_fast([sframe(OP_TEXT, b"a" * 100, fin=False) +
                         sframe(OP_CONT, KOSME * 3, fin=False),
                         sframe(OP_CONT, b"b" + h("ff") + b"c", fin=False),
                         sframe(OP_CONT, b"d" * 100)])

    def test_6_x4_truncated_at_message_end_across_fragments(self):
        """A message whose last fragment ends inside a code point."""
        self.assert_1007([sframe(OP_TEXT, KOSME[:1], fin=False), sframe(OP_CONT, b"")])

    def test_6_x5_four_byte_char_split_across_fragments(self):
        emoji = h("f09f9880")  # U+1F600
        msg = b"a" + emoji + b"b"
        self.echo_case(sfragments(OP_TEXT, msg, 1), OP_TEXT, msg)

    def test_6_x6_binary_is_not_validated(self):
        payload = KOSME + h("eda080 c0af fe ff") + EDITED
        self.echo_case([sframe(OP_BIN, payload)], OP_BIN, payload)

    def test_6_x7_invalid_after_valid_message(self):
        """Earlier valid messages are echoed, then 1007."""
        self.assert_1007([sframe(OP_TEXT, KOSME), sframe(OP_TEXT, h("c0af"))],
                         before=[(OP_TEXT, KOSME)])

    def test_6_x8_utf8_state_reset_between_messages(self):
        """A message must not inherit a partial code point from the previous one."""
        p = self.session()
        p.send(sframe(OP_TEXT, KOSME))
        p.expect_echo(OP_TEXT, KOSME)
        p.send(sframe(OP_TEXT, h("ce")))   # truncated -> invalid
        self.assert_failed(p, 1007)

    def test_6_x9_no_state_carried_from_binary_into_text(self):
        """A binary message ending in a lead byte does not affect the next text."""
        p = self.session()
        p.send_frames([sframe(OP_BIN, b"x" + h("ce")), sframe(OP_TEXT, h("ba") + b"y")])
        p.expect_echo(OP_BIN, b"x" + h("ce"))
        self.assert_failed(p, 1007)

    def test_6_x10_large_valid_multibyte_text(self):
        payload = ("κόσμε€𤭢\u0000\uffff" * 5000).encode("utf-8")
        self.echo_case(sfragments(OP_TEXT, payload, 4093), OP_TEXT, payload, timeout=5)

    def test_6_x11_code_point_split_around_a_ping(self):
        """A code point split across fragments with a ping in between stays valid."""
        p = self.session()
        p.send_frames([sframe(OP_TEXT, KOSME[:3], fin=False), sframe(OP_PING, b"mid"),
                       sframe(OP_CONT, KOSME[3:])])
        p.expect_pong(b"mid")
        p.expect_echo(OP_TEXT, KOSME)
        self.server_close(p, 1000)


def _make_case(payload, valid):
    if valid:
        def test(self):
            self.assert_echo(payload)
    else:
        def test(self):
            self.assert_1007([sframe(OP_TEXT, payload)])
    return test


for _sub, _title, _cases in GENERATED:
    for _k, (_payload, _valid) in enumerate(_cases, 1):
        _name = "test_6_%d_%d_%s_%s" % (_sub, _k, _title, "valid" if _valid else "invalid")
        _fn = _make_case(_payload, _valid)
        _fn.__name__ = _name
        _fn.__doc__ = "6.%d.%d: %s -> %s" % (_sub, _k, _payload.hex(" "),
                                             "echo" if _valid else "close 1007")
        setattr(Utf8, _name, _fn)

assert sum(len(c) for _, _, c in GENERATED) == 132


if __name__ == "__main__":
    unittest.main()
