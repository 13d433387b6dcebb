"""Autobahn family 7 (client side): close handling.

When the server closes with a valid code C, the client replies with a masked
close carrying C and an empty reason (an empty body for an empty body), answers
nothing the server sends afterwards, waits for the server to close TCP (or closes
it itself after --close-timeout), and exits 0 for 1000/1001/empty, otherwise 1
naming C.  Invalid codes and malformed close frames are answered with 1002, an
invalid UTF-8 reason with 1007.
"""

import time
import unittest

from clientharness import (EOF, INVALID_CLOSE_CODES, KOSME, OP_BIN, OP_CLOSE, OP_CONT, OP_PING,
                           OP_TEXT, SILENCE, VALID_CLOSE_CODES, ClientTestCase, close_payload,
                           pattern, sframe)


class Close(ClientTestCase):

    def _close_then(self, trailing, code=1000, before=()):
        """CLOSE code followed by `trailing` frames in one write: exactly one close
        reply with the same code, nothing else; then the server closes TCP."""
        p = self.session()
        p.send_frames(list(before) + [sframe(OP_CLOSE, close_payload(code))] + trailing)
        return p

    def _finish(self, p, code=1000):
        p.expect_close(code)
        p.expect_silence(SILENCE)
        p.close()
        self.expect_exit_for_close(p.client, code)

    def test_7_1_1_echo_then_close(self):
        p = self.session()
        p.send(sframe(OP_TEXT, b"Hello World!"))
        p.expect_echo(OP_TEXT, b"Hello World!")
        self.server_close(p, 1000)

    def test_7_1_2_second_close_ignored(self):
        self._finish(self._close_then([sframe(OP_CLOSE, b"")]))

    def test_7_1_3_ping_after_close_ignored(self):
        self._finish(self._close_then([sframe(OP_PING, b"")]))

    def test_7_1_4_text_after_close_ignored(self):
        self._finish(self._close_then([sframe(OP_TEXT, b"Hello World!")]))

    def test_7_1_5_close_inside_fragmented_message(self):
        p = self.session()
        p.send_frames([sframe(OP_TEXT, b"fragment1", fin=False),
                       sframe(OP_CLOSE, close_payload(1000)), sframe(OP_CONT, b"fragment2")])
        self._finish(p)

    def test_7_1_6_large_message_then_close(self):
        """(Informational in Autobahn.)  Frames are processed in order: both messages
        before the close are echoed, then the close reply; the ping after the close
        gets no pong."""
        big = pattern(b"BAsd7&jh23", 262144)
        p = self.session()
        sending = p.send_background(b"".join([
            sframe(OP_TEXT, big), sframe(OP_TEXT, b"Hello World!"),
            sframe(OP_CLOSE, close_payload(1000)), sframe(OP_PING, b"")]))
        p.expect_echo(OP_TEXT, big, timeout=10)
        p.expect_echo(OP_TEXT, b"Hello World!")
        sending.wait()
        self._finish(p)

    # 7.3 close frame structure -------------------------------------------------------------
    def test_7_3_1_close_empty_body(self):
        self.server_close(self.session(), None)

    def test_7_3_2_close_one_byte_body(self):
        self.fail_case([sframe(OP_CLOSE, b"a")], 1002)

    def test_7_3_3_close_1000(self):
        self.server_close(self.session(), 1000)

    def test_7_3_4_close_1000_with_reason(self):
        self.server_close(self.session(), 1000, b"Hello World!")

    def test_7_3_5_close_125_byte_body(self):
        self.server_close(self.session(), 1000, b"*" * 123)

    def test_7_3_6_close_126_byte_body(self):
        self.fail_case([sframe(OP_CLOSE, close_payload(1000, b"*" * 124))], 1002)

    # 7.5 reason must be UTF-8 ------------------------------------------------------------------
    def test_7_5_1_close_reason_invalid_utf8(self):
        reason = KOSME + bytes.fromhex("eda080") + b"edited"
        self.fail_case([sframe(OP_CLOSE, close_payload(1000, reason))], 1007)

    # Duplex additions ----------------------------------------------------------------
    def test_7_x1_close_reason_valid_utf8(self):
        self.server_close(self.session(), 1000, KOSME)

    def test_7_x2_close_reason_truncated_utf8(self):
        self.fail_case([sframe(OP_CLOSE, close_payload(1000, KOSME[:-1]))], 1007)

    def test_7_x3_custom_code_with_reason_echoes_code_only(self):
        self.server_close(self.session(), 4321, b"custom reason")

    def test_7_x4_close_chop_1(self):
        p = self.session()
        p.send(sframe(OP_CLOSE, close_payload(1001, b"bye")), chop=1, pause=0.002)
        self._finish(p, 1001)

    def test_7_x5_close_after_several_messages(self):
        p = self._close_then([sframe(OP_BIN, b"late"), sframe(OP_PING, b"late")],
                             before=[sframe(OP_TEXT, b"one"), sframe(OP_BIN, b"two"),
                                     sframe(OP_PING, b"three")])
        p.expect_echo(OP_TEXT, b"one")
        p.expect_echo(OP_BIN, b"two")
        p.expect_pong(b"three")
        self._finish(p)

    def test_7_x6_close_inside_binary_fragmented_message(self):
        p = self.session()
        p.send_frames([sframe(OP_BIN, b"fragment1", fin=False),
                       sframe(OP_CLOSE, close_payload(3000)), sframe(OP_CONT, b"fragment2")])
        self._finish(p, 3000)

    def test_7_x7_empty_close_then_more(self):
        p = self.session()
        p.send_frames([sframe(OP_CLOSE, b""), sframe(OP_TEXT, b"late"),
                       sframe(OP_CLOSE, close_payload(1000))])
        self._finish(p, None)

    def test_7_x8_data_sent_later_after_close_ignored(self):
        """After its close reply the client answers nothing, even much later."""
        p = self.session()
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        p.expect_close(1000)
        p.send_frames([sframe(OP_PING, b"late ping"), sframe(OP_TEXT, b"late text")])
        self._finish_silent(p)

    def _finish_silent(self, p):
        p.expect_silence(SILENCE)
        p.close()
        self.expect_exit(p.client, 0)

    def test_7_x9_client_waits_for_server_to_close_tcp(self):
        """After the close exchange the client leaves closing TCP to the server
        (it does not drop the connection before --close-timeout)."""
        p = self.session()
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        p.expect_close(1000)
        p.expect_silence(0.5)
        p.close()
        self.expect_exit(p.client, 0)

    def test_7_x10_server_never_closes_tcp(self):
        """The server keeps TCP open after the close exchange: the client closes it
        itself after --close-timeout (1 s) and exits 0 (the handshake completed)."""
        p = self.session()
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        p.expect_close(1000)
        start = time.monotonic()
        p.expect_eof(timeout=3.0)
        elapsed = time.monotonic() - start
        self.assertGreater(elapsed, 0.6, "closed TCP before --close-timeout (%.2fs)" % elapsed)
        self.expect_exit(p.client, 0)

    def test_7_x10b_close_timer_not_reset_by_traffic(self):
        """The server keeps TCP open and keeps sending pings every 0.1 s after the
        close exchange: no pong, and the client still closes TCP after ~1 s."""
        p = self.session()
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        p.expect_close(1000)
        start = time.monotonic()
        while time.monotonic() - start < 3.0:
            p.send(sframe(OP_PING, b"still there?"))
            ev = p.next_client_event(0.1)
            if ev is EOF:
                break
            self.assertIsNone(ev, "the client answered after the close exchange")
        elapsed = time.monotonic() - start
        self.assertTrue(p.eof, "the client kept TCP open for 3 s after the close exchange")
        self.assertGreater(elapsed, 0.6, "closed TCP before --close-timeout (%.2fs)" % elapsed)
        p.close()
        self.expect_exit(p.client, 0)

    def test_7_x11_server_drops_tcp_right_after_its_close(self):
        """Autobahn's fuzzing server may close TCP with the client's reply still in
        flight: the client accepts that as a completed close (exit 0)."""
        p = self.session()
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        p.close()
        self.expect_exit(p.client, 0)

    def test_7_x12_tcp_closed_without_close_frame(self):
        """EOF without any close frame: exit 1, 1006 on stderr."""
        p = self.session()
        p.send(sframe(OP_TEXT, b"hi"))
        p.expect_echo(OP_TEXT, b"hi")
        p.close()
        self.expect_exit(p.client, 1, "1006")

    def test_7_x13_tcp_closed_mid_message(self):
        p = self.session()
        p.send(sframe(OP_BIN, b"x" * 1000)[:500])
        time.sleep(0.05)
        p.close()
        self.expect_exit(p.client, 1, "1006")

    def test_7_x14_close_with_reason_exit_names_code(self):
        """A 1008 close: reply 1008, exit 1, stderr names 1008."""
        self.server_close(self.session(), 1008, b"policy")


