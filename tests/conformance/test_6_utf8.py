"""Autobahn family 6: UTF-8 handling.  Invalid text fails with close 1007, as soon
as the first invalid byte arrives (even mid-fragment and mid-frame).

6.1-6.4 are written out; 6.5-6.23 are generated from the catalogue's table (all
132 cases: each sends one unfragmented TEXT frame; valid -> echo, invalid -> 1007).
"""

import unittest

from wsharness import (KOSME, OP_BIN, OP_CONT, OP_TEXT, PAUSE, ServerTestCase, frame,
                       fragments, header_len)

EDITED = b"edited"
HELLO_UTF8 = bytes.fromhex("48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121")


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


# --------------------------------------------------------------------------------------
# 6.5-6.23 generated cases: (subcategory, title, [(payload, valid)])
# --------------------------------------------------------------------------------------
def _generated():
    t = []
    t.append((5, "valid_samples", [(b"hello" + h(x) + b"world", True)
                                   for x in ("24", "c2a2", "e282ac", "f0a4ada2")] + [(KOSME, True)]))
    t.append((6, "kosme_prefixes", [(KOSME[:k], k in (2, 5, 7, 9, 11)) for k in range(1, 12)]))
    t.append((7, "shortest_per_length", [(h(x), True) for x in ("00", "c280", "e0a080", "f0908080")]))
    t.append((8, "five_six_byte_forms", [(h(x), False) for x in ("f888808080", "fc8480808080")]))
    t.append((9, "largest_per_length", [(h(x), True) for x in ("7f", "dfbf", "efbfbf", "f48fbfbf")]))
    t.append((10, "above_10ffff", [(h(x), False) for x in ("f7bfbfbf", "fbbfbfbfbf", "fdbfbfbfbfbf")]))
    t.append((11, "boundaries", [(h("ed9fbf"), True), (h("ee8080"), True), (h("efbfbd"), True),
                                 (h("f48fbfbf"), True), (h("f4908080"), False)]))
    stray = ["80", "bf", "80bf", "80bf80", "80bf80bf", "80bf80bf80", "80bf80bf80bf"]
    t.append((12, "stray_continuations", [(h(x), False) for x in stray] +
              [(bytes(range(0x80, 0xbf)), False)]))
    lone = [bytes(b for lead in range(lo, hi) for b in (lead, 0x20))
            for lo, hi in ((0xc0, 0xdf), (0xe0, 0xef), (0xf0, 0xf7), (0xf8, 0xfb), (0xfc, 0xfd))]
    t.append((13, "lead_byte_then_space", [(x, False) for x in lone]))
    last_missing = ["c0", "e080", "f08080", "f8808080", "fc80808080",
                    "df", "efbf", "f7bfbf", "fbbfbfbf", "fdbfbfbfbf"]
    t.append((14, "last_byte_missing", [(h(x), False) for x in last_missing]))
    t.append((15, "concatenated_incomplete", [(h("".join(last_missing)), False)]))
    t.append((16, "impossible_bytes", [(h(x), False) for x in ("fe", "ff", "fefeffff")]))
    t.append((17, "overlong_slash", [(h(x), False) for x in
                                     ("c0af", "e080af", "f08080af", "f8808080af", "fc80808080af")]))
    t.append((18, "largest_overlongs", [(h(x), False) for x in
                                        ("c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf")]))
    t.append((19, "overlong_nul", [(h(x), False) for x in
                                   ("c080", "e08080", "f0808080", "f880808080", "fc8080808080")]))
    t.append((20, "lone_surrogates", [(h(x), False) for x in
                                      ("eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf")]))
    pairs = [a + b for a in ("eda080", "edadbf", "edae80", "edafbf") for b in ("edb080", "edbfbf")]
    t.append((21, "surrogate_pairs", [(h(x), False) for x in pairs]))
    nonchars = [h("efbfbe"), h("efbfbf")]
    nonchars += [h("f0" + m + "bf" + e) for m in ("9f", "af", "bf") for e in ("be", "bf")]
    for lead in ("f1", "f2", "f3"):
        nonchars += [h(lead + m + "bf" + e) for m in ("8f", "9f", "af", "bf") for e in ("be", "bf")]
    nonchars += [h("f48fbfbe"), h("f48fbfbf")]
    t.append((22, "noncharacters", [(x, True) for x in nonchars]))
    t.append((23, "specials", [(h("efbf" + "%02x" % b), True) for b in range(0xb9, 0xc0)]))
    return t


GENERATED = _generated()


