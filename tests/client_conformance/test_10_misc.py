"""Autobahn family 10 (client side): 10.1.1, plus Duplex's client-specific checks:
the non-echo CLI mode (-x / -w and the stdout format), the client-initiated close
and its timeouts, and exit statuses."""

import time
import unittest

from clientharness import (OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, ClientTestCase,
                           close_payload, sframe)


class Misc(ClientTestCase):

    def test_10_1_1_65536_in_1300_byte_fragments(self):
        payload = b"*" * 65536
        frames = [sframe(OP_TEXT, payload[:1300], fin=False)]
        pos = 1300
        while pos < len(payload):
            chunk = payload[pos:pos + 1300]
            pos += len(chunk)
            frames.append(sframe(OP_CONT, chunk, fin=pos >= len(payload)))
        self.assertEqual(len(frames), 51)
        self.echo_case(frames, OP_TEXT, payload, timeout=10)

    def test_10_x1_server_answers_client_failure_with_close(self):
        """Autobahn's server answers the client's 1002 with CLOSE 1000 and drops TCP:
        the client still reports 1002 and exits 1."""
        p = self.session()
        p.send(sframe(OP_TEXT, b"x", rsv=1))
        p.expect_close(1002, empty_reason=False)
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        p.expect_eof()
        p.close()
        self.expect_exit(p.client, 1, "1002")

    def test_10_x2_no_frame_after_own_close(self):
        """After failing the connection the client sends nothing else, even if the
        server keeps talking (pings, data)."""
        p = self.session()
        p.send(sframe(OP_BIN, b"x", rsv=2))
        p.expect_close(1002, empty_reason=False)
        p.send_frames([sframe(OP_PING, b"still there?"), sframe(OP_TEXT, b"hello?")])
        p.expect_eof()
        p.close()
        self.expect_exit(p.client, 1, "1002")

    def test_10_x3_failure_with_server_keeping_tcp_open(self):
        """After failing the connection (close, then EOF at once) the client exits
        within --close-timeout even if the server never closes its side."""
        p = self.session()
        p.send(sframe(OP_TEXT, b"x", rsv=4))
        p.expect_fail(1002)
        start = time.monotonic()
        self.expect_exit(p.client, 1, "1002", timeout=2.5)
        self.assertLess(time.monotonic() - start, 2.5)


class Cli(ClientTestCase):
    """Non-echo mode: `-x MSG` sends text messages, `-w SECONDS` waits and then
    closes with 1000; received messages are printed as `< TEXT` and
    `< [binary N bytes] HEX` (first 64 bytes, then an ellipsis)."""

    echo = False

    def _received_lines(self, client):
        return client.stdout_text().splitlines()

    def test_10_x10_send_print_and_close(self):
        p = self.session("-x", "hello", "-x", "world", "-w", "0.5")
        t0 = time.monotonic()
        long_bin = bytes(range(100))
        p.send_frames([sframe(OP_TEXT, b"hi there"), sframe(OP_BIN, b"\x01\x02\x03"),
                       sframe(OP_PING, b"are you there"),
                       sframe(OP_TEXT, "κόσμε".encode("utf-8")),
                       sframe(OP_BIN, bytes(range(64))), sframe(OP_BIN, long_bin),
                       sframe(OP_TEXT, b"frag", fin=False), sframe(OP_CONT, b"mented")])
        p.expect_message(OP_TEXT, b"hello")
        p.expect_message(OP_TEXT, b"world")
        p.expect_pong(b"are you there")
        f = p.expect_close(1000, timeout=3.0, empty_reason=False)
        elapsed = time.monotonic() - t0
        self.assertGreater(elapsed, 0.4, "closed before -w 0.5 was over (%.2fs)" % elapsed)
        self.assertLess(elapsed, 2.0, "closed long after -w 0.5 (%.2fs)" % elapsed)
        self.assertEqual(f.close_code, 1000)
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        p.close()
        self.expect_exit(p.client, 0)
        self.assertEqual(self._received_lines(p.client), [
            "< hi there",
            "< [binary 3 bytes] 010203",
            "< κόσμε",
            "< [binary 64 bytes] " + bytes(range(64)).hex(),
            "< [binary 100 bytes] " + long_bin[:64].hex() + "…",
            "< fragmented",
        ], "stdout: %r" % p.client.stdout_text())

    def test_10_x11_no_echo_without_flag(self):
        """Without --echo received messages are printed, not sent back."""
        p = self.session("-w", "0.3")
        p.send(sframe(OP_TEXT, b"do not echo me"))
        p.expect_close(1000, timeout=3.0, empty_reason=False)
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        p.close()
        self.expect_exit(p.client, 0)
        self.assertEqual(self._received_lines(p.client), ["< do not echo me"])

    def test_10_x12_server_closes_during_wait(self):
        """The server closes during -w 10: the client replies and exits at once."""
        p = self.session("-x", "bye", "-w", "10")
        p.expect_message(OP_TEXT, b"bye")
        start = time.monotonic()
        self.server_close(p, 1001)
        self.assertLess(time.monotonic() - start, 3.0)

    def test_10_x13_own_close_answered_but_tcp_left_open(self):
        """The server answers the client's close but never closes TCP: the client
        closes it after --close-timeout 1 and exits 0 (handshake completed)."""
        p = self.session("-w", "0.1")
        p.expect_close(1000, timeout=3.0, empty_reason=False)
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        start = time.monotonic()
        p.expect_eof(3.0)
        self.assertGreater(time.monotonic() - start, 0.5, "closed TCP before --close-timeout")
        self.expect_exit(p.client, 0)

    def test_10_x14_own_close_never_answered(self):
        """The server never answers the client's close: the client closes TCP after
        --close-timeout 1 and exits 1 (no completed close handshake)."""
        p = self.session("-w", "0.1")
        p.expect_close(1000, timeout=3.0, empty_reason=False)
        start = time.monotonic()
        p.expect_eof(3.0)
        self.assertGreater(time.monotonic() - start, 0.5, "closed TCP before --close-timeout")
        self.expect_exit(p.client, 1)

    def test_10_x15_server_closes_tcp_after_its_close_reply(self):
        """The normal end of a client-initiated close: exit 0."""
        p = self.session("-x", "one", "-w", "0.1")
        p.expect_message(OP_TEXT, b"one")
        p.expect_close(1000, timeout=3.0, empty_reason=False)
        p.send(sframe(OP_CLOSE, close_payload(1000)))
        p.close()
        self.expect_exit(p.client, 0)


class Arguments(ClientTestCase):
    """`duplex connect --help`: "2 for a bad argument"."""

    def _bad(self, *args):
        client = self.start_client(*args)
        rc = client.wait(3.0)
        self.assertEqual(rc, 2, "%r: exit status %s, expected 2: %s"
                         % (args, rc, client.describe()))
        self.assertEqual(client.stdout_text(), "")

    def test_10_x20_invalid_url(self):
        self._bad("notaurl")

    def test_10_x21_unsupported_scheme(self):
        self._bad("ftp://127.0.0.1/")

    def test_10_x22_unknown_option(self):
        self._bad("ws://127.0.0.1:1/", "--no-such-option")

    def test_10_x23_invalid_option_value(self):
        self._bad("ws://127.0.0.1:1/", "--close-timeout", "-1")


if __name__ == "__main__":
    unittest.main()