# 7.7.x valid codes (Autobahn's 13, then Duplex's 1012-1014 as 7.7.x*) and
# 7.9.x invalid codes (Autobahn's 9, plus 1015, 5000 = 7.13.1, 65535 = 7.13.2).
AUTOBAHN_VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
VALID = [(str(i), c) for i, c in enumerate(AUTOBAHN_VALID, 1)]
VALID += [("x%d" % i, c) for i, c in enumerate([1012, 1013, 1014], 1)]
INVALID = [("7_9_%d" % i, c) for i, c in enumerate([0, 999, 1004, 1005, 1006, 1016, 1100,
                                                     2000, 2999], 1)]
INVALID += [("7_9_x1", 1015), ("7_13_1", 5000), ("7_13_2", 65535)]
assert sorted(c for _, c in VALID) == sorted(VALID_CLOSE_CODES)
assert sorted(c for _, c in INVALID) == sorted(INVALID_CLOSE_CODES)


def _valid(code):
    def test(self):
        self.server_close(self.session(), code)
    return test


def _invalid(code):
    def test(self):
        self.fail_case([sframe(OP_CLOSE, close_payload(code))], 1002)
    return test


for _id, _code in VALID:
    _fn = _valid(_code)
    _fn.__name__ = "test_7_7_%s_close_code_%d_echoed" % (_id, _code)
    _fn.__doc__ = "CLOSE %d -> CLOSE %d (empty reason), exit %s" % (
        _code, _code, 0 if _code in (1000, 1001) else 1)
    setattr(Close, _fn.__name__, _fn)

for _id, _code in INVALID:
    _fn = _invalid(_code)
    _fn.__name__ = "test_%s_close_code_%d_rejected" % (_id, _code)
    _fn.__doc__ = "CLOSE %d -> CLOSE 1002, EOF, exit 1" % _code
    setattr(Close, _fn.__name__, _fn)


if __name__ == "__main__":
    unittest.main()