class Utf8(ServerTestCase):

    def assert_echo(self, payload):
        c = self.connect()
        c.send(frame(OP_TEXT, payload))
        c.expect_echo(OP_TEXT, payload, timeout=0.5 + 1.5)
        c.close_handshake(1000)

    def assert_1007(self, frames, mode="batch"):
        self.fail_case(frames, 1007, mode=mode)

    # 6.1 empty / fragmented empty ------------------------------------------------------
    def test_6_1_1_empty_text(self):
        self.echo_case([frame(OP_TEXT, b"")], OP_TEXT, b"")

    def test_6_1_2_three_empty_fragments(self):
        self.echo_case([frame(OP_TEXT, b"", fin=False), frame(OP_CONT, b"", fin=False),
                        frame(OP_CONT, b"")], OP_TEXT, b"")

    def test_6_1_3_empty_first_and_last_fragment(self):
        self.echo_case([frame(OP_TEXT, b"", fin=False),
                        frame(OP_CONT, b"middle frame payload", fin=False),
                        frame(OP_CONT, b"")], OP_TEXT, b"middle frame payload")

    # 6.2 valid UTF-8 split in various ways -----------------------------------------------
    def test_6_2_1_valid_single_frame(self):
        self.echo_case([frame(OP_TEXT, HELLO_UTF8)], OP_TEXT, HELLO_UTF8)

    def test_6_2_2_valid_split_on_code_point(self):
        self.echo_case([frame(OP_TEXT, HELLO_UTF8[:15], fin=False), frame(OP_CONT, HELLO_UTF8[15:])],
                       OP_TEXT, HELLO_UTF8)

    def test_6_2_3_valid_one_byte_fragments(self):
        self.echo_case(fragments(OP_TEXT, HELLO_UTF8, 1), OP_TEXT, HELLO_UTF8)

    def test_6_2_4_kosme_one_byte_fragments(self):
        self.echo_case(fragments(OP_TEXT, KOSME, 1), OP_TEXT, KOSME)

    # 6.3 invalid UTF-8 --------------------------------------------------------------------
    BAD = KOSME + h("eda080") + EDITED

    def test_6_3_1_surrogate_single_frame(self):
        self.assert_1007([frame(OP_TEXT, self.BAD)])

    def test_6_3_2_surrogate_one_byte_fragments(self):
        self.assert_1007(fragments(OP_TEXT, self.BAD, 1))

    # 6.4 fail fast -------------------------------------------------------------------------
    def _fail_fast_frames(self, parts):
        """parts: list of (bytes already encoded); send part 0, check the connection is
        quiet, send part 1 (holds the invalid byte), require close 1007 *before* the
        rest is sent, then EOF."""
        c = self.connect()
        c.send(parts[0])
        c.expect_silence(PAUSE)
        c.send(parts[1])
        c.expect_fail(1007)
        self.assertEqual(c.send_error, None)
        return c

    def test_6_4_1_fail_fast_invalid_fragment(self):
        self._fail_fast_frames([frame(OP_TEXT, KOSME, fin=False),
                                frame(OP_CONT, h("f4908080"), fin=False),
                                frame(OP_CONT, EDITED)])

    def test_6_4_2_fail_fast_invalid_byte_own_fragment(self):
        self._fail_fast_frames([frame(OP_TEXT, KOSME + h("f4"), fin=False),
                                frame(OP_CONT, h("90"), fin=False),
                                frame(OP_CONT, h("8080") + EDITED)])

    def _mid_frame(self, cut1, cut2, fin=False):
        payload = KOSME + h("f4908080") + EDITED  # 21 bytes
        f = frame(OP_TEXT, payload, fin=fin)
        hl = header_len(f)
        self._fail_fast_frames([f[:hl + cut1], f[hl + cut1:hl + cut2], f[hl + cut2:]])

    def test_6_4_3_fail_fast_mid_frame(self):
        self._mid_frame(11, 15)

    def test_6_4_4_fail_fast_mid_frame_single_byte(self):
        self._mid_frame(12, 13)

    # Duplex additions -----------------------------------------------------------------
    def test_6_x1_fail_fast_mid_final_frame(self):
        """Same as 6.4.4 but in one unfragmented (FIN=1) frame."""
        self._mid_frame(12, 13, fin=True)

    def test_6_x2_fail_fast_stray_continuation_mid_frame(self):
        """The invalid byte (0x80 right after ASCII) is detected before the frame ends."""
        payload = b"abc" + h("80") + b"x" * 1000
        f = frame(OP_TEXT, payload)
        hl = header_len(f)
        self._fail_fast_frames([f[:hl + 3], f[hl + 3:hl + 4], f[hl + 4:]])

    def test_6_x3_truncated_at_message_end_across_fragments(self):
        """A message whose last fragment ends inside a code point."""
        self.assert_1007([frame(OP_TEXT, KOSME[:1], fin=False), frame(OP_CONT, b"")])

    def test_6_x4_four_byte_char_split_across_fragments(self):
        emoji = h("f09f9880")  # U+1F600
        self.echo_case(fragments(OP_TEXT, b"a" + emoji + b"b", 1), OP_TEXT, b"a" + emoji + b"b")

    def test_6_x5_binary_is_not_validated(self):
        payload = KOSME + h("eda080 c0af fe ff") + EDITED
        self.echo_case([frame(OP_BIN, payload)], OP_BIN, payload)

    def test_6_x6_invalid_after_valid_message(self):
        """Earlier valid messages are echoed, then 1007."""
        self.fail_case([frame(OP_TEXT, KOSME), frame(OP_TEXT, h("c0af"))], 1007,
                       before=[(OP_TEXT, KOSME)])

    def test_6_x7_utf8_state_reset_between_messages(self):
        """A message must not inherit a partial code point from the previous one."""
        c = self.connect()
        c.send(frame(OP_TEXT, KOSME))
        c.expect_echo(OP_TEXT, KOSME)
        self.assertTrue(c.send(frame(OP_TEXT, h("ce"))))   # truncated -> invalid
        c.expect_fail(1007)

    def test_6_x8_large_valid_multibyte_text(self):
        payload = ("κόσμε€𤭢\u0000\uffff" * 5000).encode("utf-8")
        self.echo_case(fragments(OP_TEXT, payload, 4093), OP_TEXT, payload)


def _make_case(payload, valid):
    if valid:
        def test(self):
            self.assert_echo(payload)
    else:
        def test(self):
            self.assert_1007([frame(OP_TEXT, payload)])
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
assert sum(v for _, _, c in GENERATED for _, v in c) == 63


if __name__ == "__main__":
    unittest.main()
